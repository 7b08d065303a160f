// Two inline supervisors given the same type name.
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
        web: Web {
            api: W,
        },
        admin: Web {
            panel: W,
        },
    }
}

fn main() {}
