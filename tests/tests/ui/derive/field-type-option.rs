// A field typed `Option<W>`: every child is started, none is optional.
use supervise::{worker, Supervisor};

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
struct App {
    db: W,
    cache: Option<W>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W, cache: None }.start().await.unwrap();
    let _ = app.supervisor();
}
