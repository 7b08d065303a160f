//! Stopping children: S18 (one child by its shutdown policy), S19 (which
//! exit reasons are shutdown errors), S20 (the supervisor's termination).

use std::time::Duration;

use supervise::{
    ChildSpec, ChildStatus, Event, ExitReason, Restart, Shutdown, Supervisor, SupervisorHandle,
};
use supervise_tests::{bounded, Behavior, OnShutdown, Outcome, Probe};
use tokio::time::Instant;

const MS_10: Duration = Duration::from_millis(10);

fn exits_with(outcome: Outcome) -> Behavior {
    Behavior::new().on_shutdown(OnShutdown::Exit {
        after: Duration::ZERO,
        outcome,
    })
}

async fn start(probe: &Probe, builder: supervise::SupervisorBuilder) -> SupervisorHandle {
    let spec = builder.build().unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    sup
}

#[tokio::test(start_paused = true)]
async fn s20_1_stop_terminates_children_one_at_a_time_in_reverse_start_order() {
    let probe = Probe::new();
    for path in ["app/a", "app/b", "app/c"] {
        probe.set(path, Behavior::new().stops_after(MS_10));
    }
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(probe.worker("c")),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    // Each child is asked only once the one after it has exited.
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/c#1",
            "exit app/c#1 shutdown",
            "stop_requested app/b#1",
            "exit app/b#1 shutdown",
            "stop_requested app/a#1",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    assert!(sup.is_stopped());
}

#[tokio::test(start_paused = true)]
async fn s20_1_a_nested_supervisor_stops_its_own_subtree_first() {
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .child(probe.worker("y"))
        .build()
        .unwrap();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("a"))
            .child(ChildSpec::supervisor("sub", sub))
            .child(probe.worker("b")),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 shutdown",
            "exit app/sub/y#1 shutdown",
            "exit app/sub/x#1 shutdown",
            "exit app/sub#1 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s18_2_brutal_kill_aborts_the_child_without_asking() {
    let probe = Probe::new();
    probe.set("app/a", Behavior::new().stops_after(MS_10));
    let sup = start(
        &probe,
        Supervisor::builder("app").child(probe.worker("a").shutdown(Shutdown::BrutalKill)),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    // S19.1: killed is the expected reason: no shutdown error.
    assert_eq!(probe.take(), ["exit app/a#1 killed", "exit app#1 shutdown"]);
}

#[tokio::test(start_paused = true)]
async fn s18_3_a_child_that_ignores_shutdown_is_killed_after_its_timeout() {
    let probe = Probe::new();
    probe.set("app/b", Behavior::new().on_shutdown(OnShutdown::Ignore));
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("a"))
            .child(
                probe
                    .worker("b")
                    .shutdown(Shutdown::Timeout(Duration::from_millis(50))),
            )
            .child(probe.worker("c")),
    )
    .await;
    let t0 = Instant::now();
    bounded("stop", sup.stop()).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(50));
    // S19.2: killed after a timeout is always reported.
    assert_eq!(
        probe.take(),
        [
            "exit app/c#1 shutdown",
            "stop_requested app/b#1",
            "exit app/b#1 killed",
            "shutdown_error app/b killed",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    let errors: Vec<_> = probe
        .raw_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ShutdownError {
                supervisor,
                child,
                reason,
                children,
            } => Some((supervisor.to_string(), child.to_string(), reason, children)),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        [(
            "app".to_owned(),
            "app/b".to_owned(),
            ExitReason::Killed,
            None
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn s18_3_a_child_that_stops_within_its_timeout_is_not_killed() {
    let probe = Probe::new();
    probe.set(
        "app/a",
        Behavior::new().stops_after(Duration::from_millis(40)),
    );
    let sup = start(
        &probe,
        Supervisor::builder("app").child(
            probe
                .worker("a")
                .shutdown(Shutdown::Timeout(Duration::from_millis(50))),
        ),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/a#1",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s18_3_timeout_zero_kills_a_child_that_handles_shutdown_at_once() {
    let probe = Probe::new();
    probe.set("app/a", exits_with(Outcome::Shutdown));
    let sup = start(
        &probe,
        Supervisor::builder("app").child(
            probe
                .worker("a")
                .shutdown(Shutdown::Timeout(Duration::ZERO)),
        ),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    // Whether the child saw the request before it was killed is not
    // specified; the outcome is.
    let log: Vec<String> = probe
        .take()
        .into_iter()
        .filter(|e| !e.starts_with("stop_requested"))
        .collect();
    assert_eq!(
        log,
        [
            "exit app/a#1 killed",
            "shutdown_error app/a killed",
            "exit app#1 shutdown"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s18_4_infinity_waits_for_as_long_as_the_child_takes() {
    let probe = Probe::new();
    // Far beyond the 5 s default of a worker (within `bounded`'s limit).
    let long = Duration::from_secs(90);
    probe.set("app/a", Behavior::new().stops_after(long));
    let sup = start(
        &probe,
        Supervisor::builder("app").child(probe.worker("a").shutdown(Shutdown::Infinity)),
    )
    .await;
    let t0 = Instant::now();
    bounded("stop", sup.stop()).await.unwrap();
    assert!(t0.elapsed() >= long);
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/a#1",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s19_2_a_permanent_child_exiting_normal_at_shutdown_is_a_shutdown_error() {
    let probe = Probe::new();
    probe.set("app/a", exits_with(Outcome::Normal));
    let sup = start(&probe, Supervisor::builder("app").child(probe.worker("a"))).await;
    bounded("stop", sup.stop()).await.unwrap();
    // S19.3: a report changes neither the sequence nor the exit reason.
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/a#1",
            "exit app/a#1 normal",
            "shutdown_error app/a normal",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s19_2_only_non_permanent_children_may_exit_normal_or_shutdown_with() {
    let probe = Probe::new();
    probe.set("app/p", exits_with(Outcome::shutdown_with("bye")));
    probe.set("app/tr", exits_with(Outcome::Normal));
    probe.set("app/tm", exits_with(Outcome::shutdown_with("bye")));
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("p"))
            .child(probe.worker("tr").restart(Restart::Transient))
            .child(probe.worker("tm").restart(Restart::Temporary)),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/tm#1",
            "exit app/tm#1 {shutdown,bye}",
            "stop_requested app/tr#1",
            "exit app/tr#1 normal",
            "stop_requested app/p#1",
            "exit app/p#1 {shutdown,bye}",
            "shutdown_error app/p {shutdown,bye}",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s19_2_an_error_at_shutdown_is_a_shutdown_error_for_every_restart_type() {
    let probe = Probe::new();
    for path in ["app/p", "app/tr", "app/tm"] {
        probe.set(path, exits_with(Outcome::error("cleanup failed")));
    }
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("p"))
            .child(probe.worker("tr").restart(Restart::Transient))
            .child(probe.worker("tm").restart(Restart::Temporary)),
    )
    .await;
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/tm#1",
            "exit app/tm#1 cleanup failed",
            "shutdown_error app/tm cleanup failed",
            "stop_requested app/tr#1",
            "exit app/tr#1 cleanup failed",
            "shutdown_error app/tr cleanup failed",
            "stop_requested app/p#1",
            "exit app/p#1 cleanup failed",
            "shutdown_error app/p cleanup failed",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s18_5_a_child_terminated_on_purpose_is_never_restarted() {
    let probe = Probe::new();
    probe.set("app/a", exits_with(Outcome::error("bye")));
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("a"))
            .child(probe.worker("b")),
    )
    .await;
    sup.terminate_child("a").await.unwrap();
    // Its exit (abnormal as it is) is not taken for a crash.
    assert_eq!(
        probe.settled().await,
        [
            "stop_requested app/a#1",
            "exit app/a#1 bye",
            "shutdown_error app/a bye"
        ]
    );
    let which = sup.which_children().await.unwrap();
    assert_eq!(which[1].status, ChildStatus::Undefined);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s20_2_the_supervisor_exits_with_the_reason_it_was_given() {
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .build()
        .unwrap();
    let sup = start(
        &probe,
        Supervisor::builder("app").child(ChildSpec::supervisor("sub", sub)),
    )
    .await;
    let which = sup.which_children().await.unwrap();
    let ChildStatus::Running(sub_ref) = &which[0].status else {
        panic!("sub is running");
    };
    let sub_handle = sub_ref.supervisor().expect("a supervisor child");
    // The parent sees the nested supervisor's reason and restarts it.
    bounded(
        "stop sub",
        sub_handle.stop_with(ExitReason::error("reconfigure")),
    )
    .await
    .unwrap();
    probe.wait_for("started app/sub#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/sub/x#1 shutdown",
            "exit app/sub#1 reconfigure",
            "child_terminated app/sub reconfigure",
            "restarting app/sub",
            "init app/sub/x#2",
            "started app/sub/x#2",
            "started app/sub#2",
        ]
    );
    bounded(
        "stop app",
        sup.stop_with(ExitReason::shutdown_with("maintenance")),
    )
    .await
    .unwrap();
    assert_eq!(
        probe.take(),
        [
            "exit app/sub/x#2 shutdown",
            "exit app/sub#2 shutdown",
            "exit app#1 {shutdown,maintenance}",
        ]
    );
}
