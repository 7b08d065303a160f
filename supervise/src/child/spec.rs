//! A child's spec: what its supervisor starts, and with which policy.

use std::fmt;
use std::sync::Arc;

use smol_str::SmolStr;

use crate::backoff::Backoff;
use crate::error::SpecError;
use crate::exit::ExitReason;
use crate::mailbox::{Mailbox, WithMailbox};
use crate::policy::{AutoShutdown, ChildKind, Restart, Shutdown};
use crate::rules;
use crate::worker::Worker;
use crate::worker_handle::WorkerHandle;

use super::start::StartChild;
use super::start::{FailStart, ForgetHook, WorkerStart};

// ===== ChildSpec =====

/// How to start a child and how to treat it: OTP's child spec.
///
/// A child spec holds a factory that builds the worker afresh for every
/// start (OTP's `{M, F, A}`), so a restart never reuses state of the
/// incarnation that crashed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use supervise::{ChildSpec, Context, Exit, Restart, Shutdown, Worker};
///
/// struct Job;
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
/// }
///
/// let spec = ChildSpec::worker("job", || Job)
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(30)));
/// assert_eq!(spec.id(), "job");
/// assert_eq!(spec.restart_type(), Restart::Transient);
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    /// Short ids (most are) are stored inline: no allocation.
    pub(crate) id: SmolStr,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) kind: ChildKind,
    pub(crate) significant: bool,
    /// No other child of its dynamic supervisor can have its id (a typed
    /// handle numbers or keys its children): the supervisor need not keep
    /// a start count per id (see `DynCore::start_child`).
    pub(crate) unique_id: bool,
    /// Boxed: few children have one, and every start moves the spec.
    pub(crate) backoff: Option<Box<Backoff>>,
    pub(crate) start: Arc<dyn StartChild>,
}

impl ChildSpec {
    /// A worker child, built by `factory` at every start. Defaults:
    /// permanent, 5 s shutdown, not significant.
    pub fn worker<W, F>(id: impl AsRef<str>, factory: F) -> Self
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        ChildSpec::from_start(
            id,
            ChildKind::Worker,
            Shutdown::DEFAULT_WORKER,
            Arc::new(WorkerStart::<W, F>::new(factory)),
        )
    }

    /// A worker child and a [`WorkerHandle`] that reaches whichever of its
    /// incarnations is running (each start gets a fresh mailbox).
    pub fn worker_with_handle<W, F>(id: impl AsRef<str>, factory: F) -> (Self, WorkerHandle<W>)
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        ChildSpec::with_mailbox(id, Mailbox::new(), factory)
    }

    /// A worker child and its handle, as
    /// [`worker_with_handle`](Self::worker_with_handle), with a mailbox that
    /// holds at most `capacity` messages (at least one). Mailboxes are
    /// unbounded by default, as an OTP process's is; a bounded one refuses
    /// a [`send`](WorkerHandle::send) beyond it with
    /// [`HandleError::Full`](crate::HandleError::Full) (the message handed
    /// back), and [`send_wait`](WorkerHandle::send_wait) waits for room.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{ChildSpec, Context, Exit, HandleError, Supervisor, Worker};
    ///
    /// struct Slow;
    /// impl Worker for Slow {
    ///     type Message = u32;
    ///     async fn run(self, _ctx: Context<u32>) -> Result<(), Exit> {
    ///         std::future::pending::<()>().await; // never reads its mailbox
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (spec, slow) = ChildSpec::worker_with_bounded_handle("slow", 2, || Slow);
    /// let sup = Supervisor::builder("app").child(spec).build().unwrap().start().await.unwrap();
    /// slow.send(1).unwrap();
    /// slow.send(2).unwrap();
    /// let refused = slow.send(3).unwrap_err();
    /// assert_eq!((refused.error, refused.message), (HandleError::Full, 3));
    /// sup.stop().await.unwrap();
    /// # }
    /// ```
    pub fn worker_with_bounded_handle<W, F>(
        id: impl AsRef<str>,
        capacity: usize,
        factory: F,
    ) -> (Self, WorkerHandle<W>)
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        ChildSpec::with_mailbox(id, Mailbox::bounded(capacity), factory)
    }

    fn with_mailbox<W, F>(
        id: impl AsRef<str>,
        mailbox: Mailbox<W::Message>,
        factory: F,
    ) -> (Self, WorkerHandle<W>)
    where
        W: Worker,
        F: Fn() -> W + Send + Sync + 'static,
    {
        // The mailbox and the start, in one allocation.
        let start = Arc::new(WithMailbox {
            mailbox,
            with: WorkerStart::<W, F>::new(factory),
        });
        let handle = WorkerHandle::new(start.clone());
        let spec = ChildSpec::from_start(id, ChildKind::Worker, Shutdown::DEFAULT_WORKER, start);
        (spec, handle)
    }

    pub(crate) fn from_start(
        id: impl AsRef<str>,
        kind: ChildKind,
        shutdown: Shutdown,
        start: Arc<dyn StartChild>,
    ) -> Self {
        ChildSpec {
            id: SmolStr::new(id),
            restart: Restart::Permanent,
            shutdown,
            kind,
            significant: false,
            unique_id: false,
            backoff: None,
            start,
        }
    }

    /// Marks the id as unique among the dynamic supervisor's children.
    pub(crate) fn with_unique_id(mut self) -> Self {
        self.unique_id = true;
        self
    }

    /// A child whose every start fails with `reason`: how an invalid spec
    /// that could not be reported earlier fails its supervisor's start.
    pub(crate) fn failing(id: impl AsRef<str>, kind: ChildKind, reason: ExitReason) -> Self {
        ChildSpec::from_start(id, kind, Shutdown::Infinity, Arc::new(FailStart(reason)))
    }

    /// Calls `hook` when the supervisor forgets the child for good (it was
    /// deleted, exited for good, or its dynamic supervisor stopped), and
    /// when the spec is dropped with no supervisor holding it (its start
    /// was refused, or dropped before it was made).
    pub(crate) fn on_forget(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.start = Arc::new(ForgetHook {
            inner: self.start,
            hook,
        });
        self
    }

    /// Sets the restart type.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Declares the child a worker or a supervisor (OTP's `type` key):
    /// `count_children`, `which_children` and `get_childspec` report it by
    /// what is declared, as OTP does, whatever the child is. The default is
    /// what it is (`worker` for [`ChildSpec::worker`], `supervisor` for
    /// [`ChildSpec::supervisor`]). The shutdown is not changed: set it too
    /// if it should follow (OTP's default is `infinity` for a supervisor).
    pub fn with_kind(mut self, kind: ChildKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the shutdown policy: how the child is stopped by its
    /// supervisor.
    ///
    /// A timeout (or `Infinity`) is the time the child is given to stop by
    /// itself, and only a child that can be asked to stop uses it: a worker
    /// whose [`Worker::handles_shutdown`] is true (OTP's `trap_exit`),
    /// which sees the request through `Context::shutdown_requested`, or a
    /// nested supervisor, which stops its own children first. A worker that
    /// does not handle shutdown is aborted at once with reason `shutdown`,
    /// whatever its timeout, as a process that does not trap exits dies at
    /// once in OTP. `BrutalKill` aborts any child at once, with reason
    /// `killed`.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child significant for its supervisor's `auto_shutdown`.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// A delay before each automatic restart of this child (overrides its
    /// supervisor's). Default: none.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(Box::new(backoff));
        self
    }

    /// Changes the child's id.
    pub fn id_as(mut self, id: impl AsRef<str>) -> Self {
        self.id = SmolStr::new(id);
        self
    }

    /// The child's id, unique among its siblings.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its own restart backoff, if it has one.
    pub(crate) fn backoff_policy(&self) -> Option<Backoff> {
        self.backoff.as_deref().copied()
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The shutdown policy.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// Worker or supervisor.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }

    /// Whether the child is significant.
    pub fn is_significant(&self) -> bool {
        self.significant
    }

    pub(crate) fn info(&self) -> ChildSpecInfo {
        ChildSpecInfo {
            id: self.id.as_str().into(),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            significant: self.significant,
        }
    }
}

impl ChildSpec {
    /// OTP's `check_childspec`: the checks of this child that do not
    /// depend on its siblings (see `rules::check_child`).
    pub(crate) fn check(&self, auto_shutdown: Option<AutoShutdown>) -> Result<(), SpecError> {
        rules::check_child(&self.id, self.restart, self.significant, auto_shutdown)
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}

/// A child spec with the defaults filled in, as `get_childspec` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSpecInfo {
    /// The child's id.
    pub id: Arc<str>,
    /// Its restart type.
    pub restart: Restart,
    /// Its shutdown policy.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Whether it is significant.
    pub significant: bool,
}
