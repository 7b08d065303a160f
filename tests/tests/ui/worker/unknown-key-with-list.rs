// An unknown key with a parenthesized list, then a valid key: only the unknown one is reported.
use supervise::worker;

#[worker(options(fast), restart = transient)]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

fn main() {}
