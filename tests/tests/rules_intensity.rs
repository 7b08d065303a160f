//! Restart intensity: S15 (counting restarts in the window), S16 (giving
//! up), S17 (failed restarts retried), S29.2 (escalation through nested
//! supervisors), S29.3 (what a killed nested supervisor's children get).

use std::time::Duration;

use supervise::{
    CallError, ChildCounts, ChildSpec, Event, ExitReason, Restart, Strategy, Supervisor,
    SupervisorHandle, SupervisorRef,
};
use supervise_tests::{bounded, render_children, settle, Behavior, InitStep, Outcome, Probe};
use tokio::time::Instant;

async fn start_ab(probe: &Probe, max_restarts: u32, period: Duration) -> SupervisorHandle {
    let spec = Supervisor::builder("app")
        .max_restarts(max_restarts)
        .period(period)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    sup
}

/// Crashes `app/a#n` and waits for `app/a#n+1` to start.
async fn crash_and_restart(probe: &Probe, n: u64) {
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for(&format!("started app/a#{}", n + 1)).await;
}

#[tokio::test(start_paused = true)]
async fn s15_3_exactly_max_restarts_survive_and_one_more_gives_up() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 3, Duration::from_secs(5)).await;
    for n in 1..=3 {
        crash_and_restart(&probe, n).await;
    }
    settle().await;
    assert!(!sup.is_stopped());
    probe.take();
    probe.exit("app/a", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    // S16: the offender is not restarted, the others are stopped in reverse
    // order, and the supervisor exits with `shutdown`.
    assert_eq!(
        probe.take(),
        [
            "exit app/a#4 boom",
            "child_terminated app/a boom",
            "gave_up app app/a",
            "exit app/b#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    let gave_up: Vec<(String, String)> = probe
        .raw_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::GaveUp { supervisor, child } => {
                Some((supervisor.to_string(), child.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(gave_up, [("app".to_owned(), "app/a".to_owned())]);
    let root_exit = probe.raw_events().into_iter().find_map(|e| match e {
        Event::Exited { path, reason, .. } if &*path == "app" => Some(reason),
        _ => None,
    });
    assert_eq!(root_exit, Some(ExitReason::Shutdown));
    assert_eq!(sup.which_children().await, Err(CallError::Stopped));
}

#[tokio::test(start_paused = true)]
async fn s15_4_intensity_zero_gives_up_at_the_first_restart() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 0, Duration::from_secs(5)).await;
    probe.exit("app/b", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "gave_up app app/b",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s15_5_a_restart_exactly_one_period_later_still_counts() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 1, Duration::from_secs(1)).await;
    let t0 = Instant::now();
    crash_and_restart(&probe, 1).await;
    // The paused clock has not moved: the restart was counted at t0.
    assert_eq!(Instant::now(), t0);
    tokio::time::sleep_until(t0 + Duration::from_secs(1)).await;
    probe.exit("app/a", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    let log = probe.take();
    assert!(log.contains(&"gave_up app app/a".to_owned()), "{log:#?}");
}

#[tokio::test(start_paused = true)]
async fn s15_5_restarts_older_than_the_period_leave_the_window() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 1, Duration::from_secs(1)).await;
    let t0 = Instant::now();
    crash_and_restart(&probe, 1).await;
    tokio::time::sleep_until(t0 + Duration::from_millis(1001)).await;
    let t1 = Instant::now();
    // A new burst of max_restarts is allowed...
    crash_and_restart(&probe, 2).await;
    settle().await;
    assert!(!sup.is_stopped());
    // ... but only one.
    tokio::time::sleep_until(t1 + Duration::from_millis(500)).await;
    probe.take();
    probe.exit("app/a", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    assert_eq!(
        probe.take(),
        [
            "exit app/a#3 boom",
            "child_terminated app/a boom",
            "gave_up app app/a",
            "exit app/b#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s17_1_a_failed_restart_is_retried_until_the_intensity_gives_up() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 2, Duration::from_secs(5)).await;
    probe.set("app/a", Behavior::new().fail_init("bad"));
    probe.exit("app/a", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    // S17.1 / S15.6: each retry is a restart for the intensity.
    assert_eq!(
        probe.take(),
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "init app/a#2",
            "start_failed app/a#2 bad",
            "start_error app/a bad",
            "restarting app/a",
            "init app/a#3",
            "start_failed app/a#3 bad",
            "start_error app/a bad",
            "gave_up app app/a",
            "exit app/b#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s17_3_a_restarting_child_is_listed_restarting_and_refuses_restart_and_delete() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 10, Duration::from_secs(5)).await;
    probe.set(
        "app/a",
        Behavior::new()
            .init_on(2, InitStep::Fail("bad".into()))
            .init_on(3, InitStep::Fail("bad".into()))
            .init_delay_on(3, Duration::from_millis(100)),
    );
    probe.exit("app/a", Outcome::error("boom"));
    // The supervisor is inside the third attempt's init: these calls are
    // queued before the retry that follows its failure (S17.2).
    probe.wait_for("init app/a#3").await;
    let (which, counts, restart, delete) = tokio::join!(
        sup.which_children(),
        sup.count_children(),
        sup.restart_child("a"),
        sup.delete_child("a"),
    );
    assert_eq!(
        render_children(&which.unwrap()),
        ["b=app/b#1", "a=restarting"]
    );
    assert_eq!(
        counts.unwrap(),
        ChildCounts {
            specs: 2,
            active: 1,
            supervisors: 0,
            workers: 2
        }
    );
    assert_eq!(restart.unwrap_err(), CallError::Restarting);
    assert_eq!(delete.unwrap_err(), CallError::Restarting);
    probe.wait_for("started app/a#4").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "init app/a#2",
            "start_failed app/a#2 bad",
            "start_error app/a bad",
            "restarting app/a",
            "init app/a#3",
            "start_failed app/a#3 bad",
            "start_error app/a bad",
            "restarting app/a",
            "init app/a#4",
            "started app/a#4",
        ]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s17_5_stop_is_served_between_attempts_and_skips_the_restarting_child() {
    let probe = Probe::new();
    let sup = start_ab(&probe, 10, Duration::from_secs(5)).await;
    probe.set(
        "app/a",
        Behavior::new()
            .fail_init("bad")
            .init_delay_on(2, Duration::from_millis(100)),
    );
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for("init app/a#2").await;
    bounded("stop", sup.stop()).await.unwrap();
    // S17.2 / S20.3: the stop request was queued before the retry; the
    // restarting child has no task and is skipped.
    assert_eq!(
        probe.take(),
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "init app/a#2",
            "start_failed app/a#2 bad",
            "start_error app/a bad",
            "exit app/b#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

fn nested(probe: &Probe, sub_restart: Restart, root_max: u32) -> supervise::SupervisorSpec {
    let sub = Supervisor::builder("sub")
        .max_restarts(1)
        .child(probe.worker("x"))
        .child(probe.worker("y"))
        .build()
        .unwrap();
    Supervisor::builder("app")
        .max_restarts(root_max)
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub).restart(sub_restart))
        .build()
        .unwrap()
}

/// Crashes `app/sub/x` twice: the nested supervisor (intensity 1) gives up.
async fn exhaust_sub(probe: &Probe) {
    probe.exit("app/sub/x", Outcome::error("boom"));
    probe.wait_for("started app/sub/x#2").await;
    probe.take();
    probe.exit("app/sub/x", Outcome::error("boom"));
    probe.wait_for("exit app/sub#1 shutdown").await;
}

#[tokio::test(start_paused = true)]
async fn s29_2_a_nested_supervisor_that_gives_up_is_restarted_by_its_permanent_parent() {
    let probe = Probe::new();
    let spec = nested(&probe, Restart::Permanent, 3);
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    exhaust_sub(&probe).await;
    probe.wait_for("started app/sub#2").await;
    // The restarted supervisor starts its children afresh (their start
    // attempts keep counting).
    assert_eq!(
        probe.settled().await,
        [
            "exit app/sub/x#2 boom",
            "child_terminated app/sub/x boom",
            "gave_up app/sub app/sub/x",
            "exit app/sub/y#1 shutdown",
            "exit app/sub#1 shutdown",
            "child_terminated app/sub shutdown",
            "restarting app/sub",
            "init app/sub/x#3",
            "started app/sub/x#3",
            "init app/sub/y#2",
            "started app/sub/y#2",
            "started app/sub#2",
        ]
    );
    assert!(!sup.is_stopped());
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["sub=app/sub#2", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s29_2_a_transient_parent_entry_is_not_restarted_after_its_supervisor_gives_up() {
    let probe = Probe::new();
    let spec = nested(&probe, Restart::Transient, 3);
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    exhaust_sub(&probe).await;
    assert_eq!(
        probe.settled().await,
        [
            "exit app/sub/x#2 boom",
            "child_terminated app/sub/x boom",
            "gave_up app/sub app/sub/x",
            "exit app/sub/y#1 shutdown",
            "exit app/sub#1 shutdown",
        ]
    );
    assert!(!sup.is_stopped());
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["sub=undefined", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s29_2_escalation_through_two_levels_stops_the_root() {
    let probe = Probe::new();
    let spec = nested(&probe, Restart::Permanent, 0);
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    exhaust_sub(&probe).await;
    bounded("the root gives up", sup.wait()).await;
    assert_eq!(
        probe.take(),
        [
            "exit app/sub/x#2 boom",
            "child_terminated app/sub/x boom",
            "gave_up app/sub app/sub/x",
            "exit app/sub/y#1 shutdown",
            "exit app/sub#1 shutdown",
            "child_terminated app/sub shutdown",
            "gave_up app app/sub",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

/// A worker that handles shutdown slowly and exits with the reason it was
/// asked to stop with, as a `gen_server` trapping exits does.
struct Careful(std::sync::Arc<std::sync::Mutex<Option<ExitReason>>>);

impl supervise::Worker for Careful {
    type Message = ();
    const HANDLES_SHUTDOWN: bool = true;
    async fn run(self, ctx: supervise::Context) -> Result<(), supervise::Exit> {
        ctx.shutdown_requested().await;
        let reason = ctx.shutdown_reason().expect("asked to stop");
        *self.0.lock().unwrap() = Some(reason.clone());
        tokio::time::sleep(Duration::from_millis(200)).await;
        Err(supervise::Exit::with_reason(reason))
    }
}

/// S29.3: a killed supervisor's children get its `killed` exit, as linked
/// processes do. A worker that does not handle shutdown dies with it; one
/// that does is asked to stop, told `killed`, and takes its time; a nested
/// supervisor stops its own children with `shutdown` first, then exits
/// `killed`. The parent restarts the killed supervisor at once, without
/// waiting for them.
#[tokio::test(start_paused = true)]
async fn s29_3_a_killed_supervisors_children_get_its_killed_exit() {
    let probe = Probe::new();
    let told = std::sync::Arc::new(std::sync::Mutex::new(None));
    let careful = told.clone();
    let inner = Supervisor::builder("inner")
        .child(probe.worker("leaf"))
        .build()
        .unwrap();
    let mid = Supervisor::builder("mid")
        .child(probe.worker("plain"))
        .child(ChildSpec::worker("careful", move || {
            Careful(careful.clone())
        }))
        .child(ChildSpec::supervisor("inner", inner))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .max_restarts(3)
        .child(ChildSpec::supervisor("mid", mid))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();

    let children = sup.which_children().await.unwrap();
    let supervise::ChildStatus::Running(mid) = &children[0].status else {
        panic!("mid runs");
    };
    mid.kill();
    probe.wait_for("started app/mid#2").await;
    let mut at_once = probe.take();
    at_once.sort();
    assert_eq!(
        at_once,
        [
            "child_terminated app/mid killed",
            "exit app/mid#1 killed",
            "exit app/mid/inner#1 killed",
            "exit app/mid/inner/leaf#1 shutdown",
            "exit app/mid/plain#1 killed",
            "init app/mid/inner/leaf#2",
            "init app/mid/plain#2",
            "restarting app/mid",
            "started app/mid#2",
            "started app/mid/careful#2",
            "started app/mid/inner#2",
            "started app/mid/inner/leaf#2",
            "started app/mid/plain#2",
        ]
    );
    assert_eq!(*told.lock().unwrap(), Some(ExitReason::Killed));
    // The orphan that handles shutdown ends on its own time.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(probe.take(), ["exit app/mid/careful#1 killed"]);
    sup.stop().await.unwrap();
}

/// A nested supervisor `app/mid` with the children `b` (quick) and `a`,
/// whose init takes 300 ms at its attempt 2; `app` restarts it up to 3
/// times. Returns the root and `mid`'s reference, the tree started and its
/// start taken from the probe.
async fn start_mid(probe: &Probe, strategy: Strategy) -> (SupervisorHandle, SupervisorRef) {
    probe.set(
        "app/mid/a",
        Behavior::new().init_delay_on(2, Duration::from_millis(300)),
    );
    let mid = Supervisor::builder("mid")
        .strategy(strategy)
        .max_restarts(3)
        .child(probe.worker("b"))
        .child(probe.worker("a"))
        .build()
        .unwrap();
    let mid_ref = mid.supervisor_ref();
    let spec = Supervisor::builder("app")
        .max_restarts(3)
        .child(ChildSpec::supervisor("mid", mid))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    (sup, mid_ref)
}

/// S29.3 with S17 (finding F6): a supervisor killed while it starts its
/// children, here in the restart its parent runs, dies there: `exit(Pid,
/// kill)` is not trappable. Its parent's start of it fails with `killed`
/// (a `start_error` report) and is retried at once (try_again); the child
/// it had started dies with it, and the one in the middle of its init
/// never reports started. Nothing waits for that init's 300 ms.
#[tokio::test(start_paused = true)]
async fn s29_3_a_supervisor_killed_while_it_starts_its_children_dies_at_once() {
    let probe = Probe::new();
    let (sup, mid) = start_mid(&probe, Strategy::OneForOne).await;
    let t0 = Instant::now();

    // mid#1 killed: app restarts it; mid#2 starts b#2, then a#2 (300 ms).
    mid.current().unwrap().kill();
    probe.wait_for("init app/mid/a#2").await;
    settle().await;
    // Its orphans' exits (their own tasks) race its restart.
    let mut restarted = probe.take();
    restarted.sort();
    assert_eq!(
        restarted,
        [
            "child_terminated app/mid killed",
            "exit app/mid#1 killed",
            "exit app/mid/a#1 killed",
            "exit app/mid/b#1 killed",
            "init app/mid/a#2",
            "init app/mid/b#2",
            "restarting app/mid",
            "started app/mid/b#2",
        ]
    );

    // 100 ms into a#2's init, mid#2 (the incarnation that has begun to
    // start) is killed.
    tokio::time::sleep(Duration::from_millis(99)).await;
    mid.current().unwrap().kill();
    probe.wait_for("started app/mid#3").await;
    let mut killed = probe.take();
    // b#2's exit (its own task) races mid#2's failed start; the rest is
    // app's, in order.
    let b2 = killed
        .iter()
        .position(|e| e == "exit app/mid/b#2 killed")
        .expect("b#2 dies with mid#2");
    killed.remove(b2);
    assert_eq!(
        killed,
        [
            "start_failed app/mid#2 killed",
            "start_error app/mid killed",
            "restarting app/mid",
            "init app/mid/b#3",
            "started app/mid/b#3",
            "init app/mid/a#3",
            "started app/mid/a#3",
            "started app/mid#3",
        ]
    );
    assert_eq!(Instant::now() - t0, Duration::from_millis(100));
    // a#2 never starts later either.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(probe.take(), Vec::<String>::new());
    let children = render_children(&sup.which_children().await.unwrap());
    assert_eq!(children, ["mid=app/mid#3"]);
    sup.stop().await.unwrap();
}

/// The same kill while the supervisor runs a group restart (one_for_all):
/// it dies at once, `killed`, the child it restarted dies with it, the one
/// in its init never reports started, and its parent restarts it.
#[tokio::test(start_paused = true)]
async fn s29_3_a_supervisor_killed_in_a_group_restart_dies_at_once() {
    let probe = Probe::new();
    let (sup, mid) = start_mid(&probe, Strategy::OneForAll).await;
    let t0 = Instant::now();

    // b#1 crashes: mid#1 stops a#1, starts b#2, then a#2 (300 ms).
    probe.exit("app/mid/b", Outcome::error("boom"));
    probe.wait_for("init app/mid/a#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/mid/b#1 boom",
            "child_terminated app/mid/b boom",
            "restarting app/mid/b",
            "exit app/mid/a#1 shutdown",
            "init app/mid/b#2",
            "started app/mid/b#2",
            "init app/mid/a#2",
        ]
    );

    tokio::time::sleep(Duration::from_millis(100)).await;
    mid.current().unwrap().kill();
    probe.wait_for("started app/mid#2").await;
    let mut killed = probe.take();
    let b2 = killed
        .iter()
        .position(|e| e == "exit app/mid/b#2 killed")
        .expect("b#2 dies with mid#1");
    killed.remove(b2);
    assert_eq!(
        killed,
        [
            "exit app/mid#1 killed",
            "child_terminated app/mid killed",
            "restarting app/mid",
            "init app/mid/b#3",
            "started app/mid/b#3",
            "init app/mid/a#3",
            "started app/mid/a#3",
            "started app/mid#2",
        ]
    );
    assert_eq!(Instant::now() - t0, Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(probe.take(), Vec::<String>::new());
    sup.stop().await.unwrap();
}
