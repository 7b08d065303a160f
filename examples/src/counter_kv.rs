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
//! The typed handles play the registered names, and the seed's client
//! functions are their generated methods ([`CounterApi`], [`KvStoreApi`]):
//! a handle taken before the kill reaches the new incarnation, whose state
//! is fresh (its start argument, `0`). The store is not restarted.

use std::collections::HashMap;

use supervise::{handlers, worker, Supervisor};

/// The counter (the seed's `Counter` GenServer): its state lives in its
/// incarnation, built afresh from the field's value at every start.
#[worker]
#[derive(Clone, Debug, Default)]
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
#[derive(Clone, Debug, Default, Supervisor)]
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
        Self::default()
    }
}
