// `auto_shutdown = all_significant` on an inline supervisor with no significant child: it never triggers (a warning, denied here).
#![deny(deprecated)]

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
        #[supervisor(auto_shutdown = all_significant)]
        web: Web {
            api: W,
        },
    }
}

fn main() {}
