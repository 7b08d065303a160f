// `significant` without `transient` or `temporary` (the default restart type is permanent).
use supervise::worker;

#[worker(significant)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
