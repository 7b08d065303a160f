// A tree whose root derives Clone itself: the macro does not derive it again.
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
    #[derive(Clone)]
    struct App {
        db: W,
    }
}

fn main() {}
