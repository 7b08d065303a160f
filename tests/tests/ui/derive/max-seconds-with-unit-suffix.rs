// `max_seconds` with a unit suffix: `500ms` is not 500 milliseconds.
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
#[supervisor(max_seconds = 500ms)]
struct App {
    a: W,
}

fn main() {}
