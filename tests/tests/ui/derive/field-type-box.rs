// A field typed `Box<W>`: a child is the worker itself.
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
    db: Box<W>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: Box::new(W) }.start().await.unwrap();
    let _ = app.supervisor();
}
