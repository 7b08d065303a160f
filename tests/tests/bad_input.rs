//! Bad input at run time: every invalid spec the builders reject, starts
//! beyond `max_children`, unknown ids, calls to stopped supervisors and
//! duplicate keys. Each is refused with its typed error, and nothing that
//! is already running is disturbed: the tree's snapshot is the same before
//! and after, and no event was emitted but the ones the refusal explains.

use std::time::Duration;

use supervise::{
    worker, AutoShutdown, Backoff, CallError, Child, ChildSpec, Context, DynamicHandle,
    DynamicSupervisor, DynamicSupervisorSpec, Exit, ExitReason, HandleError, KeyedStartError,
    Reply, Restart, Shutdown, SpecError, Supervisor, SupervisorHandle, SupervisorSnapshot, Worker,
};
use supervise_tests::{bounded, settle, Outcome, Probe};

enum SessionMsg {
    Ping(Reply<u64>),
    Crash,
}

/// A permanent session: answers pings with its incarnation.
#[worker]
#[derive(Clone)]
struct Session;

impl Worker for Session {
    type Message = SessionMsg;

    async fn run(self, mut ctx: Context<SessionMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                SessionMsg::Ping(reply) => {
                    let _ = reply.send(ctx.incarnation());
                }
                SessionMsg::Crash => return Err("crash".into()),
            }
        }
        Ok(())
    }
}

/// The running tree every test leaves alone:
///
/// ```text
/// app (one_for_one)
/// ├── a
/// ├── sub (one_for_one)
/// │   └── x
/// ├── pool (dynamic, max_children 2): p1
/// └── sessions (dynamic, typed, max_children 2): one keyed child
/// ```
struct Tree {
    probe: Probe,
    app: SupervisorHandle,
    sub: SupervisorHandle,
    pool: SupervisorHandle,
    sessions: DynamicHandle<Session>,
    alice: supervise::WorkerHandle<Session>,
}

async fn start_tree() -> Tree {
    let probe = Probe::new();
    let sub = Supervisor::builder("sub")
        .child(probe.worker("x"))
        .build()
        .unwrap();
    let sub_ref = sub.supervisor_ref();
    let pool = DynamicSupervisorSpec::builder("pool")
        .max_children(2)
        .build()
        .unwrap();
    let pool_ref = pool.supervisor_ref();
    let (sessions_spec, sessions) =
        <DynamicSupervisor<Session> as Child>::child_spec("sessions", || {
            DynamicSupervisor::new().max_children(2)
        });
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .child(ChildSpec::supervisor("sub", sub))
        .child(ChildSpec::dynamic_supervisor("pool", pool))
        .child(sessions_spec)
        .build()
        .unwrap();
    probe.watch(&spec);
    let app = spec.start().await.unwrap();
    let pool = pool_ref.current().unwrap();
    pool.start_child(probe.worker("p1")).await.unwrap();
    let alice = sessions
        .start_child_keyed("alice".to_owned(), Session)
        .await
        .unwrap();
    settle().await;
    probe.take();
    Tree {
        probe,
        app,
        sub: sub_ref.current().unwrap(),
        pool,
        sessions,
        alice,
    }
}

/// What must not change: every child's path, state, incarnation, restarts
/// and exits, and every supervisor's restarts in its window.
fn picture(tree: &SupervisorSnapshot) -> Vec<String> {
    let mut lines = vec![format!(
        "{} restarts={}",
        tree.path, tree.restarts_in_window
    )];
    for (depth, child) in tree.walk() {
        lines.push(format!(
            "{depth} {} {:?} #{} restarts={} exits={}",
            child.path,
            child.state,
            child.incarnation,
            child.restarts_in_window,
            child.history.len()
        ));
        if let Some(nested) = &child.supervisor {
            lines.push(format!(
                "{} restarts={}",
                nested.path, nested.restarts_in_window
            ));
        }
    }
    lines
}

impl Tree {
    async fn picture(&self) -> Vec<String> {
        picture(&bounded("snapshot", self.app.snapshot()).await.unwrap())
    }

    /// Nothing changed since `before`, and the only events since are
    /// `expected`.
    async fn assert_undisturbed(&self, before: &[String], expected: &[&str]) {
        settle().await;
        assert_eq!(self.probe.take(), expected);
        assert_eq!(self.picture().await, before);
        // The running children still answer.
        assert_eq!(
            bounded("ping", self.alice.call(SessionMsg::Ping)).await,
            Ok(1)
        );
    }

    async fn stop(self) {
        bounded("stop", self.app.stop()).await.unwrap();
    }
}

// ===== invalid specs =====

#[tokio::test(start_paused = true)]
async fn every_spec_error_of_the_supervisor_builder_is_returned() {
    let tree = start_tree().await;
    let before = tree.picture().await;
    let probe = &tree.probe;

    let zero = Supervisor::builder("bad").period(Duration::ZERO);
    assert_eq!(zero.validate(), Err(SpecError::ZeroPeriod));
    assert_eq!(zero.build().unwrap_err(), SpecError::ZeroPeriod);
    assert_eq!(
        Supervisor::builder("bad")
            .max_seconds(0)
            .build()
            .unwrap_err(),
        SpecError::ZeroPeriod
    );
    assert_eq!(
        Supervisor::builder("bad")
            .child(probe.worker("a"))
            .child(probe.worker("b"))
            .child(probe.worker("a"))
            .build()
            .unwrap_err(),
        SpecError::DuplicateChildId { id: "a".into() }
    );
    assert_eq!(
        Supervisor::builder("bad")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .child(probe.worker("s").significant(true))
            .build()
            .unwrap_err(),
        SpecError::SignificantPermanent { id: "s".into() }
    );
    assert_eq!(
        Supervisor::builder("bad")
            .child(
                probe
                    .worker("s")
                    .restart(Restart::Transient)
                    .significant(true)
            )
            .build()
            .unwrap_err(),
        SpecError::SignificantWithoutAutoShutdown { id: "s".into() }
    );
    // The rules are checked in OTP's order: the flags before the children.
    assert_eq!(
        Supervisor::builder("bad")
            .period(Duration::ZERO)
            .child(probe.worker("a"))
            .child(probe.worker("a"))
            .build()
            .unwrap_err(),
        SpecError::ZeroPeriod
    );
    // Nothing was started by any of them.
    tree.assert_undisturbed(&before, &[]).await;
    tree.stop().await;
}

#[tokio::test(start_paused = true)]
async fn every_spec_error_of_the_dynamic_builders_is_returned() {
    let tree = start_tree().await;
    let before = tree.picture().await;
    let probe = &tree.probe;

    assert_eq!(
        DynamicSupervisorSpec::builder("bad")
            .period(Duration::ZERO)
            .build()
            .unwrap_err(),
        SpecError::ZeroPeriod
    );
    assert_eq!(
        DynamicSupervisorSpec::builder("bad")
            .template(probe.worker("t1"))
            .template(probe.worker("t2"))
            .build()
            .unwrap_err(),
        SpecError::BadTemplateCount {
            ids: vec!["t1".into(), "t2".into()]
        }
    );
    assert_eq!(
        DynamicSupervisorSpec::builder("bad")
            .auto_shutdown(AutoShutdown::AllSignificant)
            .build()
            .unwrap_err(),
        SpecError::AutoShutdownWithoutTemplate
    );
    assert_eq!(
        DynamicSupervisorSpec::builder("bad")
            .auto_shutdown(AutoShutdown::AnySignificant)
            .template(probe.worker("t").significant(true))
            .build()
            .unwrap_err(),
        SpecError::SignificantPermanent { id: "t".into() }
    );
    assert_eq!(
        DynamicSupervisorSpec::builder("bad")
            .template(
                probe
                    .worker("t")
                    .restart(Restart::Temporary)
                    .significant(true)
            )
            .build()
            .unwrap_err(),
        SpecError::SignificantWithoutAutoShutdown { id: "t".into() }
    );
    // The typed dynamic supervisor reports its zero period as a start error.
    let err = DynamicSupervisor::<Session>::new()
        .period(Duration::ZERO)
        .start("bad")
        .await
        .unwrap_err();
    assert_eq!(
        err.reason(),
        &ExitReason::error(SpecError::ZeroPeriod.to_string())
    );
    tree.assert_undisturbed(&before, &[]).await;
    tree.stop().await;
}

#[tokio::test(start_paused = true)]
async fn invalid_child_specs_given_to_running_supervisors_are_refused() {
    let tree = start_tree().await;
    let before = tree.picture().await;
    let probe = &tree.probe;

    // A static supervisor checks the child rules (S23.1).
    assert_eq!(
        tree.app
            .start_child(
                probe
                    .worker("s")
                    .restart(Restart::Transient)
                    .significant(true)
            )
            .await
            .unwrap_err(),
        CallError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "s".into() })
    );
    assert_eq!(
        tree.sub
            .start_child(probe.worker("s").significant(true))
            .await
            .unwrap_err(),
        CallError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "s".into() })
    );
    // Elixir's DynamicSupervisor wants a shutdown timeout above zero.
    assert_eq!(
        tree.pool
            .start_child(
                probe
                    .worker("z")
                    .shutdown(Shutdown::Timeout(Duration::ZERO))
            )
            .await
            .unwrap_err(),
        CallError::InvalidSpec(SpecError::InvalidShutdown {
            id: "z".into(),
            millis: 0
        })
    );
    tree.assert_undisturbed(&before, &[]).await;

    // A nested typed dynamic supervisor with a zero period cannot report
    // it from its child spec: its start fails, and nothing is added.
    let (bad, _handle) = <DynamicSupervisor<Session> as Child>::child_spec("bad", || {
        DynamicSupervisor::new().period(Duration::ZERO)
    });
    let reason = ExitReason::error(SpecError::ZeroPeriod.to_string());
    assert_eq!(
        tree.app.start_child(bad).await.unwrap_err(),
        CallError::StartFailed(reason.clone())
    );
    assert_eq!(
        tree.app.get_childspec("bad").await.unwrap_err(),
        CallError::NotFound
    );
    tree.assert_undisturbed(&before, &[&format!("start_failed app/bad#1 {reason}")])
        .await;
    tree.stop().await;
}

// ===== max_children =====

#[tokio::test(start_paused = true)]
async fn start_child_beyond_max_children_is_refused_and_starts_nothing() {
    let tree = start_tree().await;
    let probe = &tree.probe;
    tree.pool.start_child(probe.worker("p2")).await.unwrap();
    tree.sessions.start_child(Session).await.unwrap();
    settle().await;
    probe.take();
    let before = tree.picture().await;

    assert_eq!(
        tree.pool.start_child(probe.worker("p3")).await.unwrap_err(),
        CallError::MaxChildren
    );
    assert_eq!(
        tree.sessions.start_child(Session).await.unwrap_err(),
        CallError::MaxChildren
    );
    match tree
        .sessions
        .start_child_keyed("bob".to_owned(), Session)
        .await
    {
        Err(KeyedStartError::Call(CallError::MaxChildren)) => {}
        other => panic!("expected max_children, got {other:?}"),
    }
    assert_eq!(tree.pool.count_children().await.unwrap().specs, 2);
    assert_eq!(tree.sessions.count_children().await.unwrap().specs, 2);
    tree.assert_undisturbed(&before, &[]).await;

    // A child waiting on its restart backoff still counts (S30.2).
    let backing_off = DynamicSupervisorSpec::builder("backing_off")
        .max_children(1)
        .backoff(Backoff::fixed(Duration::from_secs(10)))
        .build()
        .unwrap();
    let backing_off_ref = backing_off.supervisor_ref();
    tree.app
        .start_child(ChildSpec::dynamic_supervisor("backing_off", backing_off))
        .await
        .unwrap();
    let backing_off = backing_off_ref.current().unwrap();
    backing_off
        .start_child(probe.worker("w"))
        .await
        .unwrap()
        .unwrap();
    probe.exit("app/backing_off/w", Outcome::error("crash"));
    settle().await;
    assert_eq!(
        backing_off
            .start_child(probe.worker("w2"))
            .await
            .unwrap_err(),
        CallError::MaxChildren
    );
    tree.stop().await;
}

/// A keyed start refused for `max_children` must not keep its key: the key
/// is reserved before the supervisor is asked, and the refusal has to give
/// it back.
#[tokio::test(start_paused = true)]
async fn a_key_refused_for_max_children_is_free_again() {
    let tree = start_tree().await;
    let extra = tree.sessions.start_child(Session).await.unwrap();
    match tree
        .sessions
        .start_child_keyed("bob".to_owned(), Session)
        .await
    {
        Err(KeyedStartError::Call(CallError::MaxChildren)) => {}
        other => panic!("expected max_children, got {other:?}"),
    }
    assert!(
        tree.sessions.lookup(&"bob".to_owned()).is_none(),
        "the refused key is still registered"
    );
    assert_eq!(tree.sessions.keyed_count(), 1, "only alice holds a key");
    // Once there is room, the key can be started.
    tree.sessions.terminate_child(&extra).await.unwrap();
    let bob = tree
        .sessions
        .start_child_keyed("bob".to_owned(), Session)
        .await;
    assert!(bob.is_ok(), "bob could not start: {bob:?}");
    tree.stop().await;
}

// ===== unknown ids =====

#[tokio::test(start_paused = true)]
async fn unknown_ids_are_not_found_and_disturb_nothing() {
    let tree = start_tree().await;
    let before = tree.picture().await;
    // Unknown, a grandchild's id, a path, the empty id.
    for id in ["nope", "x", "sub/x", "app/a", ""] {
        assert_eq!(
            tree.app.terminate_child(id).await,
            Err(CallError::NotFound),
            "{id}"
        );
        assert_eq!(
            tree.app.restart_child(id).await,
            Err(CallError::NotFound),
            "{id}"
        );
        assert_eq!(
            tree.app.delete_child(id).await,
            Err(CallError::NotFound),
            "{id}"
        );
        assert_eq!(
            tree.app.get_childspec(id).await,
            Err(CallError::NotFound),
            "{id}"
        );
    }
    for id in ["a", "nope"] {
        assert_eq!(tree.sub.terminate_child(id).await, Err(CallError::NotFound));
        assert_eq!(tree.sub.restart_child(id).await, Err(CallError::NotFound));
        assert_eq!(tree.sub.delete_child(id).await, Err(CallError::NotFound));
        assert_eq!(tree.sub.get_childspec(id).await, Err(CallError::NotFound));
    }
    // A reference that is not a child of the supervisor asked.
    let x = tree.probe.child("app/sub/x");
    assert_eq!(
        tree.app.terminate_child_ref(&x).await,
        Err(CallError::NotFound)
    );
    assert_eq!(
        tree.pool.terminate_child_ref(&x).await,
        Err(CallError::NotFound)
    );
    // A dynamic supervisor names children by reference only: Elixir's
    // DynamicSupervisor looks an id up among its children and does not
    // find it (S30.6; a simple_one_for_one refuses it as such, see
    // rules_dynamic.rs).
    assert_eq!(
        tree.pool.terminate_child("p1").await,
        Err(CallError::NotFound)
    );
    assert_eq!(
        tree.pool.restart_child("p1").await,
        Err(CallError::SimpleOneForOne)
    );
    assert_eq!(
        tree.pool.delete_child("p1").await,
        Err(CallError::SimpleOneForOne)
    );
    assert_eq!(
        tree.pool.get_childspec("p1").await,
        Err(CallError::NotFound)
    );
    assert!(tree.sessions.lookup(&"nobody".to_owned()).is_none());
    tree.assert_undisturbed(&before, &[]).await;

    // A handle whose child is gone for good.
    let gone = tree.sessions.start_child(Session).await.unwrap();
    tree.sessions.terminate_child(&gone).await.unwrap();
    let before = tree.picture().await;
    tree.probe.take();
    assert_eq!(
        tree.sessions.terminate_child(&gone).await,
        Err(CallError::NotFound)
    );
    assert_eq!(
        gone.call(SessionMsg::Ping).await,
        Err(HandleError::NotFound)
    );
    tree.assert_undisturbed(&before, &[]).await;
    tree.stop().await;
}

// ===== stopped supervisors =====

/// Every method of a stopped supervisor's handle returns `Stopped`.
async fn assert_every_call_stopped(
    sup: &SupervisorHandle,
    probe: &Probe,
    child: &supervise::ChildRef,
) {
    assert!(sup.is_stopped());
    assert_eq!(sup.which_children().await.unwrap_err(), CallError::Stopped);
    assert_eq!(sup.count_children().await.unwrap_err(), CallError::Stopped);
    assert_eq!(sup.snapshot().await.unwrap_err(), CallError::Stopped);
    assert_eq!(
        sup.get_childspec("x").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.start_child(probe.worker("new")).await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.terminate_child("x").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.terminate_child_ref(child).await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.restart_child("x").await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(sup.delete_child("x").await.unwrap_err(), CallError::Stopped);
    assert_eq!(sup.stop().await.unwrap_err(), CallError::Stopped);
    assert_eq!(
        sup.stop_with(ExitReason::shutdown_with("again"))
            .await
            .unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        sup.stop_timeout(ExitReason::Shutdown, Duration::from_secs(1))
            .await
            .unwrap_err(),
        CallError::Stopped
    );
    // Waiting on it returns at once; killing it does nothing.
    bounded("wait", sup.wait()).await;
    sup.kill();
}

#[tokio::test(start_paused = true)]
async fn every_call_to_a_stopped_supervisor_returns_stopped() {
    let tree = start_tree().await;
    let probe = &tree.probe.clone();
    let x = probe.child("app/sub/x");
    let p1 = probe.child("app/pool/p1");

    // A nested static supervisor, terminated by its parent, then started
    // again: the old handle reaches neither incarnation.
    tree.app.terminate_child("sub").await.unwrap();
    tree.app.restart_child("sub").await.unwrap().unwrap();
    settle().await;
    let before = tree.picture().await;
    probe.take();
    assert_every_call_stopped(&tree.sub, probe, &x).await;
    tree.assert_undisturbed(&before, &[]).await;

    // A nested dynamic supervisor, terminated.
    tree.app.terminate_child("pool").await.unwrap();
    settle().await;
    let before = tree.picture().await;
    probe.take();
    assert_every_call_stopped(&tree.pool, probe, &p1).await;
    tree.assert_undisturbed(&before, &[]).await;

    // The typed dynamic supervisor's handle, after its supervisor stopped.
    tree.app.terminate_child("sessions").await.unwrap();
    settle().await;
    let before = tree.picture().await;
    probe.take();
    assert_eq!(
        tree.sessions.supervisor().current().unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        tree.sessions.start_child(Session).await.unwrap_err(),
        CallError::Stopped
    );
    match tree
        .sessions
        .start_child_keyed("carol".to_owned(), Session)
        .await
    {
        Err(KeyedStartError::Call(CallError::Stopped)) => {}
        other => panic!("expected stopped, got {other:?}"),
    }
    assert_eq!(
        tree.sessions.which_children().await.unwrap_err(),
        CallError::Stopped
    );
    assert_eq!(
        tree.sessions.count_children().await.unwrap_err(),
        CallError::Stopped
    );
    // Its child is gone with it.
    assert_eq!(
        tree.sessions
            .terminate_child(&tree.alice)
            .await
            .unwrap_err(),
        CallError::NotFound
    );
    assert_eq!(
        tree.alice.call(SessionMsg::Ping).await,
        Err(HandleError::NotFound)
    );
    settle().await;
    assert_eq!(probe.take(), Vec::<String>::new());
    assert_eq!(tree.picture().await, before);

    // The root itself.
    let a = probe.child("app/a");
    let app = tree.app.clone();
    tree.stop().await;
    assert_every_call_stopped(&app, probe, &a).await;
}

#[tokio::test(start_paused = true)]
async fn calls_to_a_supervisor_that_gave_up_return_stopped() {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .max_restarts(0)
        .child(probe.worker("a"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    let a = probe.child("app/a");
    probe.exit("app/a", Outcome::error("crash"));
    bounded("give up", sup.wait()).await;
    assert!(sup.gave_up());
    assert_every_call_stopped(&sup, &probe, &a).await;
}

// ===== duplicate keys =====

#[tokio::test(start_paused = true)]
async fn a_duplicate_key_returns_the_running_child_and_starts_nothing() {
    let tree = start_tree().await;
    let before = tree.picture().await;
    match tree
        .sessions
        .start_child_keyed("alice".to_owned(), Session)
        .await
    {
        Err(KeyedStartError::AlreadyStarted(h)) => {
            assert!(h.same_child(&tree.alice));
            assert_eq!(h.call(SessionMsg::Ping).await, Ok(1));
        }
        other => panic!("expected already started, got {other:?}"),
    }
    assert_eq!(tree.sessions.keyed_count(), 1);
    tree.assert_undisturbed(&before, &[]).await;

    // Across a restart, the key still belongs to the same child.
    tree.alice.send(SessionMsg::Crash).unwrap();
    bounded(
        "alice restarts",
        tree.alice.wait_running(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    settle().await;
    let before = tree.picture().await;
    tree.probe.take();
    match tree
        .sessions
        .start_child_keyed("alice".to_owned(), Session)
        .await
    {
        Err(KeyedStartError::AlreadyStarted(h)) => assert!(h.same_child(&tree.alice)),
        other => panic!("expected already started, got {other:?}"),
    }
    settle().await;
    assert_eq!(tree.probe.take(), Vec::<String>::new());
    assert_eq!(tree.picture().await, before);

    // Two concurrent starts under one new key: exactly one wins.
    let (first, second) = tokio::join!(
        tree.sessions.start_child_keyed("dave".to_owned(), Session),
        tree.sessions.start_child_keyed("dave".to_owned(), Session),
    );
    let (winner, loser) = match (first, second) {
        (Ok(w), Err(KeyedStartError::AlreadyStarted(l)))
        | (Err(KeyedStartError::AlreadyStarted(l)), Ok(w)) => (w, l),
        other => panic!("expected one start and one refusal, got {other:?}"),
    };
    assert!(winner.same_child(&loser));
    assert_eq!(tree.sessions.count_children().await.unwrap().specs, 2);
    assert_eq!(
        bounded(
            "ping",
            winner.call_timeout(SessionMsg::Ping, Duration::from_secs(1))
        )
        .await,
        Ok(1)
    );
    tree.stop().await;
}
