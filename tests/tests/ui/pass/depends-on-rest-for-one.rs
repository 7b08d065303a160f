// `depends_on` under `rest_for_one` (derive) and `one_for_all` (DSL),
// in list and single forms, including a dependency on a later field.
use supervise::{supervision_tree, worker, Supervisor};

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
#[supervisor(strategy = rest_for_one)]
struct Derived {
    #[child(depends_on = [db, cache])]
    api: W,
    db: W,
    #[child(depends_on = db)]
    cache: W,
}

supervision_tree! {
    #[supervisor(strategy = one_for_all)]
    struct Tree {
        db: W,
        #[child(depends_on = [db])]
        api: W,
        #[supervisor(strategy = rest_for_one)]
        web: Web {
            sessions: W,
            #[child(depends_on = sessions)]
            pages: W,
        },
    }
}

fn main() {
    let _ = Derived {
        api: W,
        db: W,
        cache: W,
    }
    .spec();
    let _ = Tree {
        db: W,
        api: W,
        web: Web {
            sessions: W,
            pages: W,
        },
    }
    .spec();
}
