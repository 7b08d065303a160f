//! The order processing system of seed 004, declared with
//! `supervision_tree!` in [`examples::order_system`]: a Repo, a journal
//! that saves its state when stopped (`#[worker(shutdown = "30s")]`,
//! handling shutdown), a rest_for_one `ServicesSupervisor` (inventory,
//! payment, notification) and a dynamic `OrderProcessorSupervisor` whose
//! temporary processors are keyed by order id.
//!
//! The seed's top level is one_for_one, while its comment on the Repo
//! wants "restart everything if it fails". Declaring that the other
//! children depend on the Repo makes the macro reject one_for_one:
//!
//! ```text
//! supervision_tree! {
//!     #[supervisor(strategy = one_for_one)]
//!     pub struct OrderSystem {
//!         repo: Repo,
//!         #[child(depends_on = [repo])]
//!         journal: Journal,
//!         // ...
//!     }
//! }
//!
//! error: `journal` declares `depends_on`, but supervisor `OrderSystem` would never restart it when what it depends on restarts: its strategy is `one_for_one`. Use `#[supervisor(strategy = rest_for_one)]` or `one_for_all`
//!    --> examples/src/order_system.rs
//!     |
//!     |         #[child(depends_on = [repo])]
//!     |                 ^^^^^^^^^^
//! ```
//!
//! (one such error per dependent child). The corrected tree is rest_for_one with the Repo first: this
//! example processes three orders (one completes, one is out of stock,
//! one is declined: temporary processors that fail are not restarted),
//! then crashes the Repo while an order is in flight, and shows
//! everything restarting in order, the in-flight processor stopped for
//! good, and the journal saving its state before it restarts. Stopping
//! the tree saves the journal again.
//!
//! ```text
//! cargo run -p examples --example order_system
//! ```

use std::time::Duration;

use examples::order_system::{wait_gone, Order, OrderSystem, RepoApi, Storage};
use supervise::Event;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let storage = Storage::with_orders([
        Order::new(1, "keyboard", 1, 4_999),
        Order::new(2, "monitor", 3, 59_999),
        Order::new(3, "server", 1, 999_999),
        Order::new(4, "mouse", 2, 1_999),
    ]);
    let stock = [
        ("keyboard", 10),
        ("monitor", 1),
        ("server", 5),
        ("mouse", 50),
    ];
    let (spec, app) = OrderSystem::new(&storage, &stock).spec();
    let mut events = spec.subscribe();
    let root = spec.start().await.expect("the tree starts");
    println!("{}", root.snapshot().await.unwrap());

    for id in [1, 2, 3] {
        let processor = app.start_processor(id).await.expect("the order exists");
        assert!(wait_gone(&processor, Duration::from_secs(5)).await);
    }
    let mut failed = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::ChildTerminated { child, reason, .. } = event {
            failed.push(format!("{child}: {reason}"));
        }
    }
    for id in [1, 2, 3] {
        let order = app.repo.get(id).await.unwrap().expect("the order exists");
        println!("order {id}: {:?}", order.status);
    }
    println!("processors that failed (temporary: not restarted):");
    for line in &failed {
        println!("  {line}");
    }
    println!(
        "a processor for a missing order fails to start: {}",
        app.start_processor(99).await.unwrap_err()
    );

    println!("\nThe Repo crashes while order 4 is being paid for.");
    let processor = app.start_processor(4).await.expect("the order exists");
    tokio::time::sleep(Duration::from_millis(10)).await;
    while events.try_recv().is_some() {}
    let t0 = tokio::time::Instant::now();
    app.repo.child().expect("the repo runs").kill();
    let mut restarted = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(35), events.recv()).await {
            Ok(Some(Event::Started { child })) => {
                restarted.push(format!("{} (start #{})", child.path(), child.incarnation()));
                if child.path() == "order_system/order_processor_supervisor" {
                    break;
                }
            }
            Ok(Some(_)) => {}
            _ => panic!("the tree restarts"),
        }
    }
    println!(
        "  restarted, in order, {:.1} s later (the journal saved its state first):",
        t0.elapsed().as_secs_f64()
    );
    for line in &restarted {
        println!("    {line}");
    }
    println!(
        "  order 4's processor was stopped for good: {}; its key is free: {}",
        processor.is_gone(),
        app.order_processor_supervisor.lookup(&4).is_none()
    );
    let saves = storage.read().journal_saves;
    println!("  the journal saved: {:?}", saves.last().unwrap());
    println!(
        "  order 4 is still {:?} in the database (the data lives outside the tree)",
        app.repo.get(4).await.unwrap().unwrap().status
    );

    let processor = app.start_processor(4).await.expect("the order exists");
    assert!(wait_gone(&processor, Duration::from_secs(5)).await);
    println!(
        "  processed again: order 4 is {:?}",
        app.repo.get(4).await.unwrap().unwrap().status
    );

    println!("\nStopping the tree: the journal saves its state on shutdown.");
    let t0 = tokio::time::Instant::now();
    root.stop().await.expect("the tree stops");
    println!(
        "  stopped in {:.1} s; the journal's saves: {:?}",
        t0.elapsed().as_secs_f64(),
        storage.read().journal_saves
    );
}
