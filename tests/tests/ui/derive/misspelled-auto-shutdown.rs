// A misspelled auto_shutdown value: the error suggests `any_significant`.
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
#[supervisor(auto_shutdown = any_signficant)]
struct App {
    a: W,
}

fn main() {}
