//! Running a tree as a service: until SIGINT or SIGTERM, then a graceful
//! shutdown, and an exit code for the supervisor above the process
//! (systemd, Kubernetes).

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use crate::error::StartError;
use crate::exit::ExitReason;
use crate::supervisor::SupervisorHandle;

/// How [`run_until_signal`] ended, and the process exit code for it.
///
/// | outcome | code |
/// |---|---|
/// | `Stopped`: a signal came and the tree shut down cleanly, or the root stopped by itself with reason `shutdown` (its significant children finished) | 0 |
/// | `GaveUp`: the root exceeded its restart intensity, or exited abnormally (before or during its shutdown) | 1 |
/// | `StartFailed`: the tree could not start | 2 |
/// | `DeadlineExceeded`: the tree did not stop within the overall deadline | 3 |
/// | `Forced`: a second signal came during the shutdown | 130 |
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServiceExit {
    /// A clean stop.
    Stopped,
    /// The root gave up or died; its exit reason.
    GaveUp(ExitReason),
    /// The tree failed to start.
    StartFailed(StartError),
    /// The graceful shutdown ran past the overall deadline.
    DeadlineExceeded,
    /// A second signal interrupted the graceful shutdown.
    Forced,
}

impl ServiceExit {
    /// The process exit code (see the table above).
    pub fn code(&self) -> u8 {
        match self {
            ServiceExit::Stopped => 0,
            ServiceExit::GaveUp(_) => 1,
            ServiceExit::StartFailed(_) => 2,
            ServiceExit::DeadlineExceeded => 3,
            ServiceExit::Forced => 130,
        }
    }
}

impl From<ServiceExit> for ExitCode {
    fn from(exit: ServiceExit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// Options of [`run_until_signal`].
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// The most the whole graceful shutdown may take; `None` lets each
    /// child take its own shutdown timeout, however long the sum is.
    pub shutdown_deadline: Option<Duration>,
}

/// SIGTERM and SIGINT, listened to from the moment this is made (a
/// signal that arrives before it is first awaited is not lost).
#[derive(Debug)]
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                _ => None,
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// The next signal.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((term, int)) = &mut self.streams {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs a started tree until SIGINT or SIGTERM, then stops it gracefully
/// (children in reverse order, each within its shutdown timeout, the whole
/// within the optional deadline); a second signal ends the wait at once.
/// If the root stops by itself first, that is the outcome.
///
/// # Examples
///
/// ```no_run
/// use std::process::ExitCode;
/// use supervise::{run_until_signal, ServiceOptions, Supervisor};
///
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     let root = match Supervisor::builder("app").build().unwrap().start().await {
///         Ok(root) => root,
///         Err(e) => return supervise::ServiceExit::StartFailed(e).into(),
///     };
///     run_until_signal(&root, ServiceOptions::default()).await.into()
/// }
/// ```
///
/// The signal handlers are installed when this is called, not when the
/// future is first polled: call it before announcing readiness.
///
/// # Cancel safety
///
/// Dropping the future leaves the tree running.
pub fn run_until_signal(
    root: &SupervisorHandle,
    options: ServiceOptions,
) -> impl Future<Output = ServiceExit> + '_ {
    // Installed now, not when first polled: a signal sent right after the
    // caller announced readiness is not lost.
    ServiceSignals::install().run(root, options)
}

/// SIGTERM and SIGINT handlers installed before the tree starts, for a
/// service that must not die of a signal that arrives during its start
/// (opt-in: without it, the process keeps the default action until
/// [`run_until_signal`] is called).
///
/// A signal during [`start`](Self::start) lets the start finish (each
/// child's init is bounded by the worker), then stops what started in
/// reverse order, as any shutdown does; a second one during the start
/// drops it (the children started so far are killed) and ends with
/// [`ServiceExit::Forced`].
///
/// # Examples
///
/// ```no_run
/// use std::process::ExitCode;
/// use supervise::{ServiceOptions, ServiceSignals, Supervisor};
///
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     let mut signals = ServiceSignals::install();
///     let spec = Supervisor::builder("app").build().unwrap();
///     let root = match signals.start(spec.start()).await {
///         Ok(root) => root,
///         Err(exit) => return exit.into(),
///     };
///     signals.run(&root, ServiceOptions::default()).await.into()
/// }
/// ```
#[derive(Debug)]
pub struct ServiceSignals {
    signals: Signals,
    /// A signal came during the start.
    received: bool,
}

impl ServiceSignals {
    /// Installs the SIGTERM and SIGINT handlers now: from here on, those
    /// signals no longer end the process, they stop the tree.
    pub fn install() -> Self {
        ServiceSignals {
            signals: Signals::install(),
            received: false,
        }
    }

    /// Starts a tree (the future of its `start`), remembering a signal that
    /// arrives meanwhile.
    ///
    /// # Errors
    ///
    /// [`ServiceExit::StartFailed`] when the tree could not start;
    /// [`ServiceExit::Forced`] after a second signal during the start.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the start (see its own cancel safety).
    pub async fn start<F>(&mut self, start: F) -> Result<SupervisorHandle, ServiceExit>
    where
        F: Future<Output = Result<SupervisorHandle, StartError>>,
    {
        tokio::pin!(start);
        loop {
            tokio::select! {
                started = &mut start => return started.map_err(ServiceExit::StartFailed),
                () = self.signals.recv() => {
                    if std::mem::replace(&mut self.received, true) {
                        return Err(ServiceExit::Forced);
                    }
                    tracing::info!("signal received during the start; stopping once started");
                }
            }
        }
    }

    /// Runs a started tree as [`run_until_signal`] does, with these
    /// handlers; a signal received during [`start`](Self::start) stops it
    /// at once.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the tree running.
    pub async fn run(self, root: &SupervisorHandle, options: ServiceOptions) -> ServiceExit {
        let mut signals = self.signals;
        if !self.received {
            tokio::select! {
                _ = root.wait() => return outcome_of_exit(root),
                () = signals.recv() => {}
            }
        }
        stop_gracefully(root, options, signals).await
    }
}

async fn stop_gracefully(
    root: &SupervisorHandle,
    options: ServiceOptions,
    mut signals: Signals,
) -> ServiceExit {
    tracing::info!(root = %root.path(), "signal received; shutting the tree down");
    let stop = async {
        match options.shutdown_deadline {
            Some(deadline) => root.stop_timeout(ExitReason::Shutdown, deadline).await,
            None => root.stop().await,
        }
    };
    tokio::select! {
        result = stop => match result {
            Err(crate::CallError::Timeout) => ServiceExit::DeadlineExceeded,
            // Stopped (or stopped meanwhile by itself): how it ended is
            // what its exit reason says, not that the stop returned. A
            // root that died during its shutdown (a panic) is an abnormal
            // exit, code 1.
            _ => {
                root.wait().await;
                outcome_of_exit(root)
            }
        },
        _ = signals.recv() => {
            tracing::warn!(root = %root.path(), "second signal; exiting without waiting");
            ServiceExit::Forced
        }
    }
}

fn outcome_of_exit(root: &SupervisorHandle) -> ServiceExit {
    let reason = root.exit_reason().unwrap_or(ExitReason::Shutdown);
    if root.gave_up() || !reason.is_normal() {
        ServiceExit::GaveUp(reason)
    } else {
        ServiceExit::Stopped
    }
}
