//! Fault injection: panics in init, in run, in a worker state's `Drop` and
//! in a task a worker spawned; a child that ignores its shutdown request or
//! blocks its thread; a crash in the middle of a group restart; a parent
//! stopped while its children are being restarted; a root dropped without
//! `stop`; handle calls racing a restart storm; a worker that never starts
//! again.
//!
//! After each fault the tests check the same three things: no task the
//! tree spawned outlives it (tokio's count of alive tasks is back to what
//! it was before the tree started), every permanent child of a supervisor
//! that survived is running (its snapshot), and every call through a handle
//! was answered or failed with a typed error (none hangs).
//!
//! All on the paused clock, except the blocking child, which needs real
//! threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use supervise::{
    Backoff, CallError, ChildSpec, ChildState, Context, Event, Exit, ExitReason, HandleError, Init,
    Reply, Restart, Shutdown, Strategy, Supervisor, SupervisorHandle, Worker, WorkerHandle,
};
use supervise_tests::{bounded, settle, Behavior, InitStep, OnShutdown, Outcome, Probe};

// ===== the checks every test ends with =====

fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// The tasks alive before the tree starts. Also installs the panic hook,
/// so that supervised panics carry their location and stay off stderr.
fn baseline() -> usize {
    supervise::install_panic_hook();
    alive()
}

/// No task of the tree outlives it. Lets tasks that were aborted be
/// dropped by yielding, without moving the clock: a leaked timer must not
/// get the chance to fire and end by itself.
async fn assert_no_orphans(baseline: usize) {
    for _ in 0..1000 {
        if alive() == baseline {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!(
        "orphaned tasks: {} alive, {baseline} before the tree started",
        alive()
    );
}

/// Every permanent child of `sup` and of the supervisors below it runs.
async fn assert_permanent_children_running(sup: &SupervisorHandle) {
    let tree = bounded("snapshot", sup.snapshot()).await.unwrap();
    for (_, child) in tree.walk() {
        if child.restart == Restart::Permanent {
            assert_eq!(
                child.state,
                ChildState::Running,
                "{} is not running:\n{tree:#}",
                child.path
            );
        }
    }
}

/// The probe's timeline with panic locations taken out (`panicked at
/// file:line:col: msg` becomes `panicked: msg`), so that a test does not
/// depend on line numbers.
fn timeline(probe: &Probe) -> Vec<String> {
    probe
        .take()
        .into_iter()
        .map(|e| strip_location(&e))
        .collect()
}

fn strip_location(entry: &str) -> String {
    let mut out = String::new();
    let mut rest = entry;
    while let Some(at) = rest.find("panicked at ") {
        out.push_str(&rest[..at]);
        out.push_str("panicked: ");
        let after = &rest[at + "panicked at ".len()..];
        rest = after.find(": ").map_or("", |i| &after[i + 2..]);
    }
    out.push_str(rest);
    out
}

fn panic_message(reason: &ExitReason) -> Option<&str> {
    match reason {
        ExitReason::Panic(p) => Some(&p.message),
        _ => None,
    }
}

/// The exit events of `path`, as (incarnation, reason).
fn exits_of(probe: &Probe, path: &str) -> Vec<(u64, ExitReason)> {
    probe
        .raw_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Exited {
                path: p,
                incarnation,
                reason,
            } if &*p == path => Some((incarnation, reason)),
            _ => None,
        })
        .collect()
}

// ===== panics =====

#[tokio::test(start_paused = true)]
async fn a_panic_in_init_fails_the_tree_start_and_leaves_no_task() {
    let base = baseline();
    let probe = Probe::new();
    probe.set(
        "app/sub/y",
        Behavior::new().init_otherwise(InitStep::Panic("init boom".into())),
    );
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .child(probe.worker("y"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let err = bounded("start", spec.start()).await.unwrap_err();
    let ExitReason::FailedToStartChild { id, reason } = err.reason() else {
        panic!("expected a failed start, got {err:?}");
    };
    assert_eq!(&**id, "sub");
    let ExitReason::FailedToStartChild { id, reason } = &**reason else {
        panic!("expected a nested failed start, got {reason:?}");
    };
    assert_eq!(&**id, "y");
    assert_eq!(panic_message(reason), Some("init boom"));
    assert_eq!(
        timeline(&probe),
        [
            "init app/a#1",
            "started app/a#1",
            "init app/sub/x#1",
            "started app/sub/x#1",
            "init app/sub/y#1",
            "start_failed app/sub/y#1 panicked: init boom",
            "start_error app/sub/y panicked: init boom",
            "exit app/sub/x#1 shutdown",
            "start_failed app/sub#1 failed to start child y: panicked: init boom",
            "start_error app/sub failed to start child y: panicked: init boom",
            "exit app/a#1 shutdown",
            "start_failed app#1 failed to start child sub: failed to start child y: panicked: init boom",
        ]
    );
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_init_during_a_restart_is_retried_like_a_failed_start() {
    let base = baseline();
    let probe = Probe::new();
    probe.set(
        "app/b",
        Behavior::new().init_on(2, InitStep::Panic("init boom".into())),
    );
    let spec = Supervisor::builder("app")
        .strategy(Strategy::RestForOne)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    probe.exit("app/b", Outcome::error("crash"));
    probe.wait_for("started app/c#2").await;
    assert_eq!(
        timeline(&probe),
        [
            "exit app/b#1 crash",
            "child_terminated app/b crash",
            "restarting app/b",
            "exit app/c#1 shutdown",
            "init app/b#2",
            "start_failed app/b#2 panicked: init boom",
            "start_error app/b panicked: init boom",
            "restarting app/b",
            "init app/b#3",
            "started app/b#3",
            "init app/c#2",
            "started app/c#2",
        ]
    );
    assert_permanent_children_running(&sup).await;
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_run_is_an_exit_with_the_panic_and_the_child_restarts() {
    let base = baseline();
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .strategy(Strategy::OneForAll)
        .child(probe.worker("x"))
        .child(probe.worker("y"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    probe.exit("app/sub/y", Outcome::panic("run boom"));
    probe.wait_for("started app/sub/y#2").await;
    assert_eq!(
        timeline(&probe),
        [
            "exit app/sub/y#1 panicked: run boom",
            "child_terminated app/sub/y panicked: run boom",
            "restarting app/sub/y",
            "exit app/sub/x#1 shutdown",
            "init app/sub/x#2",
            "started app/sub/x#2",
            "init app/sub/y#2",
            "started app/sub/y#2",
        ]
    );
    // The reason carries the message and, with the hook, where it panicked.
    let (_, reason) = exits_of(&probe, "app/sub/y").remove(0);
    let ExitReason::Panic(panic) = reason else {
        panic!("expected a panic, got {reason:?}");
    };
    assert_eq!(panic.message, "run boom");
    assert!(panic.location.is_some());
    assert_permanent_children_running(&sup).await;
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

/// State whose `Drop` panics (unless the thread is already unwinding,
/// which would abort the process).
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A worker whose state panics when it is dropped: when its task is
/// aborted (`traps = false`), or when `run` returns (`traps = true`: it
/// handles shutdown and exits `shutdown` when asked).
struct Brittle {
    traps: bool,
    _state: PanicOnDrop,
}

impl Worker for Brittle {
    type Message = ();

    fn handles_shutdown(&self) -> bool {
        self.traps
    }

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        Err(Exit::shutdown())
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_drop_of_a_workers_state_is_contained() {
    let base = baseline();
    let probe = Probe::new();
    let (aborted, aborted_handle) = ChildSpec::worker_with_handle("aborted", || Brittle {
        traps: false,
        _state: PanicOnDrop("drop boom (aborted)"),
    });
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(aborted)
        .child(ChildSpec::worker("exits", || Brittle {
            traps: true,
            _state: PanicOnDrop("drop boom (exits)"),
        }))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();

    // Killed from outside: its task is aborted and tokio drops the state,
    // which panics. The exit is the kill, and the child restarts.
    aborted_handle.child().expect("running").kill();
    bounded(
        "the restart",
        aborted_handle.wait_running(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    settle().await;
    assert_eq!(
        timeline(&probe),
        [
            "exit app/aborted#1 killed",
            "child_terminated app/aborted killed",
            "restarting app/aborted",
            "started app/aborted#2",
        ]
    );
    assert_permanent_children_running(&sup).await;

    // At shutdown: the one that exits by itself exits with the panic of its
    // drop (a shutdown error); the aborted one with `shutdown`.
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        timeline(&probe),
        [
            "exit app/c#1 shutdown",
            "exit app/exits#1 panicked: drop boom (exits)",
            "shutdown_error app/exits panicked: drop boom (exits)",
            "exit app/aborted#2 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    assert_eq!(
        aborted_handle.call(|r: Reply<()>| drop(r)).await,
        Err(HandleError::NotFound)
    );
    assert_no_orphans(base).await;
}

/// Spawns a task through its context; the first incarnation's task panics
/// after 10 ms (`during_init`: spawned in `init`, panicking at once).
struct Spawner {
    during_init: bool,
}

impl Worker for Spawner {
    type Message = ();

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        if self.during_init && ctx.incarnation() == 1 {
            ctx.spawn(async { panic!("spawned boom") });
        }
        Ok(Init::Ready)
    }

    async fn run(self, mut ctx: Context) -> Result<(), Exit> {
        let first = ctx.incarnation() == 1 && !self.during_init;
        ctx.spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if first {
                panic!("spawned boom");
            }
            std::future::pending::<()>().await;
        });
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_task_spawned_by_a_worker_crashes_the_worker() {
    let base = baseline();
    let probe = Probe::new();
    let (spec, spawner) =
        ChildSpec::worker_with_handle("spawner", || Spawner { during_init: false });
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(spec)
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    settle().await;
    // app, a, spawner and the task it spawned.
    assert_eq!(alive(), base + 4);
    probe.take();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        timeline(&probe),
        [
            "exit app/spawner#1 panicked: spawned boom",
            "child_terminated app/spawner panicked: spawned boom",
            "restarting app/spawner",
            "started app/spawner#2",
        ]
    );
    assert_eq!(spawner.child().map(|c| c.incarnation()), Some(2));
    // The crashed incarnation's task is gone; the new one has its own.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(alive(), base + 4);
    assert_permanent_children_running(&sup).await;
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_task_spawned_during_init_crashes_the_worker_as_it_starts() {
    let base = baseline();
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .child(ChildSpec::worker("spawner", || Spawner {
            during_init: true,
        }))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.wait_for("started app/spawner#2").await;
    settle().await;
    let log = timeline(&probe);
    assert!(
        log.contains(&"exit app/spawner#1 panicked: spawned boom".to_owned()),
        "{log:#?}"
    );
    assert_eq!(
        exits_of(&probe, "app/spawner")
            .iter()
            .map(|(n, r)| (*n, panic_message(r).map(str::to_owned)))
            .collect::<Vec<_>>(),
        [(1, Some("spawned boom".to_owned()))]
    );
    assert_permanent_children_running(&sup).await;
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

// ===== shutdown that does not go as asked =====

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_its_shutdown_request_is_killed_after_its_timeout() {
    let base = baseline();
    let probe = Probe::new();
    probe.set(
        "app/sub/deaf",
        Behavior::new().on_shutdown(OnShutdown::Ignore),
    );
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .child(
            probe
                .worker("deaf")
                .shutdown(Shutdown::Timeout(Duration::from_millis(100))),
        )
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    // terminate_child of the nested supervisor, then the tree's stop.
    bounded("terminate_child", sup.terminate_child("sub"))
        .await
        .unwrap();
    assert_eq!(
        timeline(&probe),
        [
            "stop_requested app/sub/deaf#1",
            "exit app/sub/deaf#1 killed",
            "shutdown_error app/sub/deaf killed",
            "exit app/sub/x#1 shutdown",
            "exit app/sub#1 shutdown",
        ]
    );
    bounded("restart_child", sup.restart_child("sub"))
        .await
        .unwrap();
    assert_permanent_children_running(&sup).await;
    probe.take();
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        timeline(&probe),
        [
            "stop_requested app/sub/deaf#2",
            "exit app/sub/deaf#2 killed",
            "shutdown_error app/sub/deaf killed",
            "exit app/sub/x#2 shutdown",
            "exit app/sub#2 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    assert_no_orphans(base).await;
}

/// Notes a timeline entry when it is dropped.
struct DropNote {
    probe: Probe,
    entry: &'static str,
}

impl Drop for DropNote {
    fn drop(&mut self) {
        self.probe.note(self.entry);
    }
}

/// Handles shutdown, but when asked blocks its thread for 300 ms and then
/// carries on as if nothing happened.
struct Blocker {
    probe: Probe,
    _dropped: DropNote,
}

impl Worker for Blocker {
    type Message = ();

    fn handles_shutdown(&self) -> bool {
        true
    }

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        self.probe.note("blocking");
        std::thread::sleep(Duration::from_millis(300));
        self.probe.note("unblocked");
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_blocking_its_thread_is_reported_killed_and_its_task_ends_when_it_unblocks() {
    let base = baseline();
    let probe = Probe::new();
    let blocker = {
        let probe = probe.clone();
        ChildSpec::worker("blocker", move || Blocker {
            probe: probe.clone(),
            _dropped: DropNote {
                probe: probe.clone(),
                entry: "blocker dropped",
            },
        })
        .shutdown(Shutdown::Timeout(Duration::from_millis(50)))
    };
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .child(blocker)
        .child(probe.worker("y"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    bounded("stop", sup.stop()).await.unwrap();
    assert!(sup.is_stopped());
    let mut log = timeline(&probe);
    // The rest of the tree stopped, in order, around the blocked child.
    let notes = ["blocking", "unblocked", "blocker dropped"];
    let stopped: Vec<&String> = log
        .iter()
        .filter(|e| !notes.contains(&e.as_str()))
        .collect();
    assert_eq!(
        stopped,
        [
            "exit app/c#1 shutdown",
            "exit app/sub/y#1 shutdown",
            "exit app/sub/blocker#1 killed",
            "shutdown_error app/sub/blocker killed",
            "exit app/sub/x#1 shutdown",
            "exit app/sub#1 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    // Its task ends at its first `.await` after the block, and reports no
    // second exit.
    if !log.iter().any(|e| e == "blocker dropped") {
        bounded("the blocked task ends", probe.wait_for("blocker dropped")).await;
        log.extend(timeline(&probe));
    }
    let seen: Vec<&String> = log.iter().filter(|e| notes.contains(&e.as_str())).collect();
    assert_eq!(seen, notes);
    assert_eq!(
        exits_of(&probe, "app/sub/blocker"),
        [(1, ExitReason::Killed)]
    );
    bounded("the tasks end", async {
        while alive() != base {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

// ===== restarts interrupted =====

#[tokio::test(start_paused = true)]
async fn a_crash_during_a_group_restart_is_handled_after_it() {
    let base = baseline();
    let probe = Probe::new();
    probe.set(
        "app/b",
        Behavior::new().init_delay_on(2, Duration::from_millis(100)),
    );
    let spec = Supervisor::builder("app")
        .strategy(Strategy::OneForAll)
        .max_restarts(5)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    probe.exit("app/a", Outcome::error("first"));
    // The supervisor is in the middle of the group restart, waiting for
    // b's init; a's new incarnation crashes meanwhile.
    probe.wait_for("init app/b#2").await;
    probe.exit("app/a", Outcome::error("second"));
    probe.wait_for("started app/c#3").await;
    settle().await;
    assert_eq!(
        timeline(&probe),
        [
            "exit app/a#1 first",
            "child_terminated app/a first",
            "restarting app/a",
            "exit app/c#1 shutdown",
            "exit app/b#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/b#2",
            "exit app/a#2 second",
            "started app/b#2",
            "init app/c#2",
            "started app/c#2",
            // The second crash is served once the first restart is done.
            "child_terminated app/a second",
            "restarting app/a",
            "exit app/c#2 shutdown",
            "exit app/b#2 shutdown",
            "init app/a#3",
            "started app/a#3",
            "init app/b#3",
            "started app/b#3",
            "init app/c#3",
            "started app/c#3",
        ]
    );
    assert_permanent_children_running(&sup).await;
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn a_parent_stopped_while_a_failed_restart_is_being_retried_stops() {
    let base = baseline();
    let probe = Probe::new();
    // From its second start on, b takes 10 ms to fail its init: the retries
    // go on until the parent is stopped.
    probe.set(
        "app/sub/b",
        Behavior::new()
            .init_on(1, InitStep::Ready)
            .fail_init("no db")
            .init_delay(Duration::from_millis(10))
            .init_delay_on(1, Duration::ZERO),
    );
    let sub = Supervisor::builder("sub")
        .max_restarts(1_000)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("x"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.exit("app/sub/b", Outcome::error("crash"));
    probe.wait_for("start_error app/sub/b no db").await;
    probe.wait_for("init app/sub/b#4").await;
    probe.take();
    bounded("stop", sup.stop()).await.unwrap();
    // The attempt under way finishes; the stop is served before the next.
    assert_eq!(
        timeline(&probe),
        [
            "start_failed app/sub/b#4 no db",
            "start_error app/sub/b no db",
            "exit app/sub/c#1 shutdown",
            "exit app/sub/a#1 shutdown",
            "exit app/sub#1 shutdown",
            "exit app/x#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    // No attempt comes after the stop.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(timeline(&probe), Vec::<String>::new());
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn a_parent_stopped_while_a_restart_backoff_is_pending_cancels_it() {
    let base = baseline();
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .strategy(Strategy::RestForOne)
        .backoff(Backoff::fixed(Duration::from_secs(10)))
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("x"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    let running = alive();
    probe.take();
    probe.exit("app/sub/b", Outcome::error("crash"));
    probe.wait_for("exit app/sub/c#1 shutdown").await;
    settle().await;
    let tree = sup.snapshot().await.unwrap();
    let states: Vec<(String, ChildState)> = tree
        .walk()
        .iter()
        .map(|(_, c)| (c.path.to_string(), c.state))
        .collect();
    assert!(
        matches!(
            states.as_slice(),
            [
                (_, ChildState::Running),
                (_, ChildState::Running),
                (_, ChildState::Running),
                (_, ChildState::BackingOff { .. }),
                (_, ChildState::Stopped),
            ]
        ),
        "{tree:#}"
    );
    // b and c are down, the backoff's timer is up.
    assert_eq!(alive(), running - 2 + 1);
    probe.take();
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        timeline(&probe),
        [
            "exit app/sub/a#1 shutdown",
            "exit app/sub#1 shutdown",
            "exit app/x#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    // The timer went with the supervisor (checked before the clock moves
    // past it), and nothing starts when it would have fired.
    assert_no_orphans(base).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(timeline(&probe), Vec::<String>::new());
    assert_no_orphans(base).await;
}

// ===== a root nobody stops =====

/// Ticks every 100 ms; counts its ticks and its drops.
struct Ticker {
    ticks: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Worker for Ticker {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.ticks.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_root_dropped_without_stop_runs_until_its_runtime_is_dropped() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let metrics = runtime.handle().clone();
    let ticks = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let ticker = |id: &str| {
        let (ticks, dropped) = (ticks.clone(), dropped.clone());
        ChildSpec::worker(id, move || Ticker {
            ticks: ticks.clone(),
            dropped: dropped.clone(),
        })
    };
    let sub = Supervisor::builder("sub")
        .child(ticker("x"))
        .child(ticker("y"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(ticker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    let sup_ref = spec.supervisor_ref();
    let mut events = spec.subscribe();
    let base = runtime.block_on(async {
        let base = baseline();
        let sup = spec.start().await.unwrap();
        settle().await;
        let running = alive();
        // app, a, sub, x, y.
        assert_eq!(running, base + 5);
        drop(sup);
        drop(sup_ref);
        // Nobody holds a handle: the tree runs on.
        let before = ticks.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(ticks.load(Ordering::SeqCst) >= before + 3 * 9);
        assert_eq!(alive(), running);
        base
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    drop(runtime);
    // Dropping the runtime drops every task of the tree: no task remains,
    // every worker's state was dropped, and no panic escaped.
    assert_eq!(metrics.metrics().num_alive_tasks(), base);
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    // Each incarnation reported its exit once, `killed`, as it was dropped.
    let mut exits = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::Exited {
            path,
            incarnation,
            reason,
        } = event
        {
            exits.push(format!("{path}#{incarnation} {reason}"));
        }
    }
    exits.sort();
    assert_eq!(
        exits,
        [
            "app#1 killed",
            "app/a#1 killed",
            "app/sub#1 killed",
            "app/sub/x#1 killed",
            "app/sub/y#1 killed",
        ]
    );
}

// ===== handles under fire =====

enum EchoMsg {
    Get(Reply<u64>),
    Crash,
    Panic,
}

/// Answers `Get` with its incarnation; crashes on command.
struct Echo;

impl Worker for Echo {
    type Message = EchoMsg;

    async fn run(self, mut ctx: Context<EchoMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                EchoMsg::Get(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                EchoMsg::Crash => return Err("crash".into()),
                EchoMsg::Panic => panic!("echo panic"),
            }
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn handle_calls_racing_a_restart_storm_are_all_answered_or_fail_typed() {
    const CALLERS: usize = 50;
    const CALLS: usize = 40;
    const CRASHES: usize = 300;
    let base = baseline();
    let probe = Probe::new();
    let (echo_spec, echo) = ChildSpec::worker_with_handle("echo", || Echo);
    let spec = Supervisor::builder("app")
        .max_restarts(100_000)
        .child(probe.worker("a"))
        .child(echo_spec)
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();

    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let echo: WorkerHandle<Echo> = echo.clone();
            tokio::spawn(async move {
                let mut results = Vec::with_capacity(CALLS);
                for n in 0..CALLS {
                    let result = if (i + n) % 4 == 1 {
                        // Fails at once while the child is down.
                        echo.call(EchoMsg::Get).await
                    } else {
                        echo.call_timeout(EchoMsg::Get, Duration::from_secs(1))
                            .await
                    };
                    results.push(result);
                    tokio::task::yield_now().await;
                }
                results
            })
        })
        .collect();
    let crasher = {
        let echo = echo.clone();
        tokio::spawn(async move {
            let mut delivered = 0;
            for n in 0..CRASHES {
                let sent = match n % 3 {
                    0 => echo.send(EchoMsg::Crash).is_ok(),
                    1 => echo.send(EchoMsg::Panic).is_ok(),
                    _ => echo.child().map(|c| c.kill()).is_some(),
                };
                delivered += usize::from(sent);
                if n % 2 == 0 {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            delivered
        })
    };
    let mut answered = 0;
    let mut lost = 0;
    let mut not_running = 0;
    for caller in callers {
        for result in bounded("a caller", caller).await.unwrap() {
            match result {
                Ok(incarnation) => {
                    assert!(incarnation >= 1);
                    answered += 1;
                }
                Err(HandleError::Lost) => lost += 1,
                Err(HandleError::NotRunning) => not_running += 1,
                Err(other) => panic!("a call failed with {other:?} during the storm"),
            }
        }
    }
    assert_eq!(answered + lost + not_running, CALLERS * CALLS);
    assert!(answered > 0);
    let delivered = bounded("the crasher", crasher).await.unwrap();
    assert!(delivered > 0);
    // Every restart came from a crash the test injected.
    bounded(
        "the last restart",
        echo.wait_running(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    settle().await;
    let restarts = probe
        .raw_events()
        .iter()
        .filter(|e| matches!(e, Event::Restarting { child, .. } if &**child == "app/echo"))
        .count();
    assert!(
        restarts >= 1 && restarts <= delivered,
        "{restarts} restarts"
    );
    assert!(!sup.is_stopped());
    assert_permanent_children_running(&sup).await;
    assert!(bounded("a last call", echo.call(EchoMsg::Get))
        .await
        .is_ok());
    sup.stop().await.unwrap();
    assert_eq!(
        bounded("a call after the stop", echo.call(EchoMsg::Get)).await,
        Err(HandleError::NotFound)
    );
    assert_eq!(
        bounded(
            "a call_timeout after the stop",
            echo.call_timeout(EchoMsg::Get, Duration::from_secs(1))
        )
        .await,
        Err(HandleError::NotFound)
    );
    assert_no_orphans(base).await;
}

#[tokio::test(start_paused = true)]
async fn fire_and_forget_messages_queued_for_a_crashed_incarnation_are_dropped_and_counted() {
    let base = baseline();
    let (spec, echo) = ChildSpec::worker_with_handle("echo", || Echo);
    let spec = Supervisor::builder("app").child(spec).build().unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    // A crash, then messages queued behind it: all accepted by `send`.
    echo.send(EchoMsg::Crash).unwrap();
    for _ in 0..10 {
        echo.send(EchoMsg::Panic).unwrap();
    }
    settle().await;
    let next = bounded("the restart", echo.wait_running(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(next.incarnation(), 2);
    // The ten panics died with incarnation 1's mailbox: the second
    // incarnation never sees them, and the event stream counts them.
    settle().await;
    assert_eq!(echo.call(EchoMsg::Get).await, Ok(2));
    let mut exits = 0;
    let mut dropped = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            supervise::Event::Exited { .. } => exits += 1,
            supervise::Event::MessagesDropped {
                path,
                incarnation,
                count,
            } => dropped.push((path.to_string(), incarnation, count)),
            _ => {}
        }
    }
    assert_eq!(exits, 1);
    assert_eq!(dropped, [("app/echo".to_string(), 1, 10)]);
    sup.stop().await.unwrap();
    assert_no_orphans(base).await;
}

// ===== giving up =====

#[tokio::test(start_paused = true)]
async fn a_worker_that_keeps_failing_to_start_makes_the_tree_give_up() {
    let base = baseline();
    let probe = Probe::new();
    probe.set(
        "app/sub/b",
        Behavior::new()
            .init_on(1, InitStep::Ready)
            .fail_init("no db"),
    );
    let sub = Supervisor::builder("sub")
        .max_restarts(3)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    let sub_ref = sub.supervisor_ref();
    let spec = Supervisor::builder("app")
        .max_restarts(1)
        .child(probe.worker("x"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    probe.exit("app/sub/b", Outcome::error("crash"));
    bounded("the root gives up", sup.wait()).await;
    assert!(sup.gave_up());
    assert_eq!(sup.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(
        timeline(&probe),
        [
            "exit app/sub/b#1 crash",
            "child_terminated app/sub/b crash",
            "restarting app/sub/b",
            "init app/sub/b#2",
            "start_failed app/sub/b#2 no db",
            "start_error app/sub/b no db",
            "restarting app/sub/b",
            "init app/sub/b#3",
            "start_failed app/sub/b#3 no db",
            "start_error app/sub/b no db",
            "restarting app/sub/b",
            "init app/sub/b#4",
            "start_failed app/sub/b#4 no db",
            "start_error app/sub/b no db",
            // The fourth restart within the window is one too many.
            "gave_up app/sub app/sub/b",
            "exit app/sub/a#1 shutdown",
            "exit app/sub#1 shutdown",
            "child_terminated app/sub shutdown",
            "restarting app/sub",
            "init app/sub/a#2",
            "started app/sub/a#2",
            "init app/sub/b#5",
            "start_failed app/sub/b#5 no db",
            "start_error app/sub/b no db",
            "exit app/sub/a#2 shutdown",
            "start_failed app/sub#2 failed to start child b: no db",
            "start_error app/sub failed to start child b: no db",
            "gave_up app app/sub",
            "exit app/x#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    // Every call is answered: the supervisors are stopped.
    assert_eq!(sub_ref.current().unwrap_err(), CallError::Stopped);
    assert_eq!(
        bounded("which_children", sup.which_children())
            .await
            .unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(sup.stop().await.unwrap_err(), CallError::Stopped);
    assert_no_orphans(base).await;
}
