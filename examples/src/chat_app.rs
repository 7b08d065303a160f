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
//! * Rooms are created at run time under their name
//!   ([`ChatAppHandle::create_room`]) and found by it, as the seed's
//!   `{:via, Registry, ...}` names do; they support join, leave and
//!   send_message.
//! * A crashing room restarts alone (one_for_one in the dynamic
//!   supervisor), under the same name; the other rooms keep running, and
//!   with them their users.
//! * The logger restarts independently; the rooms keep their handle to it,
//!   which reaches the new logger.
//!
//! # Where a room's users live
//!
//! In the room's own state, as a GenServer's state: each room is the one
//! owner of its users and messages, so a crash in one room cannot touch
//! another room's users. The price is the crashed room's own state: its
//! new incarnation starts from its start argument, with no users and no
//! messages, and its users must join again (the log, kept by the logger,
//! a separate process, still has what happened). That is deliberate: the
//! crash may have come from that very state, and keeping it outside the
//! incarnation (in a store the room reloads) would replay the bad state
//! into every restart.

use std::collections::BTreeSet;

use supervise::{
    handlers, worker, Context, DynamicSupervisor, HandleError, KeyedStartError, Supervisor,
    WorkerHandle,
};

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

impl Room {
    /// The room `name`, with no users yet.
    pub fn new(name: &str, logger: WorkerHandle<Logger>) -> Self {
        Room {
            name: name.to_owned(),
            logger,
            users: BTreeSet::new(),
            messages: Vec::new(),
        }
    }
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
        self.user_list()
    }

    /// `:leave`: the users after the leave.
    #[call]
    fn leave(&mut self, user: String) -> Vec<String> {
        if self.users.remove(&user) {
            self.log(format!("[{}] {user} left", self.name));
        }
        self.user_list()
    }

    /// `:send_message`: how many users it reached, or
    /// [`ChatError::NotAMember`].
    #[call]
    fn send_message(&mut self, said: Said) -> Result<usize, ChatError> {
        if !self.users.contains(&said.from) {
            return Err(ChatError::NotAMember);
        }
        self.log(format!("[{}] {}: {}", self.name, said.from, said.text));
        self.messages.push(said);
        Ok(self.users.len())
    }

    /// The users.
    #[call]
    fn users(&mut self) -> Vec<String> {
        self.user_list()
    }

    /// The messages said in the room (by this incarnation).
    #[call]
    fn messages(&mut self) -> Vec<Said> {
        self.messages.clone()
    }

    fn user_list(&self) -> Vec<String> {
        self.users.iter().cloned().collect()
    }

    fn log(&self, line: String) {
        // Logging is best effort: a room does not fail with its logger.
        let _ = self.logger.log(line);
    }
}

/// `ChatApp.Supervisor`: the logger and the room supervisor, one_for_one.
#[derive(Clone, Debug, Supervisor)]
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
        ChatApp {
            logger: Logger::default(),
            room_supervisor: DynamicSupervisor::new(),
        }
    }
}

impl Default for ChatApp {
    fn default() -> Self {
        Self::new()
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
    /// The room did not answer.
    Room(HandleError),
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatError::NoSuchRoom => f.write_str("no such room"),
            ChatError::RoomExists => f.write_str("the room already exists"),
            ChatError::NotAMember => f.write_str("join the room first"),
            ChatError::StartFailed => f.write_str("the room could not be started"),
            ChatError::Room(e) => write!(f, "the room did not answer: {e}"),
        }
    }
}

impl std::error::Error for ChatError {}

impl From<HandleError> for ChatError {
    fn from(e: HandleError) -> Self {
        ChatError::Room(e)
    }
}

/// The seed's client API finds a room by its name (`{:via, Registry,
/// ...}`): these look the room up and make one call of the generated
/// [`RoomApi`]. With a room's handle, call it directly
/// (`app.room("rust").unwrap().join("dave".into())`).
impl ChatAppHandle {
    /// Starts a room under `name`.
    ///
    /// # Errors
    ///
    /// [`ChatError::RoomExists`], [`ChatError::StartFailed`].
    pub async fn create_room(&self, name: &str) -> Result<WorkerHandle<Room>, ChatError> {
        let room = Room::new(name, self.logger.clone());
        match self
            .room_supervisor
            .start_child_keyed(name.to_owned(), room)
            .await
        {
            Ok(handle) => {
                let _ = self.logger.log(format!("[{name}] created"));
                Ok(handle)
            }
            Err(KeyedStartError::AlreadyStarted(_)) => Err(ChatError::RoomExists),
            Err(_) => Err(ChatError::StartFailed),
        }
    }

    /// The room named `name`, if it exists.
    pub fn room(&self, name: &str) -> Option<WorkerHandle<Room>> {
        self.room_supervisor.lookup(&name.to_owned())
    }

    fn room_or_err(&self, name: &str) -> Result<WorkerHandle<Room>, ChatError> {
        self.room(name).ok_or(ChatError::NoSuchRoom)
    }

    /// `Room.join(room, user)`: the room's users after the join.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn join(&self, room: &str, user: &str) -> Result<Vec<String>, ChatError> {
        Ok(self.room_or_err(room)?.join(user.to_owned()).await?)
    }

    /// `Room.leave(room, user)`: the room's users after the leave.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn leave(&self, room: &str, user: &str) -> Result<Vec<String>, ChatError> {
        Ok(self.room_or_err(room)?.leave(user.to_owned()).await?)
    }

    /// `Room.send_message(room, from, text)`: how many users it reached.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::NotAMember`],
    /// [`ChatError::Room`].
    pub async fn send_message(
        &self,
        room: &str,
        from: &str,
        text: &str,
    ) -> Result<usize, ChatError> {
        let said = Said {
            from: from.to_owned(),
            text: text.to_owned(),
        };
        self.room_or_err(room)?.send_message(said).await?
    }

    /// The users of a room.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn users(&self, room: &str) -> Result<Vec<String>, ChatError> {
        Ok(self.room_or_err(room)?.users().await?)
    }

    /// The messages said in a room (by its current incarnation).
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn messages(&self, room: &str) -> Result<Vec<Said>, ChatError> {
        Ok(self.room_or_err(room)?.messages().await?)
    }
}
