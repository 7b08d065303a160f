//! `TaskSupervisor`: supervised one-off tasks whose result the caller can
//! await (Elixir's `Task.Supervisor`).

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::oneshot;

use crate::child::{BoxFuture, ChildSpec};
use crate::error::StartError;
use crate::exit::{BoxError, Exit, ExitReason};
use crate::policy::Restart;
use crate::supervised::Child;
use crate::supervisor::CallError;
use crate::supervisor::SupervisorRef;
use crate::worker::{Context, Worker};

use super::dynamic::{dynamic_child, start_dynamic_root, DynOptions, DynamicSupervisorSpec};

/// A supervisor of one-off tasks: each task is a temporary child (or a
/// transient one, restarted until it succeeds, with
/// [`spawn_restarting`](TaskSupervisorHandle::spawn_restarting)), whose
/// result the caller awaits through a [`TaskHandle`]. Its tasks stop with
/// it. It can be a root or a field of a derived supervisor.
///
/// # Examples
///
/// ```
/// use supervise::TaskSupervisor;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tasks = TaskSupervisor::new().start("tasks").await.unwrap();
/// let sum = tasks.spawn(async { 2 + 2 }).await.unwrap();
/// assert_eq!(sum.join().await.unwrap(), 4);
/// let boom = tasks.spawn(async { panic!("boom") }).await.unwrap();
/// assert!(boom.join().await.is_err());
/// tasks.supervisor().current().unwrap().stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TaskSupervisor {
    options: DynOptions,
}

impl TaskSupervisor {
    /// A task supervisor with Elixir's defaults (3 restarts within 5 s, no
    /// limit on tasks).
    pub fn new() -> Self {
        Self::default()
    }

    dyn_option_setters! {
        /// Restarts (of `spawn_restarting` tasks) tolerated within the period.
        max_restarts(max_restarts: u32) => max_restarts = max_restarts;
        /// The restart period (must be above zero).
        period(period: Duration) => period = period;
        /// The most tasks running at once.
        max_children(max_children: usize) => max_children = max_children;
    }

    fn spec(
        &self,
        name: &str,
    ) -> Result<(DynamicSupervisorSpec, TaskSupervisorHandle), crate::SpecError> {
        let spec = self.options.build(name)?;
        let handle = TaskSupervisorHandle {
            supervisor: spec.supervisor_ref(),
            next_id: Arc::default(),
        };
        Ok((spec, handle))
    }

    /// Starts it as the root of a tree named `name`.
    ///
    /// # Errors
    ///
    /// A zero period or a name containing `/`, reported as a start error.
    pub async fn start(self, name: &str) -> Result<TaskSupervisorHandle, StartError> {
        start_dynamic_root(self.spec(name)).await
    }
}

impl Child for TaskSupervisor {
    type Handle = TaskSupervisorHandle;
    supervisor_child_defaults!();

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        dynamic_child(id, factory().spec(id), || TaskSupervisorHandle {
            supervisor: SupervisorRef::default(),
            next_id: Arc::default(),
        })
    }
}

/// Why a supervised task gave no result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskError {
    /// It failed (an error or a panic) and was not restarted, or its
    /// restarts ran out: the last failure.
    Failed(ExitReason),
    /// It was stopped before it finished: terminated, or its supervisor
    /// stopped or died.
    Stopped,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(reason) => write!(f, "the task failed: {reason}"),
            TaskError::Stopped => f.write_str("the task was stopped before it finished"),
        }
    }
}

impl std::error::Error for TaskError {}

/// The result of a supervised task, to await.
#[derive(Debug)]
pub struct TaskHandle<T> {
    rx: oneshot::Receiver<Result<T, TaskError>>,
}

impl<T> TaskHandle<T> {
    /// Waits for the task's result.
    ///
    /// # Errors
    ///
    /// [`TaskError`] when the task failed for good or was stopped.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not stop the task; its result is lost.
    pub async fn join(self) -> Result<T, TaskError> {
        self.rx.await.unwrap_or(Err(TaskError::Stopped))
    }
}

/// The handle of a [`TaskSupervisor`].
#[derive(Debug, Clone)]
pub struct TaskSupervisorHandle {
    supervisor: SupervisorRef,
    next_id: Arc<AtomicU64>,
}

/// What the incarnations of one task and its handle share: the result's
/// sender and the last failure.
struct Outcome<T> {
    tx: Mutex<Option<oneshot::Sender<Result<T, TaskError>>>>,
    last_failure: Mutex<Option<ExitReason>>,
}

impl<T> Outcome<T> {
    fn send(&self, result: Result<T, TaskError>) {
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(result);
        }
    }

    fn failed(&self, reason: ExitReason) {
        *self
            .last_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
    }

    /// The task is gone for good without a result.
    fn gone(&self) {
        let last = self
            .last_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        self.send(Err(last.map_or(TaskError::Stopped, TaskError::Failed)));
    }
}

type MakeAttempt<T> = Box<dyn FnMut() -> BoxFuture<Result<T, BoxError>> + Send>;

/// One attempt of a task, as a worker.
struct TaskWorker<T> {
    attempt: Arc<Mutex<MakeAttempt<T>>>,
    outcome: Arc<Outcome<T>>,
}

impl<T: Send + 'static> Worker for TaskWorker<T> {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        let future = (self
            .attempt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))();
        let reason = match AssertUnwindSafe(future).catch_unwind().await {
            Ok(Ok(value)) => {
                self.outcome.send(Ok(value));
                return Ok(());
            }
            Ok(Err(error)) => ExitReason::error(error),
            Err(panic) => ExitReason::from_panic(panic),
        };
        self.outcome.failed(reason.clone());
        Err(Exit::with_reason(reason))
    }
}

impl TaskSupervisorHandle {
    /// The task supervisor's control handle.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    async fn spawn_worker<T: Send + 'static>(
        &self,
        restart: Restart,
        attempt: MakeAttempt<T>,
    ) -> Result<TaskHandle<T>, CallError> {
        let (tx, rx) = oneshot::channel();
        let outcome = Arc::new(Outcome {
            tx: Mutex::new(Some(tx)),
            last_failure: Mutex::new(None),
        });
        let attempt = Arc::new(Mutex::new(attempt));
        let id = (self.next_id.fetch_add(1, Ordering::Relaxed) + 1).to_string();
        let (worker_outcome, forget_outcome) = (outcome.clone(), outcome);
        let spec = ChildSpec::worker(id, move || TaskWorker {
            attempt: attempt.clone(),
            outcome: worker_outcome.clone(),
        })
        .restart(restart)
        .with_unique_id()
        .on_forget(move || forget_outcome.gone());
        self.supervisor.start_child(spec).await?;
        Ok(TaskHandle { rx })
    }

    /// Runs `task` once as a temporary child and returns a handle to await
    /// its result. A panic in it is caught and returned as
    /// [`TaskError::Failed`].
    ///
    /// # Errors
    ///
    /// [`CallError::MaxChildren`], [`CallError::Stopped`].
    pub async fn spawn<F, T>(&self, task: F) -> Result<TaskHandle<T>, CallError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let mut task = Some(task);
        self.spawn_worker(
            Restart::Temporary,
            Box::new(move || match task.take() {
                Some(task) => Box::pin(async move { Ok(task.await) }),
                None => Box::pin(async { Err("a temporary task never runs twice".into()) }),
            }),
        )
        .await
    }

    /// Runs the future that `factory` builds as a transient child: an
    /// error or a panic restarts it (a new future from `factory`), within
    /// the supervisor's restart intensity, until it succeeds.
    ///
    /// # Errors
    ///
    /// [`CallError::MaxChildren`], [`CallError::Stopped`].
    pub async fn spawn_restarting<F, Fut, T, E>(
        &self,
        mut factory: F,
    ) -> Result<TaskHandle<T>, CallError>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<BoxError> + 'static,
    {
        self.spawn_worker(
            Restart::Transient,
            Box::new(move || {
                let future = factory();
                Box::pin(async move { future.await.map_err(Into::into) })
            }),
        )
        .await
    }
}
