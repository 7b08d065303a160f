// `period = 5`: in Erlang that is seconds, here it would be milliseconds; a bare number is refused.
use supervise::{worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(period = 5)]
struct App {
    db: W,
}

fn main() {}
