//! The rules, synchronously. A supervisor is a value that owns its
//! children; an event is delivered down the tree to the supervisor it
//! concerns, and a supervisor that exits is handled by its parent as that
//! child's exit, all the way up.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use super::{Auto, Case, ChildDef, Crash, Ev, InitStep, Kind, Restart, Shutdown, StopExit};
use super::{DynDef, Strategy, SupDef};

/// An exit reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reason {
    Normal,
    Shutdown,
    ShutdownX,
    Killed,
    Error(&'static str),
    Panic(&'static str),
    FailedToStart(String, Box<Reason>),
}

impl Reason {
    /// S10.5: `normal`, `shutdown` and `{shutdown,_}`; `killed` is not.
    fn is_normal(&self) -> bool {
        matches!(self, Reason::Normal | Reason::Shutdown | Reason::ShutdownX)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Normal => f.write_str("normal"),
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::ShutdownX => f.write_str("{shutdown,x}"),
            Reason::Killed => f.write_str("killed"),
            Reason::Error(m) => f.write_str(m),
            Reason::Panic(m) => write!(f, "{{panic,{m}}}"),
            Reason::FailedToStart(id, r) => {
                write!(f, "{{shutdown,{{failed_to_start_child,{id},{r}}}}}")
            }
        }
    }
}

impl Crash {
    fn reason(self) -> Reason {
        match self {
            Crash::Normal => Reason::Normal,
            Crash::Shutdown => Reason::Shutdown,
            Crash::ShutdownX => Reason::ShutdownX,
            Crash::Error => Reason::Error("crashed"),
            Crash::Panic => Reason::Panic("crashed"),
            Crash::Kill => Reason::Killed,
        }
    }
}

impl StopExit {
    fn reason(self) -> Reason {
        match self {
            StopExit::Normal => Reason::Normal,
            StopExit::Shutdown => Reason::Shutdown,
            StopExit::ShutdownX => Reason::ShutdownX,
            StopExit::Error => Reason::Error("stop_failed"),
        }
    }
}

#[derive(Debug)]
enum State {
    /// Incarnation `inc`; a supervisor child's own state with it.
    Running { inc: u64, sup: Option<Box<Sup>> },
    /// A failed restart waits for its retry (OTP's `{restarting,_}`).
    Restarting,
    /// Not running (OTP's `undefined`).
    Stopped,
}

#[derive(Debug)]
struct Child {
    id: String,
    path: String,
    def: ChildDef,
    state: State,
    /// The order of its last start among its dynamic siblings.
    serial: u64,
}

impl Child {
    fn new(parent: &str, def: &ChildDef) -> Child {
        Child {
            id: def.id.clone(),
            path: format!("{parent}/{}", def.id),
            def: def.clone(),
            state: State::Stopped,
            serial: 0,
        }
    }

    fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    fn label(&self) -> Option<String> {
        match &self.state {
            State::Running { inc, .. } => Some(format!("{}#{inc}", self.path)),
            _ => None,
        }
    }

    fn is_supervisor(&self) -> bool {
        !matches!(self.def.kind, Kind::Worker { .. })
    }
}

#[derive(Debug)]
enum Flavour {
    Static {
        strategy: Strategy,
        auto: Auto,
    },
    /// Elixir's DynamicSupervisor.
    Dynamic {
        max_children: Option<usize>,
    },
}

/// A running supervisor.
#[derive(Debug)]
struct Sup {
    path: String,
    /// `path#N`.
    label: String,
    flavour: Flavour,
    max_restarts: u32,
    period: u64,
    /// The times of the restarts still in the window.
    restarts: Vec<u64>,
    /// In start order (OTP keeps them newest first; S9).
    children: Vec<Child>,
    /// Failed restarts to try again, by path, in the order queued (S17.2).
    retries: VecDeque<String>,
}

impl Sup {
    fn new(path: &str, inc: u64, flavour: Flavour, max_restarts: u32, period: u64) -> Sup {
        Sup {
            path: path.to_string(),
            label: format!("{path}#{inc}"),
            flavour,
            max_restarts,
            period,
            restarts: Vec::new(),
            children: Vec::new(),
            retries: VecDeque::new(),
        }
    }

    fn is_dynamic(&self) -> bool {
        matches!(self.flavour, Flavour::Dynamic { .. })
    }

    /// The child with id `id`; of a dynamic supervisor's children that
    /// share it, the one started last (the latest registered pid the
    /// oracle reaches by path).
    fn find(&self, id: &str) -> Option<usize> {
        if self.is_dynamic() {
            return (0..self.children.len())
                .filter(|&i| self.children[i].id == id)
                .max_by_key(|&i| self.children[i].serial);
        }
        self.children.iter().position(|c| c.id == id)
    }
}

/// The result of one start attempt.
enum Started {
    Yes,
    Ignored,
    Failed(Reason),
}

/// What the trace is written into, and the counters.
struct Out {
    now: u64,
    lines: Vec<(u64, String)>,
    /// Start attempts per path (the `N` of `P#N`).
    attempts: HashMap<String, u64>,
    serial: u64,
    /// A `start_child` gave a new spec to a path started before (see
    /// [`Trace::readds_a_path`]).
    readds_a_path: bool,
}

impl Out {
    fn emit(&mut self, line: String) {
        self.lines.push((self.now, line));
    }

    // ----- starting (S2-S5) -----

    /// One start attempt of `child`: its lines, and its state.
    fn start(&mut self, child: &mut Child) -> Started {
        let n = {
            let a = self.attempts.entry(child.path.clone()).or_insert(0);
            *a += 1;
            *a
        };
        self.serial += 1;
        child.serial = self.serial;
        let label = format!("{}#{n}", child.path);
        child.state = State::Stopped;
        let sup = match &child.def.kind {
            Kind::Worker { init, .. } => {
                let step = init[(n as usize).min(init.len()) - 1];
                let failed = match step {
                    InitStep::Ok => None,
                    InitStep::Ignore => {
                        // S4.2: ignore is not an error.
                        self.emit(format!("start_ignored {label}"));
                        return Started::Ignored;
                    }
                    InitStep::Error => Some(Reason::Error("init_failed")),
                    InitStep::Panic => Some(Reason::Panic("init_panic")),
                };
                if let Some(reason) = failed {
                    self.emit(format!("start_failed {label} {reason}"));
                    return Started::Failed(reason);
                }
                None
            }
            Kind::Sup(def) => match self.start_static(&child.path, n, def) {
                Ok(sup) => Some(Box::new(sup)),
                Err(reason) => {
                    self.emit(format!("start_failed {label} {reason}"));
                    return Started::Failed(reason);
                }
            },
            // A dynamic supervisor starts with no children (S1.5).
            Kind::Dyn(DynDef {
                max_restarts,
                period,
                max_children,
            }) => {
                let flavour = Flavour::Dynamic {
                    max_children: *max_children,
                };
                Some(Box::new(Sup::new(
                    &child.path,
                    n,
                    flavour,
                    *max_restarts,
                    *period,
                )))
            }
        };
        // A supervisor's `started` follows its children's lines.
        self.emit(format!("started {label}"));
        child.state = State::Running { inc: n, sup };
        Started::Yes
    }

    /// Starts a static supervisor's children in order (S2). A temporary
    /// child that ignores is dropped, another one is kept not running
    /// (S5.1). The first failure stops the ones started, in reverse,
    /// and fails the supervisor (S3).
    fn start_static(&mut self, path: &str, inc: u64, def: &SupDef) -> Result<Sup, Reason> {
        let flavour = Flavour::Static {
            strategy: def.strategy,
            auto: def.auto,
        };
        let mut sup = Sup::new(path, inc, flavour, def.max_restarts, def.period);
        sup.children = def.children.iter().map(|c| Child::new(path, c)).collect();
        let mut i = 0;
        while i < sup.children.len() {
            match self.start(&mut sup.children[i]) {
                Started::Yes => i += 1,
                Started::Ignored if sup.children[i].def.restart == Restart::Temporary => {
                    sup.children.remove(i);
                }
                Started::Ignored => i += 1,
                Started::Failed(reason) => {
                    let child = &sup.children[i];
                    self.emit(format!("start_error {path} {} {reason}", child.path));
                    let id = child.id.clone();
                    for c in sup.children[..i].iter_mut().rev() {
                        self.shut_down(path, c);
                    }
                    return Err(Reason::FailedToStart(id, Box::new(reason)));
                }
            }
        }
        Ok(sup)
    }

    // ----- stopping (S18-S21) -----

    /// Stops a running child by its policy and reports an unexpected
    /// exit reason (S18, S19). Leaves it not running.
    fn shut_down(&mut self, sup_path: &str, child: &mut Child) {
        self.shut_down_by(sup_path, child, expected_at_shutdown);
    }

    /// [`shut_down`](Self::shut_down), judging the exit reason by
    /// `expected`.
    fn shut_down_by(
        &mut self,
        sup_path: &str,
        child: &mut Child,
        expected: fn(&ChildDef, &Reason) -> bool,
    ) {
        if !child.is_running() {
            return;
        }
        let label = child.label().expect("running");
        let State::Running { sup, .. } = std::mem::replace(&mut child.state, State::Stopped) else {
            unreachable!()
        };
        let reason = match sup {
            // S20.1: a supervisor child stops its own subtree first.
            Some(mut sup) => {
                self.stop(&mut sup, Reason::Shutdown);
                Reason::Shutdown
            }
            None => {
                let reason = stop_reason(&child.def);
                self.emit(format!("exit {label} {reason}"));
                reason
            }
        };
        if !expected(&child.def, &reason) {
            self.emit(format!("shutdown_error {sup_path} {} {reason}", child.path));
        }
    }

    /// A supervisor exits with `reason`: its children first, then its
    /// own exit line (S16.3, S20, S21, S22.3).
    fn stop(&mut self, sup: &mut Sup, reason: Reason) {
        if sup.is_dynamic() {
            // S21, S30.8: every child is told at once; the exits come in
            // no defined order (the comparison sorts them); the reports
            // follow.
            let mut running: Vec<&mut Child> =
                sup.children.iter_mut().filter(|c| c.is_running()).collect();
            running.sort_by_key(|c| c.serial);
            let mut errors = Vec::new();
            for c in running {
                let label = c.label().expect("running");
                let r = stop_reason(&c.def);
                self.emit(format!("exit {label} {r}"));
                if !expected_at_elixir_shutdown(&c.def, &r) {
                    errors.push(format!("shutdown_error {} {} {r}", sup.path, c.path));
                }
                c.state = State::Stopped;
            }
            for e in errors {
                self.emit(e);
            }
        } else {
            // S20.1: one at a time, in reverse start order.
            let path = sup.path.clone();
            for c in sup.children.iter_mut().rev() {
                self.shut_down(&path, c);
            }
        }
        self.emit(format!("exit {} {reason}", sup.label));
    }

    /// A supervisor is killed (S29.3): its children get its `killed`
    /// exit, as linked processes do, all at that instant and in no
    /// defined order (the instant is compared as a multiset). A worker
    /// that does not trap exits, or whose policy is `brutal_kill`, dies
    /// `killed`; one that traps exits stops as it would for its
    /// supervisor; a nested supervisor stops its own children, then
    /// exits `killed`.
    fn kill(&mut self, sup: &mut Sup) {
        for c in &mut sup.children {
            let Some(label) = c.label() else {
                continue;
            };
            match std::mem::replace(&mut c.state, State::Stopped) {
                State::Running {
                    sup: Some(mut sub), ..
                } => self.stop(&mut sub, Reason::Killed),
                _ => {
                    let reason = orphan_reason(&c.def);
                    self.emit(format!("exit {label} {reason}"));
                }
            }
        }
        self.emit(format!("exit {} killed", sup.label));
    }

    // ----- exits and restarts (S10-S17, S22) -----

    /// The child at `idx` has exited with `reason` (its exit line is
    /// out, its state is `Stopped`). Returns the reason the supervisor
    /// must now exit with, if it must.
    fn child_exited(&mut self, sup: &mut Sup, idx: usize, reason: Reason) -> Option<Reason> {
        let child = &sup.children[idx];
        let (restart, significant) = (child.def.restart, child.def.significant);
        // S10.2-4: permanent exits and abnormal ones are reported.
        if restart == Restart::Permanent || !reason.is_normal() {
            self.emit(format!(
                "child_terminated {} {} {reason}",
                sup.path, child.path
            ));
        }
        let restarted = match restart {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_normal(),
            Restart::Temporary => false,
        };
        if restarted {
            return self.restart(sup, idx);
        }
        // S10.4: a temporary child is forgotten; S30: a dynamic
        // supervisor forgets every child it does not restart.
        if restart == Restart::Temporary || sup.is_dynamic() {
            sup.children.remove(idx);
        }
        // S14, S22: no sibling is touched; only auto_shutdown is checked.
        auto_shutdown(sup, significant)
    }

    /// S15-S17: counts the restart, gives up past the intensity,
    /// otherwise restarts by strategy.
    fn restart(&mut self, sup: &mut Sup, idx: usize) -> Option<Reason> {
        let now = self.now;
        // Exact sliding window, inclusive at its edge.
        sup.restarts.retain(|&t| now - t <= sup.period);
        sup.restarts.push(now);
        let child_path = sup.children[idx].path.clone();
        if sup.restarts.len() > sup.max_restarts as usize {
            // S16: not restarted; the supervisor exits `shutdown`.
            self.emit(format!("gave_up {} {child_path}", sup.path));
            return Some(Reason::Shutdown);
        }
        self.emit(format!("restarting {} {child_path}", sup.path));
        match sup.flavour {
            Flavour::Dynamic { .. } => match self.start(&mut sup.children[idx]) {
                Started::Yes => {}
                // S30.5: a restart that ignores drops the child.
                Started::Ignored => {
                    sup.children.remove(idx);
                }
                Started::Failed(reason) => self.retry_later(sup, idx, &reason),
            },
            Flavour::Static {
                strategy: Strategy::OneForOne,
                ..
            } => match self.start(&mut sup.children[idx]) {
                // S5.4: an ignored restart leaves it not running.
                Started::Yes | Started::Ignored => {}
                Started::Failed(reason) => self.retry_later(sup, idx, &reason),
            },
            Flavour::Static {
                strategy: Strategy::OneForAll,
                ..
            } => self.restart_group(sup, 0),
            Flavour::Static {
                strategy: Strategy::RestForOne,
                ..
            } => self.restart_group(sup, idx),
        }
        None
    }

    /// S12, S13: stop the children from `from` on in reverse order
    /// (temporary ones are dropped), then start them in order. S17.4: a
    /// failure leaves the ones started running and is retried.
    fn restart_group(&mut self, sup: &mut Sup, from: usize) {
        let path = sup.path.clone();
        for j in (from..sup.children.len()).rev() {
            self.shut_down(&path, &mut sup.children[j]);
            if sup.children[j].def.restart == Restart::Temporary {
                sup.children.remove(j);
            }
        }
        let mut j = from;
        while j < sup.children.len() {
            match self.start(&mut sup.children[j]) {
                Started::Yes | Started::Ignored => j += 1,
                Started::Failed(reason) => {
                    self.retry_later(sup, j, &reason);
                    return;
                }
            }
        }
    }

    /// S17.1: report, mark restarting, queue a retry.
    fn retry_later(&mut self, sup: &mut Sup, idx: usize, reason: &Reason) {
        let child = &mut sup.children[idx];
        self.emit(format!("start_error {} {} {reason}", sup.path, child.path));
        child.state = State::Restarting;
        sup.retries.push_back(child.path.clone());
    }

    /// S17.1-2: the queued retries, each one counted as a restart.
    fn run_retries(&mut self, sup: &mut Sup) -> Option<Reason> {
        while let Some(path) = sup.retries.pop_front() {
            let found = sup
                .children
                .iter()
                .position(|c| c.path == path && matches!(c.state, State::Restarting));
            if let Some(idx) = found {
                if let Some(reason) = self.restart(sup, idx) {
                    return Some(reason);
                }
            }
        }
        None
    }

    /// Runs `f` in the supervisor at `rel` below `sup` (ids of running
    /// supervisor children), then that supervisor's retries; a
    /// supervisor that must exit does, and its parent handles the exit,
    /// and so on up to `sup`. Returns `sup`'s exit reason if it exited.
    fn deliver(
        &mut self,
        sup: &mut Sup,
        rel: &[&str],
        f: &mut dyn FnMut(&mut Out, &mut Sup) -> Option<Reason>,
    ) -> Option<Reason> {
        let exit = match rel.split_first() {
            None => f(self, sup),
            Some((id, rest)) => {
                let idx = sup.find(id).expect("a reachable supervisor");
                let State::Running { sup: Some(sub), .. } = &mut sup.children[idx].state else {
                    unreachable!("a running supervisor child")
                };
                match self.deliver(sub, rest, f) {
                    None => None,
                    Some(reason) => {
                        sup.children[idx].state = State::Stopped;
                        self.child_exited(sup, idx, reason)
                    }
                }
            }
        };
        let exit = exit.or_else(|| self.run_retries(sup));
        if let Some(reason) = &exit {
            self.stop(sup, reason.clone());
        }
        exit
    }
}

/// The reason a worker exits with when its supervisor stops it.
fn stop_reason(def: &ChildDef) -> Reason {
    match (&def.kind, def.shutdown) {
        (_, Shutdown::BrutalKill) => Reason::Killed,
        (Kind::Worker { trap: Some(t), .. }, _) => t.reason(),
        _ => Reason::Shutdown,
    }
}

/// The reason a worker exits with when its supervisor is killed.
fn orphan_reason(def: &ChildDef) -> Reason {
    match (&def.kind, def.shutdown) {
        (Kind::Worker { trap: Some(t), .. }, Shutdown::Timeout | Shutdown::Infinity) => t.reason(),
        _ => Reason::Killed,
    }
}

/// S19: the reasons that are not a shutdown error.
fn expected_at_shutdown(def: &ChildDef, reason: &Reason) -> bool {
    let lenient = def.restart != Restart::Permanent && reason.is_normal();
    match def.shutdown {
        Shutdown::BrutalKill => *reason == Reason::Killed || lenient,
        Shutdown::Timeout | Shutdown::Infinity => *reason == Reason::Shutdown || lenient,
    }
}

/// S19 as Elixir 1.14's DynamicSupervisor has it (`wait_child`): under
/// `brutal_kill` only `killed`; otherwise `shutdown` and `{shutdown,_}`
/// from every child, and `normal` from one that is not permanent.
fn expected_at_elixir_shutdown(def: &ChildDef, reason: &Reason) -> bool {
    match def.shutdown {
        Shutdown::BrutalKill => *reason == Reason::Killed,
        Shutdown::Timeout | Shutdown::Infinity => match reason {
            Reason::Shutdown | Reason::ShutdownX => true,
            Reason::Normal => def.restart != Restart::Permanent,
            _ => false,
        },
    }
}

/// S22: a significant child exited and will not be restarted.
fn auto_shutdown(sup: &Sup, significant: bool) -> Option<Reason> {
    let Flavour::Static { auto, .. } = sup.flavour else {
        return None;
    };
    if !significant {
        return None;
    }
    match auto {
        Auto::Never => None,
        Auto::Any => Some(Reason::Shutdown),
        Auto::All => {
            let left = sup
                .children
                .iter()
                .any(|c| c.def.significant && c.is_running());
            (!left).then_some(Reason::Shutdown)
        }
    }
}

/// The model's run of a case.
#[derive(Debug)]
pub(super) struct Trace {
    pub(super) lines: Vec<(u64, String)>,
    /// True when a `start_child` gave a new spec to a path that had
    /// been started before (after `delete_child`, the exit of a
    /// temporary child, a failed `start_child`, or a restart of its
    /// supervisor). The model goes on counting that path's starts, as
    /// the conformance traces do; the runtime counts from 1 again (see
    /// `regression_start_child_of_a_used_path_restarts_the_count`).
    pub(super) readds_a_path: bool,
}

/// The model's run of a case: its trace.
pub(super) fn run(case: &Case) -> Trace {
    let mut out = Out {
        now: 0,
        lines: Vec::new(),
        attempts: HashMap::new(),
        serial: 0,
        readds_a_path: false,
    };
    out.attempts.insert("root".into(), 1);
    let started = match &case.dynamic_root {
        Some(d) => {
            let flavour = Flavour::Dynamic {
                max_children: d.max_children,
            };
            Ok(Sup::new("root", 1, flavour, d.max_restarts, d.period))
        }
        None => out.start_static("root", 1, &case.root),
    };
    let mut root = match started {
        Ok(root) => {
            out.emit("started root#1".into());
            Some(root)
        }
        Err(reason) => {
            out.emit(format!("start_failed root#1 {reason}"));
            None
        }
    };
    for (t, ev) in &case.events {
        out.now = *t;
        root = play(&mut out, root, ev);
    }
    Trace {
        lines: out.lines,
        readds_a_path: out.readds_a_path,
    }
}

/// The supervisor at `path`, if it is running.
fn running_sup<'a>(root: &'a Option<Sup>, path: &str) -> Option<&'a Sup> {
    let mut sup = root.as_ref()?;
    let mut parts = path.split('/');
    if parts.next() != Some("root") {
        return None;
    }
    for id in parts {
        let child = &sup.children[sup.find(id)?];
        match &child.state {
            State::Running { sup: Some(s), .. } => sup = s,
            _ => return None,
        }
    }
    Some(sup)
}

/// The path's components below the root.
fn rel(path: &str) -> Vec<&str> {
    path.split('/').skip(1).collect()
}

/// Runs `f` in the running supervisor at `sup_path`; the root is gone
/// if it exited.
fn in_sup(
    out: &mut Out,
    root: Option<Sup>,
    sup_path: &str,
    f: &mut dyn FnMut(&mut Out, &mut Sup) -> Option<Reason>,
) -> Option<Sup> {
    let mut root = root?;
    match out.deliver(&mut root, &rel(sup_path), f) {
        Some(_) => None,
        None => Some(root),
    }
}

fn play(out: &mut Out, root: Option<Sup>, ev: &Ev) -> Option<Sup> {
    match ev {
        Ev::Stop => {
            out.emit("inject stop root".into());
            match root {
                Some(mut root) => {
                    out.stop(&mut root, Reason::Shutdown);
                    None
                }
                None => {
                    out.emit("inject_note not_running".into());
                    None
                }
            }
        }
        Ev::Crash(path, crash) => {
            out.emit(format!("inject crash {path} {}", crash.name()));
            let reason = crash.reason();
            // A supervisor cannot panic: it is stopped with an error.
            let sup_reason = match crash {
                Crash::Panic => Reason::Error("crashed"),
                _ => reason.clone(),
            };
            if path == "root" {
                let Some(mut root) = root else {
                    out.emit("inject_note not_running".into());
                    return None;
                };
                if *crash == Crash::Kill {
                    out.kill(&mut root);
                } else {
                    out.stop(&mut root, sup_reason);
                }
                return None;
            }
            let parent = super::parent_of(path);
            let id = super::basename(path);
            let running = running_sup(&root, parent)
                .and_then(|s| s.find(id).map(|i| s.children[i].is_running()))
                .unwrap_or(false);
            if !running {
                out.emit("inject_note not_running".into());
                return root;
            }
            in_sup(out, root, parent, &mut |out, sup| {
                let idx = sup.find(id).expect("running");
                let label = sup.children[idx].label().expect("running");
                let state = std::mem::replace(&mut sup.children[idx].state, State::Stopped);
                let reason = match state {
                    State::Running {
                        sup: Some(mut sub), ..
                    } => {
                        if reason == Reason::Killed {
                            out.kill(&mut sub);
                        } else {
                            out.stop(&mut sub, sup_reason.clone());
                        }
                        sup_reason.clone()
                    }
                    _ => {
                        out.emit(format!("exit {label} {reason}"));
                        reason.clone()
                    }
                };
                out.child_exited(sup, idx, reason)
            })
        }
        Ev::WhichChildren(path) | Ev::CountChildren(path) => {
            let op = if matches!(ev, Ev::WhichChildren(_)) {
                "which_children"
            } else {
                "count_children"
            };
            let result = match running_sup(&root, path) {
                None => "{exit,noproc}".to_string(),
                Some(sup) if op == "which_children" => which_children(sup),
                Some(sup) => count_children(sup),
            };
            out.emit(format!("call {op} {path} -> {result}"));
            root
        }
        Ev::GetChildspec(path) => {
            let result = match running_sup(&root, super::parent_of(path)) {
                None => "{exit,noproc}".to_string(),
                Some(sup) => get_childspec(sup, path),
            };
            out.emit(format!("call get_childspec {path} -> {result}"));
            root
        }
        Ev::TerminateChild(path) | Ev::RestartChild(path) | Ev::DeleteChild(path) => {
            let op = match ev {
                Ev::TerminateChild(_) => "terminate_child",
                Ev::RestartChild(_) => "restart_child",
                _ => "delete_child",
            };
            let parent = super::parent_of(path);
            let mut result = "{exit,noproc}".to_string();
            let root = if running_sup(&root, parent).is_some() {
                in_sup(out, root, parent, &mut |out, sup| {
                    result = match op {
                        "terminate_child" => terminate_child(out, sup, path),
                        "restart_child" => restart_child(out, sup, path),
                        _ => delete_child(sup, path),
                    };
                    None
                })
            } else {
                root
            };
            out.emit(format!("call {op} {path} -> {result}"));
            root
        }
        Ev::StartChild(path, def) => {
            let parent = super::parent_of(path);
            let mut result = "{exit,noproc}".to_string();
            let root = if running_sup(&root, parent).is_some() {
                in_sup(out, root, parent, &mut |out, sup| {
                    result = start_child(out, sup, def);
                    None
                })
            } else {
                root
            };
            out.emit(format!("call start_child {path} -> {result}"));
            root
        }
    }
}

// ----- the control API (S23-S27, S30) -----

fn status(c: &Child) -> String {
    match &c.state {
        State::Running { .. } => c.label().expect("running"),
        State::Restarting => "restarting".into(),
        State::Stopped => "undefined".into(),
    }
}

fn kind(c: &Child) -> &'static str {
    if c.is_supervisor() {
        "supervisor"
    } else {
        "worker"
    }
}

/// S27.1: newest first; a dynamic supervisor's children have no id and
/// no defined order (sorted).
fn which_children(sup: &Sup) -> String {
    let mut items: Vec<String> = sup
        .children
        .iter()
        .rev()
        .map(|c| {
            let id = if sup.is_dynamic() { "undefined" } else { &c.id };
            format!("{{{id},{},{}}}", status(c), kind(c))
        })
        .collect();
    if sup.is_dynamic() {
        items.sort();
    }
    format!("[{}]", items.join(","))
}

/// S27.2, S30.7.
fn count_children(sup: &Sup) -> String {
    let active = sup.children.iter().filter(|c| c.is_running()).count();
    let sups = sup.children.iter().filter(|c| c.is_supervisor()).count();
    let specs = sup.children.len();
    format!(
        "[{{specs,{specs}}},{{active,{active}}},{{supervisors,{sups}}},{{workers,{}}}]",
        specs - sups
    )
}

/// S24, S30.6: stop it; a temporary child (any dynamic one) is
/// forgotten, another is kept not running. No restart, no
/// auto_shutdown (S22.5).
fn terminate_child(out: &mut Out, sup: &mut Sup, path: &str) -> String {
    let id = super::basename(path);
    let Some(idx) = sup.find(id) else {
        return "{error,not_found}".into();
    };
    if sup.is_dynamic() && !sup.children[idx].is_running() {
        return "{error,not_found}".into();
    }
    let sup_path = sup.path.clone();
    let expected = if sup.is_dynamic() {
        expected_at_elixir_shutdown
    } else {
        expected_at_shutdown
    };
    out.shut_down_by(&sup_path, &mut sup.children[idx], expected);
    if sup.is_dynamic() || sup.children[idx].def.restart == Restart::Temporary {
        sup.children.remove(idx);
    } else {
        sup.children[idx].state = State::Stopped;
    }
    "ok".into()
}

/// S25: only a child that is not running; a failure changes nothing;
/// not counted toward the intensity.
fn restart_child(out: &mut Out, sup: &mut Sup, path: &str) -> String {
    let Some(idx) = sup.find(super::basename(path)) else {
        return "{error,not_found}".into();
    };
    match sup.children[idx].state {
        State::Running { .. } => return "{error,running}".into(),
        State::Restarting => return "{error,restarting}".into(),
        State::Stopped => {}
    }
    match out.start(&mut sup.children[idx]) {
        Started::Yes => format!("{{ok,{}}}", sup.children[idx].label().expect("running")),
        Started::Ignored => "{ok,undefined}".into(),
        Started::Failed(reason) => format!("{{error,{reason}}}"),
    }
}

/// S27.3: the spec with its defaults (a static supervisor's children
/// only: Elixir's DynamicSupervisor has no ids).
fn get_childspec(sup: &Sup, path: &str) -> String {
    let Some(idx) = sup.find(super::basename(path)) else {
        return "{error,not_found}".into();
    };
    let c = &sup.children[idx];
    format!(
        "{{ok,#{{id=>{},restart=>{},shutdown=>{},significant=>{},type=>{}}}}}",
        c.id,
        c.def.restart.name(),
        c.def.shutdown.name(),
        c.def.significant,
        kind(c)
    )
}

/// S26.
fn delete_child(sup: &mut Sup, path: &str) -> String {
    let Some(idx) = sup.find(super::basename(path)) else {
        return "{error,not_found}".into();
    };
    match sup.children[idx].state {
        State::Running { .. } => "{error,running}".into(),
        State::Restarting => "{error,restarting}".into(),
        State::Stopped => {
            sup.children.remove(idx);
            "ok".into()
        }
    }
}

/// S23 (static: after every other child, S9.2), S30.2-4 (dynamic).
fn start_child(out: &mut Out, sup: &mut Sup, def: &ChildDef) -> String {
    match sup.flavour {
        Flavour::Dynamic { max_children } => {
            if max_children.is_some_and(|m| sup.children.len() >= m) {
                return "{error,max_children}".into();
            }
        }
        Flavour::Static { auto, .. } => {
            // S23.1, S8.4: the spec is checked first.
            if def.significant && auto == Auto::Never {
                return "{error,{bad_combination,[{auto_shutdown,never},{significant,true}]}}"
                    .into();
            }
            if def.significant && def.restart == Restart::Permanent {
                return "{error,{bad_combination,[{restart,permanent},{significant,true}]}}".into();
            }
            if let Some(idx) = sup.find(&def.id) {
                let c = &sup.children[idx];
                return match c.label() {
                    Some(label) => format!("{{error,{{already_started,{label}}}}}"),
                    None => "{error,already_present}".into(),
                };
            }
        }
    }
    let child = Child::new(&sup.path, def);
    // A dynamic supervisor's child is a new child whatever its name:
    // the runtime counts its starts from 1 (a static supervisor keeps
    // counting per id, as OTP's per-path count does).
    out.readds_a_path |= sup.is_dynamic() && out.attempts.contains_key(&child.path);
    sup.children.push(child);
    let idx = sup.children.len() - 1;
    match out.start(&mut sup.children[idx]) {
        Started::Yes => format!("{{ok,{}}}", sup.children[idx].label().expect("running")),
        Started::Ignored => {
            // S5.2, S30.4: kept only if static and not temporary.
            if sup.is_dynamic() || def.restart == Restart::Temporary {
                sup.children.remove(idx);
            }
            // Elixir's DynamicSupervisor answers a bare `ignore` (S30.4).
            if sup.is_dynamic() {
                "ignore".into()
            } else {
                "{ok,undefined}".into()
            }
        }
        Started::Failed(reason) => {
            sup.children.remove(idx);
            format!("{{error,{reason}}}")
        }
    }
}
