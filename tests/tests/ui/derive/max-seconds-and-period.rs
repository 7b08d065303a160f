// Both `max_seconds` and `period`: two ways to give the same window.
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
#[supervisor(max_seconds = 5, period = "500ms")]
struct App {
    a: W,
}

fn main() {}
