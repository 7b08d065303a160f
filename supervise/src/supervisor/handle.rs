use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::child::{ChildRef, ChildSpec, ChildSpecInfo, Incarnation};
use crate::event::EventStream;
use crate::exit::ExitReason;
use crate::policy::ChildKind;
use crate::snapshot::SupervisorSnapshot;
use crate::supervisor::CallError;

use super::dynamic::{start_inline, DynCell};
use super::{Call, Inbox, Msg};

/// A cloneable handle to a running supervisor: OTP's `supervisor` API.
///
/// Every call goes through the supervisor's one inbox and is served in
/// arrival order, after the child exits that arrived before it, and never
/// while the supervisor is starting or stopping a child. (One shortcut
/// keeps those guarantees: an idle dynamic supervisor lets
/// [`start_child`](Self::start_child) run in the caller's task.) A call on
/// a supervisor that has stopped returns [`CallError::Stopped`]; none
/// panics or hangs.
///
/// # Cancel safety
///
/// Dropping a call's future after it was sent does not withdraw the call:
/// the supervisor still carries it out, and its result is lost. A start in
/// the caller's task is withdrawn instead (see `start_child`).
#[derive(Debug, Clone)]
pub struct SupervisorHandle {
    tx: Inbox,
    pub(crate) shared: Arc<SupShared>,
}

/// What the handles of one supervisor share with its task.
#[derive(Debug)]
pub(crate) struct SupShared {
    path: Arc<str>,
    terminated: Notify,
    done: AtomicBool,
    inc: OnceLock<Weak<Incarnation>>,
    events: Weak<crate::event::EventBus>,
    exit_reason: std::sync::Mutex<Option<ExitReason>>,
    gave_up: AtomicBool,
    /// The inbox of a supervisor that has finished, kept until its exit is
    /// reported: the calls still in it then fail with that exit, after its
    /// parent was told (as an OTP caller's monitor fires after the link).
    finished_inbox: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Msg>>>,
    /// A dynamic supervisor's state, which an idle one lets callers use.
    dynamic: OnceLock<Weak<DynCell>>,
}

impl SupShared {
    pub(crate) fn bind(&self, inc: &Arc<Incarnation>) {
        let _ = self.inc.set(Arc::downgrade(inc));
    }

    pub(crate) fn mark_terminated(&self, reason: &ExitReason) {
        *self
            .exit_reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason.clone());
        self.done.store(true, Ordering::Release);
        self.terminated.notify_waiters();
        let unanswered = self
            .finished_inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(unanswered);
    }

    /// Keeps a finished supervisor's inbox until its exit is reported.
    pub(crate) fn keep_inbox(&self, inbox: mpsc::UnboundedReceiver<Msg>) {
        *self
            .finished_inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(inbox);
    }

    /// Makes `cell` the state that [`SupervisorHandle::start_child`] may
    /// use in the caller's task.
    pub(crate) fn set_dynamic(&self, cell: &Arc<DynCell>) {
        let _ = self.dynamic.set(Arc::downgrade(cell));
    }

    pub(crate) fn mark_gave_up(&self) {
        self.gave_up.store(true, Ordering::Release);
    }

    async fn wait_terminated(&self) {
        loop {
            let notified = self.terminated.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.done.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// One child as [`SupervisorHandle::which_children`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's id (`None` for the children of a dynamic supervisor).
    pub id: Option<Arc<str>>,
    /// Running, restarting, or not running.
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub kind: ChildKind,
}

/// Whether a child is running (OTP's pid, `restarting` or `undefined`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildStatus {
    /// Running as this incarnation.
    Running(ChildRef),
    /// A failed restart is being retried.
    Restarting,
    /// Not running: terminated, ignored, or a transient child that exited
    /// normally.
    Undefined,
}

/// Counts of a supervisor's children, as OTP's `count_children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// All child specs, running or not.
    pub specs: usize,
    /// Children running now.
    pub active: usize,
    /// Specs of supervisor children.
    pub supervisors: usize,
    /// Specs of worker children.
    pub workers: usize,
}

impl SupervisorHandle {
    pub(crate) fn new(path: Arc<str>, tx: Inbox, events: &Arc<crate::event::EventBus>) -> Self {
        SupervisorHandle {
            tx,
            shared: Arc::new(SupShared {
                path,
                terminated: Notify::new(),
                done: AtomicBool::new(false),
                inc: OnceLock::new(),
                events: Arc::downgrade(events),
                exit_reason: std::sync::Mutex::new(None),
                gave_up: AtomicBool::new(false),
                finished_inbox: std::sync::Mutex::new(None),
                dynamic: OnceLock::new(),
            }),
        }
    }

    /// The supervisor's path in the tree.
    pub fn path(&self) -> &str {
        &self.shared.path
    }

    /// True once the supervisor has exited.
    pub fn is_stopped(&self) -> bool {
        self.shared.done.load(Ordering::Acquire)
    }

    /// The reason the supervisor exited with, once it has.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.shared
            .exit_reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// True if the supervisor gave up because its children restarted more
    /// than its intensity allows (OTP's `reached_max_restart_intensity`).
    pub fn gave_up(&self) -> bool {
        self.shared.gave_up.load(Ordering::Acquire)
    }

    /// Subscribes to the events of the whole tree this supervisor is in,
    /// from now on. Returns `None` once the tree is gone.
    pub fn subscribe(&self) -> Option<EventStream> {
        self.shared.events.upgrade().map(|bus| bus.subscribe())
    }

    /// [`subscribe`](Self::subscribe), keeping at most `capacity` unread
    /// events (see [`SupervisorSpec::subscribe_bounded`]).
    ///
    /// [`SupervisorSpec::subscribe_bounded`]: crate::SupervisorSpec::subscribe_bounded
    pub fn subscribe_bounded(&self, capacity: usize) -> Option<EventStream> {
        self.shared
            .events
            .upgrade()
            .map(|bus| bus.subscribe_bounded(capacity))
    }

    pub(crate) fn send_stop(&self, reason: ExitReason) {
        let _ = self.tx.send(Msg::Stop { reason });
    }

    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Call) -> Result<T, CallError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Call(make(tx)))
            .map_err(|_| CallError::Stopped)?;
        match rx.await {
            Ok(answer) => Ok(answer),
            Err(_) => {
                // The call was dropped unanswered: the supervisor's task
                // ended with it in hand or in its inbox. Its exit reason is
                // recorded just after (on another thread, maybe not yet):
                // wait for it, so that the caller always learns it.
                self.shared.wait_terminated().await;
                Err(self
                    .exit_reason()
                    .map_or(CallError::Stopped, CallError::Exited))
            }
        }
    }

    /// Lists the children, the most recently started first (OTP's order).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.call(Call::WhichChildren).await
    }

    /// The live tree below this supervisor: every supervisor with its
    /// strategy and intensity, every child with its state, incarnation,
    /// restarts in the window and last exits. Each supervisor answers in
    /// turn (this one first), so the picture is taken level by level.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`]. A nested supervisor that stops meanwhile is
    /// shown without its children.
    pub async fn snapshot(&self) -> Result<SupervisorSnapshot, CallError> {
        let (mut snapshot, nested) = self.call(Call::Snapshot).await?;
        for (child, handle) in snapshot.children.iter_mut().zip(nested) {
            if let Some(handle) = handle {
                child.supervisor = Box::pin(handle.snapshot()).await.ok();
            }
        }
        Ok(snapshot)
    }

    /// Counts the children.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.call(Call::CountChildren).await
    }

    /// The child spec of `id`, with the defaults filled in.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`].
    pub async fn get_childspec(&self, id: &str) -> Result<ChildSpecInfo, CallError> {
        self.call(|tx| Call::GetChildspec(id.into(), tx)).await?
    }

    /// The child spec of the child incarnation `child` (OTP's
    /// `get_childspec(Sup, Pid)`), the way to name a child of a dynamic
    /// supervisor. A `simple_one_for_one` supervisor answers with its
    /// template for any of its children (running, or restarting under the
    /// incarnation that ran last), and, as OTP's, also for an incarnation
    /// that has already exited; a dynamic supervisor without a template
    /// answers with the child's own spec.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when `child` is not a child of this
    /// supervisor; always from a static supervisor, which looks a
    /// reference up as an id, as OTP does (S24.4).
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{ChildSpec, Context, DynamicSupervisorSpec, Exit, Restart, Worker};
    ///
    /// struct Job;
    /// impl Worker for Job {
    ///     type Message = ();
    ///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
    ///         std::future::pending::<()>().await;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let template = ChildSpec::worker("job", || Job).restart(Restart::Transient);
    /// let jobs = DynamicSupervisorSpec::builder("jobs")
    ///     .template(template)
    ///     .build().unwrap().start().await.unwrap();
    /// let child = jobs.start_child(ChildSpec::worker("job", || Job)).await.unwrap().unwrap();
    /// let spec = jobs.get_childspec_ref(&child).await.unwrap();
    /// assert_eq!((&*spec.id, spec.restart), ("job", Restart::Transient));
    /// jobs.stop().await.unwrap();
    /// # }
    /// ```
    pub async fn get_childspec_ref(&self, child: &ChildRef) -> Result<ChildSpecInfo, CallError> {
        let child = child.clone();
        self.call(|tx| Call::GetChildspecRef(child, tx)).await?
    }

    /// Adds a child after all the others and starts it. `Ok(None)` when
    /// its init returned [`Init::Ignore`](crate::Init::Ignore). The new
    /// child is stopped first at shutdown and is restarted with the rest
    /// under `rest_for_one` of any earlier child.
    ///
    /// A dynamic supervisor that is idle (nothing in its inbox, nothing
    /// being served) lets the caller start the child in the caller's own
    /// task, holding the supervisor's state as its task would: the result
    /// and every ordering are those of a call, without the two task
    /// switches.
    ///
    /// # Errors
    ///
    /// [`CallError::AlreadyStarted`], [`CallError::AlreadyPresent`],
    /// [`CallError::InvalidSpec`], [`CallError::StartFailed`] (nothing is
    /// added); [`CallError::MaxChildren`] from a full dynamic supervisor.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. Dropped once its call was sent, the start still
    /// happens, as for every call. Dropped while it starts the child in the
    /// caller's task (above), the child's init is dropped with it and no
    /// child is started.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Option<ChildRef>, CallError> {
        match start_inline(self.dynamic(), spec).await {
            Ok(result) => result,
            Err(spec) => self.call_start_child(spec).await,
        }
    }

    /// [`start_child`](Self::start_child) as a call through the inbox.
    pub(crate) async fn call_start_child(
        &self,
        spec: ChildSpec,
    ) -> Result<Option<ChildRef>, CallError> {
        self.call(|tx| Call::StartChild(spec, tx)).await?
    }

    /// A dynamic supervisor's state, which an idle one lets a caller use.
    pub(crate) fn dynamic(&self) -> Option<Arc<DynCell>> {
        self.shared.dynamic.get().and_then(Weak::upgrade)
    }

    /// Stops the child `id` by its shutdown policy and keeps its spec (a
    /// temporary child's spec is dropped). Returns once the child has
    /// exited. Not counted toward the restart intensity.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`].
    pub async fn terminate_child(&self, id: &str) -> Result<(), CallError> {
        self.call(|tx| Call::TerminateChild(id.into(), tx)).await?
    }

    /// Stops the child incarnation `child` (the way to name a child of a
    /// dynamic supervisor). Returns once it has exited.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when `child` is not a running child of this
    /// supervisor; a `simple_one_for_one` supervisor, as OTP's, answers
    /// `Ok` for a child that has already exited.
    pub async fn terminate_child_ref(&self, child: &ChildRef) -> Result<(), CallError> {
        let child = child.clone();
        self.call(|tx| Call::TerminateChildRef(child, tx)).await?
    }

    /// Starts the child `id` again after `terminate_child`. Not counted
    /// toward the restart intensity.
    ///
    /// # Errors
    ///
    /// [`CallError::Running`], [`CallError::Restarting`],
    /// [`CallError::NotFound`], [`CallError::StartFailed`].
    pub async fn restart_child(&self, id: &str) -> Result<Option<ChildRef>, CallError> {
        self.call(|tx| Call::RestartChild(id.into(), tx)).await?
    }

    /// Removes the spec of the child `id`, which must not be running.
    ///
    /// # Errors
    ///
    /// [`CallError::Running`], [`CallError::Restarting`],
    /// [`CallError::NotFound`].
    pub async fn delete_child(&self, id: &str) -> Result<(), CallError> {
        self.call(|tx| Call::DeleteChild(id.into(), tx)).await?
    }

    /// Stops the supervisor with reason `shutdown`: its children in reverse
    /// start order, each by its shutdown policy. Returns once it has exited.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`] if it had already stopped.
    pub async fn stop(&self) -> Result<(), CallError> {
        self.stop_with(ExitReason::Shutdown).await
    }

    /// Stops the supervisor with `reason` (its parent, if any, sees that
    /// exit reason). Returns once it has exited.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`] if it had already stopped.
    pub async fn stop_with(&self, reason: ExitReason) -> Result<(), CallError> {
        self.tx
            .send(Msg::Stop { reason })
            .map_err(|_| CallError::Stopped)?;
        self.shared.wait_terminated().await;
        Ok(())
    }

    /// [`stop_with`](Self::stop_with), waiting at most `timeout`; the tree
    /// goes on stopping after a timeout.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`], [`CallError::Timeout`].
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), CallError> {
        tokio::time::timeout(timeout, self.stop_with(reason))
            .await
            .map_err(|_| CallError::Timeout)?
    }

    /// Kills the supervisor from outside (OTP's `exit(Sup, kill)`): its
    /// task is aborted, its children die with it, and its parent sees it
    /// exit with reason `killed`. Wherever it is: one killed while it
    /// starts its children (its init, or a restart it runs) dies there,
    /// and its parent's start of it fails with `killed`.
    pub fn kill(&self) {
        if let Some(inc) = self.shared.inc.get().and_then(Weak::upgrade) {
            inc.abort_with(ExitReason::Killed);
        }
    }

    /// Waits until the supervisor has exited, however it stops.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn wait(&self) {
        self.shared.wait_terminated().await
    }
}

/// A handle to a supervisor that follows it across its restarts (the
/// [`SupervisorHandle`] of one incarnation stops working when it exits).
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Exit, Supervisor, Worker};
///
/// struct Idle;
/// impl Worker for Idle {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let inner = Supervisor::builder("inner")
///     .child(ChildSpec::worker("idle", || Idle))
///     .build()
///     .unwrap();
/// let inner_ref = inner.supervisor_ref();
/// let root = Supervisor::builder("root")
///     .child(ChildSpec::supervisor("inner", inner))
///     .build().unwrap().start().await.unwrap();
/// let now = inner_ref.current().unwrap();
/// assert_eq!(now.path(), "root/inner");
/// root.stop().await.unwrap();
/// assert!(inner_ref.current().is_err());
/// # }
/// ```
#[derive(Clone, Default)]
pub struct SupervisorRef {
    cell: Arc<Mutex<Option<SupervisorHandle>>>,
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SupervisorRef")
            .field(&self.current().ok())
            .finish()
    }
}

impl SupervisorRef {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SupervisorHandle>> {
        self.cell
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts `spec` through the latest incarnation, as
    /// [`SupervisorHandle::start_child`], without cloning its handle when
    /// the start can be made in the caller's task (the hot path of a
    /// typed dynamic supervisor).
    pub(crate) async fn start_child(
        &self,
        spec: ChildSpec,
    ) -> Result<Option<ChildRef>, crate::CallError> {
        let cell = match &*self.lock() {
            Some(handle) if !handle.is_stopped() => handle.dynamic(),
            _ => return Err(crate::CallError::Stopped),
        };
        match crate::supervisor::start_inline(cell, spec).await {
            Ok(result) => result,
            Err(spec) => self.current()?.call_start_child(spec).await,
        }
    }

    pub(crate) fn set(&self, handle: SupervisorHandle) {
        *self.lock() = Some(handle);
    }

    /// The handle of the latest incarnation, while it runs or starts its
    /// children: as with an OTP supervisor in its init, a call made during
    /// the start waits until the start is done.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`](crate::CallError::Stopped) when the latest
    /// incarnation has exited (or failed to start) and no other has begun.
    pub fn current(&self) -> Result<SupervisorHandle, crate::CallError> {
        self.lock()
            .clone()
            .filter(|h| !h.is_stopped())
            .ok_or_else(|| crate::CallError::Stopped)
    }

    /// Stops the latest incarnation with reason `shutdown`; see
    /// [`SupervisorHandle::stop`]. Its parent, if any, restarts it as its
    /// restart type says: stop a child supervisor through its parent's
    /// `terminate_child` to keep it stopped.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`](crate::CallError::Stopped) when no
    /// incarnation runs.
    ///
    /// # Cancel safety
    ///
    /// Once the request is sent, dropping the future does not withdraw it.
    pub async fn stop(&self) -> Result<(), crate::CallError> {
        self.current()?.stop().await
    }

    /// The latest incarnation's children; see
    /// [`SupervisorHandle::which_children`].
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`](crate::CallError::Stopped).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, crate::CallError> {
        self.current()?.which_children().await
    }

    /// The latest incarnation's child counts; see
    /// [`SupervisorHandle::count_children`].
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`](crate::CallError::Stopped).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn count_children(&self) -> Result<ChildCounts, crate::CallError> {
        self.current()?.count_children().await
    }

    /// The live tree below the latest incarnation; see
    /// [`SupervisorHandle::snapshot`].
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`](crate::CallError::Stopped).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn snapshot(&self) -> Result<SupervisorSnapshot, crate::CallError> {
        self.current()?.snapshot().await
    }
}
