// Derived supervisors nested in one another, with all the supervisor flags.
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
#[supervisor(strategy = one_for_all, max_restarts = 10, max_seconds = 60)]
struct Inner {
    a: W,
    b: W,
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = one_for_one, max_restarts = 0, name = "root")]
pub struct Outer {
    db: W,
    inner: Inner,
    #[child(id = "other_inner", restart = transient)]
    again: Inner,
}

fn main() {
    let outer = Outer {
        db: W,
        inner: Inner { a: W, b: W },
        again: Inner { a: W, b: W },
    };
    let (_spec, handle): (supervise::SupervisorSpec, OuterHandle) = outer.clone().spec();
    let _: &supervise::SupervisorRef = handle.supervisor();
    let _: &InnerHandle = &handle.inner;
    let _: &supervise::WorkerHandle<W> = &handle.again.b;
    let _start = outer.start();
}
