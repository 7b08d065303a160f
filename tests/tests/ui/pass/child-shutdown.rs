// Every form of a child's `shutdown`: a duration string, milliseconds,
// `brutal_kill` and `infinity` (bare or quoted), and the other child keys.
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
    #[child(shutdown = "30s")]
    a: W,
    #[child(shutdown = 5000)]
    b: W,
    #[child(shutdown = brutal_kill, restart = "temporary")]
    c: W,
    #[child(shutdown = "infinity", id = custom_id)]
    d: W,
    #[child(shutdown = "2m", restart = transient, id = "e-2")]
    e: W,
}

fn main() {
    let _ = App {
        a: W,
        b: W,
        c: W,
        d: W,
        e: W,
    }
    .spec();
}
