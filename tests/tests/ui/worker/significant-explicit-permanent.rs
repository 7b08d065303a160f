// `significant` with an explicit `restart = permanent`.
use supervise::worker;

#[worker(significant, restart = permanent)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
