// `restart = permanent` on a child whose type is significant by default: reported at `permanent`.
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

#[worker(restart = transient, significant)]
#[derive(Clone)]
struct Job;

impl supervise::Worker for Job {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(auto_shutdown = any_significant)]
struct App {
    db: W,
    #[child(restart = permanent)]
    job: Job,
}

fn main() {}
