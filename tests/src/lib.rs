//! Shared fixtures for the supervise integration tests.
//!
//! * [`Probe`]: one timeline per test, where the tree's events (rendered as
//!   short strings such as `started app/a#1` or `exit app/a#1 shutdown`) and
//!   the test workers' own notes (`init app/a#1`, `stop_requested app/a#1`)
//!   are merged in causal order. It also builds the test workers, tells them
//!   how to behave (per child path, per start attempt) and makes them exit on
//!   command.
//! * [`Behavior`]: what a test worker does in `init`, in `run` and when it is
//!   asked to shut down.
//! * [`Idle`]: a worker that runs until it is stopped.
//! * [`settle`], [`bounded`], [`render_children`]: small helpers.
//!
//! Timeline entries:
//!
//! | entry                                   | source                                   |
//! |-----------------------------------------|------------------------------------------|
//! | `init app/a#1`                          | a test worker's `init` began             |
//! | `stop_requested app/a#1`                | a test worker saw the shutdown request   |
//! | `started app/a#1`                       | [`Event::Started`]                       |
//! | `start_failed app/a#1 <reason>`         | [`Event::StartFailed`]                   |
//! | `ignored app/a#1`                       | [`Event::StartIgnored`]                  |
//! | `exit app/a#1 <reason>`                 | [`Event::Exited`]                        |
//! | `child_terminated app/a <reason>`       | [`Event::ChildTerminated`]               |
//! | `restarting app/a`                      | [`Event::Restarting`]                    |
//! | `start_error app/a <reason>`            | [`Event::StartError`]                    |
//! | `gave_up app app/a`                     | [`Event::GaveUp`] (supervisor, child)    |
//! | `shutdown_error app/a <reason>`         | [`Event::ShutdownError`]                 |
//!
//! A shutdown error that counts `N` children ends in ` xN`.
//!
//! Reasons are rendered with [`ExitReason`]'s `Display`: `normal`,
//! `shutdown`, `{shutdown,x}`, `killed`, the error's message, `panicked: msg`,
//! `failed to start child id: reason`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use supervise::{
    ChildInfo, ChildRef, ChildSpec, ChildStatus, Context, Event, EventStream, Exit, ExitReason,
    Init, SupervisorHandle, SupervisorSpec, Worker,
};
use tokio::sync::{mpsc, Notify};

/// How long [`Probe::wait_for`] and [`bounded`] wait before failing the
/// test. On a paused clock this costs nothing: time only jumps there when
/// nothing else can run, that is when the test would otherwise hang.
pub const WAIT_LIMIT: Duration = Duration::from_secs(120);

/// The outcome of one start attempt of a test worker's `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitStep {
    /// `Ok(Init::Ready)`.
    Ready,
    /// `Ok(Init::Ignore)`.
    Ignore,
    /// `Err(Exit)` with an error carrying this message.
    Fail(String),
    /// Panics with this message.
    Panic(String),
}

/// How a test worker's `run` ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Returns `Ok(())` (reason `normal`).
    Normal,
    /// Returns `Err(Exit::shutdown())`.
    Shutdown,
    /// Returns `Err(Exit::shutdown_with(..))`.
    ShutdownWith(String),
    /// Returns an error with this message.
    Error(String),
    /// Panics with this message.
    Panic(String),
}

impl Outcome {
    /// An [`Outcome::Error`] with this message.
    pub fn error(msg: &str) -> Self {
        Outcome::Error(msg.to_owned())
    }

    /// An [`Outcome::Panic`] with this message.
    pub fn panic(msg: &str) -> Self {
        Outcome::Panic(msg.to_owned())
    }

    /// An [`Outcome::ShutdownWith`] with this reason.
    pub fn shutdown_with(reason: &str) -> Self {
        Outcome::ShutdownWith(reason.to_owned())
    }

    fn into_result(self) -> Result<(), Exit> {
        match self {
            Outcome::Normal => Ok(()),
            Outcome::Shutdown => Err(Exit::shutdown()),
            Outcome::ShutdownWith(r) => Err(Exit::shutdown_with(r)),
            Outcome::Error(m) => Err(Exit::from(m)),
            Outcome::Panic(m) => panic!("{m}"),
        }
    }
}

/// What a test worker that handles shutdown does when asked to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnShutdown {
    /// Waits `after` (on the tokio clock), then exits with `outcome`.
    Exit {
        /// How long it takes to stop.
        after: Duration,
        /// How it exits.
        outcome: Outcome,
    },
    /// Notes the request and carries on as if nothing happened.
    Ignore,
}

/// What a test worker does; looked up by the child's path at every start.
///
/// The default: `init` returns `Ready` at once; the worker does not handle
/// shutdown (it is aborted when stopped); `run` waits for commands from
/// [`Probe::exit`].
#[derive(Debug, Clone)]
pub struct Behavior {
    steps: BTreeMap<u64, InitStep>,
    default_step: InitStep,
    delays: BTreeMap<u64, Duration>,
    default_delay: Duration,
    handles_shutdown: bool,
    on_shutdown: OnShutdown,
    block_in_run: Option<Duration>,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            steps: BTreeMap::new(),
            default_step: InitStep::Ready,
            delays: BTreeMap::new(),
            default_delay: Duration::ZERO,
            handles_shutdown: false,
            on_shutdown: OnShutdown::Exit {
                after: Duration::ZERO,
                outcome: Outcome::Shutdown,
            },
            block_in_run: None,
        }
    }
}

impl Behavior {
    /// The default behaviour.
    pub fn new() -> Self {
        Behavior::default()
    }

    /// What `init` does at start attempt `attempt` (the incarnation number,
    /// 1 for the first start).
    pub fn init_on(mut self, attempt: u64, step: InitStep) -> Self {
        self.steps.insert(attempt, step);
        self
    }

    /// What `init` does at every attempt not set by [`init_on`](Self::init_on).
    pub fn init_otherwise(mut self, step: InitStep) -> Self {
        self.default_step = step;
        self
    }

    /// `init` fails with this message at every attempt not set by
    /// [`init_on`](Self::init_on).
    pub fn fail_init(self, msg: &str) -> Self {
        self.init_otherwise(InitStep::Fail(msg.to_owned()))
    }

    /// `init` sleeps this long (tokio clock) at attempt `attempt` before
    /// deciding.
    pub fn init_delay_on(mut self, attempt: u64, delay: Duration) -> Self {
        self.delays.insert(attempt, delay);
        self
    }

    /// `init` sleeps this long at every attempt not set by
    /// [`init_delay_on`](Self::init_delay_on).
    pub fn init_delay(mut self, delay: Duration) -> Self {
        self.default_delay = delay;
        self
    }

    /// The worker handles shutdown (OTP's `trap_exit`) and reacts as told.
    pub fn on_shutdown(mut self, on_shutdown: OnShutdown) -> Self {
        self.handles_shutdown = true;
        self.on_shutdown = on_shutdown;
        self
    }

    /// The worker handles shutdown and exits with `shutdown` after `after`.
    pub fn stops_after(self, after: Duration) -> Self {
        self.on_shutdown(OnShutdown::Exit {
            after,
            outcome: Outcome::Shutdown,
        })
    }

    /// `run` first blocks its thread (`std::thread::sleep`) this long.
    pub fn block_in_run(mut self, duration: Duration) -> Self {
        self.block_in_run = Some(duration);
        self
    }

    fn step(&self, attempt: u64) -> InitStep {
        self.steps
            .get(&attempt)
            .cloned()
            .unwrap_or_else(|| self.default_step.clone())
    }

    fn delay(&self, attempt: u64) -> Duration {
        self.delays
            .get(&attempt)
            .copied()
            .unwrap_or(self.default_delay)
    }
}

/// A running test worker as the probe knows it.
struct Live {
    commands: mpsc::UnboundedSender<Outcome>,
    child: ChildRef,
}

#[derive(Default)]
struct Timeline {
    entries: Vec<String>,
    taken: usize,
    raw: Vec<Event>,
    events: Option<EventStream>,
}

impl Timeline {
    /// Moves every event already emitted into the entries.
    fn pump(&mut self) {
        while let Some(event) = self.events.as_mut().and_then(EventStream::try_recv) {
            self.entries.push(render_event(&event));
            self.raw.push(event);
        }
    }
}

#[derive(Default)]
struct Inner {
    timeline: Mutex<Timeline>,
    changed: Notify,
    wake: tokio::sync::Mutex<Option<EventStream>>,
    behaviors: Mutex<HashMap<String, Behavior>>,
    live: Mutex<HashMap<String, Live>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One test's timeline and test workers. Cheap to clone; clones share all.
///
/// # Examples
///
/// ```
/// use supervise::Supervisor;
/// use supervise_tests::Probe;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let probe = Probe::new();
/// let spec = Supervisor::builder("app").child(probe.worker("a")).build().unwrap();
/// probe.watch(&spec);
/// let sup = spec.start().await.unwrap();
/// sup.stop().await.unwrap();
/// assert_eq!(
///     probe.take(),
///     ["init app/a#1", "started app/a#1", "started app#1", "exit app/a#1 shutdown", "exit app#1 shutdown"]
/// );
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Probe {
    inner: Arc<Inner>,
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timeline = lock(&self.inner.timeline);
        f.debug_struct("Probe")
            .field("entries", &timeline.entries)
            .field("taken", &timeline.taken)
            .finish_non_exhaustive()
    }
}

impl Probe {
    /// A probe with an empty timeline that watches no tree yet.
    pub fn new() -> Self {
        Probe::default()
    }

    /// Puts the events of the tree `spec` starts into the timeline, from its
    /// very first start on. Call it before `start`.
    pub fn watch(&self, spec: &SupervisorSpec) {
        self.attach(spec.subscribe(), spec.subscribe());
    }

    /// Puts the events of the tree `handle` is in into the timeline, from
    /// now on.
    pub fn watch_handle(&self, handle: &SupervisorHandle) {
        let first = handle.subscribe().expect("the tree is running");
        let second = handle.subscribe().expect("the tree is running");
        self.attach(first, second);
    }

    fn attach(&self, events: EventStream, wake: EventStream) {
        lock(&self.inner.timeline).events = Some(events);
        *self
            .inner
            .wake
            .try_lock()
            .expect("watch is not called while waiting") = Some(wake);
    }

    /// A test worker child spec with id `id` (permanent, default shutdown).
    /// Its behaviour is looked up by its path at every start; see
    /// [`set`](Self::set).
    pub fn worker(&self, id: &str) -> ChildSpec {
        let probe = self.clone();
        ChildSpec::worker(id, move || TestWorker {
            probe: probe.clone(),
            state: None,
        })
    }

    /// Sets the behaviour of the test worker at `path` (e.g. `app/a`) for its
    /// next starts.
    pub fn set(&self, path: &str, behavior: Behavior) {
        lock(&self.inner.behaviors).insert(path.to_owned(), behavior);
    }

    /// Changes the behaviour of the test worker at `path` for its next starts.
    pub fn update(&self, path: &str, change: impl FnOnce(Behavior) -> Behavior) {
        let mut behaviors = lock(&self.inner.behaviors);
        let old = behaviors.remove(path).unwrap_or_default();
        behaviors.insert(path.to_owned(), change(old));
    }

    fn behavior(&self, path: &str) -> Behavior {
        lock(&self.inner.behaviors)
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// Makes the running incarnation of the test worker at `path` exit
    /// with `outcome`.
    ///
    /// # Panics
    ///
    /// If no incarnation of it is running.
    pub fn exit(&self, path: &str, outcome: Outcome) {
        let live = lock(&self.inner.live);
        let sent = live
            .get(path)
            .map(|l| l.commands.send(outcome).is_ok())
            .unwrap_or(false);
        assert!(sent, "no running test worker at {path}");
    }

    /// The most recently initialised incarnation of the test worker at `path`.
    ///
    /// # Panics
    ///
    /// If it never started.
    pub fn child(&self, path: &str) -> ChildRef {
        lock(&self.inner.live)
            .get(path)
            .map(|l| l.child.clone())
            .unwrap_or_else(|| panic!("no test worker ever started at {path}"))
    }

    /// Adds a note of the test's own to the timeline.
    pub fn note(&self, entry: impl Into<String>) {
        {
            let mut timeline = lock(&self.inner.timeline);
            timeline.pump();
            timeline.entries.push(entry.into());
        }
        self.inner.changed.notify_waiters();
    }

    /// Returns the timeline entries not taken yet, and takes them.
    pub fn take(&self) -> Vec<String> {
        let mut timeline = lock(&self.inner.timeline);
        timeline.pump();
        let taken = timeline.taken;
        timeline.taken = timeline.entries.len();
        timeline.entries[taken..].to_vec()
    }

    /// Lets the tree [`settle`], then returns the entries not taken yet
    /// and takes them.
    pub async fn settled(&self) -> Vec<String> {
        settle().await;
        self.take()
    }

    /// Every event seen so far, as the tree emitted it.
    pub fn raw_events(&self) -> Vec<Event> {
        let mut timeline = lock(&self.inner.timeline);
        timeline.pump();
        timeline.raw.clone()
    }

    fn untaken_contains(&self, needle: &str) -> bool {
        let mut timeline = lock(&self.inner.timeline);
        timeline.pump();
        timeline.entries[timeline.taken..]
            .iter()
            .any(|e| e == needle)
    }

    /// Waits until the entry `needle` is among the entries not taken yet.
    ///
    /// # Panics
    ///
    /// After [`WAIT_LIMIT`] (on the tokio clock), with the timeline.
    pub async fn wait_for(&self, needle: &str) {
        let wait = async {
            loop {
                let notified = self.inner.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.untaken_contains(needle) {
                    return;
                }
                let mut wake = self.inner.wake.lock().await;
                match wake.as_mut() {
                    Some(stream) => tokio::select! {
                        event = stream.recv() => {
                            if event.is_none() {
                                *wake = None;
                            }
                        }
                        () = &mut notified => {}
                    },
                    None => {
                        drop(wake);
                        notified.await;
                    }
                }
            }
        };
        if tokio::time::timeout(WAIT_LIMIT, wait).await.is_err() {
            let timeline = lock(&self.inner.timeline);
            panic!(
                "timed out waiting for `{needle}`; untaken entries: {:#?}",
                &timeline.entries[timeline.taken..]
            );
        }
    }

    fn record(&self, entry: String) {
        self.note(entry);
    }

    fn register(&self, path: &str, commands: mpsc::UnboundedSender<Outcome>, child: ChildRef) {
        lock(&self.inner.live).insert(path.to_owned(), Live { commands, child });
    }
}

/// Renders an event as a timeline entry (see the crate docs).
pub fn render_event(event: &Event) -> String {
    match event {
        Event::Started { child } => format!("started {child}"),
        Event::StartFailed {
            path,
            incarnation,
            reason,
        } => format!("start_failed {path}#{incarnation} {reason}"),
        Event::StartIgnored { path, incarnation } => format!("ignored {path}#{incarnation}"),
        Event::Exited {
            path,
            incarnation,
            reason,
        } => format!("exit {path}#{incarnation} {reason}"),
        Event::ChildTerminated { child, reason, .. } => {
            format!("child_terminated {child} {reason}")
        }
        Event::Restarting { child, .. } => format!("restarting {child}"),
        Event::StartError { child, reason, .. } => format!("start_error {child} {reason}"),
        Event::GaveUp { supervisor, child } => format!("gave_up {supervisor} {child}"),
        Event::ShutdownError {
            child,
            reason,
            children,
            ..
        } => match children {
            None => format!("shutdown_error {child} {reason}"),
            Some(n) => format!("shutdown_error {child} {reason} x{n}"),
        },
        other => format!("{other:?}"),
    }
}

/// Renders `which_children` as `id=app/id#n`, `id=restarting` or
/// `id=undefined`, in the order given.
pub fn render_children(children: &[ChildInfo]) -> Vec<String> {
    children
        .iter()
        .map(|c| {
            let id = c.id.as_deref().unwrap_or("?");
            match &c.status {
                ChildStatus::Running(r) => format!("{id}={r}"),
                ChildStatus::Restarting => format!("{id}=restarting"),
                ChildStatus::Undefined => format!("{id}=undefined"),
            }
        })
        .collect()
}

/// A worker that runs until it is stopped, and does nothing else.
#[derive(Debug)]
pub struct Idle;

impl Worker for Idle {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// A worker that handles shutdown by never finishing it, and notifies its
/// `Notify` when it is asked to stop.
#[derive(Debug, Clone)]
pub struct Stubborn(pub Arc<Notify>);

impl Worker for Stubborn {
    type Message = ();

    const HANDLES_SHUTDOWN: bool = true;

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        self.0.notify_one();
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Lets every task that can run do so, and the clock move by 1 ms (a
/// paused clock jumps there only when nothing else can run).
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Awaits `fut`, failing the test after [`WAIT_LIMIT`] instead of hanging.
///
/// # Panics
///
/// When `fut` did not complete in time.
pub async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(WAIT_LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("`{what}` did not complete in time"))
}

/// The exit reason an [`Outcome`] gives, for comparing with events.
pub fn reason_of(outcome: &Outcome) -> ExitReason {
    match outcome {
        Outcome::Normal => ExitReason::Normal,
        Outcome::Shutdown => ExitReason::Shutdown,
        Outcome::ShutdownWith(r) => ExitReason::shutdown_with(r.as_str()),
        Outcome::Error(m) => ExitReason::error(m.clone()),
        Outcome::Panic(m) => ExitReason::Panic(Arc::new(supervise::PanicReason {
            message: m.clone(),
            location: None,
        })),
    }
}

// ===== the test worker =====

struct TestWorker {
    probe: Probe,
    state: Option<RunState>,
}

struct RunState {
    behavior: Behavior,
    commands: mpsc::UnboundedReceiver<Outcome>,
    name: String,
}

impl Worker for TestWorker {
    type Message = ();
    fn handles_shutdown(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| s.behavior.handles_shutdown)
    }

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        let path = ctx.path().to_owned();
        let attempt = ctx.incarnation();
        let name = format!("{path}#{attempt}");
        self.probe.record(format!("init {name}"));
        let behavior = self.probe.behavior(&path);
        let delay = behavior.delay(attempt);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match behavior.step(attempt) {
            InitStep::Ready => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.probe.register(&path, tx, ctx.child_ref());
                self.state = Some(RunState {
                    behavior,
                    commands: rx,
                    name,
                });
                Ok(Init::Ready)
            }
            InitStep::Ignore => Ok(Init::Ignore),
            InitStep::Fail(msg) => Err(Exit::from(msg)),
            InitStep::Panic(msg) => panic!("{msg}"),
        }
    }

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        let RunState {
            behavior,
            mut commands,
            name,
        } = self.state.expect("run follows a successful init");
        if let Some(block) = behavior.block_in_run {
            std::thread::sleep(block);
        }
        let mut open = true;
        let mut asked = false;
        loop {
            tokio::select! {
                command = commands.recv(), if open => match command {
                    Some(outcome) => return outcome.into_result(),
                    None => open = false,
                },
                () = ctx.shutdown_requested(), if behavior.handles_shutdown && !asked => {
                    asked = true;
                    self.probe.record(format!("stop_requested {name}"));
                    if let OnShutdown::Exit { after, outcome } = &behavior.on_shutdown {
                        if !after.is_zero() {
                            tokio::time::sleep(*after).await;
                        }
                        return outcome.clone().into_result();
                    }
                }
                // Keeps the select from running out of enabled branches.
                () = std::future::pending::<()>() => {}
            }
        }
    }
}

pub mod trace;

/// Where the conformance scenarios live in the repository
/// (`tests/conformance/FORMAT.md` describes them).
pub mod scenarios {
    use std::path::{Path, PathBuf};

    /// The `tests/conformance` folder.
    pub fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
    }

    /// The folders whose traces were recorded on the real Erlang/OTP 25 and
    /// Elixir 1.14, replayed by default: the public scenarios (`public/`,
    /// their names kept), the project's own (`project/`) and the kept
    /// differential-fuzzing corpus (`fuzz/`).
    pub fn recorded() -> Vec<PathBuf> {
        vec![
            root().join("public"),
            root().join("project"),
            root().join("fuzz"),
        ]
    }

    /// Traces of the runtime's exact restart window, which replace OTP's
    /// for the `second_granularity` scenarios where the two rules differ.
    pub fn exact_window() -> PathBuf {
        root().join("exact_window")
    }

    /// Every `.scn` file below `dir`, sorted, in sub-folders too. A missing
    /// or unreadable folder is an error that names it.
    pub fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
            for entry in entries {
                let p = entry.map_err(|e| format!("{}: {e}", d.display()))?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "scn") {
                    out.push(p);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// The repository README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
