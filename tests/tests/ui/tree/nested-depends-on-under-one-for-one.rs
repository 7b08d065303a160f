// `depends_on` inside an inline supervisor whose strategy is `one_for_one`.
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
    #[supervisor(strategy = rest_for_one)]
    struct App {
        db: W,
        #[supervisor(strategy = one_for_one)]
        web: Web {
            cache: W,
            #[child(depends_on = [cache])]
            api: W,
        },
    }
}

fn main() {}
