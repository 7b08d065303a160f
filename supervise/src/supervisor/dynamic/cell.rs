//! Who holds a dynamic supervisor's state: its task, or a caller that
//! starts a child in its own task while the supervisor is idle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use crate::child::{ChildRef, ChildSpec};
use crate::error::CallError;
use crate::exit::ExitReason;

use super::core::DynCore;
use crate::supervisor::Msg;

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
    pub(super) core: std::sync::Mutex<Option<Box<DynCore>>>,
    /// The state was given back: wakes the supervisor's task when it
    /// waits for it.
    pub(super) returned: Notify,
    /// The supervisor's task waits for the state: only then is its
    /// return notified.
    pub(super) waiting: AtomicBool,
    /// The supervisor's task was dropped (it was killed): the state is
    /// dropped, with its children, rather than given back.
    pub(super) killed: AtomicBool,
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
pub(super) struct Serving {
    pub(super) cell: Arc<DynCell>,
    pub(super) done: bool,
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
pub(super) async fn serve(
    mut serving: Serving,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) -> ExitReason {
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
