// How rustc names an inline supervisor's type in a user's type error: its
// name with its children's types, in the module named after the tree's
// root (`app_tree`), no generated name.
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
    }
}

fn main() {
    let count: u32 = Web { api: W };
    let _ = count;
}
