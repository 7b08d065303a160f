//! Seed 003's first supervisor (`examples::counter_kv`): after the counter
//! is killed, a call through the same handle answers 0, from a new
//! incarnation with fresh state; the key-value store is untouched.

use std::time::Duration;

use examples::counter_kv::{get, get_count, increment, put, wait_restart, MyApp};
use supervise::HandleError;

#[tokio::test(start_paused = true)]
async fn a_killed_counter_answers_zero_through_the_same_handle() {
    let app = MyApp::new().start().await.unwrap();
    let counter = app.counter.clone();
    assert_eq!(get_count(&counter).await, Ok(0));
    increment(&counter, 10).unwrap();
    assert_eq!(get_count(&counter).await, Ok(10));
    put(&app.kv_store, "greeting", "hello").unwrap();

    let killed = counter.child().unwrap();
    killed.kill();
    let restarted = wait_restart(&counter, &killed, Duration::from_secs(1))
        .await
        .expect("the supervisor restarts the counter");
    assert_eq!(restarted.incarnation(), 2);
    assert_eq!(get_count(&counter).await, Ok(0));

    // one_for_one: the store was not restarted and keeps its data.
    assert_eq!(app.kv_store.child().unwrap().incarnation(), 1);
    assert_eq!(
        get(&app.kv_store, "greeting").await,
        Ok(Some("hello".to_owned()))
    );
    app.supervisor().current().unwrap().stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_racing_the_kill_is_lost_or_answered_by_the_new_counter_never_stuck() {
    let app = MyApp::new().start().await.unwrap();
    increment(&app.counter, 10).unwrap();
    app.counter.child().unwrap().kill();
    // The kill is asynchronous: the call may reach the dying incarnation.
    let first = get_count(&app.counter).await;
    assert!(matches!(first, Ok(0) | Err(HandleError::Lost)), "{first:?}");
    assert_eq!(get_count(&app.counter).await, Ok(0));
    app.supervisor().current().unwrap().stop().await.unwrap();
}
