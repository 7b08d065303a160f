// `depends_on` names a sibling that does not exist (a typo of `db`).
use supervise::{worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = rest_for_one)]
struct App {
    db: W,
    #[child(depends_on = [dbb])]
    api: W,
}

fn main() {}
