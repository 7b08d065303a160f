// Dynamic children as fields: a typed dynamic supervisor (keyed, with a
// constructor for its extra arguments), a task supervisor and a partitioned
// supervisor, in a derived supervisor and in a DSL tree.
use supervise::{
    supervision_tree, worker, DynamicSupervisor, PartitionSupervisor, Supervisor, TaskSupervisor,
};

#[worker(restart = temporary)]
#[derive(Clone)]
struct Session {
    user: u64,
    region: &'static str,
}

impl supervise::Worker for Session {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        let _ = (self.user, self.region);
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(strategy = one_for_one)]
struct App {
    sessions: DynamicSupervisor<Session, u64, u64>,
    tasks: TaskSupervisor,
    orders: PartitionSupervisor<Session>,
}

supervision_tree! {
    pub struct Tree {
        plain: DynamicSupervisor<Session>,
        #[supervisor(strategy = rest_for_one)]
        inner: Inner {
            tasks: TaskSupervisor,
        },
    }
}

fn main() {
    let region = "eu";
    let app = App {
        // Elixir's extra_arguments: what the constructor captures.
        sessions: DynamicSupervisor::with_args(move |user| Session { user, region })
            .keyed::<u64>()
            .max_children(100),
        tasks: TaskSupervisor::new(),
        orders: PartitionSupervisor::new(DynamicSupervisor::new(), 4).unwrap(),
    };
    let _ = app.spec();
    let tree = Tree {
        plain: DynamicSupervisor::new(),
        inner: Inner {
            tasks: TaskSupervisor::new(),
        },
    };
    let _ = tree.spec();
}
