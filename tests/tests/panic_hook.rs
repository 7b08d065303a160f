//! The panic hook: a supervised panic is reported once, with its location,
//! and the application's own hook still sees every other panic. (One test
//! in its own binary: panic hooks are process-wide.)

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervise::{ChildSpec, Context, Event, Exit, ExitReason, Supervisor, Worker};

static APP_HOOK_CALLS: AtomicU32 = AtomicU32::new(0);

struct Panicky;

impl Worker for Panicky {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        panic!("kaboom");
    }
}

#[tokio::test(start_paused = true)]
async fn supervised_panics_bypass_the_app_hook_and_keep_their_location() {
    std::panic::set_hook(Box::new(|_| {
        APP_HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
    }));
    supervise::install_panic_hook();
    supervise::install_panic_hook(); // installing twice chains once

    let spec = Supervisor::builder("app")
        .max_restarts(0)
        .child(ChildSpec::worker("panicky", || Panicky))
        .build()
        .unwrap();
    let mut events = spec.subscribe();
    let app = spec.start().await.unwrap();
    app.wait().await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut reason = None;
    while let Some(event) = events.try_recv() {
        if let Event::Exited {
            path, reason: r, ..
        } = event
        {
            if &*path == "app/panicky" {
                reason = Some(r);
            }
        }
    }
    let Some(ExitReason::Panic(panic)) = reason else {
        panic!("expected a panic exit, got {reason:?}");
    };
    assert_eq!(panic.message, "kaboom");
    let location = panic.location.as_deref().expect("the hook records where");
    assert!(location.contains("panic_hook.rs"), "{location}");
    // The application's hook did not print the supervised panic...
    assert_eq!(APP_HOOK_CALLS.load(Ordering::SeqCst), 0);
    // ...and still sees every other one.
    let _ = std::thread::spawn(|| panic!("not supervised")).join();
    assert_eq!(APP_HOOK_CALLS.load(Ordering::SeqCst), 1);
}
