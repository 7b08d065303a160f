//! The `metrics` feature: children running, restarts, give-ups, shutdown
//! errors, dropped messages and start latency reach the facade.

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use supervise::{ChildSpec, Context, Exit, Supervisor, Worker};

/// Crashes once, then runs.
struct Flaky;

impl Worker for Flaky {
    type Message = ();

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        if ctx.incarnation() == 1 {
            return Err("first run fails".into());
        }
        std::future::pending::<()>().await;
        Ok(())
    }
}

type Snapshot = [(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)];

fn value<'a>(
    snapshot: &'a Snapshot,
    kind: MetricKind,
    name: &str,
    label: (&str, &str),
) -> Option<&'a DebugValue> {
    snapshot.iter().find_map(|(key, _, _, value)| {
        let k = key.key();
        (key.kind() == kind
            && k.name() == name
            && k.labels()
                .any(|l| l.key() == label.0 && l.value() == label.1))
        .then_some(value)
    })
}

#[test]
fn the_facade_sees_running_children_restarts_and_start_latency() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let app = Supervisor::builder("app")
                .child(ChildSpec::worker("flaky", || Flaky))
                .build()
                .unwrap()
                .start()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            app.stop().await.unwrap();
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    assert!(matches!(
        value(
            &snapshot,
            MetricKind::Counter,
            "supervise_restarts_total",
            ("child", "app/flaky")
        ),
        Some(DebugValue::Counter(1))
    ));
    // Two starts and two exits of app/flaky: none running at the end.
    let Some(DebugValue::Gauge(running)) = value(
        &snapshot,
        MetricKind::Gauge,
        "supervise_children_running",
        ("supervisor", "app"),
    ) else {
        panic!("no running gauge: {snapshot:#?}");
    };
    assert_eq!(running.into_inner(), 0.0);
    let Some(DebugValue::Histogram(starts)) = value(
        &snapshot,
        MetricKind::Histogram,
        "supervise_child_start_seconds",
        ("supervisor", "app"),
    ) else {
        panic!("no start latency: {snapshot:#?}");
    };
    assert_eq!(starts.len(), 2);
}

/// A metrics recorder that panics whenever a metric is registered.
struct PanickingRecorder;

impl metrics::Recorder for PanickingRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        panic!("a recorder that panics: {key}")
    }

    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        panic!("a recorder that panics: {key}")
    }

    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        panic!("a recorder that panics: {key}")
    }
}

/// A panicking metrics recorder changes no supervision decision (README,
/// "Reliability", fault 3): the flaky child is restarted, the give-up
/// happens at the intensity limit.
#[test]
fn a_panicking_recorder_changes_no_decision() {
    metrics::with_local_recorder(&PanickingRecorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let app = Supervisor::builder("app")
                .child(ChildSpec::worker("flaky", || Flaky))
                .build()
                .unwrap()
                .start()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            let children = app.which_children().await.unwrap();
            let supervise::ChildStatus::Running(flaky) = &children[0].status else {
                panic!("flaky runs again");
            };
            assert_eq!(flaky.incarnation(), 2);
            app.stop().await.unwrap();
            assert_eq!(app.exit_reason(), Some(supervise::ExitReason::Shutdown));
        });
    });
}
