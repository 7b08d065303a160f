// A significant child with an explicit `restart = permanent`.
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
#[supervisor(auto_shutdown = any_significant)]
struct App {
    #[child(significant, restart = permanent)]
    a: W,
}

fn main() {}
