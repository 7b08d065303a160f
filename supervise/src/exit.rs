//! Why a child exited.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A boxed error, as workers return it.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a child (a worker or a supervisor) exited: OTP's exit reason.
///
/// *Normal* reasons ([`is_normal`](Self::is_normal)) are `Normal`,
/// `Shutdown`, `ShutdownWith` and `FailedToStartChild` (OTP's `normal`,
/// `shutdown` and `{shutdown, _}`): a transient child that exits with one of
/// them is not restarted. `Killed`, `Error` and `Panic` are abnormal.
///
/// # Examples
///
/// ```
/// use supervise::ExitReason;
///
/// assert!(ExitReason::Shutdown.is_normal());
/// assert!(!ExitReason::Killed.is_normal());
/// assert_eq!(ExitReason::shutdown_with("done").to_string(), "{shutdown,done}");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum ExitReason {
    /// The worker returned `Ok(())`.
    Normal,
    /// Stopped by its supervisor, or chose to exit as if it had been.
    Shutdown,
    /// OTP's `{shutdown, Term}`: a shutdown that carries a reason.
    ShutdownWith(Arc<str>),
    /// Aborted: killed from outside, by `BrutalKill`, or after its shutdown
    /// timeout ran out.
    Killed,
    /// A supervisor that failed to start one of its children (OTP's
    /// `{shutdown, {failed_to_start_child, Id, Reason}}`).
    FailedToStartChild {
        /// The id of the child that failed.
        id: Arc<str>,
        /// Why it failed.
        reason: Box<ExitReason>,
    },
    /// The worker returned an error.
    Error(Arc<dyn StdError + Send + Sync + 'static>),
    /// The worker panicked; the panic was caught.
    Panic(Arc<PanicReason>),
}

/// The message and location of a caught panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReason {
    /// The panic's payload, if it was a string.
    pub message: String,
    /// Where it panicked, when [`install_panic_hook`](crate::install_panic_hook)
    /// is installed.
    pub location: Option<String>,
}

impl ExitReason {
    /// `{shutdown, reason}`.
    pub fn shutdown_with(reason: impl Into<Arc<str>>) -> Self {
        ExitReason::ShutdownWith(reason.into())
    }

    /// An abnormal exit with this error.
    pub fn error(err: impl Into<BoxError>) -> Self {
        ExitReason::Error(Arc::from(err.into()))
    }

    /// True for `normal`, `shutdown` and `{shutdown, _}`: the reasons after
    /// which a transient child is not restarted and no crash is reported.
    pub fn is_normal(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal
                | ExitReason::Shutdown
                | ExitReason::ShutdownWith(_)
                | ExitReason::FailedToStartChild { .. }
        )
    }

    /// True for `shutdown` and `{shutdown, _}`.
    pub fn is_shutdown(&self) -> bool {
        matches!(
            self,
            ExitReason::Shutdown
                | ExitReason::ShutdownWith(_)
                | ExitReason::FailedToStartChild { .. }
        )
    }

    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        let location = crate::panic::take_location();
        ExitReason::Panic(Arc::new(PanicReason { message, location }))
    }
}

impl fmt::Display for ExitReason {
    /// OTP's spelling for the reasons OTP has (`normal`, `shutdown`,
    /// `{shutdown,x}`, `killed`); the error's message for an error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(r) => write!(f, "{{shutdown,{r}}}"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::FailedToStartChild { id, reason } => {
                write!(f, "failed to start child {id}: {reason}")
            }
            ExitReason::Error(e) => fmt::Display::fmt(e, f),
            ExitReason::Panic(p) => match &p.location {
                Some(at) => write!(f, "panicked at {at}: {}", p.message),
                None => write!(f, "panicked: {}", p.message),
            },
        }
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Error(e) => f.debug_tuple("Error").field(&e.to_string()).finish(),
            ExitReason::Panic(p) => f.debug_tuple("Panic").field(&p.message).finish(),
            ExitReason::FailedToStartChild { id, reason } => f
                .debug_struct("FailedToStartChild")
                .field("id", id)
                .field("reason", reason)
                .finish(),
            other => fmt::Display::fmt(other, f),
        }
    }
}

impl PartialEq for ExitReason {
    /// Errors compare by message, everything else structurally.
    fn eq(&self, other: &Self) -> bool {
        use ExitReason::*;
        match (self, other) {
            (Normal, Normal) | (Shutdown, Shutdown) | (Killed, Killed) => true,
            (ShutdownWith(a), ShutdownWith(b)) => a == b,
            (
                FailedToStartChild { id: a, reason: ra },
                FailedToStartChild { id: b, reason: rb },
            ) => a == b && ra == rb,
            (Error(a), Error(b)) => a.to_string() == b.to_string(),
            (Panic(a), Panic(b)) => a == b,
            _ => false,
        }
    }
}

/// What a worker returns to exit with a reason other than *normal*.
///
/// Any error converts into an `Exit` with `?` (an abnormal exit, restarted
/// unless the child is temporary). [`Exit::shutdown`] and
/// [`Exit::shutdown_with`] exit as OTP's `shutdown` and `{shutdown, Term}`:
/// a transient child that exits so is not restarted.
///
/// `Exit` deliberately does not implement [`std::error::Error`], so that the
/// blanket conversion from every error type can exist (as `anyhow::Error`).
///
/// # Examples
///
/// ```
/// use supervise::{Exit, ExitReason};
///
/// fn parse(s: &str) -> Result<u32, Exit> {
///     Ok(s.parse::<u32>()?)
/// }
/// assert!(matches!(parse("x").unwrap_err().reason(), ExitReason::Error(_)));
/// assert_eq!(Exit::shutdown().reason(), &ExitReason::Shutdown);
/// ```
pub struct Exit(ExitReason);

impl Exit {
    /// Exit with reason `shutdown`.
    pub fn shutdown() -> Self {
        Exit(ExitReason::Shutdown)
    }

    /// Exit with `{shutdown, reason}`.
    pub fn shutdown_with(reason: impl Into<Arc<str>>) -> Self {
        Exit(ExitReason::shutdown_with(reason))
    }

    /// Exit with any reason, `Normal` included.
    pub fn with_reason(reason: ExitReason) -> Self {
        Exit(reason)
    }

    /// The reason this exit carries.
    pub fn reason(&self) -> &ExitReason {
        &self.0
    }

    /// The reason this exit carries.
    pub fn into_reason(self) -> ExitReason {
        self.0
    }
}

impl<E: Into<BoxError>> From<E> for Exit {
    fn from(err: E) -> Self {
        Exit(ExitReason::error(err))
    }
}

impl fmt::Debug for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Exit").field(&self.0).finish()
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
