//! Seed 003's chat application exercise (`examples::chat_app`): rooms
//! under a keyed dynamic supervisor support join, leave and send_message;
//! a crashing room restarts alone, with fresh state, and the other rooms
//! keep their users; the logger restarts independently.

use std::time::Duration;

use examples::chat_app::{ChatApp, ChatAppHandle, ChatError, LoggerApi, RoomApi};
use supervise::{Event, EventStream, ReplyError};

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
    let elixir = app.create_room("elixir").await.unwrap();
    let rust = app.create_room("rust").await.unwrap();
    elixir.join("alice".into()).await.unwrap();
    elixir.join("bob".into()).await.unwrap();
    rust.join("carol".into()).await.unwrap();
    let said = elixir.send_message("alice".into(), "let it crash!".into());
    said.await.unwrap();
    rust.send_message("carol".into(), "hello".into())
        .await
        .unwrap();
    (app, events)
}

#[tokio::test(start_paused = true)]
async fn rooms_support_join_leave_and_send_message() {
    let (app, _events) = two_rooms().await;
    let rust = app.room("rust").unwrap();
    assert_eq!(rust.join("dave".into()).await.unwrap(), ["carol", "dave"]);
    assert_eq!(rust.send_message("dave".into(), "hi".into()).await, Ok(2));
    assert_eq!(rust.leave("dave".into()).await.unwrap(), ["carol"]);
    assert_eq!(
        rust.send_message("dave".into(), "still here?".into()).await,
        Err(ReplyError::Reply(ChatError::NotAMember))
    );
    let elixir = app.room("elixir").unwrap();
    assert_eq!(elixir.users().await.unwrap(), ["alice", "bob"]);
    let said = rust.messages().await.unwrap();
    let said: Vec<_> = said.iter().map(|s| (&*s.from, &*s.text)).collect();
    assert_eq!(said, [("carol", "hello"), ("dave", "hi")]);
    assert_eq!(app.room("go").err(), Some(ChatError::NoSuchRoom));
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
    assert_eq!(rust.users().await.unwrap(), ["carol"]);
    assert_eq!(rust.messages().await.unwrap().len(), 1);

    // The crashed room is found under its name, by the same handle, and
    // its state is fresh: its users must join again.
    assert!(app.room("elixir").unwrap().same_child(&elixir));
    assert_eq!(elixir.child().unwrap().incarnation(), 2);
    assert!(elixir.users().await.unwrap().is_empty());
    assert!(elixir.messages().await.unwrap().is_empty());
    assert_eq!(elixir.join("alice".into()).await.unwrap(), ["alice"]);

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
    let rust = app.room("rust").unwrap();
    assert_eq!(
        app.room("elixir").unwrap().users().await.unwrap(),
        ["alice", "bob"]
    );
    assert_eq!(rust.users().await.unwrap(), ["carol"]);
    // A fresh log, which the rooms reach through the handle they hold.
    assert!(app.logger.lines().await.unwrap().is_empty());
    rust.send_message("carol".into(), "anyone?".into())
        .await
        .unwrap();
    assert_eq!(app.logger.lines().await.unwrap(), ["[rust] carol: anyone?"]);
    app.stop().await.unwrap();
}
