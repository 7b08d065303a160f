//! Renders the runtime's values in the trace's OTP-term style.

use supervise::{
    CallError, ChildCounts, ChildInfo, ChildKind, ChildRef, ChildSpecInfo, ChildStatus, Event,
    ExitReason, ParseSpecError, Shutdown, SpecError,
};

pub(crate) fn child(c: &ChildRef) -> String {
    format!("{}#{}", c.path(), c.incarnation())
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
        Event::Started { child: c } => format!("started {}", child(c)),
        Event::StartFailed {
            path,
            incarnation,
            reason: r,
        } => format!("start_failed {path}#{incarnation} {}", reason(r)),
        Event::StartIgnored { path, incarnation } => format!("start_ignored {path}#{incarnation}"),
        Event::Exited {
            path,
            incarnation,
            reason: r,
        } => format!("exit {path}#{incarnation} {}", reason(r)),
        Event::ChildTerminated {
            supervisor,
            child,
            reason: r,
        } => format!("report {supervisor} child_terminated {child} {}", reason(r)),
        Event::StartError {
            supervisor,
            child,
            reason: r,
        } => format!("report {supervisor} start_error {child} {}", reason(r)),
        Event::GaveUp { supervisor, child } => {
            format!("report {supervisor} shutdown {child} reached_max_restart_intensity")
        }
        Event::ShutdownError {
            supervisor,
            child,
            reason: r,
            children,
        } => {
            let offender = match children {
                Some(n) => format!("{child}*{n}"),
                None => child.to_string(),
            };
            format!(
                "report {supervisor} shutdown_error {offender} {}",
                reason(r)
            )
        }
        _ => return None,
    })
}
