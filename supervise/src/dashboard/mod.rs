//! A live page of a running tree, served over HTTP by a child of the tree
//! itself (the `dashboard` feature): Erlang's observer, in a browser.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`Dashboard`] (what to serve, where), [`DashboardHandle`], [`DashboardError`], the child's start |
//! | `server` | the listener and the routes (hyper's HTTP/1 server) |
//! | `hub` | the live updates: the tree's events, coalesced into frames |
//! | `view` | the tree and the timeline as JSON, escaped |
//! | `ops` | terminating and restarting a child from the page |
//! | `assets/` | the page: plain HTML, CSS and JavaScript, embedded |
//!
//! The HTTP stack is hyper's HTTP/1 server with hyper-util's tokio glue,
//! not axum: seven fixed routes need no router, a streamed body (the
//! Server-Sent Events) is a small `Body` impl, and the feature adds three
//! crates to the core, none of them a framework.

mod hub;
mod ops;
mod server;
mod view;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::child::ChildSpec;
use crate::event::{Event, EventStream};
use crate::exit::Exit;
use crate::policy::{ChildKind, Restart, Shutdown};
use crate::supervised::Child;
use crate::supervisor::{SupervisorHandle, SupervisorRef};
use crate::worker::{Context, Init, Worker};

/// The shortest time between two frames sent to a page, by default: at
/// most ten redraws a second, whatever the rate of events.
const DEFAULT_REFRESH: Duration = Duration::from_millis(100);

/// The children of a supervisor shown at once, by default; a supervisor
/// with more shows their counts by state and pages.
const DEFAULT_PAGE_SIZE: usize = 50;

/// A page of a running supervision tree, served over HTTP by a child of
/// that tree: the tree drawn (supervisors collapsible), each node's path,
/// kind, strategy, restart type, shutdown, state, incarnation, restarts
/// in its supervisor's window against `max_restarts` and last exits, and
/// a timeline of restarts and give-ups, updated live over Server-Sent
/// Events (at most ten frames a second, however fast the tree changes;
/// fewer for a tree so large that its picture is costly).
///
/// The same listener serves:
///
/// | route | what |
/// |---|---|
/// | `GET /` | the page (plain HTML, CSS and JavaScript, embedded in the crate) |
/// | `GET /events` | the live frames, as Server-Sent Events |
/// | `GET /api/tree` | the tree as JSON, for scripts |
/// | `GET /healthz` | 200 while the tree's root runs, else 503 |
/// | `GET /readyz` | 200 while every child in the tree runs (but those whose init ignored their start), else 503 |
/// | `POST /api/terminate?path=..`, `POST /api/restart?path=..` | operations, refused (403) unless enabled with [`operations`](Self::operations) and given the token |
///
/// It serves the root of the tree it is a child of, found as that tree
/// starts, unless it is given another tree with [`tree`](Self::tree) or
/// [`tree_ref`](Self::tree_ref) (which it needs when it is added to a tree
/// that is already running). It listens on `127.0.0.1` unless told another
/// address. A dashboard is a worker: permanent, not significant; its start
/// binds the listener, so an address in use fails the start with
/// [`DashboardError::Bind`].
///
/// The server is hyper's HTTP/1 server, without a framework: the routes
/// are few and fixed, and the feature adds hyper, hyper-util and bytes to
/// the crate's dependencies, nothing else. Without the feature, none.
///
/// # Examples
///
/// With the builder:
///
/// ```no_run
/// use supervise::{ChildSpec, Context, Dashboard, Exit, Supervisor, Worker};
///
/// struct Job;
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main] async fn main() {
/// let (dashboard, page) = Dashboard::new(4000).spec("dashboard");
/// let app = Supervisor::builder("app")
///     .child(ChildSpec::worker("job", || Job))
///     .child(dashboard)
///     .build()
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// println!("the tree, live: {}", page.url().unwrap()); // http://127.0.0.1:4000/
/// app.wait().await;
/// # }
/// ```
///
/// As a field of a derived supervisor (or in `supervision_tree!`), its
/// handle is the field of the tree's handle:
///
/// ```no_run
/// use supervise::{worker, Context, Dashboard, Exit, Supervisor, Worker};
///
/// #[worker]
/// #[derive(Clone)]
/// struct Job;
/// impl Worker for Job {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// #[derive(Clone, Supervisor)]
/// struct App {
///     job: Job,
///     dashboard: Dashboard,
/// }
///
/// # #[tokio::main] async fn main() {
/// let app = App { job: Job, dashboard: Dashboard::new(4000) }.start().await.unwrap();
/// println!("{}", app.dashboard.url().unwrap());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Dashboard {
    addr: SocketAddr,
    tree: Option<Tree>,
    token: Option<Arc<str>>,
    refresh: Duration,
    page_size: usize,
}

/// The tree a dashboard was told to serve.
#[derive(Debug, Clone)]
enum Tree {
    Handle(SupervisorHandle),
    Ref(SupervisorRef),
}

impl Dashboard {
    /// A dashboard on `127.0.0.1:port` (`0`: a free port, which
    /// [`DashboardHandle::local_addr`](crate::DashboardHandle::local_addr) tells once it listens).
    pub fn new(port: u16) -> Self {
        Dashboard::at(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// A dashboard on exactly `addr`, e.g. `0.0.0.0:4000` to be reached
    /// from other machines (then better with a reverse proxy in front: the
    /// dashboard speaks plain HTTP).
    pub fn at(addr: SocketAddr) -> Self {
        Dashboard {
            addr,
            tree: None,
            token: None,
            refresh: DEFAULT_REFRESH,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// A dashboard on an address written as text: `4000` (a port on
    /// `127.0.0.1`), `127.0.0.1:4000`, `[::1]:4000`, `0.0.0.0:4000` or
    /// `localhost:4000` (a name is resolved now).
    ///
    /// # Errors
    ///
    /// [`DashboardError::BadAddress`] for text that is none of these.
    ///
    /// # Examples
    ///
    /// ```
    /// use supervise::{Dashboard, DashboardError};
    ///
    /// assert_eq!(Dashboard::parse("4000").unwrap().addr().to_string(), "127.0.0.1:4000");
    /// assert_eq!(Dashboard::parse("[::1]:80").unwrap().addr().to_string(), "[::1]:80");
    /// assert!(matches!(Dashboard::parse("not an address"), Err(DashboardError::BadAddress { .. })));
    /// ```
    pub fn parse(addr: &str) -> Result<Self, DashboardError> {
        let text = addr.trim();
        let bad = |reason: &str| DashboardError::BadAddress {
            input: addr.to_owned(),
            reason: reason.to_owned(),
        };
        if let Ok(port) = text.parse::<u16>() {
            return Ok(Dashboard::new(port));
        }
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Dashboard::at(addr));
        }
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err(bad("expected a port, or host:port"));
        };
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad("expected a port, or host:port"));
        }
        match text.to_socket_addrs() {
            Ok(mut addrs) => addrs
                .next()
                .map(Dashboard::at)
                .ok_or_else(|| bad("the name resolves to no address")),
            Err(e) => Err(bad(&e.to_string())),
        }
    }

    /// Serves the tree below `supervisor` rather than the root of the
    /// tree the dashboard is a child of (needed when it is added to a tree
    /// that is already running, whose start it cannot see).
    pub fn tree(mut self, supervisor: SupervisorHandle) -> Self {
        self.tree = Some(Tree::Handle(supervisor));
        self
    }

    /// Serves the tree below whichever incarnation of a supervisor is
    /// running (see [`SupervisorRef`]): the page follows it across its
    /// restarts.
    pub fn tree_ref(mut self, supervisor: SupervisorRef) -> Self {
        self.tree = Some(Tree::Ref(supervisor));
        self
    }

    /// Enables terminating and restarting children from the page, to
    /// whoever gives `token` (the page asks for it; a script sends it as
    /// `Authorization: Bearer <token>`). Without this, the page is
    /// read-only and every operation is refused with 403.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use supervise::{ChildSpec, Context, Dashboard, Exit, Supervisor, Worker};
    ///
    /// struct Job;
    /// impl Worker for Job {
    ///     type Message = ();
    ///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
    ///         std::future::pending::<()>().await;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() {
    /// let (dashboard, page) = Dashboard::new(0).operations("s3cret").spec("dashboard");
    /// let app = Supervisor::builder("app")
    ///     .child(ChildSpec::worker("job", || Job))
    ///     .child(dashboard)
    ///     .build().unwrap().start().await.unwrap();
    ///
    /// // What a script sends to stop `app/job` (`curl -X POST -H ...`).
    /// let addr = page.listening().await;
    /// let reply = tokio::task::spawn_blocking(move || {
    ///     let mut http = std::net::TcpStream::connect(addr).unwrap();
    ///     http.write_all(b"POST /api/terminate?path=app%2Fjob HTTP/1.1\r\nHost: localhost\r\n\
    ///         Authorization: Bearer s3cret\r\nConnection: close\r\n\r\n").unwrap();
    ///     let mut reply = String::new();
    ///     http.read_to_string(&mut reply).unwrap();
    ///     reply
    /// }).await.unwrap();
    /// assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    /// assert_eq!(app.count_children().await.unwrap().active, 1); // the dashboard
    /// app.stop().await.unwrap();
    /// # }
    /// ```
    pub fn operations(mut self, token: impl Into<Arc<str>>) -> Self {
        self.token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// The shortest time between two frames sent to a page (default
    /// 100 ms: at most ten redraws a second). A large tree is redrawn less
    /// often: its picture is taken no more often than keeps its cost to a
    /// few percent of a core (10,000 children restarting 1,000 times a
    /// second get 2 to 4 frames a second).
    pub fn refresh(mut self, every: Duration) -> Self {
        self.refresh = every.max(Duration::from_millis(10));
        self
    }

    /// How many children of one supervisor are shown at once (default
    /// 50); a supervisor with more shows their counts by state and pages.
    pub fn page_size(mut self, children: usize) -> Self {
        self.page_size = children.max(1);
        self
    }

    /// The address it listens on, as configured (port `0` included).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its child spec, with id `id`, and the handle that tells where it
    /// listens.
    pub fn spec(self, id: &str) -> (ChildSpec, DashboardHandle) {
        let template = self;
        <Dashboard as Child>::child_spec(id, move || template.clone())
    }
}

impl FromStr for Dashboard {
    type Err = DashboardError;

    /// [`Dashboard::parse`].
    fn from_str(s: &str) -> Result<Self, DashboardError> {
        Dashboard::parse(s)
    }
}

/// A dashboard's handle: where it listens, across its restarts.
///
/// # Examples
///
/// ```
/// use supervise::{Dashboard, Supervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (dashboard, page) = Dashboard::new(0).spec("dashboard");
/// let app = Supervisor::builder("app").child(dashboard).build().unwrap().start().await.unwrap();
/// let addr = page.local_addr().expect("listening once started");
/// assert!(addr.ip().is_loopback());
/// assert_eq!(page.url().unwrap(), format!("http://{addr}/"));
/// app.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DashboardHandle {
    shared: Arc<Shared>,
}

impl DashboardHandle {
    /// The address it listens on, once listening (the start binds it);
    /// `None` before its first start.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.shared.bound.borrow()
    }

    /// The page's address, `http://host:port/`, once listening.
    pub fn url(&self) -> Option<String> {
        self.local_addr().map(|addr| format!("http://{addr}/"))
    }

    /// Waits until it listens, and returns where.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn listening(&self) -> SocketAddr {
        let mut bound = self.shared.bound.subscribe();
        loop {
            if let Some(addr) = *bound.borrow_and_update() {
                return addr;
            }
            // The sender lives in `self.shared`: never closed while we wait.
            let _ = bound.changed().await;
        }
    }
}

/// Why a dashboard could not be made, or could not start.
///
/// A failed start is the child's start error: the tree's
/// [`StartError`](crate::StartError) carries it as an
/// [`ExitReason::Error`](crate::ExitReason::Error), to be downcast.
///
/// # Examples
///
/// ```
/// use supervise::{Dashboard, DashboardError, ExitReason, Supervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert!(matches!(Dashboard::parse("port 80"), Err(DashboardError::BadAddress { .. })));
///
/// let (first, page) = Dashboard::new(0).spec("dashboard");
/// let one = Supervisor::builder("one").child(first).build().unwrap().start().await.unwrap();
/// // A second dashboard on the same address fails its tree's start.
/// let (second, _) = Dashboard::at(page.local_addr().unwrap()).spec("dashboard");
/// let failed = Supervisor::builder("two").child(second).build().unwrap().start().await.unwrap_err();
/// let ExitReason::FailedToStartChild { reason, .. } = failed.reason() else { panic!() };
/// let ExitReason::Error(error) = &**reason else { panic!() };
/// assert!(matches!(error.downcast_ref(), Some(DashboardError::Bind { .. })));
/// one.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DashboardError {
    /// The text is not an address to listen on.
    BadAddress {
        /// The text.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The listener could not be bound (the address is in use, or not
    /// this machine's).
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for DashboardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DashboardError::BadAddress { input, reason } => {
                write!(f, "bad dashboard address `{input}`: {reason}")
            }
            DashboardError::Bind { addr, source } => {
                write!(f, "the dashboard could not listen on {addr}: {source}")
            }
        }
    }
}

impl std::error::Error for DashboardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DashboardError::Bind { source, .. } => Some(source),
            DashboardError::BadAddress { .. } => None,
        }
    }
}

/// A dashboard is a worker child: permanent, not significant. Its handle
/// tells where it listens.
impl Child for Dashboard {
    type Handle = DashboardHandle;
    const KIND: ChildKind = ChildKind::Worker;
    const RESTART: Restart = Restart::Permanent;
    const SHUTDOWN: Shutdown = Shutdown::DEFAULT_WORKER;
    const SIGNIFICANT: bool = false;

    fn child_spec<F>(id: &str, factory: F) -> (ChildSpec, DashboardHandle)
    where
        F: Fn() -> Self + Send + Sync + 'static,
    {
        // One shared state per spec, whatever the factory returns: the
        // handle sees every incarnation's listener.
        let shared = Arc::new(Shared::default());
        let handle = DashboardHandle {
            shared: shared.clone(),
        };
        let spec = ChildSpec::worker(id, move || Serve {
            config: factory(),
            shared: shared.clone(),
            listener: None,
            discovery: None,
        })
        .restart(Self::RESTART)
        .shutdown(Self::SHUTDOWN)
        .significant(Self::SIGNIFICANT);
        (spec, handle)
    }
}

/// What a dashboard's incarnations and its handle share.
#[derive(Debug)]
struct Shared {
    /// Where the latest incarnation listens.
    bound: watch::Sender<Option<SocketAddr>>,
    /// The root of the tree the dashboard is a child of, once seen.
    root: Mutex<Option<SupervisorHandle>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            bound: watch::Sender::new(None),
            root: Mutex::new(None),
        }
    }
}

impl Shared {
    fn root(&self) -> Option<SupervisorHandle> {
        self.root
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|root| !root.is_stopped())
    }

    fn set_root(&self, root: SupervisorHandle) {
        *self.root.lock().unwrap_or_else(PoisonError::into_inner) = Some(root);
    }
}

/// One incarnation of a dashboard: the worker its spec starts.
struct Serve {
    config: Dashboard,
    shared: Arc<Shared>,
    /// Bound by `init`, served by `run`.
    listener: Option<TcpListener>,
    /// The tree's events, read until its root's start shows its handle.
    discovery: Option<EventStream>,
}

impl Worker for Serve {
    type Message = ();

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        // Before the listener, so that no start of the root is missed: a
        // root reports `Started` after all its children's inits.
        if self.config.tree.is_none() && self.shared.root().is_none() {
            self.discovery = Some(ctx.child_ref().inner().bus().subscribe());
        }
        let addr = self.config.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Exit::from(DashboardError::Bind { addr, source }))?;
        let local = listener.local_addr().unwrap_or(addr);
        self.shared.bound.send_replace(Some(local));
        self.listener = Some(listener);
        Ok(Init::Ready)
    }

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        let Serve {
            config,
            shared,
            listener,
            discovery,
        } = self;
        let Some(listener) = listener else {
            return Err(Exit::from("the dashboard's init did not listen"));
        };
        let local = listener.local_addr().map_or(config.addr.ip(), |a| a.ip());
        let state = server::State::new(config, shared.clone(), local);
        let discover = async move {
            if let Some(events) = discovery {
                discover_root(events, &shared).await;
            }
        };
        let _ = ctx;
        server::serve(listener, state, discover).await
    }
}

/// Reads the tree's events until its root reports its start, whose
/// reference is the root's handle; keeps it in `shared`.
async fn discover_root(mut events: EventStream, shared: &Shared) {
    while let Some(event) = events.recv().await {
        if let Event::Started { child } = event {
            if child.inner().is_root() {
                if let Some(root) = child.supervisor() {
                    shared.set_root(root);
                    return;
                }
            }
        }
    }
}

/// Whether `ip` is this machine only.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}
