//! Support for the code the macros generate. Not public API.

use std::sync::{Arc, Mutex};

use crate::child::ChildSpec;
use crate::handle::WorkerHandle;
use crate::spec::Shutdown;
use crate::supervised::Child;
use crate::supervisor::{SupervisorBuilder, SupervisorSpec};
use crate::worker::Worker;

pub use std::sync::Arc as __Arc;
pub use std::time::Duration;

/// A child's factory, shared by its starts.
pub type Factory<T> = Arc<dyn Fn() -> T + Send + Sync + 'static>;

/// The spec and handle of a `#[worker]` child, with its type's defaults.
pub fn worker_child<W, F>(id: &str, factory: F) -> (ChildSpec, WorkerHandle<W>)
where
    W: Worker + Child,
    F: Fn() -> W + Send + Sync + 'static,
{
    let (spec, handle) = ChildSpec::worker_with_handle(id, factory);
    let spec = spec
        .restart(W::RESTART)
        .shutdown(W::SHUTDOWN)
        .significant(W::SIGNIFICANT);
    (spec, handle)
}

/// What a field holds when its child is started from a clone of it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is cloned for every start of its child, but it is not `Clone`",
    label = "derive or implement `Clone` for this type",
    note = "or give the field `#[child(factory = ...)]`: its value starts the first incarnation, the factory every later one"
)]
pub trait CloneArg: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> CloneArg for T {}

/// A factory that clones `value` for every start.
pub fn cloned<T: CloneArg>(value: T) -> Factory<T> {
    Arc::new(move || value.clone())
}

/// A factory whose first start takes `value` and whose later starts call
/// `factory`: a field that names a factory.
pub fn first_then<T, F>(value: T, factory: F) -> Factory<T>
where
    T: Send + 'static,
    F: Fn() -> T + Send + Sync + 'static,
{
    let first = Mutex::new(Some(value));
    Arc::new(move || {
        let taken = first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        taken.unwrap_or_else(&factory)
    })
}

/// A spec the macro validated at compile time. The rules it could not see
/// (a worker's own defaults) are asserted in constants of the generated
/// code, so the builder's run-time validation cannot fail here.
pub fn build(builder: SupervisorBuilder) -> SupervisorSpec {
    match builder.build() {
        Ok(spec) => spec,
        Err(e) => unreachable!("supervise: a spec checked at compile time was rejected: {e}"),
    }
}

/// `Shutdown::Timeout` from milliseconds, for constants.
pub const fn timeout_ms(ms: u64) -> Shutdown {
    Shutdown::Timeout(Duration::from_millis(ms))
}
