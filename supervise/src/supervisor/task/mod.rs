//! `TaskSupervisor`: supervised one-off tasks (Elixir's `Task.Supervisor`):
//! tasks whose result the caller awaits (`async_nolink`), tasks linked to
//! their caller (`async`), restarted ones (`start_child`), and streams of
//! tasks over an iterator or a stream (`async_stream`,
//! `async_stream_nolink`).
//!
//! Every task is a child of a dynamic supervisor; its result goes to its
//! handle through a oneshot channel. A *linked* task also watches that
//! channel: when its caller drops the handle (the caller was dropped,
//! failed, or stopped waiting), the task stops, and when the task fails,
//! the caller's await fails and a caller that is a supervised worker
//! crashes with it.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`TaskSupervisor`], its handle and what it starts, [`TaskError`] |
//! | `run` | a task as a worker: its attempts, where its result goes, its links |
//! | `handles` | the start builders ([`SpawnTask`], [`SpawnLinked`], [`SpawnRestarting`]) and the result handles ([`TaskHandle`], [`LinkedTask`]) |
//! | `stream` | [`AsyncStream`] and [`TaskStream`]: tasks over inputs, bounded, ordered or not, with timeouts |

mod handles;
mod run;
mod stream;

pub use self::handles::{LinkedTask, SpawnLinked, SpawnRestarting, SpawnTask, TaskHandle};
pub use self::stream::{
    AsyncStream, FromStream, OnTimeout, TaskInputs, TaskStream, TaskStreamError,
};

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::child::{ChildRef, ChildSpec};
use crate::error::StartError;
use crate::exit::{BoxError, ExitReason};
use crate::policy::{Restart, Shutdown};
use crate::supervised::Child;
use crate::supervisor::CallError;
use crate::supervisor::SupervisorRef;

use self::handles::ResultRx;
use self::run::{Outcome, TaskStart, TaskWorker};

use super::dynamic::{dynamic_child, start_dynamic_root, DynOptions, DynamicSupervisorSpec};

/// How long a linked task's await waits by default: Elixir's
/// `Task.await/1`, 5 seconds.
pub const DEFAULT_AWAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// A task's shutdown by default: Elixir's, 5 seconds.
const DEFAULT_TASK_SHUTDOWN: Shutdown = Shutdown::Timeout(Duration::from_secs(5));

/// A supervisor of one-off tasks (Elixir's `Task.Supervisor`). Each task is
/// a temporary child by default; its result is awaited through a handle.
/// Its tasks stop with it. It can be a root or a field of a derived
/// supervisor.
///
/// | Elixir | here |
/// |---|---|
/// | `async_nolink(sup, fun, shutdown: ...)` | [`spawn(future)`](TaskSupervisorHandle::spawn)`.shutdown(..)`, then [`TaskHandle::join`] |
/// | `async(sup, fun)` + `Task.await(task, timeout)` | [`spawn_linked(future)`](TaskSupervisorHandle::spawn_linked), then `.await` (5 s) or [`LinkedTask::wait_timeout`] |
/// | `start_child(sup, fun, restart: ..., shutdown: ...)` | [`spawn_restarting(factory)`](TaskSupervisorHandle::spawn_restarting)`.restart(..).shutdown(..)` |
/// | `async_stream(sup, enum, fun, opts)`, `async_stream_nolink` | [`async_stream`](TaskSupervisorHandle::async_stream), [`async_stream_nolink`](TaskSupervisorHandle::async_stream_nolink) |
/// | `children(sup)`, `terminate_child(sup, pid)` | [`children`](TaskSupervisorHandle::children), [`terminate_child`](TaskSupervisorHandle::terminate_child) |
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
    /// It did not finish within the caller's timeout (Elixir's await
    /// timeout, or a stream's `timeout`). A linked task is stopped then;
    /// a stream's task is killed.
    Timeout,
    /// The supervisor did not start it (a stream's task:
    /// [`CallError::MaxChildren`], or the supervisor had stopped).
    NotStarted(CallError),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(reason) => write!(f, "the task failed: {reason}"),
            TaskError::Stopped => f.write_str("the task was stopped before it finished"),
            TaskError::Timeout => f.write_str("the task did not finish in time"),
            TaskError::NotStarted(e) => write!(f, "the task was not started: {e}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// The handle of a [`TaskSupervisor`].
#[derive(Debug, Clone)]
pub struct TaskSupervisorHandle {
    supervisor: SupervisorRef,
    next_id: Arc<AtomicU64>,
}

impl TaskSupervisorHandle {
    /// The task supervisor's control handle.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// Starts a task; returns its incarnation and its result's receiver.
    async fn start_task<T: Send + 'static>(
        &self,
        start: TaskStart<T>,
    ) -> Result<(Option<ChildRef>, ResultRx<T>), CallError> {
        let (tx, rx) = oneshot::channel();
        let outcome = Arc::new(Outcome {
            tx: Mutex::new(Some(tx)),
            last_failure: Mutex::new(None),
        });
        let attempt = Arc::new(Mutex::new(start.attempt));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (worker_outcome, forget_outcome) = (outcome.clone(), outcome);
        let (linked, caller) = (start.linked, start.caller);
        let spec = ChildSpec::worker(itoa::Buffer::new().format(id), move || TaskWorker {
            attempt: attempt.clone(),
            outcome: worker_outcome.clone(),
            linked,
            caller: caller.clone(),
        })
        .restart(start.restart)
        .shutdown(start.shutdown)
        .with_unique_id()
        .on_forget(move || forget_outcome.gone());
        let child = self.supervisor.start_child(spec).await?;
        Ok((child, rx))
    }

    /// Runs `task` once as a temporary child not linked to the caller
    /// (Elixir's `async_nolink`); awaiting the returned builder starts it
    /// and gives a [`TaskHandle`] to await its result. A panic in it is
    /// caught and returned as [`TaskError::Failed`]; dropping the handle
    /// leaves it running. Set its [`shutdown`](SpawnTask::shutdown) on the
    /// builder.
    ///
    /// # Errors
    ///
    /// (From the await) [`CallError::MaxChildren`], [`CallError::Stopped`],
    /// [`CallError::InvalidSpec`] for a zero shutdown timeout.
    pub fn spawn<F, T>(&self, task: F) -> SpawnTask<F>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        SpawnTask {
            tasks: self.clone(),
            task,
            shutdown: DEFAULT_TASK_SHUTDOWN,
        }
    }

    /// Runs `task` once as a temporary child linked to the caller (Elixir's
    /// `async`); awaiting the returned builder starts it and gives a
    /// [`LinkedTask`] to await (5 s by default). Set its
    /// [`shutdown`](SpawnLinked::shutdown), and the worker it is
    /// [linked to](SpawnLinked::link), on the builder.
    ///
    /// # Errors
    ///
    /// (From the await) as [`spawn`](Self::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervise::{TaskError, TaskSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = TaskSupervisor::new().start("tasks").await.unwrap();
    /// let task = tasks.spawn_linked(async { 6 * 7 }).await.unwrap();
    /// assert_eq!(task.await, Ok(42));
    ///
    /// // Not done within the await's timeout: the await fails and the task
    /// // is stopped.
    /// let slow = tasks.spawn_linked(std::future::pending::<()>()).await.unwrap();
    /// assert_eq!(slow.wait_timeout(Duration::from_millis(10)).await, Err(TaskError::Timeout));
    /// tasks.supervisor().current().unwrap().stop().await.unwrap();
    /// # }
    /// ```
    pub fn spawn_linked<F, T>(&self, task: F) -> SpawnLinked<F>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        SpawnLinked {
            tasks: self.clone(),
            task,
            shutdown: DEFAULT_TASK_SHUTDOWN,
            caller: None,
        }
    }

    /// Runs the future that `factory` builds as a supervised child
    /// (Elixir's `start_child/3`), transient by default: an error or a
    /// panic starts it again (a new future from `factory`), within the
    /// supervisor's restart intensity, until it succeeds. Set its
    /// [`restart`](SpawnRestarting::restart) type and
    /// [`shutdown`](SpawnRestarting::shutdown) on the builder; awaiting the
    /// builder starts it and gives a [`TaskHandle`] with the first success.
    ///
    /// # Errors
    ///
    /// (From the await) as [`spawn`](Self::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use supervise::{Restart, Shutdown, TaskSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = TaskSupervisor::new().start("tasks").await.unwrap();
    /// let attempts = Arc::new(AtomicU32::new(0));
    /// let a = attempts.clone();
    /// let flaky = tasks
    ///     .spawn_restarting(move || {
    ///         let n = a.fetch_add(1, Ordering::SeqCst);
    ///         async move { if n < 2 { Err("not yet") } else { Ok(n) } }
    ///     })
    ///     .restart(Restart::Transient)
    ///     .shutdown(Shutdown::BrutalKill)
    ///     .await
    ///     .unwrap();
    /// assert_eq!(flaky.join().await, Ok(2)); // the third attempt
    /// tasks.supervisor().current().unwrap().stop().await.unwrap();
    /// # }
    /// ```
    pub fn spawn_restarting<F, Fut, T, E>(&self, factory: F) -> SpawnRestarting<F>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<BoxError> + 'static,
    {
        SpawnRestarting {
            tasks: self.clone(),
            factory,
            restart: Restart::Transient,
            shutdown: DEFAULT_TASK_SHUTDOWN,
        }
    }

    /// Runs `f` on each of `inputs` as a task linked to the caller, at most
    /// `max_concurrency` at a time, and streams the results (Elixir's
    /// `async_stream/4`). Configure it on the returned [`AsyncStream`],
    /// then call [`stream`](AsyncStream::stream). `inputs` is an iterator,
    /// or a stream wrapped in [`FromStream`].
    ///
    /// Linked, as Elixir's: a task's failure (or its stop) ends the stream
    /// with that error, stops the other tasks, and crashes the worker the
    /// stream is [linked to](AsyncStream::link); so does a timeout, unless
    /// `on_timeout` is [`OnTimeout::KillTask`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use supervise::TaskSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tasks = TaskSupervisor::new().start("tasks").await.unwrap();
    /// let doubled: Vec<_> = tasks
    ///     .async_stream(1..=5, |n| async move { n * 2 })
    ///     .max_concurrency(2)
    ///     .stream()
    ///     .unwrap()
    ///     .map(Result::unwrap)
    ///     .collect()
    ///     .await;
    /// assert_eq!(doubled, [2, 4, 6, 8, 10]); // in input order (`ordered`)
    /// tasks.supervisor().current().unwrap().stop().await.unwrap();
    /// # }
    /// ```
    pub fn async_stream<I, F, Fut>(&self, inputs: I, f: F) -> AsyncStream<I, F, true>
    where
        I: TaskInputs,
        F: FnMut(I::Item) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        AsyncStream::new(self.clone(), inputs, f)
    }

    /// [`async_stream`](Self::async_stream) with tasks that are not linked
    /// to the caller (Elixir's `async_stream_nolink/4`): a task's failure
    /// is an item of the stream, [`TaskError::Failed`], and the others go
    /// on.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use std::time::Duration;
    /// use supervise::{OnTimeout, TaskError, TaskSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let tasks = TaskSupervisor::new().start("tasks").await.unwrap();
    /// let results: Vec<_> = tasks
    ///     .async_stream_nolink([1u64, 2, 3], |n| async move {
    ///         tokio::time::sleep(Duration::from_secs(n)).await;
    ///         if n == 1 { panic!("one") }
    ///         n
    ///     })
    ///     .timeout(Duration::from_millis(2_500))
    ///     .on_timeout(OnTimeout::KillTask)
    ///     .stream()
    ///     .unwrap()
    ///     .collect()
    ///     .await;
    /// assert!(matches!(results[0], Err(TaskError::Failed(_))));
    /// assert_eq!(results[1], Ok(2));
    /// assert_eq!(results[2], Err(TaskError::Timeout));
    /// tasks.supervisor().current().unwrap().stop().await.unwrap();
    /// # }
    /// ```
    pub fn async_stream_nolink<I, F, Fut>(&self, inputs: I, f: F) -> AsyncStream<I, F, false>
    where
        I: TaskInputs,
        F: FnMut(I::Item) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        AsyncStream::new(self.clone(), inputs, f)
    }

    /// The running tasks' incarnations (Elixir's `children/1`).
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn children(&self) -> Result<Vec<ChildRef>, CallError> {
        let children = self.supervisor.current()?.which_children().await?;
        Ok(children
            .into_iter()
            .filter_map(|c| match c.status {
                super::ChildStatus::Running(child) => Some(child),
                _ => None,
            })
            .collect())
    }

    /// Stops the task `child` by its shutdown (Elixir's
    /// `terminate_child/2`); its handle gets [`TaskError::Stopped`].
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when it is not a running task of this
    /// supervisor; [`CallError::Stopped`].
    pub async fn terminate_child(&self, child: &ChildRef) -> Result<(), CallError> {
        self.supervisor.current()?.terminate_child_ref(child).await
    }
}
