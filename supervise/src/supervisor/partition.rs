//! Elixir's `PartitionSupervisor`: [`Partitioned`], N children of any type
//! behind one handle, each told its index and found by a key's hash; and
//! [`PartitionSupervisor`], its form for dynamic supervisors, whose handle
//! starts a child in the partition its key goes to.

use std::alloc::Layout;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use std::time::Duration;

use crate::child::ChildSpec;
use crate::error::{SpecError, StartError};
use crate::policy::{Intensity, Strategy};
use crate::supervised::Child;
use crate::supervisor::CallError;
use crate::supervisor::SupervisorRef;
use crate::worker_handle::WorkerHandle;

use super::typed_dynamic::{DynamicHandle, DynamicSupervisor, DynamicWorker, KeyedStartError};
use super::{ChildCounts, ChildInfo, Supervisor};

/// The partition `key` goes to among `partitions`: its hash (a fixed
/// hasher, so the same key always goes to the same partition), modulo.
fn index_of<K: Hash + ?Sized>(key: &K, partitions: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % partitions as u64) as usize
}

/// Checks a partition count: at least one, and no more than can be
/// allocated (handles of `H`).
fn check_partitions<H>(partitions: usize) -> Result<(), SpecError> {
    if partitions == 0 || Layout::array::<H>(partitions).is_err() {
        return Err(SpecError::InvalidPartitions { partitions });
    }
    Ok(())
}

/// Elixir's `PartitionSupervisor` for any kind of child: `partitions`
/// children of type `C` (workers, dynamic or task supervisors, derived
/// supervisors) under one static supervisor, each built for its index
/// (Elixir's `with_arguments`), and found by a key's hash through one
/// handle. The children are the supervisor's children `0`, `1`, ...,
/// restarted by its strategy (`one_for_one` by default) within its
/// intensity (Elixir's defaults, 3 in 5 s).
///
/// For partitions of dynamic supervisors whose handle starts each child in
/// its key's partition, see [`PartitionSupervisor`].
///
/// # Examples
///
/// ```
/// use supervise::{worker, Context, Exit, Partitioned, Reply, Worker};
///
/// /// One shard of a cache: it knows its index.
/// #[worker]
/// #[derive(Clone)]
/// struct Shard { index: usize }
///
/// impl Worker for Shard {
///     type Message = Reply<usize>;
///     async fn run(self, mut ctx: Context<Reply<usize>>) -> Result<(), Exit> {
///         while let Some(reply) = ctx.recv().await {
///             let _ = reply.send(self.index);
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let shards = Partitioned::with_arguments(4, |index| Shard { index })
///     .unwrap()
///     .start("cache")
///     .await
///     .unwrap();
/// // A key always goes to the same shard.
/// let index = shards.index_of("user:42");
/// assert_eq!(shards.partition_of("user:42").call(|r| r).await.unwrap(), index);
/// // One entry per partition, ids 0..4 (newest first, as OTP lists them).
/// let children = shards.which_children().await.unwrap();
/// let ids: Vec<_> = children.iter().map(|c| c.id.as_deref().unwrap()).collect();
/// assert_eq!(ids, ["3", "2", "1", "0"]);
/// assert_eq!(shards.count_children().await.unwrap().active, 4);
/// shards.supervisor().current().unwrap().stop().await.unwrap();
/// # }
/// ```
pub struct Partitioned<C> {
    make: Arc<dyn Fn(usize) -> C + Send + Sync>,
    partitions: usize,
    strategy: Strategy,
    intensity: Intensity,
}

impl<C> Clone for Partitioned<C> {
    fn clone(&self) -> Self {
        Partitioned {
            make: self.make.clone(),
            partitions: self.partitions,
            strategy: self.strategy,
            intensity: self.intensity,
        }
    }
}

impl<C> fmt::Debug for Partitioned<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partitioned")
            .field("child", &std::any::type_name::<C>())
            .field("partitions", &self.partitions)
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .finish_non_exhaustive()
    }
}

impl<C: Child> Partitioned<C> {
    /// `partitions` children, each a clone of `child` (Elixir's
    /// `PartitionSupervisor` without `with_arguments`).
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidPartitions`] for 0 partitions (Elixir raises
    /// there too) or for more than can be allocated.
    pub fn new(partitions: usize, child: C) -> Result<Self, SpecError>
    where
        C: Clone + Sync,
    {
        Self::with_arguments(partitions, move |_| child.clone())
    }

    /// `partitions` children, the one of index `i` built by `make(i)` at
    /// each of its starts (Elixir's `with_arguments`, which gives each
    /// partition its number).
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidPartitions`] for 0 partitions or for more than
    /// can be allocated.
    ///
    /// ```
    /// use supervise::{Partitioned, SpecError, TaskSupervisor};
    ///
    /// let err = Partitioned::with_arguments(0, |_| TaskSupervisor::new()).unwrap_err();
    /// assert_eq!(err, SpecError::InvalidPartitions { partitions: 0 });
    /// ```
    pub fn with_arguments(
        partitions: usize,
        make: impl Fn(usize) -> C + Send + Sync + 'static,
    ) -> Result<Self, SpecError> {
        check_partitions::<C::Handle>(partitions)?;
        Ok(Partitioned {
            make: Arc::new(make),
            partitions,
            strategy: Strategy::OneForOne,
            intensity: Intensity::default(),
        })
    }

    /// The strategy of the supervisor of the partitions. Default:
    /// `one_for_one`.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Restarts tolerated within the period. Default: 3.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.intensity.max_restarts = max_restarts;
        self
    }

    /// The restart period in whole seconds. Default: 5.
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// The restart period as any duration (must be above zero).
    pub fn period(mut self, period: Duration) -> Self {
        self.intensity.period = period;
        self
    }

    /// How many partitions.
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// The spec of the supervisor of the partitions, named `name`.
    fn spec(&self, name: &str) -> Result<(crate::SupervisorSpec, PartitionedHandle<C>), SpecError> {
        let mut builder = Supervisor::builder(name)
            .strategy(self.strategy)
            .intensity(self.intensity);
        let mut handles = Vec::with_capacity(self.partitions);
        for index in 0..self.partitions {
            let make = self.make.clone();
            let (spec, handle) =
                C::child_spec(itoa::Buffer::new().format(index), move || make(index));
            builder = builder.child(spec);
            handles.push(handle);
        }
        let spec = builder.build()?;
        let handle = PartitionedHandle {
            supervisor: spec.supervisor_ref(),
            partitions: handles.into(),
        };
        Ok((spec, handle))
    }

    /// Starts it as the root of a tree named `name`: every partition in
    /// order, each one's init finished before the next starts.
    ///
    /// # Errors
    ///
    /// A name containing `/`, a zero period, or a partition that failed to
    /// start (the ones started before it are stopped).
    pub async fn start(self, name: &str) -> Result<PartitionedHandle<C>, StartError> {
        let (spec, handle) = self
            .spec(name)
            .map_err(|e| StartError::new(crate::ExitReason::error(e)))?;
        spec.start().await?;
        Ok(handle)
    }
}

impl<C: Child> Child for Partitioned<C> {
    type Handle = PartitionedHandle<C>;
    supervisor_child_defaults!();

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        let partitioned = factory();
        // A nested supervisor's own name is never read; a zero period,
        // which cannot be returned from here, fails its start instead.
        match partitioned.spec("partitions") {
            Ok((spec, handle)) => (ChildSpec::supervisor(id, spec), handle),
            Err(error) => {
                let reason = crate::ExitReason::error(error);
                let handle = PartitionedHandle {
                    supervisor: SupervisorRef::default(),
                    partitions: Arc::new([]),
                };
                let kind = crate::policy::ChildKind::Supervisor;
                (ChildSpec::failing(id, kind, reason), handle)
            }
        }
    }
}

/// The handle of a [`Partitioned`] supervisor: each partition's handle,
/// by index or by key.
pub struct PartitionedHandle<C: Child> {
    supervisor: SupervisorRef,
    partitions: Arc<[C::Handle]>,
}

impl<C: Child> Clone for PartitionedHandle<C> {
    fn clone(&self) -> Self {
        PartitionedHandle {
            supervisor: self.supervisor.clone(),
            partitions: self.partitions.clone(),
        }
    }
}

impl<C: Child> fmt::Debug for PartitionedHandle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionedHandle")
            .field("supervisor", &self.supervisor)
            .field("partitions", &self.partitions.len())
            .finish()
    }
}

impl<C: Child> PartitionedHandle<C> {
    /// The control handle of the supervisor of the partitions.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// How many partitions (Elixir's `partitions/1`).
    pub fn partitions(&self) -> usize {
        self.partitions.len()
    }

    /// Every partition's handle, in index order.
    pub fn handles(&self) -> &[C::Handle] {
        &self.partitions
    }

    /// The handle of partition `index`, if there is one.
    pub fn partition(&self, index: usize) -> Option<&C::Handle> {
        self.partitions.get(index)
    }

    /// The partition `key` goes to: its hash modulo the partitions (a
    /// fixed hasher, so a key always goes to the same partition).
    pub fn index_of<K: Hash + ?Sized>(&self, key: &K) -> usize {
        index_of(key, self.partitions.len())
    }

    /// The handle of the partition `key` goes to (Elixir's `{:via,
    /// PartitionSupervisor, {name, key}}`).
    pub fn partition_of<K: Hash + ?Sized>(&self, key: &K) -> &C::Handle {
        &self.partitions[self.index_of(key)]
    }

    /// One entry per partition, its id the partition's index, newest first
    /// (Elixir's `which_children/1`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.supervisor.current()?.which_children().await
    }

    /// Counts the partitions: `specs` and `workers` or `supervisors` are
    /// the partitions, `active` the ones running (Elixir's
    /// `count_children/1`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.supervisor.current()?.count_children().await
    }
}

/// N [`DynamicSupervisor`]s behind one handle: a child started under a key
/// goes to the partition the key hashes to, so that starts run on several
/// supervisor tasks at once instead of queueing behind one.
///
/// The partitions are the `one_for_one` children `0`, `1`, ... of a static
/// supervisor; each is configured by the template given to
/// [`new`](Self::new).
///
/// # Examples
///
/// ```
/// use supervise::{worker, Context, DynamicSupervisor, Exit, PartitionSupervisor, Worker};
///
/// #[worker(restart = temporary)]
/// #[derive(Clone)]
/// struct Order { id: u64 }
///
/// impl Worker for Order {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let orders = PartitionSupervisor::new(DynamicSupervisor::<Order>::new().keyed::<u64>(), 4)
///     .unwrap()
///     .start("orders")
///     .await
///     .unwrap();
/// orders.start_child(42, Order { id: 42 }).await.unwrap();
/// assert!(orders.lookup(&42).is_some());
/// orders.supervisor().current().unwrap().stop().await.unwrap();
/// # }
/// ```
pub struct PartitionSupervisor<W, A = W, K = String> {
    template: DynamicSupervisor<W, A, K>,
    partitions: usize,
}

impl<W, A, K> Clone for PartitionSupervisor<W, A, K> {
    fn clone(&self) -> Self {
        PartitionSupervisor {
            template: self.template.clone(),
            partitions: self.partitions,
        }
    }
}

impl<W, A, K> fmt::Debug for PartitionSupervisor<W, A, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionSupervisor")
            .field("template", &self.template)
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl<W, A, K> PartitionSupervisor<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    /// `partitions` dynamic supervisors configured as `template`
    /// (`std::thread::available_parallelism` is a good number).
    ///
    /// # Errors
    ///
    /// [`SpecError::InvalidPartitions`] for 0 partitions (Elixir raises
    /// there too) or for more than can be allocated.
    ///
    /// ```
    /// use supervise::{DynamicSupervisor, PartitionSupervisor, SpecError};
    /// # use supervise::{Context, Exit, Worker};
    /// # #[supervise::worker] #[derive(Clone)] struct Job;
    /// # impl Worker for Job {
    /// #     type Message = ();
    /// #     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
    /// # }
    ///
    /// let err = PartitionSupervisor::new(DynamicSupervisor::<Job>::new(), 0).unwrap_err();
    /// assert_eq!(err, SpecError::InvalidPartitions { partitions: 0 });
    /// assert!(PartitionSupervisor::new(DynamicSupervisor::<Job>::new(), usize::MAX).is_err());
    /// ```
    pub fn new(template: DynamicSupervisor<W, A, K>, partitions: usize) -> Result<Self, SpecError> {
        check_partitions::<DynamicHandle<W, A, K>>(partitions)?;
        Ok(PartitionSupervisor {
            template,
            partitions,
        })
    }

    /// The spec of the supervisor of the partitions, named `name`.
    fn spec(
        &self,
        name: &str,
    ) -> Result<(crate::SupervisorSpec, PartitionHandle<W, A, K>), SpecError> {
        let template = self.template.clone();
        let (spec, partitioned) =
            Partitioned::with_arguments(self.partitions, move |_| template.clone())?.spec(name)?;
        let handle = PartitionHandle {
            supervisor: partitioned.supervisor,
            partitions: partitioned.partitions,
            next: Arc::default(),
        };
        Ok((spec, handle))
    }

    /// Starts it as the root of a tree named `name`.
    ///
    /// # Errors
    ///
    /// A name containing `/` ([`SpecError::InvalidName`]), or a partition
    /// failed to start (an invalid template setting).
    pub async fn start(self, name: &str) -> Result<PartitionHandle<W, A, K>, StartError> {
        let (spec, handle) = self
            .spec(name)
            .map_err(|e| StartError::new(crate::ExitReason::error(e)))?;
        spec.start().await?;
        Ok(handle)
    }
}

impl<W, A, K> Child for PartitionSupervisor<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    type Handle = PartitionHandle<W, A, K>;
    supervisor_child_defaults!();

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        // A nested supervisor's own name is never read (its path is its
        // parent's and its id), so it gets one that is always valid: the
        // id is checked by the parent's spec.
        let (spec, handle) = factory()
            .spec("partitions")
            .expect("a spec with a valid name and the ids 0..n is valid");
        (ChildSpec::supervisor(id, spec), handle)
    }
}

/// The handle of a [`PartitionSupervisor`].
pub struct PartitionHandle<W: crate::Worker, A = W, K = String> {
    supervisor: SupervisorRef,
    partitions: Arc<[DynamicHandle<W, A, K>]>,
    next: Arc<AtomicUsize>,
}

impl<W: crate::Worker, A, K> Clone for PartitionHandle<W, A, K> {
    fn clone(&self) -> Self {
        PartitionHandle {
            supervisor: self.supervisor.clone(),
            partitions: self.partitions.clone(),
            next: self.next.clone(),
        }
    }
}

impl<W: crate::Worker, A, K> fmt::Debug for PartitionHandle<W, A, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionHandle")
            .field("supervisor", &self.supervisor)
            .field("partitions", &self.partitions.len())
            .finish()
    }
}

impl<W, A, K> PartitionHandle<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    /// The control handle of the supervisor of the partitions.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// The partitions, in order.
    pub fn partitions(&self) -> &[DynamicHandle<W, A, K>] {
        &self.partitions
    }

    /// The partition a key goes to.
    pub fn partition_of(&self, key: &K) -> &DynamicHandle<W, A, K> {
        &self.partitions[index_of(key, self.partitions.len())]
    }

    /// One entry per partition (each a dynamic supervisor), its id the
    /// partition's index, newest first (Elixir's `which_children/1`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.supervisor.current()?.which_children().await
    }

    /// Counts the partitions (Elixir's `count_children/1`); each
    /// partition's own children are counted by its handle.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.supervisor.current()?.count_children().await
    }

    /// Starts a child under `key` in the partition the key goes to.
    ///
    /// # Errors
    ///
    /// As [`DynamicHandle::start_child_keyed`].
    pub async fn start_child(
        &self,
        key: K,
        args: A,
    ) -> Result<WorkerHandle<W>, KeyedStartError<W>> {
        self.partition_of(&key).start_child_keyed(key, args).await
    }

    /// Starts a child without a key, in the partitions in turn.
    ///
    /// # Errors
    ///
    /// As [`DynamicHandle::start_child`].
    pub async fn start_child_unkeyed(&self, args: A) -> Result<WorkerHandle<W>, CallError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.partitions.len();
        self.partitions[i].start_child(args).await
    }

    /// The handle of the child running under `key`.
    pub fn lookup(&self, key: &K) -> Option<WorkerHandle<W>> {
        self.partition_of(key).lookup(key)
    }
}
