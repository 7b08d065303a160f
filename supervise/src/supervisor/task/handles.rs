//! What a task start gives: the start builders, and the handles a task's
//! result is awaited through.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::child::{BoxFuture, ChildRef};
use crate::exit::{BoxError, ExitReason};
use crate::policy::{Restart, Shutdown};
use crate::supervisor::CallError;
use crate::worker::Context;

use super::run::{once, MakeAttempt, TaskStart};
use super::{TaskError, TaskSupervisorHandle, DEFAULT_AWAIT_TIMEOUT};

pub(super) type ResultTx<T> = oneshot::Sender<Result<T, TaskError>>;
pub(super) type ResultRx<T> = oneshot::Receiver<Result<T, TaskError>>;

/// The result of a supervised task that is not linked to its caller
/// (Elixir's `async_nolink`), to await.
#[derive(Debug)]
pub struct TaskHandle<T> {
    pub(super) rx: ResultRx<T>,
    pub(super) child: Option<ChildRef>,
}

impl<T> TaskHandle<T> {
    /// Waits for the task's result, however long it takes.
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

    /// The task's first incarnation (OTP's pid), to terminate it with
    /// [`TaskSupervisorHandle::terminate_child`].
    pub fn child(&self) -> Option<&ChildRef> {
        self.child.as_ref()
    }
}

/// A task linked to its caller both ways (Elixir's `Task.Supervisor.async`),
/// to await: `.await` waits at most [`DEFAULT_AWAIT_TIMEOUT`] (Elixir's
/// `Task.await/1`), [`wait_timeout`](Self::wait_timeout) as long as asked.
///
/// * The caller's side: dropping this handle (the caller was dropped,
///   failed or stopped waiting, a timed-out await included) stops the task
///   at once, with reason `shutdown`.
/// * The task's side: its failure fails the await; and when the task was
///   [linked to a worker](SpawnLinked::link), that worker crashes with the
///   task's exit reason as soon as the task fails, awaiting or not, as an
///   Elixir caller linked to its task does.
///
/// Unlike Elixir, whose await exits the caller on a timeout, the await
/// returns [`TaskError::Timeout`]: a worker that `?`s it exits with it.
#[derive(Debug)]
#[must_use = "dropping a linked task stops it"]
pub struct LinkedTask<T> {
    pub(super) rx: ResultRx<T>,
    /// The running task, stopped when the handle is dropped first.
    pub(super) child: Option<ChildRef>,
}

impl<T> LinkedTask<T> {
    /// The task's incarnation (OTP's pid).
    pub fn child(&self) -> Option<&ChildRef> {
        self.child.as_ref()
    }

    /// Waits at most `timeout` for the task's result (Elixir's
    /// `Task.await/2`; `Duration::MAX` waits forever, as `:infinity`).
    ///
    /// # Errors
    ///
    /// [`TaskError::Failed`], [`TaskError::Stopped`]; on a timeout,
    /// [`TaskError::Timeout`], and the task is stopped.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the handle: the task is stopped.
    pub async fn wait_timeout(mut self, timeout: Duration) -> Result<T, TaskError> {
        let result = match tokio::time::timeout(timeout, &mut self.rx).await {
            Ok(result) => result.unwrap_or(Err(TaskError::Stopped)),
            Err(_) => return Err(TaskError::Timeout),
        };
        // Answered: it is finishing by itself.
        self.child = None;
        result
    }
}

impl<T: Send + 'static> IntoFuture for LinkedTask<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = BoxFuture<Result<T, TaskError>>;

    /// `task.await`: [`wait_timeout`](LinkedTask::wait_timeout) with
    /// Elixir's default of 5 seconds.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait_timeout(DEFAULT_AWAIT_TIMEOUT))
    }
}

impl<T> Drop for LinkedTask<T> {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            child.inner().abort_with(ExitReason::Shutdown);
        }
    }
}

/// A task about to be started by [`TaskSupervisorHandle::spawn`]: set its
/// options, then `.await` it to start it.
#[must_use = "a task starts only when this is awaited"]
pub struct SpawnTask<F> {
    pub(super) tasks: TaskSupervisorHandle,
    pub(super) task: F,
    pub(super) shutdown: Shutdown,
}

impl<F> SpawnTask<F> {
    /// How the task is stopped when terminated or when its supervisor
    /// stops (Elixir's `shutdown:`, default 5 s): a task does not handle
    /// shutdown, so it exits at once, `shutdown`, or `killed` with
    /// [`Shutdown::BrutalKill`].
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }
}

impl<F> fmt::Debug for SpawnTask<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnTask")
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl<F, T> IntoFuture for SpawnTask<F>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<TaskHandle<T>, CallError>;
    type IntoFuture = BoxFuture<Self::Output>;

    /// Starts the task.
    ///
    /// # Cancel safety
    ///
    /// As [`SupervisorHandle::start_child`](crate::SupervisorHandle::start_child).
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let start = TaskStart {
                restart: Restart::Temporary,
                shutdown: self.shutdown,
                linked: false,
                caller: None,
                attempt: once(self.task),
            };
            let (child, rx) = self.tasks.start_task(start).await?;
            Ok(TaskHandle { rx, child })
        })
    }
}

/// A task about to be started by [`TaskSupervisorHandle::spawn_linked`]:
/// set its options, then `.await` it to start it.
#[must_use = "a task starts only when this is awaited"]
pub struct SpawnLinked<F> {
    pub(super) tasks: TaskSupervisorHandle,
    pub(super) task: F,
    pub(super) shutdown: Shutdown,
    pub(super) caller: Option<ChildRef>,
}

impl<F> SpawnLinked<F> {
    /// As [`SpawnTask::shutdown`].
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Links the task to the worker whose context this is: when the task
    /// fails while the worker still holds its handle, the worker crashes
    /// with the task's exit reason (as an Elixir caller linked to its task
    /// exits with it); and when the worker exits, however it exits and
    /// wherever the handle went, the task stops.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{Context, Exit, TaskSupervisorHandle, Worker};
    ///
    /// struct Caller { tasks: TaskSupervisorHandle }
    ///
    /// impl Worker for Caller {
    ///     type Message = ();
    ///     async fn run(self, ctx: Context) -> Result<(), Exit> {
    ///         let task = self.tasks.spawn_linked(async { 1 + 1 }).link(&ctx).await?;
    ///         let two = task.await?;
    ///         assert_eq!(two, 2);
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn link<M>(mut self, ctx: &Context<M>) -> Self {
        self.caller = Some(ctx.child_ref());
        self
    }
}

impl<F> fmt::Debug for SpawnLinked<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnLinked")
            .field("shutdown", &self.shutdown)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl<F, T> IntoFuture for SpawnLinked<F>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<LinkedTask<T>, CallError>;
    type IntoFuture = BoxFuture<Self::Output>;

    /// Starts the task.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it returns, the task is not started or stops at
    /// once (its caller is gone).
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let start = TaskStart {
                restart: Restart::Temporary,
                shutdown: self.shutdown,
                linked: true,
                caller: self.caller,
                attempt: once(self.task),
            };
            let (child, rx) = self.tasks.start_task(start).await?;
            Ok(LinkedTask { rx, child })
        })
    }
}

/// A task about to be started by
/// [`TaskSupervisorHandle::spawn_restarting`]: set its options, then
/// `.await` it to start it.
#[must_use = "a task starts only when this is awaited"]
pub struct SpawnRestarting<F> {
    pub(super) tasks: TaskSupervisorHandle,
    pub(super) factory: F,
    pub(super) restart: Restart,
    pub(super) shutdown: Shutdown,
}

impl<F> SpawnRestarting<F> {
    /// Its restart type (Elixir's `restart:`): transient by default
    /// (restarted after an error or a panic, until it succeeds); permanent
    /// restarts it after a success too (its handle has the first result);
    /// temporary runs it once.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// As [`SpawnTask::shutdown`].
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }
}

impl<F> fmt::Debug for SpawnRestarting<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnRestarting")
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl<F, Fut, T, E> IntoFuture for SpawnRestarting<F>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<BoxError> + 'static,
{
    type Output = Result<TaskHandle<T>, CallError>;
    type IntoFuture = BoxFuture<Self::Output>;

    /// Starts the task.
    ///
    /// # Cancel safety
    ///
    /// As [`SupervisorHandle::start_child`](crate::SupervisorHandle::start_child).
    fn into_future(self) -> Self::IntoFuture {
        let mut factory = self.factory;
        let attempt: MakeAttempt<T> = Box::new(move || {
            let future = factory();
            Box::pin(async move { future.await.map_err(Into::into) })
        });
        let start = TaskStart {
            restart: self.restart,
            shutdown: self.shutdown,
            linked: false,
            caller: None,
            attempt,
        };
        let tasks = self.tasks;
        Box::pin(async move {
            let (child, rx) = tasks.start_task(start).await?;
            Ok(TaskHandle { rx, child })
        })
    }
}
