// `supervision_tree!` inside a function, over types declared in it.
use supervise::{supervision_tree, worker};

#[tokio::main(flavor = "current_thread")]
async fn main() {
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

    supervision_tree! {
        #[supervisor(strategy = one_for_all)]
        struct Local {
            a: W,
            inner: LocalInner {
                b: W,
            },
        }
    }

    let tree = Local {
        a: W,
        inner: LocalInner { b: W },
    }
    .start()
    .await
    .unwrap();
    assert!(tree.inner.b.child().is_some());
    tree.supervisor().current().unwrap().stop().await.unwrap();
}
