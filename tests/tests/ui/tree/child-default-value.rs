// A default value after a child's type, `db: W = W`.
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

supervision_tree! {
    struct App {
        db: W = W,
        api: W,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W, api: W }.start().await.unwrap();
    let _ = app.db;
}
