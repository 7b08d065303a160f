// An inline supervisor named like a type already declared in the module:
// the first error is rustc's "defined multiple times", at the inline
// supervisor's name.
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

struct Web;

supervision_tree! {
    struct App {
        web: Web {
            api: W,
        },
    }
}

fn main() {}
