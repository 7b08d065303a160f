//! Renders the runtime's values in the trace's OTP-term style.

use std::cell::RefCell;
use std::collections::HashMap;

use supervise::{
    CallError, ChildCounts, ChildInfo, ChildKind, ChildRef, ChildSpecInfo, ChildStatus, Event,
    ExitReason, ParseSpecError, Shutdown, SpecError,
};

/// The trace's numbering of start attempts.
#[derive(Default)]
struct Numbers {
    /// Per path, the last attempt number given.
    per_path: HashMap<String, u64>,
    /// Per `(path, runtime number)`, the trace's number.
    numbers: HashMap<(String, u64), u64>,
    /// Per `(path, runtime number)`, the attempt number a scripted worker
    /// took when it was made (see [`attempt`]), until its start is
    /// reported.
    taken: HashMap<(String, u64), u64>,
}

thread_local! {
    /// The trace's number of each incarnation, `(path, runtime number)`:
    /// `tests/conformance/FORMAT.md` counts start attempts per path, where
    /// the runtime counts them per child (a dynamic child started again
    /// under a name used before is a new child, numbered from 1).
    static NUMBERS: RefCell<Numbers> = RefCell::new(Numbers::default());
}

thread_local! {
    /// The scenario's path of each runtime path that differs from it: a
    /// child declared `id=x` at `root/a` runs as `root/x`, and the oracle
    /// names it by its scenario path.
    static ALIASES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Forgets the numbers and aliases of the previous scenario.
pub(crate) fn reset_numbers() {
    NUMBERS.with(|n| *n.borrow_mut() = Numbers::default());
    ALIASES.with(|a| a.borrow_mut().clear());
}

/// The runtime path `runtime` stands for the scenario's path `scenario`.
pub(crate) fn alias(runtime: String, scenario: String) {
    ALIASES.with(|a| a.borrow_mut().insert(runtime, scenario));
}

/// The scenario's path of a runtime path (itself, unless it or one of its
/// ancestors was declared with another id).
pub(crate) fn scenario_path(runtime: &str) -> String {
    ALIASES.with(|a| {
        let aliases = a.borrow();
        if aliases.is_empty() {
            return runtime.to_string();
        }
        fn go(aliases: &HashMap<String, String>, p: &str) -> String {
            if let Some(s) = aliases.get(p) {
                return s.clone();
            }
            match p.rfind('/') {
                Some(i) => format!("{}/{}", go(aliases, &p[..i]), &p[i + 1..]),
                None => p.to_string(),
            }
        }
        go(&aliases, runtime)
    })
}

/// A new start attempt of the scenario's `path`, as the oracle counts one
/// when its start function is called: its number, counted over every child
/// ever started under that path (the `N` of `P#N`).
pub(crate) fn attempt(path: &str) -> u64 {
    NUMBERS.with(|n| {
        let mut n = n.borrow_mut();
        let next = n.per_path.entry(path.to_string()).or_default();
        *next += 1;
        *next
    })
}

/// The runtime's incarnation `incarnation` of `path` is the attempt
/// numbered `number` (taken with [`attempt`] when the worker was made):
/// its start line will carry that number.
pub(crate) fn bind(path: &str, incarnation: u64, number: u64) {
    NUMBERS.with(|n| {
        n.borrow_mut()
            .taken
            .insert((path.to_string(), incarnation), number)
    });
}

/// The start of `path`'s runtime incarnation `incarnation` is reported:
/// the number its attempt took, or else the path's next number.
fn started(path: &str, incarnation: u64) -> u64 {
    let key = (path.to_string(), incarnation);
    let number = NUMBERS.with(|n| n.borrow_mut().taken.remove(&key));
    let number = number.unwrap_or_else(|| attempt(path));
    NUMBERS.with(|n| n.borrow_mut().numbers.insert(key, number));
    number
}

/// The trace's number of an incarnation already started.
fn number(path: &str, incarnation: u64) -> u64 {
    NUMBERS.with(|n| {
        n.borrow()
            .numbers
            .get(&(path.to_string(), incarnation))
            .copied()
            .unwrap_or(incarnation)
    })
}

pub(crate) fn child(c: &ChildRef) -> String {
    let path = scenario_path(c.path());
    let n = number(&path, c.incarnation());
    format!("{path}#{n}")
}

pub(crate) fn reason(r: &ExitReason) -> String {
    match r {
        ExitReason::FailedToStartChild { id, reason: inner } => {
            format!(
                "{{shutdown,{{failed_to_start_child,{id},{}}}}}",
                reason(inner)
            )
        }
        ExitReason::Panic(p) => format!("{{panic,{}}}", p.message),
        // normal, shutdown, {shutdown,tuple}, killed, and the scripted
        // workers' errors (`abnormal`, `init_failed`) print as OTP's terms.
        other => other.to_string(),
    }
}

/// OTP's name for the error of a rejected value, by key.
pub(crate) fn parse_error(e: &ParseSpecError) -> String {
    let tag = match e.key {
        "restart" => "invalid_restart_type",
        "shutdown" => "invalid_shutdown",
        "significant" => "invalid_significant",
        "type" => "invalid_child_type",
        "strategy" => "invalid_strategy",
        "max_restarts" => "invalid_intensity",
        "max_seconds" => "invalid_period",
        "auto_shutdown" => "invalid_auto_shutdown",
        other => other,
    };
    format!("{{{tag},{}}}", e.value)
}

pub(crate) fn spec_error(e: &SpecError) -> String {
    match e {
        SpecError::ZeroPeriod => "{invalid_period,0}".into(),
        SpecError::DuplicateChildId { id } => format!("{{duplicate_child_name,{id}}}"),
        SpecError::SignificantPermanent { .. } => {
            "{bad_combination,[{restart,permanent},{significant,true}]}".into()
        }
        SpecError::SignificantWithoutAutoShutdown { .. } => {
            "{bad_combination,[{auto_shutdown,never},{significant,true}]}".into()
        }
        SpecError::InvalidShutdown { millis, .. } => format!("{{invalid_shutdown,{millis}}}"),
        other => format!("{{unexpected_spec_error,{other}}}"),
    }
}

pub(crate) fn call_error(e: &CallError) -> String {
    match e {
        CallError::NotFound => "{error,not_found}".into(),
        CallError::Running => "{error,running}".into(),
        CallError::Restarting => "{error,restarting}".into(),
        CallError::AlreadyStarted(c) => format!("{{error,{{already_started,{}}}}}", child(c)),
        CallError::AlreadyPresent => "{error,already_present}".into(),
        CallError::InvalidSpec(s) => format!("{{error,{}}}", spec_error(s)),
        CallError::StartFailed(r) => format!("{{error,{}}}", reason(r)),
        CallError::SimpleOneForOne => "{error,simple_one_for_one}".into(),
        CallError::MaxChildren => "{error,max_children}".into(),
        CallError::Stopped => "{exit,noproc}".into(),
        CallError::Exited(r) => format!("{{exit,{}}}", reason(r)),
        other => format!("{{error,{other}}}"),
    }
}

pub(crate) fn ok_child(c: &Option<ChildRef>) -> String {
    match c {
        Some(c) => format!("{{ok,{}}}", child(c)),
        None => "{ok,undefined}".into(),
    }
}

fn kind(k: ChildKind) -> &'static str {
    match k {
        ChildKind::Worker => "worker",
        ChildKind::Supervisor => "supervisor",
    }
}

pub(crate) fn which_children(list: &[ChildInfo]) -> String {
    let mut items: Vec<String> = list
        .iter()
        .map(|c| {
            let status = match &c.status {
                ChildStatus::Running(r) => child(r),
                ChildStatus::Restarting => "restarting".into(),
                ChildStatus::Undefined => "undefined".into(),
            };
            let id = c.id.as_deref().unwrap_or("undefined");
            format!("{{{id},{status},{}}}", kind(c.kind))
        })
        .collect();
    if list.first().is_some_and(|c| c.id.is_none()) {
        items.sort();
    }
    format!("[{}]", items.join(","))
}

pub(crate) fn count_children(c: &ChildCounts) -> String {
    format!(
        "[{{specs,{}}},{{active,{}}},{{supervisors,{}}},{{workers,{}}}]",
        c.specs, c.active, c.supervisors, c.workers
    )
}

pub(crate) fn childspec(s: &ChildSpecInfo) -> String {
    let shutdown = match s.shutdown {
        Shutdown::Timeout(d) => d.as_millis().to_string(),
        other => other.to_string(),
    };
    format!(
        "{{ok,#{{id=>{},restart=>{},shutdown=>{shutdown},significant=>{},type=>{}}}}}",
        s.id,
        s.restart,
        s.significant,
        kind(s.kind)
    )
}

/// The trace line of an event, if the trace has one.
pub(crate) fn event(e: &Event) -> Option<String> {
    Some(match e {
        Event::Started { child: c } => {
            let path = scenario_path(c.path());
            let n = started(&path, c.incarnation());
            format!("started {path}#{n}")
        }
        Event::StartFailed {
            path,
            incarnation,
            reason: r,
        } => {
            let path = scenario_path(path);
            let n = started(&path, *incarnation);
            format!("start_failed {path}#{n} {}", reason(r))
        }
        Event::StartIgnored { path, incarnation } => {
            let path = scenario_path(path);
            let n = started(&path, *incarnation);
            format!("start_ignored {path}#{n}")
        }
        Event::Exited {
            path,
            incarnation,
            reason: r,
        } => {
            let path = scenario_path(path);
            let n = number(&path, *incarnation);
            format!("exit {path}#{n} {}", reason(r))
        }
        Event::ChildTerminated {
            supervisor,
            child,
            reason: r,
        } => format!(
            "report {} child_terminated {} {}",
            scenario_path(supervisor),
            scenario_path(child),
            reason(r)
        ),
        Event::StartError {
            supervisor,
            child,
            reason: r,
        } => format!(
            "report {} start_error {} {}",
            scenario_path(supervisor),
            scenario_path(child),
            reason(r)
        ),
        Event::GaveUp { supervisor, child } => format!(
            "report {} shutdown {} reached_max_restart_intensity",
            scenario_path(supervisor),
            scenario_path(child)
        ),
        Event::ShutdownError {
            supervisor,
            child,
            reason: r,
            children,
        } => {
            let child = scenario_path(child);
            let offender = match children {
                Some(n) => format!("{child}*{n}"),
                None => child,
            };
            format!(
                "report {} shutdown_error {offender} {}",
                scenario_path(supervisor),
                reason(r)
            )
        }
        _ => return None,
    })
}
