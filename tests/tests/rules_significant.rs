//! S22: significant children and `auto_shutdown` (`any_significant`,
//! `all_significant`), and S29.2's typical use: a transient nested
//! supervisor that its parent does not restart after it shut itself down.

use supervise::{
    AutoShutdown, CallError, ChildSpec, Restart, SpecError, Supervisor, SupervisorBuilder,
    SupervisorHandle,
};
use supervise_tests::{bounded, render_children, Outcome, Probe};

async fn start(probe: &Probe, builder: SupervisorBuilder) -> SupervisorHandle {
    let spec = builder.build().unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    sup
}

fn significant(probe: &Probe, id: &str, restart: Restart) -> ChildSpec {
    probe.worker(id).restart(restart).significant(true)
}

#[tokio::test(start_paused = true)]
async fn s22_3_any_significant_stops_the_supervisor_when_a_significant_child_exits_normally() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s", Restart::Transient))
            .child(probe.worker("b")),
    )
    .await;
    probe.exit("app/s", Outcome::Normal);
    bounded("auto shutdown", sup.wait()).await;
    // No report; the other children are stopped first; reason shutdown.
    assert_eq!(
        probe.take(),
        [
            "exit app/s#1 normal",
            "exit app/b#1 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s22_1_any_temporary_significant_exit_stops_the_supervisor() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "t", Restart::Temporary)),
    )
    .await;
    probe.exit("app/t", Outcome::error("boom"));
    bounded("auto shutdown", sup.wait()).await;
    assert_eq!(
        probe.take(),
        [
            "exit app/t#1 boom",
            "child_terminated app/t boom",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s22_1_a_significant_child_that_is_restarted_never_triggers_auto_shutdown() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(significant(&probe, "s", Restart::Transient)),
    )
    .await;
    probe.exit("app/s", Outcome::error("boom"));
    probe.wait_for("started app/s#2").await;
    assert_eq!(
        probe.settled().await,
        [
            "exit app/s#1 boom",
            "child_terminated app/s boom",
            "restarting app/s",
            "init app/s#2",
            "started app/s#2",
        ]
    );
    assert!(!sup.is_stopped());
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s22_2_a_non_significant_child_never_triggers_auto_shutdown() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("plain").restart(Restart::Transient))
            .child(probe.worker("tmp").restart(Restart::Temporary))
            .child(significant(&probe, "s", Restart::Transient)),
    )
    .await;
    probe.exit("app/plain", Outcome::Normal);
    probe.exit("app/tmp", Outcome::Shutdown);
    probe.wait_for("exit app/tmp#1 shutdown").await;
    probe.wait_for("exit app/plain#1 normal").await;
    supervise_tests::settle().await;
    assert!(!sup.is_stopped());
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["s=app/s#1", "plain=undefined"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s22_4_all_significant_stops_when_no_significant_child_is_left_running() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .auto_shutdown(AutoShutdown::AllSignificant)
            .child(probe.worker("a"))
            .child(significant(&probe, "s1", Restart::Transient))
            .child(significant(&probe, "s2", Restart::Temporary)),
    )
    .await;
    probe.exit("app/s1", Outcome::Normal);
    probe.wait_for("exit app/s1#1 normal").await;
    supervise_tests::settle().await;
    assert!(!sup.is_stopped(), "s2 is still running");
    probe.exit("app/s2", Outcome::shutdown_with("done"));
    bounded("auto shutdown", sup.wait()).await;
    assert_eq!(
        probe.take(),
        [
            "exit app/s1#1 normal",
            "exit app/s2#1 {shutdown,done}",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s22_5_terminate_child_of_a_significant_child_does_not_auto_shutdown() {
    for auto in [AutoShutdown::AnySignificant, AutoShutdown::AllSignificant] {
        let probe = Probe::new();
        let sup = start(
            &probe,
            Supervisor::builder("app")
                .auto_shutdown(auto)
                .child(significant(&probe, "s1", Restart::Transient))
                .child(significant(&probe, "s2", Restart::Transient)),
        )
        .await;
        sup.terminate_child("s1").await.unwrap();
        assert_eq!(probe.settled().await, ["exit app/s1#1 shutdown"], "{auto}");
        assert!(!sup.is_stopped(), "{auto}");
        // The terminated child counts as not running for the next check.
        probe.exit("app/s2", Outcome::Normal);
        bounded("auto shutdown", sup.wait()).await;
        assert_eq!(
            probe.take(),
            ["exit app/s2#1 normal", "exit app#1 shutdown"],
            "{auto}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn s22_6_a_transient_nested_supervisor_that_shuts_itself_down_is_not_restarted() {
    let probe = Probe::new();
    let job = Supervisor::builder("job")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(probe.worker("step"))
        .child(significant(&probe, "main", Restart::Transient))
        .build()
        .unwrap();
    let sup = start(
        &probe,
        Supervisor::builder("app")
            .child(probe.worker("a"))
            .child(ChildSpec::supervisor("job", job).restart(Restart::Transient)),
    )
    .await;
    probe.exit("app/job/main", Outcome::Normal);
    probe.wait_for("exit app/job#1 shutdown").await;
    assert_eq!(
        probe.settled().await,
        [
            "exit app/job/main#1 normal",
            "exit app/job/step#1 shutdown",
            "exit app/job#1 shutdown",
        ]
    );
    assert!(!sup.is_stopped());
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["job=undefined", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s8_4_start_child_rejects_a_significant_child_with_the_spec_error() {
    let probe = Probe::new();
    let sup = start(&probe, Supervisor::builder("app").child(probe.worker("a"))).await;
    // S8.9: the error itself, not wrapped.
    assert_eq!(
        sup.start_child(significant(&probe, "s", Restart::Transient))
            .await
            .unwrap_err(),
        CallError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "s".into() })
    );
    assert!(probe.settled().await.is_empty(), "nothing was started");
    sup.stop().await.unwrap();

    let sup = start(
        &probe,
        Supervisor::builder("app2").auto_shutdown(AutoShutdown::AnySignificant),
    )
    .await;
    assert_eq!(
        sup.start_child(significant(&probe, "s", Restart::Permanent))
            .await
            .unwrap_err(),
        CallError::InvalidSpec(SpecError::SignificantPermanent { id: "s".into() })
    );
    sup.stop().await.unwrap();
}
