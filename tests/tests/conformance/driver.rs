//! Builds a scenario's tree with the public builder API, plays its
//! timeline on tokio's paused clock, and records the trace from the
//! runtime's event stream and control API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    parse_max_restarts, parse_period, parse_significant, AutoShutdown, ChildKind, ChildRef,
    ChildSpec, Context, DynamicSupervisorSpec, EventStream, Exit, ExitReason, Init, Restart,
    Shutdown, Strategy, SupervisorHandle, SupervisorRef, SupervisorSpec, Worker,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::render;
use crate::scn::{basename, parent_of, Attrs, ChildOp, Ev, Scenario};

type CrashTx = mpsc::UnboundedSender<String>;
type CrashRx = mpsc::UnboundedReceiver<String>;

/// Everything the driver, the call tasks and the scripted workers share.
struct Shared {
    t0: Instant,
    rec: Mutex<Recorder>,
    /// The crash channel of each running scripted worker, by path.
    crash: Mutex<HashMap<String, CrashTx>>,
    /// The latest behaviour given for each worker path.
    behaviours: Mutex<HashMap<String, Arc<Attrs>>>,
    /// The nested supervisors built for a path: their `SupervisorRef`
    /// reaches the latest incarnation, started or starting.
    sup_refs: Mutex<HashMap<String, SupervisorRef>>,
    /// `crash_after` timers by the millisecond they fall due: see
    /// [`CrashTimer`].
    clock: Mutex<HashMap<u64, Vec<(usize, String)>>>,
    scenario: Scenario,
}

struct Recorder {
    stream: Option<EventStream>,
    lines: Vec<(u64, String)>,
    /// The latest incarnation reported started, by scenario path (the
    /// oracle's `whereis_path`): a child declared `id=x` at `root/a` runs
    /// as `root/x` but is named, crashed and terminated as `root/a`.
    current: HashMap<String, ChildRef>,
    root: Option<SupervisorHandle>,
}

impl Shared {
    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.t0).as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.rec.lock().unwrap()
    }

    /// Moves the events emitted so far into the trace.
    fn sync(&self) {
        let mut rec = self.lock();
        let rec = &mut *rec;
        let Some(stream) = rec.stream.as_mut() else {
            return;
        };
        while let Some((at, event)) = stream.try_recv_timed() {
            if let supervise::Event::Started { child } = &event {
                rec.current
                    .insert(render::scenario_path(child.path()), child.clone());
            }
            if let Some(line) = render::event(&event) {
                rec.lines.push((self.ms(at), line));
            }
        }
    }

    /// Appends a line of the driver's own, after the events before it.
    fn line(&self, line: String) {
        self.sync();
        let now = self.ms(Instant::now());
        self.lock().lines.push((now, line));
    }

    fn current(&self, path: &str) -> Option<ChildRef> {
        self.sync();
        self.lock().current.get(path).cloned()
    }

    /// The supervisor a call to `path` reaches: as the oracle's, the latest
    /// incarnation that has begun to start (a call made during its init
    /// waits for it), not only the latest one reported started.
    fn supervisor(&self, path: &str) -> Option<SupervisorHandle> {
        if path == "root" {
            return self.lock().root.clone();
        }
        let declared = self.sup_refs.lock().unwrap().get(path).cloned();
        match declared {
            Some(sup_ref) => sup_ref.current().ok(),
            None => self.current(path).and_then(|c| c.supervisor()),
        }
    }

    /// `simple_one_for_one`, `dynamic`, or `None` for a static supervisor.
    fn flavour(&self, sup: &str) -> Option<&str> {
        let node = self.scenario.nodes.iter().find(|n| n.path == sup)?;
        node.attrs
            .get("strategy")
            .filter(|s| matches!(*s, "simple_one_for_one" | "dynamic"))
    }

    fn is_sup(&self, path: &str) -> bool {
        self.scenario
            .nodes
            .iter()
            .any(|n| n.path == path && n.is_sup)
    }
}

pub(crate) fn run(scenario: &Scenario) -> Vec<String> {
    render::reset_numbers();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let lines = rt.block_on(drive(scenario));
    rt.shutdown_background();
    lines
}

async fn drive(scenario: &Scenario) -> Vec<String> {
    let sh = Arc::new(Shared {
        t0: Instant::now(),
        rec: Mutex::new(Recorder {
            stream: None,
            lines: Vec::new(),
            current: HashMap::new(),
            root: None,
        }),
        crash: Mutex::new(HashMap::new()),
        sup_refs: Mutex::new(HashMap::new()),
        behaviours: Mutex::new(HashMap::new()),
        clock: Mutex::new(HashMap::new()),
        scenario: scenario.clone(),
    });

    match build_supervisor(&sh, "root") {
        Err(rendered) => sh.line(format!("start_failed root#1 {rendered}")),
        Ok(spec) => {
            sh.lock().stream = Some(spec.subscribe());
            if let Ok(root) = spec.start().await {
                sh.lock().root = Some(root);
            }
        }
    }

    for timed in &scenario.events {
        tokio::time::sleep_until(sh.t0 + Duration::from_millis(timed.at)).await;
        play(&sh, &timed.event);
    }
    tokio::time::sleep_until(sh.t0 + Duration::from_millis(scenario.end)).await;
    sh.sync();

    let rec = sh.lock();
    let step = scenario.step;
    let rounded: Vec<(u64, String)> = rec
        .lines
        .iter()
        .filter(|(t, _)| *t <= scenario.end)
        .map(|(t, l)| ((t + step / 2) / step * step, l.clone()))
        .collect();
    canonicalise(scenario, rounded)
}

/// FORMAT.md's rule 2 (see `supervise_tests::trace::canonical`).
fn canonicalise(scenario: &Scenario, lines: Vec<(u64, String)>) -> Vec<String> {
    let is_dynamic = |sup: &str| {
        scenario.nodes.iter().any(|n| {
            n.path == sup
                && matches!(
                    n.attrs.get("strategy"),
                    Some("simple_one_for_one" | "dynamic")
                )
        })
    };
    supervise_tests::trace::canonical(&lines, &is_dynamic, &|_| false)
}

// ===== the timeline =====

fn play(sh: &Arc<Shared>, event: &Ev) {
    match event {
        Ev::Crash { path, reason } => {
            sh.line(format!("inject crash {path} {reason}"));
            // As the oracle: the latest registered incarnation, which for a
            // supervisor is the one that has begun to start (a crash sent
            // during its restart reaches it while it starts its children).
            if sh.is_sup(path) {
                let Some(handle) = sh.supervisor(path).filter(|h| !h.is_stopped()) else {
                    sh.line("inject_note not_running".into());
                    return;
                };
                if reason == "kill" {
                    handle.kill();
                } else {
                    let reason = exit_reason(reason);
                    tokio::spawn(async move { handle.stop_with(reason).await });
                }
                return;
            }
            let Some(target) = sh.current(path).filter(|c| !c.has_exited()) else {
                sh.line("inject_note not_running".into());
                return;
            };
            if reason == "kill" {
                target.kill();
            } else if let Some(tx) = sh.crash.lock().unwrap().get(path) {
                let _ = tx.send(reason.clone());
            }
        }
        Ev::StopSupervisor { path } => {
            sh.line(format!("inject stop_supervisor {path}"));
            if let Some(handle) = sh.supervisor(path) {
                tokio::spawn(async move { handle.stop().await });
            }
        }
        Ev::WhichChildren { path } => call(sh, "which_children", path, path, |h, sh| async move {
            match synced(&sh, h.which_children().await) {
                Ok(list) => render::which_children(&list),
                Err(e) => render::call_error(&e),
            }
        }),
        Ev::CountChildren { path } => call(sh, "count_children", path, path, |h, sh| async move {
            match synced(&sh, h.count_children().await) {
                Ok(c) => render::count_children(&c),
                Err(e) => render::call_error(&e),
            }
        }),
        Ev::ChildOp { op, path } => {
            let sup = parent_of(path).unwrap_or("root");
            let id = basename(path).to_string();
            match op {
                ChildOp::Terminate if sh.flavour(sup).is_some() => {
                    // The pid of the path's latest incarnation, as the oracle.
                    let target = sh.current(path);
                    let simple = sh.flavour(sup) == Some("simple_one_for_one");
                    call(sh, "terminate_child", path, sup, move |h, sh| async move {
                        match target {
                            Some(child) => unit(synced(&sh, h.terminate_child_ref(&child).await)),
                            None if simple => unit(synced(&sh, h.terminate_child(&id).await)),
                            None => "{error,not_found}".into(),
                        }
                    })
                }
                ChildOp::Terminate | ChildOp::TerminateById => {
                    call(sh, "terminate_child", path, sup, move |h, sh| async move {
                        unit(synced(&sh, h.terminate_child(&id).await))
                    })
                }
                ChildOp::Restart => call(sh, "restart_child", path, sup, move |h, sh| async move {
                    match synced(&sh, h.restart_child(&id).await) {
                        Ok(c) => render::ok_child(&c),
                        Err(e) => render::call_error(&e),
                    }
                }),
                ChildOp::Delete => call(sh, "delete_child", path, sup, move |h, sh| async move {
                    unit(synced(&sh, h.delete_child(&id).await))
                }),
                ChildOp::GetChildspec => {
                    call(sh, "get_childspec", path, sup, move |h, sh| async move {
                        match synced(&sh, h.get_childspec(&id).await) {
                            Ok(s) => render::childspec(&s),
                            Err(e) => render::call_error(&e),
                        }
                    })
                }
            }
        }
        Ev::StartChild { path, attrs } => {
            let sup = parent_of(path).unwrap_or("root").to_string();
            let flavour = sh.flavour(&sup).map(str::to_string);
            let spec = match flavour.as_deref() {
                Some("simple_one_for_one") => {
                    // The instance inherits the template's behaviour.
                    let template = sh
                        .scenario
                        .nodes
                        .iter()
                        .find(|n| parent_of(&n.path) == Some(sup.as_str()))
                        .map(|n| n.attrs.clone())
                        .unwrap_or_default();
                    let mut merged = template;
                    merged.0.extend(attrs.0.iter().cloned());
                    Ok(scripted(sh, path, basename(path).to_string(), &merged))
                }
                _ => child_spec(sh, path, attrs, false),
            };
            call(sh, "start_child", path, &sup, move |h, sh| async move {
                let spec = match spec {
                    Ok(spec) => spec,
                    Err(rendered) => return format!("{{error,{rendered}}}"),
                };
                match (synced(&sh, h.start_child(spec).await), flavour.as_deref()) {
                    // Elixir's DynamicSupervisor returns a bare `ignore` (S30.4).
                    (Ok(None), Some("dynamic")) => "ignore".into(),
                    (Ok(c), _) => render::ok_child(&c),
                    // OTP returns {error, {Reason, ChildRecord}} for a static
                    // supervisor (S23.3), the bare reason otherwise.
                    (Err(supervise::CallError::StartFailed(r)), None) => {
                        format!("{{error,{{{},childrec}}}}", render::reason(&r))
                    }
                    (Err(e), _) => render::call_error(&e),
                }
            })
        }
    }
}

/// Moves the events emitted before a call's reply into the trace before
/// the reply is rendered (its incarnations are numbered from them).
fn synced<T>(sh: &Shared, result: T) -> T {
    sh.sync();
    result
}

fn unit(result: Result<(), supervise::CallError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => render::call_error(&e),
    }
}

/// Runs an API call in its own task, as the oracle does, and records its
/// result when the reply arrives.
fn call<F, Fut>(sh: &Arc<Shared>, op: &str, path: &str, sup: &str, f: F)
where
    F: FnOnce(SupervisorHandle, Arc<Shared>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    let label = format!("call {op} {path} -> ");
    let handle = sh.supervisor(sup);
    let sh = sh.clone();
    tokio::spawn(async move {
        let result = match handle {
            Some(h) => f(h, sh.clone()).await,
            None => "{exit,noproc}".into(),
        };
        sh.line(label + &result);
    });
}

fn exit_reason(name: &str) -> ExitReason {
    match name {
        "normal" => ExitReason::Normal,
        "shutdown" => ExitReason::Shutdown,
        "shutdown_tuple" => ExitReason::shutdown_with("tuple"),
        other => ExitReason::error(other.to_string()),
    }
}

fn exit_result(name: &str) -> Result<(), Exit> {
    match exit_reason(name) {
        ExitReason::Normal => Ok(()),
        other => Err(Exit::with_reason(other)),
    }
}

// ===== building the tree =====

/// A supervisor spec of either kind.
enum Built {
    Static(SupervisorSpec),
    Dynamic(DynamicSupervisorSpec),
}

impl Built {
    fn subscribe(&self) -> EventStream {
        match self {
            Built::Static(s) => s.subscribe(),
            Built::Dynamic(s) => s.subscribe(),
        }
    }

    async fn start(self) -> Result<SupervisorHandle, supervise::StartError> {
        match self {
            Built::Static(s) => s.start().await,
            Built::Dynamic(s) => s.start().await,
        }
    }

    fn supervisor_ref(&self) -> SupervisorRef {
        match self {
            Built::Static(s) => s.supervisor_ref(),
            Built::Dynamic(s) => s.supervisor_ref(),
        }
    }

    fn into_child(self, id: String) -> ChildSpec {
        match self {
            Built::Static(s) => ChildSpec::supervisor(id, s),
            Built::Dynamic(s) => ChildSpec::dynamic_supervisor(id, s),
        }
    }
}

/// The supervisor at `path`, or its rejection rendered as OTP renders it.
fn build_supervisor(sh: &Arc<Shared>, path: &str) -> Result<Built, String> {
    let node = sh
        .scenario
        .nodes
        .iter()
        .find(|n| n.path == path)
        .expect("a declared supervisor");
    let a = &node.attrs;
    let flavour = a
        .get("strategy")
        .filter(|s| matches!(*s, "simple_one_for_one" | "dynamic"));
    let flags = (|| {
        let strategy = match (a.get("strategy"), flavour) {
            (_, Some(_)) | (None, _) => Strategy::OneForOne,
            (Some(s), None) => s.parse::<Strategy>()?,
        };
        // Absent keys take OTP's defaults (Elixir's for `dynamic`), not the
        // library's.
        let default_intensity = if flavour == Some("dynamic") { 3 } else { 1 };
        let max_restarts = a
            .get("intensity")
            .map_or(Ok(default_intensity), parse_max_restarts)?;
        let period = a
            .get("period")
            .map_or(Ok(Duration::from_secs(5)), parse_period)?;
        let auto_shutdown = match a.get("auto_shutdown") {
            None => AutoShutdown::Never,
            Some(s) => s.parse::<AutoShutdown>()?,
        };
        Ok((strategy, max_restarts, period, auto_shutdown))
    })()
    .map_err(|e| format!("{{supervisor_data,{}}}", render::parse_error(&e)))?;
    let (strategy, max_restarts, period, auto_shutdown) = flags;
    if period.is_zero() {
        // The runtime's builders reject it too; the flags come first (S1.3).
        return Err("{supervisor_data,{invalid_period,0}}".into());
    }
    let kids: Vec<_> = sh
        .scenario
        .nodes
        .iter()
        .filter(|n| parent_of(&n.path) == Some(path))
        .collect();

    if let Some(flavour) = flavour {
        let mut builder = supervise::DynamicSupervisorSpec::builder(basename(path))
            .max_restarts(max_restarts)
            .period(period)
            .auto_shutdown(auto_shutdown);
        if let Some(max) = a.get("max_children").filter(|m| *m != "infinity") {
            let max = max
                .parse()
                .map_err(|_| format!("{{supervisor_data,{{invalid_max_children,{max}}}}}"))?;
            builder = builder.max_children(max);
        }
        if flavour == "simple_one_for_one" {
            for kid in &kids {
                let spec = child_spec(sh, &kid.path, &kid.attrs, kid.is_sup)
                    .map_err(|e| format!("{{start_spec,{e}}}"))?;
                builder = builder.template(spec);
            }
        }
        return builder.build().map(Built::Dynamic).map_err(|e| match e {
            supervise::SpecError::BadTemplateCount { .. } => {
                let specs: Vec<String> = kids.iter().map(|k| template_term(path, k)).collect();
                format!("{{bad_start_spec,[{}]}}", specs.join(","))
            }
            other => format!("{{start_spec,{}}}", render::spec_error(&other)),
        });
    }

    let mut builder = supervise::Supervisor::builder(basename(path))
        .strategy(strategy)
        .max_restarts(max_restarts)
        .period(period)
        .auto_shutdown(auto_shutdown);
    for kid in kids {
        let spec = child_spec(sh, &kid.path, &kid.attrs, kid.is_sup)
            .map_err(|e| format!("{{start_spec,{e}}}"))?;
        builder = builder.child(spec);
        builder
            .validate()
            .map_err(|e| format!("{{start_spec,{}}}", render::spec_error(&e)))?;
    }
    builder
        .build()
        .map(Built::Static)
        .map_err(|e| format!("{{start_spec,{}}}", render::spec_error(&e)))
}

/// The oracle's `simple_one_for_one` template spec, as OTP prints it in
/// `bad_start_spec`: the map's keys sorted.
fn template_term(sup: &str, kid: &crate::scn::Node) -> String {
    let mut entries = vec![
        (
            "id".to_string(),
            kid.attrs
                .get("id")
                .unwrap_or(basename(&kid.path))
                .to_string(),
        ),
        (
            "start".to_string(),
            format!("{{oracle,dyn_start,[\"{sup}\"]}}"),
        ),
    ];
    for key in ["restart", "shutdown", "significant", "type"] {
        if let Some(v) = kid.attrs.get(key) {
            entries.push((key.to_string(), v.to_string()));
        }
    }
    if kid.is_sup && kid.attrs.get("type").is_none() {
        entries.push(("type".into(), "supervisor".into()));
    }
    entries.sort();
    let body: Vec<String> = entries.iter().map(|(k, v)| format!("{k}=>{v}")).collect();
    format!("#{{{}}}", body.join(","))
}

/// A child spec from scenario attributes, through the runtime's parsers,
/// checked in OTP's order (S8); the error is rendered without a wrapper.
fn child_spec(sh: &Arc<Shared>, path: &str, a: &Attrs, is_sup: bool) -> Result<ChildSpec, String> {
    let restart = a
        .get("restart")
        .map_or(Ok(Restart::Permanent), str::parse::<Restart>)
        .map_err(|e| render::parse_error(&e))?;
    let significant = a
        .get("significant")
        .map_or(Ok(false), parse_significant)
        .map_err(|e| render::parse_error(&e))?;
    let kind = a
        .get("type")
        .map(str::parse::<ChildKind>)
        .transpose()
        .map_err(|e| render::parse_error(&e))?;
    let shutdown = a
        .get("shutdown")
        .map(str::parse::<Shutdown>)
        .transpose()
        .map_err(|e| render::parse_error(&e))?;
    let id = a.get("id").unwrap_or(basename(path)).to_string();
    if id != basename(path) {
        // The oracle names the process by its scenario path.
        render::alias(runtime_path(&sh.scenario, path), path.to_string());
    }
    let spec = if is_sup {
        match build_supervisor(sh, path) {
            Ok(nested) => {
                let sup_ref = nested.supervisor_ref();
                sh.sup_refs
                    .lock()
                    .unwrap()
                    .insert(path.to_string(), sup_ref);
                nested.into_child(id)
            }
            // A nested supervisor whose own spec the runtime rejected fails
            // its start with that rejection, as OTP's init does.
            Err(rendered) => ChildSpec::worker(id, move || Rejected(rendered.clone())),
        }
    } else {
        scripted(sh, path, id, a)
    };
    let mut spec = spec.restart(restart).significant(significant);
    // OTP counts and lists a child by its declared type, whose default
    // shutdown follows it: 5000 for a worker, infinity for a supervisor.
    if let Some(kind) = kind {
        spec = spec.with_kind(kind);
    }
    match (shutdown, kind) {
        (Some(shutdown), _) => spec = spec.shutdown(shutdown),
        (None, Some(ChildKind::Supervisor)) => spec = spec.shutdown(Shutdown::Infinity),
        (None, Some(ChildKind::Worker)) => spec = spec.shutdown(Shutdown::DEFAULT_WORKER),
        (None, None) => {}
    }
    Ok(spec)
}

/// The runtime path of the scenario's `path`: its ids, which `id=` may
/// change at any level.
fn runtime_path(scenario: &Scenario, path: &str) -> String {
    match parent_of(path) {
        None => path.to_string(),
        Some(parent) => {
            let id = scenario
                .nodes
                .iter()
                .find(|n| n.path == path)
                .and_then(|n| n.attrs.get("id"))
                .unwrap_or(basename(path));
            format!("{}/{id}", runtime_path(scenario, parent))
        }
    }
}

// ===== scripted workers =====

/// A scripted worker's spec. Its behaviour is looked up by path at every
/// start, as the oracle's is: a later `start_child` of the same path
/// replaces it, even one the supervisor refuses.
fn scripted(sh: &Arc<Shared>, path: &str, id: String, behaviour: &Attrs) -> ChildSpec {
    sh.behaviours
        .lock()
        .unwrap()
        .insert(path.to_string(), Arc::new(behaviour.clone()));
    let sh = sh.clone();
    let path = path.to_string();
    // Made once per start attempt: the attempt takes the path's next
    // number, as the oracle's start function does.
    ChildSpec::worker(id, move || Scripted {
        behaviour: sh.behaviours.lock().unwrap()[&path].clone(),
        path: path.clone(),
        attempt: render::attempt(&path),
        sh: sh.clone(),
        crash: None,
    })
}

/// A worker that does what its scenario line says.
struct Scripted {
    path: String,
    /// This start's attempt number for `path`, counted over every child
    /// ever started under it (the trace's `P#N`): the index into `start`.
    attempt: u64,
    behaviour: Arc<Attrs>,
    sh: Arc<Shared>,
    crash: Option<CrashRx>,
}

impl Scripted {
    fn ms(&self, key: &str) -> Option<u64> {
        self.behaviour.get(key).and_then(|v| v.parse().ok())
    }

    fn stop(&self) -> &str {
        self.behaviour.get("stop").unwrap_or("0")
    }
}

impl Worker for Scripted {
    type Message = ();
    fn handles_shutdown(&self) -> bool {
        self.stop() != "0"
    }

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        // OTP starts a child in a process of its own and waits for its init
        // to answer: a scheduling point where other processes (the clients
        // of calls among them) run. A scripted init yields once to match.
        render::bind(&self.path, ctx.incarnation(), self.attempt);
        tokio::task::yield_now().await;
        if let Some(ms) = self.ms("init").filter(|&ms| ms > 0) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let results: Vec<&str> = self
            .behaviour
            .get("start")
            .unwrap_or("ok")
            .split(',')
            .collect();
        let n = self.attempt as usize;
        match results
            .get(n - 1)
            .or(results.last())
            .copied()
            .unwrap_or("ok")
        {
            "error" => Err(Exit::from("init_failed")),
            "ignore" => Ok(Init::Ignore),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.sh.crash.lock().unwrap().insert(self.path.clone(), tx);
                self.crash = Some(rx);
                Ok(Init::Ready)
            }
        }
    }

    async fn run(mut self, ctx: Context) -> Result<(), Exit> {
        let mut crash = self.crash.take().expect("registered at init");
        let timer = self
            .ms("crash_after")
            .map(|after| CrashTimer::arm(&self.sh, &self.path, after));
        let crash_reason = self.behaviour.get("crash_reason").unwrap_or("abnormal");
        let traps = self.handles_shutdown();
        tokio::select! {
            Some(reason) = crash.recv() => exit_result(&reason),
            _ = async { timer.as_ref().expect("armed").fire().await }, if timer.is_some() => {
                exit_result(crash_reason)
            }
            _ = ctx.shutdown_requested(), if traps => {
                match self.stop() {
                    "never" => std::future::pending::<()>().await,
                    ms => {
                        let ms = ms.parse().unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                }
                // As a gen_server trapping exits: it exits with the reason it
                // was stopped with (`killed` when its supervisor was killed).
                match self.behaviour.get("stop_exit") {
                    Some(reason) => exit_result(reason),
                    None => Err(Exit::with_reason(
                        ctx.shutdown_reason().unwrap_or(ExitReason::Shutdown),
                    )),
                }
            }
            // A newer incarnation under the same path took the crash channel
            // (dynamic children may share a name): this one only idles.
            else => std::future::pending().await,
        }
    }
}

/// A scripted worker's `crash_after` timer.
///
/// On the BEAM, two timers of the same millisecond fall microseconds apart,
/// and the supervisor handles the first exit before the second child dies
/// (both OTP traces of `nondeterministic/80_bomb_one_for_one` show it).
/// tokio's paused clock fires them in one tick instead, so both children
/// would die before their supervisor runs, an interleaving OTP never showed.
/// The harness therefore breaks such a tie the way the timeline orders calls
/// of the same time: by the scenario's file order (then by path), each timer
/// one millisecond after the one before it, so the tree settles in between.
/// Rounding to `step` hides the millisecond, and a timer without a tie is
/// not moved.
struct CrashTimer {
    sh: Arc<Shared>,
    due: u64,
    rank: (usize, String),
    fired: AtomicBool,
}

impl CrashTimer {
    fn arm(sh: &Arc<Shared>, path: &str, after: u64) -> Self {
        let due = sh.ms(Instant::now()) + after;
        let declared = sh.scenario.nodes.iter().position(|n| n.path == path);
        let rank = (declared.unwrap_or(usize::MAX), path.to_string());
        sh.clock
            .lock()
            .unwrap()
            .entry(due)
            .or_default()
            .push(rank.clone());
        CrashTimer {
            sh: sh.clone(),
            due,
            rank,
            fired: AtomicBool::new(false),
        }
    }

    /// Completes when the child is to crash.
    async fn fire(&self) {
        tokio::time::sleep_until(self.sh.t0 + Duration::from_millis(self.due)).await;
        let ahead = self.sh.clock.lock().unwrap()[&self.due]
            .iter()
            .filter(|r| **r < self.rank)
            .count() as u64;
        if ahead > 0 {
            tokio::time::sleep(Duration::from_millis(ahead)).await;
        }
        self.fired.store(true, Ordering::Relaxed);
    }
}

impl Drop for CrashTimer {
    /// A timer that never fired (its child stopped first) leaves no gap.
    /// One that fired stays, so a tied timer woken after it still waits.
    fn drop(&mut self) {
        if !self.fired.load(Ordering::Relaxed) {
            let mut clock = self.sh.clock.lock().unwrap();
            if let Some(tied) = clock.get_mut(&self.due) {
                if let Some(i) = tied.iter().position(|r| *r == self.rank) {
                    tied.remove(i);
                }
            }
        }
    }
}

/// A nested supervisor whose spec was rejected: its start fails with the
/// rejection.
struct Rejected(String);

impl Worker for Rejected {
    type Message = ();
    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        Err(Exit::from(self.0.clone()))
    }

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        Ok(())
    }
}
