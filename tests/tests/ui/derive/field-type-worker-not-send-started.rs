// A worker that is not `Send`, in a tree that `main` starts: reported in its `Worker` impl only.
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

#[worker]
#[derive(Clone)]
struct Local(std::rc::Rc<u8>);

impl supervise::Worker for Local {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    db: W,
    local: Local,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App {
        db: W,
        local: Local(std::rc::Rc::new(1)),
    }
    .start()
    .await
    .unwrap();
    let _ = app.local;
}
