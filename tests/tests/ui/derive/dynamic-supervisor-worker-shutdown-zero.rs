// A dynamic supervisor of a worker declared `shutdown = 0`, which a dynamic supervisor refuses at every `start_child`.
use supervise::{worker, DynamicSupervisor, Supervisor};

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

#[worker(restart = temporary, shutdown = 0)]
#[derive(Clone)]
struct Session;

impl supervise::Worker for Session {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    db: W,
    sessions: DynamicSupervisor<Session>,
}

fn main() {}
