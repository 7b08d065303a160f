// A sub-second period, `auto_shutdown = any_significant` (and
// `all_significant`) with significant transient and temporary children,
// by field attribute and by the worker's own defaults.
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

#[worker(restart = transient, significant)]
#[derive(Clone)]
struct Job;

impl supervise::Worker for Job {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(period = "500ms", auto_shutdown = any_significant)]
struct App {
    plain: W,
    #[child(significant, restart = transient)]
    main: W,
    job: Job,
    #[child(significant = true, restart = temporary)]
    once: W,
    #[child(significant = false)]
    not_significant: Job,
}

supervision_tree! {
    #[supervisor(period = "2m", auto_shutdown = all_significant, max_restarts = 1)]
    struct Tree {
        job: Job,
        #[supervisor(auto_shutdown = any_significant, period = "250ms")]
        inner: Inner {
            #[child(significant, restart = transient)]
            main: W,
        },
    }
}

fn main() {
    let _ = App {
        plain: W,
        main: W,
        job: Job,
        once: W,
        not_significant: Job,
    }
    .spec();
    let _ = Tree {
        job: Job,
        inner: Inner { main: W },
    }
    .spec();
}
