//! Starting one incarnation: the spec's init runs in the caller's task
//! (the supervisor's, or a caller starting a dynamic child in its own),
//! then the child's life is spawned as its task, with a guard that reports
//! its exit however the task ends (returned, panicked, aborted).

use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::future::Either;
use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::{BoxFuture, ChildPath, ChildRef, ChildSpec, Incarnation, Running, Start};
use crate::event::{Event, EventBus};
use crate::exit::{Exit, ExitReason};
use crate::mailbox::{MailboxRef, WithMailbox};
use crate::panic::PanicScope;
use crate::report::observe;
use crate::supervisor::{Inbox, Msg, SupervisorHandle};
use crate::worker::{Context, Init, Worker};

// ===== starting =====

/// How a child spec starts an incarnation: runs its init in the caller's
/// task, then spawns the child's life with the [`Spawner`] (so that its
/// future lives in the task itself, not in a box of its own).
pub(crate) trait StartChild: Send + Sync + 'static {
    /// `self` is the spec's own `Arc`, which a start may keep: a worker's
    /// mailbox is allocated with its start, and its incarnations hold it.
    fn start(self: Arc<Self>, inc: Arc<Incarnation>, spawner: Spawner)
        -> BoxFuture<Start<Spawned>>;

    /// The supervisor forgot the child (deleted, or a temporary child that
    /// exited): its handles now answer "not found".
    fn forget(&self) {}
}

/// A started incarnation's task: its handle, and how it is asked to stop.
pub(crate) struct Spawned {
    pub(crate) join: JoinHandle<ExitReason>,
    pub(crate) stop: Stopper,
}

/// How a running child is asked to stop.
pub(crate) enum Stopper {
    /// It does not handle shutdown: abort it, reason `shutdown`.
    Abort,
    /// A worker that handles shutdown: signal its context.
    Signal,
    /// A supervisor: a stop message in its inbox, in order with the rest.
    Supervisor(SupervisorHandle),
}

/// A worker's start: its factory, called at every start.
pub(super) struct WorkerStart<W, F> {
    factory: F,
    _worker: PhantomData<fn() -> W>,
}

impl<W, F> WorkerStart<W, F> {
    pub(super) fn new(factory: F) -> Self {
        WorkerStart {
            factory,
            _worker: PhantomData,
        }
    }
}

/// A worker without a handle.
impl<W, F> StartChild for WorkerStart<W, F>
where
    W: Worker,
    F: Fn() -> W + Send + Sync + 'static,
{
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        start_worker((self.factory)(), None, inc, spawner)
    }
}

/// A worker with a handle: its start lives with its mailbox.
impl<W, F> StartChild for WithMailbox<W::Message, WorkerStart<W, F>>
where
    W: Worker,
    F: Fn() -> W + Send + Sync + 'static,
{
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        let worker = (self.with.factory)();
        start_worker(worker, Some(self), inc, spawner)
    }

    fn forget(&self) {
        self.gone();
    }
}

/// Runs `worker`'s init, then spawns its life.
fn start_worker<W: Worker>(
    mut worker: W,
    mailbox: Option<MailboxRef<W::Message>>,
    inc: Arc<Incarnation>,
    spawner: Spawner,
) -> BoxFuture<Start<Spawned>> {
    Box::pin(async move {
        let mut ctx = Context::new(inc.clone(), mailbox.clone());
        match worker.init(&mut ctx).await {
            Ok(Init::Ready) => {
                let stop = if worker.handles_shutdown() {
                    Stopper::Signal
                } else {
                    Stopper::Abort
                };
                let guard = mailbox.map(|mailbox| {
                    let child = ChildRef::from_inner(inc);
                    mailbox.up(child.clone());
                    DownGuard { mailbox, child }
                });
                let join = spawner.spawn(Life {
                    run: worker.run(ctx),
                    guard,
                });
                Start::Started(Spawned { join, stop })
            }
            Ok(Init::Ignore) => Start::Ignored,
            Err(exit) => Start::Failed(exit.into_reason()),
        }
    })
}

pin_project_lite::pin_project! {
    /// A worker's life in its task: its `run` future (which holds the
    /// worker and its context: nothing else does), and the guard that
    /// marks its mailbox down when the life ends, before its exit is
    /// reported.
    struct Life<F, M> {
        #[pin]
        run: F,
        guard: Option<DownGuard<M>>,
    }
}

impl<F: Future<Output = Result<(), Exit>>, M> Future for Life<F, M> {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<ExitReason> {
        let this = self.project();
        let result = std::task::ready!(this.run.poll(cx));
        drop(this.guard.take());
        std::task::Poll::Ready(match result {
            Ok(()) => ExitReason::Normal,
            Err(exit) => exit.into_reason(),
        })
    }
}

/// Marks the mailbox down when the incarnation's life ends, however it
/// ends: what was queued for it dies with it.
struct DownGuard<M> {
    mailbox: MailboxRef<M>,
    child: ChildRef,
}

impl<M> Drop for DownGuard<M> {
    fn drop(&mut self) {
        self.mailbox.down(&self.child);
    }
}

pub(super) struct ForgetHook<H: Fn() + Send + Sync + 'static> {
    pub(super) inner: Arc<dyn StartChild>,
    pub(super) hook: H,
}

impl<H: Fn() + Send + Sync + 'static> Drop for ForgetHook<H> {
    /// The last copy of the spec is gone: no supervisor holds it, so the
    /// child cannot start again (a start refused, or dropped before it
    /// was made). Forgetting twice is harmless.
    fn drop(&mut self) {
        self.forget();
    }
}

impl<H: Fn() + Send + Sync + 'static> StartChild for ForgetHook<H> {
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        self.inner.clone().start(inc, spawner)
    }

    fn forget(&self) {
        self.inner.forget();
        (self.hook)();
    }
}

pub(super) struct FailStart(pub(super) ExitReason);

impl StartChild for FailStart {
    fn start(
        self: Arc<Self>,
        _inc: Arc<Incarnation>,
        _spawner: Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        let reason = self.0.clone();
        Box::pin(async move { Start::Failed(reason) })
    }
}

/// Where a started child reports its exit.
pub(crate) struct Parent {
    pub(crate) inbox: Inbox,
    pub(crate) serial: u64,
}

/// Starts one incarnation of `spec`: runs its init here (the caller waits,
/// as OTP's supervisor does), then spawns its life as a task. Emits
/// `Started`, `StartFailed` or `StartIgnored`.
///
/// The child's span and these events are under `sup_span`, its
/// supervisor's span, which need not be the current one: a dynamic child
/// may be started in a caller's task (see `DynCell`).
pub(crate) async fn start(
    spec: &ChildSpec,
    path: ChildPath,
    number: u64,
    bus: &Arc<EventBus>,
    parent: Option<Parent>,
    sup_span: &tracing::Span,
) -> Start<Running> {
    let mut inc = Incarnation::new(path, spec.kind, number, bus.clone());
    inc.root = parent.is_none();
    inc.serial = parent.as_ref().map_or(0, |p| p.serial);
    let inc = Arc::new(inc);
    // Unless it starts, the incarnation ends here: its init failed,
    // ignored, or this future was dropped midway.
    let unstarted = NeverStarted(Some(&*inc));
    let init_timer = crate::metrics::StartTimer::start();
    let span = crate::report::span(
        || tracing::debug_span!(parent: sup_span, "child", path = %inc.path(), incarnation = number),
    );
    let spawner = Spawner {
        inc: inc.clone(),
        parent,
        span: span.clone(),
    };
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| {
        spec.start.clone().start(inc.clone(), spawner)
    })) {
        Ok(init) => {
            // In its span, unless nobody records it: an instrumented
            // future enters its span at every poll and at its drop.
            let init = if span.is_disabled() {
                Either::Left(init)
            } else {
                Either::Right(init.instrument(span.clone()))
            };
            AssertUnwindSafe(PanicScope::new(init))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Start::Failed(ExitReason::from_panic(panic)))
        }
        Err(panic) => Start::Failed(ExitReason::from_panic(panic)),
    };
    match outcome {
        Start::Started(Spawned { join, stop }) => {
            unstarted.disarm();
            inc.set_abort_handle(join.abort_handle());
            observe(|| {
                sup_span.in_scope(|| {
                    tracing::debug!(path = %inc.path(), incarnation = number, "child started");
                });
                crate::metrics::child_started(&*inc, init_timer);
            });
            bus.emit(|| Event::Started {
                child: ChildRef::from_inner(inc.clone()),
            });
            Start::Started(Running {
                inc,
                join: Some(join),
                stop,
                shutdown: spec.shutdown,
            })
        }
        Start::Ignored => {
            observe(|| {
                sup_span.in_scope(|| {
                    tracing::debug!(path = %inc.path(), incarnation = number, "child start ignored");
                });
            });
            bus.emit(|| Event::StartIgnored {
                path: inc.path_arc().clone(),
                incarnation: number,
            });
            Start::Ignored
        }
        Start::Failed(reason) => {
            observe(|| {
                sup_span.in_scope(|| {
                    tracing::debug!(path = %inc.path(), incarnation = number, %reason, "child start failed");
                });
            });
            bus.emit(|| Event::StartFailed {
                path: inc.path_arc().clone(),
                incarnation: number,
                reason: reason.clone(),
            });
            Start::Failed(reason)
        }
    }
}

/// Marks an incarnation ended when it is dropped armed: its start did not
/// go through (see `Incarnation::mark_never_started`).
struct NeverStarted<'a>(Option<&'a Incarnation>);

impl NeverStarted<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for NeverStarted<'_> {
    fn drop(&mut self) {
        if let Some(inc) = self.0 {
            inc.mark_never_started();
        }
    }
}

/// Spawns a started child's life as its task, with the guard that reports
/// its exit however it ends.
pub(crate) struct Spawner {
    inc: Arc<Incarnation>,
    parent: Option<Parent>,
    span: tracing::Span,
}

impl Spawner {
    #[inline(always)]
    pub(crate) fn spawn<F>(self, run: F) -> JoinHandle<ExitReason>
    where
        F: Future<Output = ExitReason> + Send + 'static,
    {
        // The guard exists before the task is first polled, so that a
        // child aborted before it ever ran still reports its exit.
        let guard = ExitGuard {
            inc: self.inc,
            parent: self.parent,
            done: false,
        };
        let task = run_to_exit(run, guard);
        // In its span, unless nobody records it: the task then neither
        // carries the span nor enters it at every poll.
        // Through the runtime's handle rather than `tokio::spawn`, whose
        // closure over the runtime's context moves the child's future
        // (hundreds of bytes) twice more on its way into the task.
        let runtime = tokio::runtime::Handle::current();
        if self.span.is_disabled() {
            runtime.spawn(task)
        } else {
            runtime.spawn(task.instrument(self.span))
        }
    }

    /// The supervisor child's handle, known to its incarnation before its
    /// task can run (and exit).
    pub(crate) fn bind_supervisor(&self, handle: &SupervisorHandle) {
        let _ = self.inc.supervisor.set(handle.clone());
        handle.shared.bind(&self.inc);
    }
}

pin_project_lite::pin_project! {
    /// The child's task: its life, with the panic caught and the exit
    /// reported however it ends (returned, panicked, or aborted). A plain
    /// future rather than an `async fn`, so that the child's own future is
    /// stored once in the task, not twice.
    struct ChildTask<F> {
        #[pin]
        life: futures_util::future::CatchUnwind<AssertUnwindSafe<PanicScope<F>>>,
        guard: ExitGuard,
        first_poll: bool,
    }
}

#[inline(always)]
fn run_to_exit<F: Future<Output = ExitReason>>(run: F, guard: ExitGuard) -> ChildTask<F> {
    ChildTask {
        life: AssertUnwindSafe(PanicScope::new(run)).catch_unwind(),
        guard,
        first_poll: true,
    }
}

impl<F: Future<Output = ExitReason>> Future for ChildTask<F> {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<ExitReason> {
        let this = self.project();
        if std::mem::take(this.first_poll) {
            if let Some(reason) = this.guard.inc.take_pending_crash() {
                this.guard.finish(reason.clone());
                return std::task::Poll::Ready(reason);
            }
        }
        let reason = match this.life.poll(cx) {
            std::task::Poll::Pending => return std::task::Poll::Pending,
            std::task::Poll::Ready(result) => result.unwrap_or_else(ExitReason::from_panic),
        };
        this.guard.finish(reason.clone());
        std::task::Poll::Ready(reason)
    }
}

struct ExitGuard {
    inc: Arc<Incarnation>,
    parent: Option<Parent>,
    done: bool,
}

impl ExitGuard {
    /// Its event first, then its parent's message, then (for a supervisor)
    /// the calls it left unanswered fail: as in OTP, where a caller's
    /// monitor fires after the link has told the parent.
    fn finish(&mut self, reason: ExitReason) {
        self.done = true;
        let first = self.inc.emit_exit(&reason);
        // Only a supervisor needs the reason after its parent has it: a
        // worker's exit (the hot path of a restart) is moved, not cloned.
        let supervisor = first
            .then(|| self.inc.supervisor.get())
            .flatten()
            .map(|sup| (sup.clone(), reason.clone()));
        if let Some(parent) = &self.parent {
            if !self.inc.awaited.load(Ordering::Acquire) {
                let _ = parent.inbox.send(Msg::Exited {
                    serial: parent.serial,
                    reason,
                });
            }
        }
        if let Some((sup, reason)) = supervisor {
            sup.shared.mark_terminated(&reason);
        }
    }
}

impl Drop for ExitGuard {
    /// The task was aborted: its reason is the one its aborter recorded.
    fn drop(&mut self) {
        if !self.done {
            let reason = self.inc.abort_reason();
            self.finish(reason);
        }
    }
}
