//! Seed 003's first supervisor (`examples::counter_kv`): after the counter
//! is killed, a call through the same handle answers 0, from a new
//! incarnation with fresh state; the key-value store is untouched.

use std::time::Duration;

use examples::counter_kv::{CounterApi, KvStoreApi, MyApp};
use supervise::HandleError;
use tokio::time::timeout;

#[tokio::test(start_paused = true)]
async fn a_killed_counter_answers_zero_through_the_same_handle() {
    let app = MyApp::new().start().await.unwrap();
    let counter = app.counter.clone();
    assert_eq!(counter.get_count().await, Ok(0));
    counter.increment(10).unwrap();
    assert_eq!(counter.get_count().await, Ok(10));
    app.kv_store.put("greeting".into(), "hello".into()).unwrap();

    let killed = counter.child().unwrap();
    killed.kill();
    let restarted = counter
        .wait_running(Duration::from_secs(1))
        .await
        .expect("the supervisor restarts the counter");
    assert_eq!(restarted.incarnation(), 2);
    assert_eq!(counter.get_count().await, Ok(0));

    // one_for_one: the store was not restarted and keeps its data.
    assert_eq!(app.kv_store.child().unwrap().incarnation(), 1);
    assert_eq!(
        app.kv_store.get("greeting".into()).await,
        Ok(Some("hello".to_owned()))
    );
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_racing_the_kill_is_lost_or_answered_by_the_new_counter_never_stuck() {
    let app = MyApp::new().start().await.unwrap();
    app.counter.increment(10).unwrap();
    app.counter.child().unwrap().kill();
    // The kill is asynchronous: the call may reach the dying incarnation.
    // Never stuck: each call ends within a second.
    let first = timeout(Duration::from_secs(1), app.counter.get_count())
        .await
        .expect("the call ends");
    assert!(matches!(first, Ok(0) | Err(HandleError::Lost)), "{first:?}");
    let second = timeout(Duration::from_secs(1), app.counter.get_count())
        .await
        .expect("the call ends");
    assert_eq!(second, Ok(0));
    app.stop().await.unwrap();
}
