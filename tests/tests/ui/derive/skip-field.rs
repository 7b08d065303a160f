// serde's `#[child(skip)]` on a field that is not a child: every field is a child.
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

#[derive(Clone)]
struct Config {
    url: String,
}

#[derive(Clone, Supervisor)]
struct App {
    db: W,
    #[child(skip)]
    config: Config,
}

fn main() {
    let app = App {
        db: W,
        config: Config { url: String::new() },
    };
    let _ = app.config.url;
    let _start = app.start();
}
