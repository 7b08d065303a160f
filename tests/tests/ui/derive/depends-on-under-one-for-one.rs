// `depends_on` under an explicit `one_for_one`, which never restarts dependents.
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
#[supervisor(strategy = one_for_one)]
struct App {
    db: W,
    #[child(depends_on = [db])]
    api: W,
}

fn main() {}
