//! Child specs, running incarnations, and how a child is started and stopped.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::future::Either;
use futures_util::FutureExt;
use smol_str::SmolStr;
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinHandle};
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::event::{Event, EventBus};
use crate::exit::{Exit, ExitReason};
use crate::handle::WorkerHandle;
use crate::mailbox::{Mailbox, MailboxRef, WithMailbox};
use crate::panic::Supervised;
use crate::report::observe;
use crate::spec::{ChildKind, Restart, Shutdown};
use crate::supervisor::{Inbox, Msg, SupervisorHandle};
use crate::worker::{Context, Init, Worker};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How long the supervisor waits for an aborted task to be dropped before
/// it reports the child killed and moves on. An aborted task stops only at
/// its next `.await`; one that blocks its thread is reported killed after
/// this grace and dropped by tokio whenever it yields. Long enough that a
/// busy runtime (a task that is merely waiting for a worker thread) is not
/// taken for a blocked one.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(1);

// ===== ChildSpec =====

/// How to start a child and how to treat it: OTP's child spec.
///
/// A child spec holds a factory that builds the worker afresh for every
/// start (OTP's `{M, F, A}`), so a restart never reuses state of the
/// incarnation that crashed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use supervise::{ChildSpec, Context, Exit, Restart, Shutdown, Worker};
///
/// struct Job;
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// }
///
/// let spec = ChildSpec::worker("job", || Job)
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(30)));
/// assert_eq!(spec.id(), "job");
/// assert_eq!(spec.restart_type(), Restart::Transient);
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    /// Short ids (most are) are stored inline: no allocation.
    pub(crate) id: SmolStr,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) kind: ChildKind,
    pub(crate) significant: bool,
    /// No other child of its dynamic supervisor can have its id (a typed
    /// handle numbers or keys its children): the supervisor need not keep
    /// a start count per id (see `DynCore::start_child`).
    pub(crate) unique_id: bool,
    /// Boxed: few children have one, and every start moves the spec.
    pub(crate) backoff: Option<Box<Backoff>>,
    pub(crate) start: Arc<dyn StartChild>,
}

impl ChildSpec {
    /// A worker child, built by `factory` at every start. Defaults:
    /// permanent, 5 s shutdown, not significant.
    pub fn worker<W, F>(id: impl AsRef<str>, factory: F) -> Self
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        ChildSpec::from_start(
            id,
            ChildKind::Worker,
            Shutdown::DEFAULT_WORKER,
            Arc::new(WorkerStart::<W, F>::new(factory)),
        )
    }

    /// A worker child and a [`WorkerHandle`] that reaches whichever of its
    /// incarnations is running (each start gets a fresh mailbox).
    pub fn worker_with_handle<W, F>(id: impl AsRef<str>, factory: F) -> (Self, WorkerHandle<W>)
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        // The mailbox and the start, in one allocation.
        let start = Arc::new(WithMailbox {
            mailbox: Mailbox::new(),
            with: WorkerStart::<W, F>::new(factory),
        });
        let handle = WorkerHandle::new(start.clone());
        let spec = ChildSpec::from_start(id, ChildKind::Worker, Shutdown::DEFAULT_WORKER, start);
        (spec, handle)
    }

    pub(crate) fn from_start(
        id: impl AsRef<str>,
        kind: ChildKind,
        shutdown: Shutdown,
        start: Arc<dyn StartChild>,
    ) -> Self {
        ChildSpec {
            id: SmolStr::new(id),
            restart: Restart::Permanent,
            shutdown,
            kind,
            significant: false,
            unique_id: false,
            backoff: None,
            start,
        }
    }

    /// Marks the id as unique among the dynamic supervisor's children.
    pub(crate) fn with_unique_id(mut self) -> Self {
        self.unique_id = true;
        self
    }

    /// A child whose every start fails with `reason`: how an invalid spec
    /// that could not be reported earlier fails its supervisor's start.
    pub(crate) fn failing(id: impl AsRef<str>, kind: ChildKind, reason: ExitReason) -> Self {
        ChildSpec::from_start(id, kind, Shutdown::Infinity, Arc::new(FailStart(reason)))
    }

    /// Calls `hook` when the supervisor forgets the child for good (it was
    /// deleted, exited for good, or its dynamic supervisor stopped), and
    /// when the spec is dropped with no supervisor holding it (its start
    /// was refused, or dropped before it was made).
    pub(crate) fn on_forget(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.start = Arc::new(ForgetHook {
            inner: self.start,
            hook,
        });
        self
    }

    /// Sets the restart type.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the shutdown policy.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child significant for its supervisor's `auto_shutdown`.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// A delay before each automatic restart of this child (overrides its
    /// supervisor's). Default: none.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(Box::new(backoff));
        self
    }

    /// Changes the child's id.
    pub fn id_as(mut self, id: impl AsRef<str>) -> Self {
        self.id = SmolStr::new(id);
        self
    }

    /// The child's id, unique among its siblings.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its own restart backoff, if it has one.
    pub(crate) fn backoff_policy(&self) -> Option<Backoff> {
        self.backoff.as_deref().copied()
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The shutdown policy.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// Worker or supervisor.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }

    /// Whether the child is significant.
    pub fn is_significant(&self) -> bool {
        self.significant
    }

    pub(crate) fn info(&self) -> ChildSpecInfo {
        ChildSpecInfo {
            id: self.id.as_str().into(),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            significant: self.significant,
        }
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}

/// A child spec with the defaults filled in, as `get_childspec` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSpecInfo {
    /// The child's id.
    pub id: Arc<str>,
    /// Its restart type.
    pub restart: Restart,
    /// Its shutdown policy.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Whether it is significant.
    pub significant: bool,
}

// ===== starting =====

/// How a child spec starts an incarnation: runs its init in the caller's
/// task, then spawns the child's life with the [`Spawner`] (so that its
/// future lives in the task itself, not in a box of its own).
pub(crate) trait StartChild: Send + Sync + 'static {
    /// `self` is the spec's own `Arc`, which a start may keep: a worker's
    /// mailbox is allocated with its start, and its incarnations hold it.
    fn start(self: Arc<Self>, inc: Arc<Incarnation>, spawner: Spawner) -> BoxFuture<StartOutcome>;

    /// The supervisor forgot the child (deleted, or a temporary child that
    /// exited): its handles now answer "not found".
    fn forget(&self) {}
}

pub(crate) enum StartOutcome {
    Started {
        join: JoinHandle<ExitReason>,
        stop: Stopper,
    },
    Ignored,
    Failed(ExitReason),
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
struct WorkerStart<W, F> {
    factory: F,
    _worker: PhantomData<fn() -> W>,
}

impl<W, F> WorkerStart<W, F> {
    fn new(factory: F) -> Self {
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
    fn start(self: Arc<Self>, inc: Arc<Incarnation>, spawner: Spawner) -> BoxFuture<StartOutcome> {
        start_worker((self.factory)(), None, inc, spawner)
    }
}

/// A worker with a handle: its start lives with its mailbox.
impl<W, F> StartChild for WithMailbox<W::Message, WorkerStart<W, F>>
where
    W: Worker,
    F: Fn() -> W + Send + Sync + 'static,
{
    fn start(self: Arc<Self>, inc: Arc<Incarnation>, spawner: Spawner) -> BoxFuture<StartOutcome> {
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
) -> BoxFuture<StartOutcome> {
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
                StartOutcome::Started { join, stop }
            }
            Ok(Init::Ignore) => StartOutcome::Ignored,
            Err(exit) => StartOutcome::Failed(exit.into_reason()),
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

struct ForgetHook<H: Fn() + Send + Sync + 'static> {
    inner: Arc<dyn StartChild>,
    hook: H,
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
    fn start(self: Arc<Self>, inc: Arc<Incarnation>, spawner: Spawner) -> BoxFuture<StartOutcome> {
        self.inner.clone().start(inc, spawner)
    }

    fn forget(&self) {
        self.inner.forget();
        (self.hook)();
    }
}

struct FailStart(ExitReason);

impl StartChild for FailStart {
    fn start(
        self: Arc<Self>,
        _inc: Arc<Incarnation>,
        _spawner: Spawner,
    ) -> BoxFuture<StartOutcome> {
        let reason = self.0.clone();
        Box::pin(async move { StartOutcome::Failed(reason) })
    }
}

/// Where a started child reports its exit.
pub(crate) struct Parent {
    pub(crate) inbox: Inbox,
    pub(crate) serial: u64,
}

pub(crate) enum Started {
    Running(Running),
    Ignored,
    Failed(ExitReason),
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
) -> Started {
    let mut inc = Incarnation::new(path, spec.kind, number, bus.clone());
    inc.root = parent.is_none();
    inc.serial = parent.as_ref().map_or(0, |p| p.serial);
    let inc = Arc::new(inc);
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
            AssertUnwindSafe(Supervised::new(init))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| StartOutcome::Failed(ExitReason::from_panic(panic)))
        }
        Err(panic) => StartOutcome::Failed(ExitReason::from_panic(panic)),
    };
    match outcome {
        StartOutcome::Started { join, stop } => {
            inc.lock_abort().handle = Some(join.abort_handle());
            observe(|| {
                sup_span.in_scope(|| {
                    tracing::debug!(path = %inc.path(), incarnation = number, "child started");
                });
                crate::metrics::child_started(&inc, init_timer);
            });
            bus.emit(|| Event::Started {
                child: ChildRef::from_inner(inc.clone()),
            });
            Started::Running(Running {
                inc,
                join: Some(join),
                stop,
                shutdown: spec.shutdown,
            })
        }
        StartOutcome::Ignored => {
            observe(|| {
                sup_span.in_scope(|| {
                    tracing::debug!(path = %inc.path(), incarnation = number, "child start ignored");
                });
            });
            bus.emit(|| Event::StartIgnored {
                path: inc.path_arc().clone(),
                incarnation: number,
            });
            Started::Ignored
        }
        StartOutcome::Failed(reason) => {
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
            Started::Failed(reason)
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
        if self.span.is_disabled() {
            tokio::spawn(task)
        } else {
            tokio::spawn(task.instrument(self.span))
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
        life: futures_util::future::CatchUnwind<AssertUnwindSafe<Supervised<F>>>,
        guard: ExitGuard,
        first_poll: bool,
    }
}

fn run_to_exit<F: Future<Output = ExitReason>>(run: F, guard: ExitGuard) -> ChildTask<F> {
    ChildTask {
        life: AssertUnwindSafe(Supervised::new(run)).catch_unwind(),
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

// ===== Incarnation / ChildRef =====

/// An incarnation's abort: why (the first reason wins), and the handle
/// that aborts its task, once it is spawned.
struct Abort {
    reason: Option<ExitReason>,
    handle: Option<AbortHandle>,
}

/// Not asked to stop.
const NO_STOP: u8 = 0;
/// Asked to stop by its supervisor (OTP's `exit(Pid, shutdown)`).
const STOP_SHUTDOWN: u8 = 1;
/// Its supervisor was killed (the `killed` exit a linked process gets).
const STOP_KILLED: u8 = 2;

/// `parent/id`.
pub(crate) fn child_path(parent: &str, id: &str) -> Arc<str> {
    format!("{parent}/{id}").into()
}

/// A child's path in its tree (`supervisor/id`). A static child's is
/// joined once, when its supervisor is built. A dynamic child's is joined
/// only when something reads it: most never need it (an idle child, with
/// nobody watching events or traces), and joining it would be an
/// allocation on the hot path of a dynamic start.
pub(crate) enum ChildPath {
    Joined {
        path: Arc<str>,
        id_start: usize,
    },
    Lazy {
        supervisor: Arc<str>,
        id: SmolStr,
        joined: OnceLock<Arc<str>>,
    },
}

impl ChildPath {
    /// A path joined already.
    pub(crate) fn joined(path: Arc<str>) -> Self {
        let id_start = path.rfind('/').map_or(0, |i| i + 1);
        ChildPath::Joined { path, id_start }
    }

    /// `supervisor/id`, joined when first read.
    pub(crate) fn lazy(supervisor: Arc<str>, id: SmolStr) -> Self {
        ChildPath::Lazy {
            supervisor,
            id,
            joined: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> &Arc<str> {
        match self {
            ChildPath::Joined { path, .. } => path,
            ChildPath::Lazy {
                supervisor,
                id,
                joined,
            } => joined.get_or_init(|| child_path(supervisor, id)),
        }
    }

    pub(crate) fn id(&self) -> &str {
        match self {
            ChildPath::Joined { path, id_start } => &path[*id_start..],
            ChildPath::Lazy { id, .. } => id,
        }
    }
}

/// One start of one child: what its task, its supervisor and its handles share.
pub(crate) struct Incarnation {
    path: ChildPath,
    kind: ChildKind,
    number: u64,
    /// Why it was asked to stop: [`NO_STOP`], [`STOP_SHUTDOWN`] or
    /// [`STOP_KILLED`].
    stop: AtomicU8,
    notify: Notify,
    abort: Mutex<Abort>,
    /// Set when an abort is requested: the incarnation is on its way out.
    aborting: AtomicBool,
    /// Set when its supervisor stops it and waits for it: its exit needs no
    /// message (it would be stale), only its event.
    awaited: AtomicBool,
    exit_reported: AtomicBool,
    /// Started by nobody: the root of a tree.
    root: bool,
    /// Its serial within its supervisor (0 for a root).
    serial: u64,
    supervisor: OnceLock<SupervisorHandle>,
    bus: Arc<EventBus>,
}

impl Incarnation {
    pub(crate) fn new(path: ChildPath, kind: ChildKind, number: u64, bus: Arc<EventBus>) -> Self {
        Incarnation {
            path,
            kind,
            number,
            stop: AtomicU8::new(NO_STOP),
            notify: Notify::new(),
            abort: Mutex::new(Abort {
                reason: None,
                handle: None,
            }),
            aborting: AtomicBool::new(false),
            awaited: AtomicBool::new(false),
            exit_reported: AtomicBool::new(false),
            root: false,
            serial: 0,
            supervisor: OnceLock::new(),
            bus,
        }
    }

    pub(crate) fn path(&self) -> &str {
        self.path.get()
    }

    pub(crate) fn path_arc(&self) -> &Arc<str> {
        self.path.get()
    }

    pub(crate) fn bus(&self) -> &Arc<EventBus> {
        &self.bus
    }

    pub(crate) fn id(&self) -> &str {
        self.path.id()
    }

    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    pub(crate) fn is_stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire) != NO_STOP
    }

    /// Why it was asked to stop, once it was.
    pub(crate) fn stop_reason(&self) -> Option<ExitReason> {
        match self.stop.load(Ordering::Acquire) {
            STOP_SHUTDOWN => Some(ExitReason::Shutdown),
            STOP_KILLED => Some(ExitReason::Killed),
            _ => None,
        }
    }

    pub(crate) async fn stop_requested(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_stop_requested() {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn request_stop(&self) {
        self.request_stop_with(STOP_SHUTDOWN);
    }

    /// Asks it to stop with `why` ([`STOP_SHUTDOWN`] or [`STOP_KILLED`]);
    /// the first request's reason stays.
    fn request_stop_with(&self, why: u8) {
        let _ = self
            .stop
            .compare_exchange(NO_STOP, why, Ordering::AcqRel, Ordering::Acquire);
        self.notify.notify_waiters();
    }

    fn lock_abort(&self) -> std::sync::MutexGuard<'_, Abort> {
        self.abort
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn abort_reason(&self) -> ExitReason {
        self.lock_abort()
            .reason
            .clone()
            .unwrap_or(ExitReason::Killed)
    }

    /// An abort requested before the task was first polled (a kill, or a
    /// panic in a task spawned during init) takes effect as it starts.
    fn take_pending_crash(&self) -> Option<ExitReason> {
        if !self.aborting.load(Ordering::Acquire) {
            return None;
        }
        self.lock_abort().reason.clone()
    }

    /// True once the incarnation has exited or is being aborted: its
    /// handles stop reaching it at once.
    pub(crate) fn is_exiting(&self) -> bool {
        self.aborting.load(Ordering::Acquire) || self.exit_reported.load(Ordering::Acquire)
    }

    pub(crate) fn is_root(&self) -> bool {
        self.root
    }

    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    /// Aborts the task with this exit reason (unless it already has one).
    pub(crate) fn abort_with(&self, reason: ExitReason) {
        self.aborting.store(true, Ordering::Release);
        let mut abort = self.lock_abort();
        abort.reason.get_or_insert(reason);
        if let Some(handle) = &abort.handle {
            handle.abort();
        }
    }

    /// A task spawned by the worker panicked: the worker crashes with it.
    pub(crate) fn crash(&self, reason: ExitReason) {
        self.abort_with(reason);
    }

    /// Messages queued for this incarnation died with it.
    pub(crate) fn messages_dropped(&self, count: usize) {
        observe(|| {
            tracing::debug!(path = %self.path(), incarnation = self.number, count, "messages dropped with the incarnation");
            crate::metrics::messages_dropped(self, count);
        });
        self.bus.emit(|| Event::MessagesDropped {
            path: self.path_arc().clone(),
            incarnation: self.number,
            count,
        });
    }

    /// Emits this incarnation's `Exited` event, once.
    pub(crate) fn report_exit(&self, reason: &ExitReason) {
        if self.emit_exit(reason) {
            self.mark_supervisor_exited(reason);
        }
    }

    /// Emits the `Exited` event; false if it was emitted already. A
    /// panicking observer is caught (see [`observe`]): the parent is told
    /// of the exit whatever logging does.
    fn emit_exit(&self, reason: &ExitReason) -> bool {
        if self.exit_reported.swap(true, Ordering::AcqRel) {
            return false;
        }
        observe(|| {
            crate::metrics::child_exited(self);
            if reason.is_normal() || matches!(reason, ExitReason::Killed) {
                tracing::debug!(path = %self.path(), incarnation = self.number, %reason, "child exited");
            } else {
                tracing::warn!(path = %self.path(), incarnation = self.number, %reason, "child crashed");
            }
        });
        self.bus.emit(|| Event::Exited {
            path: self.path_arc().clone(),
            incarnation: self.number,
            reason: reason.clone(),
        });
        true
    }

    /// A supervisor incarnation: its handles see it stopped, and the calls
    /// it left unanswered fail with its exit.
    fn mark_supervisor_exited(&self, reason: &ExitReason) {
        if let Some(sup) = self.supervisor.get() {
            sup.shared.mark_terminated(reason);
        }
    }
}

impl fmt::Debug for Incarnation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.path(), self.number)
    }
}

/// A reference to one incarnation of a child: OTP's pid.
///
/// Two references are equal when they name the same incarnation. A
/// reference outlives its incarnation; a restarted child has a new one.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, ChildStatus, Context, Exit, Supervisor, Worker};
///
/// struct Idle;
/// impl Worker for Idle {
///     type Message = ();
///     async fn run(self, ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sup = Supervisor::builder("app")
///     .child(ChildSpec::worker("idle", || Idle))
///     .build().unwrap().start().await.unwrap();
/// let children = sup.which_children().await.unwrap();
/// let ChildStatus::Running(child) = &children[0].status else { panic!() };
/// assert_eq!(child.to_string(), "app/idle#1");
/// sup.stop().await.unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct ChildRef(Arc<Incarnation>);

impl ChildRef {
    pub(crate) fn from_inner(inner: Arc<Incarnation>) -> Self {
        ChildRef(inner)
    }

    pub(crate) fn inner(&self) -> &Incarnation {
        &self.0
    }

    /// True when this is the incarnation `inc`.
    pub(crate) fn is(&self, inc: &Arc<Incarnation>) -> bool {
        Arc::ptr_eq(&self.0, inc)
    }

    /// The child's path in the tree, e.g. `app/payments/processor`.
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        self.0.id()
    }

    /// Which start of the child this is (1 for the first; failed starts count).
    pub fn incarnation(&self) -> u64 {
        self.0.number()
    }

    /// Worker or supervisor.
    pub fn kind(&self) -> ChildKind {
        self.0.kind
    }

    /// True once this incarnation has exited.
    pub fn has_exited(&self) -> bool {
        self.0.exit_reported.load(Ordering::Acquire)
    }

    /// The handle of this child if it is a supervisor.
    pub fn supervisor(&self) -> Option<SupervisorHandle> {
        self.0.supervisor.get().cloned()
    }

    /// Kills this incarnation from outside, as OTP's `exit(Pid, kill)`: its
    /// task is aborted and its supervisor sees it exit with reason `killed`
    /// (a supervisor's own children die with it). Does nothing if it has
    /// already exited.
    pub fn kill(&self) {
        self.0.abort_with(ExitReason::Killed);
    }
}

impl PartialEq for ChildRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ChildRef {}

impl fmt::Debug for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

// ===== Running =====

/// Lets the tasks already queued run before this one continues: it wakes
/// itself and goes to the back of the run queue. Unlike
/// `tokio::task::yield_now`, it does not wait for the I/O driver to be
/// polled first (a system call per yield on the current-thread runtime).
async fn requeue() {
    let mut queued = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut queued, true) {
            return std::task::Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

/// A running incarnation as its supervisor holds it. Dropping it (the
/// supervisor's own task died) passes the supervisor's death on to the
/// child, as a link does.
pub(crate) struct Running {
    pub(crate) inc: Arc<Incarnation>,
    join: Option<JoinHandle<ExitReason>>,
    stop: Stopper,
    /// Its shutdown policy, for when its supervisor dies without stopping it.
    shutdown: Shutdown,
}

impl Running {
    pub(crate) fn child_ref(&self) -> ChildRef {
        ChildRef::from_inner(self.inc.clone())
    }

    /// Starts stopping the child without waiting: what the dynamic
    /// supervisor does for all its children at once. Returns true when the
    /// child was aborted outright.
    pub(crate) fn begin_stop(&self, shutdown: Shutdown) -> bool {
        self.inc.awaited.store(true, Ordering::Release);
        match (shutdown, &self.stop) {
            (Shutdown::BrutalKill, _) => {
                self.inc.abort_with(ExitReason::Killed);
                true
            }
            (_, Stopper::Abort) => {
                self.inc.abort_with(ExitReason::Shutdown);
                true
            }
            (_, Stopper::Signal) => {
                self.inc.request_stop();
                false
            }
            (_, Stopper::Supervisor(handle)) => {
                handle.send_stop(ExitReason::Shutdown);
                false
            }
        }
    }

    /// Kills the child (its shutdown timeout ran out).
    pub(crate) fn kill(&self) {
        self.inc.abort_with(ExitReason::Killed);
    }

    /// Waits for the child's task to end and returns its exit reason. After
    /// an abort, waits at most [`KILL_GRACE`] for a task that blocks its
    /// thread, then reports it killed.
    pub(crate) async fn wait(&mut self, aborted: bool) -> ExitReason {
        // Give an aborted task its turn first: it is usually dropped then,
        // and is found done without a timer or a clock read.
        if !aborted || !self.yield_until_finished().await {
            return self.join().await;
        }
        let join = self.join.as_mut().expect("a running child has its task");
        match tokio::time::timeout(KILL_GRACE, join).await {
            Ok(result) => self.join_result(result),
            Err(_) => {
                self.join = None;
                let reason = ExitReason::Killed;
                self.inc.report_exit(&reason);
                reason
            }
        }
    }

    /// Waits for the task to end: its exit reason.
    async fn join(&mut self) -> ExitReason {
        let result = self
            .join
            .as_mut()
            .expect("a running child has its task")
            .await;
        self.join_result(result)
    }

    /// Yields once unless the task has ended, so that a child just told to
    /// stop (or aborted) gets its turn before a timer is armed for it.
    /// Returns true if the task is still running after that.
    async fn yield_until_finished(&self) -> bool {
        let join = self.join.as_ref().expect("a running child has its task");
        if join.is_finished() {
            return false;
        }
        requeue().await;
        !join.is_finished()
    }

    /// The task has ended with `result`: its exit reason.
    fn join_result(&mut self, result: Result<ExitReason, tokio::task::JoinError>) -> ExitReason {
        self.join = None;
        match result {
            Ok(reason) => reason,
            Err(_) => self.inc.abort_reason(),
        }
    }

    /// Stops the child by its shutdown policy (OTP's `shutdown/2`) and
    /// returns the reason it exited with.
    pub(crate) async fn terminate(self, shutdown: Shutdown) -> ExitReason {
        let aborted = self.begin_stop(shutdown);
        let deadline = shutdown.deadline(tokio::time::Instant::now());
        self.finish_stop(aborted, shutdown, deadline).await
    }

    /// Waits for a child told to stop by [`begin_stop`](Self::begin_stop):
    /// until it exits, or until `deadline`, when it is killed.
    pub(crate) async fn finish_stop(
        mut self,
        aborted: bool,
        shutdown: Shutdown,
        deadline: Option<tokio::time::Instant>,
    ) -> ExitReason {
        if aborted {
            return self.wait(true).await;
        }
        match deadline {
            Some(deadline) => {
                // A child that stops at once is found done without a timer
                // (a zero timeout gives it no turn: OTP kills it then).
                let zero = shutdown == Shutdown::Timeout(Duration::ZERO);
                if !zero && !self.yield_until_finished().await {
                    return self.join().await;
                }
                let join = self.join.as_mut().expect("a running child has its task");
                match tokio::time::timeout_at(deadline, join).await {
                    Ok(result) => self.join_result(result),
                    Err(_) => {
                        self.kill();
                        self.wait(true).await
                    }
                }
            }
            _ => self.wait(false).await,
        }
    }
}

impl Running {
    /// Lets the child run on without this record: dropping it no longer
    /// kills the child. Used for a tree's root, which nobody supervises.
    pub(crate) fn detach(mut self) {
        self.join = None;
    }
}

impl Drop for Running {
    /// Its supervisor died without stopping it (it was killed, or its task
    /// was dropped): the child gets its parent's exit as a linked OTP
    /// process does (S29.3). A worker that does not handle shutdown, or
    /// whose policy is `brutal_kill`, dies at once, `killed`. One that
    /// handles shutdown is asked to stop, with reason `killed`, and is
    /// killed if its shutdown timeout runs out. A nested supervisor stops
    /// its own children in order, then exits `killed`. Its new incarnation
    /// does not wait for any of them.
    fn drop(&mut self) {
        let Some(join) = self.join.take() else {
            return;
        };
        if join.is_finished() {
            return;
        }
        match (&self.stop, self.shutdown) {
            (Stopper::Abort, _) | (_, Shutdown::BrutalKill) => {
                self.inc.abort_with(ExitReason::Killed)
            }
            (Stopper::Supervisor(handle), _) => handle.send_stop(ExitReason::Killed),
            (Stopper::Signal, shutdown) => {
                self.inc.request_stop_with(STOP_KILLED);
                if let Shutdown::Timeout(limit) = shutdown {
                    reap_after(limit, self.inc.clone(), join);
                }
            }
        }
    }
}

/// Kills an orphaned child still running after `limit`. Without a runtime
/// to wait on (it is shutting down), at once.
fn reap_after(limit: Duration, inc: Arc<Incarnation>, join: JoinHandle<ExitReason>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if tokio::time::timeout(limit, join).await.is_err() {
                    inc.abort_with(ExitReason::Killed);
                }
            });
        }
        Err(_) => inc.abort_with(ExitReason::Killed),
    }
}
