// A generic worker whose `Worker` impl forgets the bounds `Worker` needs.
use supervise::worker;

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

#[worker]
#[derive(Clone)]
struct Echo<T> {
    item: T,
}

impl<T> supervise::Worker for Echo<T> {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        let _ = self.item;
        Ok(())
    }
}

fn main() {}
