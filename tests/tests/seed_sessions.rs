//! Seed 003's `DynamicSupervisor` (`examples::sessions`): after two
//! sessions, `count_children` reports 2 active workers.

use examples::sessions::{MyApp, SessionApi};
use supervise::ChildCounts;

#[tokio::test(start_paused = true)]
async fn count_children_after_two_sessions_reports_two_active_workers() {
    let app = MyApp::new().start().await.unwrap();
    assert_eq!(app.count_sessions().await.unwrap(), ChildCounts::default());
    let session1 = app.start_session("user_1").await.unwrap();
    let session2 = app.start_session("user_2").await.unwrap();
    assert_eq!(
        app.count_sessions().await.unwrap(),
        ChildCounts {
            specs: 2,
            active: 2,
            supervisors: 0,
            workers: 2,
        }
    );
    assert_eq!(session1.user().await.unwrap(), "user_1");
    assert_eq!(session2.user().await.unwrap(), "user_2");

    app.stop_session(&session1).await.unwrap();
    assert_eq!(
        app.count_sessions().await.unwrap(),
        ChildCounts {
            specs: 1,
            active: 1,
            supervisors: 0,
            workers: 1,
        }
    );
    app.stop().await.unwrap();
}
