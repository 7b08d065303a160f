//! One incarnation of a child (OTP's process): its path and number, its
//! stop and abort flags, its exit report, and [`ChildRef`], the public
//! reference to it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use smol_str::SmolStr;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::event::{Event, EventBus};
use crate::exit::ExitReason;
use crate::policy::ChildKind;
use crate::report::observe;
use crate::supervisor::SupervisorHandle;
use crate::sync::AbortCell;

// ===== Incarnation / ChildRef =====

/// Not asked to stop.
const NO_STOP: u8 = 0;
/// Asked to stop by its supervisor (OTP's `exit(Pid, shutdown)`).
const STOP_SHUTDOWN: u8 = 1;
/// Its supervisor was killed (the `killed` exit a linked process gets).
pub(super) const STOP_KILLED: u8 = 2;

/// `parent/id`, allocated once: joined on the stack (or, for a long path,
/// in a `String` of the exact size), not through `format!`, whose
/// machinery and growing buffer cost a child's start more than its spawn.
pub(crate) fn child_path(parent: &str, id: &str) -> Arc<str> {
    const ON_STACK: usize = 256;
    let len = parent.len() + 1 + id.len();
    if len > ON_STACK {
        return [parent, "/", id].concat().into();
    }
    let mut buf = [0u8; ON_STACK];
    buf[..parent.len()].copy_from_slice(parent.as_bytes());
    buf[parent.len()] = b'/';
    buf[parent.len() + 1..len].copy_from_slice(id.as_bytes());
    match std::str::from_utf8(&buf[..len]) {
        Ok(path) => path.into(),
        // Two whole `str`s and a `/` are UTF-8: not reached.
        Err(_) => [parent, "/", id].concat().into(),
    }
}

/// A child's path in its tree (`supervisor/id`), joined only when
/// something reads it: most never need it (an idle child, with nobody
/// watching events or traces), and joining it would be an allocation on
/// the hot path of a start. A static child's, once its supervisor has
/// joined it (for a report or a snapshot), is shared by its incarnations.
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

    /// A path joined already by [`child_path`] from its supervisor's path
    /// and `id`: the id is its end, found without a search.
    pub(crate) fn joined_with(path: Arc<str>, id: &str) -> Self {
        debug_assert!(path.ends_with(id) && path.len() > id.len());
        let id_start = path.len() - id.len();
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
    /// Notified when it is asked to stop, and when it has exited.
    notify: Notify,
    /// Its abort: the reason, and its task's handle once spawned (see
    /// `crate::sync::abort` for the protocol).
    abort: AbortCell<ExitReason, AbortHandle>,
    /// Set when an abort is requested: the incarnation is on its way out
    /// (the abort's flag, kept here with the other flags).
    aborting: crate::sync::AtomicBool,
    /// Set when its supervisor stops it and waits for it: its exit needs no
    /// message (it would be stale), only its event.
    pub(super) awaited: AtomicBool,
    exit_reported: AtomicBool,
    /// Started by nobody: the root of a tree.
    pub(super) root: bool,
    /// Its serial within its supervisor (0 for a root).
    pub(super) serial: u64,
    pub(super) supervisor: OnceLock<SupervisorHandle>,
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
            abort: AbortCell::new(),
            aborting: crate::sync::AtomicBool::new(false),
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

    /// Completes once it has been asked to stop.
    ///
    /// Cancel safe.
    pub(crate) async fn stop_requested(&self) {
        loop {
            // `notify` is only ever woken with `notify_waiters`, which a
            // `Notified` sees from its creation on: it needs no `enable`
            // before the flag is read.
            let notified = self.notify.notified();
            if self.is_stop_requested() {
                return;
            }
            notified.await;
            // Woken by a stop request, usually: read the flag before
            // making another `Notified`.
            if self.is_stop_requested() {
                return;
            }
        }
    }

    /// Completes once the incarnation has exited (its exit reported).
    ///
    /// Cancel safe.
    pub(crate) async fn exited(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.exit_reported.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Whether its exit has been reported.
    #[inline]
    pub(crate) fn has_exited(&self) -> bool {
        self.exit_reported.load(Ordering::Acquire)
    }

    pub(crate) fn request_stop(&self) {
        self.request_stop_with(STOP_SHUTDOWN);
    }

    /// Asks it to stop with `why` ([`STOP_SHUTDOWN`] or [`STOP_KILLED`]);
    /// the first request's reason stays.
    pub(super) fn request_stop_with(&self, why: u8) {
        let _ = self
            .stop
            .compare_exchange(NO_STOP, why, Ordering::AcqRel, Ordering::Acquire);
        self.notify.notify_waiters();
    }

    /// Its task was spawned: an abort from now on aborts it.
    pub(super) fn set_abort_handle(&self, handle: AbortHandle) {
        self.abort.set_handle(handle);
    }

    /// Why its task was aborted (`killed` unless a reason was given).
    pub(crate) fn abort_reason(&self) -> ExitReason {
        self.abort.reason().unwrap_or(ExitReason::Killed)
    }

    /// An abort requested before the task was first polled (a kill, or a
    /// panic in a task spawned during init) takes effect as it starts.
    pub(super) fn take_pending_crash(&self) -> Option<ExitReason> {
        self.abort.pending(&self.aborting)
    }

    /// True once the incarnation has exited or is being aborted: its
    /// handles stop reaching it at once.
    #[inline]
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
    /// Before the task exists, the abort waits for it, and wakes whoever
    /// waits in [`abort_requested`](Self::abort_requested).
    pub(crate) fn abort_with(&self, reason: ExitReason) {
        self.abort.abort_with(&self.aborting, reason);
        self.notify.notify_waiters();
    }

    /// Completes once an abort has been requested (a kill): a supervisor's
    /// init, which runs in its parent's task before its own task exists,
    /// races it, since OTP's `exit(Pid, kill)` ends a process wherever it
    /// is. Its reason is [`abort_reason`](Self::abort_reason).
    ///
    /// Cancel safe.
    pub(crate) async fn abort_requested(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.aborting.load(Ordering::Acquire) {
                return;
            }
            notified.await;
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

    /// Its start did not go through (its init failed, ignored, or was
    /// dropped midway): it never ran and never will, so it counts as ended
    /// ([`ChildRef::has_exited`]) without an `Exited` event, which only a
    /// started incarnation has. What was registered in its name (a
    /// registry entry made during its init) is then seen as dead.
    pub(crate) fn mark_never_started(&self) {
        self.exit_reported.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
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
    pub(super) fn emit_exit(&self, reason: &ExitReason) -> bool {
        if self.exit_reported.swap(true, Ordering::SeqCst) {
            return false;
        }
        // Its callers waiting for a reply learn it is gone (see `exited`).
        self.notify.notify_waiters();
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

impl crate::metrics::Labelled for Incarnation {
    fn path(&self) -> &str {
        Incarnation::path(self)
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

    /// True once this incarnation has exited, or when its start did not go
    /// through (its init failed, ignored, or was withdrawn).
    pub fn has_exited(&self) -> bool {
        self.0.has_exited()
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
