// The crate given as a string (as serde spells it): accepted, like a path.
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
#[supervisor(crate = "supervise")]
struct App {
    a: W,
}

fn main() {}
