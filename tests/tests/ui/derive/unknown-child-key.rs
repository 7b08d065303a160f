// A child key that does not exist (`timeout` is spelled `shutdown`).
use supervise::{worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    #[child(timeout = 5000)]
    a: W,
}

fn main() {}
