//! `DynamicSupervisor<W>`: a dynamic supervisor typed by its worker, with
//! a typed handle for every child it starts.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::child::ChildSpec;
use crate::error::{CallError, StartError};
use crate::handle::{SupervisorRef, WorkerHandle};
use crate::spec::{ChildKind, Restart, Shutdown};
use crate::supervised::Child;
use crate::worker::Worker;

use super::dynamic::{DynamicSupervisorBuilder, DynamicSupervisorSpec};
use super::{ChildCounts, ChildInfo};

/// A dynamic supervisor of workers of one type `W` (Elixir's
/// `DynamicSupervisor`, one_for_one only): a value to start as a root or
/// to use as a field of a derived supervisor, whose handle starts children
/// and returns a typed [`WorkerHandle`] for each.
///
/// Each child gets `W`'s default child spec (from `#[worker(...)]`) and is
/// started from a clone of the value given to
/// [`start_child`](DynamicHandle::start_child) at every restart.
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
pub struct DynamicSupervisor<W> {
    max_restarts: Option<u32>,
    period: Option<Duration>,
    max_children: Option<usize>,
    _worker: PhantomData<fn() -> W>,
}

impl<W> Clone for DynamicSupervisor<W> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            max_restarts: self.max_restarts,
            period: self.period,
            max_children: self.max_children,
            _worker: PhantomData,
        }
    }
}

impl<W> fmt::Debug for DynamicSupervisor<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("worker", &std::any::type_name::<W>())
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("max_children", &self.max_children)
            .finish()
    }
}

impl<W> Default for DynamicSupervisor<W> {
    fn default() -> Self {
        DynamicSupervisor {
            max_restarts: None,
            period: None,
            max_children: None,
            _worker: PhantomData,
        }
    }
}

impl<W: Worker + Child<Handle = WorkerHandle<W>> + Clone + Sync> DynamicSupervisor<W> {
    /// A dynamic supervisor with Elixir's defaults: 3 restarts within 5
    /// seconds, no limit on children.
    pub fn new() -> Self {
        Self::default()
    }

    /// Restarts tolerated within the period.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = Some(max_restarts);
        self
    }

    /// The restart period in whole seconds (must be above zero).
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.period = Some(Duration::from_secs(seconds));
        self
    }

    /// The restart period as any duration (must be above zero).
    pub fn period(mut self, period: Duration) -> Self {
        self.period = Some(period);
        self
    }

    /// The most children it holds; `start_child` beyond it returns
    /// [`CallError::MaxChildren`].
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    fn spec(&self, name: &str) -> Result<(DynamicSupervisorSpec, DynamicHandle<W>), crate::SpecError> {
        let mut builder: DynamicSupervisorBuilder = DynamicSupervisorSpec::builder(name);
        if let Some(n) = self.max_restarts {
            builder = builder.max_restarts(n);
        }
        if let Some(p) = self.period {
            builder = builder.period(p);
        }
        if let Some(n) = self.max_children {
            builder = builder.max_children(n);
        }
        let spec = builder.build()?;
        let handle = DynamicHandle {
            supervisor: spec.supervisor_ref(),
            next_id: Arc::default(),
            _worker: PhantomData,
        };
        Ok((spec, handle))
    }

    /// Starts it as the root of a tree named `name`.
    ///
    /// # Errors
    ///
    /// A zero period (the only invalid setting), reported as a start error.
    pub async fn start(self, name: &str) -> Result<DynamicHandle<W>, StartError> {
        let (spec, handle) = self
            .spec(name)
            .map_err(|e| StartError::new(crate::ExitReason::error(e)))?;
        spec.start().await?;
        Ok(handle)
    }
}

impl<W: Worker + Child<Handle = WorkerHandle<W>> + Clone + Sync> Child for DynamicSupervisor<W> {
    type Handle = DynamicHandle<W>;
    const KIND: ChildKind = ChildKind::Supervisor;
    const RESTART: Restart = Restart::Permanent;
    const SHUTDOWN: Shutdown = Shutdown::Infinity;
    const SIGNIFICANT: bool = false;

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        match factory().spec(id) {
            Ok((spec, handle)) => (ChildSpec::dynamic_supervisor(id, spec), handle),
            // An invalid setting (a zero period) cannot be returned from
            // here: the child fails to start with it, so its parent does.
            Err(error) => {
                let handle = DynamicHandle {
                    supervisor: SupervisorRef::default(),
                    next_id: Arc::default(),
                    _worker: PhantomData,
                };
                (ChildSpec::failing(id, ChildKind::Supervisor, crate::ExitReason::error(error)), handle)
            }
        }
    }
}

/// The handle of a [`DynamicSupervisor`]: starts children and returns
/// their typed handles; follows the supervisor across its restarts.
pub struct DynamicHandle<W> {
    supervisor: SupervisorRef,
    next_id: Arc<AtomicU64>,
    _worker: PhantomData<fn() -> W>,
}

impl<W> Clone for DynamicHandle<W> {
    fn clone(&self) -> Self {
        DynamicHandle {
            supervisor: self.supervisor.clone(),
            next_id: self.next_id.clone(),
            _worker: PhantomData,
        }
    }
}

impl<W> fmt::Debug for DynamicHandle<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicHandle")
            .field("supervisor", &self.supervisor)
            .finish_non_exhaustive()
    }
}

impl<W: Worker + Child<Handle = WorkerHandle<W>> + Clone + Sync> DynamicHandle<W> {
    /// The supervisor's control handle (`which_children`, ...).
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// Starts a child from `worker` (cloned again for every restart) and
    /// returns its handle. A child whose init ignored the start gets a
    /// handle that answers [`HandleError::NotFound`](crate::HandleError).
    ///
    /// # Errors
    ///
    /// [`CallError::MaxChildren`], [`CallError::StartFailed`],
    /// [`CallError::InvalidSpec`], [`CallError::Stopped`].
    pub async fn start_child(&self, worker: W) -> Result<WorkerHandle<W>, CallError> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (spec, handle) = W::child_spec(&n.to_string(), move || worker.clone());
        self.supervisor.current()?.start_child(spec).await?;
        Ok(handle)
    }

    /// Stops the child behind `child` by its shutdown policy.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when it is not running; [`CallError::Stopped`].
    pub async fn terminate_child(&self, child: &WorkerHandle<W>) -> Result<(), CallError> {
        let child = child.child().ok_or(CallError::NotFound)?;
        self.supervisor.current()?.terminate_child_ref(&child).await
    }

    /// Lists the children (ids are `None`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.supervisor.current()?.which_children().await
    }

    /// Counts the children.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.supervisor.current()?.count_children().await
    }
}
