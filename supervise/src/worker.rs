//! The trait a supervised worker implements, and the context it runs with.

use std::future::Future;
use std::sync::Arc;

use crate::mailbox::{self, Envelope, MailboxRef};
use tokio::task::{AbortHandle, JoinSet};

use crate::child::{ChildRef, Incarnation};
use crate::exit::{Exit, ExitReason};
use crate::policy::{Restart, Shutdown};
use std::collections::VecDeque;

pub use crate::worker_handle::{
    HandleError, Reply, ReplyError, SendError, WorkerHandle, DEFAULT_CALL_TIMEOUT,
};

/// What a worker's [`init`](Worker::init) decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Initialised: the supervisor goes on and the worker's `run` starts.
    Ready,
    /// OTP's `ignore`: the child is not started and this is not an error.
    /// A temporary child is then forgotten; a permanent or transient one is
    /// kept, not running, and can be started with `restart_child`.
    Ignore,
}

/// A supervised unit of work: built afresh for every start, initialised,
/// then run as its own tokio task.
///
/// `init` runs while the supervisor waits (OTP's synchronous start: the
/// next sibling starts only after it returns); `run` is the child's life.
/// `run` returning `Ok(())` is a *normal* exit; an error or a panic is an
/// *abnormal* one; [`Exit::shutdown`] exits as OTP's `shutdown`.
///
/// A worker that does not [handle shutdown](Worker::handles_shutdown) is
/// aborted at once when its supervisor stops it (reason `shutdown`), like a
/// process that does not trap exits. One that does is told through
/// [`Context::shutdown_requested`] and has its shutdown timeout to finish.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Exit, Supervisor, Worker};
///
/// #[derive(Clone)]
/// struct Ticker { every_ms: u64 }
///
/// impl Worker for Ticker {
///     type Message = ();
///
///     const HANDLES_SHUTDOWN: bool = true;
///
///     async fn run(self, ctx: Context) -> Result<(), Exit> {
///         loop {
///             tokio::select! {
///                 _ = ctx.shutdown_requested() => return Err(Exit::shutdown()),
///                 _ = tokio::time::sleep(std::time::Duration::from_millis(self.every_ms)) => {}
///             }
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ticker = Ticker { every_ms: 10 };
/// let sup = Supervisor::builder("app")
///     .child(ChildSpec::worker("ticker", move || ticker.clone()))
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// sup.stop().await.unwrap();
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a worker: it does not implement `supervise::Worker`",
    label = "implement `supervise::Worker` for this type",
    note = "a worker implements `Worker` (its `Message` type and its `run`); `#[worker]` only declares its default child spec"
)]
pub trait Worker: Send + Sized + 'static {
    /// The messages its [`WorkerHandle`] sends it;
    /// `()` for a worker that takes none.
    type Message: Send + 'static;

    /// Whether the worker handles shutdown itself (OTP's `trap_exit`):
    /// when it does, its supervisor asks it to stop
    /// ([`Context::shutdown_requested`]) and waits for it as long as its
    /// shutdown timeout; when it does not (the default), the worker is
    /// aborted at once, and a finite shutdown timeout is never waited for.
    /// `#[handlers]` sets it for a worker with a `#[terminate]` hook, and
    /// `#[worker(shutdown = "30s")]` warns when it is not set.
    const HANDLES_SHUTDOWN: bool = false;

    /// Whether this value handles shutdown; [`HANDLES_SHUTDOWN`] unless
    /// overridden (for a worker that decides by its start argument).
    ///
    /// [`HANDLES_SHUTDOWN`]: Self::HANDLES_SHUTDOWN
    fn handles_shutdown(&self) -> bool {
        Self::HANDLES_SHUTDOWN
    }

    /// Initialises the worker before its supervisor starts the next child.
    /// Defaults to [`Init::Ready`]. An error fails the start.
    fn init(
        &mut self,
        ctx: &mut Context<Self::Message>,
    ) -> impl Future<Output = Result<Init, Exit>> + Send {
        let _ = ctx;
        async { Ok(Init::Ready) }
    }

    /// Runs the worker until it exits.
    fn run(self, ctx: Context<Self::Message>) -> impl Future<Output = Result<(), Exit>> + Send;
}

/// A worker's default child spec (Elixir's `use GenServer, restart: ...,
/// shutdown: ...`), which `#[worker(...)]` implements: a type with these
/// defaults that implements [`Worker`] can be a field of a derived
/// supervisor (it is a [`Child`](crate::Child)). Implement it through the
/// attribute, not by hand.
///
/// # Examples
///
/// ```
/// use supervise::worker::WorkerDefaults;
/// use supervise::{worker, Context, Exit, Restart, Worker};
///
/// #[worker(restart = transient)]
/// struct Job;
///
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// }
///
/// assert_eq!(<Job as WorkerDefaults>::RESTART, Restart::Transient);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be supervised: it is neither a worker nor a supervisor",
    label = "not a worker or a supervisor",
    note = "annotate a worker's struct with `#[supervise::worker]` (and implement `supervise::Worker` for it), or derive `supervise::Supervisor` for a supervisor"
)]
pub trait WorkerDefaults: Worker {
    /// `restart = ...`, or `permanent`.
    const RESTART: Restart;
    /// `shutdown = ...`, or 5 seconds.
    const SHUTDOWN: Shutdown;
    /// `significant`, or `false`.
    const SIGNIFICANT: bool;
}

/// An owned view of a worker's shutdown signal; see
/// [`Context::shutdown_signal`].
#[derive(Debug, Clone)]
pub struct ShutdownSignal(Arc<Incarnation>);

impl ShutdownSignal {
    /// True once the supervisor has asked the worker to stop.
    pub fn is_requested(&self) -> bool {
        self.0.is_stop_requested()
    }

    /// Why the worker was asked to stop, once it was; see
    /// [`Context::shutdown_reason`].
    pub fn reason(&self) -> Option<ExitReason> {
        self.0.stop_reason()
    }

    /// Completes when the supervisor asks the worker to stop.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn requested(&self) {
        self.0.stop_requested().await
    }
}

/// What a worker gets from its supervisor: who it is, the shutdown signal,
/// its mailbox, and a place to spawn tasks that die with it.
///
/// An incarnation receives a burst of messages under one lock, so dropping
/// its context with some of them not yet received ends its mailbox as the
/// incarnation's end would: those messages are dropped (counted in
/// [`Event::MessagesDropped`](crate::Event::MessagesDropped)), calls among
/// them fail with `Lost`, and sends answer `NotRunning` until the next
/// incarnation.
pub struct Context<M = ()> {
    inc: Arc<Incarnation>,
    /// The child's mailbox, when it has a handle.
    mailbox: Option<MailboxRef<M>>,
    tasks: Option<JoinSet<()>>,
    /// Messages received before the mailbox's queue: those the worker
    /// sent itself during its init, before its mailbox opened, then each
    /// burst taken from the queue at once (see `Mailbox::poll_recv`).
    batch: VecDeque<Envelope<M>>,
}

impl<M> std::fmt::Debug for Context<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("child", &self.inc)
            .field("mailbox", &self.mailbox.is_some())
            .finish_non_exhaustive()
    }
}

/// A context dropped with messages taken from its queue and not received
/// (the incarnation ends, or drops its context early) closes the
/// incarnation's mailbox first, as its end would: calls among those
/// messages fail with `Lost`, as for any incarnation that ends with a call
/// in hand, not `NoReply` (their replies are dropped with them), and
/// handles answer `NotRunning` until the next incarnation. The messages are
/// counted as dropped, as the queue's are.
impl<M> Drop for Context<M> {
    fn drop(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        if let Some(mailbox) = &self.mailbox {
            mailbox.down(&ChildRef::from_inner(self.inc.clone()));
        }
        mailbox::discard(&self.inc, std::mem::take(&mut self.batch));
    }
}

impl<M> Context<M> {
    pub(crate) fn new(inc: Arc<Incarnation>, mailbox: Option<MailboxRef<M>>) -> Self {
        Context {
            inc,
            mailbox,
            tasks: None,
            batch: VecDeque::new(),
        }
    }

    /// Receives the next message sent through the child's
    /// [`WorkerHandle`]. Never completes for a worker
    /// started without a handle (it has no mailbox), nor while no message
    /// comes: select it with [`shutdown_requested`](Self::shutdown_requested)
    /// to stop cleanly.
    ///
    /// Messages reach an incarnation once its init has returned (a handle
    /// answers [`HandleError::NotRunning`](crate::HandleError) before), so
    /// in [`Worker::init`] this returns `None` at once, as it does once the
    /// incarnation is no longer the one its handles reach.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no message is lost by dropping this future.
    pub async fn recv(&mut self) -> Option<M> {
        self.recv_envelope().await.map(|envelope| envelope.message)
    }

    /// The next envelope (see [`recv`](Self::recv)).
    async fn recv_envelope(&mut self) -> Option<Envelope<M>> {
        match &self.mailbox {
            Some(mailbox) => {
                std::future::poll_fn(|cx| mailbox.poll_recv(&self.inc, &mut self.batch, cx)).await
            }
            None => std::future::pending().await,
        }
    }

    /// [`recv`](Self::recv), with the span that was current where the
    /// message was sent (`Span::none()` when no subscriber recorded it):
    /// handle the message in a span that follows it, and a trace goes on
    /// from the caller into the worker.
    ///
    /// ```
    /// use supervise::{Context, Exit, Worker};
    /// use tracing::Instrument;
    ///
    /// struct Traced;
    /// impl Worker for Traced {
    ///     type Message = u32;
    ///     async fn run(self, mut ctx: Context<u32>) -> Result<(), Exit> {
    ///         while let Some((n, caller)) = ctx.recv_traced().await {
    ///             let span = tracing::info_span!(parent: None, "handle", n);
    ///             span.follows_from(&caller);
    ///             async { /* handle n */ }.instrument(span).await;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`recv`](Self::recv).
    pub async fn recv_traced(&mut self) -> Option<(M, tracing::Span)> {
        self.recv_envelope().await.map(Envelope::traced)
    }

    /// Receives a message if one is waiting.
    pub fn try_recv(&mut self) -> Option<M> {
        let mailbox = self.mailbox.as_ref()?;
        let envelope = mailbox.try_recv(&self.inc, &mut self.batch)?;
        Some(envelope.message)
    }

    /// [`try_recv`](Self::try_recv), with the sender's span (see
    /// [`recv_traced`](Self::recv_traced)).
    pub(crate) fn try_recv_traced(&mut self) -> Option<(M, tracing::Span)> {
        let mailbox = self.mailbox.as_ref()?;
        mailbox
            .try_recv(&self.inc, &mut self.batch)
            .map(Envelope::traced)
    }

    /// How many messages wait for this incarnation.
    pub(crate) fn queued(&self) -> usize {
        self.batch.len()
            + self
                .mailbox
                .as_ref()
                .map_or(0, |mailbox| mailbox.queued_for(&self.inc))
    }

    /// Sends this incarnation a message, queued behind those already
    /// waiting (Erlang's `send(self(), Msg)`): for a handler-style worker,
    /// a message its `#[info]` handler takes after the current one. Sent
    /// during [`Worker::init`], before the mailbox opens, it is received
    /// first once the worker runs (Elixir's `{:continue, ...}`).
    ///
    /// # Errors
    ///
    /// The message handed back when the worker has no mailbox (started
    /// without a handle), its bounded mailbox is full, or it is exiting.
    pub fn send_self(&mut self, message: M) -> Result<(), M> {
        let Some(mailbox) = &self.mailbox else {
            return Err(message);
        };
        match mailbox.send_to(&self.inc, message) {
            Ok(()) => Ok(()),
            // Not up yet and not exiting: in its init.
            Err((HandleError::NotRunning, message)) if !self.inc.is_exiting() => {
                self.batch.push_back(Envelope::plain(message));
                Ok(())
            }
            Err((_, message)) => Err(message),
        }
    }

    /// Sends this incarnation `message` after `delay` (Elixir's
    /// `Process.send_after(self(), msg, ms)`). The timer belongs to the
    /// incarnation: it dies with it, so a restarted worker never gets its
    /// predecessor's timers. Abort the returned handle to cancel it
    /// (`Process.cancel_timer`). A message that cannot be queued when the
    /// timer fires (see [`send_self`](Self::send_self)) is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervise::{Context, Exit, Worker};
    ///
    /// enum Tick { Tick }
    ///
    /// struct Heartbeat;
    /// impl Worker for Heartbeat {
    ///     type Message = Tick;
    ///     async fn run(self, mut ctx: Context<Tick>) -> Result<(), Exit> {
    ///         ctx.send_after(Duration::from_secs(1), Tick::Tick);
    ///         while let Some(Tick::Tick) = ctx.recv().await {
    ///             // ... beat ...
    ///             ctx.send_after(Duration::from_secs(1), Tick::Tick);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn send_after(&mut self, delay: std::time::Duration, message: M) -> AbortHandle
    where
        M: Send + 'static,
    {
        let target = self
            .mailbox
            .clone()
            .map(|mailbox| (mailbox, self.inc.clone()));
        self.spawn(async move {
            tokio::time::sleep(delay).await;
            let Some((mailbox, me)) = target else {
                return;
            };
            let mut message = message;
            // Due while the worker is still in its init: delivered once
            // its mailbox opens.
            while let Err((HandleError::NotRunning, back)) = mailbox.send_to(&me, message) {
                message = back;
                match mailbox.wait_up().await {
                    Ok(up) if up.is(&me) => {}
                    _ => return,
                }
            }
        })
    }

    /// The child's path in the tree, e.g. `app/payments/processor`.
    pub fn path(&self) -> &str {
        self.inc.path()
    }

    /// The child's id (the last component of its path).
    pub fn id(&self) -> &str {
        self.inc.id()
    }

    /// Which start of this child this is: 1 for the first, counting failed
    /// starts too.
    pub fn incarnation(&self) -> u64 {
        self.inc.number()
    }

    /// A reference to this incarnation, as its supervisor reports it.
    pub fn child_ref(&self) -> ChildRef {
        ChildRef::from_inner(self.inc.clone())
    }

    /// An owned handle on the shutdown signal, to await it while the
    /// context is borrowed elsewhere (e.g. by [`recv`](Self::recv) in the
    /// same `select!`).
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{Context, Exit, Worker};
    ///
    /// struct Echo;
    /// impl Worker for Echo {
    ///     type Message = String;
    ///     const HANDLES_SHUTDOWN: bool = true;
    ///     async fn run(self, mut ctx: Context<String>) -> Result<(), Exit> {
    ///         let shutdown = ctx.shutdown_signal();
    ///         loop {
    ///             tokio::select! {
    ///                 _ = shutdown.requested() => return Err(Exit::shutdown()),
    ///                 Some(line) = ctx.recv() => println!("{line}"),
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.inc.clone())
    }

    /// True once the supervisor has asked this worker to stop.
    pub fn is_shutdown_requested(&self) -> bool {
        self.inc.is_stop_requested()
    }

    /// Why this worker was asked to stop, once it was:
    /// [`ExitReason::Shutdown`] when its supervisor stops it, and
    /// [`ExitReason::Killed`] when its supervisor was killed (the exit
    /// signal a process trapping exits gets from a killed parent in OTP).
    /// A worker that stops cleanly exits with it, as a `gen_server` does.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{Context, Exit, Worker};
    ///
    /// struct Flusher;
    /// impl Worker for Flusher {
    ///     type Message = ();
    ///     const HANDLES_SHUTDOWN: bool = true;
    ///     async fn run(self, ctx: Context) -> Result<(), Exit> {
    ///         ctx.shutdown_requested().await;
    ///         // ... flush ...
    ///         let reason = ctx.shutdown_reason().expect("asked to stop");
    ///         Err(Exit::with_reason(reason))
    ///     }
    /// }
    /// ```
    pub fn shutdown_reason(&self) -> Option<ExitReason> {
        self.inc.stop_reason()
    }

    /// Completes when the supervisor asks this worker to stop. Only a
    /// worker that [handles shutdown](Worker::handles_shutdown) is asked;
    /// any other is aborted instead.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing, and a later call
    /// completes at once if the request came in between.
    pub async fn shutdown_requested(&self) {
        self.inc.stop_requested().await
    }

    /// Spawns a task that belongs to this incarnation: it is aborted when
    /// the worker exits, and a panic in it crashes the worker (as a linked
    /// process would), with the panic as the exit reason.
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let inc = self.inc.clone();
        let tasks = self.tasks.get_or_insert_with(JoinSet::new);
        tasks.spawn(async move {
            use futures_util::FutureExt;
            let task = crate::panic::PanicScope::new(task);
            if let Err(panic) = std::panic::AssertUnwindSafe(task).catch_unwind().await {
                inc.crash(ExitReason::from_panic(panic));
            }
        })
    }
}
