// serde's `rename` for a child's id.
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
    cache: W,
    #[child(rename = "api-server")]
    api: W,
}

fn main() {}
