//! The hand-written concurrency protocols and the primitives they are
//! built on.
//!
//! Under `--cfg shuttle` the primitives are [shuttle]'s, whose scheduler
//! explores the interleavings of the protocols' models (the
//! `shuttle_model` tests beside each protocol; see the README's
//! "Reliability" section for the commands). Otherwise they are `std`'s.
//! Only the protocols use this facade: code that takes a lock without
//! racing a peer uses `std` directly.
//!
//! | protocol | where | model |
//! |---|---|---|
//! | a state handed between an owner task and callers ([`HandOver`]) | [`handover`] | `handover::shuttle_model` |
//! | an incarnation's abort, given before or after its task exists ([`AbortCell`]) | [`abort`] | `abort::shuttle_model` |
//! | a mailbox's queue, its receiver's waker and its handles' wait for a change | `crate::mailbox` | `mailbox::shuttle_model` |
//! | a call's reply slot, watched by its callee's mailbox once taken | [`call`] | `call::shuttle_model` |
//!
//! [shuttle]: https://docs.rs/shuttle

pub(crate) mod abort;
pub(crate) mod call;
pub(crate) mod handover;

pub(crate) use self::abort::AbortCell;
pub(crate) use self::handover::HandOver;

#[cfg(not(shuttle))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32};
#[cfg(not(shuttle))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(shuttle)]
pub(crate) use shuttle::sync::atomic::{AtomicBool, AtomicU32};
#[cfg(shuttle)]
pub(crate) use shuttle::sync::{Mutex, MutexGuard};

/// Locks `mutex`, whether or not a panic poisoned it (the protocols keep
/// their invariants across a panic: nothing is left half-written under
/// their locks).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
