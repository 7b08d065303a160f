// `#[supervisor(...)]` on a `DynamicSupervisor` field: its limits are set on the field's value.
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
    #[supervisor(max_restarts = 5)]
    rooms: supervise::DynamicSupervisor<W>,
}

fn main() {}
