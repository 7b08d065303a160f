// A worker field whose type is not `Clone` (each start clones the field).
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

#[worker]
struct NotClone;

impl supervise::Worker for NotClone {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Supervisor)]
struct App {
    a: NotClone,
}

fn main() {}
