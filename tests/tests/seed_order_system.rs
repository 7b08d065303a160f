//! Seed 004's order processing system (`examples::order_system`, declared
//! with `supervision_tree!`), corrected to rest_for_one so that a Repo
//! crash restarts everything: temporary order processors keyed by order
//! id, a rest_for_one services supervisor, and a journal that saves its
//! state on shutdown within its 30 s.

use std::time::Duration;

use examples::order_system::{
    wait_gone, Order, OrderSystem, OrderSystemHandle, RepoApi, Status, Storage, PAYMENT_TIME,
    SAVE_TIME,
};
use supervise::{
    CallError, Event, EventStream, ExitReason, KeyedStartError, Restart, Shutdown, SupervisorHandle,
};

fn storage() -> Storage {
    Storage::with_orders([
        Order::new(1, "keyboard", 1, 4_999),
        Order::new(2, "monitor", 3, 59_999),
        Order::new(3, "server", 1, 999_999),
        Order::new(4, "mouse", 2, 1_999),
    ])
}

async fn start(storage: &Storage) -> (OrderSystemHandle, SupervisorHandle, EventStream) {
    let stock = [
        ("keyboard", 10),
        ("monitor", 1),
        ("server", 5),
        ("mouse", 50),
    ];
    let (spec, app) = OrderSystem::new(storage, &stock).spec();
    let events = spec.subscribe();
    let root = spec.start().await.unwrap();
    (app, root, events)
}

/// The paths that started, until `last` did.
async fn started_until(events: &mut EventStream, last: &str) -> Vec<String> {
    let mut paths = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(60), events.recv()).await {
            Ok(Some(Event::Started { child })) => {
                paths.push(child.path().to_owned());
                if child.path() == last {
                    return paths;
                }
            }
            Ok(Some(_)) => {}
            other => panic!("{last} did not start: {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn orders_are_processed_by_temporary_processors_keyed_by_order_id() {
    let storage = storage();
    let (app, root, mut events) = start(&storage).await;
    // Order 1's processor waits for the payment: while it runs, its id is
    // taken.
    let processor = app.start_processor(1).await.unwrap();
    assert_eq!(
        processor.child().unwrap().path(),
        "order_system/order_processor_supervisor/1"
    );
    assert!(matches!(
        app.start_processor(1).await,
        Err(KeyedStartError::AlreadyStarted(h)) if h.same_child(&processor)
    ));
    assert!(wait_gone(&processor, Duration::from_secs(5)).await);
    assert!(app.order_processor_supervisor.lookup(&1).is_none());
    for id in [2, 3] {
        let processor = app.start_processor(id).await.unwrap();
        assert!(wait_gone(&processor, Duration::from_secs(5)).await);
        assert!(app.order_processor_supervisor.lookup(&id).is_none());
    }
    let orders = storage.read().orders;
    assert_eq!(orders[&1].status, Status::Completed);
    assert_eq!(orders[&2].status, Status::Pending);
    assert_eq!(orders[&3].status, Status::Pending);

    // The failed processors exited abnormally and were not restarted.
    let mut terminated = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            Event::ChildTerminated { child, reason, .. } => {
                terminated.push(format!("{child}: {reason}"))
            }
            Event::Restarting { child, .. } => panic!("{child} restarted"),
            _ => {}
        }
    }
    assert_eq!(
        terminated,
        [
            "order_system/order_processor_supervisor/2: monitor is out of stock",
            "order_system/order_processor_supervisor/3: payment declined",
        ]
    );
    // A processor whose init finds no order fails to start.
    assert!(matches!(
        app.start_processor(99).await,
        Err(KeyedStartError::Call(CallError::StartFailed(_)))
    ));
    assert_eq!(app.order_processor_supervisor.keyed_count(), 0);
    root.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_repo_crash_restarts_everything_in_order_after_the_journal_saves() {
    let storage = storage();
    let (app, root, mut events) = start(&storage).await;
    let done = app.start_processor(1).await.unwrap();
    assert!(wait_gone(&done, Duration::from_secs(5)).await);
    // Order 4 is in flight: its processor waits for the payment.
    let in_flight = app.start_processor(4).await.unwrap();
    tokio::time::sleep(PAYMENT_TIME / 2).await;
    while events.try_recv().is_some() {}

    let t0 = tokio::time::Instant::now();
    app.repo.child().unwrap().kill();
    let restarted = started_until(&mut events, "order_system/order_processor_supervisor").await;
    assert_eq!(
        restarted,
        [
            "order_system/repo",
            "order_system/journal",
            "order_system/services_supervisor/inventory_service",
            "order_system/services_supervisor/payment_service",
            "order_system/services_supervisor/notification_service",
            "order_system/services_supervisor",
            "order_system/order_processor_supervisor",
        ]
    );
    // The restart waited for the journal to save its state.
    let took = t0.elapsed();
    assert_eq!(took, SAVE_TIME);
    assert_eq!(
        storage.read().journal_saves,
        [vec!["order 1 completed".to_owned()]]
    );

    // The in-flight processor is temporary: stopped, not restarted, key
    // freed; the order is still in the database, and can be processed.
    assert!(in_flight.is_gone());
    assert!(app.order_processor_supervisor.lookup(&4).is_none());
    assert_eq!(
        app.repo.get(4).await.unwrap().unwrap().status,
        Status::Pending
    );
    let again = app.start_processor(4).await.unwrap();
    assert!(wait_gone(&again, Duration::from_secs(5)).await);
    assert_eq!(
        app.repo.get(4).await.unwrap().unwrap().status,
        Status::Completed
    );
    assert!(!root.gave_up());
    root.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_the_repo_restarts_the_children_after_it_never_the_repo() {
    let storage = storage();
    let (app, root, mut events) = start(&storage).await;
    while events.try_recv().is_some() {}
    app.services_supervisor
        .inventory_service
        .child()
        .unwrap()
        .kill();
    // The services supervisor (rest_for_one) handles it alone.
    assert_eq!(
        started_until(
            &mut events,
            "order_system/services_supervisor/notification_service"
        )
        .await,
        [
            "order_system/services_supervisor/inventory_service",
            "order_system/services_supervisor/payment_service",
            "order_system/services_supervisor/notification_service",
        ]
    );
    // The journal crashes: it and the children after it restart.
    app.journal.child().unwrap().kill();
    assert_eq!(
        started_until(&mut events, "order_system/order_processor_supervisor").await,
        [
            "order_system/journal",
            "order_system/services_supervisor/inventory_service",
            "order_system/services_supervisor/payment_service",
            "order_system/services_supervisor/notification_service",
            "order_system/services_supervisor",
            "order_system/order_processor_supervisor",
        ]
    );
    assert_eq!(app.repo.child().unwrap().incarnation(), 1);
    root.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_journal_saves_its_state_on_shutdown_within_its_thirty_seconds() {
    let storage = storage();
    let (app, root, mut events) = start(&storage).await;
    let spec = root.get_childspec("journal").await.unwrap();
    assert_eq!(spec.shutdown, Shutdown::Timeout(Duration::from_secs(30)));
    assert_eq!(spec.restart, Restart::Permanent);
    let processor = app.start_processor(1).await.unwrap();
    assert!(wait_gone(&processor, Duration::from_secs(5)).await);

    let t0 = tokio::time::Instant::now();
    root.stop().await.unwrap();
    let took = t0.elapsed();
    assert_eq!(took, SAVE_TIME);
    assert_eq!(
        storage.read().journal_saves,
        [vec!["order 1 completed".to_owned()]]
    );
    // It stopped by itself with `shutdown`: it was not killed.
    let mut journal_exit = None;
    while let Some(event) = events.try_recv() {
        match event {
            Event::Exited { path, reason, .. } if &*path == "order_system/journal" => {
                journal_exit = Some(reason)
            }
            Event::ShutdownError { child, .. } => panic!("{child} was killed"),
            _ => {}
        }
    }
    assert_eq!(journal_exit, Some(ExitReason::Shutdown));
}
