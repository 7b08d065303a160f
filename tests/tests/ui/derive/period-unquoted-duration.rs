// A period written without quotes: `5s` is an integer literal with a suffix, not 5 seconds.
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
#[supervisor(period = 5s)]
struct App {
    a: W,
}

fn main() {}
