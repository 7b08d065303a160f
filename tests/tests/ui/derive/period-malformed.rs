// A period with a fractional number of seconds.
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
#[supervisor(period = "1.5s")]
struct App {
    a: W,
}

fn main() {}
