//! Who holds a dynamic supervisor's state: its task, or a caller that
//! starts a child in its own task while the supervisor is idle.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::child::{ChildRef, ChildSpec};
use crate::exit::ExitReason;
use crate::supervisor::CallError;
use crate::sync::HandOver;

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
/// Whoever holds the state owns it (it is moved out and back, see
/// [`HandOver`] for the protocol and its model), so that holding it across
/// the child's init needs no lock guard kept over an `.await`.
pub(crate) struct DynCell {
    pub(super) state: HandOver<DynCore>,
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
    pub(super) fn new(core: DynCore) -> Self {
        DynCell {
            state: HandOver::new(Box::new(core)),
        }
    }

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
        let Some(mut held) = self.state.try_hold() else {
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
        if self.state.is_killed() {
            // Killed meanwhile: the child dies with it when `held` goes.
            return Ok(Err(CallError::Exited(ExitReason::Killed)));
        }
        Ok(result)
    }
}

/// What the supervisor's task owns: its state, killed with the task
/// unless the task ends by itself.
pub(super) struct Serving {
    pub(super) cell: Arc<DynCell>,
    pub(super) done: bool,
}

impl Drop for Serving {
    /// The supervisor's task was dropped (it was killed): its children die
    /// with its state, now or when a caller holding it lets it go.
    fn drop(&mut self) {
        if !self.done {
            self.cell.state.kill();
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
        let mut core = cell.state.hold().await;
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
