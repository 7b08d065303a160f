//! The tree snapshot and its renderings, restart history, and tracing.

use std::time::Duration;

use supervise::{
    Backoff, ChildSpec, ChildState, Context, Exit, ExitReason, Strategy, Supervisor,
    SupervisorKind, Worker,
};
use supervise_tests::Idle;

/// Crashes at once, every time.
struct Crasher;

impl Worker for Crasher {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Err("boom".into())
    }
}

fn financial_app(backoff: bool) -> supervise::SupervisorSpec {
    let payments = Supervisor::builder("payments")
        .child(ChildSpec::worker("processor", || Idle))
        .child(ChildSpec::worker("tasks", || Idle))
        .build()
        .unwrap();
    let mut flaky = ChildSpec::worker("notifier", || Crasher);
    if backoff {
        flaky = flaky.backoff(Backoff::fixed(Duration::from_secs(30)));
    }
    let notifications = Supervisor::builder("notifications")
        .max_restarts(100)
        .child(flaky)
        .build()
        .unwrap();
    Supervisor::builder("app")
        .strategy(Strategy::RestForOne)
        .child(ChildSpec::worker("db", || Idle))
        .child(ChildSpec::supervisor("payments", payments))
        .child(ChildSpec::supervisor("notifications", notifications))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_shows_a_child_backing_off_during_its_restart() {
    let app = financial_app(true).start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let tree = app.snapshot().await.unwrap();
    assert_eq!(tree.kind, SupervisorKind::Static(Strategy::RestForOne));
    let (_, notifier) = tree
        .walk()
        .into_iter()
        .find(|(_, c)| &*c.path == "app/notifications/notifier")
        .unwrap();
    let ChildState::BackingOff { until } = notifier.state else {
        panic!("expected backing off, got {:?}", notifier.state);
    };
    assert_eq!(
        until - tokio::time::Instant::now(),
        Duration::from_secs(30) - Duration::from_millis(1)
    );
    assert_eq!(notifier.incarnation, 1);
    assert_eq!(notifier.restarts_in_window, 1);
    let last = notifier.last_exit().unwrap();
    assert_eq!(last.reason, ExitReason::error("boom"));
    assert_eq!(last.incarnation, 1);
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_tree_renders_as_the_seeds_draw_it() {
    let app = financial_app(true).start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let tree = app.snapshot().await.unwrap();
    let expected = "\
app (rest_for_one)
├── db
├── payments (one_for_one)
│   ├── processor
│   └── tasks
└── notifications (one_for_one)
    └── notifier [backing off]
";
    assert_eq!(tree.to_string(), expected);
    let detailed = "\
app (rest_for_one)
├── db #1
├── payments (one_for_one) #1
│   ├── processor #1
│   └── tasks #1
└── notifications (one_for_one) #1
    └── notifier [backing off] #1, 1 restart, last exit: boom
";
    assert_eq!(format!("{tree:#}"), detailed);
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn mermaid_and_dot_mark_crashed_and_restarting_children() {
    let app = financial_app(true).start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    // Crash the db: it restarts at once (no backoff of its own) and shows
    // as crashed; the notifier waits on its backoff.
    let db = app.which_children().await.unwrap();
    let supervise::ChildStatus::Running(db) = &db.last().unwrap().status else {
        panic!()
    };
    db.kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let tree = app.snapshot().await.unwrap();
    let mermaid = tree.to_mermaid();
    assert_eq!(
        mermaid,
        "\
flowchart TD
    n0[\"app (rest_for_one)\"]
    n0 --> n1[\"db\"]
    n0 --> n2[\"payments (one_for_one)\"]
    n2 --> n3[\"processor\"]
    n2 --> n4[\"tasks\"]
    n0 --> n5[\"notifications (one_for_one)\"]
    n5 --> n6[\"notifier\"]
    class n1 crashed
    class n6 restarting
    classDef crashed fill:#f8d7da,stroke:#c0392b
    classDef restarting fill:#fff3cd,stroke:#d4a017
    classDef stopped fill:#e2e3e5,stroke:#6c757d
"
    );
    let dot = tree.to_dot();
    assert!(dot.starts_with("digraph supervision_tree {\n"));
    assert!(dot.contains("\"app/db\" [label=\"db\", fillcolor=\"#f8d7da\"];"));
    assert!(
        dot.contains("\"app/notifications/notifier\" [label=\"notifier\", fillcolor=\"#fff3cd\"];")
    );
    assert!(dot.contains("\"app/payments\" -> \"app/payments/processor\";"));
    assert!(dot.ends_with("}\n"));
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_restart_history_keeps_only_the_last_exits() {
    let app = Supervisor::builder("app")
        .max_restarts(1000)
        .history(3)
        .child(
            ChildSpec::worker("c", || Crasher).backoff(Backoff::fixed(Duration::from_millis(10))),
        )
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(105)).await;
    let tree = app.snapshot().await.unwrap();
    let child = &tree.children[0];
    let incarnations: Vec<u64> = child.history.iter().map(|e| e.incarnation).collect();
    assert_eq!(child.incarnation, 11);
    assert_eq!(incarnations, [9, 10, 11]);
    app.stop().await.unwrap();
}

/// A bounded subscription keeps at most its capacity and counts what it
/// left out: what a subscriber reads plus what it is told it missed is
/// everything the tree emitted, in order (an unbounded subscription beside
/// it sees all of it).
#[tokio::test(start_paused = true)]
async fn a_bounded_subscription_counts_what_it_missed() {
    let mut builder = supervise::Supervisor::builder("app");
    for i in 0..20 {
        builder = builder.child(supervise::ChildSpec::worker(format!("w{i}"), || {
            supervise_tests::Idle
        }));
    }
    let spec = builder.build().unwrap();
    let mut all = spec.subscribe();
    let mut bounded = spec.subscribe_bounded(4);
    let sup = spec.start().await.unwrap();
    // Read a few, then let the rest pile up.
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(bounded.recv().await.unwrap());
    }
    sup.stop().await.unwrap();
    let mut missed = 0;
    while let Some(event) = bounded.try_recv() {
        match event {
            supervise::Event::Missed { count } => missed += count,
            other => seen.push(other),
        }
    }
    let mut emitted = 0u64;
    while all.try_recv().is_some() {
        emitted += 1;
    }
    assert!(missed > 0, "the subscription filled up");
    assert_eq!(seen.len() as u64 + missed, emitted);
    // What it read is in the tree's order: the first events are the first
    // starts.
    assert!(matches!(&seen[0], supervise::Event::Started { child } if child.path() == "app/w0"));
}
