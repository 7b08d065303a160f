//! The typed event stream of a tree: every start, exit, restart decision
//! and report, in causal order, to every subscriber, losing none.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::child::ChildRef;
use crate::exit::ExitReason;

/// Something that happened in a supervision tree.
///
/// Child events (`Started`, `StartFailed`, `StartIgnored`, `Exited`) name
/// the child's path and incarnation. Reports (`ChildTerminated`,
/// `StartError`, `GaveUp`, `ShutdownError`) are OTP's SUPERVISOR REPORTs:
/// they name the supervisor and the offending child.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A child's init finished and its task is running. For a supervisor
    /// this comes after all its children's events.
    Started {
        /// The new incarnation.
        child: ChildRef,
    },
    /// A child's start failed.
    StartFailed {
        /// The child's path.
        path: Arc<str>,
        /// The incarnation that failed to start.
        incarnation: u64,
        /// Why.
        reason: ExitReason,
    },
    /// A child's init returned [`Init::Ignore`](crate::Init::Ignore).
    StartIgnored {
        /// The child's path.
        path: Arc<str>,
        /// The incarnation that was ignored.
        incarnation: u64,
    },
    /// A child's task ended.
    Exited {
        /// The child's path.
        path: Arc<str>,
        /// The incarnation that exited.
        incarnation: u64,
        /// Why.
        reason: ExitReason,
    },
    /// Messages sent to an incarnation through its handle were still queued
    /// when it exited: they died with it (as a process's mailbox does).
    MessagesDropped {
        /// The child's path.
        path: Arc<str>,
        /// The incarnation that exited.
        incarnation: u64,
        /// How many messages.
        count: usize,
    },
    /// Report: a child exited abnormally, or a permanent child exited at
    /// all (OTP's `child_terminated`).
    ChildTerminated {
        /// The supervisor's path.
        supervisor: Arc<str>,
        /// The child's path.
        child: Arc<str>,
        /// The exit reason.
        reason: ExitReason,
    },
    /// The supervisor decided to restart after this child's exit (one
    /// decision per exit; a group restart is one decision).
    Restarting {
        /// The supervisor's path.
        supervisor: Arc<str>,
        /// The child whose exit caused the restart.
        child: Arc<str>,
    },
    /// Report: a child failed to start during a restart or at the tree's
    /// start (OTP's `start_error`).
    StartError {
        /// The supervisor's path.
        supervisor: Arc<str>,
        /// The child's path.
        child: Arc<str>,
        /// Why it failed.
        reason: ExitReason,
    },
    /// Report: the restart intensity was exceeded; the supervisor stops its
    /// children and exits with `shutdown` (OTP's
    /// `reached_max_restart_intensity`).
    GaveUp {
        /// The supervisor's path.
        supervisor: Arc<str>,
        /// The child whose exit exceeded the intensity.
        child: Arc<str>,
    },
    /// Report: a child exited with an unexpected reason while being shut
    /// down, typically `killed` after its timeout (OTP's `shutdown_error`).
    ShutdownError {
        /// The supervisor's path.
        supervisor: Arc<str>,
        /// The child's path (for a `simple_one_for_one` supervisor, its
        /// template's path, with `children` children behind it).
        child: Arc<str>,
        /// The unexpected reason.
        reason: ExitReason,
        /// For a `simple_one_for_one` supervisor, which reports once per
        /// distinct reason: how many children exited with it.
        children: Option<usize>,
    },
    /// Only on a bounded subscription ([`SupervisorSpec::subscribe_bounded`]):
    /// it was full, and this many events were left out here. The events
    /// before and after it are in order.
    ///
    /// [`SupervisorSpec::subscribe_bounded`]: crate::SupervisorSpec::subscribe_bounded
    Missed {
        /// How many events were left out.
        count: u64,
    },
}

/// A subscription to a tree's events.
///
/// Unbounded by default: a slow subscriber never makes the tree wait and
/// never misses an event, but what it has not read yet takes memory. A
/// bounded subscription (`subscribe_bounded`) keeps at most its capacity
/// and tells the subscriber, in order, how many events it missed
/// ([`Event::Missed`]). Drop it to unsubscribe.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Event, Exit, Supervisor, Worker};
///
/// struct Quick;
/// impl Worker for Quick {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spec = Supervisor::builder("app")
///     .child(ChildSpec::worker("quick", || Quick).restart(supervise::Restart::Temporary))
///     .build()
///     .unwrap();
/// let mut events = spec.subscribe();
/// let sup = spec.start().await.unwrap();
/// let Some(Event::Started { child }) = events.recv().await else { panic!() };
/// assert_eq!(child.path(), "app/quick");
/// sup.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct EventStream {
    rx: Receiver,
}

#[derive(Debug)]
enum Receiver {
    Unbounded(mpsc::UnboundedReceiver<(Instant, Event)>),
    /// With the count of events left out and not told yet, shared with the
    /// bus: the bus tells it before its next event, or the subscriber
    /// takes it once it has read everything queued before.
    Bounded(mpsc::Receiver<(Instant, Event)>, Arc<AtomicU64>),
}

/// What a bounded subscriber is owed, as an event.
fn missed(owed: &AtomicU64) -> Option<(Instant, Event)> {
    let count = owed.swap(0, Ordering::AcqRel);
    (count > 0).then(|| (Instant::now(), Event::Missed { count }))
}

impl EventStream {
    /// Receives the next event; `None` once the tree and every handle to it
    /// are gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is never lost by dropping this future.
    pub async fn recv(&mut self) -> Option<Event> {
        self.recv_timed().await.map(|(_, event)| event)
    }

    /// Receives the next event with the time it happened (tokio's clock,
    /// so paused-clock tests see simulated time).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv_timed(&mut self) -> Option<(Instant, Event)> {
        match &mut self.rx {
            Receiver::Unbounded(rx) => rx.recv().await,
            Receiver::Bounded(rx, owed) => match rx.try_recv() {
                Ok(event) => Some(event),
                Err(_) => match missed(owed) {
                    Some(event) => Some(event),
                    None => rx.recv().await,
                },
            },
        }
    }

    /// Receives an event if one is ready.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.try_recv_timed().map(|(_, event)| event)
    }

    /// Receives an event, with its time, if one is ready.
    pub fn try_recv_timed(&mut self) -> Option<(Instant, Event)> {
        match &mut self.rx {
            Receiver::Unbounded(rx) => rx.try_recv().ok(),
            Receiver::Bounded(rx, owed) => rx.try_recv().ok().or_else(|| missed(owed)),
        }
    }
}

/// The tree-wide fan-out. Emitting costs one relaxed load when nobody
/// listens, and builds the event only when somebody does.
#[derive(Debug, Default)]
pub(crate) struct EventBus {
    active: AtomicBool,
    subscribers: Mutex<Vec<Subscriber>>,
}

/// One subscription, as the bus sends to it.
#[derive(Debug)]
enum Subscriber {
    Unbounded(mpsc::UnboundedSender<(Instant, Event)>),
    /// Events left out since the last one that got through, owed to the
    /// subscriber as an [`Event::Missed`] before the next (or taken by the
    /// subscriber when it has read all that was queued).
    Bounded {
        tx: mpsc::Sender<(Instant, Event)>,
        owed: Arc<AtomicU64>,
    },
}

impl Subscriber {
    /// Sends `event`; false once the subscriber is gone.
    fn send(&mut self, at: Instant, event: &Event) -> bool {
        match self {
            Subscriber::Unbounded(tx) => tx.send((at, event.clone())).is_ok(),
            Subscriber::Bounded { tx, owed } => {
                use mpsc::error::TrySendError;
                if tx.is_closed() {
                    return false;
                }
                let count = owed.swap(0, Ordering::AcqRel);
                if count > 0 {
                    if let Err(TrySendError::Full(_)) = tx.try_send((at, Event::Missed { count })) {
                        owed.fetch_add(count + 1, Ordering::AcqRel);
                        return true;
                    }
                }
                if let Err(TrySendError::Full(_)) = tx.try_send((at, event.clone())) {
                    owed.fetch_add(1, Ordering::AcqRel);
                }
                true
            }
        }
    }
}

impl EventBus {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(EventBus::default())
    }

    pub(crate) fn subscribe(&self) -> EventStream {
        let (tx, rx) = mpsc::unbounded_channel();
        self.add(Subscriber::Unbounded(tx));
        EventStream {
            rx: Receiver::Unbounded(rx),
        }
    }

    /// A subscription that keeps at most `capacity` events (at least one).
    pub(crate) fn subscribe_bounded(&self, capacity: usize) -> EventStream {
        let (tx, rx) = mpsc::channel(capacity.clamp(1, tokio::sync::Semaphore::MAX_PERMITS));
        let owed = Arc::new(AtomicU64::new(0));
        self.add(Subscriber::Bounded {
            tx,
            owed: owed.clone(),
        });
        EventStream {
            rx: Receiver::Bounded(rx, owed),
        }
    }

    fn add(&self, subscriber: Subscriber) {
        self.lock().push(subscriber);
        self.active.store(true, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the event to every subscriber, under one lock, so that all
    /// subscribers see one order that respects causality.
    pub(crate) fn emit(&self, make: impl FnOnce() -> Event) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let event = make();
        let mut subs = self.lock();
        let at = Instant::now();
        subs.retain_mut(|sub| sub.send(at, &event));
        if subs.is_empty() {
            self.active.store(false, Ordering::Release);
        }
    }
}
