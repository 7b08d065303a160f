// `#[child(...)]` on the struct instead of `#[supervisor(...)]`.
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
#[child(restart = transient)]
struct App {
    a: W,
}

fn main() {}
