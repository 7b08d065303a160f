//! A refused control call: `CallError`.

use std::error::Error as StdError;
use std::fmt;

use crate::child::ChildRef;
use crate::error::SpecError;
use crate::exit::ExitReason;

/// A control call that the supervisor refused or could not serve.
///
/// Each method of [`SupervisorHandle`](crate::SupervisorHandle) says which
/// variants it returns; all of them may return [`CallError::Stopped`] (not
/// running when called) and [`CallError::Exited`] (exited before it
/// answered).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CallError {
    /// No child with that id (or that reference).
    NotFound,
    /// The child is running; terminate it first.
    Running,
    /// The child is being restarted (a failed restart is being retried).
    Restarting,
    /// A child with that id is already running.
    AlreadyStarted(ChildRef),
    /// A child with that id exists but is not running; use `restart_child`
    /// or `delete_child`.
    AlreadyPresent,
    /// The spec given to `start_child` is invalid.
    InvalidSpec(SpecError),
    /// The child's start failed; nothing was added.
    StartFailed(ExitReason),
    /// By-id operations are not supported on a `simple_one_for_one`
    /// supervisor: use the child's reference.
    SimpleOneForOne,
    /// The dynamic supervisor already has `max_children` children.
    MaxChildren,
    /// The supervisor was not running when called (OTP's `noproc`).
    Stopped,
    /// The supervisor exited with this reason before it answered (OTP's
    /// `{exit, Reason}` from a call whose server died).
    Exited(ExitReason),
    /// `stop` did not finish within the caller's timeout.
    Timeout,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotFound => f.write_str("no such child"),
            CallError::Running => f.write_str("the child is running; terminate it first"),
            CallError::Restarting => f.write_str("the child is being restarted"),
            CallError::AlreadyStarted(c) => write!(f, "the child is already started as {c}"),
            CallError::AlreadyPresent => f.write_str(
                "a child with this id exists but is not running; use restart_child or delete_child",
            ),
            CallError::InvalidSpec(e) => write!(f, "invalid child spec: {e}"),
            CallError::StartFailed(r) => write!(f, "the child failed to start: {r}"),
            CallError::SimpleOneForOne => f.write_str(
                "not supported by a simple_one_for_one supervisor; use the child's reference",
            ),
            CallError::MaxChildren => {
                f.write_str("the dynamic supervisor has reached max_children")
            }
            CallError::Stopped => f.write_str("the supervisor has stopped"),
            CallError::Exited(r) => write!(f, "the supervisor exited ({r}) before it answered"),
            CallError::Timeout => f.write_str("the supervisor did not stop in time"),
        }
    }
}

impl StdError for CallError {}

impl PartialEq for CallError {
    fn eq(&self, other: &Self) -> bool {
        use CallError::*;
        match (self, other) {
            (AlreadyStarted(a), AlreadyStarted(b)) => a == b,
            (InvalidSpec(a), InvalidSpec(b)) => a == b,
            (StartFailed(a), StartFailed(b)) => a == b,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}
