//! Builds the case's tree with the builder API, plays its timeline on
//! tokio's paused clock and records the trace from the event stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    AutoShutdown, CallError, ChildRef, ChildSpec, Context, DynamicSupervisorSpec, Event,
    EventStream, Exit, ExitReason, Init, SpecError, SupervisorHandle, SupervisorSpec, Worker,
    WorkerHandle,
};
use tokio::time::Instant;

use super::{
    basename, parent_of, Auto, Case, ChildDef, Crash, DynDef, Ev, InitStep, Kind, NodeKind,
    Restart, Shutdown, StopExit, Strategy, SupDef,
};

/// A worker that starts as its script says and exits when told.
struct Scripted {
    init: Arc<[InitStep]>,
    trap: Option<StopExit>,
}

impl Worker for Scripted {
    type Message = Crash;

    fn handles_shutdown(&self) -> bool {
        self.trap.is_some()
    }

    async fn init(&mut self, ctx: &mut Context<Crash>) -> Result<Init, Exit> {
        // Instantaneous: no await, so that nothing else runs meanwhile.
        let n = ctx.incarnation() as usize;
        match self.init[n.min(self.init.len()) - 1] {
            InitStep::Ok => Ok(Init::Ready),
            InitStep::Ignore => Ok(Init::Ignore),
            InitStep::Error => Err(Exit::from("init_failed")),
            InitStep::Panic => panic!("init_panic"),
        }
    }

    async fn run(self, mut ctx: Context<Crash>) -> Result<(), Exit> {
        let signal = ctx.shutdown_signal();
        let command = async {
            match ctx.recv().await {
                Some(crash) => crash,
                // The mailbox closes when the child is forgotten, which
                // may come before it is stopped: keep waiting.
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            crash = command => match crash {
                Crash::Normal => Ok(()),
                Crash::Shutdown => Err(Exit::shutdown()),
                Crash::ShutdownX => Err(Exit::shutdown_with("x")),
                Crash::Error => Err(Exit::from("crashed")),
                Crash::Panic => panic!("crashed"),
                Crash::Kill => unreachable!("kills go through ChildRef::kill"),
            },
            _ = signal.requested(), if self.trap.is_some() => match self.trap {
                Some(StopExit::Normal) => Ok(()),
                Some(StopExit::Shutdown) | None => Err(Exit::shutdown()),
                Some(StopExit::ShutdownX) => Err(Exit::shutdown_with("x")),
                Some(StopExit::Error) => Err(Exit::from("stop_failed")),
            },
        }
    }
}

struct Shared {
    t0: Instant,
    rec: Mutex<Recorder>,
    /// The handle of the worker spec last given for each path.
    /// Every handle made for a path: a path can be served by a spec's
    /// child and by one added with `start_child` (after a restart of
    /// its supervisor, the spec's child serves it again).
    handles: Mutex<HashMap<String, Vec<WorkerHandle<Scripted>>>>,
    nodes: HashMap<String, NodeKind>,
}

struct Recorder {
    stream: Option<EventStream>,
    lines: Vec<(u64, String)>,
    /// The latest incarnation reported started, by path.
    current: HashMap<String, ChildRef>,
    root: Option<SupervisorHandle>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.rec.lock().unwrap()
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.t0).as_millis() as u64
    }

    /// Moves the events emitted so far into the trace.
    fn sync(&self) {
        let mut rec = self.lock();
        let rec = &mut *rec;
        let Some(stream) = rec.stream.as_mut() else {
            return;
        };
        while let Some((at, event)) = stream.try_recv_timed() {
            if let Event::Started { child } = &event {
                rec.current.insert(child.path().to_string(), child.clone());
            }
            rec.lines.push((self.ms(at), render_event(&event)));
        }
    }

    /// Appends a line of the driver's own, after the events before it.
    fn line(&self, line: String) {
        self.sync();
        let now = self.ms(Instant::now());
        self.lock().lines.push((now, line));
    }

    /// The latest incarnation of `path`, if it has not exited.
    fn running(&self, path: &str) -> Option<ChildRef> {
        self.sync();
        self.lock()
            .current
            .get(path)
            .filter(|c| !c.has_exited())
            .cloned()
    }

    fn supervisor(&self, path: &str) -> Option<SupervisorHandle> {
        if path == "root" {
            return self.lock().root.clone();
        }
        self.running(path).and_then(|c| c.supervisor())
    }
}

fn render_reason(r: &ExitReason) -> String {
    match r {
        ExitReason::FailedToStartChild { id, reason } => format!(
            "{{shutdown,{{failed_to_start_child,{id},{}}}}}",
            render_reason(reason)
        ),
        ExitReason::ShutdownWith(x) => format!("{{shutdown,{x}}}"),
        ExitReason::Panic(p) => format!("{{panic,{}}}", p.message),
        other => other.to_string(),
    }
}

fn render_event(e: &Event) -> String {
    match e {
        Event::Started { child } => format!("started {}#{}", child.path(), child.incarnation()),
        Event::StartFailed {
            path,
            incarnation,
            reason,
        } => format!(
            "start_failed {path}#{incarnation} {}",
            render_reason(reason)
        ),
        Event::StartIgnored { path, incarnation } => {
            format!("start_ignored {path}#{incarnation}")
        }
        Event::Exited {
            path,
            incarnation,
            reason,
        } => format!("exit {path}#{incarnation} {}", render_reason(reason)),
        Event::ChildTerminated {
            supervisor,
            child,
            reason,
        } => format!(
            "child_terminated {supervisor} {child} {}",
            render_reason(reason)
        ),
        Event::Restarting { supervisor, child } => format!("restarting {supervisor} {child}"),
        Event::StartError {
            supervisor,
            child,
            reason,
        } => format!("start_error {supervisor} {child} {}", render_reason(reason)),
        Event::GaveUp { supervisor, child } => format!("gave_up {supervisor} {child}"),
        Event::ShutdownError {
            supervisor,
            child,
            reason,
            children,
        } => {
            let n = children.map_or(String::new(), |n| format!("*{n}"));
            format!(
                "shutdown_error {supervisor} {child}{n} {}",
                render_reason(reason)
            )
        }
        other => format!("unexpected_event {other:?}"),
    }
}

fn render_call_error(e: &CallError) -> String {
    match e {
        CallError::NotFound => "{error,not_found}".into(),
        CallError::Running => "{error,running}".into(),
        CallError::Restarting => "{error,restarting}".into(),
        CallError::AlreadyStarted(c) => {
            format!(
                "{{error,{{already_started,{}#{}}}}}",
                c.path(),
                c.incarnation()
            )
        }
        CallError::AlreadyPresent => "{error,already_present}".into(),
        CallError::StartFailed(r) => format!("{{error,{}}}", render_reason(r)),
        CallError::MaxChildren => "{error,max_children}".into(),
        CallError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { .. }) => {
            "{error,{bad_combination,[{auto_shutdown,never},{significant,true}]}}".into()
        }
        CallError::InvalidSpec(SpecError::SignificantPermanent { .. }) => {
            "{error,{bad_combination,[{restart,permanent},{significant,true}]}}".into()
        }
        CallError::Stopped => "{exit,noproc}".into(),
        other => format!("{{error,{other:?}}}"),
    }
}

fn render_ok_child(c: &Option<ChildRef>) -> String {
    match c {
        Some(c) => format!("{{ok,{}#{}}}", c.path(), c.incarnation()),
        None => "{ok,undefined}".into(),
    }
}

fn unit(result: Result<(), CallError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => render_call_error(&e),
    }
}

// ----- building the tree -----

fn restart(r: Restart) -> supervise::Restart {
    match r {
        Restart::Permanent => supervise::Restart::Permanent,
        Restart::Transient => supervise::Restart::Transient,
        Restart::Temporary => supervise::Restart::Temporary,
    }
}

fn shutdown(s: Shutdown) -> supervise::Shutdown {
    match s {
        Shutdown::BrutalKill => supervise::Shutdown::BrutalKill,
        Shutdown::Timeout => supervise::Shutdown::Timeout(Duration::from_secs(5)),
        Shutdown::Infinity => supervise::Shutdown::Infinity,
    }
}

/// Worker handles by path, as the specs are built.
type Handles = Vec<(String, WorkerHandle<Scripted>)>;

fn add_handles(sh: &Shared, handles: impl IntoIterator<Item = (String, WorkerHandle<Scripted>)>) {
    let mut map = sh.handles.lock().unwrap();
    for (path, handle) in handles {
        map.entry(path).or_default().push(handle);
    }
}

fn build_static(handles: &mut Handles, path: &str, def: &SupDef) -> SupervisorSpec {
    let mut builder = supervise::Supervisor::builder(basename(path))
        .strategy(match def.strategy {
            Strategy::OneForOne => supervise::Strategy::OneForOne,
            Strategy::OneForAll => supervise::Strategy::OneForAll,
            Strategy::RestForOne => supervise::Strategy::RestForOne,
        })
        .max_restarts(def.max_restarts)
        .period(Duration::from_millis(def.period))
        .auto_shutdown(match def.auto {
            Auto::Never => AutoShutdown::Never,
            Auto::Any => AutoShutdown::AnySignificant,
            Auto::All => AutoShutdown::AllSignificant,
        });
    for c in &def.children {
        builder = builder.child(child_spec(handles, &format!("{path}/{}", c.id), c));
    }
    builder.build().expect("generated specs are valid")
}

fn build_dynamic(name: &str, d: &DynDef) -> DynamicSupervisorSpec {
    let mut b = DynamicSupervisorSpec::builder(name.to_string())
        .max_restarts(d.max_restarts)
        .period(Duration::from_millis(d.period));
    if let Some(m) = d.max_children {
        b = b.max_children(m);
    }
    b.build().expect("a valid spec")
}

/// The spec of `def` at `path`; a worker's handle is filed under its
/// path (the spec a static child keeps across restarts of its parent).
fn child_spec(handles: &mut Handles, path: &str, def: &ChildDef) -> ChildSpec {
    let spec = match &def.kind {
        Kind::Worker { trap, init } => {
            let (init, trap): (Arc<[InitStep]>, _) = (init.clone().into(), *trap);
            let (spec, handle) = ChildSpec::worker_with_handle(def.id.clone(), move || Scripted {
                init: init.clone(),
                trap,
            });
            handles.push((path.to_string(), handle));
            spec
        }
        Kind::Sup(d) => ChildSpec::supervisor(def.id.clone(), build_static(handles, path, d)),
        Kind::Dyn(d) => ChildSpec::dynamic_supervisor(def.id.clone(), build_dynamic(&def.id, d)),
    };
    spec.restart(restart(def.restart))
        .shutdown(shutdown(def.shutdown))
        .significant(def.significant)
}

// ----- playing the timeline -----

pub(super) fn run(case: &Case) -> Vec<(u64, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let lines = rt.block_on(drive(case));
    rt.shutdown_background();
    lines
}

async fn drive(case: &Case) -> Vec<(u64, String)> {
    let sh = Arc::new(Shared {
        t0: Instant::now(),
        rec: Mutex::new(Recorder {
            stream: None,
            lines: Vec::new(),
            current: HashMap::new(),
            root: None,
        }),
        handles: Mutex::new(HashMap::new()),
        nodes: case.nodes(),
    });
    let mut handles = Vec::new();
    let started = match &case.dynamic_root {
        Some(d) => {
            let spec = build_dynamic("root", d);
            sh.lock().stream = Some(spec.subscribe());
            spec.start().await
        }
        None => {
            let spec = build_static(&mut handles, "root", &case.root);
            sh.lock().stream = Some(spec.subscribe());
            spec.start().await
        }
    };
    add_handles(&sh, handles);
    if let Ok(root) = started {
        sh.lock().root = Some(root);
    }
    let mut end = 0;
    for (t, ev) in &case.events {
        tokio::time::sleep_until(sh.t0 + Duration::from_millis(*t)).await;
        play(&sh, ev);
        end = *t;
    }
    // Let the last instant finish.
    tokio::time::sleep_until(sh.t0 + Duration::from_millis(end + 50)).await;
    sh.sync();
    let lines = std::mem::take(&mut sh.lock().lines);
    lines
}

fn play(sh: &Arc<Shared>, ev: &Ev) {
    match ev {
        Ev::Stop => {
            sh.line("inject stop root".into());
            match sh.supervisor("root").filter(|r| !r.is_stopped()) {
                Some(root) => {
                    tokio::spawn(async move { root.stop().await });
                }
                None => sh.line("inject_note not_running".into()),
            }
        }
        Ev::Crash(path, crash) => {
            sh.line(format!("inject crash {path} {}", crash.name()));
            let Some(target) = sh.running(path) else {
                sh.line("inject_note not_running".into());
                return;
            };
            if *crash == Crash::Kill {
                target.kill();
            } else if let Some(handle) = target.supervisor() {
                let reason = match crash {
                    Crash::Normal => ExitReason::Normal,
                    Crash::Shutdown => ExitReason::Shutdown,
                    Crash::ShutdownX => ExitReason::shutdown_with("x"),
                    _ => ExitReason::error("crashed"),
                };
                tokio::spawn(async move { handle.stop_with(reason).await });
            } else {
                // The handle that reaches the incarnation running now.
                let handle = sh.handles.lock().unwrap().get(path).and_then(|hs| {
                    hs.iter()
                        .find(|h| h.child().as_ref() == Some(&target))
                        .or(hs.last())
                        .cloned()
                });
                match handle.map(|h| h.send(*crash)) {
                    Some(Ok(())) => {}
                    Some(Err(e)) => sh.line(format!("inject_note send_failed {:?}", e.error)),
                    None => sh.line("inject_note no_handle".into()),
                }
            }
        }
        Ev::WhichChildren(path) => call(sh, "which_children", path, path, |h| async move {
            match h.which_children().await {
                Ok(list) => {
                    let mut items: Vec<String> = list
                        .iter()
                        .map(|c| {
                            let status = match &c.status {
                                supervise::ChildStatus::Running(r) => {
                                    format!("{}#{}", r.path(), r.incarnation())
                                }
                                supervise::ChildStatus::Restarting => "restarting".into(),
                                supervise::ChildStatus::Undefined => "undefined".into(),
                            };
                            let kind = match c.kind {
                                supervise::ChildKind::Worker => "worker",
                                supervise::ChildKind::Supervisor => "supervisor",
                            };
                            let id = c.id.as_deref().unwrap_or("undefined");
                            format!("{{{id},{status},{kind}}}")
                        })
                        .collect();
                    if list.first().is_some_and(|c| c.id.is_none()) {
                        items.sort();
                    }
                    format!("[{}]", items.join(","))
                }
                Err(e) => render_call_error(&e),
            }
        }),
        Ev::CountChildren(path) => call(sh, "count_children", path, path, |h| async move {
            match h.count_children().await {
                Ok(c) => format!(
                    "[{{specs,{}}},{{active,{}}},{{supervisors,{}}},{{workers,{}}}]",
                    c.specs, c.active, c.supervisors, c.workers
                ),
                Err(e) => render_call_error(&e),
            }
        }),
        Ev::TerminateChild(path) => {
            let sup = parent_of(path);
            let id = basename(path).to_string();
            if sh.nodes.get(sup) == Some(&NodeKind::Dyn) {
                // A dynamic child is named by its reference.
                let target = {
                    sh.sync();
                    sh.lock().current.get(path.as_str()).cloned()
                };
                call(sh, "terminate_child", path, sup, move |h| async move {
                    match target {
                        Some(child) => unit(h.terminate_child_ref(&child).await),
                        None => match h.count_children().await {
                            Ok(_) => "{error,not_found}".into(),
                            Err(e) => render_call_error(&e),
                        },
                    }
                })
            } else {
                call(sh, "terminate_child", path, sup, move |h| async move {
                    unit(h.terminate_child(&id).await)
                })
            }
        }
        Ev::GetChildspec(path) => {
            let id = basename(path).to_string();
            call(
                sh,
                "get_childspec",
                path,
                parent_of(path),
                move |h| async move {
                    match h.get_childspec(&id).await {
                        Ok(s) => {
                            let shutdown = match s.shutdown {
                                supervise::Shutdown::Timeout(d) => d.as_millis().to_string(),
                                other => other.to_string(),
                            };
                            let kind = match s.kind {
                                supervise::ChildKind::Worker => "worker",
                                supervise::ChildKind::Supervisor => "supervisor",
                            };
                            format!(
                            "{{ok,#{{id=>{},restart=>{},shutdown=>{shutdown},significant=>{},type=>{kind}}}}}",
                            s.id, s.restart, s.significant
                        )
                        }
                        Err(e) => render_call_error(&e),
                    }
                },
            )
        }
        Ev::RestartChild(path) => {
            let id = basename(path).to_string();
            call(
                sh,
                "restart_child",
                path,
                parent_of(path),
                move |h| async move {
                    match h.restart_child(&id).await {
                        Ok(c) => render_ok_child(&c),
                        Err(e) => render_call_error(&e),
                    }
                },
            )
        }
        Ev::DeleteChild(path) => {
            let id = basename(path).to_string();
            call(
                sh,
                "delete_child",
                path,
                parent_of(path),
                move |h| async move { unit(h.delete_child(&id).await) },
            )
        }
        Ev::StartChild(path, def) => {
            // A fresh spec and handle; the handle is filed if the child
            // was added.
            let mut handles = Vec::new();
            let spec = child_spec(&mut handles, path, def);
            let sh2 = sh.clone();
            let dynamic = sh.nodes.get(parent_of(path)) == Some(&NodeKind::Dyn);
            call(
                sh,
                "start_child",
                path,
                parent_of(path),
                move |h| async move {
                    let result = h.start_child(spec).await;
                    if result.is_ok() {
                        add_handles(&sh2, handles);
                    }
                    match result {
                        // Elixir's DynamicSupervisor answers a bare `ignore`
                        // (S30.4).
                        Ok(None) if dynamic => "ignore".into(),
                        Ok(c) => render_ok_child(&c),
                        Err(e) => render_call_error(&e),
                    }
                },
            )
        }
    }
}

/// Runs an API call in a task of its own and records its result when
/// the reply arrives.
fn call<F, Fut>(sh: &Arc<Shared>, op: &str, path: &str, sup: &str, f: F)
where
    F: FnOnce(SupervisorHandle) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    let label = format!("call {op} {path} -> ");
    let handle = sh.supervisor(sup);
    let sh = sh.clone();
    tokio::spawn(async move {
        let result = match handle {
            Some(h) => f(h).await,
            None => "{exit,noproc}".into(),
        };
        sh.line(label + &result);
    });
}
