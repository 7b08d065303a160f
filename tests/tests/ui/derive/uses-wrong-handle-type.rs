// The function takes another handle type than the sibling's.
use supervise::{worker, Supervisor, WorkerHandle};

#[worker]
#[derive(Clone)]
struct Pool;

impl supervise::Worker for Pool {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[worker]
#[derive(Clone)]
struct Cache(WorkerHandle<Pool>);

impl supervise::Worker for Cache {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    pool: Pool,
    #[child(uses = [pool])]
    cache: fn(WorkerHandle<Cache>) -> Cache,
}

fn main() {}
