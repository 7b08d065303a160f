//! A supervisor's reports (OTP's `?report_error` and its progress
//! reports): each one writes its `tracing` event, its metric and its typed
//! [`Event`], the same for the static and the dynamic engine.
//!
//! Observers are other people's code: a `tracing` layer, the `Display` of
//! a worker's error, a metrics recorder. None of them may change what a
//! supervisor decides, so each runs through [`observe`], which catches a
//! panic and drops it: the supervisor carries on exactly as if the report
//! had been written, and the typed event (the crate's own code, outside
//! `observe`) is emitted whatever the others did.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::event::{Event, EventBus};
use crate::exit::ExitReason;
use crate::policy::Intensity;

/// Runs an observer; a panic in it is caught and dropped (the panic hook
/// has shown it already).
pub(crate) fn observe(report: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(report));
}

/// Makes a span; one whose creation panicked (in a layer's `on_new_span`)
/// is none, and the child or supervisor runs without it.
pub(crate) fn span(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    catch_unwind(AssertUnwindSafe(make)).unwrap_or_else(|_| tracing::Span::none())
}

/// The reports of one supervisor.
pub(crate) struct Reporter<'a> {
    pub(crate) supervisor: &'a Arc<str>,
    pub(crate) bus: &'a EventBus,
}

impl Reporter<'_> {
    /// A child exited and the supervisor reports it (S12's
    /// `child_terminated`).
    pub(crate) fn child_terminated(&self, child: Arc<str>, reason: &ExitReason) {
        observe(|| {
            tracing::warn!(supervisor = %self.supervisor, child = %child, %reason, "child terminated");
        });
        self.bus.emit(|| Event::ChildTerminated {
            supervisor: self.supervisor.clone(),
            child,
            reason: reason.clone(),
        });
    }

    /// A restart was decided (counted in the window). The metric counts a
    /// dynamic supervisor's children together (`supervisor/*`).
    pub(crate) fn restarting(&self, child: Arc<str>, dynamic: bool) {
        observe(|| {
            if dynamic {
                crate::metrics::dynamic_restart(self.supervisor);
            } else {
                crate::metrics::restart(&child);
            }
        });
        self.bus.emit(|| Event::Restarting {
            supervisor: self.supervisor.clone(),
            child,
        });
    }

    /// A restart failed to start the child (`start_error`).
    pub(crate) fn start_error(&self, child: Arc<str>, reason: &ExitReason) {
        observe(|| {
            tracing::error!(supervisor = %self.supervisor, child = %child, %reason, "child failed to start");
        });
        self.bus.emit(|| Event::StartError {
            supervisor: self.supervisor.clone(),
            child,
            reason: reason.clone(),
        });
    }

    /// The restart intensity was exceeded: the supervisor gives up (S16).
    pub(crate) fn gave_up(&self, child: Arc<str>, intensity: &Intensity) {
        observe(|| {
            tracing::error!(
                supervisor = %self.supervisor,
                child = %child,
                max_restarts = intensity.max_restarts,
                period = ?intensity.period,
                "reached max restart intensity; shutting down"
            );
        });
        observe(|| crate::metrics::give_up(self.supervisor));
        self.bus.emit(|| Event::GaveUp {
            supervisor: self.supervisor.clone(),
            child,
        });
    }

    /// A child ended with an unexpected reason when it was stopped (S19's
    /// `shutdown_error`); `children` counts the dynamic children a line
    /// stands for.
    pub(crate) fn shutdown_error(
        &self,
        child: Arc<str>,
        reason: ExitReason,
        children: Option<usize>,
    ) {
        observe(|| {
            tracing::error!(supervisor = %self.supervisor, child = %child, %reason, "shutdown error");
        });
        observe(|| crate::metrics::shutdown_error(self.supervisor));
        self.bus.emit(|| Event::ShutdownError {
            supervisor: self.supervisor.clone(),
            child,
            reason,
            children,
        });
    }
}
