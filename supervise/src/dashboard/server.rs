//! The listener and the routes: hyper's HTTP/1 server, one task per
//! connection, all of them the dashboard incarnation's (they end with it).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::body::{Frame as BodyFrame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::hub::{self, Hub, SpecCache};
use super::{ops, view, Dashboard, Shared, Tree};
use crate::exit::Exit;
use crate::snapshot::ChildState;
use crate::supervisor::SupervisorHandle;

const INDEX_HTML: &str = include_str!("assets/index.html");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("assets/dashboard.css");

/// The page may load its own script, style and events, and nothing else:
/// even markup that slipped into it could run no script.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// A page's stream says it is alive this often, so that a closed page is
/// noticed even when the tree is quiet.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// What the routes of one dashboard incarnation share.
#[derive(Debug)]
pub(super) struct State {
    pub(super) config: Dashboard,
    shared: Arc<Shared>,
    pub(super) hub: Arc<Hub>,
    pub(super) specs: tokio::sync::Mutex<SpecCache>,
    /// Listening on loopback only: requests must name a loopback host (a
    /// page elsewhere cannot reach it through a rebound DNS name).
    loopback: bool,
}

impl State {
    pub(super) fn new(config: Dashboard, shared: Arc<Shared>, local: IpAddr) -> Arc<Self> {
        Arc::new(State {
            config,
            shared,
            hub: Arc::new(Hub::new()),
            specs: tokio::sync::Mutex::default(),
            loopback: super::is_loopback(local),
        })
    }

    /// The supervisor at the top of the served tree, while it runs.
    pub(super) fn tree(&self) -> Option<SupervisorHandle> {
        match &self.config.tree {
            Some(Tree::Handle(handle)) => Some(handle.clone()),
            Some(Tree::Ref(supervisor)) => supervisor.current().ok(),
            None => self.shared.root(),
        }
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        if !self.loopback {
            return true;
        }
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return true;
        };
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<IpAddr>().is_ok_and(super::is_loopback)
    }
}

/// Serves until the incarnation ends (its task is then aborted, and the
/// connections with it), while `discover` finds the tree's root.
pub(super) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    discover: impl Future<Output = ()>,
) -> Result<(), Exit> {
    let mut tasks = JoinSet::new();
    tasks.spawn(hub::run(state.clone()));
    tokio::pin!(discover);
    let mut discovering = true;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tasks.spawn(connection(stream, state.clone()));
                }
                Err(error) => {
                    // Out of file descriptors, most likely: wait, not spin.
                    tracing::warn!(%error, "the dashboard could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut discover, if discovering => discovering = false,
            Some(done) = tasks.join_next() => {
                if let Err(error) = done {
                    if error.is_panic() {
                        std::panic::resume_unwind(error.into_panic());
                    }
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, state: Arc<State>) {
    let service = hyper::service::service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(route(&state, request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn route(state: &Arc<State>, request: Request<Incoming>) -> Response<Body> {
    if !state.host_allowed(request.headers()) {
        return text(
            StatusCode::FORBIDDEN,
            "this dashboard answers to localhost only\n",
        );
    }
    let query = request.uri().query().unwrap_or("");
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => page(INDEX_HTML, "text/html; charset=utf-8"),
        (&Method::GET, "/dashboard.js") => page(DASHBOARD_JS, "text/javascript; charset=utf-8"),
        (&Method::GET, "/dashboard.css") => page(DASHBOARD_CSS, "text/css; charset=utf-8"),
        (&Method::GET, "/events") => events(state, query),
        (&Method::GET, "/api/tree") => tree_json(state).await,
        (&Method::GET, "/healthz") => healthz(state),
        (&Method::GET, "/readyz") => readyz(state).await,
        (&Method::POST, "/api/terminate") => {
            ops::operate(state, ops::Op::Terminate, query, request.headers()).await
        }
        (&Method::POST, "/api/restart") => {
            ops::operate(state, ops::Op::Restart, query, request.headers()).await
        }
        (
            _,
            "/" | "/dashboard.js" | "/dashboard.css" | "/events" | "/api/tree" | "/healthz"
            | "/readyz",
        ) => {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
            response
        }
        (_, "/api/terminate" | "/api/restart") => {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// `/healthz`: the served tree's top supervisor runs.
fn healthz(state: &State) -> Response<Body> {
    match state.tree() {
        Some(tree) if !tree.is_stopped() => text(StatusCode::OK, "ok\n"),
        _ => text(StatusCode::SERVICE_UNAVAILABLE, "not running\n"),
    }
}

/// `/readyz`: every child in the served tree runs, but the ones whose init
/// ignored their start (OTP's `ignore` is not a failure: they chose not to
/// run).
async fn readyz(state: &State) -> Response<Body> {
    let Some(tree) = state.tree() else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "not running\n");
    };
    match tree.snapshot().await {
        Ok(snapshot) => match snapshot
            .walk()
            .iter()
            .find(|(_, child)| child.state != ChildState::Running && !view::ignored(child))
        {
            None => text(StatusCode::OK, "ready\n"),
            Some((_, child)) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("not ready: {} is not running\n", child.path),
            ),
        },
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "not running\n"),
    }
}

/// `/api/tree`: a fresh picture, every child listed.
async fn tree_json(state: &State) -> Response<Body> {
    let Some(tree) = state.tree() else {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"error":"waiting for the tree to start"}"#.to_owned(),
        );
    };
    let book = hub::Book::default();
    match hub::picture(state, &tree, &book).await {
        Ok(picture) => {
            let mut out = String::with_capacity(4096);
            out.push_str("{\"at\":");
            view::push_ms(&mut out, SystemTime::now());
            out.push_str(",\"tree\":");
            view::push_tree(&mut out, &picture, &view::Pages::all());
            out.push('}');
            json(StatusCode::OK, out)
        }
        Err(why) => {
            let mut out = String::from("{\"error\":");
            view::push_str(&mut out, &why);
            out.push('}');
            json(StatusCode::SERVICE_UNAVAILABLE, out)
        }
    }
}

/// `/events`: the frames of one page, as Server-Sent Events.
fn events(state: &Arc<State>, query: &str) -> Response<Body> {
    let pages = view::Pages::from_query(query, state.config.page_size);
    let (tx, rx) = mpsc::channel(1);
    let (frames, guard) = state.hub.open();
    let ops = state.config.token.is_some();
    tokio::spawn(stream_page(tx, frames, guard, pages, ops));
    let mut response = Response::new(Body::Stream(rx));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A reverse proxy (nginx) passes each event on as it comes.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Sends a page each frame it has not seen, skipping the ones it was too
/// slow for; ends when the page goes (its body is dropped).
async fn stream_page(
    tx: mpsc::Sender<Bytes>,
    mut frames: tokio::sync::watch::Receiver<std::sync::Arc<hub::Frame>>,
    _open: hub::PageGuard,
    pages: view::Pages,
    ops: bool,
) {
    let hello = "retry: 1000\n\n";
    if tx.send(Bytes::from_static(hello.as_bytes())).await.is_err() {
        return;
    }
    let mut sent_tree = String::new();
    let mut sent_seq = 0u64;
    let mut number = 0u64;
    loop {
        tokio::select! {
            changed = frames.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tx.closed() => return,
            () = tokio::time::sleep(HEARTBEAT) => {
                if tx.send(Bytes::from_static(b": alive\n\n")).await.is_err() {
                    return;
                }
                continue;
            }
        }
        let frame = frames.borrow_and_update().clone();
        let mut tree = String::with_capacity(sent_tree.len().max(1024));
        view::push_frame_tree(&mut tree, &frame, &pages);
        let fresh = frame
            .timeline
            .back()
            .is_some_and(|entry| entry.seq > sent_seq);
        if tree == sent_tree && !fresh {
            continue;
        }
        number += 1;
        let mut message = String::with_capacity(tree.len() + 256);
        message.push_str("event: frame\ndata: {\"n\":");
        view::push_u64(&mut message, number);
        message.push_str(",\"ops\":");
        message.push_str(if ops { "true" } else { "false" });
        message.push_str(",\"page_size\":");
        view::push_u64(&mut message, pages.size() as u64);
        message.push_str(",\"tree\":");
        message.push_str(&tree);
        message.push_str(",\"timeline\":");
        sent_seq = view::push_timeline(&mut message, &frame.timeline, sent_seq);
        message.push_str("}\n\n");
        sent_tree = tree;
        if tx.send(Bytes::from(message)).await.is_err() {
            return;
        }
    }
}

fn page(body: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::Full(Some(Bytes::from_static(body.as_bytes()))));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn text(status: StatusCode, body: &str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", body.to_owned())
}

pub(super) fn json(status: StatusCode, body: String) -> Response<Body> {
    respond(status, "application/json", body)
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Full(Some(Bytes::from(body))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A response body: all of it at once, or a stream of events.
#[derive(Debug)]
pub(super) enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(BodyFrame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|b| b.map(|b| Ok(BodyFrame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}
