//! Typed handles that keep reaching a child across its restarts, as a
//! registered name does in OTP.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::child::ChildRef;
use crate::mailbox::MailboxRef;
use crate::worker::Worker;

/// Why a message or a call through a [`WorkerHandle`] did not get through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleError {
    /// The child is not running now (it is being restarted, was terminated,
    /// or its supervisor has stopped). It may run again.
    NotRunning,
    /// The child is gone for good: deleted, or a temporary child that
    /// exited. It will not run again under this handle.
    NotFound,
    /// The incarnation that had the request exited before it replied: the
    /// request was lost with it (its queued messages die with it, as a
    /// process's mailbox does in OTP).
    Lost,
    /// The caller's deadline ran out.
    Timeout,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::NotRunning => "the child is not running",
            HandleError::NotFound => "the child is gone: it was deleted or has exited for good",
            HandleError::Lost => "the child exited before it replied; the request was lost",
            HandleError::Timeout => "the deadline ran out before the child replied",
        })
    }
}

impl std::error::Error for HandleError {}

/// A message that could not be sent, handed back with the reason.
pub struct SendError<M> {
    /// Why it was not sent.
    pub error: HandleError,
    /// The message.
    pub message: M,
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message not sent: {}", self.error)
    }
}

impl<M> std::error::Error for SendError<M> {}

/// The reply half of a call: the worker answers through it.
pub struct Reply<R>(oneshot::Sender<R>);

impl<R> Reply<R> {
    /// Answers the call. Returns the value back if the caller stopped
    /// waiting.
    ///
    /// # Errors
    ///
    /// The value, when the caller has gone.
    pub fn send(self, value: R) -> Result<(), R> {
        self.0.send(value)
    }
}

impl<R> fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reply")
    }
}

/// The handle of a supervised worker: sends it messages and calls it,
/// whichever incarnation is running.
///
/// A handle taken before a crash reaches the new incarnation after the
/// restart. Messages queued for an incarnation that crashed are dropped
/// with it, as OTP drops a dead process's mailbox: a poison message cannot
/// crash every later incarnation. A call whose request was lost so returns
/// [`HandleError::Lost`], never silence.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Exit, Reply, Supervisor, Worker};
///
/// enum CounterMsg { Add(u64), Get(Reply<u64>) }
///
/// #[derive(Clone)]
/// struct Counter;
///
/// impl Worker for Counter {
///     type Message = CounterMsg;
///     async fn run(self, mut ctx: Context<CounterMsg>) -> Result<(), Exit> {
///         let mut count = 0;
///         while let Some(msg) = ctx.recv().await {
///             match msg {
///                 CounterMsg::Add(n) => count += n,
///                 CounterMsg::Get(reply) => { let _ = reply.send(count); }
///             }
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (spec, counter) = ChildSpec::worker_with_handle("counter", || Counter);
/// let sup = Supervisor::builder("app").child(spec).build().unwrap().start().await.unwrap();
/// counter.send(CounterMsg::Add(2)).unwrap();
/// assert_eq!(counter.call(CounterMsg::Get).await.unwrap(), 2);
///
/// // After a crash, the same handle reaches the new incarnation (a call
/// // that reached the dying one would get `HandleError::Lost`).
/// counter.child().unwrap().kill();
/// tokio::time::sleep(std::time::Duration::from_millis(10)).await;
/// let n = counter.call_timeout(CounterMsg::Get, std::time::Duration::from_secs(1)).await;
/// assert_eq!(n.unwrap(), 0);
/// sup.stop().await.unwrap();
/// # }
/// ```
pub struct WorkerHandle<W: Worker> {
    mailbox: MailboxRef<W::Message>,
    _worker: PhantomData<fn() -> W>,
}

impl<W: Worker> Clone for WorkerHandle<W> {
    fn clone(&self) -> Self {
        WorkerHandle {
            mailbox: self.mailbox.clone(),
            _worker: PhantomData,
        }
    }
}

impl<W: Worker> fmt::Debug for WorkerHandle<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("child", &self.child())
            .finish()
    }
}

impl<W: Worker> WorkerHandle<W> {
    pub(crate) fn new(mailbox: MailboxRef<W::Message>) -> Self {
        WorkerHandle {
            mailbox,
            _worker: PhantomData,
        }
    }

    /// True when both handles reach the same child.
    pub fn same_child(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.mailbox, &other.mailbox)
    }

    /// True once the child is gone for good (deleted, or exited and not
    /// to be restarted).
    pub fn is_gone(&self) -> bool {
        matches!(self.mailbox.current(), Err(HandleError::NotFound))
    }

    /// The running incarnation, if any.
    pub fn child(&self) -> Option<ChildRef> {
        self.mailbox.current().ok()
    }

    /// Sends a message to the running incarnation, without waiting.
    ///
    /// # Errors
    ///
    /// [`HandleError::NotRunning`] or [`HandleError::NotFound`], with the
    /// message handed back.
    pub fn send(&self, message: W::Message) -> Result<(), SendError<W::Message>> {
        self.mailbox
            .send(message)
            .map_err(|(error, message)| SendError { error, message })
    }

    /// Calls the running incarnation: `make` builds the message around the
    /// reply half, and this waits for the answer.
    ///
    /// # Errors
    ///
    /// [`HandleError::NotRunning`], [`HandleError::NotFound`] (at once), or
    /// [`HandleError::Lost`] if the incarnation exits before replying,
    /// wherever it handed its [`Reply`] (a task of its own included).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after the message was sent does not withdraw
    /// it; the worker's reply is then discarded.
    pub async fn call<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> W::Message,
    ) -> Result<R, HandleError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        let callee = self
            .mailbox
            .send_call(make(Reply(reply_tx)))
            .map_err(|(error, _)| error)?;
        self.mailbox.wait_reply(&callee, reply_rx).await
    }

    /// Like [`call`](Self::call), but waits for the child to be running
    /// (through a restart) and for the answer, all within `timeout`.
    ///
    /// # Errors
    ///
    /// [`HandleError::Timeout`], [`HandleError::NotFound`],
    /// [`HandleError::Lost`].
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn call_timeout<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> W::Message,
        timeout: Duration,
    ) -> Result<R, HandleError> {
        tokio::time::timeout(timeout, async {
            let (reply_tx, reply_rx) = oneshot::channel();
            let mut request = make(Reply(reply_tx));
            let callee = loop {
                self.mailbox.wait_up().await?;
                // It may have exited in between: then wait for the next.
                match self.mailbox.send_call(request) {
                    Ok(callee) => break callee,
                    Err((HandleError::NotRunning, back)) => request = back,
                    Err((error, _)) => return Err(error),
                }
            };
            self.mailbox.wait_reply(&callee, reply_rx).await
        })
        .await
        .map_err(|_| HandleError::Timeout)?
    }

    /// Waits until an incarnation is running, at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`HandleError::Timeout`], [`HandleError::NotFound`].
    pub async fn wait_running(&self, timeout: Duration) -> Result<ChildRef, HandleError> {
        tokio::time::timeout(timeout, self.mailbox.wait_up())
            .await
            .map_err(|_| HandleError::Timeout)?
    }
}
