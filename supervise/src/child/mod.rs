//! Children: [`ChildSpec`], what a supervisor starts (OTP's child spec),
//! [`ChildSpecInfo`], a spec as `get_childspec` shows it, and [`ChildRef`],
//! one incarnation of a child (OTP's pid).

// | module | what it holds |
// |---|---|
// | `spec` | `ChildSpec` and `ChildSpecInfo`: what a supervisor starts |
// | `start` | one start: the spec's init in the caller's task, then the child's task, whose guard reports its exit however it ends |
// | `incarnation` | `Incarnation`, one start's shared state (its stop and abort flags, its exit report), and `ChildRef`, the public reference to it |
// | `running` | `Running`, the supervisor's record of a started child: how it is stopped by its shutdown policy, and what its supervisor's death does to it |
//
// The layers go one way: `spec` names what `start` runs, `start` makes an
// `incarnation` and hands the supervisor a `running` record.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::exit::ExitReason;

mod incarnation;
mod running;
mod spec;
mod start;

pub use self::incarnation::ChildRef;
pub(crate) use self::incarnation::{child_path, ChildPath, Incarnation};
pub(crate) use self::running::Running;
pub use self::spec::{ChildSpec, ChildSpecInfo};
pub(crate) use self::start::{start, Parent, Spawned, Spawner, StartChild, Stopper};

/// How a start went: the one result of every level (a spec's init, an
/// incarnation's start, a supervisor's start of a child), each with what
/// it started.
pub(crate) enum Start<T> {
    /// Started (OTP's `{ok, Pid}`).
    Started(T),
    /// Its init returned `ignore`.
    Ignored,
    /// Its init failed, with this reason.
    Failed(ExitReason),
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How long the supervisor waits for an aborted task to be dropped before
/// it reports the child killed and moves on. An aborted task stops only at
/// its next `.await`; one that blocks its thread is reported killed after
/// this grace and dropped by tokio whenever it yields. Long enough that a
/// busy runtime (a task that is merely waiting for a worker thread) is not
/// taken for a blocked one.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(1);
