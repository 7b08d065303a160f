// A generic worker, `#[worker]` on `Echo<T>` whose `Worker` impl bounds
// `T`: a child for every `T` that meets the bounds.
use supervise::{worker, Supervisor};

#[worker(restart = transient)]
#[derive(Clone)]
struct Echo<T> {
    item: T,
}

impl<T: Clone + Send + Sync + 'static> supervise::Worker for Echo<T> {
    type Message = supervise::Reply<T>;
    async fn run(
        self,
        mut ctx: supervise::Context<supervise::Reply<T>>,
    ) -> Result<(), supervise::Exit> {
        while let Some(reply) = ctx.recv().await {
            let _ = reply.send(self.item.clone());
        }
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
struct App {
    number: Echo<u64>,
    text: Echo<&'static str>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(
        <Echo<u8> as supervise::Child>::RESTART,
        supervise::Restart::Transient
    );
    let app = App {
        number: Echo { item: 7 },
        text: Echo { item: "seven" },
    }
    .start()
    .await
    .unwrap();
    assert_eq!(app.number.call(|r| r).await.unwrap(), 7);
    assert_eq!(app.text.call(|r| r).await.unwrap(), "seven");
    app.supervisor().current().unwrap().stop().await.unwrap();
}
