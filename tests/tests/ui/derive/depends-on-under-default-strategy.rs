// `depends_on` under the default strategy (`one_for_one`).
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
struct App {
    db: W,
    #[child(depends_on = [db])]
    api: W,
}

fn main() {}
