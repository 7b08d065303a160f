//! The tree snapshot and its renderings, restart history, and tracing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    Backoff, ChildSpec, ChildState, Context, Exit, ExitReason, Strategy, Supervisor,
    SupervisorKind, Worker,
};

struct Idle;

impl Worker for Idle {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

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
    └── notifier [backing off] #1, 1 restarts, last exit: boom
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
    app[\"app (rest_for_one)\"]
    app --> app_db[\"db\"]
    app --> app_payments[\"payments (one_for_one)\"]
    app_payments --> app_payments_processor[\"processor\"]
    app_payments --> app_payments_tasks[\"tasks\"]
    app --> app_notifications[\"notifications (one_for_one)\"]
    app_notifications --> app_notifications_notifier[\"notifier\"]
    class app_db crashed
    class app_notifications_notifier restarting
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

/// Collects the spans and events a subscriber sees.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

impl<S> tracing_subscriber::Layer<S> for Collect
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push(format!("span {}{}", attrs.metadata().name(), fields.0));
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let scope: Vec<String> = ctx
            .event_scope(event)
            .map(|s| s.from_root().map(|s| s.name().to_string()).collect())
            .unwrap_or_default();
        self.0.lock().unwrap().push(format!(
            "{} [{}]{}",
            event.metadata().level(),
            scope.join(">"),
            fields.0
        ));
    }
}

#[derive(Default)]
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

/// Logs from inside its own span, then crashes on its first run.
struct Chatty;

impl Worker for Chatty {
    type Message = ();

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        tracing::info!(worker_note = "hello");
        if ctx.incarnation() == 1 {
            return Err("first run fails".into());
        }
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_sees_supervisor_and_child_spans_with_their_fields() {
    use tracing_subscriber::layer::SubscriberExt;
    let collect = Collect::default();
    let subscriber = tracing_subscriber::registry().with(collect.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = Supervisor::builder("app")
        .child(ChildSpec::worker("chatty", || Chatty))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    app.stop().await.unwrap();
    let lines = collect.0.lock().unwrap().clone();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("span child path=app incarnation=1"), "{lines:#?}");
    assert!(has("span supervisor path=app"), "{lines:#?}");
    assert!(
        has("span child path=app/chatty incarnation=1"),
        "{lines:#?}"
    );
    assert!(
        has("span child path=app/chatty incarnation=2"),
        "{lines:#?}"
    );
    // The worker's own event nests under its child span.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INFO [child>supervisor>child]") && l.contains("worker_note")),
        "{lines:#?}"
    );
    // A crash is a warning with its reason; a start is at debug level.
    assert!(
        lines.iter().any(|l| l.starts_with("WARN")
            && l.contains("child crashed")
            && l.contains("reason=first run fails")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG") && l.contains("child started")),
        "{lines:#?}"
    );
}
