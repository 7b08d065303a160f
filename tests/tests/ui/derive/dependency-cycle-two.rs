// Two children that depend on each other.
use supervise::{worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = rest_for_one)]
struct App {
    #[child(depends_on = [b])]
    a: W,
    #[child(depends_on = [a])]
    b: W,
}

fn main() {}
