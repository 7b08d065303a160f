// `auto_shutdown = any_significant` with no significant child: it never triggers (a warning, denied here).
#![deny(deprecated)]

use supervise::{worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(auto_shutdown = any_significant)]
struct App {
    db: W,
    api: W,
}

fn main() {}
