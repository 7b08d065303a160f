// An inline supervisor named like the typed handle of the root, `AppHandle`.
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
        web: AppHandle {
            api: W,
        },
    }
}

fn main() {}
