//! Dynamic children: typed dynamic supervisors, keyed children, restart
//! backoff, the task supervisor and the partitioned supervisor, on the
//! paused clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use supervise::{
    worker, Backoff, CallError, ChildSpec, Context, DynamicSupervisor, DynamicSupervisorSpec,
    Event, Exit, ExitReason, HandleError, Init, KeyedStartError, PartitionSupervisor, Reply,
    Shutdown, TaskError, TaskSupervisor, Worker,
};

#[derive(Clone, Copy)]
enum End {
    Crash,
    Normal,
}

enum Msg {
    Ping(Reply<u64>),
    Stop(End),
}

/// A keyed session: answers pings with its incarnation; stops on command.
#[worker(restart = transient)]
#[derive(Clone)]
struct Session {
    ignore_restarts: bool,
}

impl Worker for Session {
    type Message = Msg;

    async fn init(&mut self, ctx: &mut Context<Msg>) -> Result<Init, Exit> {
        if self.ignore_restarts && ctx.incarnation() > 1 {
            return Ok(Init::Ignore);
        }
        Ok(Init::Ready)
    }

    async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                Msg::Ping(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                Msg::Stop(End::Crash) => return Err("crash".into()),
                Msg::Stop(End::Normal) => return Ok(()),
            }
        }
        Ok(())
    }
}

#[worker(restart = temporary)]
#[derive(Clone)]
struct Job;

impl Worker for Job {
    type Message = Msg;

    async fn run(self, mut ctx: Context<Msg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                Msg::Ping(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                Msg::Stop(_) => return Ok(()),
            }
        }
        Ok(())
    }
}

fn session() -> Session {
    Session {
        ignore_restarts: false,
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn max_children_reached_refuses_the_start_and_starts_nothing() {
    let sup = DynamicSupervisor::<Session>::new()
        .max_children(2)
        .start("sessions")
        .await
        .unwrap();
    sup.start_child(session()).await.unwrap();
    sup.start_child(session()).await.unwrap();
    let err = sup.start_child(session()).await.unwrap_err();
    assert_eq!(err, CallError::MaxChildren);
    assert_eq!(sup.count_children().await.unwrap().specs, 2);
    sup.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_restarted_keyed_child_keeps_its_key_and_lookup_finds_it() {
    let sup = DynamicSupervisor::<Session>::new()
        .keyed::<u64>()
        .start("sessions")
        .await
        .unwrap();
    let alice = sup.start_child_keyed(7, session()).await.unwrap();
    assert_eq!(alice.child().unwrap().path(), "sessions/7");
    alice.send(Msg::Stop(End::Crash)).unwrap();
    settle().await;
    let found = sup.lookup(&7).expect("the key survives the restart");
    assert!(found.same_child(&alice));
    assert_eq!(found.call(Msg::Ping).await.unwrap(), 2);
    // A second start under a live key returns the running child's handle.
    match sup.start_child_keyed(7, session()).await {
        Err(KeyedStartError::AlreadyStarted(h)) => assert!(h.same_child(&alice)),
        other => panic!("expected already started, got {other:?}"),
    }
    sup.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_key_is_freed_whenever_its_child_is_gone_for_good() {
    let sup = DynamicSupervisor::<Job>::new()
        .keyed::<u64>()
        .start("jobs")
        .await
        .unwrap();
    // A temporary child that exited.
    let job = sup.start_child_keyed(1, Job).await.unwrap();
    job.send(Msg::Stop(End::Normal)).unwrap();
    settle().await;
    assert!(sup.lookup(&1).is_none());
    assert_eq!(job.call(Msg::Ping).await, Err(HandleError::NotFound));
    // The key can be taken again.
    sup.start_child_keyed(1, Job).await.unwrap();
    // A terminated child.
    let two = sup.start_child_keyed(2, Job).await.unwrap();
    sup.terminate_child(&two).await.unwrap();
    assert!(sup.lookup(&2).is_none());
    assert_eq!(sup.keyed_count(), 1);

    let sessions = DynamicSupervisor::<Session>::new()
        .keyed::<u64>()
        .start("sessions")
        .await
        .unwrap();
    // A transient child that exited normally.
    let s = sessions.start_child_keyed(3, session()).await.unwrap();
    s.send(Msg::Stop(End::Normal)).unwrap();
    settle().await;
    assert!(sessions.lookup(&3).is_none());
    // One whose restart was ignored.
    let ignoring = Session {
        ignore_restarts: true,
    };
    let s = sessions.start_child_keyed(4, ignoring).await.unwrap();
    s.send(Msg::Stop(End::Crash)).unwrap();
    settle().await;
    assert!(sessions.lookup(&4).is_none());
    // All of them when their supervisor stops.
    sessions.start_child_keyed(5, session()).await.unwrap();
    sessions.start_child_keyed(6, session()).await.unwrap();
    assert_eq!(sessions.keyed_count(), 2);
    sessions
        .supervisor()
        .current()
        .unwrap()
        .stop()
        .await
        .unwrap();
    assert_eq!(sessions.keyed_count(), 0);
    // Or dies.
    sup.start_child_keyed(9, Job).await.unwrap();
    let root = sup.supervisor().current().unwrap();
    root.kill();
    root.wait().await;
    assert_eq!(sup.keyed_count(), 0);
    assert!(sup.lookup(&9).is_none());
}

/// A worker that handles shutdown, taking `stop_ms` to stop, or never.
#[derive(Clone)]
struct Slow {
    stop_ms: Option<u64>,
}

impl Worker for Slow {
    type Message = ();

    const HANDLES_SHUTDOWN: bool = true;

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        match self.stop_ms {
            Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => std::future::pending().await,
        }
        Err(Exit::shutdown())
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_parallel_with_one_deadline_per_distinct_timeout() {
    let spec = DynamicSupervisorSpec::builder("pool").build().unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    let timeout = Shutdown::Timeout(Duration::from_millis(300));
    for (id, stop_ms) in [("a", Some(200)), ("b", None), ("c", Some(100))] {
        let spec = ChildSpec::worker(id, move || Slow { stop_ms }).shutdown(timeout);
        sup.start_child(spec).await.unwrap();
    }
    let t0 = tokio::time::Instant::now();
    sup.stop().await.unwrap();
    // Three children, each needing up to 300 ms: one deadline, not three.
    assert_eq!(t0.elapsed(), Duration::from_millis(300));
    let mut exits = Vec::new();
    let mut errors = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            Event::Exited { path, reason, .. } if &*path != "pool" => {
                exits.push(format!("{path} {reason}"))
            }
            Event::ShutdownError { child, reason, .. } => errors.push(format!("{child} {reason}")),
            _ => {}
        }
    }
    assert_eq!(
        exits,
        ["pool/c shutdown", "pool/a shutdown", "pool/b killed"]
    );
    assert_eq!(errors, ["pool/b killed"]);
}

/// Crashes as soon as it runs.
#[worker]
#[derive(Clone)]
struct Crasher {
    starts: Arc<AtomicU32>,
}

impl Worker for Crasher {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        self.starts.fetch_add(1, Ordering::SeqCst);
        Err("crash".into())
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_restarts_as_configured_and_still_gives_up_at_the_intensity() {
    let starts = Arc::new(AtomicU32::new(0));
    let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
    let spec = DynamicSupervisorSpec::builder("backing_off")
        .max_restarts(3)
        .max_seconds(60)
        .backoff(backoff)
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    let t0 = tokio::time::Instant::now();
    let s = starts.clone();
    sup.start_child(ChildSpec::worker("c", move || Crasher {
        starts: s.clone(),
    }))
    .await
    .unwrap();
    sup.wait().await;
    // Started at 0, restarted after 100, 200 and 400 ms; the fourth crash
    // exceeds the intensity at 700 ms.
    let mut starts_at = Vec::new();
    let mut gave_up_at = None;
    while let Some((at, event)) = events.try_recv_timed() {
        match event {
            Event::Started { child } if child.path() == "backing_off/c" => {
                starts_at.push((at - t0).as_millis())
            }
            Event::GaveUp { .. } => gave_up_at = Some((at - t0).as_millis()),
            _ => {}
        }
    }
    assert_eq!(starts_at, [0, 100, 300, 700]);
    assert_eq!(gave_up_at, Some(700));
    assert_eq!(starts.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn a_backing_off_child_shows_restarting_and_terminate_cancels_its_timer() {
    let starts = Arc::new(AtomicU32::new(0));
    let s = starts.clone();
    let sup = supervise::Supervisor::builder("app")
        .max_restarts(10)
        .backoff(Backoff::fixed(Duration::from_secs(10)))
        .child(ChildSpec::worker("c", move || Crasher {
            starts: s.clone(),
        }))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    settle().await;
    let children = sup.which_children().await.unwrap();
    assert_eq!(children[0].status, supervise::ChildStatus::Restarting);
    assert_eq!(sup.restart_child("c").await, Err(CallError::Restarting));
    assert_eq!(sup.count_children().await.unwrap().active, 0);
    sup.terminate_child("c").await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    // The timer was cancelled: no restart happened.
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert_eq!(
        sup.which_children().await.unwrap()[0].status,
        supervise::ChildStatus::Undefined
    );
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn task_supervisor_results_failures_restarts_and_shutdown() {
    let tasks = TaskSupervisor::new()
        .max_restarts(5)
        .start("tasks")
        .await
        .unwrap();
    assert_eq!(
        tasks.spawn(async { 40 + 2 }).await.unwrap().join().await,
        Ok(42)
    );
    let failed = tasks
        .spawn(async { panic!("boom") })
        .await
        .unwrap()
        .join()
        .await;
    match failed {
        Err(TaskError::Failed(ExitReason::Panic(p))) => assert_eq!(p.message, "boom"),
        other => panic!("expected a panic, got {other:?}"),
    }
    // A restarting task runs until it succeeds.
    let attempts = Arc::new(AtomicU32::new(0));
    let a = attempts.clone();
    let flaky = tasks
        .spawn_restarting(move || {
            let a = a.clone();
            async move {
                if a.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err("not yet")
                } else {
                    Ok("done")
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(flaky.join().await, Ok("done"));
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    // Tasks stop with their supervisor.
    let forever = tasks.spawn(std::future::pending::<()>()).await.unwrap();
    tasks.supervisor().current().unwrap().stop().await.unwrap();
    assert_eq!(forever.join().await, Err(TaskError::Stopped));
}

#[tokio::test(start_paused = true)]
async fn partitions_route_a_key_to_one_partition_and_find_it_there() {
    let orders = PartitionSupervisor::new(DynamicSupervisor::<Job>::new().keyed::<u64>(), 4)
        .unwrap()
        .start("orders")
        .await
        .unwrap();
    for id in 0..40u64 {
        orders.start_child(id, Job).await.unwrap();
    }
    let mut per_partition = Vec::new();
    for p in orders.partitions() {
        per_partition.push(p.count_children().await.unwrap().active);
    }
    assert_eq!(per_partition.iter().sum::<usize>(), 40);
    assert!(per_partition.iter().all(|&n| n > 0), "{per_partition:?}");
    for id in 0..40u64 {
        let job = orders.lookup(&id).expect("every key is found");
        let path = job.child().unwrap().path().to_string();
        let partition = orders.partition_of(&id).supervisor().current().unwrap();
        assert!(path.starts_with(partition.path()), "{path}");
    }
    orders.supervisor().current().unwrap().stop().await.unwrap();
}
