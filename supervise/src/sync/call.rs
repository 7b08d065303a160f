//! A call's reply slot: one allocation shared by the caller, the callee's
//! [`Reply`](crate::Reply) and the callee's mailbox, which tells it when
//! the incarnation the request was queued for ends.
//!
//! A call must fail with `Lost` the moment its callee incarnation ends,
//! even when the callee handed its `Reply` to a task that outlives it. The
//! caller used to register on the incarnation's exit notification for
//! every call (a `Notify` waiter: two lock operations and a list). Instead
//! the mailbox keeps a weak reference to the slot beside the incarnation's
//! queue and marks it ended when the incarnation goes down.
//!
//! # Protocol
//!
//! A state word and two cells: the value and the caller's waker. No lock.
//!
//! * A notification (the value sent, the reply dropped, the callee ended)
//!   is a bit set with one `fetch_or`; the value is written before its bit.
//!   Whoever sets a bit wakes the caller if the previous word had
//!   `WAKER_SET`: the caller's waker is published then, and only read.
//! * The caller writes its waker only while `WAKER_SET` is clear, then sets
//!   it with a `fetch_or`; a notification that came before shows in that
//!   `fetch_or`'s result, and the caller is ready without a wake. To
//!   replace a waker it clears `WAKER_SET` by a compare-exchange that
//!   fails once any notification is set (it is ready then). Every
//!   notification makes the caller ready, so once one is set the waker is
//!   never written again; it is dropped with the slot.
//! * The value is taken by exactly one side: the caller when it sees the
//!   value's bit, or the sender when its `fetch_or` finds the caller gone
//!   (the caller takes it when its own `fetch_or` of `CALLER_GONE` finds
//!   the value's bit).
//! * A value sent before the callee ended counts: the caller looks for the
//!   value first.
//!
//! `call::shuttle_model` checks it under `--cfg shuttle`.

use std::cell::UnsafeCell;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use super::AtomicU32;

/// What a call's caller learns.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome<R> {
    /// The reply.
    Answer(R),
    /// The callee incarnation ended before it replied.
    Ended,
    /// The reply was dropped unanswered.
    Dropped,
}

/// The value is in `value` (set with [`REPLIED`]).
const VALUE: u32 = 1;
/// The reply half was sent or dropped.
const REPLIED: u32 = 1 << 1;
/// The callee incarnation the request was queued for has ended.
const ENDED: u32 = 1 << 2;
/// The caller stopped waiting.
const CALLER_GONE: u32 = 1 << 3;
/// `waker` holds the caller's waker, for the notifiers to read.
const WAKER_SET: u32 = 1 << 4;
/// The bits that make the caller ready.
const NOTIFIED: u32 = VALUE | REPLIED | ENDED;

struct Cell<R> {
    state: AtomicU32,
    value: UnsafeCell<Option<R>>,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `value` and `waker` are accessed as the module's protocol says:
// the value by one side at a time, handed over by the state word's
// acquire-release operations; the waker written by the caller alone while
// no notifier may read it, and read (a shared `&Waker`, which is `Sync`)
// once published.
unsafe impl<R: Send> Send for Cell<R> {}
// SAFETY: as for `Send`.
unsafe impl<R: Send> Sync for Cell<R> {}

impl<R> Cell<R> {
    /// Sets `bits` and wakes the caller if its waker is published.
    /// Returns the previous state.
    fn notify(&self, bits: u32) -> u32 {
        let prev = self.state.fetch_or(bits, AcqRel);
        if prev & (WAKER_SET | CALLER_GONE) == WAKER_SET {
            // SAFETY: `WAKER_SET` was set, and the caller writes its waker
            // only after clearing it, which fails from now on (a
            // notification is set): the waker is only read.
            if let Some(waker) = unsafe { &*self.waker.get() } {
                waker.wake_by_ref();
            }
        }
        prev
    }

    /// Takes the value out.
    ///
    /// # Safety
    ///
    /// The caller of this function is the side the protocol gives the
    /// value to (see the module's docs).
    unsafe fn take_value(&self) -> Option<R> {
        // SAFETY: by this function's contract, no other side touches it.
        unsafe { (*self.value.get()).take() }
    }
}

/// A queued request's slot, as its callee's mailbox keeps it.
pub(crate) trait Watch: Send + Sync {
    /// The callee incarnation ended.
    fn callee_ended(&self);
}

impl<R: Send> Watch for Cell<R> {
    fn callee_ended(&self) {
        self.notify(ENDED);
    }
}

/// A weak reference to a call's slot: what the callee's mailbox keeps.
pub(crate) type WatchRef = Weak<dyn Watch>;

/// A new call: the callee's half and the caller's.
pub(crate) fn channel<R: Send + 'static>() -> (Sender<R>, Answer<R>) {
    let cell = Arc::new(Cell {
        state: AtomicU32::new(0),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
    });
    (
        Sender(Some(cell.clone())),
        Answer {
            cell,
            settled: false,
        },
    )
}

/// The callee's half.
pub(crate) struct Sender<R>(Option<Arc<Cell<R>>>);

impl<R> Sender<R> {
    /// Answers; hands the value back when the caller has gone.
    pub(crate) fn send(mut self, value: R) -> Result<(), R> {
        let cell = self.0.take().expect("sent once");
        // SAFETY: before the value's bit is set, nobody else reads it.
        unsafe { *cell.value.get() = Some(value) };
        let prev = cell.notify(VALUE | REPLIED);
        if prev & CALLER_GONE == 0 {
            return Ok(());
        }
        // SAFETY: the caller left before the value's bit was set: it will
        // not take the value, the sender does.
        let back = unsafe { cell.take_value() };
        back.map_or(Ok(()), Err)
    }
}

impl<R> Drop for Sender<R> {
    fn drop(&mut self) {
        if let Some(cell) = self.0.take() {
            cell.notify(REPLIED);
        }
    }
}

/// The caller's half; `settled` once it has seen the reply sent or
/// dropped (the callee's half is gone: nothing is left to tell).
pub(crate) struct Answer<R> {
    cell: Arc<Cell<R>>,
    settled: bool,
}

impl<R: Send + 'static> Answer<R> {
    /// The watch the request carries to its callee's mailbox.
    pub(crate) fn watch(&self) -> WatchRef {
        let weak: Weak<dyn Watch> = Arc::downgrade(&self.cell) as Weak<dyn Watch>;
        weak
    }
}

impl<R> Answer<R> {
    /// What `state` says: the value if one came, else the callee's end,
    /// else the reply's drop; `None` before any of them.
    fn ready(&mut self, state: u32) -> Option<Outcome<R>> {
        if state & VALUE != 0 {
            // SAFETY: the value's bit is set and the caller is here: the
            // value is the caller's.
            if let Some(value) = unsafe { self.cell.take_value() } {
                self.settled = true;
                return Some(Outcome::Answer(value));
            }
        }
        if state & ENDED != 0 {
            return Some(Outcome::Ended);
        }
        if state & REPLIED != 0 {
            self.settled = true;
            return Some(Outcome::Dropped);
        }
        None
    }

    /// The value if one came, else the callee's end, else the reply's drop.
    pub(crate) fn poll_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Outcome<R>> {
        let mut state = self.cell.state.load(Acquire);
        if let Some(outcome) = self.ready(state) {
            return Poll::Ready(outcome);
        }
        if state & WAKER_SET != 0 {
            // SAFETY: only the caller writes the waker; a shared read
            // beside the notifiers' reads.
            let same = unsafe { &*self.cell.waker.get() }
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()));
            if same {
                return Poll::Pending;
            }
            match self
                .cell
                .state
                .compare_exchange(state, state & !WAKER_SET, AcqRel, Acquire)
            {
                Ok(_) => state &= !WAKER_SET,
                // Only a notification changes the word under the caller.
                Err(actual) => return self.ready(actual).map_or(Poll::Pending, Poll::Ready),
            }
        }
        debug_assert_eq!(state & (WAKER_SET | NOTIFIED), 0);
        // SAFETY: `WAKER_SET` is clear and no notification is set: no
        // notifier reads the waker until the `fetch_or` below publishes it.
        unsafe { *self.cell.waker.get() = Some(cx.waker().clone()) };
        let prev = self.cell.state.fetch_or(WAKER_SET, AcqRel);
        self.ready(prev).map_or(Poll::Pending, Poll::Ready)
    }

    /// Whether the callee incarnation has been marked ended.
    pub(crate) fn callee_ended(&self) -> bool {
        self.cell.state.load(Acquire) & ENDED != 0
    }

    /// Waits for the outcome. Cancel safe.
    pub(crate) async fn outcome(&mut self) -> Outcome<R> {
        std::future::poll_fn(|cx| self.poll_outcome(cx)).await
    }
}

impl<R> Drop for Answer<R> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let prev = self.cell.state.fetch_or(CALLER_GONE, AcqRel);
        if prev & VALUE != 0 {
            // SAFETY: the value came before the caller left: it is the
            // caller's to drop.
            drop(unsafe { self.cell.take_value() });
        }
    }
}

/// Marks the watched slots of requests an ended incarnation had taken.
pub(crate) fn end_all(taken: Vec<WatchRef>) {
    for watch in taken {
        if let Some(cell) = watch.upgrade() {
            cell.callee_ended();
        }
    }
}

/// Keeps `watch` among an incarnation's taken requests, first dropping
/// the ones whose call is over (no caller and no reply half left) when the
/// list is full: amortised O(1) per call.
pub(crate) fn keep(taken: &mut Vec<WatchRef>, watch: WatchRef) {
    if taken.len() == taken.capacity() && taken.len() >= 8 {
        taken.retain(|w| w.strong_count() > 0);
    }
    taken.push(watch);
}

#[cfg(all(test, shuttle))]
mod shuttle_model {
    //! The slot under shuttle's randomised schedules: a callee that
    //! answers, drops its reply or keeps it past its end, against a caller
    //! waiting. Checked: no lost wake-up (a deadlock shuttle reports), a
    //! value sent before the end always counts.

    use super::{channel, end_all, Outcome};

    fn call(action: u8) {
        let (tx, rx) = channel::<u32>();
        let watch = rx.watch();
        let mut rx = rx;
        let caller = shuttle::future::spawn(async move { rx.outcome().await });
        let callee = shuttle::thread::spawn(move || {
            let kept = match action {
                0 => {
                    tx.send(7).unwrap();
                    None
                }
                1 => {
                    drop(tx);
                    None
                }
                _ => Some(tx),
            };
            end_all(vec![watch]);
            drop(kept);
        });
        callee.join().unwrap();
        let outcome = shuttle::future::block_on(caller).unwrap();
        match action {
            0 => assert_eq!(outcome, Outcome::Answer(7)),
            1 => assert!(matches!(outcome, Outcome::Dropped | Outcome::Ended)),
            _ => assert_eq!(outcome, Outcome::Ended),
        }
    }

    #[test]
    fn call_slot_random_schedules() {
        for action in 0..3 {
            shuttle::check_random(move || call(action), 2_000);
        }
    }

    #[test]
    fn call_slot_bounded_preemptions() {
        for action in 0..3 {
            shuttle::check_pct(move || call(action), 2_000, 3);
        }
    }

    /// The caller leaves while the answer is sent: the value is handed
    /// back to the sender or dropped by the caller, never both, never
    /// neither.
    fn leave_while_answered() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        struct Counted(Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Counted>();
        let value = Counted(drops.clone());
        let callee = shuttle::thread::spawn(move || tx.send(value).err());
        drop(rx);
        let back = callee.join().unwrap();
        let came_back = back.is_some();
        drop(back);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "came back: {came_back}");
    }

    #[test]
    fn a_caller_leaving_during_the_answer_drops_it_once() {
        shuttle::check_random(leave_while_answered, 2_000);
        shuttle::check_pct(leave_while_answered, 2_000, 3);
    }

    #[test]
    fn an_answer_after_the_caller_left_comes_back() {
        shuttle::check_random(
            || {
                let (tx, rx) = channel::<u32>();
                drop(rx);
                assert_eq!(tx.send(3), Err(3));
            },
            10,
        );
    }
}
