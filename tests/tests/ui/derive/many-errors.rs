// Five mistakes in one spec (misspelled strategy, negative max_restarts, malformed shutdown, duplicate id, dependency on an unknown sibling under one_for_one): all are reported in one compile.
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
#[supervisor(strategy = one_for_al, max_restarts = -1)]
struct App {
    #[child(shutdown = forever)]
    a: W,
    #[child(id = "a")]
    b: W,
    #[child(depends_on = [nope])]
    c: W,
}

fn main() {}
