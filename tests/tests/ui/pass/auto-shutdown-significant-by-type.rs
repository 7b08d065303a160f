// `auto_shutdown = any_significant` whose only significant child is so by
// its type's defaults: no warning (denied here), and it shuts down.
#![deny(warnings)]

use supervise::{worker, Supervisor};

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
#[supervisor(auto_shutdown = any_significant)]
struct App {
    db: W,
    job: Job,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { db: W, job: Job }.start().await.unwrap();
    let sup = app.supervisor().current().unwrap();
    // The job exits normally: a significant transient child, so the
    // supervisor shuts itself down.
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while sup.count_children().await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
}
