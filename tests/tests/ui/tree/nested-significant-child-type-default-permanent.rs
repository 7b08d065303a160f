// A significant child of an inline supervisor whose type defaults to permanent: caught by a generated constant.
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
        #[supervisor(auto_shutdown = all_significant)]
        web: Web {
            #[child(significant)]
            api: W,
        },
    }
}

fn main() {}
