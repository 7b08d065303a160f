use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::backoff::Backoff;
use smol_str::SmolStr;

use crate::exit::Exit;
use crate::worker::Init;

use crate::child::{self, BoxFuture, ChildSpec, Incarnation, Spawned, Start, StartChild};
use crate::error::{SpecError, StartError};
use crate::event::{EventBus, EventStream};
use crate::policy::{AutoShutdown, ChildKind, Intensity, Shutdown, Strategy};
use crate::rules;
use crate::supervisor::SupervisorRef;

use super::runner::{Core, Flags};
use super::SupervisorHandle;

/// Up to this many children, `validate` finds a duplicate id without a set.
const FEW_CHILDREN: usize = 8;

/// Declares a supervisor: its flags and its children, in start order.
///
/// Nothing is validated until [`build`](Self::build), which checks the
/// spec with OTP's rules, in OTP's order, and returns the first error.
#[derive(Debug, Clone)]
pub struct SupervisorBuilder {
    name: Arc<str>,
    flags: Flags,
    children: Vec<ChildSpec>,
    init: Option<InitDecision>,
}

/// A supervisor's own init decision (OTP's `init/1` returning `ignore` or
/// `{stop, Reason}`), made at each of its starts before any child starts.
#[derive(Clone)]
pub(crate) struct InitDecision(Arc<dyn Fn() -> Result<Init, Exit> + Send + Sync>);

impl InitDecision {
    pub(crate) fn new(decide: impl Fn() -> Result<Init, Exit> + Send + Sync + 'static) -> Self {
        InitDecision(Arc::new(decide))
    }

    /// Decides: `Started(())` to go on, or how the start ends instead.
    pub(crate) fn decide(this: Option<&Self>) -> Start<()> {
        match this.map(|decide| (decide.0)()) {
            None | Some(Ok(Init::Ready)) => Start::Started(()),
            Some(Ok(Init::Ignore)) => Start::Ignored,
            Some(Err(exit)) => Start::Failed(exit.into_reason()),
        }
    }
}

impl std::fmt::Debug for InitDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitDecision")
    }
}

impl SupervisorBuilder {
    pub(crate) fn new(name: Arc<str>) -> Self {
        SupervisorBuilder {
            name,
            flags: Flags {
                strategy: Strategy::OneForOne,
                intensity: Intensity::default(),
                auto_shutdown: AutoShutdown::Never,
                backoff: None,
                history: crate::snapshot::DEFAULT_HISTORY,
            },
            children: Vec::new(),
            init: None,
        }
    }

    /// The supervisor's own init decision, made at each of its starts
    /// before any child starts (OTP's `init/1`): [`Init::Ready`] starts
    /// the children; [`Init::Ignore`] starts nothing and is not an error
    /// (OTP's `ignore`): its parent then treats it as any child whose
    /// start was ignored (S5: a temporary one is forgotten, a permanent or
    /// transient one kept, not running, for `restart_child`), and a root's
    /// start returns a [`StartError`] that
    /// [`is_ignored`](StartError::is_ignored); an error fails the start
    /// with its reason (OTP's `{stop, Reason}`). Default: always ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{ChildSpec, ChildStatus, Context, Exit, Init, Supervisor, Worker};
    ///
    /// struct Idle;
    /// impl Worker for Idle {
    ///     type Message = ();
    ///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
    ///         std::future::pending::<()>().await;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let metrics_enabled = false;
    /// let metrics = Supervisor::builder("metrics")
    ///     .init(move || Ok(if metrics_enabled { Init::Ready } else { Init::Ignore }))
    ///     .child(ChildSpec::worker("exporter", || Idle))
    ///     .build()
    ///     .unwrap();
    /// let app = Supervisor::builder("app")
    ///     .child(ChildSpec::supervisor("metrics", metrics))
    ///     .child(ChildSpec::worker("db", || Idle))
    ///     .build().unwrap().start().await.unwrap();
    /// let children = app.which_children().await.unwrap();
    /// assert_eq!(children[1].id.as_deref(), Some("metrics"));
    /// assert_eq!(children[1].status, ChildStatus::Undefined); // kept, not running
    /// app.stop().await.unwrap();
    /// # }
    /// ```
    pub fn init(mut self, decide: impl Fn() -> Result<Init, Exit> + Send + Sync + 'static) -> Self {
        self.init = Some(InitDecision::new(decide));
        self
    }

    /// The restart strategy. Default: `one_for_one`.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.flags.strategy = strategy;
        self
    }

    /// Restarts tolerated within the period. Default: 3 (Elixir's).
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.flags.intensity.max_restarts = max_restarts;
        self
    }

    /// The restart period in whole seconds. Default: 5.
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.flags.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// The restart period as any duration (sub-second periods allowed).
    pub fn period(mut self, period: Duration) -> Self {
        self.flags.intensity.period = period;
        self
    }

    /// Both intensity values at once.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.flags.intensity = intensity;
        self
    }

    /// When significant children stop the supervisor. Default: `never`.
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.flags.auto_shutdown = auto_shutdown;
        self
    }

    /// A delay before every automatic restart of a child that has no
    /// backoff of its own. Default: none (OTP's immediate restarts).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.flags.backoff = Some(backoff);
        self
    }

    /// How many exits each child remembers for the snapshot. Default: 8.
    pub fn history(mut self, exits: usize) -> Self {
        self.flags.history = exits;
        self
    }

    /// Adds a child after the ones already added.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// Adds several children in order.
    pub fn children(mut self, children: impl IntoIterator<Item = ChildSpec>) -> Self {
        self.children.extend(children);
        self
    }

    /// Checks the spec without consuming the builder: the flags first,
    /// then each child in order (its own values, then its id against the
    /// ids before it), as OTP does.
    ///
    /// # Errors
    ///
    /// The first [`SpecError`] found.
    pub fn validate(&self) -> Result<(), SpecError> {
        rules::check_name(&self.name)?;
        if self.flags.intensity.period.is_zero() {
            return Err(SpecError::ZeroPeriod);
        }
        // A few ids are compared with the ones before them; many go
        // through a set with a fast hash (not SipHash: ids are the
        // program's own, and this is a supervisor's start path).
        let mut seen = (self.children.len() > FEW_CHILDREN).then(|| {
            foldhash::HashSet::with_capacity_and_hasher(self.children.len(), Default::default())
        });
        for (i, child) in self.children.iter().enumerate() {
            child.check(Some(self.flags.auto_shutdown))?;
            let duplicate = match &mut seen {
                Some(seen) => !seen.insert(child.id.as_str()),
                None => self.children[..i].iter().any(|c| c.id == child.id),
            };
            if duplicate {
                return Err(SpecError::DuplicateChildId {
                    id: child.id.as_str().into(),
                });
            }
        }
        Ok(())
    }

    /// Validates the spec and freezes it.
    ///
    /// # Errors
    ///
    /// The first [`SpecError`] found: a name or an id containing `/`, a
    /// zero period, a duplicate id, a significant permanent child, a
    /// significant child under `auto_shutdown = never`.
    pub fn build(self) -> Result<SupervisorSpec, SpecError> {
        self.validate()?;
        Ok(SupervisorSpec {
            inner: Arc::new(SpecInner {
                name: self.name,
                flags: self.flags,
                counters: self.children.iter().map(|_| AtomicU64::new(0)).collect(),
                children: self.children,
                sup_ref: SupervisorRef::default(),
                init: self.init,
            }),
            bus: EventBus::new(),
        })
    }
}

/// A child's start counter: one of its supervisor spec's, which keeps all
/// of them in one allocation (`counters[index]`), or one of its own.
pub(crate) struct Attempts {
    counters: Arc<[AtomicU64]>,
    index: usize,
}

impl Attempts {
    /// The spec's counter of its child at `index`.
    pub(crate) fn of(counters: &Arc<[AtomicU64]>, index: usize) -> Self {
        Attempts {
            counters: counters.clone(),
            index,
        }
    }

    /// A counter of its own, from 0.
    pub(crate) fn own() -> Self {
        Attempts {
            counters: Arc::new([AtomicU64::new(0)]),
            index: 0,
        }
    }

    pub(super) fn get(&self) -> &AtomicU64 {
        &self.counters[self.index]
    }
}

/// A validated supervisor spec, ready to start as a tree's root or to
/// nest as a child of another supervisor ([`ChildSpec::supervisor`]).
#[derive(Debug, Clone)]
pub struct SupervisorSpec {
    inner: Arc<SpecInner>,
    bus: Arc<EventBus>,
}

#[derive(Debug)]
struct SpecInner {
    name: Arc<str>,
    flags: Flags,
    children: Vec<ChildSpec>,
    /// Each child's start counter (`counters[i]` is `children[i]`'s), in
    /// one allocation, which every incarnation of this supervisor shares:
    /// a child's incarnation number keeps counting when its supervisor is
    /// restarted, as OTP's per-path count does.
    counters: Arc<[AtomicU64]>,
    /// Follows whichever incarnation of this supervisor is running.
    sup_ref: SupervisorRef,
    /// Its own init decision, if it has one.
    init: Option<InitDecision>,
}

impl SupervisorSpec {
    /// The supervisor's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A handle that follows whichever incarnation of this supervisor is
    /// running, wherever the spec is started (as a root or nested).
    pub fn supervisor_ref(&self) -> SupervisorRef {
        self.inner.sup_ref.clone()
    }

    /// Subscribes to the events of the tree this spec starts as a root,
    /// from its very first start on. (Subscribing to a spec that is then
    /// nested under another supervisor sees nothing: subscribe to the root.)
    pub fn subscribe(&self) -> EventStream {
        self.bus.subscribe()
    }

    /// [`subscribe`](Self::subscribe), keeping at most `capacity` unread
    /// events (at least one): when it is full, the events left out are
    /// counted and the subscriber gets an [`Event::Missed`] with their
    /// number, in order, before the next one it can take.
    ///
    /// [`Event::Missed`]: crate::Event::Missed
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{ChildSpec, Context, Event, Exit, Restart, Supervisor, Worker};
    ///
    /// struct Quick;
    /// impl Worker for Quick {
    ///     type Message = ();
    ///     async fn run(self, _ctx: Context) -> Result<(), Exit> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mut builder = Supervisor::builder("app");
    /// for i in 0..4 {
    ///     builder = builder.child(ChildSpec::worker(format!("q{i}"), || Quick).restart(Restart::Temporary));
    /// }
    /// let spec = builder.build().unwrap();
    /// let mut events = spec.subscribe_bounded(2);
    /// let sup = spec.start().await.unwrap();
    /// // Two events fit; the rest of the start is counted.
    /// assert!(matches!(events.recv().await, Some(Event::Started { .. })));
    /// assert!(matches!(events.recv().await, Some(Event::Started { .. })));
    /// sup.stop().await.unwrap();
    /// assert!(matches!(events.recv().await, Some(Event::Missed { count }) if count > 0));
    /// # }
    /// ```
    pub fn subscribe_bounded(&self, capacity: usize) -> EventStream {
        self.bus.subscribe_bounded(capacity)
    }

    /// Starts the tree: every child in order, each one's init finished
    /// before the next starts. Returns once the whole tree is up.
    ///
    /// The tree then runs until it is stopped ([`SupervisorHandle::stop`]),
    /// until its root exits by itself (it gave up, or auto-shutdown), or
    /// until the tokio runtime shuts down, which drops every task of it.
    /// Dropping the handles does not stop it: a tree is not owned by the
    /// code that started it, as an OTP application is not.
    ///
    /// # Errors
    ///
    /// A child failed to start. The children started before it were
    /// stopped in reverse order; the reason names the child, nested for
    /// nested supervisors.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the children started so far (they are
    /// killed, as the children of a killed supervisor).
    pub async fn start(self) -> Result<SupervisorHandle, StartError> {
        let (name, bus) = (self.inner.name.clone(), self.bus.clone());
        super::start_root(ChildSpec::supervisor(name.clone(), self), name, &bus).await
    }
}

/// Starts a supervisor spec as the root of a tree: nobody supervises it,
/// so its running record is detached rather than kept.
/// Marks a supervisor stopped if its start is abandoned midway (its parent
/// was killed during its init): its handle must not look alive.
struct StopsIfDropped<'a>(&'a SupervisorHandle);

impl StopsIfDropped<'_> {
    /// The start finished, one way or the other.
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for StopsIfDropped<'_> {
    fn drop(&mut self) {
        self.0.shared.mark_terminated(&crate::ExitReason::Killed);
    }
}

impl StartChild for SupervisorSpec {
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: child::Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            // Its own init first (S1.2): `ignore` or an error start nothing.
            match InitDecision::decide(inner.init.as_ref()) {
                Start::Started(()) => {}
                Start::Ignored => return Start::Ignored,
                Start::Failed(reason) => return Start::Failed(reason),
            }
            let added = inner.clone();
            let mut core = Core::new(
                inc.path_arc().clone(),
                inner.flags,
                (&inner.children, &inner.counters),
                inc.bus().clone(),
                inc.is_root(),
                Box::new(move |id: &SmolStr| {
                    // A spec child added again goes on with its own count;
                    // any other id counts from 1 for as long as it is
                    // known (nothing is kept once it is deleted).
                    added
                        .children
                        .iter()
                        .position(|c| c.id == *id)
                        .map_or_else(Attempts::own, |i| Attempts::of(&added.counters, i))
                }),
            );
            // Reachable while it starts its children, as an OTP supervisor
            // is during its init: a call waits in its inbox until then.
            let handle = core.handle();
            inner.sup_ref.set(handle.clone());
            spawner.bind_supervisor(&handle);
            let abandoned = StopsIfDropped(&handle);
            // A kill is not trappable: one that comes while it starts its
            // children ends it there, not once its start is over (S29.3).
            let started = tokio::select! {
                biased;
                () = inc.abort_requested() => None,
                started = core.init() => Some(started),
            };
            abandoned.disarm();
            let Some(started) = started else {
                // The child being started was dropped midway: it never
                // reports started. Those started before it die with their
                // supervisor as it is dropped (S29.3), and its parent's
                // start of it fails with its reason (`killed`).
                drop(core);
                let reason = inc.abort_reason();
                handle.shared.mark_terminated(&reason);
                return Start::Failed(reason);
            };
            match started {
                Ok(()) => {
                    let span = crate::report::span(
                        || tracing::info_span!("supervisor", path = %inc.path()),
                    );
                    let join = spawner.spawn(core.run_in(span));
                    Start::Started(Spawned {
                        join,
                        stop: child::Stopper::Supervisor(handle),
                    })
                }
                Err(reason) => {
                    handle.shared.mark_terminated(&reason);
                    Start::Failed(reason)
                }
            }
        })
    }

    /// Gone for good: so are all the children it would have started.
    fn forget(&self) {
        for child in &self.inner.children {
            child.start.forget();
        }
    }
}

impl ChildSpec {
    /// A nested supervisor child. Defaults: permanent, shutdown `infinity`
    /// (it stops its own children first, however long that takes).
    pub fn supervisor(id: impl AsRef<str>, spec: SupervisorSpec) -> Self {
        ChildSpec::from_start(
            id,
            ChildKind::Supervisor,
            Shutdown::Infinity,
            Arc::new(spec),
        )
    }
}
