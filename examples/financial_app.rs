//! The "Financial Application Tree" (seed 002), declared with
//! `#[derive(Supervisor)]` in [`examples::financial_app`]: a rest_for_one
//! top level over a database pool and three subsystem supervisors, the
//! payment one with a `TaskSupervisor` for one-off payment tasks.
//!
//! It prints the tree, charges a payment through the task supervisor,
//! kills one child in each of three scenarios and prints which child
//! crashed and why, then what its supervisors restarted (parents before
//! their children), and finally the tree with each child's incarnation and
//! last exit.
//!
//! ```text
//! cargo run -p examples --example financial_app
//! ```

use examples::financial_app::{inject, FinancialApp, Scenario};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (spec, app) = FinancialApp::new().spec();
    let mut events = spec.subscribe();
    let root = spec.start().await.expect("the tree starts");

    println!("{}", root.snapshot().await.expect("a running tree"));

    let tasks = &app.payment_supervisor.payment_task_supervisor;
    let charge = tasks
        .spawn(async { format!("charged {} cents", 4_200) })
        .await
        .expect("the task supervisor takes the task");
    println!(
        "A one-off payment task under payment_task_supervisor: {}",
        charge.join().await.expect("the task succeeds")
    );

    for scenario in Scenario::ALL {
        println!("\n{}", scenario.title());
        let victim = scenario.victim(&app).child().expect("a running child");
        let mut restarted = inject(&app, &mut events, scenario).await;

        // The victim's exit, and the tree's depth-first order: a supervisor
        // reports it started after its children, but reads better first.
        let tree = root.snapshot().await.expect("a running tree");
        let walk = tree.walk();
        let position = |path: &str| walk.iter().position(|(_, c)| *c.path == *path);
        let (_, crashed) = walk[position(victim.path()).expect("the victim is in the tree")];
        let reason = &crashed.last_exit().expect("it exited").reason;
        println!("  {} crashed ({reason})", crashed.id);
        restarted.sort_by_key(|child| position(&format!("{}/{}", tree.path, child.path)));
        for child in restarted {
            println!("  restarted: {} (start #{})", child.path, child.incarnation);
        }
        println!("  {}", why(scenario));
    }

    println!("\nAfter the three failures (#incarnation, restarts in the window, last exit):\n");
    println!("{:#}", root.snapshot().await.expect("a running tree"));
    root.stop().await.expect("the tree stops");
}

/// What the crash's supervisor did, and why.
fn why(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::PaymentProcessorCrashes => {
            "payment_supervisor (one_for_one) restarted it alone: the task supervisor\n  \
             next to it kept running, and the levels above saw nothing."
        }
        Scenario::DonationProcessorCrashes => {
            "donation_supervisor (rest_for_one) restarted it and donation_worker, \
             started\n  after it. notification_supervisor is not restarted: \
             donation_supervisor handled\n  the crash itself and never exited, \
             so the top level saw nothing."
        }
        Scenario::DatabasePoolCrashes => {
            "The top level (rest_for_one) restarted it and every child started after \
             it:\n  the whole tree, each supervisor with its children."
        }
    }
}
