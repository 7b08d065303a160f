//! Faults found by attacking the public API from outside, one test each
//! (README, "Reliability"): extreme values the builders and parsers accept
//! must not panic the runtime, a panicking observer must not change a
//! supervision decision, and nothing is lost uncounted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use supervise::{
    Backoff, ChildSpec, ChildState, ChildStatus, Context, DynamicSupervisor, DynamicSupervisorSpec,
    Exit, ExitReason, PartitionSupervisor, Shutdown, SpecError, Supervisor, Worker,
};
use supervise_tests::{bounded, settle, Idle};

/// A worker that handles shutdown and takes `linger` to stop.
#[derive(Clone)]
struct Lingering {
    linger: Duration,
}

impl Worker for Lingering {
    type Message = ();

    fn handles_shutdown(&self) -> bool {
        true
    }

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        tokio::time::sleep(self.linger).await;
        Err(Exit::shutdown())
    }
}

/// Fault 1: a shutdown timeout too long to be added to the clock is no
/// deadline (it behaves as `infinity`), by `terminate_child` and at stop,
/// static and dynamic, whether built or parsed.
#[tokio::test(start_paused = true)]
async fn a_shutdown_too_long_for_the_clock_means_no_deadline() {
    let parsed: Shutdown = "18446744073709551615s".parse().unwrap();
    assert_eq!(parsed, Shutdown::Timeout(Duration::from_secs(u64::MAX)));
    let linger = Lingering {
        linger: Duration::from_secs(60),
    };
    let worker = linger.clone();
    let sup = Supervisor::builder("app")
        .child(ChildSpec::worker("a", move || worker.clone()).shutdown(parsed))
        .child(ChildSpec::worker("b", || Idle).shutdown(Shutdown::Timeout(Duration::MAX)))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    // The lingering child is waited for, as with `infinity`.
    bounded("terminate_child", sup.terminate_child("a"))
        .await
        .unwrap();
    assert!(!sup.is_stopped());
    bounded("restart_child", sup.restart_child("a"))
        .await
        .unwrap();
    bounded("stop", sup.stop()).await.unwrap();
    assert_eq!(sup.exit_reason(), Some(ExitReason::Shutdown));

    let dynamic = DynamicSupervisorSpec::builder("pool")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let worker = linger.clone();
    dynamic
        .start_child(
            ChildSpec::worker("w", move || worker.clone())
                .shutdown(Shutdown::Timeout(Duration::MAX)),
        )
        .await
        .unwrap();
    bounded("dynamic stop", dynamic.stop()).await.unwrap();
    assert_eq!(dynamic.exit_reason(), Some(ExitReason::Shutdown));
}

/// Fault 7: backoff values the builder accepts saturate at run time. A
/// fixed `Duration::MAX` backoff waits forever (the child shows as backing
/// off), a NaN jitter is no jitter and an infinite one full jitter.
#[tokio::test(start_paused = true)]
async fn extreme_backoff_values_saturate() {
    let starts = Arc::new(AtomicU64::new(0));
    let counter = starts.clone();
    let sup = Supervisor::builder("app")
        .child(
            ChildSpec::worker("forever", move || {
                counter.fetch_add(1, Ordering::SeqCst);
                Idle
            })
            .backoff(Backoff::fixed(Duration::MAX)),
        )
        .child(
            ChildSpec::worker("nan", || Idle)
                .backoff(Backoff::fixed(Duration::from_millis(100)).jitter(f64::NAN)),
        )
        .child(ChildSpec::worker("inf", || Idle).backoff(
            Backoff::exponential(Duration::from_millis(100), Duration::MAX).jitter(f64::INFINITY),
        ))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    for id in ["forever", "nan", "inf"] {
        let children = sup.which_children().await.unwrap();
        let child = children
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
            .unwrap();
        let ChildStatus::Running(child) = &child.status else {
            panic!("{id} is running")
        };
        child.kill();
        settle().await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let snapshot = sup.snapshot().await.unwrap();
    let state = |id: &str| {
        snapshot
            .children
            .iter()
            .find(|c| c.id.as_ref() == id)
            .map(|c| c.state)
            .unwrap()
    };
    assert!(matches!(state("forever"), ChildState::BackingOff { .. }));
    assert_eq!(state("nan"), ChildState::Running);
    assert_eq!(state("inf"), ChildState::Running);
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    bounded("stop", sup.stop()).await.unwrap();
}

/// A dynamic child that idles.
#[supervise::worker(restart = temporary)]
#[derive(Clone)]
struct Job;

impl Worker for Job {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Fault 8 (and Elixir's "at least one"): a partition count that cannot
/// be used is a typed error, never a panic or a silent single partition.
#[test]
fn a_partition_count_that_cannot_be_used_is_a_typed_error() {
    for partitions in [0, usize::MAX, usize::MAX / 2] {
        let err =
            PartitionSupervisor::new(DynamicSupervisor::<Job>::new(), partitions).unwrap_err();
        assert_eq!(err, SpecError::InvalidPartitions { partitions });
    }
    assert!(PartitionSupervisor::new(DynamicSupervisor::<Job>::new(), 1).is_ok());
}
