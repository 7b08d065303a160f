// Two trees in one macro.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        db: W,
    }
    struct Other {
        api: W,
    }
}

fn main() {}
