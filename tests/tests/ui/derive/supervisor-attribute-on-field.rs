// `#[supervisor(...)]` on a field instead of `#[child(...)]`.
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
struct App {
    #[supervisor(strategy = one_for_all)]
    a: W,
}

fn main() {}
