// An attribute error inside an inline supervisor: the structs and items are still emitted, so code using them shows no follow-on error.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        db: W,
        #[supervisor(strategy = one_for_al)]
        web: Web {
            api: W,
        },
    }
}

fn main() {
    let _start = App {
        db: W,
        web: Web { api: W },
    }
    .start();
    let _h: Option<AppHandle> = None;
    let _api: Option<supervise::WorkerHandle<W>> = _h.map(|h| h.web.api);
}
