// An Elixir atom, `:brutal_kill`, as a worker's shutdown.
use supervise::worker;

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

#[worker(shutdown = :brutal_kill)]
#[derive(Clone)]
struct Job;

impl supervise::Worker for Job {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
