//! What the macros generate: typed handles across restarts, start order by
//! dependencies, worker defaults, factories, and a dynamic supervisor field.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    worker, ChildStatus, Context, DynamicSupervisor, Event, Exit, HandleError, Reply, Restart,
    Shutdown, Supervisor, Worker,
};

/// Answers pings; crashes on `Crash`; can be told to hang on a call.
#[worker]
#[derive(Clone)]
struct Echo;

enum EchoMsg {
    Ping(Reply<u64>),
    Crash,
    Swallow(Reply<u64>),
}

impl Worker for Echo {
    type Message = EchoMsg;

    async fn run(self, mut ctx: Context<EchoMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                EchoMsg::Ping(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                EchoMsg::Crash => return Err("asked to crash".into()),
                // Hold the reply and crash: the caller's request is lost.
                EchoMsg::Swallow(_reply) => return Err("crashed mid-call".into()),
            }
        }
        Ok(())
    }
}

#[worker(restart = temporary, shutdown = brutal_kill)]
#[derive(Clone)]
struct OneShot;

impl Worker for OneShot {
    type Message = EchoMsg;

    async fn run(self, mut ctx: Context<EchoMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            if let EchoMsg::Ping(reply) = msg {
                let _ = reply.send(0);
                return Ok(());
            }
        }
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = one_for_one, max_restarts = 10)]
struct Pair {
    echo: Echo,
    once: OneShot,
}

#[tokio::test(start_paused = true)]
async fn a_handle_reaches_the_new_incarnation_after_a_crash() {
    let pair = Pair {
        echo: Echo,
        once: OneShot,
    }
    .start()
    .await
    .unwrap();
    assert_eq!(pair.echo.call(EchoMsg::Ping).await.unwrap(), 1);
    pair.echo.send(EchoMsg::Crash).unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let n = pair.echo.call(EchoMsg::Ping).await.unwrap();
    assert_eq!(n, 2);
    pair.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_whose_request_died_with_its_incarnation_is_lost_not_silent() {
    let pair = Pair {
        echo: Echo,
        once: OneShot,
    }
    .start()
    .await
    .unwrap();
    assert_eq!(
        pair.echo.call(EchoMsg::Swallow).await,
        Err(HandleError::Lost)
    );
    pair.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn calls_while_down_fail_fast_or_wait_within_the_callers_deadline() {
    let pair = Pair {
        echo: Echo,
        once: OneShot,
    }
    .start()
    .await
    .unwrap();
    let sup = pair.supervisor().current().unwrap();
    sup.terminate_child("echo").await.unwrap();
    assert_eq!(
        pair.echo.try_call(EchoMsg::Ping).await,
        Err(HandleError::NotRunning)
    );
    // A plain call waits for an incarnation, at most its default 5 s.
    let asked = tokio::time::Instant::now();
    assert_eq!(
        pair.echo.call(EchoMsg::Ping).await,
        Err(HandleError::Timeout)
    );
    assert_eq!(asked.elapsed(), supervise::DEFAULT_CALL_TIMEOUT);
    let Err(sent) = pair.echo.send(EchoMsg::Crash) else {
        panic!("a message to a stopped child is handed back");
    };
    assert_eq!(sent.error, HandleError::NotRunning);
    assert_eq!(
        pair.echo
            .call_timeout(EchoMsg::Ping, Duration::from_millis(100))
            .await,
        Err(HandleError::Timeout)
    );
    // A waiting call is answered by the next incarnation.
    let waiting = {
        let echo = pair.echo.clone();
        tokio::spawn(async move { echo.call(EchoMsg::Ping).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    sup.restart_child("echo").await.unwrap();
    assert_eq!(waiting.await.unwrap(), Ok(2));
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn handles_answer_not_found_once_the_child_is_gone_for_good() {
    let pair = Pair {
        echo: Echo,
        once: OneShot,
    }
    .start()
    .await
    .unwrap();
    let sup = pair.supervisor().current().unwrap();
    // A temporary child that exits is removed: its handle says so.
    assert_eq!(pair.once.call(EchoMsg::Ping).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(
        pair.once.call(EchoMsg::Ping).await,
        Err(HandleError::NotFound)
    );
    // So is a deleted one.
    sup.terminate_child("echo").await.unwrap();
    sup.delete_child("echo").await.unwrap();
    assert_eq!(
        pair.echo
            .call_timeout(EchoMsg::Ping, Duration::from_secs(1))
            .await,
        Err(HandleError::NotFound)
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn worker_defaults_and_field_overrides_reach_the_child_spec() {
    // The shutdowns are only read back here: the warning that they are
    // never waited for (neither worker is asked to stop) is allowed.
    #[derive(Clone, Supervisor)]
    #[allow(deprecated)]
    struct Specs {
        defaults: OneShot,
        #[child(restart = transient, shutdown = "30s", id = "renamed")]
        overridden: OneShot,
        #[child(shutdown = 250)]
        echo: Echo,
    }
    let specs = Specs {
        defaults: OneShot,
        overridden: OneShot,
        echo: Echo,
    }
    .start()
    .await
    .unwrap();
    let sup = specs.supervisor().current().unwrap();
    let d = sup.get_childspec("defaults").await.unwrap();
    assert_eq!(
        (d.restart, d.shutdown),
        (Restart::Temporary, Shutdown::BrutalKill)
    );
    let o = sup.get_childspec("renamed").await.unwrap();
    assert_eq!(
        (o.restart, o.shutdown),
        (
            Restart::Transient,
            Shutdown::Timeout(Duration::from_secs(30))
        )
    );
    let e = sup.get_childspec("echo").await.unwrap();
    assert_eq!(
        (e.restart, e.shutdown),
        (
            Restart::Permanent,
            Shutdown::Timeout(Duration::from_millis(250))
        )
    );
    sup.stop().await.unwrap();
}

/// Records the order in which workers start.
#[worker]
#[derive(Clone)]
struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<&'static str>>>,
}

impl Worker for Recorder {
    type Message = ();

    async fn init(&mut self, _ctx: &mut Context) -> Result<supervise::Init, Exit> {
        self.log.lock().unwrap().push(self.name);
        Ok(supervise::Init::Ready)
    }

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = rest_for_one)]
struct Ordered {
    #[child(depends_on = [db, cache])]
    api: Recorder,
    cache: Recorder,
    #[child(depends_on = db)]
    metrics: Recorder,
    db: Recorder,
}

#[tokio::test(start_paused = true)]
async fn dependencies_fix_a_stable_start_order_and_restart_dependents() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let r = |name| Recorder {
        name,
        log: log.clone(),
    };
    let ordered = Ordered {
        api: r("api"),
        cache: r("cache"),
        metrics: r("metrics"),
        db: r("db"),
    };
    let (spec, handle) = ordered.spec();
    let mut events = spec.subscribe();
    spec.start().await.unwrap();
    // cache has no dependency and comes first; api needs db and cache.
    assert_eq!(*log.lock().unwrap(), ["cache", "db", "api", "metrics"]);
    // db restarts: rest_for_one restarts everything started after it.
    log.lock().unwrap().clear();
    handle.db.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(*log.lock().unwrap(), ["db", "api", "metrics"]);
    while let Some(e) = events.try_recv() {
        if let Event::GaveUp { .. } = e {
            panic!("no give-up expected");
        }
    }
    handle.supervisor().current().unwrap().stop().await.unwrap();
}

fn fresh_echo() -> Echo {
    FACTORY_CALLS.fetch_add(1, Ordering::SeqCst);
    Echo
}

static FACTORY_CALLS: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Supervisor)]
#[supervisor(max_restarts = 5)]
struct WithFactory {
    #[child(factory = fresh_echo)]
    echo: Echo,
}

#[tokio::test(start_paused = true)]
async fn a_factory_field_builds_every_restart_and_its_value_the_first_start() {
    let app = WithFactory { echo: Echo }.start().await.unwrap();
    assert_eq!(FACTORY_CALLS.load(Ordering::SeqCst), 0);
    app.echo.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    app.echo.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(FACTORY_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(app.echo.call(EchoMsg::Ping).await.unwrap(), 3);
    app.supervisor().current().unwrap().stop().await.unwrap();
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = one_for_one)]
struct Sessions {
    logger: Echo,
    rooms: DynamicSupervisor<Echo>,
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_field_has_a_typed_handle() {
    let app = Sessions {
        logger: Echo,
        rooms: DynamicSupervisor::new().max_children(2),
    }
    .start()
    .await
    .unwrap();
    let a = app.rooms.start_child(Echo).await.unwrap();
    let b = app.rooms.start_child(Echo).await.unwrap();
    assert!(matches!(
        app.rooms.start_child(Echo).await,
        Err(supervise::CallError::MaxChildren)
    ));
    assert_eq!(a.call(EchoMsg::Ping).await.unwrap(), 1);
    a.send(EchoMsg::Crash).unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(a.call(EchoMsg::Ping).await.unwrap(), 2);
    assert_eq!(b.call(EchoMsg::Ping).await.unwrap(), 1);
    let children = app.rooms.which_children().await.unwrap();
    assert_eq!(children.len(), 2);
    assert!(children
        .iter()
        .all(|c| matches!(c.status, ChildStatus::Running(_))));
    app.rooms.terminate_child(&b).await.unwrap();
    assert_eq!(app.rooms.count_children().await.unwrap().active, 1);
    app.supervisor().current().unwrap().stop().await.unwrap();
}
