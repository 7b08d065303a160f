// A supervisor key given twice on an inline supervisor.
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
        #[supervisor(max_restarts = 3)]
        #[supervisor(max_restarts = 5)]
        web: Web {
            api: W,
        },
    }
}

fn main() {}
