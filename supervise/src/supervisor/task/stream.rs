//! Streams of tasks (Elixir's `async_stream` and `async_stream_nolink`):
//! one task per input, at most `max_concurrency` running, results in input
//! order or as they come, each task within its timeout.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures_util::stream::{BoxStream, FuturesUnordered};
use futures_util::{FutureExt, Stream, StreamExt};

use crate::child::{BoxFuture, ChildRef};
use crate::policy::{Restart, Shutdown};
use crate::supervisor::CallError;
use crate::worker::Context;

use super::run::{once, TaskStart};
use super::{TaskError, TaskSupervisorHandle, DEFAULT_TASK_SHUTDOWN};

/// What a task stream runs over: any iterator (`IntoIterator`), or a
/// stream wrapped in [`FromStream`].
pub trait TaskInputs {
    /// One input.
    type Item: Send + 'static;

    /// The inputs, as a stream.
    fn into_inputs(self) -> BoxStream<'static, Self::Item>;
}

impl<I> TaskInputs for I
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
{
    type Item = I::Item;

    fn into_inputs(self) -> BoxStream<'static, I::Item> {
        futures_util::stream::iter(self).boxed()
    }
}

/// A stream as the inputs of a task stream (an iterator needs no wrapper).
#[derive(Debug)]
pub struct FromStream<S>(pub S);

impl<S> TaskInputs for FromStream<S>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
{
    type Item = S::Item;

    fn into_inputs(self) -> BoxStream<'static, S::Item> {
        self.0.boxed()
    }
}

/// What a task stream does when a task runs past its `timeout` (Elixir's
/// `on_timeout:`). The task is killed either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// The stream ends with [`TaskError::Timeout`] and its other tasks are
    /// stopped (Elixir's `:exit`, which exits the caller). The default.
    #[default]
    Exit,
    /// That item is [`TaskError::Timeout`] (Elixir's `{:exit, :timeout}`)
    /// and the stream goes on (Elixir's `:kill_task`).
    KillTask,
}

/// A task stream's options that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskStreamError {
    /// `max_concurrency` of 0: no task could ever run (Elixir raises).
    ZeroMaxConcurrency,
}

impl fmt::Display for TaskStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskStreamError::ZeroMaxConcurrency => f.write_str(
                "max_concurrency must be at least 1; the default is the number of cores",
            ),
        }
    }
}

impl std::error::Error for TaskStreamError {}

/// A task stream to configure (Elixir's `async_stream` options), made by
/// [`TaskSupervisorHandle::async_stream`] (`LINKED`) or
/// [`async_stream_nolink`](TaskSupervisorHandle::async_stream_nolink);
/// [`stream`](Self::stream) makes the stream.
#[must_use = "a task stream does nothing until it is made and polled"]
pub struct AsyncStream<I, F, const LINKED: bool> {
    tasks: TaskSupervisorHandle,
    inputs: I,
    f: F,
    max_concurrency: usize,
    ordered: bool,
    timeout: Duration,
    on_timeout: OnTimeout,
    shutdown: Shutdown,
    caller: Option<ChildRef>,
}

impl<I, F, const LINKED: bool> fmt::Debug for AsyncStream<I, F, LINKED> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStream")
            .field("linked", &LINKED)
            .field("max_concurrency", &self.max_concurrency)
            .field("ordered", &self.ordered)
            .field("timeout", &self.timeout)
            .field("on_timeout", &self.on_timeout)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl<I, F, Fut, const LINKED: bool> AsyncStream<I, F, LINKED>
where
    I: TaskInputs,
    F: FnMut(I::Item) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    pub(super) fn new(tasks: TaskSupervisorHandle, inputs: I, f: F) -> Self {
        AsyncStream {
            tasks,
            inputs,
            f,
            max_concurrency: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            ordered: true,
            timeout: Duration::from_secs(5),
            on_timeout: OnTimeout::Exit,
            shutdown: DEFAULT_TASK_SHUTDOWN,
            caller: None,
        }
    }

    /// The most tasks running at once. Default: the number of cores
    /// (Elixir's `System.schedulers_online/0`). A task whose result waits
    /// for an earlier one (`ordered`) no longer counts.
    pub fn max_concurrency(mut self, max_concurrency: usize) -> Self {
        self.max_concurrency = max_concurrency;
        self
    }

    /// Whether the results come in the order of the inputs (the default)
    /// or as the tasks finish.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long each task may run, from its start. Default: 5 s;
    /// `Duration::MAX` lets it run forever (Elixir's `:infinity`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What a timeout does to the stream. Default: [`OnTimeout::Exit`].
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }

    /// Each task's shutdown, as [`SpawnTask::shutdown`](super::SpawnTask::shutdown). Default: 5 s.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Makes the stream. Nothing starts until it is polled; its tasks are
    /// started as it is, at most `max_concurrency` at a time, each as its
    /// input comes. Dropping the stream kills the tasks still running
    /// (Elixir's stream halt).
    ///
    /// # Errors
    ///
    /// [`TaskStreamError::ZeroMaxConcurrency`].
    pub fn stream(self) -> Result<TaskStream<Fut::Output>, TaskStreamError> {
        if self.max_concurrency == 0 {
            return Err(TaskStreamError::ZeroMaxConcurrency);
        }
        let mut f = self.f;
        let inputs = self
            .inputs
            .into_inputs()
            .map(move |input| -> BoxFuture<Fut::Output> { Box::pin(f(input)) })
            .boxed();
        Ok(TaskStream {
            tasks: self.tasks,
            inputs: Some(inputs),
            starting: None,
            running: FuturesUnordered::new(),
            waiting: BTreeMap::new(),
            next_in: 0,
            next_out: 0,
            max_concurrency: self.max_concurrency,
            ordered: self.ordered,
            timeout: self.timeout,
            on_timeout: self.on_timeout,
            shutdown: self.shutdown,
            linked: LINKED,
            caller: self.caller,
            ended: false,
        })
    }
}

impl<I, F> AsyncStream<I, F, true> {
    /// Links the stream's tasks to the worker whose context this is: a
    /// task's failure crashes the worker at once, with the task's exit
    /// reason, as an Elixir caller linked to its tasks exits.
    pub fn link<M>(mut self, ctx: &Context<M>) -> Self {
        self.caller = Some(ctx.child_ref());
        self
    }
}

/// A running task of a stream: its position and its result; killed if
/// dropped before it finished.
type Running<T> = BoxFuture<(usize, Result<T, TaskError>)>;

/// A stream's task being started: once it is, its running future.
type Starting<T> = BoxFuture<Result<Running<T>, CallError>>;

/// Kills a stream's task when dropped armed (the stream was dropped or
/// ended early).
struct KillOnDrop(Option<ChildRef>);

impl KillOnDrop {
    /// The task finished by itself.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            child.kill();
        }
    }
}

/// The results of a task stream, one per input:
/// `Ok(value)`, or why that task gave none ([`TaskError`]). A
/// [`Stream`]; [`next`](Self::next) reads it without a stream trait.
///
/// Lazy and bounded, as Elixir's: a task is started when the stream is
/// polled and fewer than `max_concurrency` run; with `ordered`, a result
/// that comes early waits for the ones before it. Dropping the stream
/// kills the tasks still running.
pub struct TaskStream<T> {
    tasks: TaskSupervisorHandle,
    /// The tasks to start, each a future; `None` once all are started.
    inputs: Option<BoxStream<'static, BoxFuture<T>>>,
    /// The start in progress, and its input's position.
    starting: Option<(usize, Starting<T>)>,
    running: FuturesUnordered<Running<T>>,
    /// Results that came before their turn (`ordered`).
    waiting: BTreeMap<usize, Result<T, TaskError>>,
    next_in: usize,
    next_out: usize,
    max_concurrency: usize,
    ordered: bool,
    timeout: Duration,
    on_timeout: OnTimeout,
    shutdown: Shutdown,
    linked: bool,
    caller: Option<ChildRef>,
    ended: bool,
}

// Never pinned in place: every future it holds is boxed.
impl<T> Unpin for TaskStream<T> {}

impl<T> fmt::Debug for TaskStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskStream")
            .field("linked", &self.linked)
            .field("running", &self.running.len())
            .field("started", &self.next_in)
            .field("delivered", &self.next_out)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> TaskStream<T> {
    /// The next result, or `None` once every input's has come (or the
    /// stream ended early).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no result.
    pub async fn next(&mut self) -> Option<Result<T, TaskError>> {
        StreamExt::next(self).await
    }

    /// Starts the task of the input at `position`.
    fn start(&self, position: usize, task: BoxFuture<T>) -> Starting<T> {
        let tasks = self.tasks.clone();
        let start = TaskStart {
            restart: Restart::Temporary,
            shutdown: self.shutdown,
            linked: true,
            caller: self.caller.clone(),
            attempt: once(task),
        };
        let timeout = self.timeout;
        Box::pin(async move {
            let (child, rx) = tasks.start_task(start).await?;
            // The task's time runs from its start.
            let result = tokio::time::timeout(timeout, rx);
            let mut guard = KillOnDrop(child);
            let running: Running<T> = Box::pin(async move {
                let result = match result.await {
                    Ok(Ok(result)) => result,
                    Ok(Err(_)) => Err(TaskError::Stopped),
                    // Killed by the guard, whatever `on_timeout` says.
                    Err(_) => return (position, Err(TaskError::Timeout)),
                };
                guard.disarm();
                (position, result)
            });
            Ok(running)
        })
    }

    /// Ends the stream early: its tasks are killed, the rest never start.
    fn end(&mut self) {
        self.ended = true;
        self.inputs = None;
        self.starting = None;
        self.running = FuturesUnordered::new();
        self.waiting.clear();
    }

    /// Whether `result` ends the stream: a timeout with `OnTimeout::Exit`;
    /// and for linked tasks, any other failure (their caller would exit).
    fn is_fatal(&self, result: &Result<T, TaskError>) -> bool {
        match result {
            Ok(_) => false,
            Err(TaskError::Timeout) => self.on_timeout == OnTimeout::Exit,
            Err(TaskError::NotStarted(_)) => true,
            Err(_) => self.linked,
        }
    }
}

impl<T: Send + 'static> Stream for TaskStream<T> {
    type Item = Result<T, TaskError>;

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<T, TaskError>>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(result) = this.waiting.remove(&this.next_out) {
                this.next_out += 1;
                return Poll::Ready(Some(result));
            }
            // Start tasks while there is room, one start at a time.
            loop {
                if this.starting.is_none() {
                    if this.running.len() >= this.max_concurrency {
                        break;
                    }
                    let Some(inputs) = this.inputs.as_mut() else {
                        break;
                    };
                    match inputs.poll_next_unpin(cx) {
                        Poll::Ready(Some(task)) => {
                            let position = this.next_in;
                            this.next_in += 1;
                            this.starting = Some((position, this.start(position, task)));
                        }
                        Poll::Ready(None) => {
                            this.inputs = None;
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
                let Some((_, start)) = this.starting.as_mut() else {
                    break;
                };
                match start.poll_unpin(cx) {
                    Poll::Ready(Ok(running)) => {
                        this.starting = None;
                        this.running.push(running);
                    }
                    Poll::Ready(Err(error)) => {
                        // Elixir raises here (`max_children`): the stream
                        // ends with it.
                        this.end();
                        return Poll::Ready(Some(Err(TaskError::NotStarted(error))));
                    }
                    Poll::Pending => break,
                }
            }
            match this.running.poll_next_unpin(cx) {
                Poll::Ready(Some((position, result))) => {
                    if this.is_fatal(&result) {
                        this.end();
                        return Poll::Ready(Some(result));
                    }
                    if !this.ordered {
                        this.next_out += 1;
                        return Poll::Ready(Some(result));
                    }
                    this.waiting.insert(position, result);
                }
                Poll::Ready(None) => {
                    if this.inputs.is_none() && this.starting.is_none() {
                        this.ended = true;
                        return Poll::Ready(None);
                    }
                    // Waiting for an input or a start, which will wake us.
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
