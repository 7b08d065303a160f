//! Handler-style workers (`#[handlers]`): calls, casts, info messages and
//! timers, the init and terminate hooks, a reply kept to answer later, a
//! handler that stops or crashes its worker, and calls across a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    handlers, worker, Context, Event, Exit, ExitReason, HandleError, Init, Reply, ReplyError,
    Supervisor,
};

/// What the workers below saw, in order.
type Log = Arc<Mutex<Vec<String>>>;

fn log(log: &Log, line: impl Into<String>) {
    log.lock().unwrap().push(line.into());
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[worker(restart = permanent, shutdown = "1s")]
#[derive(Clone, Default)]
struct Counter {
    count: u64,
    log: Log,
}

#[handlers]
impl Counter {
    #[init]
    async fn init(&mut self, ctx: &mut Context) {
        log(&self.log, format!("init {}", ctx.incarnation()));
    }

    /// Adds `by`.
    #[cast]
    fn increment(&mut self, by: u64) {
        self.count += by;
    }

    /// The count.
    #[call]
    async fn get_count(&mut self) -> u64 {
        self.count
    }

    /// Adds `a` and `b` to the count and returns it: two arguments, the
    /// context between them.
    #[call]
    fn add_both(&mut self, a: u64, ctx: &Context, b: u64) -> (u64, String) {
        self.count += a + b;
        (self.count, ctx.id().to_owned())
    }

    /// Crashes the worker with an error, through `?`.
    #[call]
    fn parse(&mut self, text: String) -> Result<u64, Exit> {
        Ok(text.parse::<u64>()?)
    }

    /// Stops the worker normally.
    #[cast]
    fn quit(&mut self) -> Result<(), Exit> {
        Err(Exit::with_reason(ExitReason::Normal))
    }

    /// Answers with `Err` in its own type: the worker runs on.
    #[call]
    fn checked_div(&mut self, by: u64) -> Result<u64, String> {
        self.count
            .checked_div(by)
            .ok_or_else(|| "division by zero".to_owned())
    }

    #[terminate]
    async fn terminate(&mut self, reason: &ExitReason) {
        log(&self.log, format!("terminate {reason} at {}", self.count));
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(max_restarts = 10)]
struct CounterApp {
    counter: Counter,
}

fn counter_app(log: &Log) -> CounterApp {
    CounterApp {
        counter: Counter {
            count: 0,
            log: log.clone(),
        },
    }
}

#[tokio::test(start_paused = true)]
async fn calls_and_casts_reach_their_handlers_in_order() {
    let log = Log::default();
    let app = counter_app(&log).start().await.unwrap();
    app.counter.increment(2).unwrap();
    app.counter.increment(3).unwrap();
    assert_eq!(app.counter.get_count().await, Ok(5));
    assert_eq!(
        app.counter.add_both(1, 2).await,
        Ok((8, "counter".to_owned()))
    );
    // A handler's own error and the call's come as one error type.
    assert_eq!(
        app.counter.checked_div(0).await,
        Err(ReplyError::Reply("division by zero".into()))
    );
    assert_eq!(app.counter.checked_div(2).await, Ok(4));
    app.stop().await.unwrap();
    assert_eq!(lines(&log), ["init 1", "terminate shutdown at 8"]);
}

/// The reason of the next exit `events` reports.
async fn next_exit(events: &mut supervise::EventStream) -> ExitReason {
    loop {
        if let Event::Exited { reason, .. } = events.recv().await.unwrap() {
            return reason;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_handler_error_stops_the_worker_after_its_terminate_hook() {
    let log = Log::default();
    let (spec, app) = counter_app(&log).spec();
    let mut events = spec.subscribe();
    spec.start().await.unwrap();
    app.counter.increment(7).unwrap();
    // The call's handler fails: the caller learns the callee died.
    assert_eq!(app.counter.parse("x".into()).await, Err(HandleError::Lost));
    assert!(matches!(next_exit(&mut events).await, ExitReason::Error(_)));
    // The restart is a fresh state from the start argument; a call made
    // in the gap waits for it.
    assert_eq!(app.counter.get_count().await, Ok(0));
    app.stop().await.unwrap();
    let seen = lines(&log);
    assert_eq!(seen[0], "init 1");
    assert!(seen[1].starts_with("terminate invalid digit"), "{seen:?}");
    assert_eq!(seen[2..], ["init 2", "terminate shutdown at 0"]);
}

#[tokio::test(start_paused = true)]
async fn a_handler_may_stop_its_worker_normally() {
    let log = Log::default();
    let (spec, app) = counter_app(&log).spec();
    let mut events = spec.subscribe();
    spec.start().await.unwrap();
    app.counter.quit().unwrap();
    assert_eq!(next_exit(&mut events).await, ExitReason::Normal);
    // Permanent: restarted all the same.
    assert_eq!(app.counter.get_count().await, Ok(0));
    app.stop().await.unwrap();
    assert_eq!(
        lines(&log),
        [
            "init 1",
            "terminate normal at 0",
            "init 2",
            "terminate shutdown at 0"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_transient_worker_stopped_by_its_handler_with_shutdown_stays_stopped() {
    #[worker(restart = transient)]
    #[derive(Clone)]
    struct Once;

    #[handlers]
    impl Once {
        #[cast]
        fn quit(&mut self) -> Result<(), Exit> {
            Err(Exit::shutdown())
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        once: Once,
    }

    let app = App { once: Once }.start().await.unwrap();
    app.once.quit().unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(app.once.child().is_none());
    assert_eq!(app.supervisor().count_children().await.unwrap().active, 0);
    app.stop().await.unwrap();
}

#[worker]
#[derive(Clone, Default)]
struct Ticker {
    ticks: u32,
    log: Log,
}

#[handlers]
impl Ticker {
    #[init]
    fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        ctx.send_after(Duration::from_millis(100), TickerMessage::Tick);
        Ok(Init::Ready)
    }

    #[info]
    fn tick(&mut self, ctx: &mut Context) {
        self.ticks += 1;
        log(&self.log, format!("tick {}", self.ticks));
        if self.ticks < 3 {
            ctx.send_after(Duration::from_millis(100), TickerMessage::Tick);
        } else {
            ctx.send_self(TickerMessage::Done).ok();
        }
    }

    #[info]
    fn done(&mut self) {
        log(&self.log, "done");
    }

    #[call]
    fn ticks(&mut self) -> u32 {
        self.ticks
    }
}

#[derive(Clone, Supervisor)]
struct TickerApp {
    ticker: Ticker,
}

/// A tree of one `Ticker` that logs to `log`, started.
async fn ticker_app(log: &Log) -> TickerAppHandle {
    TickerApp {
        ticker: Ticker {
            ticks: 0,
            log: log.clone(),
        },
    }
    .start()
    .await
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn info_handlers_take_timers_and_messages_to_self() {
    let log = Log::default();
    let app = ticker_app(&log).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(app.ticker.ticks().await, Ok(2));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.ticker.ticks().await, Ok(3));
    assert_eq!(lines(&log), ["tick 1", "tick 2", "tick 3", "done"]);
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_timer_dies_with_its_incarnation() {
    let log = Log::default();
    let app = ticker_app(&log).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first incarnation's timer is due at 100 ms; it is killed at 50.
    app.ticker.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Only the second incarnation's first tick (at 150 ms) came.
    assert_eq!(app.ticker.ticks().await, Ok(1));
    app.stop().await.unwrap();
}

#[worker(restart = transient)]
#[derive(Clone, Default)]
struct Lock {
    holder: Option<u32>,
    queue: Vec<(u32, Waiter)>,
}

/// A kept reply: `Reply` is not `Clone`, so the worker's `Clone` (its
/// start argument) starts with no waiter.
#[derive(Default)]
struct Waiter(Option<Reply<()>>);

impl Clone for Waiter {
    fn clone(&self) -> Self {
        Waiter(None)
    }
}

#[handlers]
impl Lock {
    /// Acquires the lock for `who`, waiting while another holds it.
    #[call]
    fn acquire(&mut self, who: u32, reply: Reply<()>) {
        if self.holder.is_none() {
            self.holder = Some(who);
            let _ = reply.send(());
        } else {
            self.queue.push((who, Waiter(Some(reply))));
        }
    }

    #[cast]
    fn release(&mut self) {
        self.holder = None;
        if !self.queue.is_empty() {
            let (who, Waiter(reply)) = self.queue.remove(0);
            self.holder = Some(who);
            if let Some(reply) = reply {
                let _ = reply.send(());
            }
        }
    }

    #[call]
    fn holder(&mut self) -> Option<u32> {
        self.holder
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_can_keep_its_reply_and_answer_later() {
    #[derive(Clone, Supervisor)]
    struct App {
        lock: Lock,
    }
    let app = App {
        lock: Lock::default(),
    }
    .start()
    .await
    .unwrap();
    assert_eq!(app.lock.acquire(1).await, Ok(()));
    let second = tokio::spawn({
        let lock = app.lock.clone();
        async move { lock.acquire(2).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!second.is_finished());
    assert_eq!(app.lock.holder().await, Ok(Some(1)));
    app.lock.release().unwrap();
    assert_eq!(second.await.unwrap(), Ok(()));
    assert_eq!(app.lock.holder().await, Ok(Some(2)));
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn init_hook_errors_and_ignore_are_the_workers_start_outcome() {
    #[worker]
    #[derive(Clone)]
    struct Refuses {
        ignore: bool,
    }

    #[handlers]
    impl Refuses {
        #[init]
        async fn init(&mut self) -> Result<Init, Exit> {
            if self.ignore {
                Ok(Init::Ignore)
            } else {
                Err(Exit::shutdown_with("no database"))
            }
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        refuses: Refuses,
    }

    let ignored = App {
        refuses: Refuses { ignore: true },
    }
    .start()
    .await
    .unwrap();
    assert!(ignored.refuses.child().is_none());
    ignored.stop().await.unwrap();

    let failed = App {
        refuses: Refuses { ignore: false },
    }
    .start()
    .await;
    let reason = failed.unwrap_err().reason().clone();
    assert!(
        matches!(&reason, ExitReason::FailedToStartChild { id, .. } if &**id == "refuses"),
        "{reason:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_terminate_hook_a_worker_is_stopped_at_once_mid_handler() {
    // Its 1 s is never waited for: it is not asked to stop (the warning
    // says so, allowed here).
    #[worker(shutdown = "1s")]
    #[derive(Clone)]
    #[allow(deprecated)]
    struct Slow;

    #[handlers]
    impl Slow {
        #[call]
        async fn work(&mut self) -> u32 {
            tokio::time::sleep(Duration::from_secs(60)).await;
            1
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        slow: Slow,
    }

    let app = App { slow: Slow }.start().await.unwrap();
    let call = tokio::spawn({
        let slow = app.slow.clone();
        async move { slow.work().await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let started = tokio::time::Instant::now();
    app.stop().await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(call.await.unwrap(), Err(HandleError::Lost));
}

#[tokio::test(start_paused = true)]
async fn a_terminate_hook_runs_after_the_current_message_within_the_shutdown_timeout() {
    #[worker(shutdown = "1s")]
    #[derive(Clone, Default)]
    struct Flusher {
        log: Log,
    }

    #[handlers]
    impl Flusher {
        #[call]
        async fn work(&mut self, ms: u64) -> u64 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            log(&self.log, format!("worked {ms}"));
            ms
        }

        #[terminate]
        async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            log(&self.log, format!("flushed {} ({reason})", ctx.path()));
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        flusher: Flusher,
    }

    // The handler (300 ms) and the hook (100 ms) fit in the 1 s timeout.
    let log = Log::default();
    let app = App {
        flusher: Flusher { log: log.clone() },
    }
    .start()
    .await
    .unwrap();
    let call = tokio::spawn({
        let flusher = app.flusher.clone();
        async move { flusher.work(300).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    app.stop().await.unwrap();
    assert_eq!(call.await.unwrap(), Ok(300));
    assert_eq!(
        lines(&log),
        ["worked 300", "flushed app/flusher (shutdown)"]
    );

    // A handler longer than the timeout is killed: no hook.
    let log = Log::default();
    let (spec, app) = App {
        flusher: Flusher { log: log.clone() },
    }
    .spec();
    let mut events = spec.subscribe();
    spec.start().await.unwrap();
    let call = tokio::spawn({
        let flusher = app.flusher.clone();
        async move { flusher.work(5_000).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    app.stop().await.unwrap();
    assert_eq!(next_exit(&mut events).await, ExitReason::Killed);
    assert_eq!(call.await.unwrap(), Err(HandleError::Lost));
    assert!(lines(&log).is_empty());
}

mod renamed {
    use supervise::{handlers, worker};

    #[worker]
    #[derive(Clone)]
    pub(crate) struct Echo;

    #[handlers(message = EchoRequest, api = EchoClient, vis = pub(crate))]
    impl Echo {
        #[call]
        fn echo(&mut self, text: String) -> String {
            text
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_generated_names_can_be_chosen() {
    use renamed::{Echo, EchoClient, EchoRequest};

    let (spec, echo) = supervise::ChildSpec::worker_with_handle("echo", || Echo);
    let sup = Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(echo.echo("hi".into()).await, Ok("hi".to_owned()));
    // The message enum, for a deadline of one's own.
    let answer = echo
        .call_timeout(
            |reply| EchoRequest::Echo("there".into(), reply),
            Duration::from_secs(1),
        )
        .await;
    assert_eq!(answer, Ok("there".to_owned()));
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn messages_queued_before_the_stop_request_are_handled_before_the_terminate_hook() {
    #[worker(shutdown = "10s")]
    #[derive(Clone, Default)]
    struct Journal {
        log: Log,
    }

    #[handlers]
    impl Journal {
        #[cast]
        async fn write(&mut self, line: String) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            log(&self.log, line);
        }

        #[terminate]
        fn terminate(&mut self) {
            log(&self.log, "saved");
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        journal: Journal,
    }

    let log = Log::default();
    let app = App {
        journal: Journal { log: log.clone() },
    }
    .start()
    .await
    .unwrap();
    for line in ["a", "b", "c"] {
        app.journal.write(line.into()).unwrap();
    }
    // "a" is being written when the stop is asked: "b" and "c" were queued
    // before the request, and are written before the hook runs.
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.stop().await.unwrap();
    assert_eq!(lines(&log), ["a", "b", "c", "saved"]);
}

#[tokio::test(start_paused = true)]
async fn messages_sent_to_itself_during_init_come_first() {
    #[worker]
    #[derive(Clone, Default)]
    struct Loader {
        log: Log,
    }

    #[handlers]
    impl Loader {
        #[init]
        fn init(&mut self, ctx: &mut Context) {
            // Elixir's `{:ok, state, {:continue, :load}}`, and a timer due
            // at once.
            ctx.send_self(LoaderMessage::Load).unwrap();
            ctx.send_after(Duration::ZERO, LoaderMessage::Tick);
        }

        #[info]
        fn load(&mut self) {
            log(&self.log, "load");
        }

        #[info]
        fn tick(&mut self) {
            log(&self.log, "tick");
        }

        #[call]
        fn seen(&mut self) -> Vec<String> {
            lines(&self.log)
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        loader: Loader,
    }

    let log = Log::default();
    let app = App {
        loader: Loader { log: log.clone() },
    }
    .start()
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(app.loader.seen().await.unwrap(), ["load", "tick"]);
    // The message enum's `Debug` names the handler.
    assert_eq!(format!("{:?}", LoaderMessage::Load), "load");
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_waits_five_seconds_by_default_and_its_handler_may_say_otherwise() {
    #[worker]
    #[derive(Clone)]
    struct Sleepy;

    #[handlers]
    impl Sleepy {
        #[call]
        async fn nap(&mut self, secs: u64) -> u64 {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            secs
        }

        #[call(timeout = "1s")]
        async fn short_nap(&mut self, secs: u64) -> u64 {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            secs
        }

        #[call(timeout = infinity)]
        async fn long_nap(&mut self, secs: u64) -> u64 {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            secs
        }
    }

    #[derive(Clone, Supervisor)]
    struct App {
        sleepy: Sleepy,
    }

    let app = App { sleepy: Sleepy }.start().await.unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(app.sleepy.nap(4).await, Ok(4));
    assert_eq!(app.sleepy.nap(6).await, Err(HandleError::Timeout));
    assert_eq!(started.elapsed(), Duration::from_secs(9));
    // The timed-out request is still handled: wait for it to end.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.sleepy.short_nap(2).await, Err(HandleError::Timeout));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.sleepy.long_nap(60).await, Ok(60));
    app.stop().await.unwrap();
}
