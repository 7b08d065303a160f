//! A dynamic supervisor that is idle lets `start_child` run in the
//! caller's task (see `SupervisorHandle::start_child`). These tests pin
//! down that this is invisible: the start is ordered after every message
//! sent before it, a kill during it still takes the child down, a
//! dropped start leaves nothing behind, and a loop of starts still yields.
//! All on the paused clock.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use supervise::{
    CallError, ChildSpec, Context, DynamicSupervisorSpec, Exit, ExitReason, Init, Restart, Worker,
};
use supervise_tests::Idle;

/// An init that takes 100 ms; records when the worker is dropped.
#[supervise::worker]
#[derive(Clone)]
struct Slow {
    dropped: Arc<AtomicBool>,
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl Worker for Slow {
    type Message = ();

    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(Init::Ready)
    }

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

fn slow(dropped: &Arc<AtomicBool>) -> ChildSpec {
    let dropped = dropped.clone();
    ChildSpec::worker("slow", move || Slow {
        dropped: dropped.clone(),
    })
}

async fn dynamic() -> supervise::SupervisorHandle {
    DynamicSupervisorSpec::builder("d")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

/// Polls `future` once, as a task would before it yields.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(Waker::noop()))
}

#[tokio::test(start_paused = true)]
async fn a_start_is_served_after_the_messages_sent_before_it() {
    let sup = dynamic().await;
    // A call sent, not yet served: the supervisor's inbox is not idle.
    let mut counting = pin!(sup.count_children());
    assert!(poll_once(counting.as_mut()).is_pending());
    let started = sup
        .start_child(ChildSpec::worker("a", || Idle))
        .await
        .unwrap();
    assert!(started.is_some());
    // The count was served first: it does not see the child.
    assert_eq!(counting.await.unwrap().active, 0);
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_start_after_an_exit_that_waits_to_be_served_finds_its_room() {
    let sup = DynamicSupervisorSpec::builder("d")
        .max_children(1)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let first = sup
        .start_child(ChildSpec::worker("a", || Idle).restart(Restart::Temporary))
        .await
        .unwrap()
        .unwrap();
    // Its exit is sent, and a call behind it; neither is served yet.
    first.kill();
    tokio::task::yield_now().await;
    let mut counting = pin!(sup.count_children());
    assert!(poll_once(counting.as_mut()).is_pending());
    // Behind them, the start finds the room the exit made.
    let second = sup
        .start_child(ChildSpec::worker("b", || Idle).restart(Restart::Temporary))
        .await;
    assert!(matches!(second, Ok(Some(_))), "{second:?}");
    assert_eq!(counting.await.unwrap().specs, 0);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_killed_during_a_start_in_the_callers_task_takes_the_child_down() {
    let sup = dynamic().await;
    let dropped = Arc::new(AtomicBool::new(false));
    let starting = tokio::spawn({
        let (sup, spec) = (sup.clone(), slow(&dropped));
        async move { sup.start_child(spec).await }
    });
    // The start is in the child's init, in the spawned task.
    tokio::time::sleep(Duration::from_millis(10)).await;
    sup.kill();
    sup.wait().await;
    assert_eq!(sup.exit_reason(), Some(ExitReason::Killed));
    let result = starting.await.unwrap();
    assert_eq!(result.unwrap_err(), CallError::Exited(ExitReason::Killed));
    // The child that finished its init is killed with its supervisor.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn a_start_dropped_during_its_init_starts_nothing() {
    let sup = dynamic().await;
    let dropped = Arc::new(AtomicBool::new(false));
    let timed_out =
        tokio::time::timeout(Duration::from_millis(10), sup.start_child(slow(&dropped))).await;
    assert!(timed_out.is_err());
    assert!(dropped.load(Ordering::SeqCst), "the init was dropped");
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
    // The supervisor goes on.
    sup.start_child(ChildSpec::worker("a", || Idle))
        .await
        .unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_loop_of_starts_yields_to_the_other_tasks() {
    let sup = dynamic().await;
    let starts = Arc::new(AtomicUsize::new(0));
    let seen_at = tokio::spawn({
        let starts = starts.clone();
        async move { starts.load(Ordering::SeqCst) }
    });
    for _ in 0..1_000 {
        sup.start_child(ChildSpec::worker("a", || Idle))
            .await
            .unwrap();
        starts.fetch_add(1, Ordering::SeqCst);
    }
    assert!(
        seen_at.await.unwrap() < 1_000,
        "the other task ran meanwhile"
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_keyed_start_dropped_during_its_init_frees_its_key() {
    let sessions = supervise::DynamicSupervisor::<Slow>::new()
        .keyed::<u64>()
        .start("sessions")
        .await
        .unwrap();
    let slow = Slow {
        dropped: Arc::new(AtomicBool::new(false)),
    };
    let timed_out = tokio::time::timeout(
        Duration::from_millis(10),
        sessions.start_child_keyed(7, slow.clone()),
    )
    .await;
    assert!(timed_out.is_err());
    assert!(sessions.lookup(&7).is_none());
    assert_eq!(sessions.keyed_count(), 0);
    // The key can be taken.
    let session = sessions.start_child_keyed(7, slow).await.unwrap();
    assert!(sessions.lookup(&7).unwrap().same_child(&session));
    sessions
        .supervisor()
        .current()
        .unwrap()
        .stop()
        .await
        .unwrap();
}
