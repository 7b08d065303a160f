//! A worker incarnation's mailbox: an unbounded multi-producer,
//! single-consumer queue that costs nothing until a message arrives.
//!
//! tokio's unbounded channel allocates about a kilobyte up front (a block of
//! 32 slots and cache-padded counters). That is most of what an idle child
//! would cost, and a supervision tree is mostly idle children. This queue is
//! one small allocation (a lock, an empty `VecDeque`, the receiver's waker),
//! and grows only while messages wait. Its lock is held for a push or a pop,
//! never while user code runs (a message is dropped outside it).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A queue that has grown past this while a burst waited is given back to
/// the allocator once it is empty again.
const KEEP_CAPACITY: usize = 64;

struct Shared<M> {
    state: Mutex<State<M>>,
}

struct State<M> {
    queue: VecDeque<M>,
    /// The receiver, waiting for a message.
    waker: Option<Waker>,
    senders: usize,
    /// The receiver is gone: sends fail.
    closed: bool,
}

impl<M> Shared<M> {
    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new mailbox: its sending and its receiving half.
pub(crate) fn mailbox<M>() -> (Sender<M>, Receiver<M>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            waker: None,
            senders: 1,
            closed: false,
        }),
    });
    (Sender(shared.clone()), Receiver(shared))
}

/// The sending half; cloned for each holder.
pub(crate) struct Sender<M>(Arc<Shared<M>>);

impl<M> Sender<M> {
    /// Queues `message`, or hands it back if the receiver is gone.
    pub(crate) fn send(&self, message: M) -> Result<(), M> {
        let waker = {
            let mut state = self.0.lock();
            if state.closed {
                return Err(message);
            }
            state.queue.push_back(message);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<M> Clone for Sender<M> {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        Sender(self.0.clone())
    }
}

impl<M> Drop for Sender<M> {
    /// The last sender gone ends the receiver's wait.
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.lock();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The receiving half, held by the incarnation's context.
pub(crate) struct Receiver<M>(Arc<Shared<M>>);

impl<M> Receiver<M> {
    /// The next message; `None` once every sender is gone and the queue is
    /// empty.
    ///
    /// Cancel safe: a message is taken only by the poll that returns it.
    pub(crate) async fn recv(&mut self) -> Option<M> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<M>> {
        let mut state = self.0.lock();
        if let Some(message) = Self::pop(&mut state) {
            return Poll::Ready(Some(message));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// A message if one is waiting.
    pub(crate) fn try_recv(&mut self) -> Option<M> {
        Self::pop(&mut self.0.lock())
    }

    /// How many messages wait.
    pub(crate) fn len(&self) -> usize {
        self.0.lock().queue.len()
    }

    fn pop(state: &mut State<M>) -> Option<M> {
        let message = state.queue.pop_front()?;
        if state.queue.is_empty() && state.queue.capacity() > KEEP_CAPACITY {
            state.queue = VecDeque::new();
        }
        Some(message)
    }
}

impl<M> Drop for Receiver<M> {
    /// Closes the mailbox and drops what is still queued, outside the lock
    /// (a message may hold a reply whose drop wakes its caller).
    fn drop(&mut self) {
        let queued = {
            let mut state = self.0.lock();
            state.closed = true;
            state.waker = None;
            std::mem::take(&mut state.queue)
        };
        drop(queued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_and_ends_when_the_senders_are_gone() {
        let (tx, mut rx) = mailbox();
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(rx.try_recv(), None);
        drop((tx, tx2));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send() {
        let (tx, mut rx) = mailbox();
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.send("hello").unwrap();
        assert_eq!(waiter.await.unwrap(), Some("hello"));
    }

    #[test]
    fn a_send_after_the_receiver_is_gone_hands_the_message_back() {
        let (tx, rx) = mailbox();
        tx.send(String::from("queued")).unwrap();
        drop(rx);
        assert_eq!(tx.send(String::from("late")), Err(String::from("late")));
    }

    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let (tx, mut rx) = mailbox();
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        while rx.try_recv().is_some() {}
        assert_eq!(rx.0.lock().queue.capacity(), 0);
    }
}
