// `depends_on` names a sibling with a string instead of its field name.
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
    #[child(depends_on = ["db"])]
    api: W,
}

fn main() {}
