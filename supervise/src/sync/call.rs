//! A call's reply slot: one allocation shared by the caller, the callee's
//! [`Reply`](crate::Reply) and, once the callee has taken the request, the
//! callee's mailbox, which tells it when that incarnation ends.
//!
//! A call must fail with `Lost` the moment its callee incarnation ends,
//! even when the callee handed its `Reply` to a task that outlives it. The
//! caller used to register on the incarnation's exit notification for
//! every call (a `Notify` waiter: two lock operations and a list). Now only
//! a request the callee has taken out of its queue is watched: the mailbox
//! keeps a weak reference to its slot beside the incarnation's queue and
//! marks it ended when the incarnation goes down. A request still queued
//! needs no watch: it dies with the queue, its `Reply` dropped.
//!
//! # Protocol
//!
//! * Every change (a value, the reply sent or dropped, the callee ended,
//!   the caller gone) happens under `state`'s lock, and the caller's waker
//!   is taken under it and woken after: the caller either sees a change
//!   or is woken by it.
//! * A value sent before the callee ended counts: the caller looks for the
//!   value first.
//!
//! `call::shuttle_model` checks it under `--cfg shuttle`.

use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use super::{lock, Mutex};

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

struct State<R> {
    value: Option<R>,
    waker: Option<Waker>,
    /// The reply half was sent or dropped.
    replied: bool,
    /// The callee incarnation that took the request has ended.
    ended: bool,
    /// The caller stopped waiting.
    caller_gone: bool,
}

struct Cell<R> {
    state: Mutex<State<R>>,
}

impl<R> Cell<R> {
    /// Changes the state under the lock, then wakes the caller.
    fn change(&self, f: impl FnOnce(&mut State<R>)) {
        let waker = {
            let mut state = lock(&self.state);
            f(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A taken request's slot, as its callee's mailbox keeps it.
pub(crate) trait Watch: Send + Sync {
    /// The callee incarnation ended.
    fn callee_ended(&self);
}

impl<R: Send> Watch for Cell<R> {
    fn callee_ended(&self) {
        self.change(|state| state.ended = true);
    }
}

/// A weak reference to a call's slot: what a queued request carries.
pub(crate) type WatchRef = Weak<dyn Watch>;

/// A new call: the callee's half and the caller's.
pub(crate) fn channel<R: Send + 'static>() -> (Sender<R>, Answer<R>) {
    let cell = Arc::new(Cell {
        state: Mutex::new(State {
            value: None,
            waker: None,
            replied: false,
            ended: false,
            caller_gone: false,
        }),
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
        let mut back = None;
        cell.change(|state| {
            state.replied = true;
            if state.caller_gone {
                back = Some(value);
            } else {
                state.value = Some(value);
            }
        });
        back.map_or(Ok(()), Err)
    }
}

impl<R> Drop for Sender<R> {
    fn drop(&mut self) {
        if let Some(cell) = self.0.take() {
            cell.change(|state| state.replied = true);
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
    /// The value if one came, else the callee's end, else the reply's drop.
    pub(crate) fn poll_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Outcome<R>> {
        let mut state = lock(&self.cell.state);
        if let Some(value) = state.value.take() {
            self.settled = true;
            return Poll::Ready(Outcome::Answer(value));
        }
        if state.ended {
            return Poll::Ready(Outcome::Ended);
        }
        if state.replied {
            self.settled = true;
            return Poll::Ready(Outcome::Dropped);
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
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
        let value = {
            let mut state = lock(&self.cell.state);
            state.caller_gone = true;
            state.waker = None;
            state.value.take()
        };
        drop(value);
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
