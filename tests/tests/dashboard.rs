//! The dashboard's page in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`, which `.ci/run`
//! installs). Behind the `dashboard` feature of this crate, so that
//! `cargo test --workspace` needs no browser:
//!
//! ```text
//! cargo test -p supervise-tests --features dashboard --test dashboard
//! ```
//!
//! `CHROMEDRIVER` and `CHROMIUM` name other binaries than `chromedriver`
//! and `/usr/bin/chromium`. Every check waits for a condition on the page
//! up to a deadline, polling the DOM; none sleeps and then asserts.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child as Process, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use supervise::{
    ChildSpec, Context, Dashboard, Exit, Restart, Supervisor, SupervisorHandle, Worker,
    WorkerHandle,
};
use tokio::time::Instant;

/// Crashes with the reason it is sent.
struct Crasher;

impl Worker for Crasher {
    type Message = &'static str;
    async fn run(self, mut ctx: Context<&'static str>) -> Result<(), Exit> {
        match ctx.recv().await {
            Some(reason) => Err(reason.into()),
            None => std::future::pending().await,
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

/// An id that is markup, quotes, spaces and unicode (a `/` is the one
/// character an id cannot hold).
const HOSTILE: &str = "<script>alert(1)<img src=x onerror=alert(2)> \"quoted\" & ünï 🦀";

/// chromedriver and a headless Chromium session, ended on drop.
struct Browser {
    client: Option<Client>,
    driver: Process,
}

impl Browser {
    async fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not run `{program}` ({e}): install Debian's chromium and \
                     chromium-driver (.ci/run does), or set CHROMEDRIVER"
                )
            });
        let mut browser = Browser {
            client: None,
            driver,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let up = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < up,
                "chromedriver did not listen within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1400,900",
            ],
        });
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if std::path::Path::new(&binary).exists() {
            options["binary"] = json!(binary);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .expect("a WebDriver session with headless Chromium");
        browser.client = Some(client);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("connected")
    }

    /// Runs `script` with `args` until `ok` accepts its result, for at
    /// most `within`; panics with what was last seen.
    async fn wait_for<T>(
        &self,
        what: &str,
        within: Duration,
        script: &str,
        args: Vec<Value>,
        ok: impl Fn(&Value) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let seen = self
                .client()
                .execute(script, args.clone())
                .await
                .unwrap_or_else(|e| panic!("{what}: the script failed: {e}"));
            if let Some(found) = ok(&seen) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {within:?}; last seen: {seen}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The row of the node at `path`, as the page shows it, once it does.
    async fn node_where(
        &self,
        what: &str,
        within: Duration,
        path: &str,
        ok: impl Fn(&Node) -> bool,
    ) -> Node {
        self.wait_for(what, within, NODE_JS, vec![json!(path)], |v| {
            let node: Node = Node::from(v)?;
            ok(&node).then_some(node)
        })
        .await
    }

    async fn end(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A node's row: its cells' text.
#[derive(Debug, Clone)]
struct Node {
    id: String,
    kind: String,
    state: String,
    incarnation: String,
    restarts: String,
    policy: String,
    exit: String,
}

impl Node {
    fn from(v: &Value) -> Option<Node> {
        let text = |k: &str| v.get(k)?.as_str().map(str::to_owned);
        Some(Node {
            id: text("id")?,
            kind: text("kind")?,
            state: text("state")?,
            incarnation: text("inc")?,
            restarts: text("restarts")?,
            policy: text("policy")?,
            exit: text("exits")?,
        })
    }
}

/// The cells of the node whose path is `arguments[0]`, or null.
const NODE_JS: &str = r#"
    const li = [...document.querySelectorAll('#tree li.node')]
        .find((li) => li.dataset.path === arguments[0]);
    if (!li) return null;
    const row = li.querySelector(':scope > .row');
    const cell = (c) => row.querySelector('.' + c).textContent;
    return {
        id: cell('id'), kind: cell('kind'), state: cell('state'), inc: cell('inc'),
        restarts: cell('restarts'), policy: cell('policy'), exits: cell('exits'),
    };
"#;

/// The open details of the node at `arguments[0]`: its path and exits.
const DETAILS_JS: &str = r#"
    const li = [...document.querySelectorAll('#tree li.node')]
        .find((li) => li.dataset.path === arguments[0]);
    const details = li && li.querySelector(':scope > .details');
    if (!details || details.hidden) return null;
    return [
        details.querySelector('.path').textContent,
        [...details.querySelectorAll('.exit')].map((e) => e.textContent),
    ];
"#;

/// Every node's path, in the page's order.
const PATHS_JS: &str = r#"
    return [...document.querySelectorAll('#tree li.node')].map((li) => li.dataset.path);
"#;

/// The timeline, oldest first: `[kind, supervisor, child]`.
const TIMELINE_JS: &str = r#"
    return [...document.querySelectorAll('#timeline li')].reverse()
        .map((li) => [li.dataset.kind, li.dataset.supervisor, li.dataset.child]);
"#;

/// A tree with a dashboard, its crasher's handle and the page's address.
struct Tree {
    root: SupervisorHandle,
    crasher: WorkerHandle<Crasher>,
    bomb: WorkerHandle<Crasher>,
    url: String,
}

async fn start_tree(dashboard: Dashboard) -> Tree {
    let (crasher, crasher_handle) = ChildSpec::worker_with_handle("crasher", || Crasher);
    let (bomb, bomb_handle) = ChildSpec::worker_with_handle("bomb", || Crasher);
    // One restart in 5 s: the second crash makes it give up.
    let fragile = Supervisor::builder("fragile")
        .max_restarts(1)
        .max_seconds(5)
        .child(bomb)
        .build()
        .unwrap();
    let (dashboard, page) = dashboard.spec("dashboard");
    let root = Supervisor::builder("app")
        .max_restarts(100)
        .child(ChildSpec::worker("db", || Idle))
        .child(crasher)
        .child(ChildSpec::supervisor("fragile", fragile))
        .child(ChildSpec::worker(HOSTILE, || Idle).restart(Restart::Transient))
        .child(dashboard)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let url = format!("http://{}/", page.listening().await);
    Tree {
        root,
        crasher: crasher_handle,
        bomb: bomb_handle,
        url,
    }
}

const SEE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_tree_live_and_safely() {
    let browser = Browser::start().await;
    let tree = start_tree(Dashboard::new(0)).await;
    browser.client().goto(&tree.url).await.unwrap();

    // The tree, in start order, the dashboard itself included.
    let hostile = format!("app/{HOSTILE}");
    let expected = vec![
        "app",
        "app/db",
        "app/crasher",
        "app/fragile",
        "app/fragile/bomb",
        hostile.as_str(),
        "app/dashboard",
    ];
    browser
        .wait_for("the tree", SEE, PATHS_JS, vec![], |v| {
            let paths: Vec<&str> = v.as_array()?.iter().filter_map(Value::as_str).collect();
            (paths == expected).then_some(())
        })
        .await;
    let crasher = browser
        .node_where("the crasher", SEE, "app/crasher", |_| true)
        .await;
    assert_eq!(
        (
            crasher.kind.as_str(),
            crasher.state.as_str(),
            crasher.incarnation.as_str()
        ),
        ("worker", "running", "#1")
    );
    assert_eq!(crasher.restarts, "0/100");
    assert_eq!(crasher.policy, "permanent · 5000 ms");
    let fragile = browser
        .node_where("fragile", SEE, "app/fragile", |_| true)
        .await;
    assert_eq!(fragile.kind, "one_for_one · 0/1 in 5s");
    assert_eq!(fragile.policy, "permanent · infinity");

    // Read-only: no operation on the page, and one sent anyway is refused
    // and changes nothing.
    let offered = browser
        .client()
        .execute(
            "return [document.querySelectorAll('button.op').length, document.getElementById('ops').hidden]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, json!([0, true]));
    let status = browser
        .client()
        .execute_async(
            "fetch('api/terminate?path=app%2Fcrasher', {method: 'POST'}).then((r) => arguments[0](r.status))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    assert!(tree.crasher.child().is_some_and(|c| !c.has_exited()));

    // Markup in an id is text: the row shows the id itself, and the page
    // has no element the id would have made.
    let node = browser
        .node_where("the hostile id", SEE, &hostile, |_| true)
        .await;
    assert_eq!(node.id, HOSTILE);
    let injected = browser
        .client()
        .execute(
            "return [document.scripts.length, document.querySelectorAll('#tree img, #tree script').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!([1, 0]));

    // A crash: within a second, the next incarnation and one restart.
    let crashed = Instant::now();
    tree.crasher.send("lost the connection").unwrap();
    let after = browser
        .node_where("the restart", Duration::from_secs(1), "app/crasher", |n| {
            n.incarnation != "#1"
        })
        .await;
    assert_eq!(
        (
            after.incarnation.as_str(),
            after.restarts.as_str(),
            after.state.as_str()
        ),
        ("#2", "1/100", "running"),
        "seen {:?} after the crash",
        crashed.elapsed()
    );
    assert!(
        after.exit.starts_with("lost the connection · "),
        "{}",
        after.exit
    );

    // A click opens the row: its path, and its exits with their times.
    let open = r#"
        const li = [...document.querySelectorAll('#tree li.node')]
            .find((li) => li.dataset.path === arguments[0]);
        li.querySelector(':scope > .row .kind').click();
    "#;
    browser
        .client()
        .execute(open, vec![json!("app/crasher")])
        .await
        .unwrap();
    let details = browser
        .wait_for(
            "the crasher's details",
            SEE,
            DETAILS_JS,
            vec![json!("app/crasher")],
            |v| (v[0] == "app/crasher").then(|| v.clone()),
        )
        .await;
    let exits = details[1].as_array().unwrap();
    assert_eq!(exits.len(), 1, "{details}");
    let exit = exits[0].as_str().unwrap();
    assert!(
        exit.contains("#1") && exit.ends_with("lost the connection"),
        "{exit}"
    );

    // A give-up: two crashes in fragile's window; the root restarts it.
    tree.bomb.send("first").unwrap();
    browser
        .node_where("bomb's restart", SEE, "app/fragile/bomb", |n| {
            n.incarnation == "#2"
        })
        .await;
    tree.bomb.send("second").unwrap();
    browser
        .node_where("fragile restarted", SEE, "app/fragile", |n| {
            n.incarnation == "#2"
        })
        .await;
    let timeline = browser
        .wait_for(
            "the give-up on the timeline",
            SEE,
            TIMELINE_JS,
            vec![],
            |v| {
                let entries = v.as_array()?;
                entries
                    .iter()
                    .any(|e| e[0] == "restart" && e[2] == "app/fragile")
                    .then(|| entries.clone())
            },
        )
        .await;
    let fragile_entries: Vec<&Value> = timeline
        .iter()
        .filter(|e| e[1].as_str().is_some_and(|s| s.contains("fragile")) || e[2] == "app/fragile")
        .collect();
    assert_eq!(
        fragile_entries,
        [
            &json!(["restart", "app/fragile", "app/fragile/bomb"]),
            &json!(["gave_up", "app/fragile", "app/fragile/bomb"]),
            &json!(["restart", "app", "app/fragile"]),
        ],
        "{timeline:?}"
    );
    let crasher_entry = timeline.iter().position(|e| e[2] == "app/crasher");
    let give_up = timeline.iter().position(|e| e[0] == "gave_up");
    assert!(crasher_entry < give_up, "{timeline:?}");

    let redraws = browser
        .client()
        .execute("return window.superviseDashboard", vec![])
        .await
        .unwrap();
    assert!(redraws["redraws"].as_u64() >= Some(1), "{redraws}");

    tree.root.stop().await.unwrap();
    browser.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_need_the_option_and_the_token() {
    let browser = Browser::start().await;
    let tree = start_tree(Dashboard::new(0).operations("let me in")).await;
    browser.client().goto(&tree.url).await.unwrap();
    browser
        .node_where("the crasher", SEE, "app/crasher", |n| n.state == "running")
        .await;
    let offered = browser
        .wait_for(
            "the operations",
            SEE,
            "return [document.querySelectorAll('button.op').length, document.getElementById('ops').hidden]",
            vec![],
            |v| (v[0].as_u64()? > 0).then(|| v.clone()),
        )
        .await;
    assert_eq!(offered[1], json!(false));

    // A wrong token: refused, nothing changes.
    let click = r#"
        document.getElementById('token').value = arguments[0];
        const li = [...document.querySelectorAll('#tree li.node')]
            .find((li) => li.dataset.path === 'app/crasher');
        [...li.querySelector(':scope > .row').querySelectorAll('button.op')]
            .find((b) => b.textContent === 'terminate').click();
    "#;
    browser
        .client()
        .execute(click, vec![json!("wrong")])
        .await
        .unwrap();
    browser
        .wait_for(
            "the refusal",
            SEE,
            "return document.getElementById('op-result').textContent",
            vec![],
            |v| (v == "terminate: a valid token is required").then_some(()),
        )
        .await;
    assert!(tree.crasher.child().is_some_and(|c| !c.has_exited()));
    let still = browser
        .node_where("the crasher", SEE, "app/crasher", |_| true)
        .await;
    assert_eq!(still.state, "running");

    // The token: the child stops, and the page shows it.
    browser
        .client()
        .execute(click, vec![json!("let me in")])
        .await
        .unwrap();
    browser
        .node_where("the terminated crasher", SEE, "app/crasher", |n| {
            n.state == "stopped"
        })
        .await;
    assert!(tree.crasher.child().is_none());

    tree.root.stop().await.unwrap();
    browser.end().await;
}
