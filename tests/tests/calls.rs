//! Calls through a `WorkerHandle`: the default deadline, waiting through a
//! restart, failing fast, a reply dropped unanswered, bounded mailboxes.

use std::time::Duration;

use supervise::{
    Backoff, ChildSpec, Context, Exit, HandleError, Reply, Supervisor, SupervisorHandle, Worker,
    WorkerHandle, DEFAULT_CALL_TIMEOUT,
};
use supervise_tests::{bounded, settle};

enum Msg {
    /// Answers with the incarnation.
    Ping(Reply<u64>),
    /// Drops the reply, then runs on.
    Ignore(Reply<u64>),
    /// Drops the reply, then crashes.
    IgnoreAndCrash(Reply<u64>),
    Crash,
}

struct Echo;

impl Worker for Echo {
    type Message = Msg;

    async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                Msg::Ping(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                Msg::Ignore(reply) => drop(reply),
                Msg::IgnoreAndCrash(reply) => {
                    drop(reply);
                    return Err("crash".into());
                }
                Msg::Crash => return Err("crash".into()),
            }
        }
        Ok(())
    }
}

/// A tree `app` whose one child, `echo`, is `spec`.
async fn start(spec: ChildSpec) -> SupervisorHandle {
    Supervisor::builder("app")
        .max_restarts(10_000)
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

/// `app` with `echo`, and its handle.
async fn echo() -> (SupervisorHandle, WorkerHandle<Echo>) {
    let (spec, echo) = ChildSpec::worker_with_handle("echo", || Echo);
    (start(spec).await, echo)
}

/// A call made while the child restarts is answered by the next
/// incarnation, within the call's deadline (OTP's call to a name in that
/// gap exits `noproc`: a documented difference).
#[tokio::test(start_paused = true)]
async fn a_call_in_the_restart_gap_reaches_the_next_incarnation() {
    let (spec, echo) = ChildSpec::worker_with_handle("echo", || Echo);
    // A backoff makes the gap between two incarnations 100 ms long.
    let sup = start(spec.backoff(Backoff::fixed(Duration::from_millis(100)))).await;
    echo.send(Msg::Crash).unwrap();
    settle().await;
    assert_eq!(echo.try_call(Msg::Ping).await, Err(HandleError::NotRunning));
    assert_eq!(bounded("call", echo.call(Msg::Ping)).await, Ok(2));
    sup.stop().await.unwrap();
}

/// `try_call` does not wait for an incarnation; a call to a tree that has
/// stopped fails at once.
#[tokio::test(start_paused = true)]
async fn try_call_fails_fast_and_a_stopped_tree_at_once() {
    let (sup, echo) = echo().await;
    assert_eq!(echo.try_call(Msg::Ping).await, Ok(1));
    sup.terminate_child("echo").await.unwrap();
    assert_eq!(echo.try_call(Msg::Ping).await, Err(HandleError::NotRunning));
    sup.stop().await.unwrap();
    let asked = tokio::time::Instant::now();
    assert_eq!(echo.call(Msg::Ping).await, Err(HandleError::NotFound));
    assert_eq!(asked.elapsed(), Duration::ZERO);
}

/// A reply dropped unanswered by a worker that runs on is `NoReply`; one
/// dropped by a worker on its way out is `Lost`. Both come at once, not at
/// the deadline.
#[tokio::test(start_paused = true)]
async fn a_dropped_reply_is_no_reply_while_the_worker_lives_and_lost_when_it_dies() {
    let (sup, echo) = echo().await;
    let asked = tokio::time::Instant::now();
    assert_eq!(echo.call(Msg::Ignore).await, Err(HandleError::NoReply));
    assert_eq!(echo.call(Msg::IgnoreAndCrash).await, Err(HandleError::Lost));
    assert_eq!(asked.elapsed(), Duration::ZERO);
    settle().await;
    assert_eq!(echo.call(Msg::Ping).await, Ok(2));
    sup.stop().await.unwrap();
}

/// Every call has a deadline: the default one, or the caller's.
#[tokio::test(start_paused = true)]
async fn the_default_deadline_is_five_seconds() {
    let (sup, echo) = echo().await;
    sup.terminate_child("echo").await.unwrap();
    let asked = tokio::time::Instant::now();
    assert_eq!(echo.call(Msg::Ping).await, Err(HandleError::Timeout));
    assert_eq!(asked.elapsed(), DEFAULT_CALL_TIMEOUT);
    assert_eq!(
        echo.call_timeout(Msg::Ping, Duration::from_millis(30))
            .await,
        Err(HandleError::Timeout)
    );
    sup.stop().await.unwrap();
}

/// A worker that reads its mailbox only when told to.
struct Gated;

impl Worker for Gated {
    type Message = u32;

    async fn run(self, mut ctx: Context<u32>) -> Result<(), Exit> {
        // Reads nothing for a second, then everything.
        tokio::time::sleep(Duration::from_secs(1)).await;
        while ctx.recv().await.is_some() {}
        Ok(())
    }
}

/// A bounded mailbox refuses a send beyond its capacity (the message is
/// handed back), and `send_wait` waits for room.
#[tokio::test(start_paused = true)]
async fn a_bounded_mailbox_refuses_when_full_and_send_wait_waits_for_room() {
    let (spec, gated) = ChildSpec::worker_with_bounded_handle("gated", 2, || Gated);
    let sup = start(spec).await;
    gated.send(1).unwrap();
    gated.send(2).unwrap();
    let refused = gated.send(3).unwrap_err();
    assert_eq!((refused.error, refused.message), (HandleError::Full, 3));
    let asked = tokio::time::Instant::now();
    bounded("send_wait", gated.send_wait(3)).await.unwrap();
    assert_eq!(
        asked.elapsed(),
        Duration::from_secs(1),
        "it waited for the reader"
    );
    sup.stop().await.unwrap();
    assert_eq!(
        gated.send_wait(4).await.unwrap_err().error,
        HandleError::NotFound
    );
}

/// Takes the first message, then drops its context (with what it had
/// taken from its queue beside that message) and runs on for a second: the
/// incarnation's end, as a thread sees it between a worker's last `recv`
/// and its exit being reported.
struct DropsContext;

impl Worker for DropsContext {
    type Message = Msg;

    async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
        // Lets two messages queue up, then takes them at once.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let _ = ctx.recv().await;
        drop(ctx);
        tokio::time::sleep(Duration::from_secs(1)).await;
        Err(Exit::from("done"))
    }
}

/// A call taken from the queue with the message before it, by an
/// incarnation that then ends before reading it, fails with `Lost` (its
/// callee's end), never `NoReply` (a reply dropped by a callee that runs
/// on), however the dropped reply and the exit's report interleave.
#[tokio::test(start_paused = true)]
async fn a_call_taken_in_a_burst_by_an_ending_incarnation_is_lost() {
    let (spec, worker) = ChildSpec::worker_with_handle("w", || DropsContext);
    let sup = start(spec).await;
    let started = tokio::time::Instant::now();
    worker.send(Msg::Crash).unwrap();
    let call = tokio::spawn({
        let worker = worker.clone();
        async move { worker.try_call(Msg::Ping).await }
    });
    assert_eq!(bounded("call", call).await.unwrap(), Err(HandleError::Lost));
    // Failed when the context was dropped, not at the exit a second later;
    // the mailbox closed with it: sends wait for the next incarnation.
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        worker.send(Msg::Crash).unwrap_err().error,
        HandleError::NotRunning
    );
    sup.stop().await.unwrap();
}

/// Pings while the child restarts every few milliseconds, on the
/// multi-thread runtime: no call fails because it fell in the gap between
/// two incarnations (a call in hand when an incarnation dies is `Lost`).
/// Short real time, bounded; counts asserted, not durations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_fails_in_the_restart_gap_under_a_restart_storm() {
    let (sup, echo) = echo().await;
    let crasher = {
        let echo = echo.clone();
        tokio::spawn(async move {
            for _ in 0..50 {
                let _ = echo.send(Msg::Crash);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let (mut answered, mut lost) = (0, 0);
    for _ in 0..2_000 {
        match echo.call(Msg::Ping).await {
            Ok(_) => answered += 1,
            Err(HandleError::Lost) => lost += 1,
            Err(other) => panic!("a call failed with {other:?}"),
        }
    }
    crasher.await.unwrap();
    assert_eq!(answered + lost, 2_000);
    assert!(answered > lost);
    sup.stop().await.unwrap();
}
