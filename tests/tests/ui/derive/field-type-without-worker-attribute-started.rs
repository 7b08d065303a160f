// A field whose type implements `Worker` without `#[worker]`, in a tree that `main` starts: one error at the type, one at the start.
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

#[derive(Clone)]
struct Plain;

impl supervise::Worker for Plain {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    db: W,
    plain: Plain,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App {
        db: W,
        plain: Plain,
    }
    .start()
    .await
    .unwrap();
    let _ = app.db;
    let _ = app.plain;
}
