// A factory that does not build the field's type.
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

fn make_number() -> u32 {
    7
}

#[derive(Clone, Supervisor)]
struct App {
    #[child(factory = make_number)]
    a: W,
}

fn main() {}
