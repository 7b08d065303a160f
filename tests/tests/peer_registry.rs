//! Elixir's `Registry`, case by case from its documented behaviour
//! (`Registry` 1.14: `register/3`, `unregister/2`, `unregister_match/4`,
//! `lookup/2`, `keys/2`, `values/3`, `update_value/3`, `count/1`,
//! `match/4`, `count_match/4`, `select/2`, `dispatch/3`, `partitions`, and
//! the `{:via, Registry, ...}` name), through `supervise::Registry`.
//!
//! A "process" here is a worker whose mailbox runs closures with its own
//! context, so that a test can make it register, unregister or exit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use supervise::{
    CallError, ChildRef, ChildSpec, ChildStatus, Context, Deliver, DynamicSupervisorSpec, Event,
    Exit, ExitReason, Init, Keys, Registry, RegistryError, Restart, SpecError, Supervisor,
    SupervisorHandle, SupervisorRef, Worker, WorkerHandle,
};
use supervise_tests::{bounded, settle, Idle};
use tokio::sync::mpsc;

// ===== a process that runs what it is sent =====

/// A closure run by a process with its own context; `Some(exit)` ends it.
struct Cmd(CmdFn);

type CmdFn = Box<dyn FnOnce(&Context<Cmd>) -> Option<Exit> + Send>;

struct Proc;

impl Worker for Proc {
    type Message = Cmd;

    async fn run(self, mut ctx: Context<Cmd>) -> Result<(), Exit> {
        while let Some(Cmd(cmd)) = ctx.recv().await {
            if let Some(exit) = cmd(&ctx) {
                return Err(exit);
            }
        }
        Ok(())
    }
}

/// Runs `f` in the process `p` and returns what it returned.
async fn run_in<R: Send + 'static>(
    p: &WorkerHandle<Proc>,
    f: impl FnOnce(&Context<Cmd>) -> R + Send + 'static,
) -> R {
    bounded(
        "a command",
        p.call(move |reply| {
            Cmd(Box::new(move |ctx| {
                let _ = reply.send(f(ctx));
                None
            }))
        }),
    )
    .await
    .expect("the process answers")
}

/// Makes `p` exit with `exit`.
fn exit_in(p: &WorkerHandle<Proc>, exit: Exit) {
    let mut exit = Some(exit);
    p.send(Cmd(Box::new(move |_| exit.take())))
        .unwrap_or_else(|_| panic!("the process runs"));
}

/// A root for the test's processes.
async fn procs() -> SupervisorHandle {
    Supervisor::builder("procs")
        .max_restarts(100)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

/// Starts a temporary process `id` under `sup`.
async fn spawn(sup: &SupervisorHandle, id: &str) -> (ChildRef, WorkerHandle<Proc>) {
    let (spec, handle) = ChildSpec::worker_with_handle(id, || Proc);
    let child = sup
        .start_child(spec.restart(Restart::Temporary))
        .await
        .unwrap()
        .unwrap();
    (child, handle)
}

async fn register<V: Clone + Send + Sync + 'static>(
    p: &WorkerHandle<Proc>,
    registry: &Registry<&'static str, V>,
    key: &'static str,
    value: V,
) -> Result<(), RegistryError> {
    let registry = registry.clone();
    run_in(p, move |ctx| registry.register(ctx, key, value)).await
}

// ===== unique keys =====

#[tokio::test(start_paused = true)]
async fn a_unique_key_is_refused_while_registered_with_its_owner() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::unique();
    let (p1, h1) = spawn(&sup, "p1").await;
    let (p2, h2) = spawn(&sup, "p2").await;
    assert_eq!(register(&h1, &registry, "hello", 1).await, Ok(()));
    // Elixir: {:error, {:already_registered, pid}}, the caller's own too.
    assert_eq!(
        register(&h2, &registry, "hello", 2).await,
        Err(RegistryError::AlreadyRegistered(p1.clone()))
    );
    assert_eq!(
        register(&h1, &registry, "hello", 3).await,
        Err(RegistryError::AlreadyRegistered(p1.clone()))
    );
    assert_eq!(registry.lookup(&"hello"), [(p1.clone(), 1)]);
    assert_eq!(registry.whereis(&"hello"), Some((p1.clone(), 1)));
    assert_eq!(registry.keys(&p1), ["hello"]);
    assert!(registry.keys(&p2).is_empty());
    assert_eq!(registry.values(&"hello", &p1), [1]);
    assert!(registry.values(&"hello", &p2).is_empty());
    // An unknown key has no entry: not an error for a read.
    assert!(registry.lookup(&"world").is_empty());
    assert_eq!(registry.whereis(&"world"), None);
    assert_eq!(registry.count(), 1);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_entry_vanishes_when_its_owner_exits_however_it_exits() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::unique();
    for (i, exit) in [
        Some(Exit::with_reason(ExitReason::Normal)),
        Some(Exit::shutdown()),
        Some(Exit::from("crash")),
        None, // killed
    ]
    .into_iter()
    .enumerate()
    {
        let (p, h) = spawn(&sup, &format!("p{i}")).await;
        register(&h, &registry, "name", 1).await.unwrap();
        assert_eq!(registry.whereis(&"name").map(|e| e.0), Some(p.clone()));
        match exit {
            Some(exit) => exit_in(&h, exit),
            None => p.kill(),
        }
        bounded("the exit", async {
            while !p.has_exited() {
                settle().await;
            }
        })
        .await;
        // Never returned once its owner has exited, by any read.
        assert!(registry.lookup(&"name").is_empty());
        assert_eq!(registry.count(), 0);
        assert!(registry.keys(&p).is_empty());
        assert!(registry.select(|_, _, _| true).is_empty());
        // And the key is free again.
        let (_, h2) = spawn(&sup, &format!("q{i}")).await;
        register(&h2, &registry, "name", 2).await.unwrap();
        exit_in(&h2, Exit::shutdown());
        settle().await;
    }
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_restarted_child_registers_again_as_its_new_incarnation() {
    /// Registers itself under `"worker"` at every start.
    struct SelfNamed(Registry<&'static str, u64>);
    impl Worker for SelfNamed {
        type Message = ();
        async fn run(self, ctx: Context) -> Result<(), Exit> {
            self.0.register(&ctx, "worker", ctx.incarnation())?;
            std::future::pending::<()>().await;
            Ok(())
        }
    }
    let registry = Registry::unique();
    let r = registry.clone();
    let (spec, handle) = ChildSpec::worker_with_handle("w", move || SelfNamed(r.clone()));
    let sup = Supervisor::builder("app")
        .child(spec)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    settle().await;
    let (first, n) = registry.whereis(&"worker").unwrap();
    assert_eq!(n, 1);
    first.kill();
    bounded("the restart", handle.wait_running(Duration::from_secs(60)))
        .await
        .unwrap();
    settle().await;
    let (second, n) = registry.whereis(&"worker").unwrap();
    assert_eq!(n, 2);
    assert_ne!(first, second);
    assert_eq!(registry.count(), 1);
    sup.stop().await.unwrap();
    assert_eq!(registry.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_registration_made_in_an_init_that_fails_or_ignores_is_gone() {
    struct Registers {
        registry: Registry<&'static str, ()>,
        then: Result<Init, &'static str>,
    }
    impl Worker for Registers {
        type Message = ();
        async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
            self.registry.register(ctx, "in-init", ())?;
            Ok(self.then?)
        }
        async fn run(self, _ctx: Context) -> Result<(), Exit> {
            std::future::pending::<()>().await;
            Ok(())
        }
    }
    let registry = Registry::unique();
    let sup = procs().await;
    for (id, then) in [("fails", Err("no")), ("ignores", Ok(Init::Ignore))] {
        let r = registry.clone();
        let spec = ChildSpec::worker(id, move || Registers {
            registry: r.clone(),
            then,
        })
        .restart(Restart::Temporary);
        let _ = sup.start_child(spec).await;
        assert!(registry.lookup(&"in-init").is_empty(), "{id}");
        assert_eq!(registry.count(), 0, "{id}");
    }
    // A successful init keeps it.
    let r = registry.clone();
    let spec = ChildSpec::worker("ready", move || Registers {
        registry: r.clone(),
        then: Ok(Init::Ready),
    });
    let child = sup.start_child(spec).await.unwrap().unwrap();
    assert_eq!(registry.whereis(&"in-init").map(|e| e.0), Some(child));
    sup.stop().await.unwrap();
}

// ===== duplicate keys =====

#[tokio::test(start_paused = true)]
async fn a_duplicate_key_holds_every_entry_the_same_owners_included() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::duplicate();
    let (p1, h1) = spawn(&sup, "p1").await;
    let (p2, h2) = spawn(&sup, "p2").await;
    register(&h1, &registry, "topic", 1).await.unwrap();
    register(&h1, &registry, "topic", 2).await.unwrap();
    register(&h2, &registry, "topic", 3).await.unwrap();
    let mut entries = registry.lookup(&"topic");
    entries.sort_by_key(|e| e.1);
    assert_eq!(entries, [(p1.clone(), 1), (p1.clone(), 2), (p2.clone(), 3)]);
    assert_eq!(registry.keys(&p1), ["topic", "topic"]);
    let mut values = registry.values(&"topic", &p1);
    values.sort();
    assert_eq!(values, [1, 2]);
    assert_eq!(registry.count(), 3);
    // match/4 and count_match/4, a predicate for the match spec.
    assert_eq!(registry.count_matching(&"topic", |v| *v > 1), 2);
    let mut big = registry.matching(&"topic", |v| *v > 1);
    big.sort_by_key(|e| e.1);
    assert_eq!(big, [(p1.clone(), 2), (p2.clone(), 3)]);
    // unregister/2 removes the caller's entries only, all of them.
    let r = registry.clone();
    run_in(&h1, move |ctx| r.unregister(ctx, &"topic"))
        .await
        .unwrap();
    assert_eq!(registry.lookup(&"topic"), [(p2.clone(), 3)]);
    // An unknown key: a typed error, nothing changed.
    let r = registry.clone();
    assert_eq!(
        run_in(&h1, move |ctx| r.unregister(ctx, &"topic")).await,
        Err(RegistryError::NotRegistered)
    );
    let r = registry.clone();
    assert_eq!(
        run_in(&h2, move |ctx| r.unregister(ctx, &"nowhere")).await,
        Err(RegistryError::NotRegistered)
    );
    assert_eq!(registry.count(), 1);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn unregister_matching_removes_the_callers_matching_entries_only() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::duplicate();
    let (p1, h1) = spawn(&sup, "p1").await;
    let (p2, h2) = spawn(&sup, "p2").await;
    for v in [1, 2, 3] {
        register(&h1, &registry, "k", v).await.unwrap();
    }
    register(&h2, &registry, "k", 2).await.unwrap();
    let r = registry.clone();
    let removed = run_in(&h1, move |ctx| {
        r.unregister_matching(ctx, &"k", |v| *v >= 2)
    })
    .await;
    assert_eq!(removed, 2);
    let mut left = registry.lookup(&"k");
    left.sort_by_key(|e| e.1);
    assert_eq!(left, [(p1, 1), (p2, 2)]);
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn select_reads_every_live_entry_of_every_key() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::unique();
    let (p1, h1) = spawn(&sup, "p1").await;
    let (p2, h2) = spawn(&sup, "p2").await;
    register(&h1, &registry, "a", 1).await.unwrap();
    register(&h1, &registry, "b", 2).await.unwrap();
    register(&h2, &registry, "c", 3).await.unwrap();
    let mut all = registry.select(|_, _, _| true);
    all.sort_by_key(|e| e.2);
    assert_eq!(
        all,
        [
            ("a", p1.clone(), 1),
            ("b", p1.clone(), 2),
            ("c", p2.clone(), 3)
        ]
    );
    let of_p2 = registry.select(|_, owner, _| *owner == p2);
    assert_eq!(of_p2, [("c", p2.clone(), 3)]);
    let mut keys = registry.keys(&p1);
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    sup.stop().await.unwrap();
}

// ===== update_value =====

#[tokio::test(start_paused = true)]
async fn update_value_changes_the_callers_own_value_and_returns_new_and_old() {
    let sup = procs().await;
    let registry: Registry<&'static str, u32> = Registry::unique();
    let (p1, h1) = spawn(&sup, "p1").await;
    let (_, h2) = spawn(&sup, "p2").await;
    register(&h1, &registry, "counter", 1).await.unwrap();
    let r = registry.clone();
    assert_eq!(
        run_in(&h1, move |ctx| r.update_value(ctx, &"counter", |v| v + 41)).await,
        Ok((42, 1))
    );
    assert_eq!(registry.lookup(&"counter"), [(p1, 42)]);
    // Elixir's :error: another process's key, and an unknown one.
    let r = registry.clone();
    assert_eq!(
        run_in(&h2, move |ctx| r.update_value(ctx, &"counter", |v| v + 1)).await,
        Err(RegistryError::NotRegistered)
    );
    let r = registry.clone();
    assert_eq!(
        run_in(&h1, move |ctx| r.update_value(ctx, &"nope", |v| v + 1)).await,
        Err(RegistryError::NotRegistered)
    );
    // Only unique keys name one value to update.
    let dup: Registry<&'static str, u32> = Registry::duplicate();
    register(&h1, &dup, "counter", 1).await.unwrap();
    assert_eq!(
        run_in(&h1, move |ctx| dup.update_value(ctx, &"counter", |v| v + 1)).await,
        Err(RegistryError::DuplicateKeys)
    );
    sup.stop().await.unwrap();
}

// ===== dispatch =====

/// Registers a channel sender under a topic and forwards what it gets.
struct Subscriber {
    topics: Registry<&'static str, mpsc::UnboundedSender<String>>,
    out: mpsc::UnboundedSender<(String, String)>,
    /// Drops its receiver at once (a subscriber that stopped listening).
    deaf: bool,
}

impl Worker for Subscriber {
    type Message = ();
    async fn run(self, ctx: Context) -> Result<(), Exit> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.topics.register(&ctx, "news", tx)?;
        if self.deaf {
            drop(rx);
            std::future::pending::<()>().await;
            return Ok(());
        }
        while let Some(message) = rx.recv().await {
            let _ = self.out.send((ctx.id().to_owned(), message));
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn dispatch_reaches_every_live_entry_and_counts_what_it_could_not_deliver() {
    let topics = Registry::duplicate();
    let (out, mut seen) = mpsc::unbounded_channel();
    let mut builder = Supervisor::builder("pubsub");
    for (id, deaf) in [("a", false), ("b", false), ("deaf", true)] {
        let (topics, out) = (topics.clone(), out.clone());
        builder = builder.child(ChildSpec::worker(id, move || Subscriber {
            topics: topics.clone(),
            out: out.clone(),
            deaf,
        }));
    }
    let spec = builder.build().unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    settle().await;
    assert_eq!(topics.count(), 3);

    let sent = topics.dispatch(&"news", "hello".to_owned());
    assert_eq!((sent.delivered, sent.dropped), (2, 1));
    settle().await;
    let mut got = vec![seen.try_recv().unwrap(), seen.try_recv().unwrap()];
    got.sort();
    assert_eq!(
        got,
        [
            ("a".to_owned(), "hello".to_owned()),
            ("b".to_owned(), "hello".to_owned())
        ]
    );
    // The undelivered message is reported as a mailbox reports its own.
    let mut dropped = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::MessagesDropped { path, count, .. } = event {
            dropped.push((path.to_string(), count));
        }
    }
    assert_eq!(dropped, [("pubsub/deaf".to_owned(), 1)]);

    // The callback form (Elixir's dispatch/3 with a function).
    let mut owners = Vec::new();
    let n = topics.dispatch_with(&"news", |entries| {
        owners = entries.iter().map(|(o, _)| o.id().to_owned()).collect();
    });
    owners.sort();
    assert_eq!(
        (n, owners),
        (3, vec!["a".into(), "b".into(), "deaf".into()])
    );

    // A topic nobody is on: nothing delivered, nothing dropped.
    let none = topics.dispatch(&"sports", "goal".to_owned());
    assert_eq!((none.delivered, none.dropped), (0, 0));
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_dispatch_to_an_entry_whose_incarnation_just_ended_is_counted_dropped() {
    // Each process registers its own handle: a typed entry.
    let spec = Supervisor::builder("procs").build().unwrap();
    let mut events = spec.subscribe();
    let sup = spec.start().await.unwrap();
    let registry: Registry<&'static str, WorkerHandle<Proc>> = Registry::duplicate();
    let mut procs = Vec::new();
    for id in ["p1", "p2"] {
        let (p, h) = spawn(&sup, id).await;
        register(&h, &registry, "group", h.clone()).await.unwrap();
        procs.push((p, h));
    }
    let delivered = Arc::new(AtomicUsize::new(0));
    let ping = |delivered: Arc<AtomicUsize>| {
        Cmd(Box::new(move |_| {
            delivered.fetch_add(1, Ordering::SeqCst);
            None
        }))
    };
    // `Cmd` is not `Clone`: dispatch through the callback form, one message
    // per entry, delivering through each entry's handle.
    let send_all = |registry: &Registry<&'static str, WorkerHandle<Proc>>| {
        let mut result = (0, 0);
        registry.dispatch_with(&"group", |entries| {
            for (owner, handle) in entries {
                match handle.deliver(owner, ping(delivered.clone())) {
                    Ok(()) => result.0 += 1,
                    Err(_) => result.1 += 1,
                }
            }
        });
        result
    };
    assert_eq!(send_all(&registry), (2, 0));
    // p1 is killed: it has not exited yet (its task has not run), but its
    // handle no longer reaches it, and what is meant for it is dropped.
    procs[0].0.kill();
    assert!(!procs[0].0.has_exited());
    assert_eq!(send_all(&registry), (1, 1));
    settle().await;
    // p2 ran both of its pings; p1's first was still queued when it was
    // killed, and died with it (counted by its mailbox).
    assert_eq!(delivered.load(Ordering::SeqCst), 2);
    // Once it has exited, its entry is gone: no longer counted at all.
    assert_eq!(send_all(&registry), (1, 0));
    while events.try_recv().is_some() {}

    // `dispatch` counts the same, and reports what it dropped.
    let notes: Registry<&'static str, WorkerHandle<Noted>> = Registry::duplicate();
    let me = Arc::new(OnceLock::new());
    let (n, m) = (notes.clone(), me.clone());
    let (spec, noted) = ChildSpec::worker_with_handle("noted", move || Noted {
        registry: n.clone(),
        me: m.clone(),
    });
    me.set(noted.clone()).ok();
    let child = sup.start_child(spec).await.unwrap().unwrap();
    settle().await;
    // Queued, not yet read when the incarnation is killed.
    assert_eq!(notes.dispatch(&"notes", Note).delivered, 1);
    child.kill();
    let sent = notes.dispatch(&"notes", Note);
    assert_eq!((sent.delivered, sent.dropped), (0, 1));
    settle().await;
    let mut dropped = 0;
    while let Some(event) = events.try_recv() {
        if let Event::MessagesDropped { path, count, .. } = event {
            if &*path == "procs/noted" {
                dropped += count;
            }
        }
    }
    // One undelivered by the dispatch, one delivered but still queued when
    // the incarnation died (its mailbox counts it): nothing lost uncounted.
    assert_eq!(dropped, 2);
    sup.stop().await.unwrap();
}

/// A worker that registers its own handle under `"notes"`, then reads.
struct Noted {
    registry: Registry<&'static str, WorkerHandle<Noted>>,
    me: Arc<OnceLock<WorkerHandle<Noted>>>,
}

#[derive(Clone)]
struct Note;

impl Worker for Noted {
    type Message = Note;
    async fn run(self, mut ctx: Context<Note>) -> Result<(), Exit> {
        let me = self.me.get().expect("set before the start").clone();
        self.registry.register(&ctx, "notes", me)?;
        while ctx.recv().await.is_some() {}
        Ok(())
    }
}

// ===== partitions =====

#[tokio::test(start_paused = true)]
async fn partitions_change_nothing_but_where_keys_live() {
    assert_eq!(
        Registry::<u32>::with_partitions(Keys::Unique, 0).unwrap_err(),
        SpecError::InvalidPartitions { partitions: 0 }
    );
    assert!(Registry::<u32>::with_partitions(Keys::Duplicate, usize::MAX).is_err());
    let sup = procs().await;
    for partitions in [1, 3, 16] {
        let registry: Registry<u32, u32> =
            Registry::with_partitions(Keys::Unique, partitions).unwrap();
        assert_eq!(registry.partitions(), partitions);
        assert_eq!(registry.keys_kind(), Keys::Unique);
        let (p, h) = spawn(&sup, &format!("p{partitions}")).await;
        let r = registry.clone();
        run_in(&h, move |ctx| {
            for k in 0..100 {
                r.register(ctx, k, k * 2).unwrap();
            }
        })
        .await;
        assert_eq!(registry.count(), 100);
        for k in 0..100 {
            assert_eq!(registry.whereis(&k), Some((p.clone(), k * 2)));
        }
        let mut keys = registry.keys(&p);
        keys.sort();
        assert_eq!(keys, (0..100).collect::<Vec<_>>());
        p.kill();
        settle().await;
        assert_eq!(registry.count(), 0);
    }
    sup.stop().await.unwrap();
}

// ===== via: naming a child through the registry =====

#[tokio::test(start_paused = true)]
async fn via_names_a_static_worker_across_its_restarts() {
    let names: Registry<&'static str, WorkerHandle<Proc>> = Registry::unique();
    let (spec, handle) = ChildSpec::worker_with_handle("proc", || Proc);
    let sup = Supervisor::builder("app")
        .child(spec.via(&names, "proc", handle.clone()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let (first, by_name) = names.whereis(&"proc").unwrap();
    assert_eq!(run_in(&by_name, |ctx| ctx.incarnation()).await, 1);
    first.kill();
    // Between the exit and the restart the name may be unregistered (as in
    // OTP); once the new incarnation runs, it is its.
    bounded("the restart", handle.wait_running(Duration::from_secs(60)))
        .await
        .unwrap();
    let (second, by_name) = names.whereis(&"proc").unwrap();
    assert_ne!(first, second);
    assert_eq!(second.incarnation(), 2);
    assert_eq!(run_in(&by_name, |ctx| ctx.incarnation()).await, 2);
    // Terminated: the name is free; restarted: taken again.
    sup.terminate_child("proc").await.unwrap();
    assert!(names.whereis(&"proc").is_none());
    let third = sup.restart_child("proc").await.unwrap().unwrap();
    assert_eq!(names.whereis(&"proc").map(|e| e.0), Some(third));
    sup.stop().await.unwrap();
    assert_eq!(names.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn via_names_a_supervisor_and_a_dynamic_child() {
    let names: Registry<&'static str, Option<SupervisorRef>> = Registry::unique();
    let inner = Supervisor::builder("inner")
        .child(ChildSpec::worker("idle", || Idle))
        .build()
        .unwrap();
    let inner_ref = inner.supervisor_ref();
    let jobs = DynamicSupervisorSpec::builder("jobs").build().unwrap();
    let jobs_ref = jobs.supervisor_ref();
    let sup = Supervisor::builder("app")
        .child(ChildSpec::supervisor("inner", inner).via(&names, "inner", Some(inner_ref)))
        .child(ChildSpec::dynamic_supervisor("jobs", jobs))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    // The supervisor: its entry's owner is its incarnation, whose handle is
    // the supervisor's; the value follows it across restarts.
    let (owner, value) = names.whereis(&"inner").unwrap();
    let handle = owner.supervisor().expect("a supervisor child");
    assert_eq!(handle.count_children().await.unwrap().active, 1);
    assert_eq!(value.unwrap().current().unwrap().path(), handle.path());
    owner.kill();
    bounded("the restart", async {
        while names.whereis(&"inner").is_none_or(|(o, _)| o == owner) {
            settle().await;
        }
    })
    .await;
    let (again, _) = names.whereis(&"inner").unwrap();
    assert_eq!(again.incarnation(), 2);

    // A dynamic child, named the same way; terminated, its name is free.
    let jobs = jobs_ref.current().unwrap();
    let job = jobs
        .start_child(ChildSpec::worker("job", || Idle).via(&names, "job-1", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(names.whereis(&"job-1").map(|e| e.0), Some(job.clone()));
    jobs.terminate_child_ref(&job).await.unwrap();
    assert!(names.whereis(&"job-1").is_none());
    sup.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn via_with_a_taken_key_fails_the_start_without_running_its_init() {
    struct Counted(Arc<AtomicUsize>);
    impl Worker for Counted {
        type Message = ();
        async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Init::Ready)
        }
        async fn run(self, _ctx: Context) -> Result<(), Exit> {
            std::future::pending::<()>().await;
            Ok(())
        }
    }
    let names: Registry<&'static str> = Registry::unique();
    let inits = Arc::new(AtomicUsize::new(0));
    let (i1, i2) = (inits.clone(), inits.clone());
    let first = ChildSpec::worker("a", move || Counted(i1.clone())).via(&names, "same", ());
    let second = ChildSpec::worker("b", move || Counted(i2.clone())).via(&names, "same", ());
    // A static supervisor: the second start fails the whole start (S3).
    let err = Supervisor::builder("app")
        .child(first.clone())
        .child(second.clone())
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to start child b: the key is already registered by app/a#1"),
        "{err}"
    );
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert_eq!(names.count(), 0);

    // A dynamic supervisor: the start is refused, nothing is added.
    let jobs = DynamicSupervisorSpec::builder("jobs")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let a = jobs.start_child(first).await.unwrap().unwrap();
    match jobs.start_child(second).await {
        Err(CallError::StartFailed(reason)) => {
            assert_eq!(
                reason.to_string(),
                format!("the key is already registered by {a}")
            );
        }
        other => panic!("expected a failed start, got {other:?}"),
    }
    assert_eq!(jobs.count_children().await.unwrap().active, 1);
    assert_eq!(names.whereis(&"same").map(|e| e.0), Some(a));
    jobs.stop().await.unwrap();
}

// ===== many tasks at once =====

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_and_lookups_from_many_tasks_at_once_agree() {
    let registry: Registry<u32, usize> = Registry::unique();
    let sup = procs().await;
    let mut procs = Vec::new();
    for i in 0..8 {
        procs.push(spawn(&sup, &format!("p{i}")).await);
    }
    // Eight processes race for the same 500 keys: each key has exactly one
    // owner, and every process is told who won the others.
    let mut racing = Vec::new();
    for (i, (_, h)) in procs.iter().enumerate() {
        let r = registry.clone();
        let h = h.clone();
        racing.push(tokio::spawn(async move {
            run_in(&h, move |ctx| {
                (0..500)
                    .filter(|&k| match r.register(ctx, k, i) {
                        Ok(()) => true,
                        Err(RegistryError::AlreadyRegistered(_)) => false,
                        Err(other) => panic!("{other}"),
                    })
                    .count()
            })
            .await
        }));
    }
    // Meanwhile, readers never see a key with two entries.
    let reader = {
        let registry = registry.clone();
        tokio::spawn(async move {
            for _ in 0..50 {
                for k in 0..500 {
                    assert!(registry.lookup(&k).len() <= 1);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut won = 0;
    for task in racing {
        won += tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("bounded")
            .unwrap();
    }
    reader.await.unwrap();
    assert_eq!(won, 500);
    assert_eq!(registry.count(), 500);
    for k in 0..500 {
        let (owner, i) = registry.whereis(&k).unwrap();
        assert_eq!(owner, procs[i].0);
    }
    let children = sup.which_children().await.unwrap();
    assert!(children
        .iter()
        .all(|c| matches!(c.status, ChildStatus::Running(_))));
    sup.stop().await.unwrap();
    assert_eq!(registry.count(), 0);
}
