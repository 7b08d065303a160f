// Any string but one with `/` is a valid child id and supervisor name, as
// any term is in OTP: empty, unicode, spaces, punctuation.
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

#[derive(Clone, Supervisor)]
#[supervisor(name = "app: main ✓")]
struct App {
    #[child(id = "")]
    a: W,
    #[child(id = "café \"au\" lait")]
    b: W,
    #[child(id = "a-b.c:d_e")]
    c: W,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App { a: W, b: W, c: W }.start().await.unwrap();
    let sup = app.supervisor().current().unwrap();
    assert_eq!(sup.path(), "app: main ✓");
    sup.terminate_child("").await.unwrap();
    sup.restart_child("").await.unwrap();
    assert!(sup.get_childspec("café \"au\" lait").await.is_ok());
    assert_eq!(sup.count_children().await.unwrap().active, 3);
    sup.stop().await.unwrap();
}
