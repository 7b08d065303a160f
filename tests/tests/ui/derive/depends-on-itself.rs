// A child that depends on itself.
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
#[supervisor(strategy = rest_for_one)]
struct App {
    db: W,
    #[child(depends_on = [api])]
    api: W,
}

fn main() {}
