// An attribute error in a supervisor used as a child of another: no follow-on error in the parent.
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
struct Inner {
    a: W,
}

#[derive(Clone, Supervisor)]
struct Outer {
    inner: Inner,
}

fn main() {
    let _start = Outer {
        inner: Inner { a: W },
    }
    .start();
    let _h: Option<OuterHandle> = None;
    let _a: Option<supervise::WorkerHandle<W>> = _h.map(|h| h.inner.a);
}
