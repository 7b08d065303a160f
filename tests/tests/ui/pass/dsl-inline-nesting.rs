// A `supervision_tree!` with supervisors written inline, two levels deep,
// a supervisor type as a child, docs and visibility.
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
struct Derived {
    x: W,
}

supervision_tree! {
    /// The whole application.
    #[supervisor(strategy = rest_for_one, max_restarts = 3, max_seconds = 5)]
    pub struct App {
        /// The database.
        db: W,
        #[supervisor(strategy = one_for_all)]
        web: Web {
            api: W,
            #[child(restart = temporary)]
            admin: Admin {
                panel: W,
            },
        },
        derived: Derived,
    }
}

fn main() {
    let app = App {
        db: W,
        web: Web {
            api: W,
            admin: Admin { panel: W },
        },
        derived: Derived { x: W },
    };
    let (_spec, handle) = app.clone().spec();
    let _: &supervise::WorkerHandle<W> = &handle.web.admin.panel;
    let _: &DerivedHandle = &handle.derived;
    let _: &WebHandle = &handle.web;
    let _start = app.start();
}
