// `crate = ...` on the derive, the DSL and `#[worker]`, naming the runtime
// crate by another path.
extern crate supervise as sv;

mod reexport {
    pub use ::supervise as inner;
}

#[sv::worker(crate = ::supervise)]
#[derive(Clone)]
struct W;

impl sv::Worker for W {
    type Message = ();
    async fn run(self, _ctx: sv::Context) -> Result<(), sv::Exit> {
        Ok(())
    }
}

#[derive(Clone, sv::Supervisor)]
#[supervisor(crate = ::supervise)]
struct App {
    a: W,
}

#[derive(Clone, sv::Supervisor)]
#[supervisor(crate = crate::reexport::inner, strategy = one_for_all)]
struct Other {
    a: W,
    app: App,
}

sv::supervision_tree! {
    #[supervisor(crate = sv)]
    struct Tree {
        a: W,
        #[supervisor(crate = sv)]
        inner: Inner {
            b: W,
        },
    }
}

fn main() {
    let _ = Other {
        a: W,
        app: App { a: W },
    }
    .spec();
    let _ = Tree {
        a: W,
        inner: Inner { b: W },
    }
    .spec();
}
