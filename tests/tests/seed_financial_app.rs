//! Seed 002's "Financial Application Tree" (`examples::financial_app`,
//! declared with the derive): its shape, and what each of its three
//! failure scenarios restarts by OTP's rules.

use std::time::Duration;

use examples::financial_app::{inject, FinancialApp, Restarted, Scenario, ServiceApi};
use supervise::{Event, TaskError, WorkerHandle};

fn restarted(expected: &[(&str, u64)]) -> Vec<Restarted> {
    expected
        .iter()
        .map(|&(path, incarnation)| Restarted {
            path: path.to_owned(),
            incarnation,
        })
        .collect()
}

async fn incarnation(service: &WorkerHandle<examples::financial_app::Service>) -> u64 {
    tokio::time::timeout(Duration::from_secs(1), service.incarnation())
        .await
        .expect("the service answers within a second")
        .expect("the service answers")
}

#[tokio::test(start_paused = true)]
async fn the_tree_is_the_seeds() {
    let app = FinancialApp::new().start().await.unwrap();
    assert_eq!(
        app.snapshot().await.unwrap().to_string(),
        "\
financial_app (rest_for_one)
├── database_pool
├── payment_supervisor (one_for_one)
│   ├── payment_processor
│   └── payment_task_supervisor (dynamic)
├── donation_supervisor (rest_for_one)
│   ├── donation_processor
│   └── donation_worker
└── notification_supervisor (one_for_one)
    └── notification_service
"
    );
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn each_failure_restarts_what_otps_rules_say() {
    let (spec, app) = FinancialApp::new().spec();
    let mut events = spec.subscribe();
    let root = spec.start().await.unwrap();

    // Scenario 1: PaymentProcessor restarts alone; PaymentTaskSupervisor,
    // DonationSupervisor and NotificationSupervisor are unaffected.
    let got = inject(&app, &mut events, Scenario::PaymentProcessorCrashes).await;
    assert_eq!(
        got,
        restarted(&[("payment_supervisor/payment_processor", 2)])
    );

    // Scenario 2: DonationProcessor and DonationWorker restart
    // (rest_for_one in DonationSupervisor). The seed says
    // NotificationSupervisor restarts too; by OTP's rules it does not:
    // DonationSupervisor handles the crash and never exits.
    let got = inject(&app, &mut events, Scenario::DonationProcessorCrashes).await;
    assert_eq!(
        got,
        restarted(&[
            ("donation_supervisor/donation_processor", 2),
            ("donation_supervisor/donation_worker", 2),
        ])
    );
    assert_eq!(
        incarnation(&app.notification_supervisor.notification_service).await,
        1
    );

    // Scenario 3: DatabasePool restarts, and everything after it
    // (rest_for_one at the top), each supervisor after its children.
    let got = inject(&app, &mut events, Scenario::DatabasePoolCrashes).await;
    assert_eq!(
        got,
        restarted(&[
            ("database_pool", 2),
            ("payment_supervisor/payment_processor", 3),
            ("payment_supervisor/payment_task_supervisor", 2),
            ("payment_supervisor", 2),
            ("donation_supervisor/donation_processor", 3),
            ("donation_supervisor/donation_worker", 3),
            ("donation_supervisor", 2),
            ("notification_supervisor/notification_service", 2),
            ("notification_supervisor", 2),
        ])
    );

    // Nobody gave up, and the typed handles reach the new incarnations.
    while let Some(event) = events.try_recv() {
        assert!(!matches!(event, Event::GaveUp { .. }), "{event:?}");
    }
    assert_eq!(incarnation(&app.database_pool).await, 2);
    assert_eq!(
        incarnation(&app.payment_supervisor.payment_processor).await,
        3
    );
    assert_eq!(
        incarnation(&app.donation_supervisor.donation_worker).await,
        3
    );
    assert_eq!(
        incarnation(&app.notification_supervisor.notification_service).await,
        2
    );
    assert!(!root.gave_up());
    root.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_payment_task_supervisor_runs_one_off_tasks_in_isolation() {
    let app = FinancialApp::new().start().await.unwrap();
    let tasks = &app.payment_supervisor.payment_task_supervisor;
    let ok = tasks.spawn(async { 4_200 }).await.unwrap();
    assert_eq!(ok.join().await, Ok(4_200));
    // A failing task fails alone: the processor next to it keeps running.
    let failed = tasks
        .spawn(async {
            if true {
                panic!("card declined");
            }
        })
        .await
        .unwrap();
    assert!(matches!(failed.join().await, Err(TaskError::Failed(_))));
    assert_eq!(
        incarnation(&app.payment_supervisor.payment_processor).await,
        1
    );
    app.stop().await.unwrap();
}
