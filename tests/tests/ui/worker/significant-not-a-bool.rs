// `significant = ...` takes `true` or `false`.
use supervise::worker;

#[worker(restart = transient, significant = 1)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
