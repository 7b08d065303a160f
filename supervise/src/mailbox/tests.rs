use super::*;
use crate::child::ChildPath;
use crate::event::{Event, EventBus};
use crate::policy::ChildKind;

/// An incarnation of `app/w`, for the tests and the model.
pub(super) fn incarnation(bus: &Arc<EventBus>, number: u64) -> Arc<Incarnation> {
    Arc::new(Incarnation::new(
        ChildPath::joined("app/w".into()),
        ChildKind::Worker,
        number,
        bus.clone(),
    ))
}

#[tokio::test]
async fn the_running_incarnation_receives_in_order() {
    let bus = EventBus::new();
    let mailbox = Mailbox::new();
    let me = incarnation(&bus, 1);
    assert!(matches!(mailbox.send(0), Err((HandleError::NotRunning, 0))));
    mailbox.up(ChildRef::from_inner(me.clone()));
    mailbox.send(1).unwrap();
    mailbox.send(2).unwrap();
    let mut batch = VecDeque::new();
    let first = std::future::poll_fn(|cx| mailbox.poll_recv(&me, &mut batch, cx))
        .await
        .map(|e| e.message);
    assert_eq!(first, Some(1));
    assert_eq!(
        mailbox.try_recv(&me, &mut batch).map(|e| e.message),
        Some(2)
    );
    assert_eq!(mailbox.try_recv(&me, &mut batch).map(|e| e.message), None);
}

#[tokio::test]
async fn a_waiting_incarnation_is_woken_by_a_send() {
    let bus = EventBus::new();
    let mailbox = Arc::new(Mailbox::new());
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let waiter = {
        let mailbox = mailbox.clone();
        tokio::spawn(async move {
            let mut batch = VecDeque::new();
            std::future::poll_fn(|cx| mailbox.poll_recv(&me, &mut batch, cx))
                .await
                .map(|e| e.message)
        })
    };
    tokio::task::yield_now().await;
    mailbox.send("hello").unwrap();
    assert_eq!(waiter.await.unwrap(), Some("hello"));
}

#[tokio::test]
async fn what_waits_for_an_ended_incarnation_dies_with_it_counted() {
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let mailbox = Mailbox::new();
    let old = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(old.clone()));
    mailbox.send(1).unwrap();
    mailbox.send(2).unwrap();
    mailbox.down(&ChildRef::from_inner(old.clone()));
    assert!(matches!(
        events.try_recv(),
        Some(Event::MessagesDropped { count: 2, .. })
    ));
    // The next incarnation starts empty; the old one receives nothing.
    let new = incarnation(&bus, 2);
    mailbox.up(ChildRef::from_inner(new.clone()));
    mailbox.send(3).unwrap();
    assert_eq!(
        mailbox
            .try_recv(&old, &mut VecDeque::new())
            .map(|e| e.message),
        None
    );
    assert_eq!(
        mailbox
            .try_recv(&new, &mut VecDeque::new())
            .map(|e| e.message),
        Some(3)
    );
    // A late `down` of the old incarnation leaves the new one up.
    mailbox.down(&ChildRef::from_inner(old));
    assert!(mailbox.current().is_ok());
    mailbox.gone();
    assert!(matches!(mailbox.send(4), Err((HandleError::NotFound, 4))));
}

#[test]
fn a_drained_burst_gives_its_memory_back() {
    let bus = EventBus::new();
    let mailbox = Mailbox::new();
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    for i in 0..1000 {
        mailbox.send(i).unwrap();
    }
    let mut batch = VecDeque::new();
    while mailbox
        .try_recv(&me, &mut batch)
        .map(|e| e.message)
        .is_some()
    {}
    let State::Up { queue, .. } = &*mailbox.lock() else {
        panic!("up")
    };
    assert_eq!(queue.capacity(), 0);
    assert_eq!(batch.capacity(), 0);
}

/// An unbounded mailbox whose incarnation `me` has been sent 0, 1 and 2
/// and has received 0: the rest of the burst is in `batch`.
fn burst_taken(bus: &Arc<EventBus>) -> (Mailbox<u32>, Arc<Incarnation>, VecDeque<Envelope<u32>>) {
    let mailbox = Mailbox::new();
    let me = incarnation(bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let mut batch = VecDeque::new();
    for i in 0..3 {
        mailbox.send(i).unwrap();
    }
    assert_eq!(
        mailbox.try_recv(&me, &mut batch).map(|e| e.message),
        Some(0)
    );
    (mailbox, me, batch)
}

#[test]
fn an_unbounded_queue_is_taken_whole_and_received_in_order() {
    let bus = EventBus::new();
    let (mailbox, me, mut batch) = burst_taken(&bus);
    // The rest of the burst is the incarnation's; what comes after waits
    // behind it.
    assert_eq!(batch.len(), 2);
    assert_eq!(mailbox.queued_for(&me), 0);
    mailbox.send(3).unwrap();
    let got: Vec<u32> = std::iter::from_fn(|| mailbox.try_recv(&me, &mut batch))
        .map(|e| e.message)
        .collect();
    assert_eq!(got, [1, 2, 3]);
}

#[test]
fn a_bounded_queue_gives_one_message_at_a_time() {
    let bus = EventBus::new();
    let mailbox = Mailbox::bounded(2);
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let mut batch = VecDeque::new();
    mailbox.send(0).unwrap();
    mailbox.send(1).unwrap();
    assert!(matches!(mailbox.send(2), Err((HandleError::Full, 2))));
    assert_eq!(
        mailbox.try_recv(&me, &mut batch).map(|e| e.message),
        Some(0)
    );
    assert!(batch.is_empty());
    // Received, a message frees its room at once.
    mailbox.send(2).unwrap();
    assert!(matches!(mailbox.send(3), Err((HandleError::Full, 3))));
}

#[test]
fn a_batch_dies_with_its_incarnation_counted() {
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let (mailbox, old, mut batch) = burst_taken(&bus);
    // Killed and replaced (it blocked its thread past the kill): it
    // receives nothing more, and its batch is counted as dropped.
    old.abort_with(ExitReason::Killed);
    let new = incarnation(&bus, 2);
    mailbox.up(ChildRef::from_inner(new));
    assert_eq!(mailbox.try_recv(&old, &mut batch).map(|e| e.message), None);
    assert!(batch.is_empty());
    assert!(matches!(
        events.try_recv(),
        Some(Event::MessagesDropped { count: 2, .. })
    ));
}
