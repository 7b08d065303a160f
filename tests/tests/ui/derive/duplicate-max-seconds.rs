// `max_seconds` given twice.
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
#[supervisor(max_seconds = 5, max_seconds = 10)]
struct App {
    a: W,
}

fn main() {}
