//! W7, compile time: an incremental debug `cargo build` of a crate holding a
//! 200-child tree written with the macros (`#[worker]`,
//! `#[derive(Supervisor)]`, typed handles) against the same tree written
//! with the builder (`Supervisor::builder`, `ChildSpec::worker_with_handle`,
//! handle structs by hand).
//!
//! It writes two throwaway library crates, `derived` and `builder`, under
//! `target/compile-bench/`. Each depends on `supervise` by path and is a
//! workspace of its own, and both build into one target directory
//! (`target/compile-bench/target`), so their dependencies are built once.
//! The tree: a root with 20 nested supervisors of 10 workers each, of five
//! worker types (two of them with non-default restart and shutdown
//! settings, one a `#[handlers]` worker, in both crates), the groups'
//! strategies and intensities varied.
//!
//! Both crates are built once, untimed. Then every round touches each
//! crate's `src/lib.rs` (its mtime) and times `cargo build --offline` of
//! that crate, the order swapping every round. A build must recompile the
//! crate (its rlib is checked) and print nothing (no warnings).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// Nested supervisors under the root.
pub(crate) const GROUPS: usize = 20;

/// Workers under each nested supervisor.
pub(crate) const WORKERS: usize = 10;

/// A worker type of the generated tree.
struct Kind {
    /// The type's name.
    name: &'static str,
    /// Its `#[worker]` attribute, in the derived crate.
    attribute: &'static str,
    /// The same settings on its `ChildSpec`, in the builder crate.
    overrides: &'static str,
    /// The struct, its message type and its `Worker` impl, the same in both
    /// crates (the derived crate puts the attribute first).
    code: &'static str,
    /// The value of the tree's `n`th worker of this type.
    value: fn(usize) -> String,
}

const KINDS: [Kind; 5] = [
    Kind {
        name: "Counter",
        attribute: "#[worker]",
        overrides: "",
        code: r#"#[derive(Clone)]
pub struct Counter {
    pub start: u64,
}

pub enum CounterMsg {
    Add(u64),
    Get(Reply<u64>),
}

impl Worker for Counter {
    type Message = CounterMsg;

    async fn run(self, mut ctx: Context<CounterMsg>) -> Result<(), Exit> {
        let mut count = self.start;
        while let Some(msg) = ctx.recv().await {
            match msg {
                CounterMsg::Add(n) => count += n,
                CounterMsg::Get(reply) => {
                    let _ = reply.send(count);
                }
            }
        }
        Ok(())
    }
}
"#,
        value: |n| format!("Counter {{ start: {n} }}"),
    },
    Kind {
        name: "Echo",
        attribute: "#[worker]",
        overrides: "",
        code: r#"#[derive(Clone)]
pub struct Echo;

impl Worker for Echo {
    type Message = Reply<u64>;

    async fn run(self, mut ctx: Context<Reply<u64>>) -> Result<(), Exit> {
        while let Some(reply) = ctx.recv().await {
            let _ = reply.send(ctx.incarnation());
        }
        Ok(())
    }
}
"#,
        value: |_| "Echo".to_owned(),
    },
    Kind {
        name: "Cache",
        attribute: r#"#[worker(restart = transient, shutdown = "30s")]"#,
        overrides:
            ".restart(Restart::Transient).shutdown(Shutdown::Timeout(Duration::from_secs(30)))",
        code: r#"#[derive(Clone)]
pub struct Cache {
    pub size: usize,
}

impl Worker for Cache {
    type Message = Reply<usize>;

    async fn init(&mut self, _ctx: &mut Context<Reply<usize>>) -> Result<Init, Exit> {
        self.size = self.size.max(1);
        Ok(Init::Ready)
    }

    // Asked to stop, within its 30 s shutdown timeout.
    const HANDLES_SHUTDOWN: bool = true;

    async fn run(self, mut ctx: Context<Reply<usize>>) -> Result<(), Exit> {
        use std::future::Future;
        let shutdown = ctx.shutdown_signal();
        let mut stop = std::pin::pin!(shutdown.requested());
        loop {
            let mut recv = std::pin::pin!(ctx.recv());
            let next = std::future::poll_fn(|cx| match Future::poll(stop.as_mut(), cx) {
                std::task::Poll::Ready(()) => std::task::Poll::Ready(None),
                std::task::Poll::Pending => Future::poll(recv.as_mut(), cx).map(Some),
            })
            .await;
            match next {
                None => return Err(Exit::shutdown()),
                Some(None) => return Ok(()),
                Some(Some(reply)) => {
                    let _ = reply.send(self.size);
                }
            }
        }
    }
}
"#,
        value: |n| format!("Cache {{ size: {n} }}"),
    },
    Kind {
        name: "Job",
        attribute: "#[worker(restart = temporary, shutdown = brutal_kill)]",
        overrides: ".restart(Restart::Temporary).shutdown(Shutdown::BrutalKill)",
        code: r#"#[derive(Clone)]
pub struct Job;

impl Worker for Job {
    type Message = ();

    async fn run(self, mut ctx: Context) -> Result<(), Exit> {
        while ctx.recv().await.is_some() {}
        Ok(())
    }
}
"#,
        value: |_| "Job".to_owned(),
    },
    Kind {
        name: "Ledger",
        attribute: "#[worker]",
        overrides: "",
        code: r#"#[derive(Clone)]
pub struct Ledger {
    pub balance: i64,
}

#[handlers]
impl Ledger {
    #[cast]
    fn post(&mut self, amount: i64) {
        self.balance += amount;
    }

    #[call]
    fn balance(&mut self) -> i64 {
        self.balance
    }
}
"#,
        value: |n| format!("Ledger {{ balance: {n} }}"),
    },
];

/// The type of worker `w` of group `g`.
fn kind(g: usize, w: usize) -> &'static Kind {
    &KINDS[(g + w) % KINDS.len()]
}

/// Group `g`'s `#[supervisor(...)]` keys and the same as builder calls.
fn group_settings(g: usize) -> (Vec<&'static str>, String) {
    let mut keys = Vec::new();
    let mut calls = String::new();
    match g % 3 {
        1 => {
            keys.push("strategy = rest_for_one");
            calls.push_str(".strategy(Strategy::RestForOne)");
        }
        2 => {
            keys.push("strategy = one_for_all");
            calls.push_str(".strategy(Strategy::OneForAll)");
        }
        _ => {}
    }
    if g % 2 == 1 {
        keys.push("max_restarts = 10");
        calls.push_str(".max_restarts(10)");
    }
    (keys, calls)
}

/// The derived crate's `src/lib.rs`.
fn derived_source() -> String {
    let mut s = String::from(
        "//! W7's tree, derived (generated by `examples/compile_time.rs`).\n\n\
         use supervise::{\n    \
         handlers, worker, Context, Exit, Init, Reply, StartError, Supervisor, Worker,\n};\n",
    );
    for kind in &KINDS {
        s += &format!("\n{}\n{}", kind.attribute, kind.code);
    }
    for g in 0..GROUPS {
        let (keys, _) = group_settings(g);
        s += "\n#[derive(Clone, Supervisor)]\n";
        if !keys.is_empty() {
            s += &format!("#[supervisor({})]\n", keys.join(", "));
        }
        s += &format!("pub struct G{g:02} {{\n");
        for w in 0..WORKERS {
            s += &format!("    pub w{w}: {},\n", kind(g, w).name);
        }
        s += "}\n";
    }
    s += "\n#[derive(Clone, Supervisor)]\npub struct Root {\n";
    for g in 0..GROUPS {
        s += &format!("    pub g{g:02}: G{g:02},\n");
    }
    s += "}\n\npub async fn start() -> Result<RootHandle, StartError> {\n    Root {\n";
    for g in 0..GROUPS {
        s += &format!("        g{g:02}: G{g:02} {{\n");
        for w in 0..WORKERS {
            s += &format!(
                "            w{w}: {},\n",
                (kind(g, w).value)(g * WORKERS + w)
            );
        }
        s += "        },\n";
    }
    s += "    }\n    .start()\n    .await\n}\n";
    s
}

/// The builder crate's `src/lib.rs`.
fn builder_source() -> String {
    let mut s = String::from(
        "//! W7's tree, with the builder (generated by `examples/compile_time.rs`).\n\n\
         use std::time::Duration;\n\n\
         use supervise::{\n    \
         handlers, ChildSpec, Context, Exit, Init, Reply, Restart, Shutdown, StartError, Strategy,\n    \
         Supervisor, SupervisorRef, SupervisorSpec, Worker, WorkerHandle,\n};\n",
    );
    for kind in &KINDS {
        s += &format!("\n{}", kind.code);
    }
    for g in 0..GROUPS {
        let (_, calls) = group_settings(g);
        s += &format!("\n#[derive(Clone, Debug)]\npub struct G{g:02}Handle {{\n    pub supervisor: SupervisorRef,\n");
        for w in 0..WORKERS {
            s += &format!("    pub w{w}: WorkerHandle<{}>,\n", kind(g, w).name);
        }
        s += &format!("}}\n\nfn g{g:02}() -> (SupervisorSpec, G{g:02}Handle) {{\n");
        for w in 0..WORKERS {
            let value = (kind(g, w).value)(g * WORKERS + w);
            s += &format!(
                "    let (w{w}_spec, w{w}) = ChildSpec::worker_with_handle(\"w{w}\", || {value});\n"
            );
        }
        s += &format!("    let spec = Supervisor::builder(\"g{g:02}\"){calls}\n");
        for w in 0..WORKERS {
            s += &format!("        .child(w{w}_spec{})\n", kind(g, w).overrides);
        }
        s += "        .build()\n        .expect(\"a valid spec\");\n";
        s += &format!(
            "    let handle = G{g:02}Handle {{\n        supervisor: spec.supervisor_ref(),\n"
        );
        for w in 0..WORKERS {
            s += &format!("        w{w},\n");
        }
        s += "    };\n    (spec, handle)\n}\n";
    }
    s += "\n#[derive(Clone, Debug)]\npub struct RootHandle {\n    pub supervisor: SupervisorRef,\n";
    for g in 0..GROUPS {
        s += &format!("    pub g{g:02}: G{g:02}Handle,\n");
    }
    s += "}\n\npub async fn start() -> Result<RootHandle, StartError> {\n";
    for g in 0..GROUPS {
        s += &format!("    let (g{g:02}_spec, g{g:02}) = g{g:02}();\n");
    }
    s += "    let spec = Supervisor::builder(\"root\")\n";
    for g in 0..GROUPS {
        s += &format!("        .child(ChildSpec::supervisor(\"g{g:02}\", g{g:02}_spec))\n");
    }
    s += "        .build()\n        .expect(\"a valid spec\");\n";
    s += "    let handle = RootHandle {\n        supervisor: spec.supervisor_ref(),\n";
    for g in 0..GROUPS {
        s += &format!("        g{g:02},\n");
    }
    s += "    };\n    spec.start().await?;\n    Ok(handle)\n}\n";
    s
}

/// One of the two generated crates.
struct Crate {
    /// `derived` or `builder`: its directory under `target/compile-bench`.
    name: &'static str,
    dir: PathBuf,
}

impl Crate {
    /// Writes the crate (the files that changed), with the workspace's
    /// lockfile so that it resolves to the same versions offline.
    fn write(bench: &Path, workspace: &Path, name: &'static str, source: &str) -> Crate {
        let dir = bench.join(name);
        let supervise = workspace.join("supervise");
        let manifest = format!(
            "[package]\nname = \"w7-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nsupervise = {{ path = {:?} }}\n\n\
             # Not a member of the workspace it sits in.\n[workspace]\n",
            supervise.display().to_string(),
        );
        write_if_changed(&dir.join("Cargo.toml"), &manifest);
        write_if_changed(&dir.join("src/lib.rs"), source);
        fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
        Crate { name, dir }
    }

    fn source(&self) -> PathBuf {
        self.dir.join("src/lib.rs")
    }

    /// The rlib the build writes.
    fn rlib(&self, target: &Path) -> PathBuf {
        target.join(format!("debug/libw7_{}.rlib", self.name))
    }

    /// `cargo build` of the crate; returns what it printed. Exits on a
    /// failed build.
    fn build(&self, target: &Path) -> String {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let output = Command::new(cargo)
            .current_dir(&self.dir)
            .args(["build", "--offline", "--quiet", "--target-dir"])
            .arg(target)
            .output()
            .expect("cargo runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            eprintln!("{stderr}");
            eprintln!("W7: the {} crate failed to build", self.name);
            std::process::exit(1);
        }
        stderr
    }

    /// Touches the source, then times the build, in seconds. Exits if the
    /// build printed anything (a warning) or did not recompile the crate.
    fn timed_build(&self, target: &Path) -> f64 {
        let touched = SystemTime::now();
        fs::File::options()
            .write(true)
            .open(self.source())
            .and_then(|file| file.set_modified(touched))
            .expect("touch src/lib.rs");
        let started = Instant::now();
        let printed = self.build(target);
        let took = started.elapsed().as_secs_f64();
        if !printed.is_empty() {
            eprintln!("{printed}");
            eprintln!("W7: the {} crate's build printed the above", self.name);
            std::process::exit(1);
        }
        let built = fs::metadata(self.rlib(target)).and_then(|m| m.modified());
        if !built.is_ok_and(|built| built >= touched) {
            eprintln!("W7: the {} crate was not recompiled", self.name);
            std::process::exit(1);
        }
        took
    }
}

fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    fs::create_dir_all(path.parent().expect("a parent directory")).expect("create the directory");
    fs::write(path, contents).expect("write the generated crate");
}

/// Times `rounds` incremental builds of each crate: the derived crate's
/// times and the builder crate's, in seconds, round by round.
pub(crate) fn measure(rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let bench = workspace.join("target/compile-bench");
    let target = bench.join("target");
    let crates = [
        Crate::write(&bench, workspace, "derived", &derived_source()),
        Crate::write(&bench, workspace, "builder", &builder_source()),
    ];
    eprintln!(
        "  W7: {GROUPS} supervisors × {WORKERS} workers; \
         building both crates and their dependencies once (not timed)"
    );
    for krate in &crates {
        eprint!("{}", krate.build(&target));
    }
    let (mut derived, mut builder) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = crates[0].timed_build(&target);
            (a, crates[1].timed_build(&target))
        } else {
            let b = crates[1].timed_build(&target);
            (crates[0].timed_build(&target), b)
        };
        eprintln!(
            "  W7 round {}/{rounds}: derived {a:.2} s, builder {b:.2} s",
            round + 1
        );
        derived.push(a);
        builder.push(b);
    }
    (derived, builder)
}
