//! A dynamic supervisor's state and what it does by itself: start its
//! children, handle their exits, restart them, stop them all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use slab::Slab;
use smol_str::SmolStr;
use tokio::time::Instant;

use crate::backoff::{BackoffState, PendingRestart};
use crate::child::{self, child_path, ChildPath, ChildRef, ChildSpec, Parent, Running, Start};
use crate::event::EventBus;
use crate::exit::ExitReason;
use crate::intensity::RestartWindow;
use crate::report::Reporter;
use crate::rules::{self, AfterExit};
use crate::snapshot::{History, DEFAULT_HISTORY};

use super::spec::DynInner;
use crate::supervisor::{Inbox, Msg, SupervisorHandle};

// ===== the task =====

pub(super) struct DynChild {
    pub(super) spec: ChildSpec,
    pub(super) attempts: u64,
    /// The start count it shares with the other children of its id, when
    /// its id is not unique by construction: its `attempts` follow it.
    pub(super) shared: Option<Arc<AtomicU64>>,
    /// Serial of the current incarnation, or of the failed attempt.
    pub(super) serial: u64,
    /// `None` while a restart is due (retried, or waiting on its backoff).
    pub(super) running: Option<Running>,
    /// What a child needs only once it has exited or restarted: allocated
    /// then, so that an idle child's record stays small.
    pub(super) cold: Option<Box<Cold>>,
}

#[derive(Default)]
pub(super) struct Cold {
    /// The incarnation that ran last, while a restart is due (retried or
    /// backing off): `terminate_child` finds the child by it, as OTP's
    /// `{restarting, OldPid}` record is found.
    pub(super) previous: Option<ChildRef>,
    /// The timer of a restart that waits on its backoff.
    pub(super) pending: Option<PendingRestart>,
    pub(super) backoff: BackoffState,
    pub(super) history: History,
}

impl DynChild {
    /// Its path under `supervisor`, joined when something reads it (an
    /// event, a trace, a snapshot): a record does not keep it.
    pub(super) fn path(&self, supervisor: &str) -> Arc<str> {
        child_path(supervisor, &self.spec.id)
    }

    pub(super) fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    pub(super) fn pending(&self) -> Option<&PendingRestart> {
        self.cold.as_ref().and_then(|c| c.pending.as_ref())
    }
}

/// A dynamic supervisor's state. Whoever holds it is the supervisor for
/// that time: its task, serving a message, or a caller starting a child
/// while the supervisor is idle (see [`DynCell`]).
pub(super) struct DynCore {
    pub(super) path: Arc<str>,
    pub(super) inner: Arc<DynInner>,
    /// In slots that are reused once their child is gone; a child's
    /// messages name it by [`key`].
    pub(super) children: Slab<DynChild>,
    pub(super) window: RestartWindow,
    pub(super) bus: Arc<EventBus>,
    pub(super) tx: Inbox,
    pub(super) handle: SupervisorHandle,
    /// Its span, which its children's spans are under wherever they
    /// start.
    pub(super) span: tracing::Span,
    pub(super) next_serial: u64,
    /// It has stopped serving: it is shutting down, or was killed.
    pub(super) stopped: bool,
    /// The start count shared by the children of one id, for ids that
    /// several children may have at once (see [`SharedIds`]).
    pub(super) ids: SharedIds,
}

/// Start counts shared by the children of one id. Several children of a
/// dynamic supervisor may share an id (Elixir's `DynamicSupervisor` starts
/// a second child under a name that is running); their incarnations are
/// numbered by one count per id, as OTP numbers per path, so that a number
/// names one incarnation among all of that path's. An id's count lives as
/// long as one of its children does: the map keeps it weakly, and drops
/// the dead entries once it has doubled in size.
#[derive(Default)]
pub(super) struct SharedIds {
    counts: HashMap<SmolStr, Weak<AtomicU64>>,
    purge_at: usize,
}

impl SharedIds {
    /// The count of `id`'s children, new if none lives.
    pub(super) fn count(&mut self, id: &SmolStr) -> Arc<AtomicU64> {
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

impl DynCore {
    pub(super) fn new(
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

    pub(super) fn is_simple(&self) -> bool {
        self.inner.template.is_some()
    }

    /// The child's policy: the template's for `simple_one_for_one`.
    pub(super) fn policy<'a>(&'a self, spec: &'a ChildSpec) -> &'a ChildSpec {
        self.inner.template.as_ref().unwrap_or(spec)
    }

    /// Serves one message; returns the reason to stop with, if it is time.
    pub(super) async fn serve(&mut self, msg: Msg) -> Option<ExitReason> {
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
    pub(super) fn kill(&mut self) {
        self.stopped = true;
        for child in self.children.drain() {
            child.spec.start.forget();
        }
    }

    /// The slot of the child that `key` names, if it is still there.
    pub(super) fn slot(&self, key: u64) -> Option<usize> {
        let (slot, low) = ((key >> 32) as usize, key as u32);
        self.children
            .get(slot)
            .is_some_and(|c| c.serial as u32 == low)
            .then_some(slot)
    }

    /// Files `child` in a slot; returns its key.
    pub(super) fn file(&mut self, child: DynChild) -> u64 {
        let serial = child.serial;
        key(self.children.insert(child), serial)
    }

    /// Starts one incarnation of `child` and files it under its new serial.
    /// Returns the outcome; a child that did not start is handed back.
    pub(super) async fn start(
        &mut self,
        mut child: DynChild,
    ) -> (Option<DynChild>, Start<ChildRef>) {
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
            Start::Started(running) => {
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
                (None, Start::Started(child_ref))
            }
            Start::Ignored => (Some(child), Start::Ignored),
            Start::Failed(reason) => (Some(child), Start::Failed(reason)),
        }
    }

    // ===== exits =====

    pub(super) async fn handle_exit(&mut self, key: u64, reason: ExitReason) -> Option<ExitReason> {
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
        if rules::is_reported(restart, &reason) {
            self.reporter()
                .child_terminated(child.path(&self.path), &reason);
        }
        if rules::after_exit(restart, &reason) != AfterExit::Restart {
            // A dynamic supervisor keeps no spec of a child it will not
            // restart.
            running.detach();
            child.spec.start.forget();
            return self.auto_shutdown(significant);
        }
        child.cold().previous = Some(running.child_ref());
        running.detach();
        self.restart(child, now).await
    }

    /// S19, by flavour: OTP's rule for `simple_one_for_one`, Elixir's
    /// `DynamicSupervisor`'s otherwise (they differ: see
    /// `rules::expected_at_elixir_shutdown`).
    pub(super) fn expected_at_shutdown(
        &self,
    ) -> fn(crate::Shutdown, crate::Restart, &ExitReason) -> bool {
        if self.is_simple() {
            rules::expected_at_shutdown
        } else {
            rules::expected_at_elixir_shutdown
        }
    }

    /// S22: a significant child exited and will not be restarted. Only a
    /// template's children can be significant, so all of them are.
    pub(super) fn auto_shutdown(&self, significant: bool) -> Option<ExitReason> {
        let left = !self.children.is_empty();
        rules::auto_shutdown_fires(self.inner.auto_shutdown, significant, left)
            .then_some(ExitReason::Shutdown)
    }

    /// Counts the restart and starts the child again; a failure is retried
    /// through the inbox (S17), an ignore drops the child (S30.5).
    pub(super) async fn restart(&mut self, child: DynChild, now: Instant) -> Option<ExitReason> {
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
    pub(super) async fn start_again(&mut self, child: DynChild) {
        let (child, result) = self.start(child).await;
        let Some(failed) = child else {
            return;
        };
        if let Start::Failed(reason) = result {
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
    pub(super) async fn terminate_all(&mut self) {
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
        let expected = self.expected_at_shutdown();
        // The aborted ones (most often all of them) are waited for as one
        // set, without a future each (see `Running::finish_aborted`).
        let mut stopping = Vec::new();
        let (mut aborted, mut aborted_at) = (Vec::new(), Vec::new());
        for (at, &slot) in order.iter().enumerate() {
            let policy = self.policy(&self.children[slot].spec);
            let (shutdown, restart) = (policy.shutdown, policy.restart);
            let Some(running) = self.children[slot].running.take() else {
                continue;
            };
            if running.begin_stop(shutdown) {
                aborted.push(running);
                aborted_at.push((at, slot, shutdown, restart));
                continue;
            }
            let deadline = shutdown.deadline(now);
            stopping.push(async move {
                let reason = running.finish_stop(false, shutdown, deadline).await;
                ((at, slot, shutdown, restart), reason)
            });
        }
        // Outside tokio's coop budget: under it, once the budget is spent
        // every child's join handle answers "not yet" and `join_all` polls
        // its whole set again, about n²/128 polls for n children (W2's
        // 100,000: 3 s instead of 60 ms).
        let (aborted, stopped) = tokio::task::unconstrained(futures_util::future::join(
            Running::finish_aborted(aborted),
            futures_util::future::join_all(stopping),
        ))
        .await;
        // Reported in start order, as the children were stopped.
        let mut failed: Vec<(usize, usize, ExitReason)> = aborted_at
            .into_iter()
            .zip(aborted)
            .chain(stopped)
            .filter(|((_, _, shutdown, restart), reason)| !expected(*shutdown, *restart, reason))
            .map(|((at, slot, _, _), reason)| (at, slot, reason))
            .collect();
        failed.sort_unstable_by_key(|&(at, ..)| at);
        let errors: Vec<(Arc<str>, ExitReason)> = failed
            .into_iter()
            .map(|(_, slot, reason)| (self.children[slot].path(&self.path), reason))
            .collect();
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

    pub(super) fn reporter(&self) -> Reporter<'_> {
        Reporter {
            supervisor: &self.path,
            bus: &self.bus,
        }
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
pub(super) fn key(slot: usize, serial: u64) -> u64 {
    ((slot as u64) << 32) | (serial & u64::from(u32::MAX))
}
