// A supervisor's key given to a worker.
use supervise::worker;

#[worker(strategy = one_for_all)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
