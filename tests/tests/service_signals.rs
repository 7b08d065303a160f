//! `ServiceSignals`: a SIGTERM that arrives during the start no longer
//! kills the process (the tree starts, then stops in order), and a root
//! that dies during its shutdown gives a non-zero exit code. Signals are
//! process-wide, so this binary holds one test that sends them in turn, to
//! itself; real time, short and bounded, asserting order and outcome only.

use std::sync::Arc;
use std::time::Duration;

use supervise::{
    ChildSpec, Context, Event, Exit, ExitReason, Init, ServiceExit, ServiceOptions, ServiceSignals,
    Shutdown, Supervisor, Worker,
};
use supervise_tests::{bounded, Idle, Stubborn};
use tokio::sync::Notify;

fn sigterm_self() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Tells when its init begins, then takes a while.
struct SlowInit(Arc<Notify>);

impl Worker for SlowInit {
    type Message = ();

    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        self.0.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Init::Ready)
    }

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn signals_during_the_start_and_an_abnormal_exit_during_the_shutdown() {
    // 1. A SIGTERM during the start: the tree finishes starting, then
    //    stops in reverse start order, and the outcome is a clean stop.
    let mut signals = ServiceSignals::install();
    let initialising = Arc::new(Notify::new());
    let notify = initialising.clone();
    let spec = Supervisor::builder("svc")
        .child(ChildSpec::worker("a", || Idle))
        .child(ChildSpec::worker("b", move || SlowInit(notify.clone())))
        .child(ChildSpec::worker("c", || Idle))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let (started, ()) = tokio::join!(signals.start(spec.start()), async {
        initialising.notified().await;
        sigterm_self();
    });
    let root = started.expect("the start finishes despite the signal");
    let exit = bounded("run", signals.run(&root, ServiceOptions::default())).await;
    assert_eq!(exit, ServiceExit::Stopped);
    assert_eq!(exit.code(), 0);
    let mut order = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            Event::Started { child } => order.push(format!("started {}", child.path())),
            Event::Exited { path, .. } => order.push(format!("exit {path}")),
            _ => {}
        }
    }
    assert_eq!(
        order,
        [
            "started svc/a",
            "started svc/b",
            "started svc/c",
            "started svc",
            "exit svc/c",
            "exit svc/b",
            "exit svc/a",
            "exit svc",
        ]
    );

    // 2. The root dies during its shutdown: that is an abnormal exit,
    //    code 1, not the 0 of a clean stop.
    let signals = ServiceSignals::install();
    let asked = Arc::new(Notify::new());
    let notify = asked.clone();
    let root = Supervisor::builder("svc2")
        .child(
            ChildSpec::worker("stubborn", move || Stubborn(notify.clone()))
                .shutdown(Shutdown::Infinity),
        )
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let (exit, ()) = tokio::join!(signals.run(&root, ServiceOptions::default()), async {
        tokio::task::yield_now().await;
        sigterm_self();
        asked.notified().await;
        root.kill();
    });
    assert_eq!(exit, ServiceExit::GaveUp(ExitReason::Killed));
    assert_eq!(exit.code(), 1);
}
