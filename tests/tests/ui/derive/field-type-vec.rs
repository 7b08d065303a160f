// A field typed `Vec<W>`: a field is one child.
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
    pool: Vec<W>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App {
        db: W,
        pool: vec![W, W],
    }
    .start()
    .await
    .unwrap();
    let _ = app.supervisor();
}
