//! The benchmark harness: `supervise` against a raw-tokio floor, workload by
//! workload. BENCHMARKS.md at the workspace root has the method, the machine
//! and the results.
//!
//! For every workload, each round runs `supervise` (A) and the floor (B), the
//! smallest raw-tokio program that gives the same guarantees (OTP's start
//! order where the workload needs it: sequential start, each child
//! acknowledged before the next; reverse sequential stop). The two alternate,
//! and their order swaps every round (A B, B A, ...). Every run gets a fresh
//! runtime, multi-thread with 2 workers (`mt`) or current-thread (`ct`), and
//! its driver is a `tokio::spawn`ed task. Both sides share one no-op panic
//! hook and run without a tracing subscriber. A cell shows the median and
//! the min–max of the runs; the ratio is the median of the per-round ratios
//! A/B, so both sides of a ratio come from the same round.
//!
//! ```text
//! cargo run --release -p examples --example bench               # everything, full N, 12 rounds
//! cargo run --release -p examples --example bench -- --quick    # small N, 3 rounds
//! cargo run --release -p examples --example bench -- W1 W4      # some workloads only
//! cargo run --release -p examples --example bench -- --rounds 20
//! ```
//!
//! * W1: restart latency of a crashing permanent child, from just before the
//!   driver tells it to crash until the new incarnation has announced itself
//!   from its init and answered a ping; once crashing by an error return,
//!   once by a panic.
//! * W2: dynamic start throughput, each start acknowledged before the next;
//!   and the RSS per child, measured in a fresh process per side (the bench
//!   re-executes itself with `--rss supervise|floor N mt|ct`).
//! * W2P: W2's start throughput through a `PartitionSupervisor` of 1, 2 and
//!   4 partitions, from one driver and from 4 concurrent drivers (each start
//!   acknowledged before that driver's next); the floor is W2's, from as
//!   many drivers.
//! * W3: start and graceful shutdown of a root with nested supervisors.
//! * W4: one_for_all restart of a large supervisor, until every new
//!   incarnation has reported from its init.
//! * W5: per-restart cost in a restart storm inside one intensity window (A)
//!   against the same number of restarts in batches under fresh supervisors
//!   with a small intensity (B); both sides are `supervise`.
//! * W6: a call round trip through a typed `WorkerHandle` against a raw mpsc
//!   plus oneshot round trip.
//! * W7: compile time, an incremental debug build of a 200-child tree written
//!   with the macros (A) against the same tree written with the builder (B);
//!   see `bench/w7.rs`.
//! * W9: a `Registry` (A) against a `DashMap` (B), from 1 and from 8
//!   concurrent tasks: unique registrations (A: made by workers from their
//!   own context; B: inserts through the entry API, the owner beside the
//!   value), lookups of a registered key, and dispatches to the 4
//!   subscribers of a duplicate key through their channel senders (B: the
//!   senders in a vector under the key). Run when named or in the full
//!   table.

#[path = "bench/w7.rs"]
mod w7;

use std::future::Future;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use supervise::{
    ChildSpec, Context, DynamicSupervisor, Exit, HandleError, Init, PartitionSupervisor, Registry,
    Reply, Strategy, Supervisor, Worker, WorkerHandle,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A restart intensity period no benchmark comes near.
const LONG_PERIOD: Duration = Duration::from_secs(3600);

/// How long a call through a handle may wait for a restarted child.
const PATIENCE: Duration = Duration::from_secs(30);

/// How long the bench may make no progress before the watchdog calls it a
/// hang (stopping 100,000 dynamic children takes a while).
const HANG: Duration = Duration::from_secs(120);

/// Bumped by the drivers as they go; the watchdog reads it. It keeps timers
/// out of the measured loops (a `tokio::time::timeout` per iteration would
/// add its cost to both sides).
static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// One step done. Only the one running driver writes, so a plain load and
/// store do (no locked instruction in the measured loops). W2P's concurrent
/// drivers may lose each other's steps: the watchdog only looks for a change.
fn tick() {
    PROGRESS.store(PROGRESS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Ends the process if the drivers stop making progress.
fn start_watchdog() {
    std::thread::spawn(|| {
        let mut last = PROGRESS.load(Ordering::Relaxed);
        let mut still = Duration::ZERO;
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = PROGRESS.load(Ordering::Relaxed);
            if now == last {
                still += Duration::from_secs(1);
                if still >= HANG {
                    eprintln!("bench: no progress for {HANG:?}: a hang");
                    std::process::exit(1);
                }
            } else {
                (last, still) = (now, Duration::ZERO);
            }
        }
    });
}

// ===== configuration =====

#[derive(Debug, Clone, Copy)]
struct Config {
    rounds: usize,
    w1_restarts: usize,
    w2_children: usize,
    w3_groups: usize,
    w3_workers: usize,
    w4_children: usize,
    w4_crashes: usize,
    w5_storm: u32,
    w5_batch: u32,
    w6_calls: usize,
    w9_keys: u64,
    w9_lookups: u64,
    w9_dispatches: u64,
}

impl Config {
    const FULL: Config = Config {
        rounds: 12,
        w1_restarts: 10_000,
        w2_children: 100_000,
        w3_groups: 100,
        w3_workers: 1_000,
        w4_children: 1_000,
        w4_crashes: 30,
        w5_storm: 100_000,
        w5_batch: 1_000,
        w6_calls: 100_000,
        w9_keys: 100_000,
        w9_lookups: 1_000_000,
        w9_dispatches: 100_000,
    };

    const QUICK: Config = Config {
        rounds: 3,
        w1_restarts: 200,
        w2_children: 2_000,
        w3_groups: 5,
        w3_workers: 50,
        w4_children: 100,
        w4_crashes: 5,
        w5_storm: 2_000,
        w5_batch: 200,
        w6_calls: 2_000,
        w9_keys: 2_000,
        w9_lookups: 20_000,
        w9_dispatches: 2_000,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// The multi-thread runtime with 2 workers.
    Mt,
    /// The current-thread runtime.
    Ct,
}

impl Flavour {
    fn name(self) -> &'static str {
        match self {
            Flavour::Mt => "mt",
            Flavour::Ct => "ct",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "mt" => Some(Flavour::Mt),
            "ct" => Some(Flavour::Ct),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `supervise`.
    A,
    /// The raw-tokio floor (W5: `supervise` in small batches).
    B,
}

/// Runs `driver` as a spawned task on a fresh runtime of `flavour`, and
/// drops the runtime afterwards.
fn on_runtime<T, F>(flavour: Flavour, driver: F) -> T
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let runtime = match flavour {
        Flavour::Mt => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        Flavour::Ct => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .expect("a tokio runtime");
    let joined = runtime.block_on(async move { tokio::spawn(driver).await });
    drop(runtime);
    tick();
    match joined {
        Ok(value) => value,
        Err(error) => {
            // The panic hook is silent: say what happened here.
            if error.is_panic() {
                let payload = error.into_panic();
                eprintln!("bench: the driver panicked: {}", panic_message(&*payload));
            } else {
                eprintln!("bench: the driver was cancelled");
            }
            std::process::exit(1);
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a non-string payload"
    }
}

// ===== W1: restart latency =====

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crash {
    /// `run` returns an error.
    Error,
    /// `run` panics.
    Panic,
}

enum CrashMsg {
    Crash(Crash),
    Ping(Reply<u64>),
}

/// Announces its incarnation from its init, answers pings with it, and
/// crashes when told.
#[derive(Clone)]
struct Crashy {
    announce: mpsc::UnboundedSender<u64>,
}

impl Worker for Crashy {
    type Message = CrashMsg;

    async fn init(&mut self, ctx: &mut Context<CrashMsg>) -> Result<Init, Exit> {
        let _ = self.announce.send(ctx.incarnation());
        Ok(Init::Ready)
    }

    async fn run(self, mut ctx: Context<CrashMsg>) -> Result<(), Exit> {
        let me = ctx.incarnation();
        while let Some(msg) = ctx.recv().await {
            match msg {
                CrashMsg::Crash(Crash::Error) => return Err(Exit::from("crash")),
                CrashMsg::Crash(Crash::Panic) => panic!("crash"),
                CrashMsg::Ping(reply) => {
                    let _ = reply.send(me);
                }
            }
        }
        Ok(())
    }
}

async fn sup_w1(mode: Crash, restarts: usize) -> Vec<f64> {
    let (announce, mut announced) = mpsc::unbounded_channel();
    let (spec, handle) = ChildSpec::worker_with_handle("crashy", move || Crashy {
        announce: announce.clone(),
    });
    let sup = Supervisor::builder("w1")
        .max_restarts(u32::MAX)
        .period(LONG_PERIOD)
        .child(spec)
        .build()
        .expect("a valid spec")
        .start()
        .await
        .expect("the tree starts");
    assert_eq!(announced.recv().await, Some(1));
    let mut latencies = Vec::with_capacity(restarts);
    for _ in 0..restarts {
        let started = Instant::now();
        if handle.send(CrashMsg::Crash(mode)).is_err() {
            panic!("the child is not running");
        }
        let me = announced.recv().await.expect("announced");
        // The handle is pointed at the new incarnation right after its
        // init returns: on `mt` the ping can get there first.
        let got = match handle.call(CrashMsg::Ping).await {
            Err(HandleError::NotRunning) => handle
                .call_timeout(CrashMsg::Ping, PATIENCE)
                .await
                .expect("the new incarnation answers"),
            other => other.expect("the new incarnation answers"),
        };
        latencies.push(started.elapsed());
        tick();
        assert_eq!(got, me, "the ping reached the new incarnation");
    }
    sup.stop().await.expect("the tree stops");
    latency_percentiles_us(latencies)
}

enum FloorCrashMsg {
    Crash(Crash),
    Ping(oneshot::Sender<u64>),
    Stop,
}

type FloorMailbox = mpsc::UnboundedSender<FloorCrashMsg>;

async fn floor_w1_child(
    me: u64,
    announce: mpsc::UnboundedSender<(u64, FloorMailbox)>,
) -> Result<(), BoxError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _ = announce.send((me, tx));
    while let Some(msg) = rx.recv().await {
        match msg {
            FloorCrashMsg::Crash(Crash::Error) => return Err(BoxError::from("crash")),
            FloorCrashMsg::Crash(Crash::Panic) => panic!("crash"),
            FloorCrashMsg::Ping(reply) => {
                let _ = reply.send(me);
            }
            FloorCrashMsg::Stop => return Ok(()),
        }
    }
    Ok(())
}

/// Respawns the child whenever its JoinHandle reports a crash.
async fn floor_w1_supervisor(announce: mpsc::UnboundedSender<(u64, FloorMailbox)>) {
    let mut me = 1;
    loop {
        match tokio::spawn(floor_w1_child(me, announce.clone())).await {
            Ok(Ok(())) => return,
            Ok(Err(_)) | Err(_) => me += 1,
        }
    }
}

async fn floor_w1(mode: Crash, restarts: usize) -> Vec<f64> {
    let (announce, mut announced) = mpsc::unbounded_channel();
    let sup = tokio::spawn(floor_w1_supervisor(announce));
    let (first, mut mailbox) = announced.recv().await.expect("announced");
    assert_eq!(first, 1);
    let mut latencies = Vec::with_capacity(restarts);
    for _ in 0..restarts {
        let started = Instant::now();
        if mailbox.send(FloorCrashMsg::Crash(mode)).is_err() {
            panic!("the child is not running");
        }
        let (me, next) = announced.recv().await.expect("announced");
        mailbox = next;
        let (reply, answer) = oneshot::channel();
        if mailbox.send(FloorCrashMsg::Ping(reply)).is_err() {
            panic!("the new incarnation is not running");
        }
        let got = answer.await.expect("the new incarnation answers");
        latencies.push(started.elapsed());
        tick();
        assert_eq!(got, me, "the ping reached the new incarnation");
    }
    let _ = mailbox.send(FloorCrashMsg::Stop);
    sup.await.expect("the floor supervisor exits");
    latency_percentiles_us(latencies)
}

/// p50 and p99, in µs.
fn latency_percentiles_us(mut latencies: Vec<Duration>) -> Vec<f64> {
    latencies.sort_unstable();
    let at = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len() - 1);
        latencies[i].as_secs_f64() * 1e6
    };
    vec![at(0.50), at(0.99)]
}

fn w1(side: Side, flavour: Flavour, restarts: usize, mode: Crash) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w1(mode, restarts)),
        Side::B => on_runtime(flavour, floor_w1(mode, restarts)),
    }
}

fn w1_error(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    w1(side, flavour, cfg.w1_restarts, Crash::Error)
}

fn w1_panic(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    w1(side, flavour, cfg.w1_restarts, Crash::Panic)
}

// ===== W2: dynamic start throughput and memory =====

/// An idle child that answers calls.
#[supervise::worker]
#[derive(Clone)]
struct Idle;

impl Worker for Idle {
    type Message = Reply<u64>;

    async fn run(self, mut ctx: Context<Reply<u64>>) -> Result<(), Exit> {
        while let Some(reply) = ctx.recv().await {
            let _ = reply.send(0);
        }
        Ok(())
    }
}

/// Resident memory, from /proc/self/statm (resident pages × page size).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The page size, from the auxiliary vector's `AT_PAGESZ`.
fn page_size() -> u64 {
    const AT_PAGESZ: usize = 6;
    const WORD: usize = std::mem::size_of::<usize>();
    let word = |bytes: &[u8]| usize::from_ne_bytes(bytes.try_into().expect("one word"));
    std::fs::read("/proc/self/auxv")
        .ok()
        .and_then(|auxv| {
            auxv.chunks_exact(2 * WORD)
                .find(|entry| word(&entry[..WORD]) == AT_PAGESZ)
                .map(|entry| word(&entry[WORD..]) as u64)
        })
        .unwrap_or(4096)
}

/// `[children per second, RSS bytes per child]` (the in-process run adds
/// the time to stop them all).
fn w2_result(children: usize, took: Duration, before: Option<u64>, after: Option<u64>) -> Vec<f64> {
    let per_sec = children as f64 / took.as_secs_f64();
    let rss = match (before, after) {
        (Some(before), Some(after)) => (after as f64 - before as f64) / children as f64,
        _ => f64::NAN,
    };
    vec![per_sec, rss]
}

/// In `--rss` mode: prints the result for the parent and exits at once,
/// with every child still alive.
fn report_and_exit(result: &[f64]) -> ! {
    println!("RSS {} {}", result[1], result[0]);
    let _ = std::io::stdout().flush();
    std::process::exit(0)
}

async fn sup_w2(children: usize, report: bool) -> Vec<f64> {
    let sup = DynamicSupervisor::<Idle>::new()
        .start("w2")
        .await
        .expect("the supervisor starts");
    let mut handles = Vec::with_capacity(children);
    let before = rss_bytes();
    let started = Instant::now();
    for _ in 0..children {
        handles.push(sup.start_child(Idle).await.expect("the child starts"));
        tick();
    }
    let took = started.elapsed();
    let result = w2_result(children, took, before, rss_bytes());
    if report {
        report_and_exit(&result);
    }
    drop(handles);
    let stopping = Instant::now();
    stop_current(sup.supervisor()).await;
    [result, vec![ms(stopping.elapsed())]].concat()
}

/// Spawns one floor child, which acknowledges on its first poll and then
/// answers calls; returns its mailbox and `JoinHandle` once it has
/// acknowledged.
async fn floor_w2_child() -> (mpsc::UnboundedSender<oneshot::Sender<u64>>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<u64>>();
    let (ack, acked) = oneshot::channel::<()>();
    let join = tokio::spawn(async move {
        let _ = ack.send(());
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(0);
        }
    });
    acked.await.expect("the child acknowledges");
    (tx, join)
}

/// Stops a supervisor's running incarnation and waits for it.
async fn stop_current(sup: &supervise::SupervisorRef) {
    sup.current()
        .expect("running")
        .stop()
        .await
        .expect("the supervisor stops");
}

async fn floor_w2(children: usize, report: bool) -> Vec<f64> {
    let mut kids = Vec::with_capacity(children);
    let before = rss_bytes();
    let started = Instant::now();
    for _ in 0..children {
        kids.push(floor_w2_child().await);
        tick();
    }
    let took = started.elapsed();
    let result = w2_result(children, took, before, rss_bytes());
    if report {
        report_and_exit(&result);
    }
    // A dynamic supervisor stops its children all at once: abort every
    // one (the children do not handle shutdown), then wait for all.
    let stopping = Instant::now();
    for (_, join) in &kids {
        join.abort();
    }
    for (_, join) in kids {
        let _ = join.await;
    }
    [result, vec![ms(stopping.elapsed())]].concat()
}

fn w2_start(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let n = cfg.w2_children;
    let result = match side {
        Side::A => on_runtime(flavour, sup_w2(n, false)),
        Side::B => on_runtime(flavour, floor_w2(n, false)),
    };
    vec![result[0], result[2]]
}

/// One fresh process per run: `[RSS bytes per child, children per second]`.
fn w2_rss(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let side = match side {
        Side::A => "supervise",
        Side::B => "floor",
    };
    let exe = std::env::current_exe().expect("the bench's own path");
    let output = Command::new(exe)
        .args(["--rss", side, &cfg.w2_children.to_string(), flavour.name()])
        .stderr(Stdio::inherit())
        .output()
        .expect("the bench re-executes itself");
    assert!(output.status.success(), "`--rss {side}` failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RSS "))
        .expect("`--rss` prints a result line");
    line.split_whitespace()
        .map(|x| x.parse::<f64>().expect("a number"))
        .collect()
}

/// `--rss supervise|floor N mt|ct`: the child process of [`w2_rss`].
fn rss_mode(args: &[String]) -> ! {
    let usage = "usage: bench --rss supervise|floor N mt|ct";
    let [side, n, flavour] = args else {
        eprintln!("{usage}");
        std::process::exit(2)
    };
    let (Ok(n), Some(flavour)) = (n.parse::<usize>(), Flavour::parse(flavour)) else {
        eprintln!("{usage}");
        std::process::exit(2)
    };
    match side.as_str() {
        "supervise" => on_runtime(flavour, sup_w2(n, true)),
        "floor" => on_runtime(flavour, floor_w2(n, true)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2)
        }
    };
    unreachable!("the driver reports and exits")
}

// ===== W2P: partitioned dynamic start throughput =====

/// Spawns `drivers` driver tasks at once, each given its share of
/// `children` to start, and waits for all of them. Returns the time from
/// the first spawn until the last driver is done, and what the drivers
/// returned (the children's handles: dropped after the clock stops).
async fn drive_concurrently<T, D, F>(
    children: usize,
    drivers: usize,
    driver: D,
) -> (Duration, Vec<T>)
where
    T: Send + 'static,
    D: Fn(usize) -> F,
    F: Future<Output = T> + Send + 'static,
{
    let started = Instant::now();
    let tasks: Vec<JoinHandle<T>> = (0..drivers)
        .map(|d| {
            tokio::spawn(driver(
                children / drivers + usize::from(d < children % drivers),
            ))
        })
        .collect();
    let mut results = Vec::with_capacity(drivers);
    for task in tasks {
        // A driver's panic goes on to `on_runtime` with its own message.
        results.push(
            task.await
                .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic())),
        );
    }
    (started.elapsed(), results)
}

/// `[children per second]` through a `PartitionSupervisor` of `partitions`
/// partitions, the unkeyed starts (the partitions in turn) split among
/// `drivers` concurrent drivers.
async fn sup_w2p(children: usize, partitions: usize, drivers: usize) -> Vec<f64> {
    let sup = PartitionSupervisor::new(DynamicSupervisor::<Idle>::new(), partitions)
        .expect("at least one partition")
        .start("w2p")
        .await
        .expect("the partitions start");
    let (took, handles) = drive_concurrently(children, drivers, |n| {
        let sup = sup.clone();
        async move {
            let mut handles = Vec::with_capacity(n);
            for _ in 0..n {
                handles.push(
                    sup.start_child_unkeyed(Idle)
                        .await
                        .expect("the child starts"),
                );
                tick();
            }
            handles
        }
    })
    .await;
    drop(handles);
    stop_current(sup.supervisor()).await;
    vec![children as f64 / took.as_secs_f64()]
}

/// `[children per second]` of W2's floor, the starts split among `drivers`
/// concurrent drivers.
async fn floor_w2p(children: usize, drivers: usize) -> Vec<f64> {
    let (took, kids) = drive_concurrently(children, drivers, |n| async move {
        let mut kids = Vec::with_capacity(n);
        for _ in 0..n {
            kids.push(floor_w2_child().await);
            tick();
        }
        kids
    })
    .await;
    // Dropping the mailboxes ends the children.
    drop(kids);
    vec![children as f64 / took.as_secs_f64()]
}

/// W2's start throughput through `PARTITIONS` partitions from `DRIVERS`
/// concurrent drivers; the floor from as many drivers.
fn w2p<const PARTITIONS: usize, const DRIVERS: usize>(
    side: Side,
    flavour: Flavour,
    cfg: &Config,
) -> Vec<f64> {
    let n = cfg.w2_children;
    match side {
        Side::A => on_runtime(flavour, sup_w2p(n, PARTITIONS, DRIVERS)),
        Side::B => on_runtime(flavour, floor_w2p(n, DRIVERS)),
    }
}

// ===== W3: start and graceful shutdown of a large tree =====

/// Idles until it is asked to stop, then stops cleanly.
#[derive(Clone)]
struct Member;

impl Worker for Member {
    type Message = ();

    const HANDLES_SHUTDOWN: bool = true;

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        ctx.shutdown_requested().await;
        Err(Exit::shutdown())
    }
}

/// `[start ms, shutdown ms]`.
async fn sup_w3(groups: usize, workers: usize) -> Vec<f64> {
    let mut root = Supervisor::builder("w3");
    for g in 0..groups {
        let group = Supervisor::builder(format!("g{g}"))
            .children((0..workers).map(|w| ChildSpec::worker(format!("w{w}"), || Member)))
            .build()
            .expect("a valid group");
        root = root.child(ChildSpec::supervisor(format!("g{g}"), group));
    }
    let spec = root.build().expect("a valid root");
    let started = Instant::now();
    let sup = spec.start().await.expect("the tree starts");
    let start = started.elapsed();
    let stopping = Instant::now();
    sup.stop().await.expect("the tree stops");
    let stop = stopping.elapsed();
    vec![ms(start), ms(stop)]
}

async fn floor_w3_worker(stop: CancellationToken, ack: oneshot::Sender<()>) {
    let _ = ack.send(());
    stop.cancelled().await;
}

/// Starts its workers one after another, each acknowledged before the
/// next; acknowledges; and when told, stops them one at a time in reverse.
async fn floor_w3_group(workers: usize, stop: CancellationToken, ack: oneshot::Sender<()>) {
    let mut kids = Vec::with_capacity(workers);
    for _ in 0..workers {
        let token = CancellationToken::new();
        let (worker_ack, acked) = oneshot::channel();
        let join = tokio::spawn(floor_w3_worker(token.clone(), worker_ack));
        acked.await.expect("the worker acknowledges");
        kids.push((token, join));
    }
    let _ = ack.send(());
    stop.cancelled().await;
    for (token, join) in kids.into_iter().rev() {
        token.cancel();
        join.await.expect("the worker exits");
    }
}

async fn floor_w3(groups: usize, workers: usize) -> Vec<f64> {
    let started = Instant::now();
    let mut kids = Vec::with_capacity(groups);
    for _ in 0..groups {
        let token = CancellationToken::new();
        let (ack, acked) = oneshot::channel();
        let join = tokio::spawn(floor_w3_group(workers, token.clone(), ack));
        acked.await.expect("the group acknowledges");
        kids.push((token, join));
    }
    let start = started.elapsed();
    let stopping = Instant::now();
    for (token, join) in kids.into_iter().rev() {
        token.cancel();
        join.await.expect("the group exits");
    }
    let stop = stopping.elapsed();
    vec![ms(start), ms(stop)]
}

fn w3(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let (groups, workers) = (cfg.w3_groups, cfg.w3_workers);
    match side {
        Side::A => on_runtime(flavour, sup_w3(groups, workers)),
        Side::B => on_runtime(flavour, floor_w3(groups, workers)),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// ===== W4: one_for_all restart of a large supervisor =====

/// Reports `(index, incarnation)` from its init; the one with a mailbox
/// crashes when it gets a message.
#[derive(Clone)]
struct Sibling {
    index: usize,
    announce: mpsc::UnboundedSender<(usize, u64)>,
}

impl Worker for Sibling {
    type Message = ();

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        let _ = self.announce.send((self.index, ctx.incarnation()));
        Ok(Init::Ready)
    }

    async fn run(self, mut ctx: Context) -> Result<(), Exit> {
        match ctx.recv().await {
            Some(()) => Err(Exit::from("crash")),
            None => Ok(()),
        }
    }
}

/// Waits until all `n` children have reported incarnation `generation`.
async fn sup_w4_wait(
    announced: &mut mpsc::UnboundedReceiver<(usize, u64)>,
    n: usize,
    generation: u64,
) {
    for _ in 0..n {
        let (index, got) = announced.recv().await.expect("announced");
        assert_eq!(got, generation, "child {index} is a new incarnation");
    }
}

/// `[restart p50 ms]` over `crashes` crashes.
async fn sup_w4(n: usize, crashes: usize) -> Vec<f64> {
    let (announce, mut announced) = mpsc::unbounded_channel();
    let mut builder = Supervisor::builder("w4")
        .strategy(Strategy::OneForAll)
        .max_restarts(u32::MAX)
        .period(LONG_PERIOD);
    let mut crasher = None;
    for index in 0..n {
        let announce = announce.clone();
        let factory = move || Sibling {
            index,
            announce: announce.clone(),
        };
        let id = format!("c{index}");
        if index == 0 {
            let (spec, handle) = ChildSpec::worker_with_handle(id, factory);
            crasher = Some(handle);
            builder = builder.child(spec);
        } else {
            builder = builder.child(ChildSpec::worker(id, factory));
        }
    }
    let crasher = crasher.expect("a child to crash");
    let sup = builder
        .build()
        .expect("a valid spec")
        .start()
        .await
        .expect("the tree starts");
    sup_w4_wait(&mut announced, n, 1).await;
    let mut times = Vec::with_capacity(crashes);
    for generation in 2..crashes as u64 + 2 {
        let started = Instant::now();
        crasher.send(()).expect("the child to crash is running");
        sup_w4_wait(&mut announced, n, generation).await;
        times.push(ms(started.elapsed()));
        tick();
    }
    sup.stop().await.expect("the tree stops");
    vec![median(&times)]
}

enum FloorSiblingMsg {
    Crash,
    Stop,
}

type FloorAnnounce =
    mpsc::UnboundedSender<(usize, u64, Option<mpsc::UnboundedSender<FloorSiblingMsg>>)>;

async fn floor_w4_child(
    index: usize,
    generation: u64,
    announce: FloorAnnounce,
    ack: oneshot::Sender<()>,
) -> Result<(), BoxError> {
    if index == 0 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _ = announce.send((index, generation, Some(tx)));
        let _ = ack.send(());
        match rx.recv().await {
            Some(FloorSiblingMsg::Crash) => Err(BoxError::from("crash")),
            Some(FloorSiblingMsg::Stop) | None => Ok(()),
        }
    } else {
        let _ = announce.send((index, generation, None));
        let _ = ack.send(());
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Sequential start: each child acknowledged before the next.
async fn floor_w4_start_all(
    n: usize,
    generation: u64,
    announce: &FloorAnnounce,
) -> Vec<JoinHandle<Result<(), BoxError>>> {
    let mut kids = Vec::with_capacity(n);
    for index in 0..n {
        let (ack, acked) = oneshot::channel();
        kids.push(tokio::spawn(floor_w4_child(
            index,
            generation,
            announce.clone(),
            ack,
        )));
        acked.await.expect("the child acknowledges");
    }
    kids
}

/// When child 0 crashes: aborts the others one at a time in reverse order,
/// then starts all of them again in order.
async fn floor_w4_supervisor(n: usize, announce: FloorAnnounce) {
    let mut generation = 1;
    let mut kids = floor_w4_start_all(n, generation, &announce).await;
    loop {
        let exit = (&mut kids[0]).await;
        for join in kids.drain(1..).rev() {
            join.abort();
            let _ = join.await;
        }
        if matches!(exit, Ok(Ok(()))) {
            return;
        }
        generation += 1;
        kids = floor_w4_start_all(n, generation, &announce).await;
    }
}

/// Waits until all `n` children have reported `generation`; returns the
/// mailbox of child 0.
async fn floor_w4_wait(
    announced: &mut mpsc::UnboundedReceiver<(
        usize,
        u64,
        Option<mpsc::UnboundedSender<FloorSiblingMsg>>,
    )>,
    n: usize,
    generation: u64,
) -> mpsc::UnboundedSender<FloorSiblingMsg> {
    let mut mailbox = None;
    for _ in 0..n {
        let (index, got, tx) = announced.recv().await.expect("announced");
        assert_eq!(got, generation, "child {index} is a new incarnation");
        if tx.is_some() {
            mailbox = tx;
        }
    }
    mailbox.expect("child 0 announced its mailbox")
}

async fn floor_w4(n: usize, crashes: usize) -> Vec<f64> {
    let (announce, mut announced) = mpsc::unbounded_channel();
    let sup = tokio::spawn(floor_w4_supervisor(n, announce));
    let mut crasher = floor_w4_wait(&mut announced, n, 1).await;
    let mut times = Vec::with_capacity(crashes);
    for generation in 2..crashes as u64 + 2 {
        let started = Instant::now();
        if crasher.send(FloorSiblingMsg::Crash).is_err() {
            panic!("the child to crash is not running");
        }
        crasher = floor_w4_wait(&mut announced, n, generation).await;
        times.push(ms(started.elapsed()));
        tick();
    }
    let _ = crasher.send(FloorSiblingMsg::Stop);
    sup.await.expect("the floor supervisor exits");
    vec![median(&times)]
}

fn w4(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let (n, crashes) = (cfg.w4_children, cfg.w4_crashes);
    match side {
        Side::A => on_runtime(flavour, sup_w4(n, crashes)),
        Side::B => on_runtime(flavour, floor_w4(n, crashes)),
    }
}

// ===== W5: restart storm =====

/// How long one storm may take before it is cut short and its per-restart
/// cost taken over the restarts done by then (a lower bound: a storm whose
/// restarts get slower as it goes would have cost more).
const STORM_BUDGET: Duration = Duration::from_secs(4);

/// Crashes at once (an error return) until incarnation `last + 1`, which
/// says so and idles. Every incarnation records its number in `progress`.
#[derive(Clone)]
struct Storm {
    last: u64,
    done: mpsc::UnboundedSender<()>,
    progress: Arc<AtomicU64>,
}

impl Worker for Storm {
    type Message = ();

    async fn run(self, ctx: Context) -> Result<(), Exit> {
        self.progress.store(ctx.incarnation(), Ordering::Relaxed);
        if ctx.incarnation() <= self.last {
            return Err(Exit::from("storm"));
        }
        let _ = self.done.send(());
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// `restarts` restarts of one child under a fresh supervisor whose
/// intensity is exactly `restarts` within a long period. Returns the time
/// from the start until the last incarnation is up (the stop not counted)
/// and the restarts done in it: all of them, unless [`STORM_BUDGET`] ran
/// out first.
async fn storm(restarts: u32) -> (Duration, u64) {
    let (done, mut finished) = mpsc::unbounded_channel();
    let progress = Arc::new(AtomicU64::new(0));
    let last = u64::from(restarts);
    let counter = progress.clone();
    let spec = Supervisor::builder("w5")
        .max_restarts(restarts)
        .period(LONG_PERIOD)
        .child(ChildSpec::worker("storm", move || Storm {
            last,
            done: done.clone(),
            progress: counter.clone(),
        }))
        .build()
        .expect("a valid spec");
    let started = Instant::now();
    let sup = spec.start().await.expect("the tree starts");
    let restarted = match tokio::time::timeout(STORM_BUDGET, finished.recv()).await {
        Ok(Some(())) => last,
        Ok(None) => panic!("the storm's supervisor is gone"),
        Err(_) => progress.load(Ordering::Relaxed).saturating_sub(1),
    };
    let took = started.elapsed();
    sup.stop().await.expect("the supervisor did not give up");
    (took, restarted)
}

/// `[ns per restart, restarts timed]`: A, one storm of `storm` restarts;
/// B, the same number of restarts in batches of `batch`, each under a
/// fresh supervisor.
fn w5(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let (total, batch) = (cfg.w5_storm, cfg.w5_batch);
    let (took, restarts) = match side {
        Side::A => on_runtime(flavour, storm(total)),
        Side::B => on_runtime(flavour, async move {
            let (mut took, mut restarts) = (Duration::ZERO, 0);
            for _ in 0..total / batch {
                let (t, n) = storm(batch).await;
                took += t;
                restarts += n;
            }
            (took, restarts)
        }),
    };
    vec![took.as_secs_f64() * 1e9 / restarts as f64, restarts as f64]
}

// ===== W6: call round trip =====

/// Answers every call with a count.
#[derive(Clone)]
struct Echo;

impl Worker for Echo {
    type Message = Reply<u64>;

    async fn run(self, mut ctx: Context<Reply<u64>>) -> Result<(), Exit> {
        let mut count = 0;
        while let Some(reply) = ctx.recv().await {
            count += 1;
            let _ = reply.send(count);
        }
        Ok(())
    }
}

/// `[p50 ns, mean ns]` of single calls, after a tenth as many untimed.
fn call_stats(latencies: &[Duration]) -> Vec<f64> {
    let ns: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e9).collect();
    let mean = ns.iter().sum::<f64>() / ns.len() as f64;
    vec![median(&ns), mean]
}

async fn sup_w6(calls: usize) -> Vec<f64> {
    let (spec, handle) = ChildSpec::worker_with_handle("echo", || Echo);
    let sup = Supervisor::builder("w6")
        .child(spec)
        .build()
        .expect("a valid spec")
        .start()
        .await
        .expect("the tree starts");
    for _ in 0..calls / 10 {
        handle.call(|reply| reply).await.expect("an answer");
    }
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let got = handle.call(|reply| reply).await.expect("an answer");
        latencies.push(started.elapsed());
        tick();
        std::hint::black_box(got);
    }
    sup.stop().await.expect("the tree stops");
    call_stats(&latencies)
}

async fn floor_w6(calls: usize) -> Vec<f64> {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<u64>>();
    let echo = tokio::spawn(async move {
        let mut count = 0;
        while let Some(reply) = rx.recv().await {
            count += 1;
            let _ = reply.send(count);
        }
    });
    let call = |tx: &mpsc::UnboundedSender<oneshot::Sender<u64>>| {
        let (reply, answer) = oneshot::channel();
        let sent = tx.send(reply);
        async move {
            sent.map_err(|_| "the echo task is gone")?;
            answer.await.map_err(|_| "the echo task is gone")
        }
    };
    for _ in 0..calls / 10 {
        call(&tx).await.expect("an answer");
    }
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let got = call(&tx).await.expect("an answer");
        latencies.push(started.elapsed());
        tick();
        std::hint::black_box(got);
    }
    drop(tx);
    echo.await.expect("the echo task exits");
    call_stats(&latencies)
}

fn w6(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w6(cfg.w6_calls)),
        Side::B => on_runtime(flavour, floor_w6(cfg.w6_calls)),
    }
}

// ===== W9: a registry against a DashMap =====

/// The subscribers of W9's dispatch topic.
const W9_SUBSCRIBERS: usize = 4;

/// The topic of W9's dispatches.
const W9_TOPIC: u64 = 0;

/// Task `t` of `tasks`' share of `n`: its first index and how many.
fn share(n: u64, tasks: u64, t: u64) -> (u64, u64) {
    let base = n / tasks;
    let extra = n % tasks;
    (t * base + t.min(extra), base + u64::from(t < extra))
}

/// Spawns `tasks` tasks at once, task `t` running `driver(t)`, and returns
/// the time until the last is done.
async fn race<D, F>(tasks: u64, driver: D) -> Duration
where
    D: Fn(u64) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let started = Instant::now();
    let spawned: Vec<JoinHandle<()>> = (0..tasks).map(|t| tokio::spawn(driver(t))).collect();
    for task in spawned {
        task.await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    }
    started.elapsed()
}

/// What a W9 worker is asked to do from its own context.
enum RegistrarMsg {
    /// Registers the keys `from..from + n`, each its own value.
    Register {
        from: u64,
        n: u64,
        done: oneshot::Sender<()>,
    },
    /// Registers a channel sender under the dispatch topic.
    Subscribe(Reply<mpsc::UnboundedReceiver<u64>>),
}

/// A registry's registrant: registers what it is told to, and idles.
struct Registrar {
    names: Registry<u64, u64>,
    topics: Registry<u64, mpsc::UnboundedSender<u64>>,
}

impl Worker for Registrar {
    type Message = RegistrarMsg;

    async fn run(self, mut ctx: Context<RegistrarMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                RegistrarMsg::Register { from, n, done } => {
                    for key in from..from + n {
                        self.names.register(&ctx, key, key)?;
                        tick();
                    }
                    let _ = done.send(());
                }
                RegistrarMsg::Subscribe(receiver) => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    self.topics.register(&ctx, W9_TOPIC, tx)?;
                    let _ = receiver.send(rx);
                }
            }
        }
        Ok(())
    }
}

/// A tree of `workers` registrants, their handles, and the registries.
struct W9Tree {
    sup: supervise::SupervisorHandle,
    workers: Vec<WorkerHandle<Registrar>>,
    names: Registry<u64, u64>,
    topics: Registry<u64, mpsc::UnboundedSender<u64>>,
}

impl W9Tree {
    async fn start(workers: u64) -> Self {
        let names = Registry::unique();
        let topics = Registry::duplicate();
        let mut builder = Supervisor::builder("w9");
        let mut handles = Vec::new();
        for w in 0..workers {
            let (names, topics) = (names.clone(), topics.clone());
            let (spec, handle) =
                ChildSpec::worker_with_handle(format!("r{w}"), move || Registrar {
                    names: names.clone(),
                    topics: topics.clone(),
                });
            builder = builder.child(spec);
            handles.push(handle);
        }
        let sup = builder
            .build()
            .expect("a valid spec")
            .start()
            .await
            .expect("the tree starts");
        W9Tree {
            sup,
            workers: handles,
            names,
            topics,
        }
    }

    /// Has worker `w` register `n` keys from `from`; returns when it has.
    fn register(&self, w: usize, from: u64, n: u64) -> oneshot::Receiver<()> {
        let (done, registered) = oneshot::channel();
        if self.workers[w]
            .send(RegistrarMsg::Register { from, n, done })
            .is_err()
        {
            panic!("the registrant runs");
        }
        registered
    }

    async fn stop(self) {
        self.sup.stop().await.expect("the tree stops");
    }
}

/// `[registrations per second]`: `keys` unique keys, each of `tasks`
/// workers registering its share from its own context.
async fn sup_w9_register(keys: u64, tasks: u64) -> Vec<f64> {
    let tree = W9Tree::start(tasks).await;
    let started = Instant::now();
    let registered: Vec<_> = (0..tasks)
        .map(|t| {
            let (from, n) = share(keys, tasks, t);
            tree.register(t as usize, from, n)
        })
        .collect();
    for done in registered {
        done.await.expect("the keys are registered");
    }
    let took = started.elapsed();
    assert_eq!(tree.names.count() as u64, keys);
    tree.stop().await;
    vec![keys as f64 / took.as_secs_f64()]
}

async fn floor_w9_register(keys: u64, tasks: u64) -> Vec<f64> {
    let names: Arc<DashMap<u64, (u64, u64)>> = Arc::default();
    let took = race(tasks, |t| {
        let names = names.clone();
        async move {
            let (from, n) = share(keys, tasks, t);
            for key in from..from + n {
                match names.entry(key) {
                    Entry::Occupied(_) => panic!("unique keys"),
                    Entry::Vacant(free) => {
                        free.insert((t, key));
                    }
                }
                tick();
            }
        }
    })
    .await;
    assert_eq!(names.len() as u64, keys);
    vec![keys as f64 / took.as_secs_f64()]
}

/// The key of lookup `i`: spread over all of them.
fn w9_key(i: u64, keys: u64) -> u64 {
    i.wrapping_mul(7919) % keys
}

/// `[lookups per second]` of registered keys, `tasks` tasks at once.
async fn sup_w9_lookup(keys: u64, lookups: u64, tasks: u64) -> Vec<f64> {
    let tree = W9Tree::start(1).await;
    tree.register(0, 0, keys)
        .await
        .expect("the keys are registered");
    let names = tree.names.clone();
    let took = race(tasks, |t| {
        let names = names.clone();
        async move {
            let (from, n) = share(lookups, tasks, t);
            for i in from..from + n {
                let key = w9_key(i, keys);
                let (_, value) = names.whereis(&key).expect("a registered key");
                std::hint::black_box(value);
            }
            tick();
        }
    })
    .await;
    tree.stop().await;
    vec![lookups as f64 / took.as_secs_f64()]
}

async fn floor_w9_lookup(keys: u64, lookups: u64, tasks: u64) -> Vec<f64> {
    let names: Arc<DashMap<u64, (u64, u64)>> = Arc::default();
    for key in 0..keys {
        names.insert(key, (0, key));
    }
    let took = race(tasks, |t| {
        let names = names.clone();
        async move {
            let (from, n) = share(lookups, tasks, t);
            for i in from..from + n {
                let key = w9_key(i, keys);
                let value = names.get(&key).map(|e| *e.value()).expect("a key");
                std::hint::black_box(value);
            }
            tick();
        }
    })
    .await;
    vec![lookups as f64 / took.as_secs_f64()]
}

/// `[messages per second]`: `dispatches` dispatches to the topic's
/// subscribers, `tasks` tasks at once.
async fn sup_w9_dispatch(dispatches: u64, tasks: u64) -> Vec<f64> {
    let tree = W9Tree::start(W9_SUBSCRIBERS as u64).await;
    let mut receivers = Vec::new();
    for worker in &tree.workers {
        let rx = worker
            .call(RegistrarMsg::Subscribe)
            .await
            .expect("the subscriber answers");
        receivers.push(rx);
    }
    let topics = tree.topics.clone();
    let took = race(tasks, |t| {
        let topics = topics.clone();
        async move {
            let (from, n) = share(dispatches, tasks, t);
            for i in from..from + n {
                let sent = topics.dispatch(&W9_TOPIC, i);
                debug_assert_eq!(sent.delivered, W9_SUBSCRIBERS);
                let _ = std::hint::black_box(sent);
            }
            tick();
        }
    })
    .await;
    let got: usize = receivers.iter().map(mpsc::UnboundedReceiver::len).sum();
    assert_eq!(got as u64, dispatches * W9_SUBSCRIBERS as u64);
    drop(receivers);
    tree.stop().await;
    vec![(dispatches * W9_SUBSCRIBERS as u64) as f64 / took.as_secs_f64()]
}

async fn floor_w9_dispatch(dispatches: u64, tasks: u64) -> Vec<f64> {
    let topics: Arc<DashMap<u64, Vec<mpsc::UnboundedSender<u64>>>> = Arc::default();
    let mut receivers = Vec::new();
    for _ in 0..W9_SUBSCRIBERS {
        let (tx, rx) = mpsc::unbounded_channel();
        topics.entry(W9_TOPIC).or_default().push(tx);
        receivers.push(rx);
    }
    let took = race(tasks, |t| {
        let topics = topics.clone();
        async move {
            let (from, n) = share(dispatches, tasks, t);
            for i in from..from + n {
                let subscribers = topics.get(&W9_TOPIC).expect("the topic");
                for tx in subscribers.iter() {
                    tx.send(i).expect("a subscriber");
                }
            }
            tick();
        }
    })
    .await;
    let got: usize = receivers.iter().map(mpsc::UnboundedReceiver::len).sum();
    assert_eq!(got as u64, dispatches * W9_SUBSCRIBERS as u64);
    vec![(dispatches * W9_SUBSCRIBERS as u64) as f64 / took.as_secs_f64()]
}

fn w9_register<const TASKS: u64>(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w9_register(cfg.w9_keys, TASKS)),
        Side::B => on_runtime(flavour, floor_w9_register(cfg.w9_keys, TASKS)),
    }
}

fn w9_lookup<const TASKS: u64>(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let (keys, lookups) = (cfg.w9_keys, cfg.w9_lookups);
    match side {
        Side::A => on_runtime(flavour, sup_w9_lookup(keys, lookups, TASKS)),
        Side::B => on_runtime(flavour, floor_w9_lookup(keys, lookups, TASKS)),
    }
}

fn w9_dispatch<const TASKS: u64>(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w9_dispatch(cfg.w9_dispatches, TASKS)),
        Side::B => on_runtime(flavour, floor_w9_dispatch(cfg.w9_dispatches, TASKS)),
    }
}

// ===== the harness =====

#[derive(Debug, Clone, Copy)]
enum Target {
    None,
    /// The ratio A/B must be at most this.
    RatioAtMost(f64),
    /// The ratio A/B must be at least this.
    RatioAtLeast(f64),
    /// A's median must be at most this.
    AAtMost(f64),
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::None => "–".to_owned(),
            Target::RatioAtMost(x) => format!("ratio ≤ {x}"),
            Target::RatioAtLeast(x) => format!("ratio ≥ {x}"),
            Target::AAtMost(x) => format!("A ≤ {}", number(x)),
        }
    }

    fn verdict(self, a_median: f64, ratio: f64) -> &'static str {
        let met = match self {
            _ if ratio.is_nan() => return "",
            Target::None => return "",
            Target::RatioAtMost(x) => ratio <= x,
            Target::RatioAtLeast(x) => ratio >= x,
            Target::AAtMost(x) => a_median <= x,
        };
        if met {
            "met"
        } else {
            "MISSED"
        }
    }
}

struct Metric {
    name: &'static str,
    target: Target,
}

struct Case {
    workload: &'static str,
    title: &'static str,
    metrics: &'static [Metric],
    run: fn(Side, Flavour, &Config) -> Vec<f64>,
}

const CASES: &[Case] = &[
    Case {
        workload: "W1",
        title: "W1 restart, Err return",
        metrics: &[
            Metric {
                name: "p50 (µs)",
                target: Target::RatioAtMost(1.2),
            },
            Metric {
                name: "p99 (µs)",
                target: Target::RatioAtMost(1.2),
            },
        ],
        run: w1_error,
    },
    Case {
        workload: "W1",
        title: "W1 restart, panic",
        metrics: &[
            Metric {
                name: "p50 (µs)",
                target: Target::RatioAtMost(1.2),
            },
            Metric {
                name: "p99 (µs)",
                target: Target::RatioAtMost(1.2),
            },
        ],
        run: w1_panic,
    },
    Case {
        workload: "W2",
        title: "W2 dynamic start",
        metrics: &[
            Metric {
                name: "children/s",
                target: Target::RatioAtLeast(0.8),
            },
            Metric {
                name: "shutdown of all (ms)",
                target: Target::None,
            },
        ],
        run: w2_start,
    },
    Case {
        workload: "W2",
        title: "W2 fresh process",
        metrics: &[
            Metric {
                name: "RSS bytes/child",
                target: Target::AAtMost(1536.0),
            },
            Metric {
                name: "children/s",
                target: Target::None,
            },
        ],
        run: w2_rss,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 1 partition, 1 driver",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<1, 1>,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 2 partitions, 1 driver",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<2, 1>,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 4 partitions, 1 driver",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<4, 1>,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 1 partition, 4 drivers",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<1, 4>,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 2 partitions, 4 drivers",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<2, 4>,
    },
    Case {
        workload: "W2P",
        title: "W2P start, 4 partitions, 4 drivers",
        metrics: &[Metric {
            name: "children/s",
            target: Target::None,
        }],
        run: w2p::<4, 4>,
    },
    Case {
        workload: "W3",
        title: "W3 tree",
        metrics: &[
            Metric {
                name: "start (ms)",
                target: Target::RatioAtMost(1.3),
            },
            Metric {
                name: "graceful shutdown (ms)",
                target: Target::RatioAtMost(1.3),
            },
        ],
        run: w3,
    },
    Case {
        workload: "W4",
        title: "W4 one_for_all restart",
        metrics: &[Metric {
            name: "p50 (ms)",
            target: Target::RatioAtMost(1.3),
        }],
        run: w4,
    },
    Case {
        workload: "W5",
        title: "W5 storm (A) vs batches (B)",
        metrics: &[
            Metric {
                name: "per restart (ns)",
                target: Target::RatioAtMost(1.1),
            },
            Metric {
                name: "restarts timed",
                target: Target::None,
            },
        ],
        run: w5,
    },
    Case {
        workload: "W6",
        title: "W6 call round trip",
        metrics: &[
            Metric {
                name: "p50 (ns)",
                target: Target::RatioAtMost(1.1),
            },
            Metric {
                name: "mean (ns)",
                target: Target::None,
            },
        ],
        run: w6,
    },
    Case {
        workload: "W9",
        title: "W9 registry register, 1 task",
        metrics: &[Metric {
            name: "registrations/s",
            target: Target::None,
        }],
        run: w9_register::<1>,
    },
    Case {
        workload: "W9",
        title: "W9 registry register, 8 tasks",
        metrics: &[Metric {
            name: "registrations/s",
            target: Target::None,
        }],
        run: w9_register::<8>,
    },
    Case {
        workload: "W9",
        title: "W9 registry lookup, 1 task",
        metrics: &[Metric {
            name: "lookups/s",
            target: Target::None,
        }],
        run: w9_lookup::<1>,
    },
    Case {
        workload: "W9",
        title: "W9 registry lookup, 8 tasks",
        metrics: &[Metric {
            name: "lookups/s",
            target: Target::None,
        }],
        run: w9_lookup::<8>,
    },
    Case {
        workload: "W9",
        title: "W9 registry dispatch to 4, 1 task",
        metrics: &[Metric {
            name: "messages/s",
            target: Target::None,
        }],
        run: w9_dispatch::<1>,
    },
    Case {
        workload: "W9",
        title: "W9 registry dispatch to 4, 8 tasks",
        metrics: &[Metric {
            name: "messages/s",
            target: Target::None,
        }],
        run: w9_dispatch::<8>,
    },
];

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Three significant digits, `k` above ten thousand.
fn number(x: f64) -> String {
    let a = x.abs();
    if x.is_nan() {
        "n/a".to_owned()
    } else if a >= 100_000.0 {
        format!("{:.0}k", x / 1e3)
    } else if a >= 10_000.0 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn cell(xs: &[f64]) -> String {
    if xs.iter().all(|x| x.is_nan()) {
        return "n/a".to_owned();
    }
    let (lo, hi) = min_max(xs);
    format!("{} ({}–{})", number(median(xs)), number(lo), number(hi))
}

struct Row {
    title: &'static str,
    metric: &'static str,
    /// The runtime, `mt` or `ct` (`–` for W7, which runs none).
    rt: &'static str,
    a: Vec<f64>,
    b: Vec<f64>,
    ratios: Vec<f64>,
    target: Target,
}

/// Runs one cell: `cfg.rounds` rounds of A and B, alternating. With
/// `only`, just that side runs (for profiling); the other reads as n/a.
fn run_case(case: &Case, flavour: Flavour, cfg: &Config, only: Option<Side>) -> Vec<Row> {
    let mut a = Vec::with_capacity(cfg.rounds);
    let mut b = Vec::with_capacity(cfg.rounds);
    for round in 0..cfg.rounds {
        let order = if round % 2 == 0 {
            [Side::A, Side::B]
        } else {
            [Side::B, Side::A]
        };
        for side in order {
            let result = if only.is_none_or(|only| only == side) {
                (case.run)(side, flavour, cfg)
            } else {
                vec![f64::NAN; case.metrics.len()]
            };
            assert_eq!(result.len(), case.metrics.len());
            match side {
                Side::A => a.push(result),
                Side::B => b.push(result),
            }
        }
        let last = |v: &[Vec<f64>]| number(v[round][0]);
        eprintln!(
            "  {} [{}] round {}/{}: A {} B {} ({})",
            case.title,
            flavour.name(),
            round + 1,
            cfg.rounds,
            last(&a),
            last(&b),
            case.metrics[0].name,
        );
    }
    case.metrics
        .iter()
        .enumerate()
        .map(|(k, metric)| {
            let a: Vec<f64> = a.iter().map(|r| r[k]).collect();
            let b: Vec<f64> = b.iter().map(|r| r[k]).collect();
            let ratios = a.iter().zip(&b).map(|(a, b)| a / b).collect();
            Row {
                title: case.title,
                metric: metric.name,
                rt: flavour.name(),
                a,
                b,
                ratios,
                target: metric.target,
            }
        })
        .collect()
}

fn print_header() {
    println!("A = supervise, B = the raw-tokio floor; W5: A = one storm, B = the same restarts in batches under fresh supervisors (both supervise); W7: A = the tree derived with the macros, B = the same tree built with the builder; W9: A = supervise's Registry, B = a DashMap.");
    println!("ratio = median of the per-round ratios A/B (for children/s and the other rates, higher is better).");
    println!();
    println!("| workload | metric | rt | A: median (min–max) | B: median (min–max) | ratio A/B | target | met? |");
    println!("|---|---|---|---|---|---|---|---|");
}

/// Prints a row as soon as its cell is done, so that a run cut short
/// keeps what it measured.
fn print_row(row: &Row) {
    let a_median = median(&row.a);
    let ratio = median(&row.ratios);
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |",
        row.title,
        row.metric,
        row.rt,
        cell(&row.a),
        cell(&row.b),
        if ratio.is_nan() {
            "n/a".to_owned()
        } else {
            format!("{ratio:.2}×")
        },
        row.target.describe(),
        row.target.verdict(a_median, ratio),
    );
    let _ = std::io::stdout().flush();
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--quick] [--rounds N] [W1 W2 W2P W3 W4 W5 W6 W7 W9 ...]\n\
         for profiling one side: [--side supervise|floor] [--rt mt|ct]"
    );
    std::process::exit(2)
}

fn main() {
    // The same silent hook for both sides: crashes must not pay for
    // writing a report.
    std::panic::set_hook(Box::new(|_| {}));
    start_watchdog();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--rss") {
        rss_mode(&args[1..]);
    }
    let mut cfg = Config::FULL;
    let mut rounds = None;
    let mut selected: Vec<String> = Vec::new();
    let mut only = None;
    let mut flavours = vec![Flavour::Mt, Flavour::Ct];
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => cfg = Config::QUICK,
            "--rounds" => {
                rounds = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| usage()),
                )
            }
            "--side" => {
                only = match args.next().as_deref() {
                    Some("supervise") => Some(Side::A),
                    Some("floor") => Some(Side::B),
                    _ => usage(),
                }
            }
            "--rt" => {
                let flavour = args.next().and_then(|f| Flavour::parse(&f));
                flavours = vec![flavour.unwrap_or_else(|| usage())];
            }
            w if w.eq_ignore_ascii_case("W7")
                || CASES.iter().any(|c| c.workload.eq_ignore_ascii_case(w)) =>
            {
                selected.push(w.to_ascii_uppercase())
            }
            _ => usage(),
        }
    }
    if let Some(rounds) = rounds {
        cfg.rounds = rounds;
    }
    eprintln!("bench: {cfg:?}");
    print_header();
    let all = Instant::now();
    for case in CASES {
        if !selected.is_empty() && !selected.iter().any(|w| w == case.workload) {
            continue;
        }
        for &flavour in &flavours {
            let cell_started = Instant::now();
            let rows = run_case(case, flavour, &cfg, only);
            eprintln!(
                "  {} [{}]: {:.1} s",
                case.title,
                flavour.name(),
                cell_started.elapsed().as_secs_f64()
            );
            rows.iter().for_each(print_row);
        }
    }
    // W7 runs no runtime: it times cargo. Left out of a one-sided
    // profiling run unless asked for.
    let w7_asked = selected.iter().any(|w| w == "W7");
    if w7_asked || (selected.is_empty() && only.is_none()) {
        let cell_started = Instant::now();
        let (derived, builder) = w7::measure(cfg.rounds);
        eprintln!("  W7: {:.1} s", cell_started.elapsed().as_secs_f64());
        print_row(&Row {
            title: "W7 compile time, 200-child tree (A derived, B builder)",
            metric: "incremental debug build (s)",
            rt: "–",
            ratios: derived.iter().zip(&builder).map(|(a, b)| a / b).collect(),
            a: derived,
            b: builder,
            target: Target::RatioAtMost(1.5),
        });
    }
    eprintln!("bench: {:.1} s in all", all.elapsed().as_secs_f64());
}
