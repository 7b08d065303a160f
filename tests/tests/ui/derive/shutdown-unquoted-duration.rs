// A shutdown duration written without quotes: `30s` is an integer literal with a suffix, not 30 seconds.
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
    #[child(shutdown = 30s)]
    a: W,
}

fn main() {}
