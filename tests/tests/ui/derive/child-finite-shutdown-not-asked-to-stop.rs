// A 30 s shutdown on a child that is never asked to stop: it is aborted at
// once, so the timeout would never be waited for (a warning, denied here).
#![deny(deprecated)]

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
    #[child(shutdown = "30s")]
    db: W,
}

fn main() {}
