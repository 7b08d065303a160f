// A worker significant by its type's defaults, under the default auto_shutdown (`never`): caught by a generated constant.
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

#[worker(restart = transient, significant)]
#[derive(Clone)]
struct Sig;

impl supervise::Worker for Sig {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    a: Sig,
}

fn main() {}
