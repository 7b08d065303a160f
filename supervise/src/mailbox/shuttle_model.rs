//! The mailbox protocol under shuttle's randomised schedules. A lost
//! wake-up is a deadlock, which shuttle reports.

use std::sync::Arc;

use super::tests::incarnation;
use super::*;
use crate::event::EventBus;

/// Two senders, one receiving incarnation: every message arrives, in
/// each sender's order.
fn sends_wake_the_receiver() {
    let bus = EventBus::new();
    let mailbox = Arc::new(Mailbox::new());
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let receiver = {
        let mailbox = mailbox.clone();
        shuttle::future::spawn(async move {
            let mut got = Vec::new();
            let mut batch = VecDeque::new();
            while got.len() < 4 {
                let m = std::future::poll_fn(|cx| mailbox.poll_recv(&me, &mut batch, cx))
                    .await
                    .map(|e| e.message);
                got.push(m.expect("up"));
            }
            got
        })
    };
    let senders: Vec<_> = [0, 10]
        .into_iter()
        .map(|base| {
            let mailbox = mailbox.clone();
            shuttle::thread::spawn(move || {
                for i in 0..2 {
                    mailbox.send(base + i).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let got = shuttle::future::block_on(receiver).unwrap();
    let from = |base: u32| {
        got.iter()
            .filter(|&&m| m / 10 == base / 10)
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(from(0), [0, 1]);
    assert_eq!(from(10), [10, 11]);
}

/// A handle waiting for an incarnation to come up is woken by `up`.
fn up_wakes_a_waiting_handle() {
    let bus = EventBus::new();
    let mailbox: Arc<Mailbox<u32>> = Arc::new(Mailbox::new());
    let waiter = {
        let mailbox = mailbox.clone();
        shuttle::future::spawn(async move { mailbox.wait_up().await.map(|c| c.incarnation()) })
    };
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me));
    assert_eq!(shuttle::future::block_on(waiter).unwrap(), Ok(1));
}

/// A call waiting for its reply fails when its callee goes down, and
/// gets its reply when one is sent before.
fn down_fails_a_waiting_call(answers: bool) {
    let bus = EventBus::new();
    let mailbox: Arc<Mailbox<call::Sender<u32>>> = Arc::new(Mailbox::new());
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let (tx, rx) = call::channel();
    let callee = mailbox.send_call(tx, &rx).map_err(|(e, _)| e).unwrap();
    let caller = {
        let mailbox = mailbox.clone();
        shuttle::future::spawn(async move { mailbox.wait_reply(callee, rx).await })
    };
    let reply = mailbox
        .try_recv(&me, &mut VecDeque::new())
        .map(|e| e.message)
        .expect("queued");
    // Unanswered, the callee keeps its reply somewhere that outlives
    // it, until the call has failed.
    let kept = if answers {
        reply.send(7).unwrap();
        None
    } else {
        Some(reply)
    };
    mailbox.down(&ChildRef::from_inner(me.clone()));
    me.report_exit(&ExitReason::Killed);
    let answer = shuttle::future::block_on(caller).unwrap();
    assert_eq!(
        answer,
        if answers {
            Ok(7)
        } else {
            Err(HandleError::Lost)
        }
    );
    drop(kept);
}

/// An incarnation ends with a call still in its batch (taken with the
/// message before it), as `Context`'s `Drop` ends it: the mailbox down,
/// then the batch dropped. Its caller fails with `Lost`, never `NoReply`,
/// however the two interleave with the caller's wait.
fn a_call_in_a_dropped_batch_is_lost() {
    let bus = EventBus::new();
    let mailbox: Arc<Mailbox<call::Sender<u32>>> = Arc::new(Mailbox::new());
    let me = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(me.clone()));
    let (first, first_answer) = call::channel();
    mailbox
        .send_call(first, &first_answer)
        .map_err(|(e, _)| e)
        .unwrap();
    let (tx, rx) = call::channel();
    let callee = mailbox.send_call(tx, &rx).map_err(|(e, _)| e).unwrap();
    let mut batch = VecDeque::new();
    let taken = mailbox.try_recv(&me, &mut batch).expect("queued");
    assert_eq!(batch.len(), 1, "the second request is in the batch");
    let caller = {
        let mailbox = mailbox.clone();
        shuttle::future::spawn(async move { mailbox.wait_reply(callee, rx).await })
    };
    let ending = {
        let mailbox = mailbox.clone();
        shuttle::thread::spawn(move || {
            drop(taken);
            mailbox.down(&ChildRef::from_inner(me.clone()));
            discard(&me, batch);
        })
    };
    ending.join().unwrap();
    assert_eq!(
        shuttle::future::block_on(caller).unwrap(),
        Err(HandleError::Lost)
    );
}

/// A sender races an incarnation that receives in batches and is killed
/// and replaced: every message sent is received, refused, or counted as
/// dropped with the incarnation (its queue or its batch), exactly once.
fn a_killed_incarnation_accounts_for_every_message() {
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let mailbox: Arc<Mailbox<u32>> = Arc::new(Mailbox::new());
    let old = incarnation(&bus, 1);
    mailbox.up(ChildRef::from_inner(old.clone()));
    let sender = {
        let mailbox = mailbox.clone();
        shuttle::thread::spawn(move || (0..4).filter(|&i| mailbox.send(i).is_ok()).count())
    };
    let receiver = {
        let mailbox = mailbox.clone();
        let old = old.clone();
        shuttle::thread::spawn(move || {
            let mut batch = VecDeque::new();
            let mut got = 0;
            for _ in 0..2 {
                if mailbox.try_recv(&old, &mut batch).is_some() {
                    got += 1;
                }
                shuttle::thread::yield_now();
            }
            // Its life ends: what its batch holds dies with it.
            discard(&old, batch);
            got
        })
    };
    old.abort_with(ExitReason::Killed);
    let new = incarnation(&bus, 2);
    mailbox.up(ChildRef::from_inner(new.clone()));
    let sent = sender.join().unwrap();
    let got_old = receiver.join().unwrap();
    let mut batch = VecDeque::new();
    let got_new = std::iter::from_fn(|| mailbox.try_recv(&new, &mut batch)).count();
    let mut dropped = 0;
    while let Some(event) = events.try_recv() {
        if let crate::Event::MessagesDropped { count, .. } = event {
            dropped += count;
        }
    }
    assert_eq!(sent, got_old + got_new + dropped);
}

#[test]
fn mailbox_random_schedules() {
    shuttle::check_random(sends_wake_the_receiver, 2_000);
    shuttle::check_random(up_wakes_a_waiting_handle, 2_000);
    shuttle::check_random(|| down_fails_a_waiting_call(true), 2_000);
    shuttle::check_random(|| down_fails_a_waiting_call(false), 2_000);
    shuttle::check_random(a_killed_incarnation_accounts_for_every_message, 2_000);
    shuttle::check_random(a_call_in_a_dropped_batch_is_lost, 2_000);
}

#[test]
fn mailbox_bounded_preemptions() {
    shuttle::check_pct(sends_wake_the_receiver, 2_000, 3);
    shuttle::check_pct(up_wakes_a_waiting_handle, 2_000, 3);
    shuttle::check_pct(|| down_fails_a_waiting_call(true), 2_000, 3);
    shuttle::check_pct(|| down_fails_a_waiting_call(false), 2_000, 3);
    shuttle::check_pct(a_killed_incarnation_accounts_for_every_message, 2_000, 3);
    shuttle::check_pct(a_call_in_a_dropped_batch_is_lost, 2_000, 3);
}
