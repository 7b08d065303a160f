// `id` is a key of a field's `#[child]`, not of `#[worker]`.
use supervise::worker;

#[worker(id = "w")]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
