//! The last OTP API cases of `supervisor_SUITE` that had no API: a
//! supervisor whose own init returns `ignore` (for `supervisor` and
//! Elixir's `DynamicSupervisor`), handled by its parent as any child start
//! that returns `ignore` (S5), and `get_childspec` with a pid on a
//! `simple_one_for_one` supervisor (`get_childspec/2`, L517-523, with
//! `find_child`'s fallback to the template for a dead pid, L1151-1165).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use supervise::{
    Backoff, CallError, ChildSpec, ChildStatus, DynamicSupervisorSpec, Event, Exit, ExitReason,
    Init, Restart, Shutdown, Supervisor, SupervisorSpec,
};
use supervise_tests::{settle, Idle};

/// A supervisor with one idle worker whose init decides by `ignore`.
fn decided_by(name: &str, ignore: Arc<AtomicBool>) -> SupervisorSpec {
    Supervisor::builder(name)
        .init(move || {
            Ok(if ignore.load(Ordering::SeqCst) {
                Init::Ignore
            } else {
                Init::Ready
            })
        })
        .child(ChildSpec::worker("w", || Idle))
        .build()
        .unwrap()
}

fn ignoring(name: &str) -> SupervisorSpec {
    decided_by(name, Arc::new(AtomicBool::new(true)))
}

// ===== init/1 -> ignore =====

#[tokio::test(start_paused = true)]
async fn s5_1_a_parent_keeps_an_ignoring_permanent_supervisor_and_drops_a_temporary_one() {
    let spec = Supervisor::builder("app")
        .child(ChildSpec::supervisor("kept", ignoring("kept")))
        .child(ChildSpec::supervisor("dropped", ignoring("dropped")).restart(Restart::Temporary))
        .child(ChildSpec::dynamic_supervisor(
            "dyn",
            DynamicSupervisorSpec::builder("dyn")
                .init(|| Ok(Init::Ignore))
                .build()
                .unwrap(),
        ))
        .child(ChildSpec::worker("after", || Idle))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let app = spec.start().await.unwrap();
    let children: Vec<_> = app
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id.unwrap().to_string(), c.status))
        .collect();
    assert_eq!(children.len(), 3);
    assert!(matches!(&children[0], (id, ChildStatus::Running(_)) if id == "after"));
    assert_eq!(children[1], ("dyn".to_owned(), ChildStatus::Undefined));
    assert_eq!(children[2], ("kept".to_owned(), ChildStatus::Undefined));
    let counts = app.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active, counts.supervisors), (3, 1, 2));
    // Reported as ignored starts, with no exit: they never ran.
    let mut ignored = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            Event::StartIgnored { path, .. } => ignored.push(path.to_string()),
            Event::Exited { path, .. } => panic!("{path} exited"),
            _ => {}
        }
    }
    assert_eq!(ignored, ["app/kept", "app/dropped", "app/dyn"]);
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s5_2_and_s5_3_start_child_and_restart_child_of_an_ignoring_supervisor_return_none() {
    let app = Supervisor::builder("app")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let ignore = Arc::new(AtomicBool::new(true));
    let spec = ChildSpec::supervisor("sub", decided_by("sub", ignore.clone()));
    assert_eq!(app.start_child(spec).await, Ok(None));
    // Kept, not running: restart_child asks its init again.
    assert_eq!(app.restart_child("sub").await, Ok(None));
    ignore.store(false, Ordering::SeqCst);
    let sub = app.restart_child("sub").await.unwrap().unwrap();
    assert_eq!(
        sub.supervisor()
            .unwrap()
            .count_children()
            .await
            .unwrap()
            .active,
        1
    );
    // A temporary one is not kept at all.
    let temporary = ChildSpec::supervisor("temp", ignoring("temp")).restart(Restart::Temporary);
    assert_eq!(app.start_child(temporary).await, Ok(None));
    assert_eq!(app.restart_child("temp").await, Err(CallError::NotFound));
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn s5_4_an_automatic_restart_that_ignores_leaves_the_supervisor_not_running() {
    let ignore = Arc::new(AtomicBool::new(false));
    let spec = Supervisor::builder("app")
        .child(ChildSpec::supervisor(
            "sub",
            decided_by("sub", ignore.clone()),
        ))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let app = spec.start().await.unwrap();
    let ChildStatus::Running(sub) = app.which_children().await.unwrap().remove(0).status else {
        panic!("running");
    };
    ignore.store(true, Ordering::SeqCst);
    sub.kill();
    settle().await;
    let children = app.which_children().await.unwrap();
    assert_eq!(children[0].status, ChildStatus::Undefined);
    // One restart decision, its start ignored, no retry.
    let mut seen = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            Event::Restarting { child, .. } => seen.push(format!("restarting {child}")),
            Event::StartIgnored { path, incarnation } => {
                seen.push(format!("ignored {path}#{incarnation}"))
            }
            _ => {}
        }
    }
    assert_eq!(seen, ["restarting app/sub", "ignored app/sub#2"]);
    assert!(!app.is_stopped());
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_root_whose_init_ignores_starts_nothing_and_says_so() {
    let err = ignoring("root").start().await.unwrap_err();
    assert!(err.is_ignored());
    assert_eq!(err.reason(), &ExitReason::Normal);
    assert_eq!(
        err.to_string(),
        "the supervisor's init returned ignore: nothing was started"
    );
    let err = DynamicSupervisorSpec::builder("dyn")
        .init(|| Ok(Init::Ignore))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert!(err.is_ignored());
}

#[tokio::test(start_paused = true)]
async fn an_init_that_fails_fails_the_start_with_its_reason() {
    let failing = Supervisor::builder("sub")
        .init(|| Err(Exit::from("no config")))
        .child(ChildSpec::worker("w", || Idle))
        .build()
        .unwrap();
    let root_err = failing.clone().start().await.unwrap_err();
    assert!(!root_err.is_ignored());
    assert_eq!(root_err.to_string(), "no config");
    // As a child: its parent fails to start, naming it (S3).
    let err = Supervisor::builder("app")
        .child(ChildSpec::supervisor("sub", failing))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "failed to start child sub: no config");
    // A panic in the decision is a failed start too.
    let panicking = Supervisor::builder("p")
        .init(|| panic!("init panicked"))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert!(matches!(panicking.reason(), ExitReason::Panic(_)));
}

// ===== get_childspec with a pid =====

#[tokio::test(start_paused = true)]
async fn get_childspec_of_a_simple_one_for_one_child_is_its_template() {
    let template = ChildSpec::worker("job", || Idle)
        .restart(Restart::Transient)
        .shutdown(Shutdown::BrutalKill);
    let jobs = DynamicSupervisorSpec::builder("jobs")
        .template(template)
        .max_restarts(10)
        .backoff(Backoff::fixed(Duration::from_secs(3600)))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let other = DynamicSupervisorSpec::builder("other")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let job = jobs
        .start_child(ChildSpec::worker("x", || Idle))
        .await
        .unwrap()
        .unwrap();
    let spec = jobs.get_childspec_ref(&job).await.unwrap();
    assert_eq!(
        (&*spec.id, spec.restart, spec.shutdown),
        ("job", Restart::Transient, Shutdown::BrutalKill)
    );
    // By id, as OTP: the template's id finds the template.
    assert_eq!(jobs.get_childspec("job").await.unwrap(), spec);

    // Restarting (waiting on its backoff): found under the pid that ran last.
    job.kill();
    settle().await;
    assert_eq!(jobs.get_childspec_ref(&job).await.unwrap(), spec);
    jobs.terminate_child_ref(&job).await.unwrap();
    // Gone: as OTP's find_child, a pid that is no longer alive finds the
    // template.
    assert_eq!(jobs.get_childspec_ref(&job).await.unwrap(), spec);
    // A live process that is not its child: not found.
    let stranger = other
        .start_child(ChildSpec::worker("s", || Idle))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        jobs.get_childspec_ref(&stranger).await,
        Err(CallError::NotFound)
    );
    jobs.stop().await.unwrap();
    other.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn get_childspec_with_a_pid_elsewhere() {
    // Elixir's DynamicSupervisor (no template): the child's own spec; a
    // pid it does not know, dead or alive, is not found.
    let dynamic = DynamicSupervisorSpec::builder("dyn")
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let child = dynamic
        .start_child(ChildSpec::worker("mine", || Idle).restart(Restart::Temporary))
        .await
        .unwrap()
        .unwrap();
    let spec = dynamic.get_childspec_ref(&child).await.unwrap();
    assert_eq!((&*spec.id, spec.restart), ("mine", Restart::Temporary));
    dynamic.terminate_child_ref(&child).await.unwrap();
    assert_eq!(
        dynamic.get_childspec_ref(&child).await,
        Err(CallError::NotFound)
    );

    // A static supervisor looks a pid up as an id (S24.4): never found.
    let app = Supervisor::builder("app")
        .child(ChildSpec::worker("w", || Idle))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let ChildStatus::Running(w) = app.which_children().await.unwrap().remove(0).status else {
        panic!("running");
    };
    assert_eq!(app.get_childspec_ref(&w).await, Err(CallError::NotFound));
    assert_eq!(app.get_childspec("w").await.unwrap().id.as_ref(), "w");
    app.stop().await.unwrap();
    dynamic.stop().await.unwrap();
    assert_eq!(
        dynamic.get_childspec_ref(&child).await,
        Err(CallError::Stopped)
    );
}
