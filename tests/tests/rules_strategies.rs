//! Restart strategies: S9 (child order), S11 (one_for_one), S12
//! (one_for_all), S13 (rest_for_one), S14 (exits that are not restarts),
//! S17.4 (a group restart that fails midway).

use supervise::{Restart, Strategy, Supervisor, SupervisorHandle};
use supervise_tests::{render_children, Behavior, Outcome, Probe};

async fn start(
    probe: &Probe,
    strategy: Strategy,
    children: &[(&str, Restart)],
) -> SupervisorHandle {
    let mut builder = Supervisor::builder("app")
        .strategy(strategy)
        .max_restarts(10);
    for (id, restart) in children {
        builder = builder.child(probe.worker(id).restart(*restart));
    }
    let spec = builder.build().unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    sup
}

const P: Restart = Restart::Permanent;

#[tokio::test(start_paused = true)]
async fn s11_one_for_one_restarts_only_the_failed_child_in_place() {
    let probe = Probe::new();
    let sup = start(&probe, Strategy::OneForOne, &[("a", P), ("b", P), ("c", P)]).await;
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/b#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "restarting app/b",
            "init app/b#2",
            "started app/b#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#1", "b=app/b#2", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "exit app/c#1 shutdown",
            "exit app/b#2 shutdown",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s12_1_one_for_all_stops_the_others_in_reverse_then_starts_all_in_order() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::OneForAll,
        &[("a", P), ("b", P), ("c", P), ("d", P)],
    )
    .await;
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/d#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "restarting app/b",
            "exit app/d#1 shutdown",
            "exit app/c#1 shutdown",
            "exit app/a#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/b#2",
            "started app/b#2",
            "init app/c#2",
            "started app/c#2",
            "init app/d#2",
            "started app/d#2",
        ]
    );
    // S9.3: the order is unchanged after a group restart.
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["d=app/d#2", "c=app/c#2", "b=app/b#2", "a=app/a#2"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s12_2_one_for_all_terminates_and_drops_running_temporary_siblings() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::OneForAll,
        &[("a", P), ("t", Restart::Temporary), ("c", P)],
    )
    .await;
    probe.exit("app/c", Outcome::error("boom"));
    probe.wait_for("started app/c#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/c#1 boom",
            "child_terminated app/c boom",
            "restarting app/c",
            "exit app/t#1 shutdown",
            "exit app/a#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/c#2",
            "started app/c#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#2", "a=app/a#2"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s12_3_one_for_all_starts_a_transient_sibling_that_had_exited_normally() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::OneForAll,
        &[("a", P), ("tr", Restart::Transient), ("c", P)],
    )
    .await;
    probe.exit("app/tr", Outcome::Normal);
    probe.wait_for("exit app/tr#1 normal").await;
    // S14.1: a transient child's normal exit restarts nothing.
    assert_eq!(probe.settled().await, ["exit app/tr#1 normal"]);
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#1", "tr=undefined", "a=app/a#1"]
    );
    probe.exit("app/c", Outcome::error("boom"));
    probe.wait_for("started app/c#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/c#1 boom",
            "child_terminated app/c boom",
            "restarting app/c",
            "exit app/a#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/tr#2",
            "started app/tr#2",
            "init app/c#2",
            "started app/c#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["c=app/c#2", "tr=app/tr#2", "a=app/a#2"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s12_4_a_group_restart_counts_as_one_restart() {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .strategy(Strategy::OneForAll)
        .max_restarts(1)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/c#2").await;
    supervise_tests::settle().await;
    assert!(!sup.is_stopped());
    probe.take();
    probe.exit("app/a", Outcome::error("boom"));
    sup.wait().await;
    assert_eq!(
        probe.take(),
        [
            "exit app/a#2 boom",
            "child_terminated app/a boom",
            "gave_up app app/a",
            "exit app/c#2 shutdown",
            "exit app/b#2 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s13_1_rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::RestForOne,
        &[("a", P), ("b", P), ("c", P), ("d", P)],
    )
    .await;
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/d#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "restarting app/b",
            "exit app/d#1 shutdown",
            "exit app/c#1 shutdown",
            "init app/b#2",
            "started app/b#2",
            "init app/c#2",
            "started app/c#2",
            "init app/d#2",
            "started app/d#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["d=app/d#2", "c=app/c#2", "b=app/b#2", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s13_2_rest_for_one_drops_temporary_children_after_the_failed_one() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::RestForOne,
        &[("a", P), ("b", P), ("t", Restart::Temporary), ("d", P)],
    )
    .await;
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/d#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "restarting app/b",
            "exit app/d#1 shutdown",
            "exit app/t#1 shutdown",
            "init app/b#2",
            "started app/b#2",
            "init app/d#2",
            "started app/d#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["d=app/d#2", "b=app/b#2", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s9_2_a_dynamically_added_child_comes_after_every_static_child() {
    let probe = Probe::new();
    let sup = start(&probe, Strategy::RestForOne, &[("a", P), ("b", P)]).await;
    sup.start_child(probe.worker("dyn")).await.unwrap();
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["dyn=app/dyn#1", "b=app/b#1", "a=app/a#1"]
    );
    probe.take();
    // Included in the rest_for_one restart of the first static child.
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for("started app/dyn#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "exit app/dyn#1 shutdown",
            "exit app/b#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/b#2",
            "started app/b#2",
            "init app/dyn#2",
            "started app/dyn#2",
        ]
    );
    // And stopped first.
    sup.stop().await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "exit app/dyn#2 shutdown",
            "exit app/b#2 shutdown",
            "exit app/a#2 shutdown",
            "exit app#1 shutdown",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn s14_1_exits_that_are_not_restarted_never_restart_siblings() {
    for strategy in [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
    ] {
        let probe = Probe::new();
        let sup = start(
            &probe,
            strategy,
            &[
                ("tmp", Restart::Temporary),
                ("tr", Restart::Transient),
                ("c", P),
            ],
        )
        .await;
        probe.exit("app/tmp", Outcome::error("boom"));
        probe.wait_for("child_terminated app/tmp boom").await;
        assert_eq!(
            probe.settled().await,
            ["exit app/tmp#1 boom", "child_terminated app/tmp boom"],
            "{strategy}"
        );
        probe.exit("app/tr", Outcome::shutdown_with("done"));
        probe.wait_for("exit app/tr#1 {shutdown,done}").await;
        assert_eq!(
            probe.settled().await,
            ["exit app/tr#1 {shutdown,done}"],
            "{strategy}"
        );
        assert_eq!(
            render_children(&sup.which_children().await.unwrap()),
            ["c=app/c#1", "tr=undefined"],
            "{strategy}"
        );
        sup.stop().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn s17_4_one_for_all_failing_midway_retries_the_whole_group() {
    let probe = Probe::new();
    let sup = start(&probe, Strategy::OneForAll, &[("a", P), ("b", P), ("c", P)]).await;
    probe.set(
        "app/b",
        Behavior::new().init_on(2, supervise_tests::InitStep::Fail("bad".into())),
    );
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for("started app/c#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "exit app/c#1 shutdown",
            "exit app/b#1 shutdown",
            "init app/a#2",
            "started app/a#2",
            "init app/b#2",
            "start_failed app/b#2 bad",
            "start_error app/b bad",
            // the retry: the whole group again, a#2 included
            "restarting app/b",
            "exit app/a#2 shutdown",
            "init app/a#3",
            "started app/a#3",
            "init app/b#3",
            "started app/b#3",
            "init app/c#2",
            "started app/c#2",
        ]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s17_4_rest_for_one_retry_splits_at_the_failed_child() {
    let probe = Probe::new();
    let sup = start(
        &probe,
        Strategy::RestForOne,
        &[("a", P), ("b", P), ("c", P), ("d", P)],
    )
    .await;
    probe.set(
        "app/c",
        Behavior::new().init_on(2, supervise_tests::InitStep::Fail("bad".into())),
    );
    probe.exit("app/b", Outcome::error("boom"));
    probe.wait_for("started app/d#2").await;
    assert_eq!(
        probe.take(),
        [
            "exit app/b#1 boom",
            "child_terminated app/b boom",
            "restarting app/b",
            "exit app/d#1 shutdown",
            "exit app/c#1 shutdown",
            "init app/b#2",
            "started app/b#2",
            "init app/c#2",
            "start_failed app/c#2 bad",
            "start_error app/c bad",
            // the retry starts at c: b#2 is not touched again
            "restarting app/c",
            "init app/c#3",
            "started app/c#3",
            "init app/d#2",
            "started app/d#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["d=app/d#2", "c=app/c#3", "b=app/b#2", "a=app/a#1"]
    );
    sup.stop().await.unwrap();
}
