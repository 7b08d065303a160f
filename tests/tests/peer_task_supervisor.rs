//! Elixir's `Task.Supervisor`, case by case from its documented behaviour
//! (1.14: `async/3` linked both ways and `Task.await/2` with its 5 s
//! default, `async_nolink/3`, `start_child/3` with `restart` and
//! `shutdown`, `async_stream/4` and `async_stream_nolink/4` with
//! `max_concurrency`, `ordered`, `timeout` and `on_timeout`, `children/1`,
//! `terminate_child/2`), through `supervise::TaskSupervisor`. Every test
//! runs on tokio's paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::future::IntoFuture;

use futures_util::{FutureExt, StreamExt};
use supervise::{
    CallError, ChildSpec, Context, Event, Exit, ExitReason, FromStream, LinkedTask, OnTimeout,
    Restart, Shutdown, Supervisor, TaskError, TaskStreamError, TaskSupervisor,
    TaskSupervisorHandle, Worker, DEFAULT_AWAIT_TIMEOUT,
};
use supervise_tests::{bounded, settle};
use tokio::sync::mpsc;
use tokio::time::{sleep, Instant};

async fn tasks() -> TaskSupervisorHandle {
    TaskSupervisor::new()
        .max_restarts(10)
        .start("tasks")
        .await
        .unwrap()
}

async fn running(tasks: &TaskSupervisorHandle) -> usize {
    settle().await;
    tasks.children().await.unwrap().len()
}

async fn stop(tasks: TaskSupervisorHandle) {
    tasks.supervisor().current().unwrap().stop().await.unwrap();
}

fn panic_message(error: &TaskError) -> &str {
    match error {
        TaskError::Failed(ExitReason::Panic(p)) => &p.message,
        other => panic!("expected a panic, got {other:?}"),
    }
}

// ===== async and await =====

#[tokio::test(start_paused = true)]
async fn async_returns_its_result_and_await_waits_five_seconds_by_default() {
    let tasks = tasks().await;
    assert_eq!(DEFAULT_AWAIT_TIMEOUT, Duration::from_secs(5));
    let quick = tasks
        .spawn_linked(async {
            sleep(Duration::from_secs(4)).await;
            42
        })
        .await
        .unwrap();
    assert_eq!(quick.await, Ok(42));

    // Elixir's await exits after 5 s; here it returns the timeout, and the
    // linked task is stopped with the handle.
    let slow = tasks
        .spawn_linked(async {
            sleep(Duration::from_secs(6)).await;
            0
        })
        .await
        .unwrap();
    let child = slow.child().cloned().unwrap();
    let started = Instant::now();
    assert_eq!(slow.await, Err(TaskError::Timeout));
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    settle().await;
    assert!(child.has_exited());
    assert_eq!(running(&tasks).await, 0);

    // Await with a timeout of its own; `Duration::MAX` is `:infinity`.
    let long = tasks
        .spawn_linked(async {
            sleep(Duration::from_secs(3600)).await;
            "late"
        })
        .await
        .unwrap();
    assert_eq!(long.wait_timeout(Duration::MAX).await, Ok("late"));
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_linked_handle_stops_its_task() {
    let spec = TaskSupervisor::new();
    let tasks = spec.start("tasks").await.unwrap();
    let mut events = tasks.supervisor().current().unwrap().subscribe().unwrap();
    let task = tasks
        .spawn_linked(std::future::pending::<()>())
        .await
        .unwrap();
    assert_eq!(running(&tasks).await, 1);
    drop(task);
    assert_eq!(running(&tasks).await, 0);
    let mut exits = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::Exited { reason, .. } = event {
            exits.push(reason);
        }
    }
    assert_eq!(exits, [ExitReason::Shutdown]);

    // Started and dropped within one poll: never left running either.
    let once = tasks
        .spawn_linked(std::future::pending::<()>())
        .into_future()
        .now_or_never();
    drop(once);
    assert_eq!(running(&tasks).await, 0);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_linked_tasks_failure_fails_the_await() {
    let tasks = tasks().await;
    let boom = tasks.spawn_linked(async { panic!("boom") }).await.unwrap();
    let error = boom.await.unwrap_err();
    assert_eq!(panic_message(&error), "boom");
    let failed: LinkedTask<()> = tasks
        .spawn_linked(async { std::future::pending().await })
        .await
        .unwrap();
    // Terminated by its supervisor: stopped, not failed.
    let child = failed.child().cloned().unwrap();
    tasks.terminate_child(&child).await.unwrap();
    assert_eq!(failed.await, Err(TaskError::Stopped));
    stop(tasks).await;
}

/// A worker that starts a linked task, hands its handle to the test, and
/// idles, or exits after `exit_after`.
struct Caller {
    tasks: TaskSupervisorHandle,
    crash_in: Duration,
    handles: mpsc::UnboundedSender<LinkedTask<()>>,
    exit_after: Option<Duration>,
}

impl Worker for Caller {
    type Message = ();
    async fn run(self, ctx: Context) -> Result<(), Exit> {
        let crash_in = self.crash_in;
        let task = self
            .tasks
            .spawn_linked(async move {
                sleep(crash_in).await;
                panic!("task crashed");
            })
            .link(&ctx)
            .await?;
        let _ = self.handles.send(task);
        match self.exit_after {
            Some(after) => {
                sleep(after).await;
                Ok(())
            }
            None => {
                std::future::pending::<()>().await;
                Ok(())
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_linked_tasks_failure_crashes_the_worker_it_is_linked_to() {
    let tasks = tasks().await;
    let (handles, mut handed) = mpsc::unbounded_channel();
    let (t, h) = (tasks.clone(), handles.clone());
    let spec = Supervisor::builder("app")
        .child(
            ChildSpec::worker("caller", move || Caller {
                tasks: t.clone(),
                crash_in: Duration::from_secs(1),
                handles: h.clone(),
                exit_after: None,
            })
            .restart(Restart::Temporary),
        )
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let app = spec.start().await.unwrap();
    // The caller holds no await: it crashes anyway, with the task's reason.
    let task = bounded("the handle", handed.recv()).await.unwrap();
    bounded("the crash", async {
        loop {
            match events.recv().await {
                Some(Event::Exited { path, reason, .. }) if &*path == "app/caller" => {
                    match reason {
                        ExitReason::Panic(p) => assert_eq!(p.message, "task crashed"),
                        other => panic!("the caller exited {other}"),
                    }
                    break;
                }
                Some(_) => {}
                None => panic!("no more events"),
            }
        }
    })
    .await;
    assert!(matches!(task.await, Err(TaskError::Failed(_))));
    app.stop().await.unwrap();
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn the_linked_workers_exit_stops_the_task_wherever_its_handle_went() {
    let tasks = tasks().await;
    let (handles, mut handed) = mpsc::unbounded_channel();
    let (t, h) = (tasks.clone(), handles.clone());
    let app = Supervisor::builder("app")
        .child(
            ChildSpec::worker("caller", move || Caller {
                tasks: t.clone(),
                crash_in: Duration::from_secs(3600),
                handles: h.clone(),
                exit_after: Some(Duration::from_secs(1)),
            })
            .restart(Restart::Temporary),
        )
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    // The handle is the test's now; the caller exits normally after 1 s.
    let task = bounded("the handle", handed.recv()).await.unwrap();
    assert_eq!(running(&tasks).await, 1);
    let result = bounded("the task's end", task.wait_timeout(Duration::MAX)).await;
    assert_eq!(result, Err(TaskError::Stopped));
    assert_eq!(running(&tasks).await, 0);
    app.stop().await.unwrap();
    stop(tasks).await;
}

// ===== async_nolink =====

#[tokio::test(start_paused = true)]
async fn an_unlinked_tasks_failure_is_its_result_and_its_handle_does_not_hold_it() {
    let tasks = tasks().await;
    let boom = tasks.spawn(async { panic!("nolink") }).await.unwrap();
    assert_eq!(panic_message(&boom.join().await.unwrap_err()), "nolink");
    // Dropping the handle leaves it running.
    let handle = tasks
        .spawn(async {
            sleep(Duration::from_secs(10)).await;
        })
        .await
        .unwrap();
    let child = handle.child().cloned().unwrap();
    drop(handle);
    assert_eq!(running(&tasks).await, 1);
    sleep(Duration::from_secs(11)).await;
    assert!(child.has_exited());
    assert_eq!(running(&tasks).await, 0);
    stop(tasks).await;
}

// ===== per-task options =====

#[tokio::test(start_paused = true)]
async fn a_tasks_shutdown_option_is_how_it_is_stopped() {
    let tasks = tasks().await;
    let mut events = tasks.supervisor().current().unwrap().subscribe().unwrap();
    let default = tasks.spawn(std::future::pending::<()>()).await.unwrap();
    let brutal = tasks
        .spawn(std::future::pending::<()>())
        .shutdown(Shutdown::BrutalKill)
        .await
        .unwrap();
    let linked = tasks
        .spawn_linked(std::future::pending::<()>())
        .shutdown(Shutdown::BrutalKill)
        .await
        .unwrap();
    for child in [default.child(), brutal.child(), linked.child()] {
        tasks.terminate_child(child.unwrap()).await.unwrap();
    }
    let mut exits = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::Exited { reason, .. } = event {
            exits.push(reason);
        }
    }
    assert_eq!(
        exits,
        [ExitReason::Shutdown, ExitReason::Killed, ExitReason::Killed]
    );
    assert_eq!(default.join().await, Err(TaskError::Stopped));
    // A zero timeout is refused, as Elixir 1.14's DynamicSupervisor does.
    let zero = tasks
        .spawn(async {})
        .shutdown(Shutdown::Timeout(Duration::ZERO))
        .await;
    assert!(matches!(zero, Err(CallError::InvalidSpec(_))));
    // Not a running task of this supervisor.
    let gone = brutal.child().cloned().unwrap();
    assert_eq!(tasks.terminate_child(&gone).await, Err(CallError::NotFound));
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_tasks_restart_option_is_its_restart_type() {
    let tasks = tasks().await;
    // Temporary: runs once, even when it fails.
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let once = tasks
        .spawn_restarting(move || {
            a.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>("fails") }
        })
        .restart(Restart::Temporary)
        .await
        .unwrap();
    assert!(matches!(once.join().await, Err(TaskError::Failed(_))));
    assert_eq!(attempts.load(Ordering::SeqCst), 1);

    // Permanent: started again after a success too; the handle has the
    // first result.
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let permanent = tasks
        .spawn_restarting(move || {
            let n = a.fetch_add(1, Ordering::SeqCst);
            async move {
                if n > 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, &str>(n)
            }
        })
        .restart(Restart::Permanent)
        .await
        .unwrap();
    assert_eq!(permanent.join().await, Ok(0));
    assert_eq!(running(&tasks).await, 1);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    // Transient (the default): until it succeeds.
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let transient = tasks
        .spawn_restarting(move || {
            let n = a.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err("not yet")
                } else {
                    Ok(n)
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(transient.join().await, Ok(2));
    stop(tasks).await;
}

// ===== async_stream =====

/// Records how many of a stream's tasks run at once.
#[derive(Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Concurrency {
    async fn run<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let result = work.await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        result
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

#[tokio::test(start_paused = true)]
async fn a_stream_runs_at_most_max_concurrency_tasks_and_keeps_the_input_order() {
    let tasks = tasks().await;
    let seen = Concurrency::default();
    let c = seen.clone();
    // The later inputs finish first.
    let results: Vec<_> = tasks
        .async_stream(1..=6u64, move |n| {
            let c = c.clone();
            async move {
                c.run(async {
                    sleep(Duration::from_millis(100 * (7 - n))).await;
                    n * 10
                })
                .await
            }
        })
        .max_concurrency(2)
        .stream()
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(results, [10, 20, 30, 40, 50, 60]);
    assert_eq!(seen.most(), 2);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn an_unordered_stream_gives_results_as_the_tasks_finish() {
    let tasks = tasks().await;
    let results: Vec<_> = tasks
        .async_stream([300u64, 100, 200], |ms| async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        })
        .ordered(false)
        .max_concurrency(3)
        .stream()
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(results, [100, 200, 300]);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_result_waiting_for_its_turn_frees_its_place() {
    // Elixir counts running tasks only: with `ordered`, a finished task
    // whose result waits for an earlier one does not hold a place.
    let tasks = tasks().await;
    let started = Arc::new(Mutex::new(Vec::new()));
    let s = started.clone();
    let mut stream = tasks
        .async_stream([1000u64, 1, 1, 1], move |ms| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(Instant::now());
                sleep(Duration::from_millis(ms)).await;
                ms
            }
        })
        .max_concurrency(2)
        .stream()
        .unwrap();
    assert_eq!(bounded("the first", stream.next()).await, Some(Ok(1000)));
    let at = started.lock().unwrap().clone();
    // The three short ones all ran during the long one.
    assert_eq!(at.len(), 4);
    assert!(at[3] - at[0] < Duration::from_millis(10), "{at:?}");
    let rest: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert_eq!(rest, [1, 1, 1]);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_kills_the_task_and_ends_the_stream_or_with_kill_task_is_an_item() {
    let tasks = tasks().await;
    let slow_then_fast = |n: u64| async move {
        sleep(Duration::from_secs(if n == 2 { 10 } else { 1 })).await;
        n
    };
    // on_timeout: :exit (the default): the stream ends there.
    let mut exit = tasks
        .async_stream(1..=4u64, slow_then_fast)
        .timeout(Duration::from_secs(2))
        .max_concurrency(1)
        .stream()
        .unwrap();
    assert_eq!(exit.next().await, Some(Ok(1)));
    assert_eq!(exit.next().await, Some(Err(TaskError::Timeout)));
    assert_eq!(exit.next().await, None);
    assert_eq!(running(&tasks).await, 0);

    // on_timeout: :kill_task: {:exit, :timeout} for that one, the rest go on.
    let results: Vec<_> = tasks
        .async_stream_nolink(1..=4u64, slow_then_fast)
        .timeout(Duration::from_secs(2))
        .on_timeout(OnTimeout::KillTask)
        .stream()
        .unwrap()
        .collect()
        .await;
    assert_eq!(results, [Ok(1), Err(TaskError::Timeout), Ok(3), Ok(4)]);
    assert_eq!(running(&tasks).await, 0);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_linked_stream_ends_at_a_failure_an_unlinked_one_goes_on() {
    let tasks = tasks().await;
    let fail_second = |n: u64| async move {
        sleep(Duration::from_millis(n)).await;
        if n == 2 {
            panic!("two");
        }
        n
    };
    let linked: Vec<_> = tasks
        .async_stream(1..=4u64, fail_second)
        .stream()
        .unwrap()
        .collect()
        .await;
    assert_eq!(linked.len(), 2);
    assert_eq!(linked[0], Ok(1));
    assert_eq!(panic_message(linked[1].as_ref().unwrap_err()), "two");
    assert_eq!(running(&tasks).await, 0);

    let unlinked: Vec<_> = tasks
        .async_stream_nolink(1..=4u64, fail_second)
        .stream()
        .unwrap()
        .collect()
        .await;
    assert_eq!(unlinked.len(), 4);
    assert_eq!(panic_message(unlinked[1].as_ref().unwrap_err()), "two");
    assert_eq!(unlinked[3], Ok(4));
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn a_stream_runs_over_a_stream_and_stops_its_tasks_when_dropped() {
    let tasks = tasks().await;
    let inputs = futures_util::stream::iter(["a", "b", "c"]);
    let upper: Vec<_> = tasks
        .async_stream(
            FromStream(inputs),
            |s: &str| async move { s.to_uppercase() },
        )
        .stream()
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(upper, ["A", "B", "C"]);

    // Halted early (Elixir's Enum.take): the tasks still running are killed.
    let mut stream = tasks
        .async_stream_nolink(0..10u64, |n| async move {
            if n > 0 {
                std::future::pending::<()>().await;
            }
            n
        })
        .max_concurrency(4)
        .timeout(Duration::MAX)
        .stream()
        .unwrap();
    assert_eq!(stream.next().await, Some(Ok(0)));
    // Lazy, as Elixir's: the place 0 left is filled at the next poll.
    assert_eq!(running(&tasks).await, 3);
    drop(stream);
    assert_eq!(running(&tasks).await, 0);
    stop(tasks).await;
}

#[tokio::test(start_paused = true)]
async fn bad_stream_options_and_a_full_supervisor_are_typed_errors() {
    let tasks = tasks().await;
    let zero = tasks
        .async_stream(1..=3, |n: i32| async move { n })
        .max_concurrency(0)
        .stream();
    assert_eq!(zero.unwrap_err(), TaskStreamError::ZeroMaxConcurrency);
    stop(tasks).await;

    // max_children reached (Elixir raises): the stream ends with it.
    let full = TaskSupervisor::new()
        .max_children(1)
        .start("full")
        .await
        .unwrap();
    let _busy = full.spawn(std::future::pending::<()>()).await.unwrap();
    let results: Vec<_> = full
        .async_stream_nolink(1..=3, |n: i32| async move { n })
        .stream()
        .unwrap()
        .collect()
        .await;
    assert_eq!(
        results,
        [Err(TaskError::NotStarted(CallError::MaxChildren))]
    );
    // A stopped supervisor: the same.
    let sup = full.supervisor().current().unwrap();
    sup.stop().await.unwrap();
    let mut stopped = full
        .async_stream(1..=3, |n: i32| async move { n })
        .stream()
        .unwrap();
    assert_eq!(
        stopped.next().await,
        Some(Err(TaskError::NotStarted(CallError::Stopped)))
    );
    assert_eq!(stopped.next().await, None);
}

// ===== children and terminate_child =====

#[tokio::test(start_paused = true)]
async fn children_lists_the_running_tasks_and_terminate_child_stops_one() {
    let tasks = tasks().await;
    let a = tasks.spawn(std::future::pending::<()>()).await.unwrap();
    let b = tasks.spawn(std::future::pending::<()>()).await.unwrap();
    let mut children = tasks.children().await.unwrap();
    children.sort_by_key(|c| c.path().to_owned());
    let mut expected = vec![a.child().cloned().unwrap(), b.child().cloned().unwrap()];
    expected.sort_by_key(|c| c.path().to_owned());
    assert_eq!(children, expected);
    tasks.terminate_child(a.child().unwrap()).await.unwrap();
    assert_eq!(
        tasks.children().await.unwrap(),
        [b.child().cloned().unwrap()]
    );
    assert_eq!(a.join().await, Err(TaskError::Stopped));
    stop(tasks).await;
}
