// `name` on an inline supervisor, whose name is its child id.
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
        db: W,
        #[supervisor(name = "web-tier")]
        web: Web {
            api: W,
        },
    }
}

fn main() {}
