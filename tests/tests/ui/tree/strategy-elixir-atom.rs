// An Elixir atom, `:rest_for_one`, as a tree's strategy.
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
    #[supervisor(strategy = :rest_for_one)]
    struct App {
        db: W,
        api: W,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W, api: W }.start().await.unwrap();
    let _ = app.supervisor();
}
