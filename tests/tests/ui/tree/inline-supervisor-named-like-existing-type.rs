// An inline supervisor named like a worker type already declared in the
// module (and used in the same tree): the one error is rustc's "defined
// multiple times", at the inline supervisor's name.
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

#[worker]
#[derive(Clone)]
struct Web;

impl supervise::Worker for Web {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        front: Web,
        web: Web {
            api: W,
        },
    }
}

fn main() {}
