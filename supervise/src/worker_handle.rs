//! Typed handles that keep reaching a child across its restarts, as a
//! registered name does in OTP.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::child::ChildRef;
use crate::mailbox::MailboxRef;
use crate::sync::call;
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
    /// The worker dropped the call's [`Reply`] unanswered and went on
    /// running: the call will never be answered (a bug in the worker, or a
    /// request it chose to ignore).
    NoReply,
    /// The worker's mailbox is bounded and full; see
    /// [`ChildSpec::worker_with_bounded_handle`](crate::ChildSpec::worker_with_bounded_handle).
    Full,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::NotRunning => "the child is not running",
            HandleError::NotFound => "the child is gone: it was deleted or has exited for good",
            HandleError::Lost => "the child exited before it replied; the request was lost",
            HandleError::Timeout => "the deadline ran out before the child replied",
            HandleError::NoReply => "the child dropped the reply unanswered and runs on",
            HandleError::Full => "the child's mailbox is full",
        })
    }
}

impl std::error::Error for HandleError {}

/// The error of a call whose handler answers with a `Result`: the call got
/// no answer ([`HandleError`]), or the handler answered with its error. A
/// `#[handlers]` call returning `Result<V, E>` gives its caller
/// `Result<V, ReplyError<E>>`, one error for both (kameo's `SendError`
/// does the same), so that one `?` takes either.
///
/// # Examples
///
/// ```
/// use supervise::{handlers, worker, ReplyError, Supervisor};
///
/// #[worker]
/// #[derive(Clone)]
/// struct Divider;
///
/// #[handlers]
/// impl Divider {
///     #[call]
///     fn divide(&mut self, a: u64, b: u64) -> Result<u64, String> {
///         a.checked_div(b).ok_or_else(|| "division by zero".to_owned())
///     }
/// }
///
/// #[derive(Clone, Supervisor)]
/// struct App { divider: Divider }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let app = App { divider: Divider }.start().await.unwrap();
/// assert_eq!(app.divider.divide(6, 3).await, Ok(2));
/// assert_eq!(
///     app.divider.divide(1, 0).await,
///     Err(ReplyError::Reply("division by zero".to_owned()))
/// );
/// app.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError<E> {
    /// The call got no answer.
    Call(HandleError),
    /// The handler answered with this error.
    Reply(E),
}

impl<E> From<HandleError> for ReplyError<E> {
    fn from(error: HandleError) -> Self {
        ReplyError::Call(error)
    }
}

impl<E: fmt::Display> fmt::Display for ReplyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Call(error) => write!(f, "the call got no answer: {error}"),
            ReplyError::Reply(error) => write!(f, "the handler answered with an error: {error}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ReplyError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplyError::Call(error) => Some(error),
            ReplyError::Reply(error) => Some(error),
        }
    }
}

impl<E> ReplyError<E> {
    /// The answer of a call whose handler answers with a `Result`, its two
    /// errors as one. Used by the client methods `#[handlers]` generates.
    #[doc(hidden)]
    pub fn flatten<V>(answer: Result<Result<V, E>, HandleError>) -> Result<V, ReplyError<E>> {
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(ReplyError::Reply(error)),
            Err(error) => Err(ReplyError::Call(error)),
        }
    }
}

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

/// How long [`WorkerHandle::call`] waits for an incarnation to come up
/// when it is called between two (the 5 s of OTP's `gen_server:call/2`).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The reply half of a call: the worker answers through it. Dropped
/// unanswered while the worker runs on, the caller gets
/// [`HandleError::NoReply`].
#[must_use = "a call waits for this reply: send it, or the caller gets HandleError::NoReply"]
pub struct Reply<R>(call::Sender<R>);

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
    /// Mailboxes are unbounded unless made with
    /// [`ChildSpec::worker_with_bounded_handle`](crate::ChildSpec::worker_with_bounded_handle).
    ///
    /// # Errors
    ///
    /// [`HandleError::NotRunning`], [`HandleError::NotFound`], or
    /// [`HandleError::Full`] for a full bounded mailbox, with the message
    /// handed back.
    pub fn send(&self, message: W::Message) -> Result<(), SendError<W::Message>> {
        self.mailbox
            .send(message)
            .map_err(|(error, message)| SendError { error, message })
    }

    /// Sends a message, waiting for room in a full bounded mailbox (see
    /// [`ChildSpec::worker_with_bounded_handle`]) and, between two
    /// incarnations, for the next one. Put a deadline around it with
    /// `tokio::time::timeout` if need be.
    ///
    /// [`ChildSpec::worker_with_bounded_handle`]: crate::ChildSpec::worker_with_bounded_handle
    ///
    /// # Errors
    ///
    /// [`HandleError::NotFound`] once the child is gone for good, with the
    /// message handed back.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the message is sent only if this returns `Ok`.
    pub async fn send_wait(&self, message: W::Message) -> Result<(), SendError<W::Message>> {
        self.mailbox
            .send_wait(message)
            .await
            .map_err(|(error, message)| SendError { error, message })
    }

    /// Calls the child: `make` builds the message around the reply half.
    /// Between two incarnations (a restart), waits for the next one, at
    /// most [`DEFAULT_CALL_TIMEOUT`] (5 s, as `gen_server:call`); then waits
    /// for the answer as long as the callee lives. [`call_timeout`] puts
    /// one deadline on the whole call; [`try_call`] does not wait for an
    /// incarnation.
    ///
    /// Waiting through a restart goes beyond OTP, where a call to a name
    /// between two incarnations exits `noproc` at once (see the README's
    /// differences).
    ///
    /// [`call_timeout`]: Self::call_timeout
    /// [`try_call`]: Self::try_call
    ///
    /// # Errors
    ///
    /// [`HandleError::Timeout`] when no incarnation came up in time;
    /// [`HandleError::NotFound`] at once for a child gone for good (a
    /// stopped tree included); [`HandleError::Lost`] if the incarnation
    /// exits before replying, wherever it handed its [`Reply`] (a task of
    /// its own included); [`HandleError::NoReply`] if it dropped the reply
    /// and runs on.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future after the message was sent does not withdraw
    /// it; the worker's reply is then discarded.
    pub async fn call<R: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<R>) -> W::Message,
    ) -> Result<R, HandleError> {
        let (reply_tx, reply_rx) = call::channel();
        let callee = match self.mailbox.send_call(make(Reply(reply_tx)), &reply_rx) {
            Ok(callee) => callee,
            Err((HandleError::NotRunning, request)) => {
                tokio::time::timeout(DEFAULT_CALL_TIMEOUT, self.send_when_up(request, &reply_rx))
                    .await
                    .map_err(|_| HandleError::Timeout)??
            }
            Err((error, _)) => return Err(error),
        };
        self.mailbox.wait_reply(callee, reply_rx).await
    }

    /// Sends a call's request to the next incarnation that comes up.
    async fn send_when_up<R: Send + 'static>(
        &self,
        mut request: W::Message,
        answer: &call::Answer<R>,
    ) -> Result<u64, HandleError> {
        loop {
            self.mailbox.wait_up().await?;
            // It may have exited in between: then wait for the next.
            match self.mailbox.send_call(request, answer) {
                Ok(callee) => return Ok(callee),
                Err((HandleError::NotRunning, back)) => request = back,
                Err((error, _)) => return Err(error),
            }
        }
    }

    /// [`call`](Self::call) with one deadline for the whole call: the wait
    /// for an incarnation and the answer.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call); [`HandleError::Timeout`] when the deadline
    /// runs out.
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call). A timed-out request is still handled.
    pub async fn call_timeout<R: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<R>) -> W::Message,
        timeout: Duration,
    ) -> Result<R, HandleError> {
        let (reply_tx, reply_rx) = call::channel();
        let call = async {
            let request = make(Reply(reply_tx));
            let callee = match self.mailbox.send_call(request, &reply_rx) {
                Ok(callee) => callee,
                Err((HandleError::NotRunning, request)) => {
                    self.send_when_up(request, &reply_rx).await?
                }
                Err((error, _)) => return Err(error),
            };
            self.mailbox.wait_reply(callee, reply_rx).await
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| HandleError::Timeout)?
    }

    /// Calls the running incarnation, failing at once when none runs; the
    /// answer is awaited as in [`call`](Self::call).
    ///
    /// # Errors
    ///
    /// [`HandleError::NotRunning`] or [`HandleError::NotFound`] at once;
    /// otherwise as [`call`](Self::call).
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn try_call<R: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<R>) -> W::Message,
    ) -> Result<R, HandleError> {
        let (reply_tx, reply_rx) = call::channel();
        let callee = self
            .mailbox
            .send_call(make(Reply(reply_tx)), &reply_rx)
            .map_err(|(error, _)| error)?;
        self.mailbox.wait_reply(callee, reply_rx).await
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
