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

use std::collections::HashMap;
use std::time::Duration;

use supervise::{
    worker, ChildRef, Context, Exit, HandleError, Reply, Supervisor, Worker, WorkerHandle,
};

/// How long a call waits for an answer, through a restart if need be.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The counter: its state lives in its incarnation.
#[worker]
#[derive(Clone, Debug)]
pub struct Counter {
    /// The count every start begins from (the seed's `{Counter, 0}`).
    pub initial: u64,
}

/// The messages of a [`Counter`].
#[derive(Debug)]
pub enum CounterMsg {
    /// Adds to the count (a cast).
    Increment(u64),
    /// Answers the count (a call).
    GetCount(Reply<u64>),
}

impl Worker for Counter {
    type Message = CounterMsg;

    async fn run(self, mut ctx: Context<CounterMsg>) -> Result<(), Exit> {
        let mut count = self.initial;
        while let Some(msg) = ctx.recv().await {
            match msg {
                CounterMsg::Increment(n) => count += n,
                CounterMsg::GetCount(reply) => {
                    let _ = reply.send(count);
                }
            }
        }
        Ok(())
    }
}

/// The key-value store.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct KvStore;

/// The messages of a [`KvStore`].
#[derive(Debug)]
pub enum KvMsg {
    /// Stores a value (a cast).
    Put(String, String),
    /// Answers the value of a key (a call).
    Get(String, Reply<Option<String>>),
}

impl Worker for KvStore {
    type Message = KvMsg;

    async fn run(self, mut ctx: Context<KvMsg>) -> Result<(), Exit> {
        let mut store = HashMap::new();
        while let Some(msg) = ctx.recv().await {
            match msg {
                KvMsg::Put(key, value) => {
                    store.insert(key, value);
                }
                KvMsg::Get(key, reply) => {
                    let _ = reply.send(store.get(&key).cloned());
                }
            }
        }
        Ok(())
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
            counter: Counter { initial: 0 },
            kv_store: KvStore,
        }
    }
}

impl Default for MyApp {
    fn default() -> Self {
        Self::new()
    }
}

/// `Counter.get_count()`: waits for a running counter (through a restart)
/// and its answer, at most [`CALL_TIMEOUT`].
///
/// # Errors
///
/// A [`HandleError`] when no counter answered in time.
pub async fn get_count(counter: &WorkerHandle<Counter>) -> Result<u64, HandleError> {
    counter
        .call_timeout(CounterMsg::GetCount, CALL_TIMEOUT)
        .await
}

/// `Counter.increment(n)`.
///
/// # Errors
///
/// A [`HandleError`] when the counter is not running.
pub fn increment(counter: &WorkerHandle<Counter>, n: u64) -> Result<(), HandleError> {
    counter.send(CounterMsg::Increment(n)).map_err(|e| e.error)
}

/// `KVStore.put(key, value)`.
///
/// # Errors
///
/// A [`HandleError`] when the store is not running.
pub fn put(store: &WorkerHandle<KvStore>, key: &str, value: &str) -> Result<(), HandleError> {
    store
        .send(KvMsg::Put(key.to_owned(), value.to_owned()))
        .map_err(|e| e.error)
}

/// `KVStore.get(key)`.
///
/// # Errors
///
/// A [`HandleError`] when no store answered in time.
pub async fn get(store: &WorkerHandle<KvStore>, key: &str) -> Result<Option<String>, HandleError> {
    let key = key.to_owned();
    store
        .call_timeout(|reply| KvMsg::Get(key, reply), CALL_TIMEOUT)
        .await
}

/// Waits until `handle` reaches an incarnation other than `old` (its
/// restart), at most `timeout`. (Once `old` is killed, the handle stops
/// reaching it at once; a call with a deadline, `call_timeout`, also waits
/// for the restart.)
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
