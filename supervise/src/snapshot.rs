//! A picture of a live tree: every supervisor and child with its state,
//! incarnation, restarts and recent exits; drawn as text, Mermaid or DOT.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use crate::exit::ExitReason;
use crate::intensity::RestartWindow;
use crate::policy::{ChildKind, Intensity, Restart, Strategy};

/// How many exits each child remembers by default.
pub const DEFAULT_HISTORY: usize = 8;

/// One exit of one child, as its history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitRecord {
    /// Why it exited.
    pub reason: ExitReason,
    /// Which incarnation exited.
    pub incarnation: u64,
    /// When, on tokio's clock.
    pub at: Instant,
    /// When, on the wall clock.
    pub wall: SystemTime,
}

/// A child's recent exits (a bounded buffer, oldest dropped first) and the
/// restarts it caused.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Each exit on tokio's clock only: its wall-clock time is derived
    /// when a snapshot asks, so an exit (a restart's hot path) reads one
    /// clock, not two.
    exits: VecDeque<(ExitReason, u64, Instant)>,
    restarts: RestartWindow,
}

impl History {
    pub(crate) fn record_exit(
        &mut self,
        cap: usize,
        reason: ExitReason,
        incarnation: u64,
        now: Instant,
    ) {
        if cap == 0 {
            return;
        }
        if self.exits.len() == cap {
            self.exits.pop_front();
        }
        self.exits.push_back((reason, incarnation, now));
    }

    /// Records a restart this child caused: counted as the supervisor's
    /// window counts, and never more entries kept than it would keep.
    pub(crate) fn record_restart(&mut self, intensity: &Intensity, now: Instant) {
        self.restarts.add(intensity, now);
    }

    pub(crate) fn restarts_in_window(&self, intensity: &Intensity, now: Instant) -> usize {
        self.restarts.count(intensity, now)
    }

    pub(crate) fn exits(&self) -> Vec<ExitRecord> {
        let (now, wall_now) = (Instant::now(), SystemTime::now());
        self.exits
            .iter()
            .map(|(reason, incarnation, at)| ExitRecord {
                reason: reason.clone(),
                incarnation: *incarnation,
                at: *at,
                wall: wall_now
                    .checked_sub(now.saturating_duration_since(*at))
                    .unwrap_or(wall_now),
            })
            .collect()
    }
}

/// What kind of supervisor a snapshot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorKind {
    /// A static supervisor and its strategy.
    Static(Strategy),
    /// A dynamic supervisor (Elixir's `DynamicSupervisor`).
    Dynamic,
    /// OTP's `simple_one_for_one`.
    SimpleOneForOne,
}

impl fmt::Display for SupervisorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorKind::Static(s) => fmt::Display::fmt(s, f),
            SupervisorKind::Dynamic => f.write_str("dynamic"),
            SupervisorKind::SimpleOneForOne => f.write_str("simple_one_for_one"),
        }
    }
}

/// The state of a child in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildState {
    /// Running.
    Running,
    /// A failed restart is being retried.
    Restarting,
    /// Waiting on its restart backoff, until then.
    BackingOff {
        /// When the restart is due.
        until: Instant,
    },
    /// Not running.
    Stopped,
}

/// A supervisor and everything below it, at one moment.
///
/// # Examples
///
/// ```
/// use supervise::{ChildSpec, Context, Exit, Strategy, Supervisor, Worker};
///
/// struct Idle;
/// impl Worker for Idle {
///     type Message = ();
///     async fn run(self, _ctx: Context) -> Result<(), Exit> {
///         std::future::pending::<()>().await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let payments = Supervisor::builder("payments")
///     .child(ChildSpec::worker("processor", || Idle))
///     .build().unwrap();
/// let app = Supervisor::builder("app")
///     .strategy(Strategy::RestForOne)
///     .child(ChildSpec::worker("db", || Idle))
///     .child(ChildSpec::supervisor("payments", payments))
///     .build().unwrap().start().await.unwrap();
/// let tree = app.snapshot().await.unwrap();
/// assert_eq!(tree.to_string(), "\
/// app (rest_for_one)
/// ├── db
/// └── payments (one_for_one)
///     └── processor
/// ");
/// app.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SupervisorSnapshot {
    /// The supervisor's path.
    pub path: Arc<str>,
    /// Static (with its strategy) or dynamic.
    pub kind: SupervisorKind,
    /// Its restart intensity.
    pub intensity: Intensity,
    /// Restarts counted in its current window.
    pub restarts_in_window: usize,
    /// Its children, in start order.
    pub children: Vec<ChildSnapshot>,
}

/// One child in a snapshot.
#[derive(Debug, Clone)]
pub struct ChildSnapshot {
    /// The child's id (its path's last component).
    pub id: Arc<str>,
    /// The child's path.
    pub path: Arc<str>,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
    /// Running, restarting, backing off, stopped.
    pub state: ChildState,
    /// The number of its latest start (0 if never started).
    pub incarnation: u64,
    /// The restarts it caused within its supervisor's current window.
    pub restarts_in_window: usize,
    /// Its last exits, oldest first.
    pub history: Vec<ExitRecord>,
    /// The snapshot below it, if it is a running supervisor.
    pub supervisor: Option<SupervisorSnapshot>,
}

impl ChildSnapshot {
    /// Its last exit, if any.
    pub fn last_exit(&self) -> Option<&ExitRecord> {
        self.history.last()
    }

    /// True when its last exit was abnormal (a crash).
    pub fn crashed(&self) -> bool {
        self.last_exit().is_some_and(|e| !e.reason.is_normal())
    }

    fn label(&self) -> String {
        match &self.supervisor {
            Some(sup) => format!("{} ({})", self.id, sup.kind),
            None => self.id.to_string(),
        }
    }

    fn state_note(&self) -> Option<&'static str> {
        match self.state {
            ChildState::Running => None,
            ChildState::Restarting => Some("restarting"),
            ChildState::BackingOff { .. } => Some("backing off"),
            ChildState::Stopped => Some("stopped"),
        }
    }
}

impl SupervisorSnapshot {
    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Every child, depth first, with its depth (1 for direct children).
    pub fn walk(&self) -> Vec<(usize, &ChildSnapshot)> {
        let mut out = Vec::new();
        fn go<'a>(
            sup: &'a SupervisorSnapshot,
            depth: usize,
            out: &mut Vec<(usize, &'a ChildSnapshot)>,
        ) {
            for child in &sup.children {
                out.push((depth, child));
                if let Some(nested) = &child.supervisor {
                    go(nested, depth + 1, out);
                }
            }
        }
        go(self, 1, &mut out);
        out
    }

    /// The tree as a Mermaid flowchart; crashed children are marked
    /// `crashed`, restarting or backing-off ones `restarting`, stopped ones
    /// `stopped`.
    ///
    /// Nodes are numbered in the order of a depth-first walk (`n0` is the
    /// supervisor), so any ids give distinct nodes; a label's characters
    /// other than letters, digits and plain punctuation are written as
    /// Mermaid's `#code;` entities, so any id renders as itself.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        let _ = writeln!(
            out,
            "    n0[\"{}\"]",
            MermaidText(&format!("{} ({})", self.name(), self.kind))
        );
        let mut classes: Vec<(usize, &str)> = Vec::new();
        // The node number of each supervisor on the path to the current
        // child, by depth.
        let mut parents = vec![0usize];
        for (n, (depth, child)) in self.walk().into_iter().enumerate() {
            let n = n + 1;
            parents.truncate(depth);
            let _ = writeln!(
                out,
                "    n{} --> n{n}[\"{}\"]",
                parents[depth - 1],
                MermaidText(&child.label())
            );
            parents.push(n);
            if let Some(class) = class_of(child) {
                classes.push((n, class));
            }
        }
        for (n, class) in &classes {
            let _ = writeln!(out, "    class n{n} {class}");
        }
        out.push_str("    classDef crashed fill:#f8d7da,stroke:#c0392b\n");
        out.push_str("    classDef restarting fill:#fff3cd,stroke:#d4a017\n");
        out.push_str("    classDef stopped fill:#e2e3e5,stroke:#6c757d\n");
        out
    }

    /// The tree as a Graphviz DOT digraph, with the same markings as
    /// [`to_mermaid`](Self::to_mermaid) (as fill colours). Nodes are named
    /// by their paths, quoted and escaped, so any id renders as itself.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph supervision_tree {\n    node [shape=box, style=filled, fillcolor=white];\n",
        );
        let _ = writeln!(
            out,
            "    \"{}\" [label=\"{}\"];",
            DotText(&self.path),
            DotText(&format!("{} ({})", self.name(), self.kind))
        );
        for (_, child) in self.walk() {
            let fill = match class_of(child) {
                Some("crashed") => "#f8d7da",
                Some("restarting") => "#fff3cd",
                Some("stopped") => "#e2e3e5",
                _ => "white",
            };
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{}\", fillcolor=\"{fill}\"];",
                DotText(&child.path),
                DotText(&child.label())
            );
            let parent = child.path.rsplit_once('/').map_or("", |(p, _)| p);
            let _ = writeln!(
                out,
                "    \"{}\" -> \"{}\";",
                DotText(parent),
                DotText(&child.path)
            );
        }
        out.push_str("}\n");
        out
    }
}

/// Text inside a quoted Mermaid label: letters, digits, spaces and plain
/// punctuation as they are, anything else (quotes, `#`, `<`, control
/// characters ...) as a `#code;` entity.
struct MermaidText<'a>(&'a str);

impl fmt::Display for MermaidText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_alphanumeric() || " -_./:,()+*=@!?'".contains(c) {
                f.write_char(c)?;
            } else {
                write!(f, "#{};", u32::from(c))?;
            }
        }
        Ok(())
    }
}

/// Text inside a quoted DOT string: `"` and `\` escaped, line breaks as
/// `\n` and `\r` (one to one, so distinct ids stay distinct nodes).
struct DotText<'a>(&'a str);

impl fmt::Display for DotText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

fn class_of(child: &ChildSnapshot) -> Option<&'static str> {
    match child.state {
        ChildState::Restarting | ChildState::BackingOff { .. } => Some("restarting"),
        ChildState::Stopped => Some("stopped"),
        ChildState::Running if child.crashed() => Some("crashed"),
        ChildState::Running => None,
    }
}

impl fmt::Display for SupervisorSnapshot {
    /// Draws the tree as the OTP tutorials do: `├──`, `└──`, the strategy
    /// in parentheses, and a note on any child that is not running. The
    /// alternate form (`{:#}`) adds each child's incarnation, restarts in
    /// the window and last exit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({})", self.name(), self.kind)?;
        draw(self, "", f.alternate(), f)
    }
}

fn draw(
    sup: &SupervisorSnapshot,
    prefix: &str,
    detail: bool,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let count = sup.children.len();
    for (i, child) in sup.children.iter().enumerate() {
        let last = i + 1 == count;
        write!(
            f,
            "{prefix}{}{}",
            if last { "└── " } else { "├── " },
            child.label()
        )?;
        if let Some(note) = child.state_note() {
            write!(f, " [{note}]")?;
        }
        if detail {
            write!(f, " #{}", child.incarnation)?;
            match child.restarts_in_window {
                0 => {}
                1 => write!(f, ", 1 restart")?,
                n => write!(f, ", {n} restarts")?,
            }
            if let Some(exit) = child.last_exit() {
                write!(f, ", last exit: {}", exit.reason)?;
            }
        }
        writeln!(f)?;
        if let Some(nested) = &child.supervisor {
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            draw(nested, &deeper, detail, f)?;
        }
    }
    Ok(())
}
