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
use std::time::Duration;

use supervise::{
    worker, Context, DynamicSupervisor, Exit, HandleError, KeyedStartError, Reply, Supervisor,
    Worker, WorkerHandle,
};

/// How long a call waits for an answer, through a restart if need be.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// `ChatApp.Logger`: keeps the log of every room's events.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct Logger;

/// The messages of the [`Logger`].
#[derive(Debug)]
pub enum LoggerMsg {
    /// Appends a line (a cast).
    Log(String),
    /// Answers the lines logged by this incarnation.
    Lines(Reply<Vec<String>>),
}

impl Worker for Logger {
    type Message = LoggerMsg;

    async fn run(self, mut ctx: Context<LoggerMsg>) -> Result<(), Exit> {
        let mut lines = Vec::new();
        while let Some(msg) = ctx.recv().await {
            match msg {
                LoggerMsg::Log(line) => lines.push(line),
                LoggerMsg::Lines(reply) => {
                    let _ = reply.send(lines.clone());
                }
            }
        }
        Ok(())
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
}

/// A message said in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Who said it.
    pub from: String,
    /// What.
    pub text: String,
}

/// The messages of a [`Room`].
#[derive(Debug)]
pub enum RoomMsg {
    /// `:join`: answers the users after the join.
    Join(String, Reply<Vec<String>>),
    /// `:leave`: answers the users after the leave.
    Leave(String, Reply<Vec<String>>),
    /// `:send_message`: answers how many users it reached, or
    /// [`ChatError::NotAMember`].
    SendMessage(Said, Reply<Result<usize, ChatError>>),
    /// Answers the users and the messages.
    State(Reply<(Vec<String>, Vec<Said>)>),
}

impl Room {
    fn log(&self, line: String) {
        // Logging is best effort: a room does not fail with its logger.
        let _ = self.logger.send(LoggerMsg::Log(line));
    }
}

impl Worker for Room {
    type Message = RoomMsg;

    async fn run(self, mut ctx: Context<RoomMsg>) -> Result<(), Exit> {
        let mut users = BTreeSet::new();
        let mut messages = Vec::new();
        if ctx.incarnation() > 1 {
            self.log(format!("[{}] restarted with no users", self.name));
        }
        while let Some(msg) = ctx.recv().await {
            match msg {
                RoomMsg::Join(user, reply) => {
                    self.log(format!("[{}] {user} joined", self.name));
                    users.insert(user);
                    let _ = reply.send(users.iter().cloned().collect());
                }
                RoomMsg::Leave(user, reply) => {
                    if users.remove(&user) {
                        self.log(format!("[{}] {user} left", self.name));
                    }
                    let _ = reply.send(users.iter().cloned().collect());
                }
                RoomMsg::SendMessage(said, reply) => {
                    if !users.contains(&said.from) {
                        let _ = reply.send(Err(ChatError::NotAMember));
                        continue;
                    }
                    self.log(format!("[{}] {}: {}", self.name, said.from, said.text));
                    messages.push(said);
                    let _ = reply.send(Ok(users.len()));
                }
                RoomMsg::State(reply) => {
                    let _ = reply.send((users.iter().cloned().collect(), messages.clone()));
                }
            }
        }
        Ok(())
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
            logger: Logger,
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
        };
        match self
            .room_supervisor
            .start_child_keyed(name.to_owned(), room)
            .await
        {
            Ok(handle) => {
                let _ = self
                    .logger
                    .send(LoggerMsg::Log(format!("[{name}] created")));
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
        let user = user.to_owned();
        let room = self.room_or_err(room)?;
        Ok(room
            .call_timeout(|reply| RoomMsg::Join(user, reply), CALL_TIMEOUT)
            .await?)
    }

    /// `Room.leave(room, user)`: the room's users after the leave.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn leave(&self, room: &str, user: &str) -> Result<Vec<String>, ChatError> {
        let user = user.to_owned();
        let room = self.room_or_err(room)?;
        Ok(room
            .call_timeout(|reply| RoomMsg::Leave(user, reply), CALL_TIMEOUT)
            .await?)
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
        let room = self.room_or_err(room)?;
        room.call_timeout(|reply| RoomMsg::SendMessage(said, reply), CALL_TIMEOUT)
            .await?
    }

    /// The users of a room.
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn users(&self, room: &str) -> Result<Vec<String>, ChatError> {
        Ok(self.state(room).await?.0)
    }

    /// The messages said in a room (by its current incarnation).
    ///
    /// # Errors
    ///
    /// [`ChatError::NoSuchRoom`], [`ChatError::Room`].
    pub async fn messages(&self, room: &str) -> Result<Vec<Said>, ChatError> {
        Ok(self.state(room).await?.1)
    }

    async fn state(&self, room: &str) -> Result<(Vec<String>, Vec<Said>), ChatError> {
        let room = self.room_or_err(room)?;
        Ok(room.call_timeout(RoomMsg::State, CALL_TIMEOUT).await?)
    }

    /// The logger's lines (those of its current incarnation).
    ///
    /// # Errors
    ///
    /// [`HandleError`] when no logger answered in time.
    pub async fn log(&self) -> Result<Vec<String>, HandleError> {
        self.logger
            .call_timeout(LoggerMsg::Lines, CALL_TIMEOUT)
            .await
    }
}
