//! A worker's mailbox, shared by its handles and its incarnations: while an
//! incarnation runs it holds that incarnation's queue, and between
//! incarnations it tells the handles whether the child will run again.
//!
//! One small allocation per child, made with its spec, and nothing per
//! incarnation: the queue is an empty `VecDeque` until a message waits.
//! (tokio's unbounded channel allocates about a kilobyte up front, most of
//! what an idle child would cost, and a tree is mostly idle children.) A
//! send takes one lock, held for the push, never while user code runs: the
//! messages an incarnation leaves behind are dropped outside it.
//!
//! # Protocol
//!
//! * Every change of state (a send, an incarnation up or down, the child
//!   gone) happens under `state`'s lock.
//! * The receiving incarnation leaves its waker in the state when it finds
//!   nothing; a send takes the waker under the lock and wakes it after:
//!   a message is never queued without its receiver being woken.
//! * A handle that waits for a change (an incarnation up, room in a full
//!   queue) counts itself in `waiting`, enables its `changed` notification,
//!   then looks at the state; a change notifies when it sees a waiter
//!   counted, after the state was changed under the lock. So a waiter
//!   either sees the change or is woken by it. (Sequentially consistent on
//!   both sides: the count and the state are two locations.)
//! * A call's request comes with a weak reference to its reply slot
//!   (`crate::sync::call`). The incarnation it is queued for keeps that
//!   reference beside its queue (under the lock), and when it goes down
//!   (or a newer one comes up, or the child is gone) every slot it kept is
//!   marked ended, outside the lock: a caller fails then, whether its
//!   request was still queued, taken, or its reply handed elsewhere.
//! * An unbounded queue is taken whole by its incarnation, into a batch
//!   of its own that it receives from without the lock while it is not
//!   exiting (an incarnation is made exiting before a newer one comes up
//!   or the child goes). What its batch holds when it ends dies with it,
//!   counted as its queue's messages are.
//!
//! `mailbox::shuttle_model` checks it under `--cfg shuttle` (see
//! `crate::sync`).

use std::collections::VecDeque;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use crate::child::{ChildRef, Incarnation};
use crate::exit::ExitReason;
use crate::report::observe;
use crate::sync::call::{self, Answer, Outcome, WatchRef};
use crate::sync::{lock, AtomicU32, Mutex, MutexGuard};
use crate::worker_handle::HandleError;

/// A queue that has grown past this while a burst waited is given back to
/// the allocator once it is empty again.
const KEEP_CAPACITY: usize = 64;

/// A mailbox and what is allocated with it: a worker's start, so that a
/// worker with a handle costs one allocation for both (see
/// `ChildSpec::worker_with_handle`).
pub(crate) struct WithMailbox<M, T: ?Sized> {
    pub(crate) mailbox: Mailbox<M>,
    pub(crate) with: T,
}

impl<M, T: ?Sized> Deref for WithMailbox<M, T> {
    type Target = Mailbox<M>;

    fn deref(&self) -> &Mailbox<M> {
        &self.mailbox
    }
}

/// A mailbox as its handles and incarnations share it, whatever it was
/// allocated with.
pub(crate) type MailboxRef<M> = Arc<WithMailbox<M, dyn Send + Sync>>;

pub(crate) struct Mailbox<M> {
    state: Mutex<State<M>>,
    /// An incarnation came up, a full queue got room, or the child is gone.
    changed: Notify,
    /// Handles in [`Mailbox::wait_up`] or [`Mailbox::send_wait`]: only
    /// then does a change notify (a notification takes a lock, and a start
    /// is a hot path).
    waiting: AtomicU32,
    /// The most messages queued at once (`u32::MAX`: unbounded, the
    /// default, as an OTP process's mailbox). A `u32` beside the `u32`
    /// count: a mailbox is allocated per child, at a malloc size-class
    /// edge that a `usize` here crossed (+190 B of RSS per child).
    capacity: u32,
}

enum State<M> {
    /// No incarnation runs: before the first start, or between an exit and
    /// the restart.
    Down,
    /// `child` runs: what is sent waits in its queue.
    Up {
        child: ChildRef,
        queue: VecDeque<Envelope<M>>,
        /// The incarnation, waiting for a message.
        waker: Option<Waker>,
        /// The calls sent to it, queued or taken: marked ended when it
        /// goes down.
        taken: Vec<WatchRef>,
    },
    /// The child is gone for good.
    Gone,
}

impl<M> Mailbox<M> {
    pub(crate) fn new() -> Self {
        Mailbox::bounded(usize::MAX)
    }

    /// The capacity, as a queue length.
    fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// A mailbox that holds at most `capacity` messages at once (at least
    /// one): a send beyond it is refused with [`HandleError::Full`], or
    /// waits for room ([`Mailbox::send_wait`]).
    pub(crate) fn bounded(capacity: usize) -> Self {
        Mailbox {
            state: Mutex::new(State::Down),
            changed: Notify::new(),
            waiting: AtomicU32::new(0),
            capacity: u32::try_from(capacity).unwrap_or(u32::MAX).max(1),
        }
    }

    /// Whether the queue is unbounded (the default): then an incarnation
    /// takes it whole.
    fn is_unbounded(&self) -> bool {
        self.capacity == u32::MAX
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        lock(&self.state)
    }

    // ===== the supervisor's side =====

    /// `child` has started: messages go to it from now on. An older
    /// incarnation still up (one that blocked its thread past its kill, see
    /// the README's deliberate differences) receives nothing more, and what
    /// was queued for it dies with it, counted.
    pub(crate) fn up(&self, child: ChildRef) {
        let old = std::mem::replace(
            &mut *self.lock(),
            State::Up {
                child,
                queue: VecDeque::new(),
                waker: None,
                taken: Vec::new(),
            },
        );
        self.notify_changed();
        if let State::Up {
            child,
            queue,
            taken,
            ..
        } = old
        {
            call::end_all(taken);
            discard(child.inner(), queue);
        }
    }

    /// Wakes the handles waiting for a change. A waiter counts itself
    /// before it looks at the state, and the state was changed under the
    /// lock before this looks at the count: a waiter that saw the old
    /// state is counted here.
    fn notify_changed(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.changed.notify_waiters();
        }
    }

    /// The incarnation `child` has ended: down, unless a newer one is up.
    /// What was queued for it dies with it, counted.
    pub(crate) fn down(&self, child: &ChildRef) {
        let (left, taken) = {
            let mut state = self.lock();
            match &mut *state {
                State::Up {
                    child: c,
                    queue,
                    taken,
                    ..
                } if c == child => {
                    let left = std::mem::take(queue);
                    let taken = std::mem::take(taken);
                    *state = State::Down;
                    (left, taken)
                }
                _ => return,
            }
        };
        call::end_all(taken);
        discard(child.inner(), left);
    }

    /// The child is gone for good (deleted, or not to be restarted).
    pub(crate) fn gone(&self) {
        let old = std::mem::replace(&mut *self.lock(), State::Gone);
        self.notify_changed();
        if let State::Up {
            child,
            queue,
            taken,
            ..
        } = old
        {
            call::end_all(taken);
            discard(child.inner(), queue);
        }
    }

    // ===== the handles' side =====

    /// Queues `message` for the running incarnation, or hands it back.
    pub(crate) fn send(&self, message: M) -> Result<(), (HandleError, M)> {
        self.push(message, None, None).map(drop)
    }

    /// Queues a call's request, watching its reply slot `answer`, for the
    /// running incarnation and returns that incarnation's number (see
    /// [`wait_reply`](Self::wait_reply)): a number, read under the lock,
    /// where a `ChildRef` would be an atomic count that all the callers of
    /// one worker contend on.
    pub(crate) fn send_call<R: Send + 'static>(
        &self,
        message: M,
        answer: &Answer<R>,
    ) -> Result<u64, (HandleError, M)> {
        self.push(message, Some(answer.watch()), None)
    }

    /// Queues `message` for the incarnation up (for `to` only, when given),
    /// and returns that incarnation's number.
    fn push(
        &self,
        message: M,
        watch: Option<WatchRef>,
        to: Option<&Arc<Incarnation>>,
    ) -> Result<u64, (HandleError, M)> {
        let envelope = Envelope::new(message);
        let (waker, out) = {
            let mut state = self.lock();
            match &mut *state {
                State::Up { child, .. } if to.is_some_and(|me| !child.is(me)) => {
                    return Err((HandleError::NotRunning, envelope.message));
                }
                State::Up { child, queue, .. } if queue.len() >= self.capacity() => {
                    if child.inner().is_exiting() {
                        return Err((HandleError::NotRunning, envelope.message));
                    }
                    return Err((HandleError::Full, envelope.message));
                }
                State::Up {
                    child,
                    queue,
                    waker,
                    taken,
                } if !child.inner().is_exiting() => {
                    if let Some(watch) = watch {
                        call::keep(taken, watch);
                    }
                    queue.push_back(envelope);
                    (waker.take(), child.incarnation())
                }
                State::Gone => return Err((HandleError::NotFound, envelope.message)),
                _ => return Err((HandleError::NotRunning, envelope.message)),
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(out)
    }

    /// Queues `message` for the incarnation `me` itself (a message a
    /// worker sends itself, a timer's): refused once `me` is no longer the
    /// incarnation up, or when a bounded queue is full.
    pub(crate) fn send_to(
        &self,
        me: &Arc<Incarnation>,
        message: M,
    ) -> Result<(), (HandleError, M)> {
        self.push(message, None, Some(me)).map(drop)
    }

    /// Waits for the reply to a request queued for incarnation number
    /// `callee`. Fails with [`HandleError::Lost`] once the callee has ended
    /// and its reply has not come: wherever its `Reply` went (a task of its
    /// own, another process's queue), the callee died, and a call fails
    /// when its callee dies, as in OTP. Fails with [`HandleError::NoReply`]
    /// when the reply was dropped unanswered and the callee still runs once
    /// the dropping task has had its turn (an incarnation that crashes
    /// drops its reply just before its exit is reported).
    ///
    /// Cancel safe.
    pub(crate) async fn wait_reply<R>(
        &self,
        callee: u64,
        mut answer: Answer<R>,
    ) -> Result<R, HandleError> {
        match answer.outcome().await {
            Outcome::Answer(value) => Ok(value),
            Outcome::Ended => Err(HandleError::Lost),
            Outcome::Dropped => {
                tokio::task::yield_now().await;
                if answer.callee_ended() || !self.is_up(callee) {
                    Err(HandleError::Lost)
                } else {
                    Err(HandleError::NoReply)
                }
            }
        }
    }

    /// Queues `message`, waiting for room in a full bounded mailbox (and,
    /// between two incarnations, for the next one).
    ///
    /// Cancel safe: the message is queued only when this returns `Ok`.
    pub(crate) async fn send_wait(&self, mut message: M) -> Result<(), (HandleError, M)> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _counted = Counted(&self.waiting);
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.send(message) {
                Err((HandleError::Full | HandleError::NotRunning, back)) => message = back,
                other => return other,
            }
            changed.await;
        }
    }

    /// Whether incarnation number `callee` is the one up.
    fn is_up(&self, callee: u64) -> bool {
        matches!(&*self.lock(), State::Up { child, .. } if child.incarnation() == callee)
    }

    /// The running incarnation.
    pub(crate) fn current(&self) -> Result<ChildRef, HandleError> {
        match &*self.lock() {
            State::Up { child, .. } if !child.inner().is_exiting() => Ok(child.clone()),
            State::Gone => Err(HandleError::NotFound),
            _ => Err(HandleError::NotRunning),
        }
    }

    /// Waits until an incarnation runs (or the child is gone).
    ///
    /// Cancel safe.
    pub(crate) async fn wait_up(&self) -> Result<ChildRef, HandleError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _counted = Counted(&self.waiting);
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.current() {
                Err(HandleError::NotRunning) => notified.await,
                other => return other,
            }
        }
    }

    // ===== the incarnation's side =====

    /// The next message for the incarnation `me`; `None` when it is not
    /// (or no longer) the one up. `batch` is the incarnation's own: what it
    /// took out of an unbounded queue at once, received before the queue.
    ///
    /// An incarnation that is not exiting is the one up (it is made
    /// exiting before a newer one comes up or the child goes), so its batch
    /// is read without the lock.
    #[inline]
    pub(crate) fn poll_recv(
        &self,
        me: &Arc<Incarnation>,
        batch: &mut VecDeque<Envelope<M>>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Envelope<M>>> {
        if !me.is_exiting() {
            if let Some(message) = pop(batch) {
                return Poll::Ready(Some(message));
            }
        }
        match self.next(me, batch, Some(cx.waker())) {
            Next::Message(message) => Poll::Ready(Some(message)),
            Next::Empty => Poll::Pending,
            Next::Ended => Poll::Ready(None),
        }
    }

    /// A message for `me`, if one waits (see [`poll_recv`](Self::poll_recv)).
    #[inline]
    pub(crate) fn try_recv(
        &self,
        me: &Arc<Incarnation>,
        batch: &mut VecDeque<Envelope<M>>,
    ) -> Option<Envelope<M>> {
        if !me.is_exiting() {
            if let Some(message) = pop(batch) {
                return Some(message);
            }
        }
        match self.next(me, batch, None) {
            Next::Message(message) => Some(message),
            Next::Empty | Next::Ended => None,
        }
    }

    /// The next message for `me` once its batch is empty or it is
    /// exiting, leaving `waker` to be woken by the next send when there is
    /// none. An unbounded queue is taken whole into the
    /// batch under one lock, its calls' reply slots kept as taken: a burst
    /// costs the receiver one lock instead of one per message. A bounded
    /// queue gives one message at a time, so that what it holds counts
    /// against its capacity until received.
    fn next(
        &self,
        me: &Arc<Incarnation>,
        batch: &mut VecDeque<Envelope<M>>,
        waker: Option<&Waker>,
    ) -> Next<M> {
        let mut state = self.lock();
        let State::Up {
            child,
            queue,
            waker: slot,
            ..
        } = &mut *state
        else {
            drop(state);
            discard(me, std::mem::take(batch));
            return Next::Ended;
        };
        if !child.is(me) {
            drop(state);
            discard(me, std::mem::take(batch));
            return Next::Ended;
        }
        if let Some(message) = pop(batch) {
            return Next::Message(message);
        }
        if self.is_unbounded() && !queue.is_empty() {
            std::mem::swap(queue, batch);
            drop(state);
            return pop(batch).map_or(Next::Empty, Next::Message);
        }
        if let Some(message) = pop(queue) {
            let had_no_room = queue.len() + 1 == self.capacity();
            drop(state);
            if had_no_room {
                self.notify_changed();
            }
            return Next::Message(message);
        }
        if let Some(waker) = waker {
            match slot {
                Some(old) if old.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
        }
        Next::Empty
    }

    /// How many messages wait for `me` in its queue (its batch aside).
    pub(crate) fn queued_for(&self, me: &Arc<Incarnation>) -> usize {
        match &*self.lock() {
            State::Up { child, queue, .. } if child.is(me) => queue.len(),
            _ => 0,
        }
    }
}

/// What [`Mailbox::next`] found.
enum Next<M> {
    Message(Envelope<M>),
    /// Nothing yet: the waker given is woken by the next send.
    Empty,
    /// The incarnation is no longer the one up.
    Ended,
}

/// Messages that were queued for `child` die with it: counted, then
/// dropped outside any lock. A message whose `Drop` panics does not change
/// how the incarnation ended: the panic is caught and reported on its own.
pub(crate) fn discard<M>(child: &Incarnation, left: VecDeque<Envelope<M>>) {
    if left.is_empty() {
        return;
    }
    child.messages_dropped(left.len());
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| drop(left))) {
        let reason = ExitReason::from_panic(panic);
        observe(|| {
            tracing::error!(
                path = %child.path(),
                incarnation = child.number(),
                %reason,
                "a message queued for an ended incarnation panicked when dropped"
            );
        });
    }
}

/// A queued message, with the span that was current where it was sent
/// when a subscriber records spans (`None` otherwise: nothing is captured).
pub(crate) struct Envelope<M> {
    pub(crate) message: M,
    /// Boxed: a span is recorded only under a subscriber, and an envelope
    /// is moved at every step from the sender to the worker.
    span: Option<Box<tracing::Span>>,
}

impl<M> Envelope<M> {
    /// The message, and the span current where it was sent
    /// (`Span::none()` when none was recorded).
    pub(crate) fn traced(self) -> (M, tracing::Span) {
        let span = self.span.map_or_else(tracing::Span::none, |span| *span);
        (self.message, span)
    }

    /// `message`, with no span: what a worker sends
    /// itself during its init.
    pub(crate) fn plain(message: M) -> Self {
        Envelope {
            message,
            span: None,
        }
    }

    /// `message`, with the sender's current span if it is recorded. No
    /// span is looked up while no subscriber was ever set (global or
    /// scoped: both mark the dispatcher set).
    fn new(message: M) -> Self {
        let span = if tracing::dispatcher::has_been_set() {
            let span = tracing::Span::current();
            (!span.is_disabled()).then(|| Box::new(span))
        } else {
            None
        };
        Envelope { message, span }
    }
}

/// The next message of a queue or a batch; one that grew past
/// [`KEEP_CAPACITY`] gives its memory back once empty.
#[inline]
fn pop<M>(queue: &mut VecDeque<Envelope<M>>) -> Option<Envelope<M>> {
    let message = queue.pop_front()?;
    if queue.is_empty() && queue.capacity() > KEEP_CAPACITY {
        *queue = VecDeque::new();
    }
    Some(message)
}

/// Uncounts a waiter however its wait ends (it may be dropped).
struct Counted<'a>(&'a AtomicU32);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(all(test, shuttle))]
mod shuttle_model;

#[cfg(test)]
mod tests;
