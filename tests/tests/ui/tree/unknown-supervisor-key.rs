// A misspelled supervisor key on the root.
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
    #[supervisor(max_restart = 3)]
    struct App {
        db: W,
    }
}

fn main() {}
