//! "Your First Supervisor" of seed 003: `MyApp.Supervisor` (one_for_one)
//! over a `Counter` started from 0 and a `KVStore`, declared with
//! `#[worker]` and `#[derive(Supervisor)]` in [`examples::counter_kv`].
//!
//! It replays the seed's iex session through the typed handles: the count
//! goes to 10, the counter is killed, and the same handle then answers 0
//! from the new incarnation, whose state is fresh. The key-value store was
//! not restarted and keeps its data.
//!
//! ```text
//! cargo run -p examples --example counter_kv
//! ```

use std::time::Duration;

use examples::counter_kv::{CounterApi, KvStoreApi, MyApp};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = MyApp::new().start().await.expect("the tree starts");
    println!("iex> MyApp.Supervisor.start_link(:ok)");

    println!(
        "iex> Counter.get_count()\n{}",
        app.counter.get_count().await.unwrap()
    );
    app.counter.increment(10).unwrap();
    println!("iex> Counter.increment(10)\n:ok");
    println!(
        "iex> Counter.get_count()\n{}",
        app.counter.get_count().await.unwrap()
    );
    app.kv_store.put("greeting".into(), "hello".into()).unwrap();
    println!("iex> KVStore.put(\"greeting\", \"hello\")\n:ok");

    println!("iex> Process.exit(Process.whereis(Counter), :kill)");
    let before = app.counter.child().expect("the counter runs");
    before.kill();
    let after = app
        .counter
        .wait_running(Duration::from_secs(1))
        .await
        .expect("the supervisor restarts the counter");
    println!(
        "true      (start #{} killed, start #{} running)",
        before.incarnation(),
        after.incarnation()
    );

    println!(
        "iex> Counter.get_count()\n{}",
        app.counter.get_count().await.unwrap()
    );
    println!(
        "iex> KVStore.get(\"greeting\")\n{:?}      (the store was not restarted)",
        app.kv_store.get("greeting".into()).await.unwrap()
    );
    app.stop().await.expect("the tree stops");
}
