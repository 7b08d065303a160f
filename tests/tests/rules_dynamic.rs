//! Dynamic supervisors, rules the differential fuzzing against OTP 25 and
//! Elixir 1.14 found (each with its recorded scenario in
//! `tests/conformance/project/`, 135-139): children sharing an id, each
//! child's own shutdown timeout at the supervisor's stop, and terminating
//! a child whose restart is due.

use std::time::Duration;

use supervise::{
    ChildStatus, DynamicSupervisorSpec, Event, ExitReason, Shutdown, SupervisorHandle,
};
use supervise_tests::{bounded, settle, Behavior, InitStep, OnShutdown, Outcome, Probe};
use tokio::time::Instant;

async fn dynamic(probe: &Probe, spec: DynamicSupervisorSpec) -> SupervisorHandle {
    let sup = spec.start().await.unwrap();
    probe.watch_handle(&sup);
    sup
}

fn running(info: &supervise::ChildInfo) -> supervise::ChildRef {
    match &info.status {
        ChildStatus::Running(child) => child.clone(),
        other => panic!("not running: {other:?}"),
    }
}

/// Elixir's DynamicSupervisor starts a second child under a name that is
/// running; both live, and each incarnation's number names it among all
/// of that path's (OTP numbers per path): the second's restart is #3
/// while the first is still #1 (scenarios 135 and 136).
#[tokio::test(start_paused = true)]
async fn children_sharing_an_id_are_numbered_apart() {
    let probe = Probe::new();
    let sup = dynamic(
        &probe,
        DynamicSupervisorSpec::builder("pool").build().unwrap(),
    )
    .await;
    let first = sup.start_child(probe.worker("w1")).await.unwrap().unwrap();
    let second = sup.start_child(probe.worker("w1")).await.unwrap().unwrap();
    assert_eq!((first.incarnation(), second.incarnation()), (1, 2));
    second.kill();
    settle().await;
    let mut numbers: Vec<u64> = sup
        .which_children()
        .await
        .unwrap()
        .iter()
        .map(|c| running(c).incarnation())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 3]);
    sup.stop().await.unwrap();
}

/// S21: at a dynamic supervisor's stop every child is asked at once and
/// killed when its own shutdown timeout runs out, however they are
/// ordered: a child restarted earlier (started after the other) with a
/// 200 ms timeout is killed at 200 ms, not when the other's 500 ms run out
/// (scenario 137).
#[tokio::test(start_paused = true)]
async fn each_child_is_killed_at_its_own_timeout_at_the_stop() {
    let probe = Probe::new();
    let sup = dynamic(
        &probe,
        DynamicSupervisorSpec::builder("pool").build().unwrap(),
    )
    .await;
    for path in ["pool/a", "pool/b"] {
        probe.set(path, Behavior::new().on_shutdown(OnShutdown::Ignore));
    }
    sup.start_child(
        probe
            .worker("a")
            .shutdown(Shutdown::Timeout(Duration::from_millis(500))),
    )
    .await
    .unwrap();
    let b = sup
        .start_child(
            probe
                .worker("b")
                .shutdown(Shutdown::Timeout(Duration::from_millis(200))),
        )
        .await
        .unwrap()
        .unwrap();
    b.kill();
    settle().await;
    let mut events = sup.subscribe().unwrap();
    let stopped_at = Instant::now();
    bounded("stop", sup.stop()).await.unwrap();
    let mut killed = Vec::new();
    while let Some((at, event)) = events.try_recv_timed() {
        if let Event::Exited {
            path,
            reason: ExitReason::Killed,
            ..
        } = event
        {
            killed.push((path.to_string(), (at - stopped_at).as_millis()));
        }
    }
    assert_eq!(
        killed,
        [("pool/b".to_string(), 200), ("pool/a".to_string(), 500)]
    );
}

/// S17, S24, S30: a child whose restarts keep failing is found by
/// `terminate_child` with the incarnation that ran last (OTP's
/// `{restarting, OldPid}`): its retries stop, it is removed, and the counts
/// drop (scenarios 138 and 139). Both flavours.
#[tokio::test(start_paused = true)]
async fn terminate_child_stops_a_child_whose_restart_is_due() {
    for template in [false, true] {
        let probe = Probe::new();
        let failing = Behavior::new()
            .init_delay(Duration::from_millis(300))
            .init_on(1, InitStep::Ready)
            .fail_init("init_failed");
        let mut builder = DynamicSupervisorSpec::builder("pool").max_restarts(100);
        if template {
            builder = builder.template(probe.worker("tmpl"));
        }
        let sup = dynamic(&probe, builder.build().unwrap()).await;
        probe.set("pool/w1", failing);
        let w1 = sup.start_child(probe.worker("w1")).await.unwrap().unwrap();
        probe.exit("pool/w1", Outcome::Error("crash".into()));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listed = sup.which_children().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status, ChildStatus::Restarting);
        bounded("terminate_child", sup.terminate_child_ref(&w1))
            .await
            .unwrap();
        assert!(sup.which_children().await.unwrap().is_empty());
        let counts = sup.count_children().await.unwrap();
        assert_eq!((counts.active, counts.workers), (0, 0));
        // No retry comes later.
        probe.take();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            !probe.take().iter().any(|e| e.contains("pool/w1")),
            "the retries stopped"
        );
        sup.stop().await.unwrap();
    }
}

/// S24.3, S30.6: an id given to `terminate_child` is refused as such by a
/// `simple_one_for_one` supervisor, and simply not found among the
/// children of an Elixir-flavour one (fuzzing finding F1).
#[tokio::test(start_paused = true)]
async fn terminate_child_by_id_per_flavour() {
    let probe = Probe::new();
    let elixir = dynamic(
        &probe,
        DynamicSupervisorSpec::builder("pool").build().unwrap(),
    )
    .await;
    assert_eq!(
        elixir.terminate_child("nobody").await,
        Err(supervise::CallError::NotFound)
    );
    elixir.stop().await.unwrap();
    let simple = DynamicSupervisorSpec::builder("simple")
        .template(probe.worker("tmpl"))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(
        simple.terminate_child("nobody").await,
        Err(supervise::CallError::SimpleOneForOne)
    );
    simple.stop().await.unwrap();
}
