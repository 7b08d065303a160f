//! The dashboard over HTTP, with a plain TCP client: the routes, the JSON,
//! the escaping, the operations' refusal, the frames' paging and pace.
//! (The page itself is tested in a browser: `tests/tests/dashboard.rs`.)

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::*;
use crate::exit::ExitReason;
use crate::supervisor::{ChildStatus, DynamicSupervisorSpec, Supervisor};

/// Writes all of `bytes` (without tokio's `io-util`).
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        stream.writable().await.unwrap();
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
}

/// Reads what comes next; 0 at the end.
async fn read(stream: &TcpStream, buffer: &mut [u8]) -> usize {
    loop {
        stream.readable().await.unwrap();
        match stream.try_read(buffer) {
            Ok(n) => return n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
}

async fn read_to_end(stream: &TcpStream) -> String {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match read(stream, &mut chunk).await {
            0 => return String::from_utf8(raw).unwrap(),
            n => raw.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits forever.
struct Idle;

impl Worker for Idle {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Crashes after `after`.
struct Crash(Duration);

impl Worker for Crash {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        tokio::time::sleep(self.0).await;
        Err("boom".into())
    }
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One request on its own connection.
async fn request(addr: SocketAddr, method: &str, target: &str, extra: &str) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    write_all(&stream, head.as_bytes()).await;
    let raw = read_to_end(&stream).await;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

async fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target, "").await
}

/// A page's event stream: its frames' `data`, as they come.
struct Stream {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Stream {
    async fn open(addr: SocketAddr, target: &str) -> Stream {
        let stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        write_all(&stream, head.as_bytes()).await;
        let mut s = Stream {
            stream,
            buffer: Vec::new(),
        };
        let head = s.until(b"\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        s
    }

    /// The bytes up to `end` (dropped), chunk framing and all.
    async fn until(&mut self, end: &[u8]) -> String {
        loop {
            if let Some(i) = self.buffer.windows(end.len()).position(|w| w == end) {
                let taken: Vec<u8> = self.buffer.drain(..i + end.len()).collect();
                return String::from_utf8(taken[..i].to_vec()).unwrap();
            }
            let mut chunk = [0u8; 65536];
            let n = read(&self.stream, &mut chunk).await;
            assert!(n > 0, "the stream ended");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next frame's JSON (each event is sent as one chunk).
    async fn frame(&mut self) -> String {
        loop {
            let event = self.until(b"\n\n").await;
            if let Some(i) = event.find("event: frame\ndata: ") {
                return event[i + "event: frame\ndata: ".len()..].to_owned();
            }
        }
    }

    /// Frames until one satisfies `ok`, for at most 5 s.
    async fn frame_where(&mut self, ok: impl Fn(&str) -> bool) -> String {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let frame = self.frame().await;
                if ok(&frame) {
                    return frame;
                }
            }
        })
        .await
        .expect("no such frame within 5 s")
    }
}

async fn start(dashboard: Dashboard, children: Vec<ChildSpec>) -> (SupervisorHandle, SocketAddr) {
    let (spec, page) = dashboard.spec("dashboard");
    let mut builder = Supervisor::builder("app");
    for child in children {
        builder = builder.child(child);
    }
    let root = builder.child(spec).build().unwrap().start().await.unwrap();
    let addr = page.listening().await;
    (root, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_json_and_the_page() {
    let (root, addr) = start(Dashboard::new(0), vec![ChildSpec::worker("db", || Idle)]).await;
    assert!(addr.ip().is_loopback());

    assert_eq!(get(addr, "/healthz").await.status, 200);
    assert_eq!(get(addr, "/readyz").await.status, 200);

    let tree = get(addr, "/api/tree").await;
    assert_eq!(tree.status, 200);
    assert!(tree.headers.contains("content-type: application/json"));
    for part in [
        r#""tree":{"path":"app","id":"app","kind":"supervisor","top":true"#,
        r#""strategy":"one_for_one","restarts":0,"max_restarts":3,"period_ms":5000,"count":2"#,
        r#"{"path":"app/db","id":"db","kind":"worker","restart":"permanent","shutdown":"5000","state":"running","incarnation":1,"restarts":0,"max_restarts":3,"exits":[]}"#,
    ] {
        assert!(tree.body.contains(part), "{part} not in {}", tree.body);
    }

    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert!(page
        .headers
        .contains("content-security-policy: default-src 'none'; script-src 'self'"));
    assert!(page
        .body
        .contains("<script src=\"dashboard.js\" defer></script>"));
    assert_eq!(get(addr, "/dashboard.js").await.status, 200);
    assert_eq!(get(addr, "/nothing").await.status, 404);
    assert_eq!(request(addr, "POST", "/api/tree", "").await.status, 405);

    root.terminate_child("db").await.unwrap();
    let ready = get(addr, "/readyz").await;
    assert_eq!(ready.status, 503);
    assert!(
        ready.body.contains("app/db is not running"),
        "{}",
        ready.body
    );
    let tree = get(addr, "/api/tree").await;
    assert!(
        tree.body.contains(r#""path":"app/db","id":"db","kind":"worker","restart":"permanent","shutdown":"5000","state":"stopped""#),
        "{}",
        tree.body
    );
    root.stop().await.unwrap();
}

/// Ignores its start.
struct Ignore;

impl Worker for Ignore {
    type Message = ();
    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        Ok(Init::Ignore)
    }
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_child_shows_as_ignored_and_leaves_the_tree_ready() {
    let (root, addr) = start(
        Dashboard::new(0),
        vec![ChildSpec::worker("mailer", || Ignore)],
    )
    .await;
    let tree = get(addr, "/api/tree").await;
    assert!(
        tree.body.contains(r#""path":"app/mailer","id":"mailer","kind":"worker","restart":"permanent","shutdown":"5000","state":"ignored","incarnation":1"#),
        "{}",
        tree.body
    );
    assert_eq!(get(addr, "/readyz").await.status, 200);
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_and_reasons_are_escaped_json() {
    // Any id but one with a `/` (a path separator, refused by the spec).
    let id = "<script>alert(\"x\")<img src=x onerror=alert(1)> & ünï\u{2028}";
    let (root, addr) = start(Dashboard::new(0), vec![ChildSpec::worker(id, || Idle)]).await;
    let tree = get(addr, "/api/tree").await;
    assert!(!tree.body.contains('<'), "{}", tree.body);
    assert!(
        tree.body.contains(
            r#""id":"\u003cscript\u003ealert(\"x\")\u003cimg src=x onerror=alert(1)\u003e \u0026 ünï\u2028""#
        ),
        "{}",
        tree.body
    );
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_are_refused_without_the_option_or_the_token() {
    // Read-only: refused, and nothing changes.
    let (root, addr) = start(Dashboard::new(0), vec![ChildSpec::worker("db", || Idle)]).await;
    let refused = request(
        addr,
        "POST",
        "/api/terminate?path=app%2Fdb",
        "Authorization: Bearer x\r\n",
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("read-only"), "{}", refused.body);
    assert_eq!(root.count_children().await.unwrap().active, 2);
    root.stop().await.unwrap();

    // Enabled: the token is required, and then it works.
    let (root, addr) = start(
        Dashboard::new(0).operations("s3cret"),
        vec![ChildSpec::worker("db", || Idle)],
    )
    .await;
    for auth in [
        "",
        "Authorization: Bearer wrong\r\n",
        "Authorization: s3cret\r\n",
    ] {
        let refused = request(addr, "POST", "/api/terminate?path=app/db", auth).await;
        assert_eq!(refused.status, 403, "{auth}");
    }
    assert_eq!(root.count_children().await.unwrap().active, 2);
    let auth = "Authorization: Bearer s3cret\r\n";
    let done = request(addr, "POST", "/api/terminate?path=app/db", auth).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(root.count_children().await.unwrap().active, 1);
    let done = request(addr, "POST", "/api/restart?path=app/db", auth).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(root.count_children().await.unwrap().active, 2);
    let missing = request(addr, "POST", "/api/restart?path=app/nobody", auth).await;
    assert_eq!(missing.status, 404);
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_on_loopback() {
    let (root, addr) = start(Dashboard::new(0), vec![]).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let head = b"GET /api/tree HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n";
    write_all(&stream, head).await;
    let raw = read_to_end(&stream).await;
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    for host in ["localhost:1", "127.0.0.1", "[::1]:8080", "LOCALHOST"] {
        let stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        write_all(&stream, head.as_bytes()).await;
        let raw = read_to_end(&stream).await;
        assert!(raw.starts_with("HTTP/1.1 200"), "{host}: {raw}");
    }
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_supervisor_is_paged() {
    let big = DynamicSupervisorSpec::builder("big").build().unwrap();
    let (root, addr) = start(
        Dashboard::new(0).page_size(50),
        vec![ChildSpec::dynamic_supervisor("big", big)],
    )
    .await;
    let big = root
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .find_map(|c| match c.status {
            ChildStatus::Running(r) if r.path() == "app/big" => r.supervisor(),
            _ => None,
        })
        .unwrap();
    for i in 0..120 {
        big.start_child(ChildSpec::worker(format!("w{i}"), || Idle).restart(Restart::Temporary))
            .await
            .unwrap();
    }
    let mut page = Stream::open(addr, "/events").await;
    let frame = page.frame_where(|f| f.contains(r#""count":120"#)).await;
    assert!(frame.contains(r#""page":0,"pages":3"#), "{frame}");
    assert!(
        frame.contains(r#""path":"app/big/w49""#) && !frame.contains(r#""path":"app/big/w50""#)
    );
    assert!(frame.contains(
        r#""counts":{"running":120,"restarting":0,"backing_off":0,"stopped":0,"ignored":0}"#
    ));
    // A dynamic child's own spec, asked by reference.
    assert!(
        frame.contains(r#"{"path":"app/big/w0","id":"w0","kind":"worker","restart":"temporary","shutdown":"5000","state":"running""#),
        "{frame}"
    );

    let mut third = Stream::open(addr, "/events?page=2%3Aapp%2Fbig").await;
    let frame = third.frame_where(|f| f.contains(r#""count":120"#)).await;
    assert!(frame.contains(r#""page":2,"pages":3"#), "{frame}");
    assert!(
        frame.contains(r#""path":"app/big/w100""#) && !frame.contains(r#""path":"app/big/w99""#)
    );
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_show_restarts_and_give_ups_at_most_ten_a_second() {
    let flaky = Supervisor::builder("flaky")
        .max_restarts(1_000_000)
        .child(ChildSpec::worker("crasher", || {
            Crash(Duration::from_micros(200))
        }))
        .build()
        .unwrap();
    let doomed = Supervisor::builder("doomed")
        .max_restarts(1)
        .child(ChildSpec::worker("bomb", || {
            Crash(Duration::from_millis(20))
        }))
        .build()
        .unwrap();
    let (root, addr) = start(
        Dashboard::new(0),
        vec![
            ChildSpec::supervisor("flaky", flaky),
            ChildSpec::supervisor("doomed", doomed).restart(Restart::Temporary),
        ],
    )
    .await;
    let mut page = Stream::open(addr, "/events").await;
    let gave_up = page
        .frame_where(|f| f.contains(r#""kind":"gave_up","supervisor":"app/doomed""#))
        .await;
    assert!(gave_up.contains(r#""kind":"restart","supervisor":"app/flaky","child":"app/flaky/crasher","reason":"boom""#), "{gave_up}");

    // Thousands of restarts a second; at most ten frames a second (one
    // more for the edges of the window).
    let counted = tokio::time::Instant::now();
    let mut frames = 0;
    while counted.elapsed() < Duration::from_secs(1) {
        if tokio::time::timeout_at(counted + Duration::from_secs(1), page.frame())
            .await
            .is_ok()
        {
            frames += 1;
        }
    }
    assert!((1..=11).contains(&frames), "{frames} frames in a second");
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_dashboard_serves_the_root() {
    let (spec, page) = Dashboard::new(0).spec("dashboard");
    let inner = Supervisor::builder("inner").child(spec).build().unwrap();
    let root = Supervisor::builder("app")
        .child(ChildSpec::supervisor("inner", inner))
        .child(ChildSpec::worker("after", || Idle))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let addr = page.listening().await;
    let tree = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let tree = get(addr, "/api/tree").await;
            if tree.status == 200 {
                return tree;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert!(
        tree.body.contains(r#""tree":{"path":"app","#),
        "{}",
        tree.body
    );
    assert!(tree.body.contains(r#""path":"app/inner/dashboard""#));

    // Restarted with its supervisor, it still knows the root.
    root.terminate_child("inner").await.unwrap();
    root.restart_child("inner").await.unwrap();
    let addr = page.listening().await;
    assert!(get(addr, "/api/tree")
        .await
        .body
        .contains(r#""path":"app/after""#));
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_and_bind_failures_are_typed_errors() {
    assert_eq!(
        Dashboard::parse("4000").unwrap().addr(),
        SocketAddr::from(([127, 0, 0, 1], 4000))
    );
    assert_eq!(
        "0.0.0.0:80".parse::<Dashboard>().unwrap().addr(),
        SocketAddr::from(([0, 0, 0, 0], 80))
    );
    for bad in ["", "host", ":80", "localhost:99999", "[::1]"] {
        assert!(
            matches!(
                Dashboard::parse(bad),
                Err(DashboardError::BadAddress { .. })
            ),
            "{bad}"
        );
    }

    let (root, addr) = start(Dashboard::new(0), vec![]).await;
    let (taken, _) = Dashboard::at(addr).spec("dashboard");
    let error = Supervisor::builder("second")
        .child(taken)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    let ExitReason::FailedToStartChild { id, reason } = error.reason() else {
        panic!("{error}");
    };
    assert_eq!(&**id, "dashboard");
    let ExitReason::Error(error) = &**reason else {
        panic!("{reason}");
    };
    assert!(matches!(
        error.downcast_ref::<DashboardError>(),
        Some(DashboardError::Bind { addr: a, .. }) if *a == addr
    ));
    root.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_added_to_a_running_tree_is_given_it() {
    let root = Supervisor::builder("app")
        .child(ChildSpec::worker("db", || Idle))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let (spec, page) = Dashboard::new(0).tree(root.clone()).spec("dashboard");
    root.start_child(spec).await.unwrap();
    let addr = page.listening().await;
    let tree = get(addr, "/api/tree").await;
    assert_eq!(tree.status, 200, "{}", tree.body);
    assert!(tree.body.contains(r#""path":"app/dashboard""#));
    root.stop().await.unwrap();
}
