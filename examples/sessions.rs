//! The `DynamicSupervisor` of seed 003: `MyApp.SessionSupervisor` starts
//! with no children and gets one `Session` per user at run time (declared
//! with `#[worker]` and `#[derive(Supervisor)]` in
//! [`examples::sessions`]). After two sessions, `count_children` reports 2
//! active workers, as the seed's iex session shows; stopping one leaves 1.
//!
//! ```text
//! cargo run -p examples --example sessions
//! ```

use examples::sessions::{MyApp, SessionApi};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = MyApp::new().start().await.expect("the tree starts");
    println!("iex> MyApp.SessionSupervisor.start_link(:ok)");

    let session1 = app.start_session("user_1").await.unwrap();
    println!(
        "iex> {{:ok, session1}} = MyApp.SessionSupervisor.start_session(\"user_1\")\n\
         {{:ok, {}}}   (serving {})",
        session1.child().unwrap(),
        session1.user().await.unwrap()
    );
    let session2 = app.start_session("user_2").await.unwrap();
    println!(
        "iex> {{:ok, session2}} = MyApp.SessionSupervisor.start_session(\"user_2\")\n\
         {{:ok, {}}}   (serving {})",
        session2.child().unwrap(),
        session2.user().await.unwrap()
    );

    let counts = app.count_sessions().await.unwrap();
    println!("iex> DynamicSupervisor.count_children(MyApp.SessionSupervisor)");
    println!(
        "%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
        counts.active, counts.specs, counts.supervisors, counts.workers
    );

    app.stop_session(&session1).await.unwrap();
    println!("iex> MyApp.SessionSupervisor.stop_session(session1)\n:ok");
    let counts = app.count_sessions().await.unwrap();
    println!("iex> DynamicSupervisor.count_children(MyApp.SessionSupervisor)");
    println!(
        "%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
        counts.active, counts.specs, counts.supervisors, counts.workers
    );

    app.stop().await.expect("the tree stops");
}
