//! Supervisors: [`Supervisor`]'s builder and spec, the handles
//! ([`SupervisorHandle`] for one incarnation, [`SupervisorRef`] across
//! restarts), what `which_children` and `count_children` return, and the
//! errors of a spec, a start and a call. The dynamic and task supervisors
//! are also in [`dynamic`](crate::dynamic) and [`task`](crate::task).

// | module | what it holds |
// |---|---|
// | `builder` | [`SupervisorBuilder`], [`SupervisorSpec`]: a static supervisor's spec and its start as a root or a child |
// | `runner` | the static supervisor's task: its children's slots, exits, restarts by strategy, shutdown, control calls |
// | `handle` | [`SupervisorHandle`], the control API of either kind |
// | `dynamic` | the dynamic supervisor (Elixir's `DynamicSupervisor`, OTP's `simple_one_for_one`) |
// | `typed_dynamic`, `task` | [`DynamicSupervisor`], [`TaskSupervisor`]: typed fronts on the dynamic one |
// | `partition` | [`Partitioned`] (N children of any type behind one handle) and [`PartitionSupervisor`] (its form for dynamic supervisors) |
//
// The rules both engines decide by are in `crate::rules`, their reports
// in `crate::report`: the engines do not import each other.

/// The child-spec defaults of a supervisor child, as OTP's: permanent,
/// shutdown `infinity`, not significant. Inside an `impl Child`.
macro_rules! supervisor_child_defaults {
    () => {
        const KIND: crate::policy::ChildKind = crate::policy::ChildKind::Supervisor;
        const RESTART: crate::policy::Restart = crate::policy::Restart::Permanent;
        const SHUTDOWN: crate::policy::Shutdown = crate::policy::Shutdown::Infinity;
        const SIGNIFICANT: bool = false;
    };
}

/// Setters of the `DynOptions` a typed dynamic supervisor keeps in its
/// `options` field: `name(arg: Type) => field = value;`, each with its docs.
macro_rules! dyn_option_setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident = $value:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.options.$field = Some($value);
                self
            }
        )*
    };
}

mod builder;
mod call_error;
mod dynamic;
mod handle;
mod partition;
mod runner;
mod task;
mod typed_dynamic;

pub use self::builder::{SupervisorBuilder, SupervisorSpec};
pub use self::call_error::CallError;
pub(crate) use self::dynamic::start_inline;
pub use self::dynamic::{DynamicSupervisorBuilder, DynamicSupervisorSpec};
pub use self::handle::{ChildCounts, ChildInfo, ChildStatus, SupervisorHandle, SupervisorRef};
pub use self::partition::{PartitionHandle, PartitionSupervisor, Partitioned, PartitionedHandle};
pub use self::task::{
    AsyncStream, FromStream, LinkedTask, OnTimeout, SpawnLinked, SpawnRestarting, SpawnTask,
    TaskError, TaskHandle, TaskInputs, TaskStream, TaskStreamError, TaskSupervisor,
    TaskSupervisorHandle, DEFAULT_AWAIT_TIMEOUT,
};
pub use self::typed_dynamic::{DynamicHandle, DynamicSupervisor, DynamicWorker, KeyedStartError};
pub use crate::error::{SpecError, StartError};

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use smol_str::SmolStr;
use tokio::sync::{mpsc, oneshot};

use crate::child::{self, ChildPath, ChildRef, ChildSpec, ChildSpecInfo, Start};
use crate::event::EventBus;
use crate::exit::ExitReason;

/// Entry point for declaring a supervisor with the builder API.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Exit, Strategy, Supervisor, Worker};
///
/// struct Db;
/// impl Worker for Db {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let app = Supervisor::builder("app")
///     .strategy(Strategy::RestForOne)
///     .max_restarts(3)
///     .max_seconds(5)
///     .child(ChildSpec::worker("db", || Db))
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// assert_eq!(app.count_children().await.unwrap().active, 1);
/// app.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct Supervisor {
    _private: (),
}

impl Supervisor {
    /// A builder for a supervisor named `name` (the first component of
    /// every path below it).
    pub fn builder(name: impl Into<Arc<str>>) -> SupervisorBuilder {
        SupervisorBuilder::new(name.into())
    }
}

/// What a supervisor's inbox carries: child exits, control calls, stop
/// requests and its own retries, served one at a time in arrival order.
pub(crate) enum Msg {
    Exited {
        serial: u64,
        reason: ExitReason,
    },
    /// A failed restart to retry: by id in a static supervisor, by key in
    /// a dynamic one.
    TryAgain {
        id: SmolStr,
        key: u64,
    },
    /// A backoff delay ran out: start the child now (already counted).
    BackoffElapsed {
        id: SmolStr,
        key: u64,
    },
    Call(Call),
    Stop {
        reason: ExitReason,
    },
}

/// The sending side of a supervisor's inbox, shared by its handles, its
/// children (for their exits) and its own timers.
///
/// It counts the messages sent and not yet served. A dynamic supervisor
/// reads the count to tell that it is idle, with nothing in its inbox,
/// and then lets a caller start a child in the caller's own task (see
/// `dynamic`); a static supervisor keeps the count but never reads it.
#[derive(Clone)]
pub(crate) struct Inbox(Arc<InboxShared>);

struct InboxShared {
    tx: mpsc::UnboundedSender<Msg>,
    unserved: AtomicUsize,
}

impl Inbox {
    /// A new inbox and the receiver its supervisor serves.
    pub(crate) fn new() -> (Inbox, mpsc::UnboundedReceiver<Msg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = InboxShared {
            tx,
            unserved: AtomicUsize::new(0),
        };
        (Inbox(Arc::new(shared)), rx)
    }

    /// Sends `msg`; fails (dropping it) once the supervisor has dropped
    /// its receiver.
    pub(crate) fn send(&self, msg: Msg) -> Result<(), InboxClosed> {
        // Counted before it is queued: a message in the queue is always
        // counted.
        self.0.unserved.fetch_add(1, Ordering::SeqCst);
        self.0.tx.send(msg).map_err(|_| {
            self.served();
            InboxClosed
        })
    }

    /// One message was received and fully handled.
    pub(crate) fn served(&self) {
        self.0.unserved.fetch_sub(1, Ordering::SeqCst);
    }

    /// Nothing sent is waiting to be served.
    pub(crate) fn is_idle(&self) -> bool {
        self.0.unserved.load(Ordering::SeqCst) == 0
    }
}

/// The supervisor no longer serves its inbox.
#[derive(Debug)]
pub(crate) struct InboxClosed;

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("unserved", &self.0.unserved.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, CallError>>;

/// A supervisor's own part of a snapshot, and the handles of its running
/// supervisor children, whose parts the caller collects.
pub(crate) type LocalSnapshot = (
    crate::snapshot::SupervisorSnapshot,
    Vec<Option<SupervisorHandle>>,
);

pub(crate) enum Call {
    Snapshot(oneshot::Sender<LocalSnapshot>),
    WhichChildren(oneshot::Sender<Vec<ChildInfo>>),
    CountChildren(oneshot::Sender<ChildCounts>),
    GetChildspec(Arc<str>, Reply<ChildSpecInfo>),
    GetChildspecRef(ChildRef, Reply<ChildSpecInfo>),
    StartChild(ChildSpec, Reply<Option<ChildRef>>),
    TerminateChild(Arc<str>, Reply<()>),
    TerminateChildRef(ChildRef, Reply<()>),
    RestartChild(Arc<str>, Reply<Option<ChildRef>>),
    DeleteChild(Arc<str>, Reply<()>),
}

/// Starts `spec`, a supervisor named `path`, as the root of a tree whose
/// events go to `bus`.
pub(crate) async fn start_root(
    spec: ChildSpec,
    path: Arc<str>,
    bus: &Arc<EventBus>,
) -> Result<SupervisorHandle, StartError> {
    let current = tracing::Span::current();
    match child::start(&spec, ChildPath::joined(path), 1, bus, None, &current).await {
        Start::Started(running) => {
            let handle = running
                .child_ref()
                .supervisor()
                .expect("a started supervisor has a handle");
            running.detach();
            Ok(handle)
        }
        Start::Failed(reason) => Err(StartError::new(reason)),
        // Its init decided `ignore` (see `SupervisorBuilder::init`).
        Start::Ignored => Err(StartError::ignored()),
    }
}
