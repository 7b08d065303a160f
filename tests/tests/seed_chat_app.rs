//! Seed 003's chat application exercise (`examples::chat_app`): rooms
//! under a keyed dynamic supervisor support join, leave and send_message;
//! a crashing room restarts alone, with fresh state, and the other rooms
//! keep their users; the logger restarts independently.

use std::time::Duration;

use examples::chat_app::{ChatApp, ChatAppHandle, ChatError, LoggerApi};
use supervise::{Event, EventStream};

/// The paths that started until the tree was quiet.
async fn started(events: &mut EventStream) -> Vec<String> {
    let mut paths = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(50), events.recv()).await
    {
        if let Event::Started { child } = event {
            paths.push(child.path().to_owned());
        }
    }
    paths
}

async fn two_rooms() -> (ChatAppHandle, EventStream) {
    let (spec, app) = ChatApp::new().spec();
    let events = spec.subscribe();
    spec.start().await.unwrap();
    app.create_room("elixir").await.unwrap();
    app.create_room("rust").await.unwrap();
    app.join("elixir", "alice").await.unwrap();
    app.join("elixir", "bob").await.unwrap();
    app.join("rust", "carol").await.unwrap();
    app.send_message("elixir", "alice", "let it crash!")
        .await
        .unwrap();
    app.send_message("rust", "carol", "hello").await.unwrap();
    (app, events)
}

#[tokio::test(start_paused = true)]
async fn rooms_support_join_leave_and_send_message() {
    let (app, _events) = two_rooms().await;
    assert_eq!(app.join("rust", "dave").await.unwrap(), ["carol", "dave"]);
    assert_eq!(app.send_message("rust", "dave", "hi").await, Ok(2));
    assert_eq!(app.leave("rust", "dave").await.unwrap(), ["carol"]);
    assert_eq!(
        app.send_message("rust", "dave", "still here?").await,
        Err(ChatError::NotAMember)
    );
    assert_eq!(app.users("elixir").await.unwrap(), ["alice", "bob"]);
    let said = app.messages("rust").await.unwrap();
    let said: Vec<_> = said.iter().map(|s| (&*s.from, &*s.text)).collect();
    assert_eq!(said, [("carol", "hello"), ("dave", "hi")]);
    assert_eq!(app.join("go", "erin").await, Err(ChatError::NoSuchRoom));
    assert!(matches!(
        app.create_room("rust").await,
        Err(ChatError::RoomExists)
    ));
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_crashing_room_restarts_alone_and_the_other_rooms_keep_their_users() {
    let (app, mut events) = two_rooms().await;
    while events.try_recv().is_some() {}
    let elixir = app.room("elixir").unwrap();
    let rust = app.room("rust").unwrap();
    elixir.child().unwrap().kill();
    assert_eq!(
        started(&mut events).await,
        ["chat_app/room_supervisor/elixir"]
    );

    // The other room was not touched: same incarnation, same users.
    assert_eq!(rust.child().unwrap().incarnation(), 1);
    assert_eq!(app.users("rust").await.unwrap(), ["carol"]);
    assert_eq!(app.messages("rust").await.unwrap().len(), 1);

    // The crashed room is found under its name, by the same handle, and
    // its state is fresh: its users must join again.
    assert!(app.room("elixir").unwrap().same_child(&elixir));
    assert_eq!(elixir.child().unwrap().incarnation(), 2);
    assert!(app.users("elixir").await.unwrap().is_empty());
    assert!(app.messages("elixir").await.unwrap().is_empty());
    assert_eq!(app.join("elixir", "alice").await.unwrap(), ["alice"]);

    // The logger, a separate process, kept what was said.
    let log = app.logger.lines().await.unwrap();
    assert!(log.contains(&"[elixir] alice: let it crash!".to_owned()));
    assert!(log.contains(&"[elixir] restarted with no users".to_owned()));
    app.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_logger_restarts_independently() {
    let (app, mut events) = two_rooms().await;
    while events.try_recv().is_some() {}
    app.logger.child().unwrap().kill();
    assert_eq!(started(&mut events).await, ["chat_app/logger"]);
    assert_eq!(app.users("elixir").await.unwrap(), ["alice", "bob"]);
    assert_eq!(app.users("rust").await.unwrap(), ["carol"]);
    // A fresh log, which the rooms reach through the handle they hold.
    assert!(app.logger.lines().await.unwrap().is_empty());
    app.send_message("rust", "carol", "anyone?").await.unwrap();
    assert_eq!(app.logger.lines().await.unwrap(), ["[rust] carol: anyone?"]);
    app.stop().await.unwrap();
}
