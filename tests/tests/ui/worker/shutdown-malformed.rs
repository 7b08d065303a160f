// A shutdown duration in a unit that is not accepted.
use supervise::worker;

#[worker(shutdown = "10 seconds")]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
