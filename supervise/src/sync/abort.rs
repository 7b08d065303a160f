//! An incarnation's abort: a reason that may be given before the task
//! exists, and a handle that aborts the task once it does.
//!
//! # Protocol
//!
//! * [`AbortCell::abort_with`] sets `aborting` (a flag its owner keeps
//!   and passes in), then, under the lock,
//!   keeps the first reason and aborts the task through its handle if the
//!   handle is there.
//! * The starter spawns the task, then puts its handle in the cell under
//!   the lock ([`AbortCell::set_handle`]), aborting it at once if a reason
//!   is there already; the task's first poll reads `aborting` and, if set,
//!   the reason ([`AbortCell::pending`]), and exits with it at once.
//! * The reason and the handle are both read and written under the lock,
//!   so an abort either finds the handle or is found by `set_handle`: the
//!   task is aborted either way, even when its first poll (on another
//!   thread) came before the abort. (The model found that window: before,
//!   `set_handle` did not look, and such a task ran on.) The reason the
//!   task's exit reports is the first one given.

use std::sync::atomic::Ordering;

use super::{lock, AtomicBool, Mutex};

/// What can abort a task (tokio's `AbortHandle`).
pub(crate) trait Abort {
    fn abort(&self);
}

impl Abort for tokio::task::AbortHandle {
    fn abort(&self) {
        tokio::task::AbortHandle::abort(self);
    }
}

/// An abort's reason `R` and the handle `H` of the task it aborts.
///
/// Its `aborting` flag is kept by the owner and passed in (an incarnation
/// keeps it beside its other flags: an `AtomicBool` here would cost the
/// record 8 bytes of padding, and a dynamic child's record sits at a
/// malloc size-class edge, where those 8 bytes cost about 190 per child).
pub(crate) struct AbortCell<R, H> {
    inner: Mutex<(Option<R>, Option<H>)>,
}

impl<R: Clone, H: Abort> AbortCell<R, H> {
    pub(crate) fn new() -> Self {
        AbortCell {
            inner: Mutex::new((None, None)),
        }
    }

    /// Aborts the task with `reason` (unless it already has one), setting
    /// `aborting` first.
    pub(crate) fn abort_with(&self, aborting: &AtomicBool, reason: R) {
        aborting.store(true, Ordering::Release);
        let mut inner = lock(&self.inner);
        inner.0.get_or_insert(reason);
        if let Some(handle) = &inner.1 {
            handle.abort();
        }
    }

    /// The spawned task's handle: an abort from now on aborts it, and one
    /// given already aborts it now (the task may have had its first poll,
    /// on another thread, before that abort).
    pub(crate) fn set_handle(&self, handle: H) {
        let mut inner = lock(&self.inner);
        if inner.0.is_some() {
            handle.abort();
        }
        inner.1 = Some(handle);
    }

    /// An abort given before the task's first poll (`aborting` is set):
    /// the task exits with its reason at once.
    pub(crate) fn pending(&self, aborting: &AtomicBool) -> Option<R> {
        if !aborting.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.inner).0.clone()
    }

    /// The reason of the abort, if one was given.
    pub(crate) fn reason(&self) -> Option<R> {
        lock(&self.inner).0.clone()
    }
}

#[cfg(all(test, shuttle))]
mod shuttle_model {
    //! A task spawned while two aborts race its start: it always exits,
    //! with the first reason given. A task that would run on is a deadlock
    //! shuttle reports.

    use std::sync::Arc;

    use super::{Abort, AbortCell};
    use crate::sync::AtomicBool;

    /// A task's abort flag, as tokio's task would see it.
    #[derive(Clone, Default)]
    struct Handle(Arc<AtomicBool>);

    impl Abort for Handle {
        fn abort(&self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn model() {
        let cell = Arc::new(AbortCell::<u32, Handle>::new());
        let aborting = Arc::new(AtomicBool::new(false));
        let handle = Handle::default();
        let killers: Vec<_> = [1, 2]
            .into_iter()
            .map(|reason| {
                let (cell, aborting) = (cell.clone(), aborting.clone());
                shuttle::thread::spawn(move || cell.abort_with(&aborting, reason))
            })
            .collect();
        // The starter spawns the task, then files its handle.
        let task = {
            let (cell, aborting, aborted) = (cell.clone(), aborting.clone(), handle.clone());
            shuttle::thread::spawn(move || {
                if let Some(reason) = cell.pending(&aborting) {
                    return reason;
                }
                // Runs until aborted (tokio drops it at an `.await`).
                while !aborted.0.load(std::sync::atomic::Ordering::SeqCst) {
                    shuttle::thread::yield_now();
                }
                cell.reason().expect("aborted with a reason")
            })
        };
        cell.set_handle(handle);
        for killer in killers {
            killer.join().unwrap();
        }
        let exited_with = task.join().unwrap();
        assert_eq!(Some(exited_with), cell.reason(), "the first reason");
    }

    #[test]
    fn abort_random_schedules() {
        shuttle::check_random(model, 2_000);
    }

    #[test]
    fn abort_bounded_preemptions() {
        shuttle::check_pct(model, 2_000, 3);
    }
}
