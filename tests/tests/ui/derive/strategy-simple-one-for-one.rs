// OTP's `simple_one_for_one` is not a strategy of a static supervisor.
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
#[supervisor(strategy = simple_one_for_one)]
struct App {
    a: W,
}

fn main() {}
