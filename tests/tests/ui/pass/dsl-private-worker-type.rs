// A tree of `supervision_tree!` over a private worker type: the fields the
// macro makes public raise no `private_interfaces` warning (denied here).
#![deny(warnings)]

use supervise::{supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct Service;

impl supervise::Worker for Service {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

supervision_tree! {
    pub struct Shop {
        db: Service,
        orders: Orders {
            intake: Service,
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let shop = Shop {
        db: Service,
        orders: Orders { intake: Service },
    }
    .start()
    .await
    .unwrap();
    assert!(shop.orders.intake.child().is_some());
    shop.supervisor().current().unwrap().stop().await.unwrap();
}
