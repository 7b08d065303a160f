//! The seed's financial application, declared once with the derive and
//! once with `supervision_tree!`: both start, and their typed handles keep
//! working across restarts.

use std::time::Duration;

use supervise::{supervision_tree, worker, Context, Exit, Reply, Supervisor, Worker};

/// A service that answers how many times it was started.
#[worker]
#[derive(Clone)]
struct Service;

enum Ask {
    Incarnation(Reply<u64>),
}

impl Worker for Service {
    type Message = Ask;

    async fn run(self, mut ctx: Context<Ask>) -> Result<(), Exit> {
        while let Some(Ask::Incarnation(reply)) = ctx.recv().await {
            let _ = reply.send(ctx.incarnation());
        }
        Ok(())
    }
}

fn svc(_name: &str) -> Service {
    Service
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = one_for_one)]
struct PaymentSupervisor {
    processor: Service,
    tasks: Service,
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = rest_for_one)]
struct DonationSupervisor {
    processor: Service,
    worker: Service,
}

#[derive(Clone, Supervisor)]
struct NotificationSupervisor {
    service: Service,
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = rest_for_one, max_restarts = 3, max_seconds = 5)]
struct FinancialApp {
    database_pool: Service,
    payments: PaymentSupervisor,
    donations: DonationSupervisor,
    notifications: NotificationSupervisor,
}

supervision_tree! {
    #[supervisor(strategy = rest_for_one, max_restarts = 3, max_seconds = 5)]
    struct FinancialTree {
        database_pool: Service,
        #[supervisor(strategy = one_for_one)]
        payments: Payments {
            processor: Service,
            tasks: Service,
        },
        #[supervisor(strategy = rest_for_one)]
        donations: Donations {
            processor: Service,
            worker: Service,
        },
        notifications: Notifications {
            service: Service,
        },
    }
}

async fn incarnation(handle: &supervise::WorkerHandle<Service>) -> u64 {
    handle
        .call_timeout(Ask::Incarnation, Duration::from_secs(1))
        .await
        .expect("the service answers")
}

#[tokio::test(start_paused = true)]
async fn derived_financial_app_restarts_by_the_seed_rules() {
    let app = FinancialApp {
        database_pool: svc("db"),
        payments: PaymentSupervisor {
            processor: svc("payment_processor"),
            tasks: svc("payment_tasks"),
        },
        donations: DonationSupervisor {
            processor: svc("donation_processor"),
            worker: svc("donation_worker"),
        },
        notifications: NotificationSupervisor {
            service: svc("notification_service"),
        },
    }
    .start()
    .await
    .unwrap();

    // Scenario 1: the payment processor crashes; only it restarts.
    app.payments.processor.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(incarnation(&app.payments.processor).await, 2);
    assert_eq!(incarnation(&app.payments.tasks).await, 1);
    assert_eq!(incarnation(&app.donations.processor).await, 1);

    // Scenario 2: the donation processor crashes; the donation worker
    // restarts with it, and the top level sees nothing.
    app.donations.processor.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(incarnation(&app.donations.processor).await, 2);
    assert_eq!(incarnation(&app.donations.worker).await, 2);
    assert_eq!(incarnation(&app.notifications.service).await, 1);

    // Scenario 3: the database pool crashes; everything after it restarts.
    app.database_pool.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(incarnation(&app.database_pool).await, 2);
    assert_eq!(incarnation(&app.payments.processor).await, 3);
    assert_eq!(incarnation(&app.donations.worker).await, 3);
    assert_eq!(incarnation(&app.notifications.service).await, 2);

    let root = app.supervisor().current().unwrap();
    assert_eq!(root.path(), "financial_app");
    let payments = app.payments.supervisor().current().unwrap();
    assert_eq!(payments.path(), "financial_app/payments");
    root.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dsl_financial_tree_starts_and_handles_follow_restarts() {
    let tree = FinancialTree {
        database_pool: svc("db"),
        payments: Payments {
            processor: svc("payment_processor"),
            tasks: svc("payment_tasks"),
        },
        donations: Donations {
            processor: svc("donation_processor"),
            worker: svc("donation_worker"),
        },
        notifications: Notifications {
            service: svc("notification_service"),
        },
    }
    .start()
    .await
    .unwrap();
    tree.database_pool.child().unwrap().kill();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(incarnation(&tree.payments.processor).await, 2);
    assert_eq!(incarnation(&tree.notifications.service).await, 2);
    let root = tree.supervisor().current().unwrap();
    assert_eq!(root.path(), "financial_tree");
    root.stop().await.unwrap();
}
