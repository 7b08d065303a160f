//! S4/S5: a worker's init returning `Init::Ignore` (OTP's `ignore`) at the
//! tree's start, in `start_child`, in `restart_child` and in an automatic
//! restart.

use supervise::{CallError, ChildCounts, Restart, Supervisor};
use supervise_tests::{bounded, render_children, Behavior, InitStep, Outcome, Probe};

fn ignoring() -> Behavior {
    Behavior::new().init_otherwise(InitStep::Ignore)
}

#[tokio::test(start_paused = true)]
async fn s5_1_an_ignoring_temporary_child_is_removed_at_init_and_the_others_are_kept() {
    let probe = Probe::new();
    for path in ["app/p", "app/tr", "app/t"] {
        probe.set(path, ignoring());
    }
    let spec = Supervisor::builder("app")
        .child(probe.worker("p"))
        .child(probe.worker("tr").restart(Restart::Transient))
        .child(probe.worker("t").restart(Restart::Temporary))
        .child(probe.worker("a"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    // S4.2: ignore is not an error: the start goes on.
    assert_eq!(
        probe.take(),
        [
            "init app/p#1",
            "ignored app/p#1",
            "init app/tr#1",
            "ignored app/tr#1",
            "init app/t#1",
            "ignored app/t#1",
            "init app/a#1",
            "started app/a#1",
            "started app#1",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["a=app/a#1", "tr=undefined", "p=undefined"]
    );
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCounts {
            specs: 3,
            active: 1,
            supervisors: 0,
            workers: 3
        }
    );
    assert_eq!(
        sup.get_childspec("t").await.unwrap_err(),
        CallError::NotFound
    );
    // Not running children are skipped at shutdown.
    sup.stop().await.unwrap();
    assert_eq!(
        probe.take(),
        ["exit app/a#1 shutdown", "exit app#1 shutdown"]
    );
}

#[tokio::test(start_paused = true)]
async fn s5_2_start_child_that_ignores_returns_none_and_saves_only_non_temporary_children() {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .build()
        .unwrap();
    let sup = spec.start().await.unwrap();
    probe.set("app/t", ignoring());
    probe.set("app/p", ignoring());
    assert_eq!(
        sup.start_child(probe.worker("t").restart(Restart::Temporary))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        sup.get_childspec("t").await.unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(sup.start_child(probe.worker("p")).await.unwrap(), None);
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["p=undefined", "a=app/a#1"]
    );
    assert_eq!(
        sup.start_child(probe.worker("p")).await.unwrap_err(),
        CallError::AlreadyPresent
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s5_3_restart_child_of_a_child_that_ignores_returns_none() {
    let probe = Probe::new();
    probe.set("app/p", ignoring());
    let spec = Supervisor::builder("app")
        .child(probe.worker("p"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    assert_eq!(sup.restart_child("p").await.unwrap(), None);
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["p=undefined"]
    );
    probe.set("app/p", Behavior::new());
    let child = sup.restart_child("p").await.unwrap().expect("started");
    assert_eq!(child.to_string(), "app/p#3");
    assert_eq!(
        probe.take(),
        [
            "init app/p#2",
            "ignored app/p#2",
            "init app/p#3",
            "started app/p#3"
        ]
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s5_4_an_automatic_restart_that_ignores_leaves_the_child_stopped_and_still_counts() {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .max_restarts(1)
        .child(probe.worker("a"))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    probe.set("app/a", Behavior::new().init_on(2, InitStep::Ignore));
    probe.exit("app/a", Outcome::error("boom"));
    probe.wait_for("ignored app/a#2").await;
    // No retry, no error.
    assert_eq!(
        probe.settled().await,
        [
            "exit app/a#1 boom",
            "child_terminated app/a boom",
            "restarting app/a",
            "init app/a#2",
            "ignored app/a#2",
        ]
    );
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        ["b=app/b#1", "a=undefined"]
    );
    // restart_child is not counted (S25.3); the ignored restart was: the
    // next crash is the second restart within the period, one too many.
    sup.restart_child("a").await.unwrap().expect("started");
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
