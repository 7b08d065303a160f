//! A value handed between the task that owns it and callers that may
//! borrow it while the owner is not using it: a dynamic supervisor's state,
//! which its task holds to serve each message and a caller holds to start
//! a child in its own task while the supervisor is idle.
//!
//! # Protocol
//!
//! * The value is in `slot` when nobody holds it, and moved out by whoever
//!   takes it (so no lock is held across what the holder does, which may
//!   `.await`). At most one party holds it at a time.
//! * A caller only tries ([`HandOver::try_hold`]); the owner waits
//!   ([`HandOver::hold`]). Before it waits, the owner sets `waiting`, then
//!   tries again with its notification enabled; a holder that gives the
//!   value back reads `waiting` after putting the value in the slot, and
//!   notifies if set. So the owner either finds the value on its second
//!   try or is woken after it was put back: no wake-up is lost.
//! * When the owner's task dies ([`HandOver::kill`]), `killed` is set under
//!   the slot's lock and the value, if in the slot, is dropped. A holder
//!   giving the value back reads `killed` under the same lock and drops
//!   the value instead. So the value is dropped exactly once, by whichever
//!   of the two comes second, and never given back to a dead owner.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

use tokio::sync::Notify;

use super::{lock, AtomicBool, Mutex};

/// A value handed between its owner task and callers (see the module
/// docs for the protocol).
pub(crate) struct HandOver<T> {
    /// `None` while someone holds the value, or once it was killed.
    slot: Mutex<Option<Box<T>>>,
    /// The value was given back: wakes the owner when it waits for it.
    returned: Notify,
    /// The owner waits for the value: only then is its return notified.
    waiting: AtomicBool,
    /// The owner died: the value is dropped rather than given back.
    killed: AtomicBool,
}

impl<T> HandOver<T> {
    pub(crate) fn new(value: Box<T>) -> Self {
        HandOver {
            slot: Mutex::new(Some(value)),
            returned: Notify::new(),
            waiting: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        }
    }

    /// Takes the value if nobody holds it (a caller's way).
    pub(crate) fn try_hold(&self) -> Option<Held<'_, T>> {
        let value = lock(&self.slot).take()?;
        Some(Held {
            value: Some(value),
            cell: self,
        })
    }

    /// Takes the value, waiting for whoever holds it to give it back (the
    /// owner's way).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is taken until it returns.
    pub(crate) async fn hold(&self) -> Held<'_, T> {
        if let Some(held) = self.try_hold() {
            return held;
        }
        // Set before the value is tried again: whoever gives it back after
        // a failed try sees the flag (see `Held::drop`).
        self.waiting.store(true, Ordering::SeqCst);
        let held = loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(held) = self.try_hold() {
                break held;
            }
            returned.await;
        };
        self.waiting.store(false, Ordering::SeqCst);
        held
    }

    /// The owner died: the value is dropped now if nobody holds it, or
    /// when its holder lets it go.
    pub(crate) fn kill(&self) {
        let value = {
            let mut slot = lock(&self.slot);
            self.killed.store(true, Ordering::SeqCst);
            slot.take()
        };
        drop(value);
    }

    /// Whether the owner died.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// The value, held. Let go, it is given back, or dropped if the owner died
/// meanwhile.
pub(crate) struct Held<'a, T> {
    /// `Some` until dropped.
    value: Option<Box<T>>,
    cell: &'a HandOver<T>,
}

impl<T> Deref for Held<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("held until dropped")
    }
}

impl<T> DerefMut for Held<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        let Some(value) = self.value.take() else {
            return;
        };
        let dead = {
            let mut slot = lock(&self.cell.slot);
            if self.cell.killed.load(Ordering::SeqCst) {
                Some(value)
            } else {
                *slot = Some(value);
                None
            }
        };
        match dead {
            // Dropped outside the lock.
            Some(value) => drop(value),
            None if self.cell.waiting.load(Ordering::SeqCst) => self.cell.returned.notify_one(),
            None => {}
        }
    }
}

#[cfg(all(test, shuttle))]
mod shuttle_model {
    //! The protocol under shuttle's randomised schedules: an owner that
    //! serves a few rounds, callers that try to hold the value meanwhile,
    //! and the owner's death (a kill) while a caller may hold it. Checked:
    //! one holder at a time, no lost wake-up (a lost one is a deadlock
    //! shuttle reports), the value dropped exactly once.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::HandOver;

    /// Counts its holders and its drops.
    struct Value {
        holders: Arc<AtomicUsize>,
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Value {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn touch(value: &Value) {
        assert_eq!(
            value.holders.fetch_add(1, Ordering::SeqCst),
            0,
            "two holders"
        );
        shuttle::thread::yield_now();
        value.holders.fetch_sub(1, Ordering::SeqCst);
    }

    fn model(kill: bool) {
        let drops = Arc::new(AtomicUsize::new(0));
        let cell = Arc::new(HandOver::new(Box::new(Value {
            holders: Arc::default(),
            drops: drops.clone(),
        })));
        let owner = {
            let cell = cell.clone();
            shuttle::future::spawn(async move {
                for _ in 0..3 {
                    let held = cell.hold().await;
                    touch(&held);
                }
                if kill {
                    // The owner's task dies (as `Serving`'s drop does).
                    cell.kill();
                }
            })
        };
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let cell = cell.clone();
                shuttle::thread::spawn(move || {
                    for _ in 0..2 {
                        if let Some(held) = cell.try_hold() {
                            touch(&held);
                        }
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.join().unwrap();
        }
        shuttle::future::block_on(owner).unwrap();
        if kill {
            assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped once when killed");
        } else {
            assert!(cell.try_hold().is_some(), "given back");
            drop(cell);
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    }

    #[test]
    fn hand_over_random_schedules() {
        shuttle::check_random(|| model(false), 2_000);
    }

    #[test]
    fn hand_over_with_a_kill_random_schedules() {
        shuttle::check_random(|| model(true), 2_000);
    }

    #[test]
    fn hand_over_bounded_preemptions() {
        shuttle::check_pct(|| model(true), 2_000, 3);
    }

    /// Every schedule (depth-first), up to the count in
    /// `SUPERVISE_SHUTTLE_DFS` (default 20,000; `0` for no bound).
    #[test]
    fn hand_over_exhaustive() {
        let bound = std::env::var("SUPERVISE_SHUTTLE_DFS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        shuttle::check_dfs(|| model(true), (bound > 0).then_some(bound));
    }
}
