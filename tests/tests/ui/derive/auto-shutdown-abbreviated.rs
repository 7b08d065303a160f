// `auto_shutdown = any`, the beginning of `any_significant`.
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
#[supervisor(auto_shutdown = any)]
struct App {
    db: W,
}

fn main() {}
