//! "Your First Supervisor" of seed 003 (*Supervisors*): `MyApp.Supervisor`
//! over a `Counter` (started from `0`) and a `KVStore`, one_for_one.
//!
//! ```text
//! iex> Counter.get_count()                            # 0
//! iex> Counter.increment(10)
//! iex> Counter.get_count()                            # 10
//! iex> Process.exit(Process.whereis(Counter), :kill)
//! iex> Counter.get_count()                            # 0
//! ```
//!
//! The typed handles play the registered names: a handle taken before the
//! kill reaches the new incarnation, whose state is fresh (its start
//! argument, `0`). The key-value store is not restarted and keeps its data.
//!
//! Both workers are `#[handlers]` GenServers: the seed's client functions
//! are the generated [`CounterApi`] and [`KvStoreApi`], methods of the
//! typed handles (`app.counter.get_count().await`).

use std::collections::HashMap;
use std::time::Duration;

use supervise::{handlers, worker, ChildRef, Supervisor, Worker, WorkerHandle};

/// The counter (the seed's `Counter` GenServer): its state lives in its
/// incarnation, built afresh from the field's value at every start.
#[worker]
#[derive(Clone, Debug)]
pub struct Counter {
    /// The count (the seed's `{Counter, 0}`: every start begins from it).
    pub count: u64,
}

#[handlers]
impl Counter {
    /// `Counter.increment(n)`: adds to the count (a cast).
    #[cast]
    fn increment(&mut self, n: u64) {
        self.count += n;
    }

    /// `Counter.get_count()`: the count (a call).
    #[call]
    fn get_count(&mut self) -> u64 {
        self.count
    }
}

/// The key-value store (the seed's `KVStore`).
#[worker]
#[derive(Clone, Debug, Default)]
pub struct KvStore {
    store: HashMap<String, String>,
}

#[handlers]
impl KvStore {
    /// `KVStore.put(key, value)`: stores a value (a cast).
    #[cast]
    fn put(&mut self, key: String, value: String) {
        self.store.insert(key, value);
    }

    /// `KVStore.get(key)`: the value of a key (a call).
    #[call]
    fn get(&mut self, key: String) -> Option<String> {
        self.store.get(&key).cloned()
    }
}

/// `MyApp.Supervisor`: `[{Counter, 0}, {KVStore, []}]`, one_for_one.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct MyApp {
    /// `{Counter, 0}`.
    pub counter: Counter,
    /// `{KVStore, []}`.
    pub kv_store: KvStore,
}

impl MyApp {
    /// The seed's children.
    pub fn new() -> Self {
        MyApp {
            counter: Counter { count: 0 },
            kv_store: KvStore::default(),
        }
    }
}

impl Default for MyApp {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits until `handle` reaches an incarnation other than `old` (its
/// restart), at most `timeout`. (Once `old` is killed, the handle stops
/// reaching it at once; a call also waits for the restart, up to 5 s.)
pub async fn wait_restart<W: Worker>(
    handle: &WorkerHandle<W>,
    old: &ChildRef,
    timeout: Duration,
) -> Option<ChildRef> {
    let poll = async {
        loop {
            match handle.child() {
                Some(child) if child != *old => return child,
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    };
    tokio::time::timeout(timeout, poll).await.ok()
}
