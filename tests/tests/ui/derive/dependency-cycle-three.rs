// Three children in a dependency cycle.
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
#[supervisor(strategy = one_for_all)]
struct App {
    #[child(depends_on = [c])]
    a: W,
    #[child(depends_on = [a])]
    b: W,
    #[child(depends_on = [b])]
    c: W,
}

fn main() {}
