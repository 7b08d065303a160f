// An attribute error: the items are still emitted, so code using the supervisor shows no follow-on error.
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
#[supervisor(strategy = one_for_al)]
struct App {
    a: W,
}

fn main() {
    let app = App { a: W };
    let _spec: (supervise::SupervisorSpec, AppHandle) = app.clone().spec();
    let _start = app.start();
    let _handle: Option<AppHandle> = None;
    let _worker: Option<supervise::WorkerHandle<W>> = _handle.map(|h| h.a);
    let _sup: fn(&AppHandle) -> &supervise::SupervisorRef = AppHandle::supervisor;
}
