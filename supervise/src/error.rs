//! Typed errors of specs and starts: a value that does not parse, a spec
//! that breaks a rule, a tree that failed to start. Plain values: this
//! module imports nothing of the engines (a refused control call, which
//! names a child, is `supervisor::CallError`).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::exit::ExitReason;

/// A spec value that could not be parsed from text, with what is accepted.
///
/// # Examples
///
/// ```
/// let err = "forever".parse::<supervise::Restart>().unwrap_err();
/// assert_eq!(err.key, "restart");
/// assert_eq!(err.value, "forever");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSpecError {
    /// The key whose value was rejected (`restart`, `shutdown`, ...).
    pub key: &'static str,
    /// The text that was rejected.
    pub value: String,
    /// What the key accepts.
    pub expected: &'static str,
}

impl fmt::Display for ParseSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} `{}`: expected {}",
            self.key, self.value, self.expected
        )
    }
}

impl StdError for ParseSpecError {}

/// A supervisor or child spec that breaks one of OTP's validation rules.
///
/// The builder checks the rules in OTP's order and returns the first error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecError {
    /// A restart period of zero (OTP: `{invalid_period, 0}`).
    ZeroPeriod,
    /// Two children share an id (OTP: `{duplicate_child_name, Id}`).
    DuplicateChildId {
        /// The repeated id.
        id: Arc<str>,
    },
    /// A significant child must be transient or temporary (OTP:
    /// `{bad_combination, [{restart, permanent}, {significant, true}]}`).
    SignificantPermanent {
        /// The child's id.
        id: Arc<str>,
    },
    /// A significant child under `auto_shutdown = never` (OTP:
    /// `{bad_combination, [{auto_shutdown, never}, {significant, true}]}`).
    SignificantWithoutAutoShutdown {
        /// The child's id.
        id: Arc<str>,
    },
    /// A shutdown value this supervisor does not accept (a dynamic
    /// supervisor, as Elixir's, requires a timeout above zero).
    InvalidShutdown {
        /// The child's id.
        id: Arc<str>,
        /// The rejected value in milliseconds.
        millis: u128,
    },
    /// A `simple_one_for_one` supervisor needs exactly one child template
    /// (OTP: `{bad_start_spec, Specs}`).
    BadTemplateCount {
        /// The ids of the templates that were given.
        ids: Vec<Arc<str>>,
    },
    /// `auto_shutdown` on a dynamic supervisor without a template: only
    /// `simple_one_for_one` children can be significant.
    AutoShutdownWithoutTemplate,
    /// A child id containing `/`, which separates the parts of a path
    /// (`app/db`): `a/b` would read as child `b` of a supervisor `a`.
    InvalidId {
        /// The rejected id.
        id: Arc<str>,
    },
    /// A supervisor name containing `/`, which separates the parts of a
    /// path.
    InvalidName {
        /// The rejected name.
        name: Arc<str>,
    },
    /// A partition supervisor needs at least one partition, and no more
    /// than can be allocated.
    InvalidPartitions {
        /// The rejected count.
        partitions: usize,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::ZeroPeriod => {
                f.write_str("the restart period (`max_seconds`) must be greater than zero")
            }
            SpecError::DuplicateChildId { id } => {
                write!(f, "duplicate child id `{id}`: give each child its own id")
            }
            SpecError::SignificantPermanent { id } => write!(
                f,
                "child `{id}` is significant and permanent; a significant child must be \
                 `transient` or `temporary`"
            ),
            SpecError::SignificantWithoutAutoShutdown { id } => write!(
                f,
                "child `{id}` is significant but the supervisor's auto_shutdown is `never`; \
                 use `any_significant` or `all_significant`, or drop `significant`"
            ),
            SpecError::InvalidShutdown { id, millis } => write!(
                f,
                "child `{id}` has shutdown {millis}ms; a dynamic supervisor needs a timeout \
                 above zero, `brutal_kill` or `infinity`"
            ),
            SpecError::BadTemplateCount { ids } => write!(
                f,
                "a simple_one_for_one supervisor needs exactly one child template, got {}",
                ids.len()
            ),
            SpecError::InvalidId { id } => write!(
                f,
                "child id `{id}` contains `/`, which separates the parts of a path; \
                 use another character (`-`, `_`, `.`, `:`)"
            ),
            SpecError::InvalidName { name } => write!(
                f,
                "supervisor name `{name}` contains `/`, which separates the parts of a \
                 path; use another character (`-`, `_`, `.`, `:`)"
            ),
            SpecError::InvalidPartitions { partitions } => write!(
                f,
                "a partition supervisor needs at least one partition and no more than can \
                 be allocated, got {partitions}; `std::thread::available_parallelism()` \
                 is a good number"
            ),
            SpecError::AutoShutdownWithoutTemplate => f.write_str(
                "auto_shutdown needs significant children: give the dynamic supervisor a \
                 template, or leave auto_shutdown at `never`",
            ),
        }
    }
}

impl StdError for SpecError {}

/// A tree that could not be started: the reason its root gave.
///
/// For a child that failed, the reason nests through the supervisors
/// above it: `failed to start child s1: failed to start child y: ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct StartError {
    reason: ExitReason,
    ignored: bool,
}

impl StartError {
    pub(crate) fn new(reason: ExitReason) -> Self {
        StartError {
            reason,
            ignored: false,
        }
    }

    /// The root's init decided not to start (OTP's `start_link` returning
    /// `ignore`): nothing was started, and nothing failed.
    pub(crate) fn ignored() -> Self {
        StartError {
            reason: ExitReason::Normal,
            ignored: true,
        }
    }

    /// The exit reason of the supervisor that failed to start (`normal`
    /// when it [ignored](Self::is_ignored) its start).
    pub fn reason(&self) -> &ExitReason {
        &self.reason
    }

    /// True when the root's init returned [`Init::Ignore`](crate::Init)
    /// (OTP's `ignore` from `supervisor:start_link`): not a failure, but
    /// there is no tree to return a handle to.
    pub fn is_ignored(&self) -> bool {
        self.ignored
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ignored {
            return f.write_str("the supervisor's init returned ignore: nothing was started");
        }
        fmt::Display::fmt(&self.reason, f)
    }
}

impl StdError for StartError {}
