//! Dynamic supervisors: Elixir's `DynamicSupervisor` and OTP's
//! `simple_one_for_one`, children started at run time, one_for_one only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use slab::Slab;
use smol_str::SmolStr;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::backoff::{Backoff, BackoffState, PendingRestart};
use crate::child::{
    self, child_path, BoxFuture, ChildPath, ChildRef, ChildSpec, Incarnation, Parent, Running,
    StartChild, StartOutcome, Started,
};
use crate::error::{CallError, SpecError, StartError};
use crate::event::{EventBus, EventStream};
use crate::exit::ExitReason;
use crate::handle::SupervisorRef;
use crate::intensity::RestartWindow;
use crate::report::Reporter;
use crate::snapshot::{
    ChildSnapshot, ChildState, History, SupervisorKind, SupervisorSnapshot, DEFAULT_HISTORY,
};
use crate::spec::{AutoShutdown, ChildKind, Intensity, Restart, Shutdown};

use super::builder::{check_child, check_name};
use super::runner::expected_at_shutdown;
use super::{Call, ChildCounts, ChildInfo, ChildStatus, Inbox, Msg, SupervisorHandle};

/// The settings the typed dynamic supervisors share ([`DynamicSupervisor`],
/// [`TaskSupervisor`], the partitions): what they pass to the builder.
///
/// [`DynamicSupervisor`]: crate::DynamicSupervisor
/// [`TaskSupervisor`]: crate::TaskSupervisor
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DynOptions {
    pub(crate) max_restarts: Option<u32>,
    pub(crate) period: Option<Duration>,
    pub(crate) max_children: Option<usize>,
    pub(crate) backoff: Option<Backoff>,
}

impl DynOptions {
    pub(crate) fn build(&self, name: &str) -> Result<DynamicSupervisorSpec, SpecError> {
        let mut builder = DynamicSupervisorSpec::builder(name);
        builder.intensity.max_restarts =
            self.max_restarts.unwrap_or(builder.intensity.max_restarts);
        builder.intensity.period = self.period.unwrap_or(builder.intensity.period);
        builder.max_children = self.max_children;
        builder.backoff = self.backoff;
        builder.build()
    }
}

/// The child spec of a typed dynamic supervisor built from `built`; an
/// invalid setting (a zero period), which cannot be returned from
/// `Child::child_spec`, makes the child fail to start with it, so that its
/// parent's start fails.
pub(crate) fn dynamic_child<H>(
    id: &str,
    built: Result<(DynamicSupervisorSpec, H), SpecError>,
    detached: impl FnOnce() -> H,
) -> (ChildSpec, H) {
    match built {
        Ok((spec, handle)) => (ChildSpec::dynamic_supervisor(id, spec), handle),
        Err(error) => {
            let reason = ExitReason::error(error);
            (
                ChildSpec::failing(id, ChildKind::Supervisor, reason),
                detached(),
            )
        }
    }
}

/// Starts a typed dynamic supervisor as a root.
pub(crate) async fn start_dynamic_root<H>(
    built: Result<(DynamicSupervisorSpec, H), SpecError>,
) -> Result<H, StartError> {
    let (spec, handle) = built.map_err(|e| StartError::new(ExitReason::error(e)))?;
    spec.start().await?;
    Ok(handle)
}

/// Declares a dynamic supervisor; see [`DynamicSupervisorSpec`].
#[derive(Debug, Clone)]
pub struct DynamicSupervisorBuilder {
    name: Arc<str>,
    intensity: Intensity,
    max_children: Option<usize>,
    templates: Vec<ChildSpec>,
    auto_shutdown: AutoShutdown,
    backoff: Option<Backoff>,
}

impl DynamicSupervisorBuilder {
    /// A delay before every automatic restart of a child that has no
    /// backoff of its own. Default: none.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Restarts tolerated within the period. Default: 3.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.intensity.max_restarts = max_restarts;
        self
    }

    /// The restart period in whole seconds. Default: 5.
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// The restart period as any duration.
    pub fn period(mut self, period: Duration) -> Self {
        self.intensity.period = period;
        self
    }

    /// The most children it holds, running or restarting; a `start_child`
    /// beyond it returns [`CallError::MaxChildren`]. Default: no limit.
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    /// Makes this an OTP `simple_one_for_one` supervisor: every child takes
    /// this template's restart type, shutdown, kind and significance.
    /// Exactly one template may be given.
    pub fn template(mut self, template: ChildSpec) -> Self {
        self.templates.push(template);
        self
    }

    /// When significant children stop the supervisor (with a template only).
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Validates the spec and freezes it.
    ///
    /// # Errors
    ///
    /// A name containing `/` ([`SpecError::InvalidName`]); a zero period;
    /// more than one template
    /// ([`SpecError::BadTemplateCount`]); a template that breaks the child
    /// rules; `auto_shutdown` without a template.
    pub fn build(self) -> Result<DynamicSupervisorSpec, SpecError> {
        check_name(&self.name)?;
        if self.intensity.period.is_zero() {
            return Err(SpecError::ZeroPeriod);
        }
        if self.templates.len() > 1 {
            return Err(SpecError::BadTemplateCount {
                ids: self
                    .templates
                    .iter()
                    .map(|t| t.id.as_str().into())
                    .collect(),
            });
        }
        let template = self.templates.into_iter().next();
        match &template {
            Some(t) => check_child(t, Some(self.auto_shutdown))?,
            None if self.auto_shutdown != AutoShutdown::Never => {
                return Err(SpecError::AutoShutdownWithoutTemplate)
            }
            None => {}
        }
        Ok(DynamicSupervisorSpec {
            inner: Arc::new(DynInner {
                name: self.name,
                intensity: self.intensity,
                max_children: self.max_children,
                template,
                auto_shutdown: self.auto_shutdown,
                backoff: self.backoff,
                sup_ref: SupervisorRef::default(),
            }),
            bus: EventBus::new(),
        })
    }
}

/// A validated dynamic supervisor spec: a supervisor whose children are
/// started at run time with [`SupervisorHandle::start_child`], each
/// restarted on its own (one_for_one), all stopped together. Start it as a
/// root, or nest it with [`ChildSpec::dynamic_supervisor`]. Children of
/// any types can be mixed (boxed child specs); for one worker type with
/// typed handles, use [`DynamicSupervisor`](crate::DynamicSupervisor).
///
/// Two flavours, as in Erlang and Elixir:
///
/// * without a template, Elixir's `DynamicSupervisor`: every
///   `start_child` brings its own [`ChildSpec`], `max_children` caps the
///   number of children, a shutdown timeout must be above zero;
/// * with a [`template`](DynamicSupervisorBuilder::template), OTP's
///   `simple_one_for_one`: every child takes the template's restart type,
///   shutdown and significance, and the supervisor may shut itself down
///   with `auto_shutdown` when its significant children are gone.
///
/// A child's id names it in paths and events (`sessions/user-42`); it need
/// not be unique and the control API does not look children up by it: a
/// child is named by its [`ChildRef`].
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, DynamicSupervisorSpec, Exit, Worker};
///
/// struct Session { user: u32 }
/// impl Worker for Session {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sessions = DynamicSupervisorSpec::builder("sessions")
///     .max_children(10_000)
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// for user in [1, 2] {
///     let spec = ChildSpec::worker(format!("user-{user}"), move || Session { user });
///     sessions.start_child(spec).await.unwrap();
/// }
/// assert_eq!(sessions.count_children().await.unwrap().active, 2);
/// sessions.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DynamicSupervisorSpec {
    inner: Arc<DynInner>,
    bus: Arc<EventBus>,
}

#[derive(Debug)]
struct DynInner {
    name: Arc<str>,
    intensity: Intensity,
    max_children: Option<usize>,
    template: Option<ChildSpec>,
    auto_shutdown: AutoShutdown,
    backoff: Option<Backoff>,
    sup_ref: SupervisorRef,
}

impl DynamicSupervisorSpec {
    /// A builder for a dynamic supervisor named `name`.
    pub fn builder(name: impl Into<Arc<str>>) -> DynamicSupervisorBuilder {
        DynamicSupervisorBuilder {
            name: name.into(),
            intensity: Intensity::default(),
            max_children: None,
            templates: Vec::new(),
            auto_shutdown: AutoShutdown::Never,
            backoff: None,
        }
    }

    /// A handle that follows whichever incarnation of this supervisor is
    /// running.
    pub fn supervisor_ref(&self) -> SupervisorRef {
        self.inner.sup_ref.clone()
    }

    /// Subscribes to the events of the tree this spec starts as a root.
    pub fn subscribe(&self) -> EventStream {
        self.bus.subscribe()
    }

    /// Starts the supervisor, with no children.
    ///
    /// # Errors
    ///
    /// Never in practice (a dynamic supervisor starts no child at init);
    /// the type is the one every start has.
    pub async fn start(self) -> Result<SupervisorHandle, StartError> {
        let bus = self.bus.clone();
        let path = self.inner.name.clone();
        let spec = ChildSpec::dynamic_supervisor(path.clone(), self);
        super::builder::start_root(&spec, path, &bus).await
    }
}

impl StartChild for DynamicSupervisorSpec {
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: child::Spawner,
    ) -> BoxFuture<StartOutcome> {
        let (inbox, rx) = Inbox::new();
        let span = crate::report::span(|| tracing::info_span!("supervisor", path = %inc.path()));
        let core = DynCore::new(
            inc.path_arc().clone(),
            self.inner.clone(),
            inc.bus().clone(),
            inbox,
            span.clone(),
        );
        let handle = core.handle.clone();
        let cell = Arc::new(DynCell {
            core: std::sync::Mutex::new(Some(Box::new(core))),
            returned: Notify::new(),
            waiting: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        });
        handle.shared.set_dynamic(&cell);
        self.inner.sup_ref.set(handle.clone());
        spawner.bind_supervisor(&handle);
        // The guard is made here, not in the task, so that a task aborted
        // before its first poll still kills the children started meanwhile
        // by callers.
        let serving = Serving { cell, done: false };
        let join = spawner.spawn(tracing::Instrument::instrument(serve(serving, rx), span));
        Box::pin(async move {
            StartOutcome::Started {
                join,
                stop: child::Stopper::Supervisor(handle),
            }
        })
    }
}

impl ChildSpec {
    /// A nested dynamic supervisor child. Defaults: permanent, shutdown
    /// `infinity`.
    pub fn dynamic_supervisor(id: impl AsRef<str>, spec: DynamicSupervisorSpec) -> Self {
        ChildSpec::from_start(
            id,
            ChildKind::Supervisor,
            Shutdown::Infinity,
            Arc::new(spec),
        )
    }
}

// ===== the task =====

struct DynChild {
    spec: ChildSpec,
    attempts: u64,
    /// The start count it shares with the other children of its id, when
    /// its id is not unique by construction: its `attempts` follow it.
    shared: Option<Arc<AtomicU64>>,
    /// Serial of the current incarnation, or of the failed attempt.
    serial: u64,
    /// `None` while a restart is due (retried, or waiting on its backoff).
    running: Option<Running>,
    /// What a child needs only once it has exited or restarted: allocated
    /// then, so that an idle child's record stays small.
    cold: Option<Box<Cold>>,
}

#[derive(Default)]
struct Cold {
    /// The incarnation that ran last, while a restart is due (retried or
    /// backing off): `terminate_child` finds the child by it, as OTP's
    /// `{restarting, OldPid}` record is found.
    previous: Option<ChildRef>,
    /// The timer of a restart that waits on its backoff.
    pending: Option<PendingRestart>,
    backoff: BackoffState,
    history: History,
}

impl DynChild {
    /// Its path under `supervisor`, joined when something reads it (an
    /// event, a trace, a snapshot): a record does not keep it.
    fn path(&self, supervisor: &str) -> Arc<str> {
        child_path(supervisor, &self.spec.id)
    }

    fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    fn pending(&self) -> Option<&PendingRestart> {
        self.cold.as_ref().and_then(|c| c.pending.as_ref())
    }
}

/// A dynamic supervisor's state. Whoever holds it is the supervisor for
/// that time: its task, serving a message, or a caller starting a child
/// while the supervisor is idle (see [`DynCell`]).
struct DynCore {
    path: Arc<str>,
    inner: Arc<DynInner>,
    /// In slots that are reused once their child is gone; a child's
    /// messages name it by [`key`].
    children: Slab<DynChild>,
    window: RestartWindow,
    bus: Arc<EventBus>,
    tx: Inbox,
    handle: SupervisorHandle,
    /// Its span, which its children's spans are under wherever they
    /// start.
    span: tracing::Span,
    next_serial: u64,
    /// It has stopped serving: it is shutting down, or was killed.
    stopped: bool,
    /// The start count shared by the children of one id, for ids that
    /// several children may have at once (see [`SharedIds`]).
    ids: SharedIds,
}

/// Start counts shared by the children of one id. Several children of a
/// dynamic supervisor may share an id (Elixir's `DynamicSupervisor` starts
/// a second child under a name that is running); their incarnations are
/// numbered by one count per id, as OTP numbers per path, so that a number
/// names one incarnation among all of that path's. An id's count lives as
/// long as one of its children does: the map keeps it weakly, and drops
/// the dead entries once it has doubled in size.
#[derive(Default)]
struct SharedIds {
    counts: HashMap<SmolStr, Weak<AtomicU64>>,
    purge_at: usize,
}

impl SharedIds {
    /// The count of `id`'s children, new if none lives.
    fn count(&mut self, id: &SmolStr) -> Arc<AtomicU64> {
        if let Some(count) = self.counts.get(id).and_then(Weak::upgrade) {
            return count;
        }
        let count = Arc::new(AtomicU64::new(0));
        self.counts.insert(id.clone(), Arc::downgrade(&count));
        if self.counts.len() > self.purge_at {
            self.counts.retain(|_, count| count.strong_count() > 0);
            self.purge_at = (2 * self.counts.len()).max(16);
        }
        count
    }
}

/// A dynamic supervisor's state as its task and its handles share it.
///
/// Its task takes the state to serve each message of its inbox. A caller
/// of [`SupervisorHandle::start_child`] may take it too, but only while
/// the supervisor is idle (no message waiting or being served, nobody
/// holding the state), and then starts the child in its own task exactly
/// as the supervisor's task would have: the start is serialised with
/// everything else the supervisor does, and comes after every message
/// sent before it. This saves the two task switches of a call on the
/// hot path of a dynamic supervisor, a start.
///
/// Whoever holds the state owns it (it is moved out and back), so that
/// holding it across the child's init needs no lock guard kept over an
/// `.await`; the lock is held only to move it.
pub(crate) struct DynCell {
    /// `None` while someone holds the state.
    core: std::sync::Mutex<Option<Box<DynCore>>>,
    /// The state was given back: wakes the supervisor's task when it
    /// waits for it.
    returned: Notify,
    /// The supervisor's task waits for the state: only then is its
    /// return notified.
    waiting: AtomicBool,
    /// The supervisor's task was dropped (it was killed): the state is
    /// dropped, with its children, rather than given back.
    killed: AtomicBool,
}

/// Starts `spec` in the caller's task if `cell` is the state of a dynamic
/// supervisor that is idle; gives `spec` back otherwise, to be sent as a
/// call.
pub(crate) async fn start_inline(
    cell: Option<Arc<DynCell>>,
    spec: ChildSpec,
) -> Result<Result<Option<ChildRef>, CallError>, ChildSpec> {
    match cell {
        Some(cell) => cell.start_child_inline(spec).await,
        None => Err(spec),
    }
}

impl DynCell {
    /// Starts `spec` in the caller's task if the supervisor is idle, and
    /// returns the start's result; gives `spec` back otherwise, to be sent
    /// as a call.
    async fn start_child_inline(
        &self,
        spec: ChildSpec,
    ) -> Result<Result<Option<ChildRef>, CallError>, ChildSpec> {
        // A start counts against the caller's cooperative budget, as a
        // call through a channel would: a loop of starts still yields.
        tokio::task::consume_budget().await;
        let Some(mut held) = self.try_hold() else {
            return Err(spec);
        };
        // Checked while holding the state, which every message is served
        // with: an idle count means nothing was sent before this start.
        if held.stopped || !held.tx.is_idle() {
            return Err(spec);
        }
        // Its span and events are under the supervisor's span, as from
        // the supervisor's task (see `child::start`).
        let result = held.start_child(spec).await;
        if self.killed.load(Ordering::SeqCst) {
            // Killed meanwhile: the child dies with it when `held` goes.
            return Ok(Err(CallError::Exited(ExitReason::Killed)));
        }
        Ok(result)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Box<DynCore>>> {
        self.core
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the state if nobody holds it.
    fn try_hold(&self) -> Option<Held<'_>> {
        let core = self.slot().take()?;
        Some(Held {
            core: Some(core),
            cell: self,
        })
    }

    /// Takes the state, waiting for whoever holds it to give it back.
    async fn hold(&self) -> Held<'_> {
        if let Some(held) = self.try_hold() {
            return held;
        }
        // Set before the state is tried: whoever gives it back after a
        // failed try sees the flag (see `Held::drop`).
        self.waiting.store(true, Ordering::SeqCst);
        let held = loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(held) = self.try_hold() {
                break held;
            }
            returned.await;
        };
        self.waiting.store(false, Ordering::SeqCst);
        held
    }

    /// The supervisor's task was dropped: its children die with it, now
    /// if nobody holds the state, or when its holder lets it go (the flag
    /// and the state are both looked at under the lock, so one of the two
    /// drops it).
    fn kill(&self) {
        let core = {
            let mut slot = self.slot();
            self.killed.store(true, Ordering::SeqCst);
            slot.take()
        };
        drop(core);
    }
}

/// The state, held. Let go, it is given back, or dropped with its
/// children if the supervisor was killed meanwhile.
struct Held<'a> {
    /// `Some` until dropped.
    core: Option<Box<DynCore>>,
    cell: &'a DynCell,
}

impl std::ops::Deref for Held<'_> {
    type Target = DynCore;

    fn deref(&self) -> &DynCore {
        self.core.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut DynCore {
        self.core.as_mut().expect("held until dropped")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let Some(core) = self.core.take() else {
            return;
        };
        let killed = {
            let mut slot = self.cell.slot();
            if self.cell.killed.load(Ordering::SeqCst) {
                Some(core)
            } else {
                *slot = Some(core);
                None
            }
        };
        match killed {
            // Dropped outside the lock: its children are killed.
            Some(core) => drop(core),
            None if self.cell.waiting.load(Ordering::SeqCst) => self.cell.returned.notify_one(),
            None => {}
        }
    }
}

/// What the supervisor's task owns: its state, killed with the task
/// unless the task ends by itself.
struct Serving {
    cell: Arc<DynCell>,
    done: bool,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if !self.done {
            self.cell.kill();
        }
    }
}

/// The supervisor's task: serves its inbox until it stops; returns its
/// exit reason.
async fn serve(mut serving: Serving, mut rx: mpsc::UnboundedReceiver<Msg>) -> ExitReason {
    let cell = &*serving.cell;
    let (mut core, reason) = loop {
        let msg = rx.recv().await;
        let mut core = cell.hold().await;
        let Some(msg) = msg else {
            // Unreachable while the state's own sender lives.
            break (core, ExitReason::Shutdown);
        };
        let stop = core.serve(msg).await;
        core.tx.served();
        if let Some(reason) = stop {
            break (core, reason);
        }
    };
    core.stopped = true;
    core.terminate_all().await;
    let shared = core.handle.shared.clone();
    drop(core);
    serving.done = true;
    shared.keep_inbox(rx);
    reason
}

impl DynCore {
    fn new(
        path: Arc<str>,
        inner: Arc<DynInner>,
        bus: Arc<EventBus>,
        tx: Inbox,
        span: tracing::Span,
    ) -> Self {
        let handle = SupervisorHandle::new(path.clone(), tx.clone(), &bus);
        DynCore {
            window: RestartWindow::default(),
            path,
            inner,
            children: Slab::new(),
            bus,
            tx,
            handle,
            span,
            next_serial: 0,
            stopped: false,
            ids: SharedIds::default(),
        }
    }

    fn is_simple(&self) -> bool {
        self.inner.template.is_some()
    }

    /// The child's policy: the template's for `simple_one_for_one`.
    fn policy<'a>(&'a self, spec: &'a ChildSpec) -> &'a ChildSpec {
        self.inner.template.as_ref().unwrap_or(spec)
    }

    /// Serves one message; returns the reason to stop with, if it is time.
    async fn serve(&mut self, msg: Msg) -> Option<ExitReason> {
        match msg {
            Msg::Exited { serial, reason } => self.handle_exit(serial, reason).await,
            Msg::BackoffElapsed { key, .. } => {
                let slot = self
                    .slot(key)
                    .filter(|&i| self.children[i].pending().is_some());
                if let Some(slot) = slot {
                    let mut child = self.children.remove(slot);
                    child.cold().pending = None;
                    self.start_again(child).await;
                }
                None
            }
            Msg::TryAgain { key, .. } => {
                let waiting = |c: &DynChild| c.running.is_none() && c.pending().is_none();
                match self.slot(key).filter(|&i| waiting(&self.children[i])) {
                    Some(slot) => {
                        let child = self.children.remove(slot);
                        self.restart(child, Instant::now()).await
                    }
                    None => None,
                }
            }
            Msg::Call(call) => {
                self.handle_call(call).await;
                None
            }
            Msg::Stop { reason } => Some(reason),
        }
    }

    /// Killed: its children die with it and are forgotten.
    fn kill(&mut self) {
        self.stopped = true;
        for child in self.children.drain() {
            child.spec.start.forget();
        }
    }

    /// The slot of the child that `key` names, if it is still there.
    fn slot(&self, key: u64) -> Option<usize> {
        let (slot, low) = ((key >> 32) as usize, key as u32);
        self.children
            .get(slot)
            .is_some_and(|c| c.serial as u32 == low)
            .then_some(slot)
    }

    /// Files `child` in a slot; returns its key.
    fn file(&mut self, child: DynChild) -> u64 {
        let serial = child.serial;
        key(self.children.insert(child), serial)
    }

    /// Starts one incarnation of `child` and files it under its new serial.
    /// Returns the outcome; a child that did not start is handed back.
    async fn start(&mut self, mut child: DynChild) -> (Option<DynChild>, StartResult) {
        self.next_serial += 1;
        let serial = self.next_serial;
        child.attempts = match &child.shared {
            Some(count) => count.fetch_add(1, Ordering::Relaxed) + 1,
            None => child.attempts + 1,
        };
        child.serial = serial;
        // The slot it will be filed in: nothing else is filed while it
        // starts (whoever starts it holds the supervisor's state).
        let slot = self.children.vacant_key();
        let parent = Parent {
            inbox: self.tx.clone(),
            serial: key(slot, serial),
        };
        let path = ChildPath::lazy(self.path.clone(), child.spec.id.clone());
        match child::start(
            &child.spec,
            path,
            child.attempts,
            &self.bus,
            Some(parent),
            &self.span,
        )
        .await
        {
            Started::Running(running) => {
                let child_ref = running.child_ref();
                child.running = Some(running);
                // Only a backoff's reset reads when the child last started.
                let backoff = self
                    .policy(&child.spec)
                    .backoff_policy()
                    .or(self.inner.backoff);
                if let Some(cold) = &mut child.cold {
                    cold.previous = None;
                    if backoff.is_some() {
                        cold.backoff.started(Instant::now());
                    }
                }
                let filed = self.children.insert(child);
                debug_assert_eq!(filed, slot, "filed in the slot its key names");
                (None, StartResult::Started(child_ref))
            }
            Started::Ignored => (Some(child), StartResult::Ignored),
            Started::Failed(reason) => (Some(child), StartResult::Failed(reason)),
        }
    }

    // ===== exits =====

    async fn handle_exit(&mut self, key: u64, reason: ExitReason) -> Option<ExitReason> {
        let slot = self.slot(key)?;
        let child = &mut self.children[slot];
        let running = child.running.take()?;
        // One clock read for the exit and the restart it causes.
        let now = Instant::now();
        child.cold().history.record_exit(
            DEFAULT_HISTORY,
            reason.clone(),
            running.inc.number(),
            now,
        );
        let mut child = self.children.remove(slot);
        let policy = self.policy(&child.spec);
        let (restart, significant) = (policy.restart, policy.significant);
        if restart == Restart::Permanent || !reason.is_normal() {
            self.reporter()
                .child_terminated(child.path(&self.path), &reason);
        }
        if restart == Restart::Temporary || (restart == Restart::Transient && reason.is_normal()) {
            running.detach();
            child.spec.start.forget();
            return self.auto_shutdown(significant);
        }
        child.cold().previous = Some(running.child_ref());
        running.detach();
        self.restart(child, now).await
    }

    fn auto_shutdown(&self, significant: bool) -> Option<ExitReason> {
        if !significant {
            return None;
        }
        match self.inner.auto_shutdown {
            AutoShutdown::Never => None,
            AutoShutdown::AnySignificant => Some(ExitReason::Shutdown),
            AutoShutdown::AllSignificant => {
                self.children.is_empty().then_some(ExitReason::Shutdown)
            }
        }
    }

    /// Counts the restart and starts the child again; a failure is retried
    /// through the inbox (S17), an ignore drops the child (S30.5).
    async fn restart(&mut self, child: DynChild, now: Instant) -> Option<ExitReason> {
        if !self.window.add(&self.inner.intensity, now) {
            self.reporter()
                .gave_up(child.path(&self.path), &self.inner.intensity);
            self.handle.shared.mark_gave_up();
            return Some(ExitReason::Shutdown);
        }
        self.reporter().restarting(child.path(&self.path), true);
        let mut child = child;
        child
            .cold()
            .history
            .record_restart(&self.inner.intensity, now);
        if let Some(backoff) = self
            .policy(&child.spec)
            .backoff_policy()
            .or(self.inner.backoff)
        {
            let delay = child.cold().backoff.next_delay(&backoff, now);
            if !delay.is_zero() {
                let key = key(self.children.vacant_key(), child.serial);
                let (tx, id) = (self.tx.clone(), child.spec.id.clone());
                child.cold().pending = Some(PendingRestart::schedule(delay, move || {
                    let _ = tx.send(Msg::BackoffElapsed { id, key });
                }));
                self.file(child);
                return None;
            }
        }
        self.start_again(child).await;
        None
    }

    /// Starts a child again after a counted restart decision; a failure is
    /// retried through the inbox (S17), an ignore drops the child (S30.5).
    async fn start_again(&mut self, child: DynChild) {
        let (child, result) = self.start(child).await;
        let Some(failed) = child else {
            return;
        };
        if let StartResult::Failed(reason) = result {
            self.reporter()
                .start_error(failed.path(&self.path), &reason);
            let id = failed.spec.id.clone();
            let key = self.file(failed);
            let _ = self.tx.send(Msg::TryAgain { id, key });
        } else {
            // An ignored restart drops the child (S30.5).
            failed.spec.start.forget();
        }
    }

    // ===== shutdown (S21) =====

    /// Tells every child to stop at once; each is killed when its own
    /// shutdown timeout runs out (one deadline per distinct timeout, all
    /// started together). Shutdown errors are reported at the end: one per
    /// child, or one per distinct reason for `simple_one_for_one`.
    async fn terminate_all(&mut self) {
        // In start order; the records stay in their slots.
        let mut order: Vec<usize> = self.children.iter().map(|(slot, _)| slot).collect();
        order.sort_unstable_by_key(|&slot| self.children[slot].serial);
        // The children are gone for good: a dynamic supervisor that is
        // started again starts empty.
        for (_, child) in &self.children {
            child.spec.start.forget();
        }
        // Every child is told at once, then all are waited for together,
        // each killed when its own deadline passes (all counted from now):
        // waiting for them in turn would kill a child with a short timeout
        // only once an earlier one with a longer timeout had stopped.
        let now = Instant::now();
        let mut stopping = Vec::with_capacity(order.len());
        for &slot in &order {
            let policy = self.policy(&self.children[slot].spec);
            let (shutdown, restart) = (policy.shutdown, policy.restart);
            let Some(running) = self.children[slot].running.take() else {
                continue;
            };
            let aborted = running.begin_stop(shutdown);
            let deadline = shutdown.deadline(now);
            stopping.push(async move {
                let reason = running.finish_stop(aborted, shutdown, deadline).await;
                (
                    slot,
                    (!expected_at_shutdown(shutdown, restart, &reason)).then_some(reason),
                )
            });
        }
        let mut errors: Vec<(Arc<str>, ExitReason)> = Vec::new();
        for (slot, error) in futures_util::future::join_all(stopping).await {
            if let Some(reason) = error {
                errors.push((self.children[slot].path(&self.path), reason));
            }
        }
        self.children.clear();
        match &self.inner.template {
            None => {
                for (child, reason) in errors {
                    self.reporter().shutdown_error(child, reason, None);
                }
            }
            Some(template) => {
                let mut by_reason: Vec<(ExitReason, usize)> = Vec::new();
                for (_, reason) in errors {
                    match by_reason.iter_mut().find(|(r, _)| *r == reason) {
                        Some((_, n)) => *n += 1,
                        None => by_reason.push((reason, 1)),
                    }
                }
                let child = child_path(&self.path, &template.id);
                for (reason, n) in by_reason {
                    self.reporter()
                        .shutdown_error(child.clone(), reason, Some(n));
                }
            }
        }
    }

    fn reporter(&self) -> Reporter<'_> {
        Reporter {
            supervisor: &self.path,
            bus: &self.bus,
        }
    }

    // ===== control calls =====

    async fn handle_call(&mut self, call: Call) {
        match call {
            Call::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Call::WhichChildren(reply) => {
                let list = self
                    .children
                    .iter()
                    .map(|(_, c)| ChildInfo {
                        id: None,
                        status: match &c.running {
                            Some(r) => ChildStatus::Running(r.child_ref()),
                            None => ChildStatus::Restarting,
                        },
                        kind: self.policy(&c.spec).kind,
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Call::CountChildren(reply) => {
                let _ = reply.send(self.count_children());
            }
            Call::GetChildspec(id, reply) => {
                let found = self
                    .inner
                    .template
                    .as_ref()
                    .filter(|t| *t.id == *id)
                    .map(ChildSpec::info);
                let _ = reply.send(found.ok_or(CallError::NotFound));
            }
            Call::StartChild(spec, reply) => {
                let result = self.start_child(spec).await;
                let _ = reply.send(result);
            }
            Call::TerminateChildRef(child, reply) => {
                let result = self.terminate_child(&child).await;
                let _ = reply.send(result);
            }
            Call::TerminateChild(_, reply) | Call::DeleteChild(_, reply) => {
                let _ = reply.send(Err(CallError::SimpleOneForOne));
            }
            Call::RestartChild(_, reply) => {
                let _ = reply.send(Err(CallError::SimpleOneForOne));
            }
        }
    }

    fn snapshot(&self) -> super::LocalSnapshot {
        let now = Instant::now();
        let intensity = self.inner.intensity;
        let mut children: Vec<&DynChild> = self.children.iter().map(|(_, c)| c).collect();
        children.sort_by_key(|c| c.serial);
        let mut nested = Vec::with_capacity(children.len());
        let children = children
            .into_iter()
            .map(|c| {
                let policy = self.policy(&c.spec);
                let (state, handle) = match (&c.running, c.pending()) {
                    (Some(r), _) => (ChildState::Running, r.child_ref().supervisor()),
                    (None, Some(p)) => (ChildState::BackingOff { until: p.until }, None),
                    (None, None) => (ChildState::Restarting, None),
                };
                nested.push(handle);
                ChildSnapshot {
                    id: c.spec.id.as_str().into(),
                    path: c.path(&self.path),
                    kind: policy.kind,
                    restart: policy.restart,
                    state,
                    incarnation: c.attempts,
                    restarts_in_window: c
                        .cold
                        .as_ref()
                        .map_or(0, |cold| cold.history.restarts_in_window(&intensity, now)),
                    history: c
                        .cold
                        .as_ref()
                        .map(|cold| cold.history.exits())
                        .unwrap_or_default(),
                    supervisor: None,
                }
            })
            .collect();
        let kind = if self.is_simple() {
            SupervisorKind::SimpleOneForOne
        } else {
            SupervisorKind::Dynamic
        };
        let snapshot = SupervisorSnapshot {
            path: self.path.clone(),
            kind,
            intensity,
            restarts_in_window: self.window.count(&self.inner.intensity, now),
            children,
        };
        (snapshot, nested)
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for (_, c) in &self.children {
            if c.running
                .as_ref()
                .is_some_and(|r| !r.child_ref().has_exited())
            {
                counts.active += 1;
            }
            match self.policy(&c.spec).kind {
                ChildKind::Worker => counts.workers += 1,
                ChildKind::Supervisor => counts.supervisors += 1,
            }
        }
        // OTP's simple_one_for_one counts its one template as the specs.
        counts.specs = if self.is_simple() {
            1
        } else {
            self.children.len()
        };
        counts
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<Option<ChildRef>, CallError> {
        if spec.id.contains('/') {
            return Err(CallError::InvalidSpec(SpecError::InvalidId {
                id: spec.id.as_str().into(),
            }));
        }
        if !self.is_simple() {
            if let Shutdown::Timeout(d) = spec.shutdown {
                if d.is_zero() {
                    return Err(CallError::InvalidSpec(SpecError::InvalidShutdown {
                        id: spec.id.as_str().into(),
                        millis: 0,
                    }));
                }
            }
            if self
                .inner
                .max_children
                .is_some_and(|max| self.children.len() >= max)
            {
                return Err(CallError::MaxChildren);
            }
        }
        let shared = (!spec.unique_id).then(|| self.ids.count(&spec.id));
        let child = DynChild {
            spec,
            attempts: 0,
            shared,
            serial: 0,
            running: None,
            cold: None,
        };
        let (not_started, result) = self.start(child).await;
        if let Some(child) = not_started {
            child.spec.start.forget();
        }
        match result {
            StartResult::Started(child_ref) => Ok(Some(child_ref)),
            StartResult::Ignored => Ok(None),
            StartResult::Failed(reason) => Err(CallError::StartFailed(reason)),
        }
    }

    /// The slot of the child whose restart is due after `previous` ran.
    fn restarting_after(&self, previous: &ChildRef) -> Option<usize> {
        self.children.iter().find_map(|(slot, c)| {
            let cold = c.cold.as_ref()?;
            (c.running.is_none() && cold.previous.as_ref() == Some(previous)).then_some(slot)
        })
    }

    async fn terminate_child(&mut self, target: &ChildRef) -> Result<(), CallError> {
        // An incarnation knows its key; the one running there must be it.
        let slot = self.slot(target.inner().serial()).filter(|&i| {
            let running = self.children[i].running.as_ref();
            running.is_some_and(|r| r.child_ref() == *target)
        });
        let Some(slot) = slot else {
            // A child whose restart is due (retried, or backing off) is
            // found by the incarnation that ran last: its retries stop and
            // it is removed (OTP 25 and Elixir 1.14 alike).
            if let Some(slot) = self.restarting_after(target) {
                self.children.remove(slot).spec.start.forget();
                return Ok(());
            }
            // OTP's simple_one_for_one answers ok for a child that is gone
            // (S24.3); Elixir's DynamicSupervisor does not (S30.6).
            return if self.is_simple() && target.has_exited() {
                Ok(())
            } else {
                Err(CallError::NotFound)
            };
        };
        let mut child = self.children.remove(slot);
        let policy = self.policy(&child.spec);
        let (shutdown, restart) = (policy.shutdown, policy.restart);
        let running = child.running.take().expect("a running child");
        let reason = running.terminate(shutdown).await;
        child.spec.start.forget();
        if !expected_at_shutdown(shutdown, restart, &reason) {
            self.reporter()
                .shutdown_error(child.path(&self.path), reason, None);
        }
        Ok(())
    }
}

impl Drop for DynCore {
    /// Dropped with children still filed (its task was dropped before it
    /// ever ran): they die with it and are forgotten.
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child's key in its messages (its exit, a retry, a backoff's end) and
/// in its incarnation: its slot, and the low half of its serial, which
/// tells a key from an earlier child of the same slot. (A slot is reused
/// only once its child is gone; a child waiting on its backoff keeps its
/// slot; and while a message waits in the inbox, the supervisor cannot
/// start 2^32 children: each start is served in turn, behind it.)
fn key(slot: usize, serial: u64) -> u64 {
    ((slot as u64) << 32) | (serial & u64::from(u32::MAX))
}

enum StartResult {
    Started(ChildRef),
    Ignored,
    Failed(ExitReason),
}
