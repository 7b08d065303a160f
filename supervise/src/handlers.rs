//! Handler-style workers: what [`#[handlers]`](macro@crate::handlers)
//! generates code against.
//!
//! A handler-style worker is a [`Worker`] whose `run` is [`serve`]: a
//! receive loop that hands each message to [`Handlers::handle`], as a
//! `gen_server` hands each request to `handle_call`, `handle_cast` or
//! `handle_info`. The macro writes the message type, `handle` and the
//! typed client methods; implement [`Handlers`] by hand only for what the
//! macro cannot express.

use std::future::Future;

use tracing::Instrument;

use crate::exit::{Exit, ExitReason};
use crate::worker::{Context, Init, Worker};

/// A worker whose messages are dispatched to handlers, one at a time, each
/// with `&mut self` (the incarnation's state).
///
/// # Examples
///
/// What `#[handlers]` generates, written by hand:
///
/// ```
/// use supervise::handlers::{serve, Handlers};
/// use supervise::{Context, Exit, Worker};
///
/// enum CounterMessage { Add(u64) }
///
/// struct Counter { count: u64 }
///
/// impl Worker for Counter {
///     type Message = CounterMessage;
///     async fn run(self, ctx: Context<CounterMessage>) -> Result<(), Exit> {
///         serve(self, ctx).await
///     }
/// }
///
/// impl Handlers for Counter {
///     async fn handle(
///         &mut self,
///         message: CounterMessage,
///         _ctx: &mut Context<CounterMessage>,
///     ) -> Result<(), Exit> {
///         match message {
///             CounterMessage::Add(n) => self.count += n,
///         }
///         Ok(())
///     }
///
///     fn handler_name(message: &CounterMessage) -> &'static str {
///         match message {
///             CounterMessage::Add(_) => "add",
///         }
///     }
/// }
/// ```
pub trait Handlers: Worker {
    /// Whether the worker has a [`terminate`](Self::terminate) hook. When
    /// it has, its supervisor asks it to stop (its `Worker::handles_shutdown`
    /// is true), and [`serve`] runs the hook within the shutdown timeout.
    const TERMINATES: bool = false;

    /// Handles one message. An `Err` ends the worker with that exit, after
    /// [`terminate`](Self::terminate) (a `gen_server` callback returning
    /// `{stop, Reason, State}`).
    fn handle(
        &mut self,
        message: Self::Message,
        ctx: &mut Context<Self::Message>,
    ) -> impl Future<Output = Result<(), Exit>> + Send;

    /// The name of the handler that takes `message`: the name of the span
    /// the message is handled in.
    fn handler_name(message: &Self::Message) -> &'static str;

    /// Runs when the worker stops: asked to by its supervisor (when
    /// [`TERMINATES`](Self::TERMINATES) is set), or when a handler returned
    /// an `Err`. Not after a panic: the state may be broken.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Context<Self::Message>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}

/// The receive loop of a handler-style worker: a worker's
/// [`run`](Worker::run). Each message is handled to its end before the next
/// is taken, in a `handle` span (level `DEBUG`) that follows the span the
/// message was sent from, so a trace goes on from the caller into the
/// handler.
///
/// A worker with a terminate hook ([`Handlers::TERMINATES`]) is asked to
/// stop between two messages (as a `gen_server` takes its parent's `'EXIT'`
/// after the current callback): it handles the messages that were queued
/// before the request, runs its hook, and exits with the reason it was
/// asked to stop with. What takes longer than the shutdown timeout is
/// killed by its supervisor.
///
/// # Cancel safety
///
/// Not cancel safe: it is the worker's life, dropped only when the worker
/// is aborted.
pub async fn serve<W: Handlers>(mut worker: W, mut ctx: Context<W::Message>) -> Result<(), Exit> {
    let shutdown = ctx.shutdown_signal();
    let exit = loop {
        let next = if W::TERMINATES {
            tokio::select! {
                biased;
                () = shutdown.requested() => {
                    break drain(&mut worker, &mut ctx).await.unwrap_or_else(|| {
                        Exit::with_reason(shutdown.reason().unwrap_or(ExitReason::Shutdown))
                    });
                }
                next = ctx.recv_traced() => next,
            }
        } else {
            ctx.recv_traced().await
        };
        // `None`: this incarnation is no longer the one its handles reach
        // (it is being replaced); it waits to be stopped.
        let Some((message, caller)) = next else {
            shutdown.requested().await;
            break Exit::with_reason(shutdown.reason().unwrap_or(ExitReason::Shutdown));
        };
        if let Err(exit) = handle(&mut worker, &mut ctx, message, &caller).await {
            break exit;
        }
    };
    worker.terminate(exit.reason(), &mut ctx).await;
    match exit.reason() {
        ExitReason::Normal => Ok(()),
        _ => Err(exit),
    }
}

/// Handles one message in its `handle` span.
async fn handle<W: Handlers>(
    worker: &mut W,
    ctx: &mut Context<W::Message>,
    message: W::Message,
    caller: &tracing::Span,
) -> Result<(), Exit> {
    let span = tracing::debug_span!(
        parent: caller,
        "handle",
        child = %ctx.path(),
        handler = W::handler_name(&message),
    );
    // No span is recorded (no subscriber wants it): no wrapper either.
    if span.is_disabled() {
        worker.handle(message, ctx).await
    } else {
        worker.handle(message, ctx).instrument(span).await
    }
}

/// Asked to stop: the messages queued before the request are handled
/// first, as a `gen_server` trapping exits takes its parent's `'EXIT'`
/// after the messages ahead of it in its mailbox (those sent after the
/// request are not: they die with the worker). A handler's `Err` ends it.
async fn drain<W: Handlers>(worker: &mut W, ctx: &mut Context<W::Message>) -> Option<Exit> {
    for _ in 0..ctx.queued() {
        let (message, caller) = ctx.try_recv_traced()?;
        if let Err(exit) = handle(worker, ctx, message, &caller).await {
            return Some(exit);
        }
    }
    None
}

/// What an `#[init]` hook may return: nothing, an [`Init`], or either in a
/// `Result<_, Exit>`.
#[diagnostic::on_unimplemented(
    message = "an `#[init]` hook returns `()`, `Init`, `Result<(), Exit>` or `Result<Init, Exit>`, not `{Self}`",
    label = "returns `{Self}`"
)]
pub trait IntoInit {
    /// The hook's outcome as [`Worker::init`]'s.
    fn into_init(self) -> Result<Init, Exit>;
}

impl IntoInit for () {
    fn into_init(self) -> Result<Init, Exit> {
        Ok(Init::Ready)
    }
}

impl IntoInit for Init {
    fn into_init(self) -> Result<Init, Exit> {
        Ok(self)
    }
}

impl IntoInit for Result<(), Exit> {
    fn into_init(self) -> Result<Init, Exit> {
        self.map(|()| Init::Ready)
    }
}

impl IntoInit for Result<Init, Exit> {
    fn into_init(self) -> Result<Init, Exit> {
        self
    }
}
