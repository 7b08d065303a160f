// In `supervision_tree!`, `#[child(factory = ...)]` builds a worker that is
// not `Clone` (the tree is then not `Clone` either), at the root and inline.
use std::sync::atomic::{AtomicUsize, Ordering};

use supervise::{supervision_tree, worker};

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

static OPENED: AtomicUsize = AtomicUsize::new(0);

#[worker]
struct Conn {
    n: usize,
}

impl Conn {
    fn open() -> Conn {
        Conn {
            n: OPENED.fetch_add(1, Ordering::SeqCst),
        }
    }
}

impl supervise::Worker for Conn {
    type Message = supervise::Reply<usize>;
    async fn run(
        self,
        mut ctx: supervise::Context<supervise::Reply<usize>>,
    ) -> Result<(), supervise::Exit> {
        while let Some(reply) = ctx.recv().await {
            let _ = reply.send(self.n);
        }
        Ok(())
    }
}

supervision_tree! {
    struct Tree {
        db: W,
        #[child(factory = Conn::open)]
        conn: Conn,
        pool: Pool {
            #[child(factory = Conn::open)]
            first: Conn,
            other: W,
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let tree = Tree {
        db: W,
        conn: Conn { n: 100 },
        pool: Pool {
            first: Conn { n: 200 },
            other: W,
        },
    }
    .start()
    .await
    .unwrap();
    // The values start the first incarnations; the factory none yet.
    assert_eq!(tree.conn.call(|r| r).await.unwrap(), 100);
    assert_eq!(tree.pool.first.call(|r| r).await.unwrap(), 200);
    assert_eq!(OPENED.load(Ordering::SeqCst), 0);
    // A restart builds a new one with the factory.
    let sup = tree.supervisor().current().unwrap();
    sup.terminate_child("conn").await.unwrap();
    sup.restart_child("conn").await.unwrap();
    assert_eq!(tree.conn.call(|r| r).await.unwrap(), 0);
    sup.stop().await.unwrap();
}
