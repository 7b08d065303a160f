// `#[supervisor(...)]` on a child that is a type, not an inline supervisor.
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
        #[supervisor(strategy = one_for_all)]
        db: W,
    }
}

fn main() {}
