//! A small shop whose tree you can watch live in a browser: the dashboard
//! is a child of the tree it shows (the `dashboard` feature of
//! `supervise`).
//!
//! The payment gateway crashes now and then; the importer crashes in
//! bursts that make its supervisor give up (and the shop restart it); 120
//! sessions run under a dynamic supervisor with a restart backoff, and
//! one expires abnormally every few seconds; the mailer's init ignores
//! its start (no SMTP server configured).
//!
//! ```text
//! cargo run -p examples --example dashboard                    # http://127.0.0.1:4000/
//! cargo run -p examples --example dashboard -- --port 0        # any free port
//! cargo run -p examples --example dashboard -- --token s3cret  # terminate / restart from the page
//! cargo run -p examples --example dashboard -- --seconds 10    # stop after 10 s
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use supervise::{
    run_until_signal, supervision_tree, worker, Context, Dashboard, DynamicSupervisor, Exit, Init,
    ServiceOptions, Worker,
};

/// A cheap random number in `0..n`, without a dependency.
fn random(n: u64) -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0x2545_f491_4f6c_dd1d);
    let mut x = STATE.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x % n.max(1)
}

fn seconds_between(low: u64, high: u64) -> Duration {
    Duration::from_millis(low * 1000 + random((high - low) * 1000))
}

/// The database pool: runs until stopped.
#[worker]
#[derive(Clone, Debug)]
pub struct Db;

impl Worker for Db {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// The payment gateway: loses its connection every few seconds.
#[worker(shutdown = "10s")]
#[derive(Clone, Debug)]
pub struct Gateway;

impl Worker for Gateway {
    type Message = ();
    // Asked to stop, it closes its connection within its 10 s.
    const HANDLES_SHUTDOWN: bool = true;
    async fn run(self, ctx: Context) -> Result<(), Exit> {
        tokio::select! {
            () = ctx.shutdown_requested() => Err(Exit::shutdown()),
            () = tokio::time::sleep(seconds_between(3, 9)) => {
                Err("connection reset by peer".into())
            }
        }
    }
}

/// The ledger: restarted with the gateway (rest_for_one).
#[worker]
#[derive(Clone, Debug)]
pub struct Ledger;

impl Worker for Ledger {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Crashes left in the importer's current burst.
static BURST: AtomicU32 = AtomicU32::new(0);

/// The importer: every 15 to 25 s a bad file makes it crash three times
/// in a row, more than its supervisor allows.
#[worker(restart = permanent, shutdown = brutal_kill)]
#[derive(Clone, Debug)]
pub struct Fetcher;

impl Worker for Fetcher {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        let burst = BURST.load(Ordering::Relaxed);
        if burst > 0 {
            BURST.store(burst - 1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        } else {
            tokio::time::sleep(seconds_between(15, 25)).await;
            BURST.store(2, Ordering::Relaxed);
        }
        Err("malformed CSV at line 1337".into())
    }
}

/// One user's session: now and then it dies abnormally.
#[worker(restart = transient, shutdown = brutal_kill)]
#[derive(Clone, Debug)]
pub struct Session {
    /// Whose session it is.
    pub user: u32,
}

impl Worker for Session {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        tokio::time::sleep(seconds_between(30, 900)).await;
        Err(format!("session of user {} expired abnormally", self.user).into())
    }
}

/// The mailer: ignores its start when no SMTP server is configured.
#[worker]
#[derive(Clone, Debug)]
pub struct Mailer;

impl Worker for Mailer {
    type Message = ();
    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        Ok(Init::Ignore)
    }
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Ok(())
    }
}

supervision_tree! {
    #[supervisor(strategy = one_for_one, max_restarts = 20, max_seconds = 10)]
    #[derive(Debug)]
    pub struct Shop {
        db: Db,
        #[supervisor(strategy = rest_for_one)]
        payments: Payments {
            gateway: Gateway,
            ledger: Ledger,
        },
        #[supervisor(strategy = one_for_one, max_restarts = 2, max_seconds = 5)]
        imports: Imports {
            fetcher: Fetcher,
        },
        sessions: DynamicSupervisor<Session>,
        mailer: Mailer,
        dashboard: Dashboard,
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    supervise::install_panic_hook();
    let args: Vec<String> = std::env::args().collect();
    let port = arg(&args, "--port").map_or(4000, |p| p.parse().expect("--port: a number"));
    // Ten sessions a page: the 120 show as counts and pages.
    let mut dashboard = Dashboard::new(port).page_size(10);
    if let Some(token) = arg(&args, "--token") {
        dashboard = dashboard.operations(token);
    }
    let seconds: Option<u64> =
        arg(&args, "--seconds").map(|s| s.parse().expect("--seconds: a number"));

    let shop = Shop {
        db: Db,
        payments: Payments {
            gateway: Gateway,
            ledger: Ledger,
        },
        imports: Imports { fetcher: Fetcher },
        sessions: DynamicSupervisor::new()
            .max_restarts(1000)
            .backoff(supervise::Backoff::fixed(Duration::from_secs(2))),
        mailer: Mailer,
        dashboard,
    };
    let shop = match shop.start().await {
        Ok(shop) => shop,
        Err(e) => {
            eprintln!("the shop failed to start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    for user in 1..=120 {
        shop.sessions
            .start_child(Session { user })
            .await
            .expect("a session starts");
    }
    let root = shop.supervisor().current().expect("the shop runs");
    println!(
        "the shop's tree, live: {}",
        shop.dashboard.url().expect("listening")
    );

    let serving = run_until_signal(&root, ServiceOptions::default());
    let exit = match seconds {
        Some(seconds) => {
            tokio::select! {
                exit = serving => exit,
                () = tokio::time::sleep(Duration::from_secs(seconds)) => {
                    root.stop().await.expect("the shop stops");
                    supervise::ServiceExit::Stopped
                }
            }
        }
        None => serving.await,
    };
    println!("exit: {exit:?}");
    exit.into()
}
