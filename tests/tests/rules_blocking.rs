//! S18.3 with a child that blocks its thread: it can be neither asked nor
//! aborted in time, yet stopping the tree completes, the child is reported
//! killed, and its siblings are stopped in order. Runs on a real
//! multi-threaded runtime (a blocked thread cannot be simulated on a paused
//! clock); asserts order and outcome, never durations.

use std::time::Duration;

use supervise::{Event, ExitReason, Shutdown, Supervisor};
use supervise_tests::{bounded, Behavior, OnShutdown, Probe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s18_3_a_child_blocking_its_thread_is_reported_killed_and_the_tree_stops() {
    let probe = Probe::new();
    probe.set(
        "app/blocker",
        Behavior::new()
            .on_shutdown(OnShutdown::Ignore)
            .block_in_run(Duration::from_millis(300)),
    );
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(
            probe
                .worker("blocker")
                .shutdown(Shutdown::Timeout(Duration::from_millis(50))),
        )
        .child(probe.worker("c"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    assert_eq!(
        probe.take(),
        [
            "init app/a#1",
            "started app/a#1",
            "init app/blocker#1",
            "started app/blocker#1",
            "init app/c#1",
            "started app/c#1",
            "started app#1",
        ]
    );
    bounded("stop", sup.stop()).await.unwrap();
    assert!(sup.is_stopped());
    // Whether the blocker ever got to see the request is up to the
    // scheduler; the outcome is not.
    let log: Vec<String> = probe
        .take()
        .into_iter()
        .filter(|e| !e.starts_with("stop_requested"))
        .collect();
    assert_eq!(
        log,
        [
            "exit app/c#1 shutdown",
            "exit app/blocker#1 killed",
            "shutdown_error app/blocker killed",
            "exit app/a#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
    let blocker_exit = probe.raw_events().into_iter().find_map(|e| match e {
        Event::Exited { path, reason, .. } if &*path == "app/blocker" => Some(reason),
        _ => None,
    });
    assert_eq!(blocker_exit, Some(ExitReason::Killed));
}
