//! `Registry`: children by key (Elixir's `Registry`), unique or duplicate
//! keys, partitioned for concurrency, each entry owned by the incarnation
//! that registered it.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`Registry`], its keys, its errors, and every read and write |
//! | `table` | one partition: its entries by key and the amortised purge of the dead ones |
//! | `deliver` | [`Deliver`], what [`Registry::dispatch`] sends through, and [`Dispatched`] |
//! | `via` | [`ChildSpec::via`](crate::ChildSpec::via): every incarnation of a child registers itself as it starts (the `{:via, Registry, ...}` name) |
//!
//! An entry lives as long as its owner, an incarnation: once that has
//! exited ([`ChildRef::has_exited`]) the entry is dead. Nothing tells the
//! registry when an incarnation ends; instead every read skips the dead
//! entries (so none is ever returned or counted), and the writes drop them:
//! a registration drops those of its key, and a partition purges all of its
//! own when it has doubled since the last purge.

mod deliver;
mod table;
mod via;

pub use self::deliver::{Deliver, Dispatched};

use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};
use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::child::ChildRef;
use crate::error::SpecError;
use crate::worker::Context;

use self::table::{Entry, Table};

/// Whether a key holds one entry or many (Elixir's `keys: :unique` and
/// `keys: :duplicate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keys {
    /// One live entry per key: a second registration under a taken key is
    /// refused ([`RegistryError::AlreadyRegistered`]). For names.
    Unique,
    /// Any number of entries per key, the same owner's included. For
    /// groups and PubSub topics.
    Duplicate,
}

/// Why a registry refused a registration or a change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// The key of a unique registry is taken by a live entry of this
    /// incarnation (Elixir's `{:error, {:already_registered, pid}}`).
    AlreadyRegistered(ChildRef),
    /// The caller has no entry under that key (an unknown key; Elixir's
    /// `:error` from `update_value/3`).
    NotRegistered,
    /// `update_value` on a registry with duplicate keys (Elixir raises
    /// there): only a unique key names one value to update.
    DuplicateKeys,
    /// The registering incarnation has exited already: it can own nothing.
    Exited,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::AlreadyRegistered(owner) => {
                write!(f, "the key is already registered by {owner}")
            }
            RegistryError::NotRegistered => f.write_str("no entry of the caller under this key"),
            RegistryError::DuplicateKeys => f.write_str(
                "update_value needs a registry with unique keys: this one has duplicate keys",
            ),
            RegistryError::Exited => {
                f.write_str("the registering incarnation has exited: it can own no entry")
            }
        }
    }
}

impl std::error::Error for RegistryError {}

/// A registry of children by key: Elixir's `Registry`, typed by its keys
/// `K` and its values `V`.
///
/// A child registers itself from its [`Context`] (Elixir's
/// `Registry.register/3` registers the calling process), and its entry is
/// gone when that incarnation ends: a crash, a stop or a restart. A
/// registry is a value, not a process: it can be cloned (the clones share
/// their entries) and used from any task. Reads never block each other;
/// writes lock one partition, chosen by the key's hash.
///
/// What it offers, by Elixir's name: [`register`](Self::register),
/// [`unregister`](Self::unregister),
/// [`unregister_matching`](Self::unregister_matching) (`unregister_match`),
/// [`lookup`](Self::lookup), [`whereis`](Self::whereis) (`whereis_name`),
/// [`keys`](Self::keys), [`values`](Self::values),
/// [`update_value`](Self::update_value), [`count`](Self::count),
/// [`matching`](Self::matching) and [`count_matching`](Self::count_matching)
/// (`match/4` and `count_match/4`, a predicate for the match spec),
/// [`select`](Self::select), [`dispatch`](Self::dispatch) (PubSub) and
/// [`partitions`](Self::partitions). A child's every incarnation can also
/// register itself as it starts, which names it across restarts (the
/// `{:via, Registry, {registry, key}}` name): see
/// [`ChildSpec::via`](crate::ChildSpec::via).
///
/// # Examples
///
/// A PubSub topic: each subscriber registers a channel sender under the
/// topic, and a dispatch reaches every live subscriber.
///
/// ```
/// use std::time::Duration;
/// use supervise::{ChildSpec, Context, Exit, Registry, Supervisor, Worker};
/// use tokio::sync::mpsc;
///
/// struct Subscriber {
///     topics: Registry<&'static str, mpsc::UnboundedSender<String>>,
///     seen: mpsc::UnboundedSender<String>,
/// }
///
/// impl Worker for Subscriber {
///     type Message = ();
///     async fn run(self, ctx: Context) -> Result<(), Exit> {
///         let (tx, mut rx) = mpsc::unbounded_channel();
///         self.topics.register(&ctx, "news", tx)?;
///         while let Some(message) = rx.recv().await {
///             let _ = self.seen.send(format!("{}: {message}", ctx.id()));
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let topics = Registry::duplicate();
/// let (seen_tx, mut seen) = mpsc::unbounded_channel();
/// let mut app = Supervisor::builder("app");
/// for id in ["a", "b"] {
///     let (topics, seen_tx) = (topics.clone(), seen_tx.clone());
///     app = app.child(ChildSpec::worker(id, move || Subscriber {
///         topics: topics.clone(),
///         seen: seen_tx.clone(),
///     }));
/// }
/// let app = app.build().unwrap().start().await.unwrap();
/// while topics.count() < 2 {
///     tokio::time::sleep(Duration::from_millis(1)).await;
/// }
///
/// let sent = topics.dispatch(&"news", "hello".to_owned());
/// assert_eq!((sent.delivered, sent.dropped), (2, 0));
/// let mut lines = vec![seen.recv().await.unwrap(), seen.recv().await.unwrap()];
/// lines.sort();
/// assert_eq!(lines, ["a: hello", "b: hello"]);
/// app.stop().await.unwrap();
/// assert_eq!(topics.count(), 0); // the entries went with their owners
/// # }
/// ```
pub struct Registry<K, V = ()> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    keys: Keys,
    partitions: Box<[Partition<K, V>]>,
}

/// Chooses a key's partition: a fast multiplicative hash (FxHash's kind)
/// whose high bits pick the partition. A key's bucket inside its
/// partition is found by the partition's own map, with std's keyed hasher:
/// keys chosen to collide can only crowd one partition's lock, not make
/// its lookups slow.
#[derive(Default)]
struct PartitionHasher(u64);

impl PartitionHasher {
    const SEED: u64 = 0xf135_7aea_2e62_a9c5;

    fn add(&mut self, word: u64) {
        self.0 = self.0.wrapping_add(word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for PartitionHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A partition on a cache line of its own, so that two partitions' locks
/// do not share one.
#[repr(align(128))]
struct Partition<K, V>(RwLock<Table<K, V>>);

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("keys", &self.inner.keys)
            .field("partitions", &self.inner.partitions.len())
            .finish_non_exhaustive()
    }
}

/// Four partitions a core, as `dashmap` shards: writes to different keys
/// seldom wait for each other.
fn default_partitions() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get) * 4
}

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A registry with `keys`, and four partitions per core.
    pub fn new(keys: Keys) -> Self {
        Self::build(keys, default_partitions())
    }

    /// A registry whose keys are unique (names).
    pub fn unique() -> Self {
        Self::new(Keys::Unique)
    }

    /// A registry whose keys may hold many entries (groups, PubSub topics).
    pub fn duplicate() -> Self {
        Self::new(Keys::Duplicate)
    }

    /// A registry with `keys` and `partitions` partitions (Elixir's
    /// `partitions:` option): writes lock only the partition of their key.
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidPartitions`] for 0 partitions (Elixir raises
    /// there too) or for more than can be allocated.
    ///
    /// ```
    /// use supervise::{Keys, Registry, SpecError};
    ///
    /// let err = Registry::<String>::with_partitions(Keys::Unique, 0).unwrap_err();
    /// assert_eq!(err, SpecError::InvalidPartitions { partitions: 0 });
    /// assert_eq!(Registry::<String>::with_partitions(Keys::Unique, 8).unwrap().partitions(), 8);
    /// ```
    pub fn with_partitions(keys: Keys, partitions: usize) -> Result<Self, SpecError> {
        if partitions == 0 || std::alloc::Layout::array::<Partition<K, V>>(partitions).is_err() {
            return Err(SpecError::InvalidPartitions { partitions });
        }
        Ok(Self::build(keys, partitions))
    }

    fn build(keys: Keys, partitions: usize) -> Self {
        Registry {
            inner: Arc::new(Inner {
                keys,
                partitions: (0..partitions)
                    .map(|_| Partition(RwLock::new(Table::default())))
                    .collect(),
            }),
        }
    }

    /// Unique or duplicate keys.
    pub fn keys_kind(&self) -> Keys {
        self.inner.keys
    }

    /// How many partitions it has.
    pub fn partitions(&self) -> usize {
        self.inner.partitions.len()
    }

    fn partition(&self, key: &K) -> &RwLock<Table<K, V>> {
        let hash = BuildHasherDefault::<PartitionHasher>::default().hash_one(key);
        // The high bits, which the multiplications mixed best.
        let n = self.inner.partitions.len() as u128;
        &self.inner.partitions[((u128::from(hash) * n) >> 64) as usize].0
    }

    fn read(&self, key: &K) -> RwLockReadGuard<'_, Table<K, V>> {
        read(self.partition(key))
    }

    fn write(&self, key: &K) -> RwLockWriteGuard<'_, Table<K, V>> {
        write(self.partition(key))
    }

    // ===== writes =====

    /// Registers the calling incarnation (its `ctx`) under `key` with
    /// `value` (Elixir's `register/3`). The entry is removed when the
    /// incarnation ends, however it ends; a registration made in
    /// [`Worker::init`](crate::Worker::init) goes if the init fails.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyRegistered`] with the owner, when the
    /// registry's keys are unique and `key` has a live entry (the caller's
    /// own included).
    pub fn register<M>(&self, ctx: &Context<M>, key: K, value: V) -> Result<(), RegistryError> {
        self.insert(ctx.child_ref(), key, value)
    }

    /// Registers `owner` under `key`: how a child's start registers it
    /// (see `via`), and what `register` does for its caller.
    pub(crate) fn insert(&self, owner: ChildRef, key: K, value: V) -> Result<(), RegistryError> {
        if owner.has_exited() {
            return Err(RegistryError::Exited);
        }
        let entry = Entry { owner, value };
        let unique = self.inner.keys == Keys::Unique;
        self.write(&key)
            .insert(key, entry, unique)
            .map_err(RegistryError::AlreadyRegistered)
    }

    /// Removes the caller's entries under `key` (Elixir's `unregister/2`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`] when the caller has none there (an
    /// unknown key); nothing changes.
    pub fn unregister<M>(&self, ctx: &Context<M>, key: &K) -> Result<(), RegistryError> {
        match self.remove_owned(key, &ctx.child_ref()) {
            0 => Err(RegistryError::NotRegistered),
            _ => Ok(()),
        }
    }

    /// Removes `owner`'s entries under `key`; returns how many.
    pub(crate) fn remove_owned(&self, key: &K, owner: &ChildRef) -> usize {
        self.write(key).remove_where(key, |e| e.owner == *owner)
    }

    /// Removes the caller's entries under `key` whose value `pattern`
    /// accepts (Elixir's `unregister_match/4`, a predicate for the match
    /// spec); returns how many were removed.
    pub fn unregister_matching<M>(
        &self,
        ctx: &Context<M>,
        key: &K,
        pattern: impl Fn(&V) -> bool,
    ) -> usize {
        let owner = ctx.child_ref();
        self.write(key)
            .remove_where(key, |e| e.owner == owner && pattern(&e.value))
    }

    /// Replaces the value of the caller's entry under `key` with
    /// `update(old)` and returns `(new, old)` (Elixir's `update_value/3`).
    /// `update` runs under the partition's lock: keep it short.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`] when the caller has no entry under
    /// `key`; [`RegistryError::DuplicateKeys`] on a registry with duplicate
    /// keys.
    pub fn update_value<M>(
        &self,
        ctx: &Context<M>,
        key: &K,
        update: impl FnOnce(&V) -> V,
    ) -> Result<(V, V), RegistryError> {
        if self.inner.keys == Keys::Duplicate {
            return Err(RegistryError::DuplicateKeys);
        }
        let owner = ctx.child_ref();
        let mut table = self.write(key);
        let entry = table
            .owned_mut(key, &owner)
            .next()
            .ok_or(RegistryError::NotRegistered)?;
        let new = update(&entry.value);
        let old = std::mem::replace(&mut entry.value, new.clone());
        Ok((new, old))
    }

    // ===== reads =====

    /// The live entries of `key`, with their owners (Elixir's `lookup/2`):
    /// at most one in a unique registry. An unknown key has none.
    pub fn lookup(&self, key: &K) -> Vec<(ChildRef, V)> {
        self.read(key)
            .live(key)
            .map(|e| (e.owner.clone(), e.value.clone()))
            .collect()
    }

    /// The live entry of `key`, the first if there are several (Elixir's
    /// `whereis_name/1` on a unique registry). No allocation.
    pub fn whereis(&self, key: &K) -> Option<(ChildRef, V)> {
        self.read(key)
            .live(key)
            .next()
            .map(|e| (e.owner.clone(), e.value.clone()))
    }

    /// The values `owner` registered under `key` (Elixir's `values/3`).
    pub fn values(&self, key: &K, owner: &ChildRef) -> Vec<V> {
        self.read(key)
            .live(key)
            .filter(|e| e.owner == *owner)
            .map(|e| e.value.clone())
            .collect()
    }

    /// The live entries of `key` whose value `pattern` accepts (Elixir's
    /// `match/4`, a predicate for the match spec). `pattern` runs under
    /// the partition's read lock.
    pub fn matching(&self, key: &K, pattern: impl Fn(&V) -> bool) -> Vec<(ChildRef, V)> {
        self.read(key)
            .live(key)
            .filter(|e| pattern(&e.value))
            .map(|e| (e.owner.clone(), e.value.clone()))
            .collect()
    }

    /// How many live entries of `key` `pattern` accepts (Elixir's
    /// `count_match/4`).
    pub fn count_matching(&self, key: &K, pattern: impl Fn(&V) -> bool) -> usize {
        self.read(key)
            .live(key)
            .filter(|e| pattern(&e.value))
            .count()
    }

    /// The keys `owner` has live entries under (Elixir's `keys/2`), once
    /// per entry. Reads every partition: O(entries).
    pub fn keys(&self, owner: &ChildRef) -> Vec<K> {
        self.select(|_, o, _| o == owner)
            .into_iter()
            .map(|(k, _, _)| k)
            .collect()
    }

    /// Every live entry `pattern` accepts, as `(key, owner, value)`
    /// (Elixir's `select/2`, a predicate for the match spec). Reads every
    /// partition: O(entries).
    pub fn select(&self, pattern: impl Fn(&K, &ChildRef, &V) -> bool) -> Vec<(K, ChildRef, V)> {
        let mut found = Vec::new();
        for partition in self.inner.partitions.iter() {
            let table = read(&partition.0);
            for (key, slot) in &table.map {
                for e in slot.entries() {
                    if e.is_live() && pattern(key, &e.owner, &e.value) {
                        found.push((key.clone(), e.owner.clone(), e.value.clone()));
                    }
                }
            }
        }
        found
    }

    /// How many live entries there are (Elixir's `count/1`). Reads every
    /// partition: O(entries).
    pub fn count(&self) -> usize {
        self.inner
            .partitions
            .iter()
            .map(|p| {
                read(&p.0)
                    .map
                    .values()
                    .map(|slot| slot.entries().iter().filter(|e| e.is_live()).count())
                    .sum::<usize>()
            })
            .sum()
    }

    // ===== dispatch =====

    /// Sends `message` (a clone each) to every live entry of `key` through
    /// its value (Elixir's `dispatch/3`, for PubSub): see [`Deliver`]. An
    /// entry whose owner ended just before the message reached it, or
    /// whose value refused it, is counted as dropped, in the result and as
    /// [`Event::MessagesDropped`](crate::Event::MessagesDropped) on its
    /// owner's tree. The entries are read first and the messages sent
    /// after, outside the partition's lock.
    pub fn dispatch<M>(&self, key: &K, message: M) -> Dispatched
    where
        V: Deliver<M>,
        M: Clone,
    {
        let entries = self.lookup(key);
        let mut result = Dispatched::default();
        let Some(((last_owner, last_value), rest)) = entries.split_last() else {
            return result;
        };
        let mut deliver =
            |owner: &ChildRef, value: &V, message: M| match value.deliver(owner, message) {
                Ok(()) => result.delivered += 1,
                Err(_undelivered) => {
                    result.dropped += 1;
                    owner.inner().messages_dropped(1);
                }
            };
        for (owner, value) in rest {
            deliver(owner, value, message.clone());
        }
        deliver(last_owner, last_value, message);
        result
    }

    /// Calls `f` with the live entries of `key` (Elixir's `dispatch/3` with
    /// a callback), outside the partition's lock; returns how many there
    /// were.
    pub fn dispatch_with(&self, key: &K, f: impl FnOnce(&[(ChildRef, V)])) -> usize {
        let entries = self.lookup(key);
        f(&entries);
        entries.len()
    }

    /// Drops every dead entry now (the writes do it as they go; this is
    /// for a registry that stops being written to). Returns the entries
    /// held afterwards, live or not yet seen dead.
    #[cfg(test)]
    fn purge(&self) -> usize {
        self.inner
            .partitions
            .iter()
            .map(|p| {
                let mut table = write(&p.0);
                table.purge();
                table.held()
            })
            .sum()
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChildSpec, Exit, Supervisor, Worker};

    /// Registers `n` keys of its own, then idles.
    struct Holder {
        registry: Registry<u64, u64>,
        from: u64,
        n: u64,
    }

    impl Worker for Holder {
        type Message = ();
        async fn run(self, ctx: Context) -> Result<(), Exit> {
            for k in self.from..self.from + self.n {
                self.registry.register(&ctx, k, k)?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    }

    /// Memory stays bounded: registering keys of incarnations that keep
    /// dying never holds many more entries than are live.
    #[tokio::test(start_paused = true)]
    async fn dead_entries_are_purged_as_writes_go() {
        let registry: Registry<u64, u64> = Registry::with_partitions(Keys::Unique, 2).unwrap();
        let sup = Supervisor::builder("purge")
            .build()
            .unwrap()
            .start()
            .await
            .unwrap();
        for round in 0..50u64 {
            let r = registry.clone();
            let spec = ChildSpec::worker(format!("h{round}"), move || Holder {
                registry: r.clone(),
                from: round * 100,
                n: 100,
            })
            .restart(crate::Restart::Temporary);
            let child = sup.start_child(spec).await.unwrap().unwrap();
            tokio::task::yield_now().await;
            assert_eq!(registry.count(), 100);
            child.kill();
            tokio::task::yield_now().await;
        }
        // 5,000 registrations, 100 at a time live: each partition holds at
        // most about twice what its last purge left, plus its minimum.
        let held: usize = registry
            .inner
            .partitions
            .iter()
            .map(|p| read(&p.0).held())
            .sum();
        assert!(held <= 2 * 100 + 2 * 64 + 2 * 100, "{held} entries held");
        assert_eq!(registry.count(), 0);
        assert_eq!(registry.purge(), 0);
        sup.stop().await.unwrap();
    }
}
