// A significant child of an inline supervisor whose auto_shutdown is the default `never`.
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
        web: Web {
            #[child(significant, restart = transient)]
            api: W,
        },
    }
}

fn main() {}
