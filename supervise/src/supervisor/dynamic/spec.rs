//! A dynamic supervisor's builder and spec.

use std::sync::Arc;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::child::{self, BoxFuture, ChildSpec, Incarnation, Spawned, Start, StartChild};
use crate::error::{SpecError, StartError};
use crate::event::{EventBus, EventStream};
use crate::exit::ExitReason;
use crate::policy::{AutoShutdown, ChildKind, Intensity, Shutdown};
use crate::supervisor::SupervisorRef;

use super::cell::{serve, DynCell, Serving};
use super::core::DynCore;
use crate::exit::Exit;
use crate::rules;
use crate::supervisor::builder::InitDecision;
use crate::supervisor::{Inbox, SupervisorHandle};
use crate::worker::Init;

/// The settings the typed dynamic supervisors share ([`DynamicSupervisor`],
/// [`TaskSupervisor`], the partitions): what they pass to the builder.
///
/// [`DynamicSupervisor`]: crate::DynamicSupervisor
/// [`TaskSupervisor`]: crate::TaskSupervisor
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DynOptions {
    pub(crate) max_restarts: Option<u32>,
    pub(crate) period: Option<Duration>,
    pub(crate) max_children: Option<usize>,
    pub(crate) backoff: Option<Backoff>,
}

impl DynOptions {
    pub(crate) fn build(&self, name: &str) -> Result<DynamicSupervisorSpec, SpecError> {
        let mut builder = DynamicSupervisorSpec::builder(name);
        builder.intensity.max_restarts =
            self.max_restarts.unwrap_or(builder.intensity.max_restarts);
        builder.intensity.period = self.period.unwrap_or(builder.intensity.period);
        builder.max_children = self.max_children;
        builder.backoff = self.backoff;
        builder.build()
    }
}

/// The child spec of a typed dynamic supervisor built from `built`; an
/// invalid setting (a zero period), which cannot be returned from
/// `Child::child_spec`, makes the child fail to start with it, so that its
/// parent's start fails.
pub(crate) fn dynamic_child<H>(
    id: &str,
    built: Result<(DynamicSupervisorSpec, H), SpecError>,
    detached: impl FnOnce() -> H,
) -> (ChildSpec, H) {
    match built {
        Ok((spec, handle)) => (ChildSpec::dynamic_supervisor(id, spec), handle),
        Err(error) => {
            let reason = ExitReason::error(error);
            (
                ChildSpec::failing(id, ChildKind::Supervisor, reason),
                detached(),
            )
        }
    }
}

/// Starts a typed dynamic supervisor as a root.
pub(crate) async fn start_dynamic_root<H>(
    built: Result<(DynamicSupervisorSpec, H), SpecError>,
) -> Result<H, StartError> {
    let (spec, handle) = built.map_err(|e| StartError::new(ExitReason::error(e)))?;
    spec.start().await?;
    Ok(handle)
}

/// Declares a dynamic supervisor; see [`DynamicSupervisorSpec`].
#[derive(Debug, Clone)]
pub struct DynamicSupervisorBuilder {
    name: Arc<str>,
    intensity: Intensity,
    max_children: Option<usize>,
    templates: Vec<ChildSpec>,
    auto_shutdown: AutoShutdown,
    backoff: Option<Backoff>,
    init: Option<InitDecision>,
}

impl DynamicSupervisorBuilder {
    /// The supervisor's own init decision, made at each of its starts
    /// (OTP's and Elixir's `init/1`): [`Init::Ignore`] starts nothing and
    /// its parent treats it as any ignored child start (S5), an error fails
    /// the start; see [`SupervisorBuilder::init`](crate::SupervisorBuilder::init).
    /// Default: always ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{DynamicSupervisorSpec, Init};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let err = DynamicSupervisorSpec::builder("jobs")
    ///     .init(|| Ok(Init::Ignore))
    ///     .build()
    ///     .unwrap()
    ///     .start()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_ignored());
    /// # }
    /// ```
    pub fn init(mut self, decide: impl Fn() -> Result<Init, Exit> + Send + Sync + 'static) -> Self {
        self.init = Some(InitDecision::new(decide));
        self
    }

    /// A delay before every automatic restart of a child that has no
    /// backoff of its own. Default: none.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Restarts tolerated within the period. Default: 3.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.intensity.max_restarts = max_restarts;
        self
    }

    /// The restart period in whole seconds. Default: 5.
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// The restart period as any duration.
    pub fn period(mut self, period: Duration) -> Self {
        self.intensity.period = period;
        self
    }

    /// The most children it holds, running or restarting; a `start_child`
    /// beyond it returns [`CallError::MaxChildren`](crate::CallError::MaxChildren). Default: no limit.
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    /// Makes this an OTP `simple_one_for_one` supervisor: every child takes
    /// this template's restart type, shutdown, kind and significance.
    /// Exactly one template may be given.
    pub fn template(mut self, template: ChildSpec) -> Self {
        self.templates.push(template);
        self
    }

    /// When significant children stop the supervisor (with a template only).
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Validates the spec and freezes it.
    ///
    /// # Errors
    ///
    /// A name containing `/` ([`SpecError::InvalidName`]); a zero period;
    /// more than one template
    /// ([`SpecError::BadTemplateCount`]); a template that breaks the child
    /// rules; `auto_shutdown` without a template.
    pub fn build(self) -> Result<DynamicSupervisorSpec, SpecError> {
        rules::check_name(&self.name)?;
        if self.intensity.period.is_zero() {
            return Err(SpecError::ZeroPeriod);
        }
        if self.templates.len() > 1 {
            return Err(SpecError::BadTemplateCount {
                ids: self
                    .templates
                    .iter()
                    .map(|t| t.id.as_str().into())
                    .collect(),
            });
        }
        let template = self.templates.into_iter().next();
        match &template {
            Some(t) => t.check(Some(self.auto_shutdown))?,
            None if self.auto_shutdown != AutoShutdown::Never => {
                return Err(SpecError::AutoShutdownWithoutTemplate)
            }
            None => {}
        }
        Ok(DynamicSupervisorSpec {
            inner: Arc::new(DynInner {
                name: self.name,
                intensity: self.intensity,
                max_children: self.max_children,
                template,
                auto_shutdown: self.auto_shutdown,
                backoff: self.backoff,
                sup_ref: SupervisorRef::default(),
                init: self.init,
            }),
            bus: EventBus::new(),
        })
    }
}

/// A validated dynamic supervisor spec: a supervisor whose children are
/// started at run time with [`SupervisorHandle::start_child`], each
/// restarted on its own (one_for_one), all stopped together. Start it as a
/// root, or nest it with [`ChildSpec::dynamic_supervisor`]. Children of
/// any types can be mixed (boxed child specs); for one worker type with
/// typed handles, use [`DynamicSupervisor`](crate::DynamicSupervisor).
///
/// Two flavours, as in Erlang and Elixir:
///
/// * without a template, Elixir's `DynamicSupervisor`: every
///   `start_child` brings its own [`ChildSpec`], `max_children` caps the
///   number of children, a shutdown timeout must be above zero;
/// * with a [`template`](DynamicSupervisorBuilder::template), OTP's
///   `simple_one_for_one`: every child takes the template's restart type,
///   shutdown and significance, and the supervisor may shut itself down
///   with `auto_shutdown` when its significant children are gone.
///
/// A child's id names it in paths and events (`sessions/user-42`); it need
/// not be unique and the control API does not look children up by it: a
/// child is named by its [`ChildRef`](crate::ChildRef).
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, DynamicSupervisorSpec, Exit, Worker};
///
/// struct Session { user: u32 }
/// impl Worker for Session {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sessions = DynamicSupervisorSpec::builder("sessions")
///     .max_children(10_000)
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// for user in [1, 2] {
///     let spec = ChildSpec::worker(format!("user-{user}"), move || Session { user });
///     sessions.start_child(spec).await.unwrap();
/// }
/// assert_eq!(sessions.count_children().await.unwrap().active, 2);
/// sessions.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DynamicSupervisorSpec {
    pub(super) inner: Arc<DynInner>,
    pub(super) bus: Arc<EventBus>,
}

#[derive(Debug)]
pub(super) struct DynInner {
    pub(super) name: Arc<str>,
    pub(super) intensity: Intensity,
    pub(super) max_children: Option<usize>,
    pub(super) template: Option<ChildSpec>,
    pub(super) auto_shutdown: AutoShutdown,
    pub(super) backoff: Option<Backoff>,
    pub(super) sup_ref: SupervisorRef,
    pub(super) init: Option<InitDecision>,
}

impl DynamicSupervisorSpec {
    /// A builder for a dynamic supervisor named `name`.
    pub fn builder(name: impl Into<Arc<str>>) -> DynamicSupervisorBuilder {
        DynamicSupervisorBuilder {
            name: name.into(),
            intensity: Intensity::default(),
            max_children: None,
            templates: Vec::new(),
            auto_shutdown: AutoShutdown::Never,
            backoff: None,
            init: None,
        }
    }

    /// A handle that follows whichever incarnation of this supervisor is
    /// running.
    pub fn supervisor_ref(&self) -> SupervisorRef {
        self.inner.sup_ref.clone()
    }

    /// Subscribes to the events of the tree this spec starts as a root.
    pub fn subscribe(&self) -> EventStream {
        self.bus.subscribe()
    }

    /// [`subscribe`](Self::subscribe), keeping at most `capacity` unread
    /// events (see [`SupervisorSpec::subscribe_bounded`]).
    ///
    /// [`SupervisorSpec::subscribe_bounded`]: crate::SupervisorSpec::subscribe_bounded
    pub fn subscribe_bounded(&self, capacity: usize) -> EventStream {
        self.bus.subscribe_bounded(capacity)
    }

    /// Starts the supervisor, with no children.
    ///
    /// # Errors
    ///
    /// Only from its [`init`](DynamicSupervisorBuilder::init) decision: an
    /// error, or `ignore` ([`StartError::is_ignored`]). A dynamic
    /// supervisor starts no child at init.
    pub async fn start(self) -> Result<SupervisorHandle, StartError> {
        let (name, bus) = (self.inner.name.clone(), self.bus.clone());
        let spec = ChildSpec::dynamic_supervisor(name.clone(), self);
        crate::supervisor::start_root(spec, name, &bus).await
    }
}

impl StartChild for DynamicSupervisorSpec {
    fn start(
        self: Arc<Self>,
        inc: Arc<Incarnation>,
        spawner: child::Spawner,
    ) -> BoxFuture<Start<Spawned>> {
        // Its own init first: `ignore` or an error start nothing.
        match InitDecision::decide(self.inner.init.as_ref()) {
            Start::Started(()) => {}
            Start::Ignored => return Box::pin(async { Start::Ignored }),
            Start::Failed(reason) => return Box::pin(async move { Start::Failed(reason) }),
        }
        let (inbox, rx) = Inbox::new();
        let span = crate::report::span(|| tracing::info_span!("supervisor", path = %inc.path()));
        let core = DynCore::new(
            inc.path_arc().clone(),
            self.inner.clone(),
            inc.bus().clone(),
            inbox,
            span.clone(),
        );
        let handle = core.handle.clone();
        let cell = Arc::new(DynCell::new(core));
        handle.shared.set_dynamic(&cell);
        self.inner.sup_ref.set(handle.clone());
        spawner.bind_supervisor(&handle);
        // The guard is made here, not in the task, so that a task aborted
        // before its first poll still kills the children started meanwhile
        // by callers.
        let serving = Serving { cell, done: false };
        let join = spawner.spawn(tracing::Instrument::instrument(serve(serving, rx), span));
        Box::pin(async move {
            Start::Started(Spawned {
                join,
                stop: child::Stopper::Supervisor(handle),
            })
        })
    }
}

impl ChildSpec {
    /// A nested dynamic supervisor child. Defaults: permanent, shutdown
    /// `infinity`.
    pub fn dynamic_supervisor(id: impl AsRef<str>, spec: DynamicSupervisorSpec) -> Self {
        ChildSpec::from_start(
            id,
            ChildKind::Supervisor,
            Shutdown::Infinity,
            Arc::new(spec),
        )
    }
}
