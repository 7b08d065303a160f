// Children may be named like anything the macros generate: `supervisor`,
// `start`, `spec`, `stop`, `handle`, `builder`, ... (a derive and a tree).
use supervise::{supervision_tree, worker, Supervisor};

#[worker]
#[derive(Clone)]
struct W;

impl supervise::Worker for W {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    supervisor: W,
    start: W,
    spec: W,
    stop: W,
    handle: W,
    builder: W,
    name: W,
    id: W,
    factory: W,
    child: W,
    clone: W,
    f: W,
    v1: W,
    p0: W,
    h0: W,
}

supervision_tree! {
    struct Tree {
        supervisor: W,
        spec: W,
        whole: Inner {
            supervisor: W,
            start: W,
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App {
        supervisor: W,
        start: W,
        spec: W,
        stop: W,
        handle: W,
        builder: W,
        name: W,
        id: W,
        factory: W,
        child: W,
        clone: W,
        f: W,
        v1: W,
        p0: W,
        h0: W,
    }
    .start()
    .await
    .unwrap();
    assert!(app.supervisor.child().is_some());
    assert!(app.start.child().is_some());
    let sup = app.supervisor().current().unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, 15);
    sup.terminate_child("supervisor").await.unwrap();
    sup.stop().await.unwrap();

    let tree = Tree {
        supervisor: W,
        spec: W,
        whole: Inner {
            supervisor: W,
            start: W,
        },
    }
    .start()
    .await
    .unwrap();
    assert!(tree.whole.supervisor.child().is_some());
    let inner = tree.whole.supervisor().current().unwrap();
    assert_eq!(inner.count_children().await.unwrap().active, 2);
    tree.supervisor().current().unwrap().stop().await.unwrap();
}
