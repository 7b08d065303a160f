//! Starting a tree: S1 (validation first), S2 (ordered synchronous start),
//! S3 (start failure and rollback), S8 (child spec validation).

use std::time::Duration;

use supervise::{AutoShutdown, ExitReason, Restart, Shutdown, SpecError, Supervisor};
use supervise_tests::{Behavior, InitStep, Probe};

#[tokio::test(start_paused = true)]
async fn s2_1_children_start_one_at_a_time_in_list_order() {
    let probe = Probe::new();
    for path in ["app/a", "app/b", "app/c"] {
        probe.set(path, Behavior::new().init_delay(Duration::from_millis(10)));
    }
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    // S2.2: `start` returns only once every child has started, and each
    // child's init began only after the previous one had started.
    assert_eq!(
        probe.take(),
        [
            "init app/a#1",
            "started app/a#1",
            "init app/b#1",
            "started app/b#1",
            "init app/c#1",
            "started app/c#1",
            "started app#1",
        ]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s3_start_failure_stops_started_children_in_reverse_order() {
    let probe = Probe::new();
    probe.set(
        "app/b",
        Behavior::new().stops_after(Duration::from_millis(10)),
    );
    probe.set("app/c", Behavior::new().fail_init("boom"));
    let spec = Supervisor::builder("app")
        .child(probe.worker("a").shutdown(Shutdown::BrutalKill))
        .child(
            probe
                .worker("b")
                .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
        )
        .child(probe.worker("c"))
        .child(probe.worker("d"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let err = spec.start().await.unwrap_err();
    // S3.1: d is never started. S3.2: b then a are stopped, each by its own
    // shutdown policy (b is asked and exits `shutdown`, a is brutally killed).
    assert_eq!(
        probe.take(),
        [
            "init app/a#1",
            "started app/a#1",
            "init app/b#1",
            "started app/b#1",
            "init app/c#1",
            "start_failed app/c#1 boom",
            "start_error app/c boom",
            "stop_requested app/b#1",
            "exit app/b#1 shutdown",
            "exit app/a#1 killed",
            "start_failed app#1 failed to start child c: boom",
        ]
    );
    // S3.3: the error names the child.
    assert_eq!(
        err.reason(),
        &ExitReason::FailedToStartChild {
            id: "c".into(),
            reason: Box::new(ExitReason::error("boom")),
        }
    );
    assert_eq!(err.to_string(), "failed to start child c: boom");
}

#[tokio::test(start_paused = true)]
async fn s3_3_nested_start_failure_names_each_level() {
    let probe = Probe::new();
    probe.set("app/s1/y", Behavior::new().fail_init("no db"));
    let s1 = Supervisor::builder("s1")
        .child(probe.worker("w"))
        .child(probe.worker("y"))
        .child(probe.worker("z"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("x"))
        .child(supervise::ChildSpec::supervisor("s1", s1))
        .child(probe.worker("after"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let err = spec.start().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to start child s1: failed to start child y: no db"
    );
    assert_eq!(
        err.reason(),
        &ExitReason::FailedToStartChild {
            id: "s1".into(),
            reason: Box::new(ExitReason::FailedToStartChild {
                id: "y".into(),
                reason: Box::new(ExitReason::error("no db")),
            }),
        }
    );
    assert_eq!(
        probe.take(),
        [
            "init app/x#1",
            "started app/x#1",
            "init app/s1/w#1",
            "started app/s1/w#1",
            "init app/s1/y#1",
            "start_failed app/s1/y#1 no db",
            "start_error app/s1/y no db",
            "exit app/s1/w#1 shutdown",
            "start_failed app/s1#1 failed to start child y: no db",
            "start_error app/s1 failed to start child y: no db",
            "exit app/x#1 shutdown",
            "start_failed app#1 failed to start child s1: failed to start child y: no db",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s2_3_a_panic_in_init_is_a_start_failure() {
    let probe = Probe::new();
    probe.set(
        "app/b",
        Behavior::new().init_otherwise(InitStep::Panic("init exploded".into())),
    );
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let err = spec.start().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to start child b: panicked: init exploded"
    );
    match err.reason() {
        ExitReason::FailedToStartChild { id, reason } => {
            assert_eq!(&**id, "b");
            match &**reason {
                ExitReason::Panic(p) => assert_eq!(p.message, "init exploded"),
                other => panic!("expected a panic reason, got {other:?}"),
            }
        }
        other => panic!("expected FailedToStartChild, got {other:?}"),
    }
    assert_eq!(
        probe.take(),
        [
            "init app/a#1",
            "started app/a#1",
            "init app/b#1",
            "start_failed app/b#1 panicked: init exploded",
            "start_error app/b panicked: init exploded",
            "exit app/a#1 shutdown",
            "start_failed app#1 failed to start child b: panicked: init exploded",
        ]
    );
}

#[test]
fn s1_3_flags_are_validated_before_the_children() {
    let probe = Probe::new();
    let err = Supervisor::builder("app")
        .period(Duration::ZERO)
        .child(probe.worker("a"))
        .child(probe.worker("a"))
        .build()
        .unwrap_err();
    assert_eq!(err, SpecError::ZeroPeriod);
    assert!(probe.take().is_empty());
}

#[test]
fn s8_8_duplicate_child_ids_are_rejected_before_any_start() {
    let probe = Probe::new();
    let err = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("a"))
        .build()
        .unwrap_err();
    assert_eq!(err, SpecError::DuplicateChildId { id: "a".into() });
    assert!(probe.take().is_empty());
}

#[test]
fn s8_4_significant_children_must_be_non_permanent_under_auto_shutdown() {
    let probe = Probe::new();
    // auto_shutdown never is checked first (L1463 before L1465).
    let err = Supervisor::builder("app")
        .child(probe.worker("s").significant(true))
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        SpecError::SignificantWithoutAutoShutdown { id: "s".into() }
    );
    let err = Supervisor::builder("app")
        .child(
            probe
                .worker("s")
                .restart(Restart::Transient)
                .significant(true),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        SpecError::SignificantWithoutAutoShutdown { id: "s".into() }
    );
    let err = Supervisor::builder("app")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(probe.worker("s").significant(true))
        .build()
        .unwrap_err();
    assert_eq!(err, SpecError::SignificantPermanent { id: "s".into() });
    for restart in [Restart::Transient, Restart::Temporary] {
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AllSignificant)
            .child(probe.worker("s").restart(restart).significant(true))
            .build()
            .unwrap();
    }
}
