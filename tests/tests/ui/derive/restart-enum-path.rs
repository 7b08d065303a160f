// `restart = Restart::Transient`, the enum's path instead of the word.
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
struct App {
    db: W,
    cache: W,
    #[child(restart = Restart::Transient)]
    api: W,
}

fn main() {}
