// A worker whose `Message` is not `Send`: reported in its `Worker` impl, not by the attribute or the supervisor.
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

#[worker]
#[derive(Clone)]
struct Counter;

impl supervise::Worker for Counter {
    type Message = std::rc::Rc<u64>;
    async fn run(self, _ctx: supervise::Context<Self::Message>) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    db: W,
    counter: Counter,
}

fn main() {}
