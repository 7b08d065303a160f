// A field named with a raw identifier, `r#type`, is the child `"type"`, as
// serde names it; `depends_on` names it either way.
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
#[supervisor(strategy = rest_for_one)]
struct App {
    r#type: W,
    #[child(depends_on = [r#type])]
    r#match: W,
}

supervision_tree! {
    struct Tree {
        r#loop: W,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = App {
        r#type: W,
        r#match: W,
    }
    .start()
    .await
    .unwrap();
    let sup = app.supervisor().current().unwrap();
    let mut ids: Vec<String> = sup
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["match", "type"]);
    sup.terminate_child("type").await.unwrap();
    assert!(app.r#type.child().is_none());
    sup.stop().await.unwrap();

    let tree = Tree { r#loop: W }.start().await.unwrap();
    let sup = tree.supervisor().current().unwrap();
    sup.terminate_child("loop").await.unwrap();
    sup.stop().await.unwrap();
}
