// An inline supervisor's name is used as a struct's: built, matched,
// given an inherent impl, cloned and printed, inside a function over
// types declared in it.
use supervise::{supervision_tree, worker};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    #[worker]
    #[derive(Clone, Debug, PartialEq)]
    struct W(u32);

    impl supervise::Worker for W {
        type Message = ();
        async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
            std::future::pending::<()>().await;
            Ok(())
        }
    }

    supervision_tree! {
        #[derive(Debug)]
        struct App {
            front: W,
            back: Back {
                a: W,
                #[child(factory = || W(3))]
                b: W,
                deeper: Deeper {},
            },
        }
    }

    impl Back {
        fn total(&self) -> u32 {
            self.a.0 + self.b.0
        }
    }

    let back = Back {
        a: W(1),
        b: W(2),
        deeper: Deeper {},
    };
    let Back { a, .. } = back.clone();
    assert_eq!(a, W(1));
    assert_eq!(back.total(), 3);
    assert!(format!("{back:?}").starts_with("Back {"));
    let app = App { front: W(0), back };
    let tree = app.start().await.unwrap();
    assert!(tree.back.a.child().is_some());
    tree.stop().await.unwrap();
}
