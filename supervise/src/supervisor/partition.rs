//! `PartitionSupervisor`: N dynamic supervisors behind one handle, a child
//! routed by its key (Elixir's `PartitionSupervisor`).

use std::alloc::Layout;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::child::ChildSpec;
use crate::error::{SpecError, StartError};
use crate::policy::Strategy;
use crate::supervised::Child;
use crate::supervisor::CallError;
use crate::supervisor::SupervisorRef;
use crate::worker_handle::WorkerHandle;

use super::typed_dynamic::{DynamicHandle, DynamicSupervisor, DynamicWorker, KeyedStartError};
use super::Supervisor;

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
        if partitions == 0 || Layout::array::<DynamicHandle<W, A, K>>(partitions).is_err() {
            return Err(SpecError::InvalidPartitions { partitions });
        }
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
        let mut builder = Supervisor::builder(name).strategy(Strategy::OneForOne);
        let mut partitions = Vec::with_capacity(self.partitions);
        for i in 0..self.partitions {
            let template = self.template.clone();
            let (spec, handle) =
                <DynamicSupervisor<W, A, K> as Child>::child_spec(&i.to_string(), move || {
                    template.clone()
                });
            builder = builder.child(spec);
            partitions.push(handle);
        }
        let spec = builder.build()?;
        let handle = PartitionHandle {
            supervisor: spec.supervisor_ref(),
            partitions: partitions.into(),
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
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let i = (hasher.finish() % self.partitions.len() as u64) as usize;
        &self.partitions[i]
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
