// A shutdown duration written without quotes: `5m` is an integer literal with a suffix, not 5 minutes.
use supervise::worker;

#[worker(shutdown = 5m)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
