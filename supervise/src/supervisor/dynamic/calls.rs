//! The control calls a dynamic supervisor serves.

use tokio::time::Instant;

use crate::child::{ChildRef, ChildSpec};
use crate::error::SpecError;
use crate::policy::{ChildKind, Shutdown};
use crate::snapshot::{ChildSnapshot, ChildState, SupervisorKind, SupervisorSnapshot};
use crate::supervisor::CallError;

use super::core::{DynChild, DynCore};
use crate::child::Start;
use crate::supervisor::{Call, ChildCounts, ChildInfo, ChildStatus};

impl DynCore {
    // ===== control calls =====

    pub(super) async fn handle_call(&mut self, call: Call) {
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
            Call::GetChildspecRef(child, reply) => {
                let _ = reply.send(self.childspec_of(&child));
            }
            Call::StartChild(spec, reply) => {
                let result = self.start_child(spec).await;
                let _ = reply.send(result);
            }
            Call::TerminateChildRef(child, reply) => {
                let result = self.terminate_child(&child).await;
                let _ = reply.send(result);
            }
            // OTP's simple_one_for_one refuses an id; Elixir's
            // DynamicSupervisor looks it up among its children (by pid) and
            // does not find it (S24.3, S30.6).
            Call::TerminateChild(_, reply) => {
                let _ = reply.send(Err(if self.is_simple() {
                    CallError::SimpleOneForOne
                } else {
                    CallError::NotFound
                }));
            }
            Call::DeleteChild(_, reply) => {
                let _ = reply.send(Err(CallError::SimpleOneForOne));
            }
            Call::RestartChild(_, reply) => {
                let _ = reply.send(Err(CallError::SimpleOneForOne));
            }
        }
    }

    pub(super) fn snapshot(&self) -> crate::supervisor::LocalSnapshot {
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

    pub(super) fn count_children(&self) -> ChildCounts {
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

    pub(super) async fn start_child(
        &mut self,
        spec: ChildSpec,
    ) -> Result<Option<ChildRef>, CallError> {
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
            Start::Started(child_ref) => Ok(Some(child_ref)),
            Start::Ignored => Ok(None),
            Start::Failed(reason) => Err(CallError::StartFailed(reason)),
        }
    }

    /// The spec of the child `target` names (OTP's `get_childspec` with a
    /// pid): its policy, the template's under `simple_one_for_one`, whose
    /// `find_child` also answers with the template for a pid that is no
    /// longer alive (L1151-1165, as `terminate_child` does, S24.3).
    fn childspec_of(&self, target: &ChildRef) -> Result<crate::ChildSpecInfo, CallError> {
        let running = self.slot(target.inner().serial()).filter(|&i| {
            let running = self.children[i].running.as_ref();
            running.is_some_and(|r| r.child_ref() == *target)
        });
        match running.or_else(|| self.restarting_after(target)) {
            Some(slot) => Ok(self.policy(&self.children[slot].spec).info()),
            None => match &self.inner.template {
                Some(template) if target.has_exited() => Ok(template.info()),
                _ => Err(CallError::NotFound),
            },
        }
    }

    /// The slot of the child whose restart is due after `previous` ran.
    pub(super) fn restarting_after(&self, previous: &ChildRef) -> Option<usize> {
        self.children.iter().find_map(|(slot, c)| {
            let cold = c.cold.as_ref()?;
            (c.running.is_none() && cold.previous.as_ref() == Some(previous)).then_some(slot)
        })
    }

    pub(super) async fn terminate_child(&mut self, target: &ChildRef) -> Result<(), CallError> {
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
        if !self.expected_at_shutdown()(shutdown, restart, &reason) {
            self.reporter()
                .shutdown_error(child.path(&self.path), reason, None);
        }
        Ok(())
    }
}
