// `auto_shutdown = any_significant` with no significant child warns (the
// `deprecated` lint); `#[allow(deprecated)]` on the struct silences it, for
// the derive and the DSL alike (`deny(warnings)` here).
#![deny(warnings)]

use supervise::{supervision_tree, worker, Supervisor};

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

#[derive(Clone, Supervisor)]
#[supervisor(auto_shutdown = any_significant)]
#[allow(deprecated)]
struct App {
    db: W,
}

supervision_tree! {
    #[supervisor(auto_shutdown = all_significant)]
    #[allow(deprecated)]
    struct Tree {
        db: W,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W }.start().await.unwrap();
    let tree = Tree { db: W }.start().await.unwrap();
    assert!(app.db.child().is_some());
    assert!(tree.db.child().is_some());
    app.supervisor().current().unwrap().stop().await.unwrap();
    tree.supervisor().current().unwrap().stop().await.unwrap();
}
