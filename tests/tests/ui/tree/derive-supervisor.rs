// `#[derive(Supervisor)]` on a tree the macro already makes a supervisor.
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
    #[derive(Clone, supervise::Supervisor)]
    struct App {
        db: W,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W }.start().await.unwrap();
    let _ = app.supervisor();
}
