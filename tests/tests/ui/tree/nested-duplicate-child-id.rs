// Two children of an inline supervisor with the same id.
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
        web: Web {
            api: W,
            #[child(id = api)]
            admin: W,
        },
    }
}

fn main() {}
