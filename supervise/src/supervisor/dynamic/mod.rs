//! Dynamic supervisors: Elixir's `DynamicSupervisor` and OTP's
//! `simple_one_for_one`, children started at run time, one_for_one only.
//!
//! | module | what it holds |
//! |---|---|
//! | [`spec`] | the builder and the spec, and the settings the typed dynamic supervisors share |
//! | [`core`] | [`DynCore`], the supervisor's state: its children (an explicit record each), their starts, exits, restarts and its shutdown |
//! | [`calls`] | the control calls `DynCore` serves (`start_child`, `terminate_child`, `which_children` ...) |
//! | [`cell`] | [`DynCell`], who holds the state: the supervisor's task, or a caller starting a child in its own task while the supervisor is idle (the hand-over protocol) |
//!
//! The one back-edge: `SupervisorHandle` (in `supervisor::handle`) reaches
//! the [`DynCell`] of a dynamic supervisor to try a start in the caller's
//! task (`start_inline`) before it sends the start as a call.

mod calls;
mod cell;
mod core;
mod spec;

pub(crate) use self::cell::{start_inline, DynCell};
pub(crate) use self::spec::{dynamic_child, start_dynamic_root, DynOptions};
pub use self::spec::{DynamicSupervisorBuilder, DynamicSupervisorSpec};
