//! `DynamicSupervisor<W>`: a dynamic supervisor typed by its worker, with
//! a typed handle for every child it starts and an optional registry of
//! children by key.

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::backoff::Backoff;
use crate::child::ChildSpec;
use crate::error::StartError;
use crate::supervised::Child;
use crate::supervisor::CallError;
use crate::supervisor::SupervisorRef;
use crate::worker::Worker;
use crate::worker_handle::WorkerHandle;

use super::dynamic::{dynamic_child, start_dynamic_root, DynOptions, DynamicSupervisorSpec};
use super::{ChildCounts, ChildInfo};

/// What a typed dynamic supervisor's children are: workers of type `W`,
/// each built from arguments `A` (cloned for every restart).
pub trait DynamicWorker: Worker + Child<Handle = WorkerHandle<Self>> {}

impl<W: Worker + Child<Handle = WorkerHandle<W>>> DynamicWorker for W {}

/// A dynamic supervisor of workers of one type `W` (Elixir's
/// `DynamicSupervisor`, one_for_one only): a value to start as a root or
/// to use as a field of a derived supervisor, whose handle starts children
/// and returns a typed [`WorkerHandle`] for each.
///
/// Each child gets `W`'s default child spec (from `#[worker(...)]`) and is
/// built from the arguments given to
/// [`start_child`](DynamicHandle::start_child), cloned for every restart.
/// By default the arguments are the worker itself; [`with_args`] takes a
/// constructor instead, which is where Elixir's `extra_arguments` go (the
/// constructor captures them and every child gets them). Children can also
/// be started under a key `K` and found by it
/// ([`start_child_keyed`](DynamicHandle::start_child_keyed),
/// [`lookup`](DynamicHandle::lookup)), as the seeds do with `Registry`.
///
/// [`with_args`]: DynamicSupervisor::with_args
///
/// # Examples
///
/// ```
/// use supervise::{worker, Context, DynamicSupervisor, Exit, Reply, Worker};
///
/// #[worker(restart = temporary)]
/// #[derive(Clone)]
/// struct Session { user: u32 }
///
/// impl Worker for Session {
///     type Message = Reply<u32>;
///     async fn run(self, mut ctx: Context<Reply<u32>>) -> Result<(), Exit> {
///         while let Some(reply) = ctx.recv().await {
///             let _ = reply.send(self.user);
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sessions = DynamicSupervisor::<Session>::new().start("sessions").await.unwrap();
/// let alice = sessions.start_child(Session { user: 1 }).await.unwrap();
/// sessions.start_child(Session { user: 2 }).await.unwrap();
/// assert_eq!(sessions.count_children().await.unwrap().active, 2);
/// assert_eq!(alice.call(|reply| reply).await.unwrap(), 1);
/// sessions.supervisor().current().unwrap().stop().await.unwrap();
/// # }
/// ```
pub struct DynamicSupervisor<W, A = W, K = String> {
    make: Arc<dyn Fn(A) -> W + Send + Sync>,
    options: DynOptions,
    _key: PhantomData<fn() -> K>,
}

impl<W, A, K> Clone for DynamicSupervisor<W, A, K> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            make: self.make.clone(),
            options: self.options,
            _key: PhantomData,
        }
    }
}

impl<W, A, K> fmt::Debug for DynamicSupervisor<W, A, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("worker", &std::any::type_name::<W>())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<W: DynamicWorker> Default for DynamicSupervisor<W> {
    fn default() -> Self {
        Self::with_args(|worker: W| worker)
    }
}

impl<W: DynamicWorker> DynamicSupervisor<W> {
    /// A dynamic supervisor whose children are started from worker values,
    /// with Elixir's defaults: 3 restarts within 5 seconds, no limit on
    /// children, no backoff.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<W: DynamicWorker, A> DynamicSupervisor<W, A> {
    /// A dynamic supervisor whose children are built by `make` from the
    /// arguments given to `start_child` (Elixir's `extra_arguments` are
    /// what `make` captures).
    pub fn with_args(make: impl Fn(A) -> W + Send + Sync + 'static) -> Self {
        DynamicSupervisor {
            make: Arc::new(make),
            options: DynOptions::default(),
            _key: PhantomData,
        }
    }
}

impl<W, A, K> DynamicSupervisor<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    /// Keys its children by `K2` instead of `String`.
    pub fn keyed<K2>(self) -> DynamicSupervisor<W, A, K2> {
        DynamicSupervisor {
            make: self.make,
            options: self.options,
            _key: PhantomData,
        }
    }

    dyn_option_setters! {
        /// Restarts tolerated within the period.
        max_restarts(max_restarts: u32) => max_restarts = max_restarts;
        /// The restart period in whole seconds (must be above zero).
        max_seconds(seconds: u64) => period = Duration::from_secs(seconds);
        /// The restart period as any duration (must be above zero).
        period(period: Duration) => period = period;
        /// The most children it holds; `start_child` beyond it returns
        /// [`CallError::MaxChildren`](crate::CallError::MaxChildren).
        max_children(max_children: usize) => max_children = max_children;
        /// A delay before every automatic restart of a child.
        backoff(backoff: Backoff) => backoff = backoff;
    }

    fn spec(
        &self,
        name: &str,
    ) -> Result<(DynamicSupervisorSpec, DynamicHandle<W, A, K>), crate::SpecError> {
        let spec = self.options.build(name)?;
        let handle = DynamicHandle {
            shared: Arc::new(Shared {
                supervisor: spec.supervisor_ref(),
                make: self.make.clone(),
                next_id: AtomicU64::new(0),
                registry: DashMap::new(),
            }),
        };
        Ok((spec, handle))
    }

    /// Starts it as the root of a tree named `name`.
    ///
    /// # Errors
    ///
    /// A zero period or a name containing `/` (the only invalid settings),
    /// reported as a start error.
    pub async fn start(self, name: &str) -> Result<DynamicHandle<W, A, K>, StartError> {
        start_dynamic_root(self.spec(name)).await
    }
}

impl<W, A, K> Child for DynamicSupervisor<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    type Handle = DynamicHandle<W, A, K>;
    supervisor_child_defaults!();

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        let options = factory();
        dynamic_child(id, options.spec(id), || DynamicHandle {
            shared: Arc::new(Shared {
                supervisor: SupervisorRef::default(),
                make: options.make.clone(),
                next_id: AtomicU64::new(0),
                registry: DashMap::new(),
            }),
        })
    }
}

/// Why [`DynamicHandle::start_child_keyed`] did not start a child.
#[non_exhaustive]
pub enum KeyedStartError<W: Worker> {
    /// A child is already running under that key: here is its handle.
    AlreadyStarted(WorkerHandle<W>),
    /// The supervisor refused or failed the start.
    Call(CallError),
}

impl<W: Worker> fmt::Debug for KeyedStartError<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyedStartError::AlreadyStarted(h) => f.debug_tuple("AlreadyStarted").field(h).finish(),
            KeyedStartError::Call(e) => f.debug_tuple("Call").field(e).finish(),
        }
    }
}

impl<W: Worker> fmt::Display for KeyedStartError<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyedStartError::AlreadyStarted(_) => {
                f.write_str("a child with this key is already started")
            }
            KeyedStartError::Call(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<W: Worker> std::error::Error for KeyedStartError<W> {}

impl<W: Worker> From<CallError> for KeyedStartError<W> {
    fn from(e: CallError) -> Self {
        KeyedStartError::Call(e)
    }
}

struct Shared<W: Worker, A, K> {
    supervisor: SupervisorRef,
    make: Arc<dyn Fn(A) -> W + Send + Sync>,
    next_id: AtomicU64,
    /// Keyed children: read without going through the supervisor's task.
    registry: DashMap<K, WorkerHandle<W>>,
}

/// The handle of a [`DynamicSupervisor`]: starts children and returns
/// their typed handles; follows the supervisor across its restarts.
pub struct DynamicHandle<W: Worker, A = W, K = String> {
    shared: Arc<Shared<W, A, K>>,
}

impl<W: Worker, A, K> Clone for DynamicHandle<W, A, K> {
    fn clone(&self) -> Self {
        DynamicHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<W: Worker, A, K> fmt::Debug for DynamicHandle<W, A, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicHandle")
            .field("supervisor", &self.shared.supervisor)
            .finish_non_exhaustive()
    }
}

impl<W, A, K> DynamicHandle<W, A, K>
where
    W: DynamicWorker,
    A: Clone + Send + Sync + 'static,
    K: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static,
{
    /// The supervisor's control handle (`which_children`, ...).
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.shared.supervisor
    }

    /// The spec of a child: its id is a number or a key, unique among the
    /// supervisor's children.
    fn child_spec(&self, id: &str, args: A) -> (ChildSpec, WorkerHandle<W>) {
        let make = self.shared.make.clone();
        let (spec, handle) = W::child_spec(id, move || make(args.clone()));
        (spec.with_unique_id(), handle)
    }

    /// Starts a child from `args` (cloned again for every restart) and
    /// returns its handle. A child whose init ignored the start gets a
    /// handle that answers [`HandleError::NotFound`](crate::HandleError).
    ///
    /// # Errors
    ///
    /// [`CallError::MaxChildren`], [`CallError::StartFailed`],
    /// [`CallError::InvalidSpec`], [`CallError::Stopped`].
    ///
    /// # Cancel safety
    ///
    /// As [`SupervisorHandle::start_child`](crate::SupervisorHandle::start_child):
    /// dropped while the child's init runs in the caller's task, no child
    /// is started.
    pub async fn start_child(&self, args: A) -> Result<WorkerHandle<W>, CallError> {
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (spec, handle) = self.child_spec(itoa::Buffer::new().format(n), args);
        self.shared.supervisor.start_child(spec).await?;
        Ok(handle)
    }

    /// Starts a child under `key` (its text is the child's id in paths and
    /// events, so it may not contain `/`), unless one is already there. The key stays taken across the child's restarts
    /// and is freed when the child is gone for good: a temporary child that
    /// exited, a transient one that exited normally, a terminated one, one
    /// whose restart was ignored, and all of them when the supervisor
    /// stops or dies.
    ///
    /// # Errors
    ///
    /// [`KeyedStartError::AlreadyStarted`] with the running child's handle;
    /// [`KeyedStartError::Call`] as [`start_child`](Self::start_child).
    ///
    /// # Cancel safety
    ///
    /// As [`start_child`](Self::start_child); a start withdrawn that way
    /// frees its key.
    pub async fn start_child_keyed(
        &self,
        key: K,
        args: A,
    ) -> Result<WorkerHandle<W>, KeyedStartError<W>> {
        let supervisor = self.shared.supervisor.current()?;
        let (spec, handle) = self.child_spec(&key.to_string(), args);
        // Reserve the key first, so two concurrent starts cannot both win.
        match self.shared.registry.entry(key.clone()) {
            Entry::Occupied(taken) if !taken.get().is_gone() => {
                return Err(KeyedStartError::AlreadyStarted(taken.get().clone()));
            }
            Entry::Occupied(mut stale) => {
                stale.insert(handle.clone());
            }
            Entry::Vacant(free) => {
                free.insert(handle.clone());
            }
        }
        let weak = Arc::downgrade(&self.shared);
        let registered = handle.clone();
        let forget_key = key.clone();
        let spec = spec.on_forget(move || {
            if let Some(shared) = weak.upgrade() {
                shared
                    .registry
                    .remove_if(&forget_key, |_, h| h.same_child(&registered));
            }
        });
        // Refused (no room, a bad spec, the supervisor stopped) or dropped
        // before the start was made, the spec is dropped, and with it the
        // key (see `ChildSpec::on_forget`).
        supervisor.start_child(spec).await?;
        Ok(handle)
    }

    /// The handle of the child running under `key`, found without going
    /// through the supervisor's task.
    pub fn lookup(&self, key: &K) -> Option<WorkerHandle<W>> {
        self.shared
            .registry
            .get(key)
            .map(|h| h.clone())
            .filter(|h| !h.is_gone())
    }

    /// How many keys are taken.
    pub fn keyed_count(&self) -> usize {
        self.shared.registry.len()
    }

    /// Stops the child behind `child` by its shutdown policy.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when it is not running; [`CallError::Stopped`].
    pub async fn terminate_child(&self, child: &WorkerHandle<W>) -> Result<(), CallError> {
        let child = child.child().ok_or(CallError::NotFound)?;
        self.shared
            .supervisor
            .current()?
            .terminate_child_ref(&child)
            .await
    }

    /// Lists the children (ids are `None`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.shared.supervisor.current()?.which_children().await
    }

    /// Counts the children.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.shared.supervisor.current()?.count_children().await
    }
}
