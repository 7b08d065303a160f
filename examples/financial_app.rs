//! The seed's "Financial Application Tree", declared with the builder API:
//! a `rest_for_one` top level over a database pool and three subsystem
//! supervisors. It prints the tree, injects the seed's three failures, and
//! prints what restarted after each, as OTP's rules decide.
//!
//! The seed says that in scenario 2 (DonationProcessor crashes) the
//! NotificationSupervisor restarts too. It does not: DonationSupervisor
//! restarts DonationProcessor and DonationWorker itself and never exits, so
//! the top level sees nothing (the oracle in `../shared/conformance/oracle`
//! agrees). Only a crash of a top-level child cascades.
//!
//! ```text
//! cargo run -p examples --example financial_app
//! ```

use std::time::Duration;

use supervise::{
    ChildSpec, ChildStatus, Context, Event, EventStream, Exit, Strategy, Supervisor,
    SupervisorHandle, SupervisorSpec, Worker,
};

/// A service that runs until it is stopped or crashes.
#[derive(Clone)]
struct Service;

impl Worker for Service {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

fn service(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || Service)
}

fn subsystem(name: &str, strategy: Strategy, children: Vec<ChildSpec>) -> SupervisorSpec {
    Supervisor::builder(name)
        .strategy(strategy)
        .children(children)
        .build()
        .expect("a valid subsystem")
}

fn financial_app() -> SupervisorSpec {
    let payments = subsystem(
        "payment_supervisor",
        Strategy::OneForOne,
        vec![
            service("payment_processor"),
            // The seed's Task.Supervisor: a supervisor for one-off tasks,
            // started with no children.
            ChildSpec::supervisor(
                "payment_task_supervisor",
                subsystem("payment_task_supervisor", Strategy::OneForOne, vec![]),
            ),
        ],
    );
    let donations = subsystem(
        "donation_supervisor",
        Strategy::RestForOne,
        vec![service("donation_processor"), service("donation_worker")],
    );
    let notifications = subsystem(
        "notification_supervisor",
        Strategy::OneForOne,
        vec![service("notification_service")],
    );
    Supervisor::builder("financial_app")
        .strategy(Strategy::RestForOne)
        .child(service("database_pool"))
        .child(ChildSpec::supervisor("payment_supervisor", payments))
        .child(ChildSpec::supervisor("donation_supervisor", donations))
        .child(ChildSpec::supervisor(
            "notification_supervisor",
            notifications,
        ))
        .build()
        .expect("a valid tree")
}

/// Draws the tree as the seed does.
async fn draw(sup: &SupervisorHandle, prefix: &str, out: &mut String) {
    let mut children = sup.which_children().await.expect("a running supervisor");
    children.reverse(); // start order
    let count = children.len();
    for (i, child) in children.into_iter().enumerate() {
        let last = i + 1 == count;
        let id = child.id.as_deref().unwrap_or("?");
        let state = match &child.status {
            ChildStatus::Running(c) => format!("#{}", c.incarnation()),
            ChildStatus::Restarting => "restarting".into(),
            ChildStatus::Undefined => "stopped".into(),
        };
        out.push_str(&format!(
            "{prefix}{} {id} {state}\n",
            if last { "└──" } else { "├──" }
        ));
        if let ChildStatus::Running(c) = &child.status {
            if let Some(nested) = c.supervisor() {
                let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
                Box::pin(draw(&nested, &deeper, out)).await;
            }
        }
    }
}

async fn print_tree(root: &SupervisorHandle) {
    let mut out = format!("{}\n", root.path());
    draw(root, "", &mut out).await;
    print!("{out}");
}

/// Finds a running child by its path below the root.
async fn find(root: &SupervisorHandle, path: &[&str]) -> supervise::ChildRef {
    let mut sup = root.clone();
    for (depth, id) in path.iter().enumerate() {
        let children = sup.which_children().await.expect("a running supervisor");
        let info = children
            .into_iter()
            .find(|c| c.id.as_deref() == Some(*id))
            .expect("a declared child");
        let ChildStatus::Running(child) = info.status else {
            panic!("{id} is not running");
        };
        if depth + 1 == path.len() {
            return child;
        }
        sup = child.supervisor().expect("a supervisor");
    }
    unreachable!("the path is not empty")
}

/// Kills a child and prints every child that started again.
async fn inject(root: &SupervisorHandle, events: &mut EventStream, title: &str, path: &[&str]) {
    println!("\n{title}: {} crashes", path.join("/"));
    find(root, path).await.kill();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut restarted = Vec::new();
    while let Some(event) = events.try_recv() {
        if let Event::Started { child } = event {
            restarted.push(format!("{}#{}", child.path(), child.incarnation()));
        }
    }
    println!("  restarted: {}", restarted.join(", "));
}

#[tokio::main]
async fn main() {
    let spec = financial_app();
    let mut events = spec.subscribe();
    let app = spec.start().await.expect("the tree starts");
    while events.try_recv().is_some() {}

    print_tree(&app).await;
    inject(
        &app,
        &mut events,
        "Scenario 1",
        &["payment_supervisor", "payment_processor"],
    )
    .await;
    inject(
        &app,
        &mut events,
        "Scenario 2",
        &["donation_supervisor", "donation_processor"],
    )
    .await;
    println!("  (the seed expects notification_supervisor to restart too: it does not,");
    println!("   donation_supervisor handled the crash and never exited)");
    inject(&app, &mut events, "Scenario 3", &["database_pool"]).await;
    println!();
    print_tree(&app).await;
    app.stop().await.expect("the tree stops");
}
