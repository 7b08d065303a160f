// A shutdown in milliseconds beyond what a `u64` holds.
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
struct App {
    db: W,
    cache: W,
    #[child(shutdown = 99999999999999999999)]
    api: W,
}

fn main() {}
