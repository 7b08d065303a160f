// `uses` and `factory` both build the child.
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
    #[child(uses = [pool], factory = make_cache)]
    cache: fn(WorkerHandle<Pool>) -> Cache,
}

fn make_cache() -> Cache {
    Cache(supervise::ChildSpec::worker_with_handle("pool", || Pool).1)
}

fn main() {}
