//! A started child as its supervisor holds it: stopping it by its shutdown
//! policy, and what becomes of it when its supervisor dies first.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::exit::ExitReason;
use crate::policy::Shutdown;

use super::incarnation::STOP_KILLED;
use super::start::Stopper;
use super::{ChildRef, Incarnation, KILL_GRACE};

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
    pub(super) join: Option<JoinHandle<ExitReason>>,
    pub(super) stop: Stopper,
    /// Its shutdown policy, for when its supervisor dies without stopping it.
    pub(super) shutdown: Shutdown,
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
        self.wait_after_turn().await
    }

    /// Waits for children that were all aborted by
    /// [`begin_stop`](Self::begin_stop), as [`finish_stop`](Self::finish_stop)
    /// would for each, but with one turn for all of them rather than a
    /// future each: those done after it are collected in place, the rest
    /// (tasks that block their thread) wait out [`KILL_GRACE`] together.
    /// Their exit reasons, in their order.
    pub(crate) async fn finish_aborted(mut children: Vec<Running>) -> Vec<ExitReason> {
        let finished = |c: &Running| c.join.as_ref().is_none_or(|j| j.is_finished());
        if !children.iter().all(finished) {
            requeue().await;
        }
        let mut reasons = Vec::with_capacity(children.len());
        let (mut late, mut waits) = (Vec::new(), Vec::new());
        for (i, child) in children.iter_mut().enumerate() {
            if finished(child) {
                reasons.push(child.join().await);
            } else {
                // Its place, filled once the late ones are waited for.
                reasons.push(ExitReason::Killed);
                late.push(i);
                waits.push(child.wait_after_turn());
            }
        }
        for (i, reason) in late
            .into_iter()
            .zip(futures_util::future::join_all(waits).await)
        {
            reasons[i] = reason;
        }
        reasons
    }

    /// The end of [`wait`](Self::wait) for an aborted task that is still
    /// running after its turn.
    async fn wait_after_turn(&mut self) -> ExitReason {
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
        // An aborted child has no deadline: no clock read for it.
        let deadline = if aborted {
            None
        } else {
            shutdown.deadline(tokio::time::Instant::now())
        };
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
