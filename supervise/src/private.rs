//! Support for the code the macros generate. Not public API.
//!
//! The generated code names a child's type only through
//! `<Type as supervise::Child>::...` paths, so that a type that cannot be
//! supervised is reported once, at the user's field, with `Child`'s own
//! message (see `supervise-macros/src/expand.rs`).

use std::sync::{Arc, Mutex, PoisonError};

use crate::child::ChildSpec;
use crate::policy::Shutdown;
use crate::supervisor::{SupervisorBuilder, SupervisorSpec};
use crate::worker::{Worker, WorkerDefaults};
use crate::worker_handle::WorkerHandle;

pub use std::sync::Arc as __Arc;
pub use std::time::Duration;

/// A child's factory, shared by its starts.
pub type Factory<T> = Arc<dyn Fn() -> T + Send + Sync + 'static>;

/// The spec and handle of a `#[worker]` child, with its type's defaults.
pub fn worker_child<W, F>(id: &str, factory: F) -> (ChildSpec, WorkerHandle<W>)
where
    W: Worker + WorkerDefaults,
    F: Fn() -> W + Send + Sync + 'static,
{
    let (spec, handle) = ChildSpec::worker_with_handle(id, factory);
    let spec = spec
        .restart(W::RESTART)
        .shutdown(W::SHUTDOWN)
        .significant(W::SIGNIFICANT);
    (spec, handle)
}

/// A factory that clones `value` (with `clone`, which the generated code
/// takes from `Clone`) for every start. The value sits in a mutex, so it
/// needs to be `Send` only, as the child itself.
pub fn cloned<T: Send + 'static>(value: T, clone: fn(&T) -> T) -> Factory<T> {
    let value = Mutex::new(value);
    Arc::new(move || clone(&value.lock().unwrap_or_else(PoisonError::into_inner)))
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
        let taken = first.lock().unwrap_or_else(PoisonError::into_inner).take();
        taken.unwrap_or_else(&factory)
    })
}

/// A factory of one part of a value: every start calls `whole` and keeps
/// the part `pick` selects (a child of a nested supervisor restarted from
/// its parent's factory).
pub fn part<T: 'static, P: 'static>(
    whole: &Arc<dyn Fn() -> T + Send + Sync>,
    pick: fn(T) -> P,
) -> Factory<P> {
    let whole = whole.clone();
    Arc::new(move || pick(whole()))
}

/// The factory as a closure: one closure type per child type, so that a
/// tree of many children of one type instantiates its start once.
pub fn call<T: 'static>(factory: Factory<T>) -> impl Fn() -> T + Send + Sync + 'static {
    move || factory()
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

/// Whether a shutdown is a timeout of zero, which a dynamic supervisor
/// (Elixir's `DynamicSupervisor`) refuses for its children.
pub const fn is_zero_timeout(shutdown: Shutdown) -> bool {
    match shutdown {
        Shutdown::Timeout(d) => d.is_zero(),
        _ => false,
    }
}
