// A significant child whose type's default restart type is permanent (no `restart` on the field): caught by a generated constant.
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
    #[child(significant)]
    a: W,
}

fn main() {}
