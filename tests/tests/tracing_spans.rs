//! A `tracing` subscriber sees the `supervisor` and `child` spans with
//! their fields, the worker's own events nested in them, and the runtime's
//! events at their levels. (One test in its own binary: tracing caches
//! callsite interest process-wide, so a test without a subscriber running
//! on another thread could hide events from this one.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{ChildSpec, Context, Exit, Supervisor, Worker};

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

/// A message carries the span that was current where it was sent, when a
/// subscriber records spans: `Context::recv_traced` hands it to the
/// worker, so a trace goes on from the caller into the handler.
#[tokio::test(start_paused = true)]
async fn a_message_carries_the_senders_span() {
    struct Traced(tokio::sync::mpsc::UnboundedSender<Option<&'static str>>);

    impl supervise::Worker for Traced {
        type Message = supervise::Reply<()>;

        async fn run(
            self,
            mut ctx: supervise::Context<Self::Message>,
        ) -> Result<(), supervise::Exit> {
            while let Some((reply, caller)) = ctx.recv_traced().await {
                let _ = self.0.send(caller.metadata().map(|m| m.name()));
                let _ = reply.send(());
            }
            Ok(())
        }
    }

    let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
    let (tx, mut names) = tokio::sync::mpsc::unbounded_channel();
    let (spec, traced) =
        supervise::ChildSpec::worker_with_handle("traced", move || Traced(tx.clone()));
    let sup = supervise::Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    {
        let span = tracing::info_span!("caller");
        let _entered = span.enter();
        traced.call(|reply| reply).await.unwrap();
    }
    traced.call(|reply| reply).await.unwrap();
    assert_eq!(names.recv().await, Some(Some("caller")));
    // Outside any span, the message carries none.
    assert_eq!(names.recv().await, Some(None));
    sup.stop().await.unwrap();
}

/// A handler-style worker handles each message in a `handle` span whose
/// parent is the span the message was sent from: the caller's trace goes
/// on into the handler, and the handler's events show under both.
#[tokio::test(start_paused = true)]
async fn a_handler_runs_in_a_span_under_the_callers() {
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone)]
    struct Greeter;

    #[supervise::handlers]
    impl Greeter {
        #[call]
        fn greet(&mut self, name: String) -> String {
            tracing::info!(%name, "greeting");
            format!("hello {name}")
        }
    }

    let collect = Collect::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(collect.clone()));
    let (spec, greeter) = ChildSpec::worker_with_handle("greeter", || Greeter);
    let sup = Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        assert_eq!(greeter.greet("ann".into()).await.unwrap(), "hello ann");
    }
    sup.stop().await.unwrap();
    let lines = collect.0.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l == "span handle child=app/greeter handler=\"greet\""),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "INFO [request>handle] message=greeting name=ann"),
        "{lines:#?}"
    );
}
