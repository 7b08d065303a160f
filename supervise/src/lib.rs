//! Erlang/OTP-grade supervision trees for async Rust on tokio.
//!
//! A *child* is a tokio task: a [`Worker`] built afresh from its
//! [`ChildSpec`] for every start, or a nested supervisor. A supervisor
//! starts its children one at a time, in order, each one's init finished
//! before the next starts; restarts them by its [`Strategy`] and each
//! child's [`Restart`] type; gives up when they restart more than its
//! [`Intensity`] allows; and stops them in reverse order, each by its
//! [`Shutdown`] policy. The rules are OTP 25's `supervisor`, rule by rule.
//!
//! # Example
//!
//! ```
//! use supervise::{ChildSpec, Context, Exit, Strategy, Supervisor, Worker};
//!
//! struct Pool;
//! impl Worker for Pool {
//!     type Message = ();
//!     async fn run(self, _ctx: Context) -> Result<(), Exit> {
//!         std::future::pending::<()>().await;
//!         Ok(())
//!     }
//! }
//!
//! struct Payments;
//! impl Worker for Payments {
//!     type Message = ();
//!     async fn run(self, _ctx: Context) -> Result<(), Exit> {
//!         std::future::pending::<()>().await;
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let payments = Supervisor::builder("payments")
//!     .child(ChildSpec::worker("processor", || Payments))
//!     .build()
//!     .unwrap();
//! let app = Supervisor::builder("app")
//!     .strategy(Strategy::RestForOne)
//!     .child(ChildSpec::worker("db", || Pool))
//!     .child(ChildSpec::supervisor("payments", payments))
//!     .build()
//!     .unwrap()
//!     .start()
//!     .await
//!     .unwrap();
//! assert_eq!(app.count_children().await.unwrap().supervisors, 1);
//! app.stop().await.unwrap();
//! # }
//! ```
//!
//! # Where things are
//!
//! The root holds what most programs use: the macros ([`Supervisor`](derive@Supervisor),
//! [`worker`](macro@worker), [`handlers`](macro@handlers),
//! [`supervision_tree!`](supervision_tree)), [`Worker`] and its [`Context`],
//! [`WorkerHandle`], [`ChildSpec`], [`Supervisor`](struct@Supervisor), the policies
//! ([`Restart`], [`Shutdown`], [`Strategy`]) and the errors. The rest is in
//! one module per concept: [`worker`](mod@worker), [`handlers`](mod@handlers), [`child`],
//! [`supervisor`] (builders, handles, `which_children`'s values),
//! [`dynamic`], [`task`], [`registry`], [`policy`], [`exit`], [`event`],
//! [`snapshot`], [`service`]; and [`guide`], the guide from Elixir.
//!
//! Names follow OTP and Elixir where they have one (`which_children`,
//! `start_child`, `max_restarts`, `one_for_one`, `Permanent`, `BrutalKill`).
//! A *handle* follows its child or supervisor across restarts
//! ([`WorkerHandle`], [`SupervisorRef`], a derived tree's `NameHandle`);
//! [`SupervisorHandle`] and [`ChildRef`] name one incarnation, as a pid
//! does. An error type is named after what fails: [`HandleError`] for
//! messages and calls to a worker, [`CallError`] for calls to a supervisor,
//! [`StartError`] for starting a tree.
//!
//! # Differences from OTP
//!
//! * The restart window is an exact sliding window over a [`Duration`]
//!   (sub-second periods allowed), not OTP's whole seconds: OTP's effective
//!   window is anywhere in `(period, period + 1]` seconds. The edge is
//!   inclusive, as OTP's `>=` is.
//! * tokio aborts a task only at an `.await`. A child that blocks its
//!   thread cannot be stopped: after its shutdown timeout it is aborted,
//!   reported `killed` after a short grace, and its task is dropped by
//!   tokio whenever it next yields. The rest of the tree stops meanwhile.
//!
//! [`Duration`]: std::time::Duration

#![doc(test(attr(deny(warnings, rust_2018_idioms), allow(dead_code, unused_variables))))]

// The modules, in layers: a module imports from its own layer or below.
//
// 1. Plain values and pure policy, which import nothing of the engines:
//    `exit` (exit reasons), `policy` (restart types, shutdowns, strategies,
//    intensity, parsing), `error` (spec and start errors), `rules` (what
//    OTP decides, as pure functions), `intensity` (the restart window),
//    `backoff`, `snapshot` (the tree as values), `metrics` (the facade),
//    `sync` (the concurrency protocols and their primitives).
// 2. The child core: `child` (specs, starts, incarnations, stopping),
//    `event`, `report`, `mailbox`, `worker`, `handle`. One cycle by nature:
//    an incarnation (OTP's pid) is what an event carries, what a report
//    names, what a mailbox delivers to and a handle reaches, and what a
//    worker's context is; each of them needs it, and it emits events.
// 3. `supervisor`: the two engines (`runner` for static supervisors,
//    `dynamic`), which do not import each other, their handle and the
//    typed fronts. Two back-edges, by design: a supervisor child's
//    incarnation holds its `SupervisorHandle` (the pid of a supervisor is
//    the supervisor), and `SupervisorHandle::start_child` reaches an idle
//    dynamic supervisor's state to start in the caller's task.
//    Beside it, `registry`, which imports the child core only: entries
//    owned by incarnations, and the start that names a child (`via`).
// 4. On top: `service` (running a tree as a process), `supervised` (the
//    `Child` trait the macros implement), `__private` (what they call),
//    `panic` (the hook), `dashboard` (a page of the live tree, a child
//    itself; the `dashboard` feature).
mod backoff;
pub mod child;
#[cfg(feature = "dashboard")]
mod dashboard;
mod error;
pub mod event;
pub mod exit;
pub mod handlers;
mod intensity;
mod mailbox;
mod metrics;
mod panic;
pub mod policy;
pub mod registry;
mod report;
mod rules;
pub mod service;
pub mod snapshot;
mod supervised;
pub mod supervisor;
mod sync;
pub mod worker;
mod worker_handle;

/// From Elixir and Erlang: GenServer, Supervisor, DynamicSupervisor,
/// Task.Supervisor, Registry and PartitionSupervisor beside their
/// `supervise` forms.
#[doc = include_str!("elixir_guide.md")]
pub mod guide {}

/// Dynamic supervisors: children started at run time (OTP's
/// `simple_one_for_one`, Elixir's `DynamicSupervisor`), typed or not, and
/// partitioned ones (`PartitionSupervisor`).
pub mod dynamic {
    pub use crate::supervisor::{
        DynamicHandle, DynamicSupervisor, DynamicSupervisorBuilder, DynamicSupervisorSpec,
        DynamicWorker, KeyedStartError, PartitionHandle, PartitionSupervisor, Partitioned,
        PartitionedHandle,
    };
}

/// Supervised tasks (Elixir's `Task.Supervisor`): one-off tasks, tasks
/// linked to their caller, restarting tasks and streams run concurrently.
pub mod task {
    pub use crate::supervisor::{
        AsyncStream, FromStream, LinkedTask, OnTimeout, SpawnLinked, SpawnRestarting, SpawnTask,
        TaskError, TaskHandle, TaskInputs, TaskStream, TaskStreamError, TaskSupervisor,
        TaskSupervisorHandle, DEFAULT_AWAIT_TIMEOUT,
    };
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The crate README's example, compiled and run as a doctest (the
/// repository's README is run by the `supervise-tests` crate).
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The everyday items, at the root; the rest in their modules (the root's
// hidden re-exports keep the older paths working).
pub use crate::child::{ChildRef, ChildSpec};
pub use crate::error::StartError;
pub use crate::event::Event;
pub use crate::exit::{Exit, ExitReason};
pub use crate::panic::install_panic_hook;
pub use crate::policy::{Restart, Shutdown, Strategy};
pub use crate::registry::Registry;
pub use crate::service::run_until_signal;
pub use crate::supervised::Child;
pub use crate::supervisor::{
    CallError, DynamicSupervisor, Supervisor, SupervisorHandle, SupervisorRef, TaskSupervisor,
};
pub use crate::worker::{Context, Init, Worker};
pub use crate::worker_handle::{HandleError, Reply, ReplyError, WorkerHandle};

#[cfg(feature = "dashboard")]
pub use crate::dashboard::{Dashboard, DashboardError, DashboardHandle};

#[doc(hidden)]
pub use crate::{
    backoff::Backoff,
    child::ChildSpecInfo,
    dynamic::*,
    error::{ParseSpecError, SpecError},
    event::EventStream,
    exit::{BoxError, PanicReason},
    policy::{
        parse_max_restarts, parse_period, parse_significant, AutoShutdown, ChildKind, Intensity,
    },
    registry::{Deliver, Dispatched, Keys, RegistryError},
    service::{ServiceExit, ServiceOptions, ServiceSignals},
    snapshot::{
        ChildSnapshot, ChildState, ExitRecord, SupervisorKind, SupervisorSnapshot, DEFAULT_HISTORY,
    },
    supervisor::{ChildCounts, ChildInfo, ChildStatus, SupervisorBuilder, SupervisorSpec},
    task::*,
    worker::ShutdownSignal,
    worker_handle::{SendError, DEFAULT_CALL_TIMEOUT},
};

/// Derives a supervisor from a struct whose named fields are its children.
///
/// The fields are the children, in start order (unless `depends_on` says
/// otherwise); each field's name is the child's id (without `r#`: a field
/// `r#type` is the child `"type"`), and its value is what the child is
/// started from, cloned for every start. A field's type is a worker
/// annotated with [`#[worker]`](macro@worker), another derived supervisor,
/// which becomes a nested supervisor (shutdown `infinity`), or a
/// [`DynamicSupervisor`], [`PartitionSupervisor`] or [`TaskSupervisor`].
/// A child may have any name, the names of the generated items included
/// (`supervisor`, `start`, `spec`, ...).
///
/// The derive generates `NameHandle`, a struct of typed handles (one field
/// per child, a nested supervisor's being its own handle struct), and on
/// `Name`: `start(self)`, `spec(self)` (to subscribe to events before
/// starting), and an impl of [`Child`].
///
/// | `#[supervisor(...)]` key | values | default |
/// |---|---|---|
/// | `strategy` | `one_for_one`, `one_for_all`, `rest_for_one` | `one_for_one` |
/// | `max_restarts` | a whole number | 3 |
/// | `max_seconds` | a whole number above 0 | 5 |
/// | `period` | a duration string (`"500ms"`, `"5s"`), instead of `max_seconds`; not a bare number, whose unit would be a guess | |
/// | `auto_shutdown` | `never`, `any_significant`, `all_significant` | `never` |
/// | `name` | the root's name | the struct's name in snake_case |
/// | `crate` | the path of this crate | `::supervise` |
///
/// | `#[child(...)]` key | values |
/// |---|---|
/// | `restart` | `permanent`, `transient`, `temporary` |
/// | `shutdown` | `brutal_kill`, `infinity`, milliseconds (`5000`), a duration string (`"30s"`) |
/// | `significant` | `significant`, `significant = true` |
/// | `id` | the child's id, instead of the field's name |
/// | `depends_on` | siblings it must start after and restart with (`[db, cache]`); needs `rest_for_one` or `one_for_all`, which restart it when they restart. A child that only calls a sibling needs its handle, not this: see "Siblings" below |
/// | `factory` | a function building the child for every restart (the field's value starts the first incarnation): for arguments that are not `Clone` |
/// | `uses` | siblings that start before it whose handles build it (`[pool]`): the field's type is a function of them, `fn(WorkerHandle<Pool>) -> Cache`, called at every start; see "Siblings" below |
///
/// A supervisor child keeps its `shutdown = infinity` default (it stops its
/// own children first, each by its own policy); any other shutdown is
/// allowed, as in OTP, and kills the whole subtree when it runs out.
///
/// Every mistake is a compile error at the offending token, all of them in
/// one compile, each saying what to write instead: unknown keys and values
/// (with the accepted ones and the closest, whatever its case or spelling:
/// `OneForAll`, `brutal_kil`; Elixir's `:atom` and `key: value` too),
/// repeated keys, malformed durations and numbers, `max_seconds = 0`,
/// duplicate ids, significant children that are permanent or under
/// `auto_shutdown = never` (by the field's keys or by its type's defaults),
/// unknown, self or cyclic dependencies, a dependency under `one_for_one`,
/// a field whose type cannot be supervised (`Option<W>`, `Vec<W>`,
/// `Box<W>`, a type without `#[worker]`, a value that is not `Clone`
/// without a `factory`), and a `DynamicSupervisor<W>` whose worker's
/// shutdown is 0, which a dynamic supervisor refuses at every
/// `start_child`. A type that is not a child is one error, at the field's
/// type (and one more where the program starts the tree).
///
/// # Siblings
///
/// A handle follows its child across restarts, so a child that only *uses*
/// a sibling (calls it, sends it messages) needs the sibling's handle, not
/// `depends_on`: a call made while the sibling restarts waits for its next
/// incarnation (5 s at most). Declare `depends_on` (restart coupling: under
/// `rest_for_one` the child restarts whenever the sibling does, as in OTP)
/// only when the child holds something that is wrong once the sibling has
/// restarted: a subscription, a cursor, a session opened on it. Under
/// `rest_for_one`, every later child is coupled to every earlier one
/// whether or not it says so: put the children that share nothing under
/// `one_for_one`, in a supervisor of their own.
///
/// A child built from siblings' handles names them with `uses`, and its
/// field holds a function of those handles that builds it, called at every
/// start (a path such as `Cache::new`, or a closure that captures nothing).
/// The macro checks that each sibling starts before the child (a handle of
/// a sibling not yet started would reach no one while the child starts),
/// and the compiler that the handles' types are the function's:
///
/// ```
/// use supervise::{handlers, worker, Supervisor, WorkerHandle};
///
/// #[worker]
/// #[derive(Clone)]
/// struct Pool;
///
/// #[handlers]
/// impl Pool {
///     #[call]
///     fn query(&mut self, sql: String) -> usize { sql.len() }
/// }
///
/// #[worker]
/// #[derive(Clone)]
/// struct Cache { pool: WorkerHandle<Pool> }
///
/// #[handlers]
/// impl Cache {
///     #[call]
///     async fn get(&mut self, key: String) -> usize {
///         self.pool.query(format!("select {key}")).await.unwrap_or(0)
///     }
/// }
///
/// #[derive(Clone, Supervisor)]
/// struct App {
///     pool: Pool,
///     #[child(uses = [pool])]
///     cache: fn(WorkerHandle<Pool>) -> Cache,
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let app = App { pool: Pool, cache: |pool| Cache { pool } }.start().await.unwrap();
/// assert_eq!(app.cache.get("a".into()).await.unwrap(), 8);
/// // The pool restarts; the cache, which only calls it, does not.
/// app.pool.child().unwrap().kill();
/// assert_eq!(app.cache.get("b".into()).await.unwrap(), 8);
/// app.stop().await.unwrap();
/// # }
/// ```
///
/// With the builder, a sibling's handle exists as soon as its spec does,
/// before anything starts, and goes into the next child's factory:
///
/// ```
/// use supervise::{handlers, ChildSpec, Supervisor, WorkerHandle};
///
/// #[derive(Clone)]
/// struct Pool;
///
/// #[handlers]
/// impl Pool {
///     #[call]
///     fn query(&mut self, sql: String) -> usize { sql.len() }
/// }
///
/// #[derive(Clone)]
/// struct Cache { pool: WorkerHandle<Pool> }
///
/// #[handlers]
/// impl Cache {
///     #[call]
///     async fn get(&mut self, key: String) -> usize {
///         self.pool.query(format!("select {key}")).await.unwrap_or(0)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (pool_spec, pool) = ChildSpec::worker_with_handle("pool", || Pool);
/// let (cache_spec, cache) = ChildSpec::worker_with_handle("cache", {
///     let pool = pool.clone();
///     move || Cache { pool: pool.clone() }
/// });
/// let app = Supervisor::builder("app")
///     .child(pool_spec)
///     .child(cache_spec)
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// assert_eq!(cache.get("a".into()).await.unwrap(), 8);
/// // The pool restarts; the cache, which only calls it, does not.
/// pool.child().unwrap().kill();
/// assert_eq!(cache.get("b".into()).await.unwrap(), 8);
/// app.stop().await.unwrap();
/// # }
/// ```
///
/// # Warnings
///
/// `auto_shutdown = any_significant` (or `all_significant`) with no
/// significant child, neither by `#[child(significant)]` nor by its type's
/// `#[worker(significant)]`, never shuts the supervisor down. OTP accepts
/// it, so it compiles, with a warning at the value. A macro cannot emit a
/// warning on stable Rust; the derive uses a deprecated constant there, so
/// the warning reads "use of deprecated associated constant
/// `_::auto_shutdown::<true>::any_significant`: no child of `App` is
/// significant, ...". It is the `deprecated` lint: `#![deny(deprecated)]`
/// makes it an error, and `#[allow(deprecated)]` on the struct silences it.
///
/// `#[child(shutdown = ...)]` (and `#[worker(shutdown = ...)]`) with a
/// finite timeout, on a worker that is not asked to stop (no `#[terminate]`
/// hook, [`Worker::HANDLES_SHUTDOWN`] not set), warns the same way at the
/// value: such a worker is aborted at once, and the timeout is never waited
/// for.
///
/// # Examples
///
/// ```
/// use supervise::{handlers, worker, Supervisor};
///
/// #[worker]
/// #[derive(Clone)]
/// struct DatabasePool { size: usize }
///
/// #[handlers]
/// impl DatabasePool {
///     #[call]
///     fn size(&mut self) -> usize { self.size }
/// }
///
/// // Asked to stop, it has 30 s for its terminate hook.
/// #[worker(restart = transient, shutdown = "30s")]
/// #[derive(Clone)]
/// struct Payments;
///
/// #[handlers]
/// impl Payments {
///     #[terminate]
///     async fn terminate(&mut self) { /* settle what is in flight */ }
/// }
///
/// #[derive(Clone, Supervisor)]
/// #[supervisor(strategy = rest_for_one, max_restarts = 3, max_seconds = 5)]
/// struct App {
///     db: DatabasePool,
///     #[child(depends_on = [db])]
///     payments: Payments,
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let app = App { db: DatabasePool { size: 10 }, payments: Payments }.start().await.unwrap();
/// assert_eq!(app.db.size().await.unwrap(), 10);
/// app.stop().await.unwrap();
/// # }
/// ```
///
/// Equivalent code without the macro, with the builder:
///
/// ```
/// # use supervise::{Context, Exit, Reply, Worker};
/// # #[derive(Clone)] struct DatabasePool { size: usize }
/// # impl Worker for DatabasePool {
/// #     type Message = Reply<usize>;
/// #     async fn run(self, _ctx: Context<Reply<usize>>) -> Result<(), Exit> { Ok(()) }
/// # }
/// # #[derive(Clone)] struct Payments;
/// # impl Worker for Payments {
/// #     type Message = ();
/// #     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// # }
/// use std::time::Duration;
/// use supervise::{ChildSpec, Restart, Shutdown, Strategy, Supervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let db = DatabasePool { size: 10 };
/// let (db_spec, db_handle) = ChildSpec::worker_with_handle("db", move || db.clone());
/// let (payments_spec, _payments_handle) = ChildSpec::worker_with_handle("payments", || Payments);
/// let app = Supervisor::builder("app")
///     .strategy(Strategy::RestForOne)
///     .max_restarts(3)
///     .max_seconds(5)
///     .child(db_spec)
///     .child(
///         payments_spec
///             .restart(Restart::Transient)
///             .shutdown(Shutdown::Timeout(Duration::from_secs(30))),
///     )
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// # let _ = db_handle;
/// # app.stop().await.unwrap();
/// # }
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use supervise_macros::Supervisor;

/// Declares a worker's default child spec, as `use GenServer, restart: ...`
/// does in Elixir: the struct can then be a field of a derived supervisor.
///
/// Keys: `restart` (`permanent`, `transient`, `temporary`; default
/// `permanent`), `shutdown` (`brutal_kill`, `infinity`, milliseconds or a
/// duration string; default 5 s), `significant` (only with `transient` or
/// `temporary`), `crate`. The struct implements [`Worker`] itself.
///
/// A finite `shutdown` on a worker that is not asked to stop (no
/// `#[terminate]` hook in its `#[handlers]`, [`Worker::HANDLES_SHUTDOWN`]
/// not set) compiles with a warning at the value: its supervisor aborts it
/// at once (OTP's process that does not trap exits), so the timeout is
/// never waited for.
///
/// The attribute goes on the struct or enum, not on its `impl Worker`, and
/// declares only the defaults: the type is a [`Child`] when it also
/// implements [`Worker`] (a generic worker, for the parameters its
/// `Worker` impl allows), so a mistake in that impl (a worker or a
/// `Message` that is not `Send`) is reported there, once. A worker whose
/// shutdown is 0 can be a child of a static supervisor, not of a
/// [`DynamicSupervisor`], which refuses it (a field of that type is a
/// compile error).
///
/// # Examples
///
/// ```
/// use supervise::{worker, Child, Context, Exit, Restart, Worker};
///
/// #[worker(restart = temporary, shutdown = brutal_kill)]
/// #[derive(Clone)]
/// struct Job;
///
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// }
///
/// assert_eq!(<Job as Child>::RESTART, Restart::Temporary);
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use supervise_macros::worker;

#[doc = include_str!("handlers_macro.md")]
#[cfg(feature = "macros")]
#[doc(inline)]
pub use supervise_macros::handlers;

/// Declares a whole supervision tree in one macro: the root and the
/// supervisors nested in it, written inline as `name: Name { ... }`.
///
/// It takes the same `#[supervisor(...)]` and `#[child(...)]` keys as
/// [`derive(Supervisor)`](derive@Supervisor), goes through the same checks
/// (and warning), and generates the same code, plus the structs themselves
/// (public fields, `Clone` when all their fields are: a child built by a
/// `factory` need not be): the root's value is the tree's start argument.
/// An inline supervisor is a child: its name is its id (the field's name,
/// or `#[child(id = ...)]`), so it takes no `name`. Its name is a type
/// alias of a struct the macro declares, generic in its fields' types, in a
/// hidden module named after the root (`app_tree` for `App`): it is built,
/// matched and given `impl` blocks as a struct is, rustc's messages call it
/// `app_tree::Web<Api>`, and a name the module already has is one error,
/// at that name. The macro may be used
/// inside a function, and a tree takes no `#[derive(Supervisor)]` (the
/// macro implements it).
///
/// # Examples
///
/// ```
/// use supervise::{supervision_tree, worker, Context, Exit, Worker};
///
/// #[worker]
/// #[derive(Clone)]
/// struct Service;
///
/// impl Worker for Service {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// supervision_tree! {
///     #[supervisor(strategy = rest_for_one)]
///     pub struct Shop {
///         db: Service,
///         #[supervisor(strategy = one_for_one, max_restarts = 10)]
///         orders: Orders {
///             intake: Service,
///             billing: Service,
///         },
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let shop = Shop { db: Service, orders: Orders { intake: Service, billing: Service } }
///     .start()
///     .await
///     .unwrap();
/// assert!(shop.orders.billing.child().is_some());
/// shop.supervisor().current().unwrap().stop().await.unwrap();
/// # }
/// ```
#[cfg(feature = "macros")]
#[doc(inline)]
pub use supervise_macros::supervision_tree;

// Lets the macros' `::supervise::` paths resolve inside this crate too.
#[allow(unused_extern_crates)]
extern crate self as supervise;
