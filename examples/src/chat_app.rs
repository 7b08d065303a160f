//! The chat application of seed 003's exercise (*Practice: Build a
//! Supervision Tree*):
//!
//! ```text
//! chat_app (one_for_one)
//! ├── logger                 one process that logs events
//! └── room_supervisor        a DynamicSupervisor of rooms, keyed by name
//!     ├── elixir             a Room: tracks its users and messages
//!     └── rust
//! ```
//!
//! Rooms are created at run time under their name and found by it, as the
//! seed's `{:via, Registry, ...}` names are; a room's handle then makes the
//! calls of the generated [`RoomApi`]. A crashing room restarts alone,
//! under the same name; the logger restarts alone too, and the rooms' handle
//! to it reaches the new one.
//!
//! A room's users live in its own state, as a GenServer's do, so a crash in
//! one room cannot touch another's. The crashed room comes back empty and
//! its users must join again (the logger still has what happened): that is
//! deliberate, since the crash may have come from that very state, and
//! reloading it would replay the bad state into every restart.

use std::collections::BTreeSet;

use supervise::{handlers, worker, Context, DynamicSupervisor, Supervisor, WorkerHandle};

/// `ChatApp.Logger`: keeps the log of every room's events.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct Logger {
    lines: Vec<String>,
}

#[handlers]
impl Logger {
    /// Appends a line (a cast).
    #[cast]
    fn log(&mut self, line: String) {
        self.lines.push(line);
    }

    /// The lines logged by this incarnation.
    #[call]
    fn lines(&mut self) -> Vec<String> {
        self.lines.clone()
    }
}

/// `ChatApp.Room`: one per room, tracks its users and messages.
#[worker]
#[derive(Clone, Debug)]
pub struct Room {
    /// The room's name (its key under the room supervisor).
    pub name: String,
    /// Where it logs its events.
    pub logger: WorkerHandle<Logger>,
    users: BTreeSet<String>,
    messages: Vec<Said>,
}

/// A message said in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Who said it.
    pub from: String,
    /// What.
    pub text: String,
}

#[handlers]
impl Room {
    #[init]
    fn init(&mut self, ctx: &Context) {
        if ctx.incarnation() > 1 {
            self.log(format!("[{}] restarted with no users", self.name));
        }
    }

    /// `:join`: the users after the join.
    #[call]
    fn join(&mut self, user: String) -> Vec<String> {
        self.log(format!("[{}] {user} joined", self.name));
        self.users.insert(user);
        self.users()
    }

    /// `:leave`: the users after the leave.
    #[call]
    fn leave(&mut self, user: String) -> Vec<String> {
        if self.users.remove(&user) {
            self.log(format!("[{}] {user} left", self.name));
        }
        self.users()
    }

    /// `:send_message`: how many users it reached.
    #[call]
    fn send_message(&mut self, from: String, text: String) -> Result<usize, ChatError> {
        if !self.users.contains(&from) {
            return Err(ChatError::NotAMember);
        }
        self.log(format!("[{}] {from}: {text}", self.name));
        self.messages.push(Said { from, text });
        Ok(self.users.len())
    }

    /// The users.
    #[call]
    fn users(&mut self) -> Vec<String> {
        self.users.iter().cloned().collect()
    }

    /// The messages said in the room (by this incarnation).
    #[call]
    fn messages(&mut self) -> Vec<Said> {
        self.messages.clone()
    }

    fn log(&self, line: String) {
        // Logging is best effort: a room does not fail with its logger.
        let _ = self.logger.log(line);
    }
}

/// `ChatApp.Supervisor`: the logger and the room supervisor, one_for_one.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct ChatApp {
    /// `ChatApp.Logger`.
    pub logger: Logger,
    /// `ChatApp.RoomSupervisor`: rooms keyed by name.
    pub room_supervisor: DynamicSupervisor<Room>,
}

impl ChatApp {
    /// The seed's tree.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Why a chat operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatError {
    /// No room has that name.
    NoSuchRoom,
    /// A room by that name already exists.
    RoomExists,
    /// The sender has not joined the room.
    NotAMember,
    /// The room supervisor refused to start the room.
    StartFailed,
}

impl ChatAppHandle {
    /// Starts a room under `name`.
    ///
    /// # Errors
    ///
    /// [`ChatError::RoomExists`], [`ChatError::StartFailed`].
    pub async fn create_room(&self, name: &str) -> Result<WorkerHandle<Room>, ChatError> {
        let room = Room {
            name: name.to_owned(),
            logger: self.logger.clone(),
            users: BTreeSet::new(),
            messages: Vec::new(),
        };
        let started = self
            .room_supervisor
            .start_child_keyed(name.to_owned(), room);
        match started.await {
            Ok(handle) => {
                let _ = self.logger.log(format!("[{name}] created"));
                Ok(handle)
            }
            Err(supervise::KeyedStartError::AlreadyStarted(_)) => Err(ChatError::RoomExists),
            Err(_) => Err(ChatError::StartFailed),
        }
    }

    /// The room named `name` (the seed's `{:via, Registry, {..., name}}`).
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`].
    pub fn room(&self, name: &str) -> Result<WorkerHandle<Room>, ChatError> {
        let room = self.room_supervisor.lookup(&name.to_owned());
        room.ok_or(ChatError::NoSuchRoom)
    }
}
