//! The `DynamicSupervisor` of seed 003 (*Supervisors*):
//! `MyApp.SessionSupervisor` starts with no children, and a session is
//! started per user at run time.
//!
//! ```text
//! iex> {:ok, session1} = MyApp.SessionSupervisor.start_session("user_1")
//! iex> {:ok, session2} = MyApp.SessionSupervisor.start_session("user_2")
//! iex> DynamicSupervisor.count_children(MyApp.SessionSupervisor)
//! %{active: 2, specs: 2, supervisors: 0, workers: 2}
//! ```
//!
//! Here the session supervisor is the one child of a derived root, and
//! `start_session` returns the session's typed handle (the seed's pid),
//! whose calls are the generated [`SessionApi`].

use supervise::{
    handlers, worker, CallError, ChildCounts, DynamicSupervisor, Supervisor, WorkerHandle,
};

/// `MyApp.Session`: one user's session.
#[worker]
#[derive(Clone, Debug)]
pub struct Session {
    /// The user.
    pub user_id: String,
}

#[handlers]
impl Session {
    /// The session's user (a call: `session.user().await`).
    #[call]
    fn user(&mut self) -> String {
        self.user_id.clone()
    }
}

/// The application: `MyApp.SessionSupervisor` under a root.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = one_for_one, name = "my_app")]
pub struct MyApp {
    /// `MyApp.SessionSupervisor`: `DynamicSupervisor.init(strategy:
    /// :one_for_one)`.
    pub session_supervisor: DynamicSupervisor<Session>,
}

impl MyApp {
    /// The seed's tree: no sessions yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl MyAppHandle {
    /// `MyApp.SessionSupervisor.start_session(user_id)`.
    ///
    /// # Errors
    ///
    /// The supervisor refused or failed the start.
    pub async fn start_session(&self, user_id: &str) -> Result<WorkerHandle<Session>, CallError> {
        self.session_supervisor
            .start_child(Session {
                user_id: user_id.to_owned(),
            })
            .await
    }

    /// `MyApp.SessionSupervisor.stop_session(pid)`.
    ///
    /// # Errors
    ///
    /// [`CallError::NotFound`] when the session is not running.
    pub async fn stop_session(&self, session: &WorkerHandle<Session>) -> Result<(), CallError> {
        self.session_supervisor.terminate_child(session).await
    }

    /// `DynamicSupervisor.count_children(MyApp.SessionSupervisor)`.
    ///
    /// # Errors
    ///
    /// [`CallError::Stopped`].
    pub async fn count_sessions(&self) -> Result<ChildCounts, CallError> {
        self.session_supervisor.count_children().await
    }
}
