// A dependency cycle inside an inline supervisor.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        db: W,
        #[supervisor(strategy = rest_for_one)]
        web: Web {
            #[child(depends_on = [admin])]
            api: W,
            #[child(depends_on = [api])]
            admin: W,
        },
    }
}

fn main() {}
