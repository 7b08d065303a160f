//! The control API: S23 (start_child), S24 (terminate_child), S25
//! (restart_child), S26 (delete_child), S27 (which_children,
//! count_children, get_childspec, calls on a stopped supervisor), S15.1 (API
//! restarts are not counted), S18.6 (one inbox, served in order).

use std::time::Duration;

use supervise::{
    CallError, ChildCounts, ChildKind, ChildSpec, ChildSpecInfo, ChildStatus, ExitReason, Restart,
    Shutdown, Supervisor, SupervisorHandle,
};
use supervise_tests::{bounded, render_children, settle, Behavior, Outcome, Probe};

async fn start_abc(probe: &Probe) -> SupervisorHandle {
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .max_restarts(1)
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    sup
}

#[tokio::test(start_paused = true)]
async fn s27_1_which_children_lists_the_newest_first() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    let added = sup.start_child(probe.worker("d")).await.unwrap().unwrap();
    assert_eq!(added.to_string(), "app/d#1");
    let which = sup.which_children().await.unwrap();
    assert_eq!(
        render_children(&which),
        ["d=app/d#1", "c=app/c#1", "sub=app/sub#1", "a=app/a#1"]
    );
    let kinds: Vec<ChildKind> = which.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ChildKind::Worker,
            ChildKind::Worker,
            ChildKind::Supervisor,
            ChildKind::Worker
        ]
    );
    assert_eq!(which[0].status, ChildStatus::Running(added));
    assert_eq!(which[3].status, ChildStatus::Running(probe.child("app/a")));
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s27_2_count_children_counts_specs_running_children_and_kinds() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCounts {
            specs: 3,
            active: 3,
            supervisors: 1,
            workers: 2
        }
    );
    sup.terminate_child("sub").await.unwrap();
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCounts {
            specs: 3,
            active: 2,
            supervisors: 1,
            workers: 2
        }
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s27_3_get_childspec_returns_the_spec_with_defaults_filled_in() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    // S6.2: permanent, 5 s for a worker, infinity for a supervisor.
    assert_eq!(
        sup.get_childspec("a").await.unwrap(),
        ChildSpecInfo {
            id: "a".into(),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(Duration::from_secs(5)),
            kind: ChildKind::Worker,
            significant: false,
        }
    );
    assert_eq!(
        sup.get_childspec("sub").await.unwrap(),
        ChildSpecInfo {
            id: "sub".into(),
            restart: Restart::Permanent,
            shutdown: Shutdown::Infinity,
            kind: ChildKind::Supervisor,
            significant: false,
        }
    );
    sup.start_child(
        probe
            .worker("t")
            .restart(Restart::Temporary)
            .shutdown(Shutdown::BrutalKill),
    )
    .await
    .unwrap();
    assert_eq!(
        sup.get_childspec("t").await.unwrap(),
        ChildSpecInfo {
            id: "t".into(),
            restart: Restart::Temporary,
            shutdown: Shutdown::BrutalKill,
            kind: ChildKind::Worker,
            significant: false,
        }
    );
    assert_eq!(
        sup.get_childspec("nope").await.unwrap_err(),
        CallError::NotFound
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s23_2_start_child_of_an_existing_id_is_already_started_or_already_present() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    assert_eq!(
        sup.start_child(probe.worker("a")).await.unwrap_err(),
        CallError::AlreadyStarted(probe.child("app/a"))
    );
    sup.terminate_child("a").await.unwrap();
    assert_eq!(
        sup.start_child(probe.worker("a")).await.unwrap_err(),
        CallError::AlreadyPresent
    );
    // Nothing was started by either call.
    assert_eq!(probe.settled().await, ["exit app/a#1 shutdown"]);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s23_3_a_failed_start_child_adds_nothing() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    probe.set("app/e", Behavior::new().fail_init("nope"));
    assert_eq!(
        sup.start_child(probe.worker("e")).await.unwrap_err(),
        CallError::StartFailed(ExitReason::error("nope"))
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#1", "sub=app/sub#1", "a=app/a#1"]
    );
    assert_eq!(
        sup.get_childspec("e").await.unwrap_err(),
        CallError::NotFound
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s24_terminate_child_stops_the_child_and_keeps_its_spec() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    sup.start_child(probe.worker("t").restart(Restart::Temporary))
        .await
        .unwrap();
    probe.take();
    // S24.1: terminated, kept not running.
    sup.terminate_child("sub").await.unwrap();
    assert_eq!(
        probe.take(),
        ["exit app/sub/x#1 shutdown", "exit app/sub#1 shutdown"]
    );
    // S24.2: again on a child that is not running: ok, nothing happens.
    sup.terminate_child("sub").await.unwrap();
    // S24.1: a temporary child's spec is removed.
    sup.terminate_child("t").await.unwrap();
    assert_eq!(
        sup.terminate_child("nope").await.unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(probe.settled().await, ["exit app/t#1 shutdown"]);
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#1", "sub=undefined", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s25_restart_child_starts_only_a_child_that_is_not_running() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    sup.start_child(probe.worker("t").restart(Restart::Temporary))
        .await
        .unwrap();
    assert_eq!(
        sup.restart_child("a").await.unwrap_err(),
        CallError::Running
    );
    assert_eq!(
        sup.restart_child("nope").await.unwrap_err(),
        CallError::NotFound
    );
    sup.terminate_child("a").await.unwrap();
    probe.take();
    let a = sup.restart_child("a").await.unwrap().expect("started");
    assert_eq!(a.to_string(), "app/a#2");
    assert_eq!(probe.take(), ["init app/a#2", "started app/a#2"]);
    // The restarted child keeps its place.
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["t=app/t#1", "c=app/c#1", "sub=app/sub#1", "a=app/a#2"]
    );
    // S25.2: a temporary child that was terminated is gone.
    sup.terminate_child("t").await.unwrap();
    assert_eq!(
        sup.restart_child("t").await.unwrap_err(),
        CallError::NotFound
    );
    // S25.1: a failed start returns the error and changes nothing.
    sup.terminate_child("c").await.unwrap();
    probe.set("app/c", Behavior::new().fail_init("no config"));
    assert_eq!(
        sup.restart_child("c").await.unwrap_err(),
        CallError::StartFailed(ExitReason::error("no config"))
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=undefined", "sub=app/sub#1", "a=app/a#2"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s26_delete_child_removes_only_a_child_that_is_not_running() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    assert_eq!(sup.delete_child("c").await.unwrap_err(), CallError::Running);
    assert_eq!(
        sup.delete_child("nope").await.unwrap_err(),
        CallError::NotFound
    );
    sup.terminate_child("c").await.unwrap();
    sup.delete_child("c").await.unwrap();
    assert_eq!(
        sup.get_childspec("c").await.unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(
        sup.restart_child("c").await.unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(
        sup.delete_child("c").await.unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["sub=app/sub#1", "a=app/a#1"]
    );
    // The id is free again.
    let c = sup.start_child(probe.worker("c")).await.unwrap().unwrap();
    assert_eq!(c.path(), "app/c");
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s15_1_api_calls_are_not_counted_toward_the_intensity() {
    let probe = Probe::new();
    // Intensity 1: one automatic restart is tolerated.
    let sup = start_abc(&probe).await;
    for _ in 0..5 {
        sup.terminate_child("a").await.unwrap();
        sup.restart_child("a").await.unwrap().expect("started");
        sup.terminate_child("c").await.unwrap();
        sup.delete_child("c").await.unwrap();
        sup.start_child(probe.worker("c"))
            .await
            .unwrap()
            .expect("started");
    }
    probe.take();
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for("started app/a#7").await;
    settle().await;
    assert!(!sup.is_stopped(), "the first automatic restart is allowed");
    probe.exit("app/a", Outcome::error("boom"));
    bounded("the supervisor gives up", sup.wait()).await;
    let log = probe.take();
    assert!(log.contains(&"gave_up app app/a".to_owned()), "{log:#?}");
}

#[tokio::test(start_paused = true)]
async fn s27_4_calls_on_a_stopped_supervisor_return_stopped() {
    let probe = Probe::new();
    let sup = start_abc(&probe).await;
    // A call queued behind the stop is not served: it fails with the
    // supervisor's exit, as an OTP call whose server died.
    let (stopped, which) = tokio::join!(sup.stop(), sup.which_children());
    stopped.unwrap();
    assert_eq!(
        which.unwrap_err(),
        CallError::Exited(supervise::ExitReason::Shutdown)
    );
    assert!(sup.is_stopped());
    assert_eq!(sup.which_children().await.unwrap_err(), CallError::Stopped);
    assert_eq!(sup.count_children().await.unwrap_err(), CallError::Stopped);
    assert_eq!(
        sup.get_childspec("a").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.start_child(probe.worker("d")).await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.terminate_child("a").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.restart_child("a").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(sup.delete_child("a").await.unwrap_err(), CallError::Stopped);
    assert_eq!(sup.stop().await.unwrap_err(), CallError::Stopped);
    // Nothing was started by the refused start_child.
    assert!(!probe.take().iter().any(|e| e.contains("app/d")));
}

#[tokio::test(start_paused = true)]
async fn s18_6_a_call_sent_during_a_slow_terminate_child_is_answered_after_it() {
    let probe = Probe::new();
    probe.set(
        "app/a",
        Behavior::new().stops_after(Duration::from_millis(100)),
    );
    let sup = start_abc(&probe).await;
    let terminating = tokio::spawn({
        let sup = sup.clone();
        async move { sup.terminate_child("a").await }
    });
    // The supervisor is now waiting for a to stop.
    probe.wait_for("stop_requested app/a#1").await;
    let which = sup.which_children().await.unwrap();
    probe.note("which_children answered");
    assert_eq!(
        probe.take(),
        [
            "stop_requested app/a#1",
            "exit app/a#1 shutdown",
            "which_children answered",
        ]
    );
    // It saw the state after the termination, never a half-way state.
    assert_eq!(
        render_children(&which),
        ["c=app/c#1", "sub=app/sub#1", "a=undefined"]
    );
    terminating.await.unwrap().unwrap();
    sup.stop().await.unwrap();
}

/// S6.2, S27: a child is counted and listed by its declared type (OTP's
/// `type` key), whatever it is (fuzzing finding F2).
#[tokio::test(start_paused = true)]
async fn a_child_is_counted_and_listed_by_its_declared_type() {
    let sup = supervise::Supervisor::builder("app")
        .child(
            supervise::ChildSpec::worker("a", || supervise_tests::Idle)
                .with_kind(supervise::ChildKind::Supervisor)
                .shutdown(supervise::Shutdown::Infinity),
        )
        .child(supervise::ChildSpec::worker("b", || supervise_tests::Idle))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let counts = sup.count_children().await.unwrap();
    assert_eq!((counts.supervisors, counts.workers), (1, 1));
    let listed = sup.which_children().await.unwrap();
    let a = listed
        .iter()
        .find(|c| c.id.as_deref() == Some("a"))
        .unwrap();
    assert_eq!(a.kind, supervise::ChildKind::Supervisor);
    let spec = sup.get_childspec("a").await.unwrap();
    assert_eq!(
        (spec.kind, spec.shutdown),
        (
            supervise::ChildKind::Supervisor,
            supervise::Shutdown::Infinity
        )
    );
    sup.stop().await.unwrap();
}
