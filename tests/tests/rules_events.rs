//! The event stream: S2.2 (a nested supervisor is started after its
//! children), one causal order for every subscriber, reports that name the
//! supervisor and the child (S10, S16.1, S19), and the stream's end.

use supervise::{ChildKind, ChildSpec, Context, Event, Exit, Supervisor, Worker};
use supervise_tests::{render_event, Outcome, Probe};

#[tokio::test(start_paused = true)]
async fn s2_2_a_nested_supervisor_is_reported_started_after_its_children() {
    let probe = Probe::new();
    let inner = Supervisor::builder("inner")
        .child(probe.worker("z"))
        .build()
        .unwrap();
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .child(ChildSpec::supervisor("inner", inner))
        .child(probe.worker("y"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    let mut raw = Vec::new();
    while let Some(event) = events.try_recv() {
        raw.push(event);
    }
    let started: Vec<String> = raw.iter().map(render_event).collect();
    assert_eq!(
        started,
        [
            "started app/a#1",
            "started app/sub/x#1",
            "started app/sub/inner/z#1",
            "started app/sub/inner#1",
            "started app/sub/y#1",
            "started app/sub#1",
            "started app/b#1",
            "started app#1",
        ]
    );
    // A supervisor's Started event carries a reference to it, with its handle.
    let Event::Started { child } = &raw[5] else {
        unreachable!()
    };
    assert_eq!(child.kind(), ChildKind::Supervisor);
    let handle = child.supervisor().expect("a supervisor child has a handle");
    assert_eq!(handle.path(), "app/sub");
    assert_eq!(handle.count_children().await.unwrap().active, 3);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn events_every_subscriber_sees_every_event_in_the_same_order() {
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    let mut first = spec.subscribe();
    let mut second = spec.subscribe();
    let sup = spec.start().await.unwrap();
    // A subscription through the handle sees events from now on.
    let mut late = sup.subscribe().expect("the tree is running");
    probe.exit("app/sub/x", Outcome::error("boom"));
    probe.exit("app/a", Outcome::panic("oops"));
    supervise_tests::settle().await;
    sup.stop().await.unwrap();
    let drain = |stream: &mut supervise::EventStream| {
        let mut out = Vec::new();
        while let Some(event) = stream.try_recv() {
            out.push(render_event(&event));
        }
        out
    };
    let first = drain(&mut first);
    let second = drain(&mut second);
    let late = drain(&mut late);
    assert_eq!(first, second);
    assert_eq!(
        first[..4],
        [
            "started app/a#1",
            "started app/sub/x#1",
            "started app/sub#1",
            "started app#1"
        ]
    );
    assert_eq!(late, first[4..]);
    assert_eq!(late.last().map(String::as_str), Some("exit app#1 shutdown"));
}

#[tokio::test(start_paused = true)]
async fn s16_1_reports_name_the_supervisor_and_the_child() {
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .max_restarts(0)
        .child(probe.worker("x"))
        .build()
        .unwrap();
    let spec = Supervisor::builder("app")
        .child(ChildSpec::supervisor("sub", sub))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.exit("app/sub/x", Outcome::error("boom"));
    probe.wait_for("started app/sub#2").await;
    let reports: Vec<String> = probe
        .raw_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ChildTerminated {
                supervisor,
                child,
                reason,
            } => Some(format!(
                "child_terminated by {supervisor}: {child} {reason}"
            )),
            Event::GaveUp { supervisor, child } => Some(format!("gave_up {supervisor}: {child}")),
            Event::Restarting { supervisor, child } => {
                Some(format!("restarting by {supervisor}: {child}"))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        reports,
        [
            "child_terminated by app/sub: app/sub/x boom",
            "gave_up app/sub: app/sub/x",
            "child_terminated by app: app/sub shutdown",
            "restarting by app: app/sub",
        ]
    );
    sup.stop().await.unwrap();
}

struct Quick;

impl Worker for Quick {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn events_the_stream_ends_once_the_tree_and_its_handles_are_gone() {
    let spec = Supervisor::builder("app")
        .child(ChildSpec::worker("q", || Quick))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    sup.stop().await.unwrap();
    drop(sup);
    let mut seen = Vec::new();
    let end = supervise_tests::bounded("the stream ends", async {
        while let Some(event) = events.recv().await {
            seen.push(render_event(&event));
        }
    });
    end.await;
    assert_eq!(
        seen,
        [
            "started app/q#1",
            "started app#1",
            "exit app/q#1 shutdown",
            "exit app#1 shutdown",
        ]
    );
}
