// `uses` on an inline supervisor, which is built from its own fields.
use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct Pool;

impl supervise::Worker for Pool {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

supervision_tree! {
    struct App {
        pool: Pool,
        #[child(uses = [pool])]
        front: Front {
            cache: Pool,
        },
    }
}

fn main() {}
