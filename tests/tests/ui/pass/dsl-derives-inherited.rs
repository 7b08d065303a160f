// A derive on the root reaches the supervisors written inline, and an
// inline supervisor can carry derives of its own.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone, Debug)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    #[derive(Debug)]
    pub struct App {
        a: W,
        inner: Inner {
            b: W,
        },
        #[derive(Debug, PartialEq)]
        other: Other {},
    }
}

fn main() {
    let app = App { a: W, inner: Inner { b: W }, other: Other {} };
    let _ = format!("{app:?} {:?}", app.inner);
    assert_eq!(Other {}, Other {});
}
