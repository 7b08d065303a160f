//! Runs a supervision tree as a service: until SIGTERM or SIGINT, then a
//! graceful shutdown in reverse order, and an exit code for whoever
//! supervises the process (systemd's `Restart=on-failure`, a Kubernetes
//! pod's restart policy). Liveness and readiness come from the tree's own
//! state, over HTTP (axum): `/healthz` answers 200 while the root runs,
//! `/readyz` while every child runs.
//!
//! Exit codes: 0 after a clean shutdown, 1 when the root gave up, 2 when
//! the tree failed to start, 3 when the shutdown ran past its deadline,
//! 130 on a second signal. `deploy/` has a systemd unit and a pod spec.
//!
//! ```text
//! cargo run -p examples --example service -- --port 8080
//! cargo run -p examples --example service -- --give-up   # exits 1
//! ```

use std::process::ExitCode;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use supervise::{
    run_until_signal, ChildSpec, ChildState, Context, Exit, ServiceExit, ServiceOptions, Shutdown,
    Supervisor, SupervisorHandle, Worker,
};

/// Does its work until told to stop, then takes a moment to flush.
struct Processor;

impl Worker for Processor {
    type Message = ();

    const HANDLES_SHUTDOWN: bool = true;

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        tokio::time::sleep(Duration::from_millis(50)).await; // flush
        Err(Exit::shutdown())
    }
}

/// Crashes shortly after every start.
struct Flaky;

impl Worker for Flaky {
    type Message = ();

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err("lost the connection".into())
    }
}

async fn healthz(State(root): State<SupervisorHandle>) -> StatusCode {
    if root.is_stopped() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

async fn readyz(State(root): State<SupervisorHandle>) -> StatusCode {
    match root.snapshot().await {
        Ok(tree)
            if tree
                .walk()
                .iter()
                .all(|(_, c)| c.state == ChildState::Running) =>
        {
            StatusCode::OK
        }
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    supervise::install_panic_hook();
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let give_up = args.iter().any(|a| a == "--give-up");

    let mut tree = Supervisor::builder("service")
        .max_restarts(3)
        .max_seconds(5)
        .child(
            ChildSpec::worker("processor", || Processor)
                .shutdown(Shutdown::Timeout(Duration::from_secs(10))),
        );
    if give_up {
        tree = tree.child(ChildSpec::worker("flaky", || Flaky));
    }
    let root = match tree.build().expect("a valid tree").start().await {
        Ok(root) => root,
        Err(e) => {
            eprintln!("the tree failed to start: {e}");
            return ServiceExit::StartFailed(e).into();
        }
    };

    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(root.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Listening for SIGTERM before saying ready.
    let serving = run_until_signal(
        &root,
        ServiceOptions {
            shutdown_deadline: Some(Duration::from_secs(30)),
        },
    );
    println!("ready on http://{address}");
    let exit = serving.await;
    println!("exit: {exit:?} (code {})", exit.code());
    exit.into()
}
