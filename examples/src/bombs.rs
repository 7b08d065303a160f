//! The `Bomb` timelines of seed 001 (*Supervisors*): three bombs that
//! explode 2, 3 and 5 seconds after each start, under each restart
//! strategy, with `max_restarts: 5` (and the default `max_seconds: 5`).
//!
//! What OTP does (the seed's own timelines stop early or are cut off):
//!
//! * `one_for_one`: Bomb 1 at 2 s, Bomb 2 at 3 s, Bomb 1 at 4 s, Bomb 3 at
//!   5 s, and at 6 s Bomb 1 and Bomb 2 together: the second of those is
//!   the sixth restart within 5 seconds, and the supervisor gives up.
//! * `one_for_all`, and `rest_for_one` in the order bomb1, bomb2, bomb3:
//!   only Bomb 1 ever explodes, at 2, 4, 6, 8, 10 s and on, every restart
//!   resetting the other timers; three restarts per 5 s never exceed 5.
//! * `rest_for_one` in the order bomb3, bomb1, bomb2: 2 s (Bomb 1), 4 s
//!   (Bomb 1), 5 s (Bomb 3, which restarts Bomb 1 and Bomb 2), 7 s, 9 s
//!   (Bomb 1), 10 s (Bomb 3): Bomb 2 never explodes, and the supervisor
//!   survives.
//!
//! [`timeline`] runs one tree and records its crashes from the event stream.

use std::time::Duration;

use supervise::{handlers, worker, Context, Event, Exit, Supervisor, SupervisorSpec};

/// A bomb: explodes (crashes) `bomb_time` after every start, as the
/// seed's `Process.send_after(self(), :explode, bomb_time)` in `init`.
#[worker]
#[derive(Clone, Debug)]
pub struct Bomb {
    name: &'static str,
    bomb_time: Duration,
}

impl Bomb {
    fn new(name: &'static str, secs: u64) -> Self {
        let bomb_time = Duration::from_secs(secs);
        Bomb { name, bomb_time }
    }
}

#[handlers]
impl Bomb {
    /// The seed's `init`: `Process.send_after(self(), :explode,
    /// bomb_time)`. The timer belongs to this incarnation: a restart
    /// starts a new one.
    #[init]
    fn init(&mut self, ctx: &mut Context) {
        ctx.send_after(self.bomb_time, BombMessage::Explode);
    }

    /// The seed's `handle_info(:explode, name)`: `raise "#{name}
    /// Exploded!"`.
    #[info]
    fn explode(&mut self) -> Result<(), Exit> {
        Err(format!("{} Exploded!", self.name).into())
    }
}

// Each tree is its own type: a strategy and an order of children are part
// of a supervisor's type.

/// `strategy: :one_for_one, max_restarts: 5`.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_one, max_restarts = 5, max_seconds = 5)]
pub struct OneForOne {
    bomb1: Bomb,
    bomb2: Bomb,
    bomb3: Bomb,
}

/// `strategy: :one_for_all, max_restarts: 5`.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_all, max_restarts = 5, max_seconds = 5)]
pub struct OneForAll {
    bomb1: Bomb,
    bomb2: Bomb,
    bomb3: Bomb,
}

/// `strategy: :rest_for_one, max_restarts: 5`.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = rest_for_one, max_restarts = 5, max_seconds = 5)]
pub struct RestForOne {
    bomb1: Bomb,
    bomb2: Bomb,
    bomb3: Bomb,
}

/// The same, with the children reordered: bomb3, bomb1, bomb2.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(
    strategy = rest_for_one,
    max_restarts = 5,
    max_seconds = 5,
    name = "rest_for_one_reordered"
)]
pub struct RestForOneReordered {
    bomb3: Bomb,
    bomb1: Bomb,
    bomb2: Bomb,
}

/// One of the seed's four trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// [`OneForOne`].
    OneForOne,
    /// [`OneForAll`].
    OneForAll,
    /// [`RestForOne`].
    RestForOne,
    /// [`RestForOneReordered`].
    RestForOneReordered,
}

impl Setup {
    /// The four, in the seed's order.
    pub const ALL: [Setup; 4] = [
        Setup::OneForOne,
        Setup::OneForAll,
        Setup::RestForOne,
        Setup::RestForOneReordered,
    ];

    /// The strategy and the order of the children.
    pub fn describe(self) -> &'static str {
        match self {
            Setup::OneForOne => "one_for_one [bomb1, bomb2, bomb3]",
            Setup::OneForAll => "one_for_all [bomb1, bomb2, bomb3]",
            Setup::RestForOne => "rest_for_one [bomb1, bomb2, bomb3]",
            Setup::RestForOneReordered => "rest_for_one [bomb3, bomb1, bomb2]",
        }
    }

    /// The tree's spec, to subscribe to before starting it.
    #[rustfmt::skip]
    pub fn spec(self) -> SupervisorSpec {
        let bomb1 = Bomb::new("Bomb 1", 2);
        let (bomb2, bomb3) = (Bomb::new("Bomb 2", 3), Bomb::new("Bomb 3", 5));
        match self {
            Setup::OneForOne => OneForOne { bomb1, bomb2, bomb3 }.spec().0,
            Setup::OneForAll => OneForAll { bomb1, bomb2, bomb3 }.spec().0,
            Setup::RestForOne => RestForOne { bomb1, bomb2, bomb3 }.spec().0,
            Setup::RestForOneReordered => RestForOneReordered { bomb3, bomb1, bomb2 }.spec().0,
        }
    }
}

/// Something on a timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Happening {
    /// The child with this id (`bomb1`, ...) exploded: an abnormal exit,
    /// as the supervisor's `ChildTerminated` report says.
    Exploded(String),
    /// The supervisor gave up: its restart intensity was exceeded.
    GaveUp,
}

/// Runs `setup` for `observe` (or until its supervisor gives up) and
/// returns its crashes and give-up, each with its time since the start.
///
/// Crashes at the same instant are listed by child id (which of two
/// simultaneous crashes the supervisor sees first is up to the scheduler,
/// in OTP as here); a give-up comes after the crashes of its instant.
pub async fn timeline(setup: Setup, observe: Duration) -> Vec<(Duration, Happening)> {
    let spec = setup.spec();
    let mut events = spec.subscribe();
    let t0 = tokio::time::Instant::now();
    let root = spec.start().await.expect("the bombs start");
    let deadline = t0 + observe;
    let mut out = Vec::new();
    while let Ok(Some((at, event))) = tokio::time::timeout_at(deadline, events.recv_timed()).await {
        match event {
            Event::ChildTerminated { child, reason, .. } if !reason.is_normal() => {
                let id = child.rsplit('/').next().unwrap_or(&child).to_owned();
                out.push((at - t0, Happening::Exploded(id)));
            }
            Event::GaveUp { .. } => {
                out.push((at - t0, Happening::GaveUp));
                break;
            }
            _ => {}
        }
    }
    if !root.is_stopped() {
        let _ = root.stop().await;
    }
    out.sort();
    out
}
