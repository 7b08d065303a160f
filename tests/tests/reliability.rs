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
use supervise_tests::{bounded, settle, Idle, Stubborn};

/// A worker that handles shutdown and takes `linger` to stop.
#[derive(Clone)]
struct Lingering {
    linger: Duration,
}

impl Worker for Lingering {
    type Message = ();

    const HANDLES_SHUTDOWN: bool = true;

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

/// Fault 10: `/` separates the parts of a path, so an id or a name holding
/// one is refused with a typed error wherever it is given; every other
/// string (empty, unicode, quotes, control characters, very long) is a
/// valid id and name.
#[tokio::test(start_paused = true)]
async fn an_id_or_a_name_with_a_slash_is_refused_and_any_other_string_is_valid() {
    let slash = |id: &str| SpecError::InvalidId { id: id.into() };
    assert_eq!(
        Supervisor::builder("app")
            .child(ChildSpec::worker("a/b", || Idle))
            .build()
            .unwrap_err(),
        slash("a/b")
    );
    assert_eq!(
        Supervisor::builder("app/main").build().unwrap_err(),
        SpecError::InvalidName {
            name: "app/main".into()
        }
    );
    assert_eq!(
        DynamicSupervisorSpec::builder("a/b").build().unwrap_err(),
        SpecError::InvalidName { name: "a/b".into() }
    );
    assert!(DynamicSupervisor::<Job>::new().start("a/b").await.is_err());
    assert!(PartitionSupervisor::new(DynamicSupervisor::<Job>::new(), 2)
        .unwrap()
        .start("a/b")
        .await
        .is_err());
    assert!(supervise::TaskSupervisor::new().start("a/b").await.is_err());

    let long = "x".repeat(100_000);
    let valid = [
        "",
        "é ✓ 名前",
        "quote\"d",
        "tab\tnew\nline\0",
        "a-b",
        "a_b",
        &long,
    ];
    let mut builder = Supervisor::builder("");
    for id in valid {
        builder = builder.child(ChildSpec::worker(id, || Idle));
    }
    let sup = builder.build().unwrap().start().await.unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, valid.len());
    for id in valid {
        sup.terminate_child(id).await.unwrap();
        assert_eq!(sup.restart_child(id).await.unwrap().unwrap().id(), id);
    }
    assert_eq!(
        sup.start_child(ChildSpec::worker("x/y", || Idle))
            .await
            .unwrap_err(),
        supervise::CallError::InvalidSpec(slash("x/y"))
    );
    sup.stop().await.unwrap();

    let pool = DynamicSupervisorSpec::builder("pool")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(
        pool.start_child(ChildSpec::worker("x/y", || Idle))
            .await
            .unwrap_err(),
        supervise::CallError::InvalidSpec(slash("x/y"))
    );
    pool.stop().await.unwrap();

    let keyed = DynamicSupervisor::<Job>::new()
        .keyed::<String>()
        .start("jobs")
        .await
        .unwrap();
    assert!(keyed
        .start_child_keyed("a/b".to_string(), Job)
        .await
        .is_err());
    assert!(
        keyed.lookup(&"a/b".to_string()).is_none(),
        "a refused key is freed"
    );
    keyed
        .start_child_keyed("a-b".to_string(), Job)
        .await
        .unwrap();
    keyed.supervisor().current().unwrap().stop().await.unwrap();
}

mod extreme_values {
    //! Property tests: the builders and parsers take any value without
    //! panicking, and a tree built from extreme values starts, restarts
    //! and stops.

    use std::time::Duration;

    use proptest::prelude::*;
    use supervise::{
        parse_max_restarts, parse_period, parse_significant, AutoShutdown, Backoff, ChildSpec,
        Restart, Shutdown, Strategy as SupStrategy, Supervisor,
    };
    use supervise_tests::Idle;

    fn duration() -> impl proptest::strategy::Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            Just(Duration::from_secs(u64::MAX)),
            Just(Duration::from_nanos(1)),
            any::<u64>().prop_map(Duration::from_millis),
            any::<u64>().prop_map(Duration::from_nanos),
        ]
    }

    fn float() -> impl proptest::strategy::Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(-0.0),
            any::<f64>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any text given to a parser is a value or a typed error.
        #[test]
        fn parsers_never_panic(s in "\\PC*|[0-9]{1,40}(ms|s|m)?|-[0-9]+") {
            let _ = s.parse::<Restart>();
            let _ = s.parse::<Shutdown>();
            let _ = s.parse::<SupStrategy>();
            let _ = s.parse::<AutoShutdown>();
            let _ = parse_max_restarts(&s);
            let _ = parse_period(&s);
            let _ = parse_significant(&s);
        }

        /// Any value the builders take gives a spec or a typed error, and
        /// a tree built from one starts, restarts its child and stops on
        /// the paused clock.
        #[test]
        fn extreme_values_start_restart_and_stop(
            shutdown in duration(),
            period in duration(),
            max_restarts in prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()],
            base in duration(),
            max in duration(),
            jitter in float(),
            name in "\\PC{0,8}",
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let built = Supervisor::builder(name.as_str())
                    .max_restarts(max_restarts)
                    .period(period)
                    .child(
                        ChildSpec::worker(name.as_str(), || Idle)
                            .shutdown(Shutdown::Timeout(shutdown))
                            .backoff(Backoff::exponential(base, max).jitter(jitter)),
                    )
                    .build();
                let Ok(spec) = built else { return };
                let sup = spec.start().await.unwrap();
                let children = sup.which_children().await.unwrap();
                if let supervise::ChildStatus::Running(child) = &children[0].status {
                    child.kill();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if max_restarts == 0 {
                    // One restart is more than none: it gave up.
                    sup.wait().await;
                    assert!(sup.gave_up());
                    return;
                }
                sup.terminate_child(&name).await.unwrap();
                sup.stop().await.unwrap();
            });
        }
    }
}

/// Fault 11: any ids draw a valid and unambiguous Mermaid chart and DOT
/// graph: quotes, spaces, unicode, backslashes, line breaks, `#`, `<`,
/// and ids that differ only by `-` and `_`.
#[tokio::test(start_paused = true)]
async fn drawings_escape_any_id_and_keep_every_node_distinct() {
    let ids = [
        "a-b",
        "a_b",
        "a.b",
        "a b",
        "say \"hi\"",
        "back\\slash",
        "two\nlines",
        "#1",
        "<script>",
        "名前",
        "",
    ];
    let mut nested = Supervisor::builder("inner");
    for id in ids {
        nested = nested.child(ChildSpec::worker(id, || Idle));
    }
    let mut root = Supervisor::builder("root \"quoted\"")
        .child(ChildSpec::supervisor("a-b sup", nested.build().unwrap()));
    for id in ids {
        root = root.child(ChildSpec::worker(id, || Idle));
    }
    let sup = root.build().unwrap().start().await.unwrap();
    let tree = sup.snapshot().await.unwrap();
    let nodes = 1 + 1 + 2 * ids.len();

    // Mermaid: one node per child, each labelled by a quoted string with no
    // quote or line break inside.
    let mermaid = tree.to_mermaid();
    let mut defined = std::collections::HashSet::new();
    for line in mermaid.lines().skip(1).filter(|l| l.contains('[')) {
        let (head, label) = line.split_once('[').unwrap();
        let node = head.rsplit(' ').next().unwrap();
        assert!(
            defined.insert(node.to_string()),
            "node {node} defined twice"
        );
        let inner = label
            .strip_prefix('"')
            .unwrap()
            .strip_suffix("\"]")
            .unwrap();
        assert!(!inner.contains('"') && !inner.contains('<'), "{line}");
    }
    assert_eq!(defined.len(), nodes);
    assert_eq!(
        mermaid.lines().filter(|l| l.contains("-->")).count(),
        nodes - 1
    );
    assert!(mermaid.contains("#34;hi#34;"), "a quote is an entity");

    // DOT: every quoted string closes on its line, and each path is its own
    // node.
    let dot = tree.to_dot();
    let mut named = std::collections::HashSet::new();
    for line in dot.lines().skip(2).filter(|l| l.contains("[label=")) {
        let strings = dot_strings(line);
        assert!(
            named.insert(strings[0].clone()),
            "node {} twice",
            strings[0]
        );
    }
    assert_eq!(named.len(), nodes);
    assert!(named.contains("root \"quoted\"/say \"hi\""));
    assert!(named.contains("root \"quoted\"/back\\slash"));
    assert!(named.contains("root \"quoted\"/two\nlines"));
    sup.stop().await.unwrap();
}

/// The quoted strings of one line of DOT, unescaped; panics on a string
/// that does not close.
fn dot_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next().expect("a quoted string closes on its line") {
                '"' => break,
                '\\' => match chars.next().expect("an escape") {
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    c => s.push(c),
                },
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

mod panicking_observers {
    //! Faults 2 and 3: a panicking observer (a tracing layer, the
    //! `Display` of a worker's error) never changes a supervision
    //! decision: every exit reaches the parent, a permanent child is
    //! restarted, give-ups still happen at the intensity limit.

    use std::fmt;
    use std::time::Duration;

    use supervise::{ChildSpec, ChildStatus, Context, Event, Exit, Supervisor, Worker};
    use supervise_tests::bounded;
    use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
    use tracing_subscriber::Layer;

    /// A layer that formats every field of every event, as `fmt` does,
    /// then panics.
    struct Panicking;

    struct Format(String);

    impl tracing::field::Visit for Format {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            self.0 += &format!("{}={value:?} ", field.name());
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Panicking {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
            let mut line = Format(String::new());
            event.record(&mut line);
            panic!("a layer that panics: {}", line.0);
        }
    }

    /// An error whose `Display` panics.
    #[derive(Debug)]
    struct Unprintable;

    impl fmt::Display for Unprintable {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("an error that cannot be displayed")
        }
    }

    impl std::error::Error for Unprintable {}

    /// Crashes with [`Unprintable`] when told to.
    #[derive(Clone)]
    struct Crashy;

    impl Worker for Crashy {
        type Message = ();

        async fn run(self, mut ctx: Context) -> Result<(), Exit> {
            ctx.recv().await;
            Err(Exit::with_reason(supervise::ExitReason::error(Unprintable)))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_exit_reaches_the_parent_whatever_logging_does() {
        let subscriber = tracing_subscriber::registry().with(Panicking);
        let _default = tracing::subscriber::set_default(subscriber);
        let (spec, crashy) = ChildSpec::worker_with_handle("crashy", || Crashy);
        let tree = Supervisor::builder("app")
            .max_restarts(2)
            .period(Duration::from_secs(60))
            .child(spec)
            .build()
            .unwrap();
        let mut events = tree.subscribe();
        let sup = tree.start().await.unwrap();
        for incarnation in 2..=3 {
            crashy.send(()).unwrap();
            // A fresh incarnation each time: the exit reached the parent.
            let running = bounded("restart", async {
                loop {
                    let running = crashy.wait_running(Duration::from_secs(60)).await.unwrap();
                    if running.incarnation() == incarnation {
                        return running;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await;
            let children = sup.which_children().await.unwrap();
            assert!(matches!(&children[0].status, ChildStatus::Running(c) if c == &running));
        }
        // The third crash is one more than max_restarts: it gives up.
        crashy.send(()).unwrap();
        bounded("give-up", sup.wait()).await;
        assert!(sup.gave_up());
        // The events are all there.
        let mut seen = Vec::new();
        while let Some(event) = events.try_recv() {
            seen.push(match event {
                Event::Exited { .. } => "exited",
                Event::ChildTerminated { .. } => "child_terminated",
                Event::Restarting { .. } => "restarting",
                Event::GaveUp { .. } => "gave_up",
                _ => continue,
            });
        }
        assert_eq!(seen.iter().filter(|e| **e == "child_terminated").count(), 3);
        assert_eq!(seen.iter().filter(|e| **e == "restarting").count(), 2);
        assert_eq!(seen.iter().filter(|e| **e == "gave_up").count(), 1);
    }

    /// A subscriber of the event stream that panics only ends its own task.
    #[tokio::test(start_paused = true)]
    async fn a_panicking_event_subscriber_ends_only_its_own_task() {
        let (spec, crashy) = ChildSpec::worker_with_handle("crashy", || Crashy);
        let tree = Supervisor::builder("app").child(spec).build().unwrap();
        let mut events = tree.subscribe();
        let sup = tree.start().await.unwrap();
        let listener = tokio::spawn(async move {
            events.recv().await;
            panic!("a subscriber that panics");
        });
        crashy.send(()).unwrap();
        assert!(listener.await.unwrap_err().is_panic());
        tokio::time::sleep(Duration::from_millis(1)).await;
        let running = bounded("restart", crashy.wait_running(Duration::from_secs(60)))
            .await
            .unwrap();
        assert_eq!(running.incarnation(), 2);
        sup.stop().await.unwrap();
    }
}

/// Fault 5: a call fails with `Lost` when its callee dies, wherever the
/// callee put its `Reply` (here, a plain `tokio::spawn` task that outlives
/// it), as an OTP call fails when the server dies.
#[tokio::test(start_paused = true)]
async fn a_call_fails_when_the_callee_dies_wherever_its_reply_went() {
    struct Holder;

    impl Worker for Holder {
        type Message = supervise::Reply<u32>;

        async fn run(self, mut ctx: Context<Self::Message>) -> Result<(), Exit> {
            let reply = ctx.recv().await.unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                let _ = reply.send(1);
            });
            Err("crash after handing the reply away".into())
        }
    }

    let (spec, holder) = ChildSpec::worker_with_handle("holder", || Holder);
    let sup = Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let answer = bounded("call", holder.call(|reply| reply)).await;
    assert_eq!(answer, Err(supervise::HandleError::Lost));
    let answer = bounded(
        "call_timeout",
        holder.call_timeout(|reply| reply, Duration::from_secs(60)),
    )
    .await;
    assert_eq!(answer, Err(supervise::HandleError::Lost));
    sup.stop().await.unwrap();
}

/// Fault 9: a queued message whose `Drop` panics does not replace the
/// worker's own exit reason; the messages are still counted as dropped.
#[tokio::test(start_paused = true)]
async fn a_message_that_panics_when_dropped_keeps_the_real_exit_reason() {
    struct Bomb;

    impl Drop for Bomb {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("a message that panics when dropped");
            }
        }
    }

    enum Msg {
        Crash,
        Bomb(#[allow(dead_code)] Bomb),
    }

    struct Victim;

    impl Worker for Victim {
        type Message = Msg;

        async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
            loop {
                if let Some(Msg::Crash) = ctx.recv().await {
                    // Yield once so that the bombs are queued behind.
                    tokio::task::yield_now().await;
                    return Err("crash".into());
                }
            }
        }
    }

    let (spec, victim) = ChildSpec::worker_with_handle("victim", || Victim);
    let tree = Supervisor::builder("app").child(spec).build().unwrap();
    let mut events = tree.subscribe();
    let sup = tree.start().await.unwrap();
    victim.send(Msg::Crash).unwrap();
    victim.send(Msg::Bomb(Bomb)).unwrap();
    victim.send(Msg::Bomb(Bomb)).unwrap();
    bounded("restart", victim.wait_running(Duration::from_secs(60)))
        .await
        .unwrap();
    settle().await;
    let (mut reason, mut dropped) = (None, 0);
    while let Some(event) = events.try_recv() {
        match event {
            supervise::Event::Exited { reason: r, .. } => reason = Some(r),
            supervise::Event::MessagesDropped { count, .. } => dropped += count,
            _ => {}
        }
    }
    assert_eq!(reason.unwrap().to_string(), "crash");
    assert_eq!(dropped, 2);
    sup.stop().await.unwrap();
}

/// Fault 12: a call whose supervisor dies while serving it always fails
/// with the supervisor's exit reason (OTP's `{exit, Reason}`), never with
/// `Stopped`, however the threads interleave. Multi-thread runtime, each
/// round bounded; the order (the call is in hand before the kill) is
/// enforced, not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_supervisor_dies_mid_call_fails_with_its_exit_reason() {
    for _ in 0..50 {
        let asked = Arc::new(tokio::sync::Notify::new());
        let notify = asked.clone();
        // Siblings that take a while to drop with the killed task widen
        // the window between the call's drop and the recorded exit.
        let siblings = (0..200).map(|i| {
            ChildSpec::worker(format!("s{i}"), || Lingering {
                linger: Duration::from_secs(60),
            })
        });
        let sup = Supervisor::builder("app")
            .children(siblings)
            .child(
                ChildSpec::worker("stubborn", move || Stubborn(notify.clone()))
                    .shutdown(Shutdown::Infinity),
            )
            .build()
            .unwrap()
            .start()
            .await
            .unwrap();
        let call = tokio::spawn({
            let sup = sup.clone();
            async move { sup.terminate_child("stubborn").await }
        });
        // The supervisor is serving the call: it waits for the child.
        bounded("stop request", asked.notified()).await;
        sup.kill();
        let result = bounded("call", call).await.unwrap();
        assert_eq!(
            result,
            Err(supervise::CallError::Exited(ExitReason::Killed))
        );
    }
}

/// Fault 4: in a `one_for_all` restart, a child that blocks its thread
/// inside a message is reported killed after the kill grace and restarted
/// while its old copy still runs (the documented blocked-thread overlap).
/// The messages queued for the old copy are counted as dropped (those
/// still in the queue when it is replaced, those it had taken with the
/// blocking one when it ends), never lost silently, and the old copy
/// receives nothing more. Multi-thread runtime,
/// short real time; the assertions are on counts and order only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_for_a_blocked_incarnation_are_counted_when_it_is_replaced() {
    enum Msg {
        Block,
        Count,
    }

    /// Blocks its thread on `Block`; counts every `Count` it receives.
    struct Blocker(Arc<AtomicU64>);

    impl Worker for Blocker {
        type Message = Msg;

        async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
            while let Some(msg) = ctx.recv().await {
                match msg {
                    // Longer than the 1 s kill grace.
                    Msg::Block => std::thread::sleep(Duration::from_millis(1500)),
                    Msg::Count => {
                        self.0.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            Ok(())
        }
    }

    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let (blocker_spec, blocker) =
        ChildSpec::worker_with_handle("blocker", move || Blocker(counter.clone()));
    let (crasher_spec, crasher) = ChildSpec::worker_with_handle("crasher", || Idle);
    let tree = Supervisor::builder("app")
        .strategy(supervise::Strategy::OneForAll)
        .child(blocker_spec)
        .child(crasher_spec)
        .build()
        .unwrap();
    let mut events = tree.subscribe();
    let sup = tree.start().await.unwrap();
    blocker.send(Msg::Block).unwrap();
    for _ in 0..10 {
        blocker.send(Msg::Count).unwrap();
    }
    // The sibling's crash restarts both.
    crasher.child().unwrap().kill();
    let mut dropped = 0;
    let mut restarted = false;
    while !restarted {
        match bounded("events", events.recv()).await.unwrap() {
            supervise::Event::MessagesDropped { path, count, .. } if &*path == "app/blocker" => {
                dropped += count
            }
            supervise::Event::Started { child } if child.path() == "app/blocker" => {
                restarted = child.incarnation() == 2
            }
            _ => {}
        }
    }
    // Let the old copy wake up from its block: it receives nothing more,
    // and what it had taken from its queue with the `Block` (an unbounded
    // mailbox hands over a whole burst) is counted as it ends.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    while let Some(event) = events.try_recv() {
        if let supervise::Event::MessagesDropped { path, count, .. } = event {
            if &*path == "app/blocker" {
                dropped += count;
            }
        }
    }
    let received = received.load(Ordering::SeqCst);
    assert_eq!(
        received + dropped as u64,
        10,
        "received {received}, dropped {dropped}"
    );
    assert_eq!(received, 0);
    // The new incarnation gets what is sent now.
    blocker.send(Msg::Count).unwrap();
    sup.stop().await.unwrap();
}
