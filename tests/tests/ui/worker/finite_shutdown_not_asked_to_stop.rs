#![deny(deprecated)]

use supervise::{worker, Context, Exit, Worker};

// A 30 s shutdown on a worker that is never asked to stop: it is aborted
// at once, so the timeout would never be waited for.
#[worker(shutdown = "30s")]
#[derive(Clone)]
struct Flusher;

impl Worker for Flusher {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Ok(())
    }
}

fn main() {}
