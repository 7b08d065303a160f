// A worker that is not `Send`, in a tree: reported in its `Worker` impl only.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[worker]
#[derive(Clone)]
struct Local(std::rc::Rc<u8>);

impl supervise::Worker for Local {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        db: W,
        local: Local,
    }
}

fn main() {}
