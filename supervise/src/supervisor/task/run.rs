//! A task as a worker: its attempts, where its result goes, and its links
//! (to the caller's handle, and to a caller that is a worker).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::FutureExt;

use crate::child::{BoxFuture, ChildRef};
use crate::exit::{BoxError, Exit, ExitReason};
use crate::policy::{Restart, Shutdown};
use crate::worker::{Context, Worker};

use super::handles::ResultTx;
use super::TaskError;

/// What the incarnations of one task and its handle share: the result's
/// sender and the last failure.
pub(super) struct Outcome<T> {
    pub(super) tx: Mutex<Option<ResultTx<T>>>,
    pub(super) last_failure: Mutex<Option<ExitReason>>,
}

impl<T> Outcome<T> {
    fn send(&self, result: Result<T, TaskError>) {
        let tx = lock(&self.tx).take();
        if let Some(tx) = tx {
            let _ = tx.send(result);
        }
    }

    fn failed(&self, reason: ExitReason) {
        *lock(&self.last_failure) = Some(reason);
    }

    /// The task is gone for good without a result.
    pub(super) fn gone(&self) {
        let last = lock(&self.last_failure).take();
        self.send(Err(last.map_or(TaskError::Stopped, TaskError::Failed)));
    }

    /// Completes when the caller has dropped its handle (never once the
    /// result was sent).
    async fn caller_gone(&self) {
        std::future::poll_fn(|cx| match lock(&self.tx).as_mut() {
            Some(tx) => tx.poll_closed(cx),
            None => Poll::Pending,
        })
        .await
    }

    /// True while the caller still holds its handle.
    fn caller_waits(&self) -> bool {
        lock(&self.tx).as_ref().is_some_and(|tx| !tx.is_closed())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) type MakeAttempt<T> = Box<dyn FnMut() -> BoxFuture<Result<T, BoxError>> + Send>;

/// One attempt of a task, as a worker.
pub(super) struct TaskWorker<T> {
    pub(super) attempt: Arc<Mutex<MakeAttempt<T>>>,
    pub(super) outcome: Arc<Outcome<T>>,
    /// Linked to its caller: stops when the caller drops its handle.
    pub(super) linked: bool,
    /// The worker that called, which crashes when this task fails.
    pub(super) caller: Option<ChildRef>,
}

impl<T: Send + 'static> Worker for TaskWorker<T> {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        let future = (lock(&self.attempt))();
        let attempt = AssertUnwindSafe(future).catch_unwind();
        let result = if self.linked {
            // The caller's end ends the task: its handle dropped, or the
            // worker it is linked to exited (wherever the handle went).
            let caller_exited = async {
                match &self.caller {
                    Some(caller) => caller.inner().exited().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                result = attempt => result,
                () = self.outcome.caller_gone() => return Err(Exit::shutdown()),
                () = caller_exited => return Err(Exit::shutdown()),
            }
        } else {
            attempt.await
        };
        let reason = match result {
            Ok(Ok(value)) => {
                self.outcome.send(Ok(value));
                return Ok(());
            }
            Ok(Err(error)) => ExitReason::error(error),
            Err(panic) => ExitReason::from_panic(panic),
        };
        if let Some(caller) = &self.caller {
            if self.outcome.caller_waits() {
                caller.inner().crash(reason.clone());
            }
        }
        self.outcome.failed(reason.clone());
        Err(Exit::with_reason(reason))
    }
}

/// How one task is started.
pub(super) struct TaskStart<T> {
    pub(super) restart: Restart,
    pub(super) shutdown: Shutdown,
    pub(super) linked: bool,
    pub(super) caller: Option<ChildRef>,
    pub(super) attempt: MakeAttempt<T>,
}

/// A future run once, as a task's attempts.
pub(super) fn once<F, T>(task: F) -> MakeAttempt<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut task = Some(task);
    Box::new(move || match task.take() {
        Some(task) => Box::pin(async move { Ok(task.await) }),
        None => Box::pin(async { Err("a temporary task never runs twice".into()) }),
    })
}
