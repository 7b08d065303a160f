// A child of an inline supervisor that depends on a child of the root, which is not its sibling.
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
        #[supervisor(strategy = rest_for_one)]
        web: Web {
            #[child(depends_on = [db])]
            api: W,
        },
    }
}

fn main() {}
