//! What can be a child of a derived supervisor: the `Child` trait.

use crate::__private::{cloned, first_then, worker_child, Factory};
use crate::child::ChildSpec;
use crate::policy::{ChildKind, Restart, Shutdown};
use crate::worker::WorkerDefaults;
use crate::worker_handle::WorkerHandle;

/// A type that can be a field of a `#[derive(Supervisor)]` struct: a
/// worker annotated with `#[worker]`, or a derived supervisor.
///
/// It carries the child's default spec (OTP's `child_spec/1`, Elixir's
/// `use GenServer, restart: ...`) and the type of its typed handle. The
/// macros implement it; implement it by hand only for a kind of child of
/// your own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be supervised: it is neither a worker nor a supervisor",
    label = "not a worker or a supervisor",
    note = "annotate a worker's struct with `#[supervise::worker]` (and implement `supervise::Worker` for it), or derive `supervise::Supervisor` for a supervisor"
)]
pub trait Child: Send + Sized + 'static {
    /// What the rest of the program holds to talk to the child.
    type Handle: Clone + Send + Sync + 'static;
    /// Worker or supervisor.
    const KIND: ChildKind;
    /// The default restart type.
    const RESTART: Restart;
    /// The default shutdown policy.
    const SHUTDOWN: Shutdown;
    /// Whether the child is significant by default.
    const SIGNIFICANT: bool;
    /// Whether its supervisor asks it to stop and waits for it as long as
    /// its shutdown timeout: a supervisor always (it stops its own children
    /// first); a worker when its [`Worker::HANDLES_SHUTDOWN`] is set, since
    /// any other is aborted at once. A finite `#[child(shutdown = ...)]` on
    /// a child that is not asked warns at the value.
    ///
    /// [`Worker::HANDLES_SHUTDOWN`]: crate::Worker::HANDLES_SHUTDOWN
    const HANDLES_SHUTDOWN: bool = true;

    /// The child spec, with this type's defaults, of a child started from
    /// `factory` at every start, and its handle.
    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, Self::Handle)
    where
        F: Fn() -> Self + Send + Sync + 'static;

    /// A factory that clones `value` with `clone` for every start. Used by
    /// the macros (through `<Type as Child>`, so that a type that is not a
    /// child is reported with this trait's message); not public API.
    #[doc(hidden)]
    fn __cloned(value: Self, clone: fn(&Self) -> Self) -> Factory<Self> {
        cloned(value, clone)
    }

    /// A factory whose first start takes `value` and whose later starts
    /// call `factory`. Used by the macros; not public API.
    #[doc(hidden)]
    fn __first_then(value: Self, factory: Factory<Self>) -> Factory<Self> {
        first_then(value, move || factory())
    }
}

/// A worker annotated with `#[worker]` is a child with the defaults the
/// attribute declares. The attribute only declares them, so that a
/// mistake in the worker's `Worker` impl is reported there, once.
#[diagnostic::do_not_recommend]
impl<W: WorkerDefaults> Child for W {
    type Handle = WorkerHandle<W>;
    const KIND: ChildKind = ChildKind::Worker;
    const RESTART: Restart = <W as WorkerDefaults>::RESTART;
    const SHUTDOWN: Shutdown = <W as WorkerDefaults>::SHUTDOWN;
    const SIGNIFICANT: bool = <W as WorkerDefaults>::SIGNIFICANT;
    const HANDLES_SHUTDOWN: bool = <W as crate::Worker>::HANDLES_SHUTDOWN;

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, WorkerHandle<W>)
    where
        F: Fn() -> W + Send + Sync + 'static,
    {
        worker_child(id, factory)
    }
}
