//! The chat application of seed 003's exercise, declared in
//! [`examples::chat_app`]: `ChatApp.Supervisor` (one_for_one) over a
//! `Logger` and a `RoomSupervisor`, a `DynamicSupervisor` of `Room`s keyed
//! by room name. Rooms support join, leave and send_message.
//!
//! It opens two rooms, lets users join and talk, crashes one room (it is
//! killed through its handle), and shows that it restarted alone, under
//! the same name, while the other room kept its users. A room's users
//! live in the room's own state: the crashed room comes back empty and
//! its users must join again, while the logger, a separate process,
//! still has what was said. Then the logger crashes and restarts alone.
//!
//! ```text
//! cargo run -p examples --example chat_app
//! ```

use std::time::Duration;

use examples::chat_app::{ChatApp, ChatAppHandle, LoggerApi, RoomApi};
use supervise::Event;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (spec, app) = ChatApp::new().spec();
    let mut events = spec.subscribe();
    let root = spec.start().await.expect("the tree starts");

    // Created under their names; their handles make the generated calls.
    let elixir = app.create_room("elixir").await.unwrap();
    let rust = app.create_room("rust").await.unwrap();
    for user in ["alice", "bob"] {
        elixir.join(user.into()).await.unwrap();
    }
    for user in ["carol", "dave"] {
        rust.join(user.into()).await.unwrap();
    }
    rust.leave("dave".into()).await.unwrap();
    let said = elixir.send_message("alice".into(), "let it crash!".into());
    said.await.expect("alice joined");
    let said = rust.send_message("carol".into(), "hello, tokio".into());
    said.await.expect("carol joined");
    println!("{}", root.snapshot().await.unwrap());
    print_rooms(&app).await;

    println!("\nThe elixir room crashes.");
    while events.try_recv().is_some() {}
    let dying = elixir.child().expect("the room runs");
    dying.kill();
    let restarted = loop {
        match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
            Ok(Some(Event::Started { child })) => break child,
            Ok(Some(_)) => {}
            _ => panic!("the room restarts"),
        }
    };
    println!(
        "  restarted: {} alone (start #{}), found under the same name: {}",
        restarted.path(),
        restarted.incarnation(),
        app.room("elixir").is_ok_and(|h| h.same_child(&elixir))
    );
    print_rooms(&app).await;
    println!(
        "  alice joins again: {:?}",
        elixir.join("alice".into()).await.unwrap()
    );

    println!("\nThe logger crashes.");
    let logger = app.logger.child().expect("the logger runs");
    logger.kill();
    let restarted = loop {
        match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
            Ok(Some(Event::Started { child })) => break child,
            Ok(Some(_)) => {}
            _ => panic!("the logger restarts"),
        }
    };
    println!(
        "  restarted: {} alone (start #{}); the rooms keep their users:",
        restarted.path(),
        restarted.incarnation()
    );
    print_rooms(&app).await;

    root.stop().await.expect("the tree stops");
}

async fn print_rooms(app: &ChatAppHandle) {
    for name in ["elixir", "rust"] {
        let room = app.room(name).expect("the room exists");
        println!(
            "  {name}: users {:?}, messages {}",
            room.users().await.unwrap(),
            room.messages().await.unwrap().len()
        );
    }
    let log = app.logger.lines().await.unwrap();
    if log.is_empty() {
        println!("  log: empty (a fresh logger)");
    } else {
        println!("  log:");
    }
    for line in log {
        println!("    {line}");
    }
}
