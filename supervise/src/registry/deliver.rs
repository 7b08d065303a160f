//! What a registry's `dispatch` sends through: an entry's value that can
//! deliver a message to its owner.

use tokio::sync::mpsc;

use crate::child::ChildRef;
use crate::worker::Worker;
use crate::worker_handle::WorkerHandle;

/// A registry value that can deliver a message of type `M` to the
/// incarnation that registered it: what [`Registry::dispatch`] sends
/// through (Elixir's `dispatch/3` callback, typed).
///
/// Implemented for tokio's channel senders (the worker keeps the receiver:
/// when the incarnation ends, the receiver goes with it and delivery
/// fails) and for [`WorkerHandle`] (delivered only while the incarnation
/// that registered is the one running). Implement it for a sender of your
/// own.
///
/// [`Registry::dispatch`]: crate::Registry::dispatch
///
/// # Examples
///
/// ```
/// use supervise::{ChildRef, Deliver};
///
/// /// A value that delivers by pushing onto a shared log.
/// #[derive(Clone)]
/// struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);
///
/// impl Deliver<String> for Log {
///     fn deliver(&self, _to: &ChildRef, message: String) -> Result<(), String> {
///         self.0.lock().unwrap().push(message);
///         Ok(())
///     }
/// }
/// ```
pub trait Deliver<M> {
    /// Delivers `message` to `to`, the entry's owner; hands the message
    /// back when it cannot be delivered (the owner has gone, or its queue
    /// refuses it). A message handed back is counted as dropped.
    ///
    /// # Errors
    ///
    /// The message, undelivered.
    fn deliver(&self, to: &ChildRef, message: M) -> Result<(), M>;
}

impl<M> Deliver<M> for mpsc::UnboundedSender<M> {
    fn deliver(&self, _to: &ChildRef, message: M) -> Result<(), M> {
        self.send(message).map_err(|e| e.0)
    }
}

/// Without waiting: a full channel refuses the message (counted dropped).
impl<M> Deliver<M> for mpsc::Sender<M> {
    fn deliver(&self, _to: &ChildRef, message: M) -> Result<(), M> {
        self.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(m) | mpsc::error::TrySendError::Closed(m) => m,
        })
    }
}

/// Only to the incarnation that registered: once it has exited, its
/// successor (which registers for itself) does not get what was meant for
/// it. A restart between that check and the send is the one window in which
/// the successor gets the message; a message queued for an incarnation that
/// then exits is counted dropped by its mailbox. Either way nothing is
/// lost uncounted.
impl<W: Worker> Deliver<W::Message> for WorkerHandle<W> {
    fn deliver(&self, to: &ChildRef, message: W::Message) -> Result<(), W::Message> {
        if self.child().as_ref() != Some(to) {
            return Err(message);
        }
        self.send(message).map_err(|e| e.message)
    }
}

/// What a [`dispatch`](crate::Registry::dispatch) did: how many entries got
/// the message and how many did not (their owner had ended, or refused it).
/// Every undelivered message is also reported as
/// [`Event::MessagesDropped`](crate::Event::MessagesDropped) on its owner's
/// tree, as a mailbox reports what dies with its incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use]
pub struct Dispatched {
    /// Entries the message was delivered to.
    pub delivered: usize,
    /// Entries whose owner ended before it could be delivered, or whose
    /// value refused it.
    pub dropped: usize,
}
