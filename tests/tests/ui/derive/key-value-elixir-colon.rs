// Elixir's keyword-list spelling `strategy: one_for_all` instead of `strategy = one_for_all`.
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
#[supervisor(strategy: one_for_all)]
struct App {
    db: W,
}

fn main() {}
