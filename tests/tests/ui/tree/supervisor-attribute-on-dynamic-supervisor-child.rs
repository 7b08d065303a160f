// `#[supervisor(...)]` on a `DynamicSupervisor` child of a tree.
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
        rooms: supervise::DynamicSupervisor<W>,
    }
}

fn main() {}
