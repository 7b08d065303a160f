//! The supervisor's task: OTP's `supervisor.erl` for static children.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use smol_str::SmolStr;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::{Backoff, BackoffState, PendingRestart};
use crate::child::{self, child_path, ChildPath, ChildRef, ChildSpec, Parent, Running, Start};
use crate::event::EventBus;
use crate::exit::ExitReason;
use crate::intensity::RestartWindow;
use crate::policy::{AutoShutdown, ChildKind, Intensity, Restart, Strategy};
use crate::report::Reporter;
use crate::rules::{self, expected_at_shutdown, AfterExit};
use crate::snapshot::{ChildSnapshot, ChildState, History, SupervisorKind, SupervisorSnapshot};
use crate::supervisor::CallError;

use super::builder::Attempts;
use super::{Call, ChildCounts, ChildInfo, ChildStatus, Inbox, Msg, SupervisorHandle};

/// One child spec and the state of its current incarnation.
struct Slot {
    spec: ChildSpec,
    /// Its path, joined when first needed (a report, a snapshot): most
    /// children's never is, and an incarnation joins its own when read.
    path: OnceLock<Arc<str>>,
    /// Start attempts so far (the incarnation number of the last one),
    /// shared with the spec so that it keeps counting when this supervisor
    /// itself is restarted.
    attempts: Attempts,
    /// The serial of the running incarnation, to recognise its exit.
    serial: u64,
    state: SlotState,
    backoff: BackoffState,
    history: History,
}

impl Slot {
    fn path(&self, supervisor: &str) -> Arc<str> {
        self.path
            .get_or_init(|| child_path(supervisor, &self.spec.id))
            .clone()
    }
}

enum SlotState {
    Running(Running),
    /// A restart is due (OTP's `{restarting, Pid}`): a failed restart being
    /// retried, or, with a backoff, the timer of the next attempt.
    Restarting(Option<PendingRestart>),
    /// Not running (OTP's `undefined`).
    Stopped,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Flags {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) backoff: Option<Backoff>,
    /// How many exits each child remembers.
    pub(crate) history: usize,
}

pub(crate) struct Core {
    path: Arc<str>,
    flags: Flags,
    /// In start order (OTP keeps them newest first).
    children: Vec<Slot>,
    window: RestartWindow,
    bus: Arc<EventBus>,
    tx: Inbox,
    rx: mpsc::UnboundedReceiver<Msg>,
    handle: SupervisorHandle,
    next_serial: u64,
    /// The root of its tree: when it exits, nothing will start its children
    /// again, so their handles are told they are gone.
    root: bool,
    /// The start counter of an id added with `start_child`: a spec child's
    /// own (kept by the spec across this supervisor's incarnations), or a
    /// new one.
    counter_of: CounterOf,
    /// The span its children's spans are under: the one it is made in
    /// while it starts them, then its own (see [`Core::run_in`]).
    span: tracing::Span,
}

pub(crate) type CounterOf = Box<dyn Fn(&SmolStr) -> Attempts + Send>;

impl Core {
    /// `children` in start order, and the spec's start counter of each.
    pub(crate) fn new(
        path: Arc<str>,
        flags: Flags,
        (children, counters): (&[ChildSpec], &Arc<[AtomicU64]>),
        bus: Arc<EventBus>,
        root: bool,
        counter_of: CounterOf,
    ) -> Self {
        let (tx, rx) = Inbox::new();
        let handle = SupervisorHandle::new(path.clone(), tx.clone(), &bus);
        let children = children
            .iter()
            .enumerate()
            .map(|(i, spec)| Slot {
                path: OnceLock::new(),
                spec: spec.clone(),
                attempts: Attempts::of(counters, i),
                serial: 0,
                state: SlotState::Stopped,
                backoff: BackoffState::default(),
                history: History::default(),
            })
            .collect();
        Core {
            window: RestartWindow::default(),
            path,
            flags,
            children,
            bus,
            tx,
            rx,
            handle,
            next_serial: 0,
            root,
            counter_of,
            span: tracing::Span::current(),
        }
    }

    pub(crate) fn handle(&self) -> SupervisorHandle {
        self.handle.clone()
    }

    // ===== start =====

    /// Starts every child in order (S2). On the first failure, stops the
    /// ones started, in reverse order, and fails with the child's id (S3).
    pub(crate) async fn init(&mut self) -> Result<(), ExitReason> {
        let mut i = 0;
        while i < self.children.len() {
            match self.start_slot(i).await {
                Start::Started(()) => i += 1,
                Start::Ignored => {
                    if self.children[i].spec.restart == Restart::Temporary {
                        self.forget(i);
                    } else {
                        i += 1;
                    }
                }
                Start::Failed(reason) => {
                    self.reporter()
                        .start_error(self.children[i].path(&self.path), &reason);
                    let id = self.children[i].spec.id.as_str().into();
                    self.terminate_all().await;
                    return Err(ExitReason::FailedToStartChild {
                        id,
                        reason: Box::new(reason),
                    });
                }
            }
        }
        Ok(())
    }

    async fn start_slot(&mut self, i: usize) -> Start<()> {
        self.next_serial += 1;
        let serial = self.next_serial;
        let slot = &mut self.children[i];
        let number = slot.attempts.get().fetch_add(1, Ordering::Relaxed) + 1;
        let parent = Parent {
            inbox: self.tx.clone(),
            serial,
        };
        let started = child::start(
            &slot.spec,
            match slot.path.get() {
                Some(path) => ChildPath::joined_with(path.clone(), &slot.spec.id),
                None => ChildPath::lazy(self.path.clone(), slot.spec.id.clone()),
            },
            number,
            &self.bus,
            Some(parent),
            &self.span,
        )
        .await;
        match started {
            Start::Started(running) => {
                slot.serial = serial;
                slot.state = SlotState::Running(running);
                // Only a backoff's reset reads when the child last started.
                if slot.spec.backoff_policy().or(self.flags.backoff).is_some() {
                    slot.backoff.started(Instant::now());
                }
                Start::Started(())
            }
            Start::Ignored => {
                slot.state = SlotState::Stopped;
                Start::Ignored
            }
            Start::Failed(reason) => Start::Failed(reason),
        }
    }

    // ===== the loop =====

    /// Serves the inbox in `span` until the supervisor stops; returns its
    /// exit reason. A span nobody records is not entered at every poll.
    pub(crate) fn run_in(mut self, span: tracing::Span) -> impl Future<Output = ExitReason> {
        self.span = span.clone();
        use futures_util::future::Either;
        let run = self.run();
        match span.is_disabled() {
            true => Either::Left(run),
            false => Either::Right(tracing::Instrument::instrument(run, span)),
        }
    }

    async fn run(mut self) -> ExitReason {
        let reason = loop {
            let Some(msg) = self.rx.recv().await else {
                // Unreachable while `self.tx` lives; stop cleanly anyway.
                break ExitReason::Shutdown;
            };
            let stop = match msg {
                Msg::Exited { serial, reason } => self.handle_exit(serial, reason).await,
                Msg::TryAgain { id, .. } => self.try_again(&id).await,
                Msg::BackoffElapsed { id, .. } => {
                    self.backoff_elapsed(&id).await;
                    None
                }
                Msg::Call(call) => {
                    self.handle_call(call).await;
                    None
                }
                Msg::Stop { reason } => Some(reason),
            };
            self.tx.served();
            if let Some(reason) = stop {
                break reason;
            }
        };
        self.terminate_all().await;
        if self.root {
            for slot in &self.children {
                slot.spec.start.forget();
            }
        }
        self.handle.shared.keep_inbox(self.rx);
        reason
    }

    // ===== child exits (S10) =====

    async fn handle_exit(&mut self, serial: u64, reason: ExitReason) -> Option<ExitReason> {
        // An exit from an incarnation we no longer hold (terminated on
        // purpose, or replaced) is stale: ignore it (S10.1, S18.5).
        let i = self
            .children
            .iter()
            .position(|s| s.serial == serial && matches!(s.state, SlotState::Running(_)))?;
        // One clock read for the exit and the restart it causes.
        let now = Instant::now();
        let slot = &mut self.children[i];
        if let SlotState::Running(running) = std::mem::replace(&mut slot.state, SlotState::Stopped)
        {
            slot.history.record_exit(
                self.flags.history,
                reason.clone(),
                running.inc.number(),
                now,
            );
            running.detach();
        }
        let restart = slot.spec.restart;
        let significant = slot.spec.significant;
        if rules::is_reported(restart, &reason) {
            self.reporter()
                .child_terminated(self.children[i].path(&self.path), &reason);
        }
        match rules::after_exit(restart, &reason) {
            AfterExit::Forget => {
                self.forget(i);
                self.auto_shutdown(significant)
            }
            AfterExit::Keep => self.auto_shutdown(significant),
            AfterExit::Restart => self.restart(i, now).await,
        }
    }

    /// S22: a significant child exited and will not be restarted.
    fn auto_shutdown(&self, significant: bool) -> Option<ExitReason> {
        if !significant {
            return None;
        }
        let left = self
            .children
            .iter()
            .any(|s| s.spec.significant && matches!(s.state, SlotState::Running(_)));
        rules::auto_shutdown_fires(self.flags.auto_shutdown, significant, left)
            .then_some(ExitReason::Shutdown)
    }

    /// Counts a restart (S15); gives up when the intensity is exceeded (S16).
    fn add_restart(&mut self, i: usize, now: Instant) -> Option<ExitReason> {
        if self.window.add(&self.flags.intensity, now) {
            return None;
        }
        self.reporter()
            .gave_up(self.children[i].path(&self.path), &self.flags.intensity);
        self.handle.shared.mark_gave_up();
        self.children[i].state = SlotState::Stopped;
        Some(ExitReason::Shutdown)
    }

    /// OTP's `restart/2`: count the restart, then restart by strategy, at
    /// once or after the child's backoff.
    async fn restart(&mut self, i: usize, now: Instant) -> Option<ExitReason> {
        if let Some(give_up) = self.add_restart(i, now) {
            return Some(give_up);
        }
        let intensity = self.flags.intensity;
        self.children[i].history.record_restart(&intensity, now);
        self.reporter()
            .restarting(self.children[i].path(&self.path), false);
        if let Some(backoff) = self.children[i]
            .spec
            .backoff_policy()
            .or(self.flags.backoff)
        {
            let delay = self.children[i].backoff.next_delay(&backoff, now);
            if !delay.is_zero() {
                self.restart_later(i, delay).await;
                return None;
            }
        }
        self.restart_now(i).await;
        None
    }

    async fn restart_now(&mut self, i: usize) {
        match self.flags.strategy {
            Strategy::OneForOne => match self.start_slot(i).await {
                Start::Started(()) => {}
                Start::Ignored => {} // S5.4: left not running, no retry
                Start::Failed(reason) => self.retry_later(i, &reason),
            },
            Strategy::OneForAll => self.restart_from(0).await,
            Strategy::RestForOne => self.restart_from(i).await,
        }
    }

    /// Backoff: stop the group now (its members are down while the failed
    /// child waits), and start it when the timer fires.
    async fn restart_later(&mut self, i: usize, delay: std::time::Duration) {
        let id = self.children[i].spec.id.clone();
        match self.flags.strategy {
            Strategy::OneForOne => {}
            Strategy::OneForAll => self.stop_from(0).await,
            Strategy::RestForOne => self.stop_from(i).await,
        }
        let Some(i) = self.find(&id) else {
            return;
        };
        let tx = self.tx.clone();
        let fire_id = id.clone();
        let pending = PendingRestart::schedule(delay, move || {
            let _ = tx.send(Msg::BackoffElapsed {
                id: fire_id,
                key: 0,
            });
        });
        crate::report::observe(|| {
            tracing::debug!(supervisor = %self.path, child = %self.children[i].path(&self.path), ?delay, "restart backing off");
        });
        self.children[i].state = SlotState::Restarting(Some(pending));
    }

    async fn backoff_elapsed(&mut self, id: &str) {
        let Some(i) = self
            .children
            .iter()
            .position(|s| &*s.spec.id == id && matches!(s.state, SlotState::Restarting(Some(_))))
        else {
            return; // cancelled by terminate_child, or superseded
        };
        self.children[i].state = SlotState::Restarting(None);
        self.restart_now(i).await;
    }

    /// Group restart: stop the children from `from` on in reverse order
    /// (dropping temporary ones), then start them in order (S12, S13). A
    /// failure leaves the ones started running and retries later (S17.4).
    async fn restart_from(&mut self, from: usize) {
        self.stop_from(from).await;
        let mut j = from;
        while j < self.children.len() {
            match self.start_slot(j).await {
                Start::Started(()) | Start::Ignored => j += 1,
                Start::Failed(reason) => {
                    self.retry_later(j, &reason);
                    return;
                }
            }
        }
    }

    async fn stop_from(&mut self, from: usize) {
        let mut j = self.children.len();
        while j > from {
            j -= 1;
            if matches!(self.children[j].state, SlotState::Running(_)) {
                self.terminate_slot(j).await;
            }
            if self.children[j].spec.restart == Restart::Temporary {
                self.forget(j);
            }
        }
    }

    /// S17: mark the child restarting and queue a retry behind whatever is
    /// already in the inbox.
    fn retry_later(&mut self, i: usize, reason: &ExitReason) {
        self.reporter()
            .start_error(self.children[i].path(&self.path), reason);
        self.children[i].state = SlotState::Restarting(None);
        let _ = self.tx.send(Msg::TryAgain {
            id: self.children[i].spec.id.clone(),
            key: 0,
        });
    }

    async fn try_again(&mut self, id: &str) -> Option<ExitReason> {
        let i = self
            .children
            .iter()
            .position(|s| &*s.spec.id == id && matches!(s.state, SlotState::Restarting(None)))?;
        self.restart(i, Instant::now()).await
    }

    // ===== stopping children (S18-S20) =====

    /// Stops the child at `i` by its shutdown policy and reports an
    /// unexpected exit reason as a shutdown error (S19).
    async fn terminate_slot(&mut self, i: usize) {
        self.stop_slot(i, true).await
    }

    /// [`terminate_slot`](Self::terminate_slot); `remember` keeps the exit
    /// in the child's history (pointless when the supervisor is going away).
    async fn stop_slot(&mut self, i: usize, remember: bool) {
        let slot = &mut self.children[i];
        let SlotState::Running(running) = std::mem::replace(&mut slot.state, SlotState::Stopped)
        else {
            return;
        };
        let shutdown = slot.spec.shutdown;
        let incarnation = running.inc.number();
        let reason = running.terminate(shutdown).await;
        if remember {
            slot.history.record_exit(
                self.flags.history,
                reason.clone(),
                incarnation,
                Instant::now(),
            );
        }
        if !expected_at_shutdown(shutdown, slot.spec.restart, &reason) {
            let child = slot.path(&self.path);
            self.reporter().shutdown_error(child, reason, None);
        }
    }

    /// Stops every running child, in reverse start order, one at a time:
    /// the supervisor is going away.
    async fn terminate_all(&mut self) {
        for i in (0..self.children.len()).rev() {
            self.stop_slot(i, false).await;
        }
    }

    // ===== reports =====

    fn reporter(&self) -> Reporter<'_> {
        Reporter {
            supervisor: &self.path,
            bus: &self.bus,
        }
    }

    // ===== control calls (S23-S27) =====

    /// Removes the child at `i` for good: its handles answer "not found".
    fn forget(&mut self, i: usize) {
        let slot = self.children.remove(i);
        slot.spec.start.forget();
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|s| &*s.spec.id == id)
    }

    async fn handle_call(&mut self, call: Call) {
        match call {
            Call::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Call::WhichChildren(reply) => {
                let _ = reply.send(self.which_children());
            }
            Call::CountChildren(reply) => {
                let _ = reply.send(self.count_children());
            }
            Call::GetChildspec(id, reply) => {
                let found = self.find(&id).map(|i| self.children[i].spec.info());
                let _ = reply.send(found.ok_or(CallError::NotFound));
            }
            Call::StartChild(spec, reply) => {
                let result = self.start_child(spec).await;
                let _ = reply.send(result);
            }
            Call::TerminateChild(id, reply) => {
                let result = self.terminate_child(&id).await;
                let _ = reply.send(result);
            }
            Call::RestartChild(id, reply) => {
                let result = self.restart_child(&id).await;
                let _ = reply.send(result);
            }
            Call::DeleteChild(id, reply) => {
                let _ = reply.send(self.delete_child(&id));
            }
            // A static supervisor looks a reference up as an id: there is
            // none (S24.4).
            Call::TerminateChildRef(_, reply) => {
                let _ = reply.send(Err(CallError::NotFound));
            }
            Call::GetChildspecRef(_, reply) => {
                let _ = reply.send(Err(CallError::NotFound));
            }
        }
    }

    fn snapshot(&self) -> super::LocalSnapshot {
        let now = Instant::now();
        let intensity = self.flags.intensity;
        let mut nested = Vec::with_capacity(self.children.len());
        let children = self
            .children
            .iter()
            .map(|s| {
                let (state, handle) = match &s.state {
                    SlotState::Running(r) => (ChildState::Running, r.child_ref().supervisor()),
                    SlotState::Restarting(Some(p)) => {
                        (ChildState::BackingOff { until: p.until }, None)
                    }
                    SlotState::Restarting(None) => (ChildState::Restarting, None),
                    SlotState::Stopped => (ChildState::Stopped, None),
                };
                nested.push(handle);
                ChildSnapshot {
                    id: s.spec.id.as_str().into(),
                    path: s.path(&self.path),
                    kind: s.spec.kind,
                    restart: s.spec.restart,
                    state,
                    incarnation: s.attempts.get().load(Ordering::Relaxed),
                    restarts_in_window: s.history.restarts_in_window(&intensity, now),
                    history: s.history.exits(),
                    supervisor: None,
                }
            })
            .collect();
        let snapshot = SupervisorSnapshot {
            path: self.path.clone(),
            kind: SupervisorKind::Static(self.flags.strategy),
            intensity,
            restarts_in_window: self.window.count(&self.flags.intensity, now),
            children,
        };
        (snapshot, nested)
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .rev()
            .map(|s| ChildInfo {
                id: Some(s.spec.id.as_str().into()),
                status: match &s.state {
                    SlotState::Running(r) => ChildStatus::Running(r.child_ref()),
                    SlotState::Restarting(_) => ChildStatus::Restarting,
                    SlotState::Stopped => ChildStatus::Undefined,
                },
                kind: s.spec.kind,
            })
            .collect()
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts {
            specs: self.children.len(),
            ..ChildCounts::default()
        };
        for s in &self.children {
            if let SlotState::Running(r) = &s.state {
                if !r.child_ref().has_exited() {
                    counts.active += 1;
                }
            }
            match s.spec.kind {
                ChildKind::Worker => counts.workers += 1,
                ChildKind::Supervisor => counts.supervisors += 1,
            }
        }
        counts
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<Option<ChildRef>, CallError> {
        spec.check(Some(self.flags.auto_shutdown))
            .map_err(CallError::InvalidSpec)?;
        if let Some(i) = self.find(&spec.id) {
            return Err(match &self.children[i].state {
                SlotState::Running(r) => CallError::AlreadyStarted(r.child_ref()),
                _ => CallError::AlreadyPresent,
            });
        }
        self.children.push(Slot {
            path: OnceLock::new(),
            attempts: (self.counter_of)(&spec.id),
            spec,
            serial: 0,
            state: SlotState::Stopped,
            backoff: BackoffState::default(),
            history: History::default(),
        });
        let i = self.children.len() - 1;
        match self.start_slot(i).await {
            Start::Started(()) => Ok(Some(self.running_ref(i))),
            Start::Ignored => {
                if self.children[i].spec.restart == Restart::Temporary {
                    self.forget(i);
                }
                Ok(None)
            }
            Start::Failed(reason) => {
                self.forget(i);
                Err(CallError::StartFailed(reason))
            }
        }
    }

    fn running_ref(&self, i: usize) -> ChildRef {
        match &self.children[i].state {
            SlotState::Running(r) => r.child_ref(),
            _ => unreachable!("the child was just started"),
        }
    }

    async fn terminate_child(&mut self, id: &str) -> Result<(), CallError> {
        let i = self.find(id).ok_or(CallError::NotFound)?;
        self.terminate_slot(i).await;
        if self.children[i].spec.restart == Restart::Temporary {
            self.forget(i);
        } else {
            self.children[i].state = SlotState::Stopped;
        }
        Ok(())
    }

    async fn restart_child(&mut self, id: &str) -> Result<Option<ChildRef>, CallError> {
        let i = self.find(id).ok_or(CallError::NotFound)?;
        match self.children[i].state {
            SlotState::Running(_) => return Err(CallError::Running),
            SlotState::Restarting(_) => return Err(CallError::Restarting),
            SlotState::Stopped => {}
        }
        match self.start_slot(i).await {
            Start::Started(()) => Ok(Some(self.running_ref(i))),
            Start::Ignored => Ok(None),
            Start::Failed(reason) => Err(CallError::StartFailed(reason)),
        }
    }

    fn delete_child(&mut self, id: &str) -> Result<(), CallError> {
        let i = self.find(id).ok_or(CallError::NotFound)?;
        match self.children[i].state {
            SlotState::Running(_) => Err(CallError::Running),
            SlotState::Restarting(_) => Err(CallError::Restarting),
            SlotState::Stopped => {
                self.forget(i);
                Ok(())
            }
        }
    }
}
