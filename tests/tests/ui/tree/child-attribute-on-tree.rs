// `#[child(...)]` on the tree instead of `#[supervisor(...)]`.
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
    #[child(restart = transient)]
    struct App {
        db: W,
    }
}

fn main() {}
