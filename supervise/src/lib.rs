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

mod child;
mod error;
mod event;
mod exit;
mod handle;
mod intensity;
mod spec;
mod supervised;
mod supervisor;
mod worker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::child::{ChildRef, ChildSpec, ChildSpecInfo};
pub use crate::error::{CallError, ParseSpecError, SpecError, StartError};
pub use crate::event::{Event, EventStream};
pub use crate::exit::{BoxError, Exit, ExitReason, PanicReason};
pub use crate::handle::{HandleError, Reply, SendError, SupervisorRef, WorkerHandle};
pub use crate::spec::{
    parse_max_restarts, parse_period, parse_significant, AutoShutdown, ChildKind, Intensity,
    Restart, Shutdown, Strategy,
};
pub use crate::supervised::Child;
pub use crate::supervisor::{
    ChildCounts, ChildInfo, ChildStatus, DynamicSupervisor, DynamicSupervisorBuilder,
    DynamicSupervisorSpec, Supervisor, SupervisorBuilder, SupervisorHandle, SupervisorSpec,
};
pub use crate::worker::{Context, Init, Worker};

#[cfg(feature = "macros")]
pub use supervise_macros::{supervision_tree, worker, Supervisor};

// Lets the macros' `::supervise::` paths resolve inside this crate too.
#[allow(unused_extern_crates)]
extern crate self as supervise;
