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
//! cargo run --release -p examples --example bench -- --conditions quiet,loaded W3
//! ```
//!
//! Every cell runs in three conditions, printed side by side at the end:
//! `quiet` (every run in this process), `loaded` (a busy-loop thread per
//! core for the whole cell, both sides) and `fresh` (every run of either
//! side in a fresh process: the bench re-executes itself with `--cell`).
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
//! * W3: start and graceful shutdown of a root with nested supervisors; the
//!   start's clock includes building the specs (the earlier clock, without,
//!   is kept beside it).
//! * W4: one_for_all restart of a large supervisor, until every new
//!   incarnation's own task has run and reported (init runs in the
//!   supervisor's task; the earlier clock, until every init has reported,
//!   is kept beside it).
//! * W5: per-restart cost in a restart storm inside one intensity window (A)
//!   against the same number of restarts in batches under fresh supervisors
//!   with a small intensity (B); both sides are `supervise`.
//! * W6: a call round trip through a typed `WorkerHandle` against a raw mpsc
//!   plus oneshot round trip. W6H: the same call to a `#[handlers]` worker
//!   (A) against the hand-written receive loop (B), both through
//!   `WorkerHandle::call`: what handler dispatch costs. W6G: the generated
//!   client method, which puts `gen_server:call`'s 5 s on the whole call
//!   (A), against `call_timeout` with 5 s to the hand-written loop (B).
//! * W7: compile time, an incremental debug build of a 200-child tree written
//!   with the macros (A) against the same tree written with the builder (B);
//!   see `bench/w7.rs`.
//! * W8: message throughput through a typed handle: `send` from 1 and from
//!   8 tasks, `call` round trips from 8 concurrent callers, against a raw
//!   mpsc (+ oneshot); and, `supervise` alone, 8 senders while the worker
//!   is killed every 10 ms, every message accounted for (handled once,
//!   dropped with its incarnation as `Event::MessagesDropped` reports, or
//!   refused at send).
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use supervise::{
    ChildSpec, Context, DynamicSupervisor, Exit, HandleError, Init, PartitionSupervisor, Registry,
    Reply, SendError, Strategy, Supervisor, Worker, WorkerHandle,
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
    /// The small sizes of `--quick` (passed on to a fresh process).
    quick: bool,
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
    w8_messages: u64,
    w8_calls: u64,
    w8_restart_run: Duration,
    w9_keys: u64,
    w9_lookups: u64,
    w9_dispatches: u64,
}

impl Config {
    const FULL: Config = Config {
        quick: false,
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
        w8_messages: 1_000_000,
        w8_calls: 200_000,
        w8_restart_run: Duration::from_secs(1),
        w9_keys: 100_000,
        w9_lookups: 1_000_000,
        w9_dispatches: 100_000,
    };

    const QUICK: Config = Config {
        quick: true,
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
        w8_messages: 20_000,
        w8_calls: 4_000,
        w8_restart_run: Duration::from_millis(200),
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

/// `[start ms with the specs built, start ms of the built spec, shutdown
/// ms]`: what a user waits for includes building the specs.
async fn sup_w3(groups: usize, workers: usize) -> Vec<f64> {
    let building = Instant::now();
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
    let with_specs = building.elapsed();
    let stopping = Instant::now();
    sup.stop().await.expect("the tree stops");
    let stop = stopping.elapsed();
    vec![ms(with_specs), ms(start), ms(stop)]
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
    // The floor has no spec to build: both start figures are its start.
    vec![ms(start), ms(start), ms(stop)]
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

/// Where a W4 child reports from: its init (which runs in the
/// supervisor's task) or its own task, once running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    Run,
}

/// Reports `(index, incarnation, phase)` from its init and again from its
/// own task once it runs; the one with a mailbox crashes when it gets a
/// message.
#[derive(Clone)]
struct Sibling {
    index: usize,
    announce: mpsc::UnboundedSender<(usize, u64, Phase)>,
}

impl Worker for Sibling {
    type Message = ();

    async fn init(&mut self, ctx: &mut Context) -> Result<Init, Exit> {
        let _ = self
            .announce
            .send((self.index, ctx.incarnation(), Phase::Init));
        Ok(Init::Ready)
    }

    async fn run(self, mut ctx: Context) -> Result<(), Exit> {
        let _ = self
            .announce
            .send((self.index, ctx.incarnation(), Phase::Run));
        match ctx.recv().await {
            Some(()) => Err(Exit::from("crash")),
            None => Ok(()),
        }
    }
}

/// Waits until all `n` children have reported incarnation `generation`
/// from their init and from their own task. Returns when the last init
/// report came (the clock of the earlier sessions) and when the last
/// report of either kind came (every new incarnation's task has run).
async fn sup_w4_wait(
    announced: &mut mpsc::UnboundedReceiver<(usize, u64, Phase)>,
    n: usize,
    generation: u64,
) -> (Instant, Instant) {
    let (mut inits, mut runs) = (0, 0);
    let mut inits_done = None;
    while inits < n || runs < n {
        let (index, got, phase) = announced.recv().await.expect("announced");
        assert_eq!(got, generation, "child {index} is a new incarnation");
        match phase {
            Phase::Init => inits += 1,
            Phase::Run => runs += 1,
        }
        if inits == n && inits_done.is_none() {
            inits_done = Some(Instant::now());
        }
    }
    let all_done = Instant::now();
    (inits_done.expect("every init reported"), all_done)
}

/// `[restart p50 ms until every new task has run, p50 ms until every init
/// has reported]` over `crashes` crashes.
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
    let mut all_ran = Vec::with_capacity(crashes);
    let mut inits = Vec::with_capacity(crashes);
    for generation in 2..crashes as u64 + 2 {
        let started = Instant::now();
        crasher.send(()).expect("the child to crash is running");
        let (inits_done, all_done) = sup_w4_wait(&mut announced, n, generation).await;
        all_ran.push(ms(all_done - started));
        inits.push(ms(inits_done - started));
        tick();
    }
    sup.stop().await.expect("the tree stops");
    vec![median(&all_ran), median(&inits)]
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
    // Each floor child reports from its own task: both clocks are one.
    vec![median(&times), median(&times)]
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

/// `[p50 ns, mean ns]` of `$calls` timed calls, each the awaited `$call`,
/// after a tenth as many untimed. A macro: an async closure's future is
/// not `Send` for every borrow the runtimes need.
macro_rules! time_calls {
    ($calls:expr, $call:expr) => {{
        let calls: usize = $calls;
        for _ in 0..calls / 10 {
            $call.await.expect("an answer");
        }
        let mut latencies = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = Instant::now();
            let got = $call.await.expect("an answer");
            latencies.push(started.elapsed());
            tick();
            std::hint::black_box(got);
        }
        call_stats(&latencies)
    }};
}

/// A started tree of one worker built by `make`, and its handle.
async fn one_worker<W: Worker>(make: fn() -> W) -> (supervise::SupervisorHandle, WorkerHandle<W>) {
    let (spec, handle) = ChildSpec::worker_with_handle("echo", make);
    let sup = Supervisor::builder("w6")
        .child(spec)
        .build()
        .expect("a valid spec")
        .start()
        .await
        .expect("the tree starts");
    (sup, handle)
}

async fn sup_w6(calls: usize) -> Vec<f64> {
    let (sup, handle) = one_worker(|| Echo).await;
    let stats = time_calls!(calls, handle.call(|reply| reply));
    sup.stop().await.expect("the tree stops");
    stats
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
    let stats = time_calls!(calls, call(&tx));
    drop(tx);
    echo.await.expect("the echo task exits");
    stats
}

fn w6(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w6(cfg.w6_calls)),
        Side::B => on_runtime(flavour, floor_w6(cfg.w6_calls)),
    }
}

/// `Echo` as a handler-style worker.
#[derive(Clone)]
struct HandlerEcho {
    count: u64,
}

#[supervise::handlers(vis = pub(crate))]
impl HandlerEcho {
    #[call]
    fn next(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

/// A tree of one worker built by `make`, its handle, and `calls` timed
/// calls made by `call` after a tenth as many untimed (`time_calls!`).
async fn timed_calls<W, F>(make: fn() -> W, calls: usize, call: F) -> Vec<f64>
where
    W: Worker,
    F: AsyncFn(&WorkerHandle<W>) -> Result<u64, HandleError>,
{
    let (sup, handle) = one_worker(make).await;
    let stats = time_calls!(calls, call(&handle));
    sup.stop().await.expect("the tree stops");
    stats
}

/// W6H: handler dispatch against the hand-written loop, one call path.
fn w6_handlers(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let calls = cfg.w6_calls;
    match side {
        Side::A => on_runtime(
            flavour,
            timed_calls(
                || HandlerEcho { count: 0 },
                calls,
                async |h: &WorkerHandle<HandlerEcho>| h.call(HandlerEchoMessage::Next).await,
            ),
        ),
        Side::B => on_runtime(
            flavour,
            timed_calls(
                || Echo,
                calls,
                async |h: &WorkerHandle<Echo>| h.call(|reply| reply).await,
            ),
        ),
    }
}

/// W6G: the generated client method (5 s on the whole call) against
/// `call_timeout` with 5 s to the hand-written loop.
fn w6_generated(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let calls = cfg.w6_calls;
    let five = Duration::from_secs(5);
    match side {
        Side::A => on_runtime(
            flavour,
            timed_calls(
                || HandlerEcho { count: 0 },
                calls,
                async |h: &WorkerHandle<HandlerEcho>| h.next().await,
            ),
        ),
        Side::B => on_runtime(
            flavour,
            timed_calls(
                || Echo,
                calls,
                async move |h: &WorkerHandle<Echo>| h.call_timeout(|reply| reply, five).await,
            ),
        ),
    }
}

// ===== W8: message throughput through typed handles =====

/// What a W8 sink is sent.
enum SinkMsg {
    /// A message: the sender's number in the top 16 bits, its sequence
    /// number below.
    Item(u64),
    /// Answers with how many items this incarnation has handled.
    Flush(Reply<u64>),
    /// A call: answers with a count.
    Call(Reply<u64>),
}

/// Where a sink counts across its incarnations (the run with restarts).
struct Tally {
    handled: AtomicU64,
    /// Per sender, one past the highest sequence number handled.
    next: Vec<AtomicU64>,
    /// Items handled with a sequence number at or below one already
    /// handled from the same sender: a duplicate (or a reordering).
    duplicated: AtomicU64,
}

const SENDER_SHIFT: u32 = 48;

fn item(sender: u64, seq: u64) -> u64 {
    (sender << SENDER_SHIFT) | seq
}

impl Tally {
    fn new(senders: u64) -> Self {
        Tally {
            handled: AtomicU64::new(0),
            next: (0..senders).map(|_| AtomicU64::new(0)).collect(),
            duplicated: AtomicU64::new(0),
        }
    }

    /// One worker handles items at a time (one incarnation after another),
    /// so relaxed loads and stores do.
    fn handle(&self, value: u64) {
        let (sender, seq) = (value >> SENDER_SHIFT, value & ((1 << SENDER_SHIFT) - 1));
        let next = &self.next[sender as usize];
        if seq < next.load(Ordering::Relaxed) {
            self.duplicated.fetch_add(1, Ordering::Relaxed);
        } else {
            next.store(seq + 1, Ordering::Relaxed);
        }
        self.handled.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts what it is sent; with a tally, across incarnations too.
#[derive(Clone)]
struct Sink {
    tally: Option<Arc<Tally>>,
}

impl Worker for Sink {
    type Message = SinkMsg;

    async fn run(self, mut ctx: Context<SinkMsg>) -> Result<(), Exit> {
        let mut count = 0u64;
        while let Some(msg) = ctx.recv().await {
            match msg {
                SinkMsg::Item(value) => {
                    count += 1;
                    if let Some(tally) = &self.tally {
                        tally.handle(value);
                    }
                    std::hint::black_box(value);
                }
                SinkMsg::Flush(reply) => {
                    let _ = reply.send(count);
                }
                SinkMsg::Call(reply) => {
                    count += 1;
                    let _ = reply.send(count);
                }
            }
        }
        Ok(())
    }
}

async fn w8_sink(tally: Option<Arc<Tally>>) -> (supervise::SupervisorHandle, WorkerHandle<Sink>) {
    let (spec, handle) = ChildSpec::worker_with_handle("sink", move || Sink {
        tally: tally.clone(),
    });
    let sup = Supervisor::builder("w8")
        .max_restarts(u32::MAX)
        .period(LONG_PERIOD)
        .child(spec)
        .build()
        .expect("a valid spec")
        .start()
        .await
        .expect("the tree starts");
    (sup, handle)
}

/// `[messages per second]`: `messages` sent by `tasks` concurrent senders
/// through one handle, until every sender's last message is handled.
async fn sup_w8_send(messages: u64, tasks: u64) -> Vec<f64> {
    let (sup, handle) = w8_sink(None).await;
    let took = race(tasks, |t| {
        let handle = handle.clone();
        let (from, n) = share(messages, tasks, t);
        async move {
            for seq in from..from + n {
                if handle.send(SinkMsg::Item(item(t, seq))).is_err() {
                    panic!("the sink runs");
                }
                if seq % 1024 == 0 {
                    tick();
                }
            }
            handle.call(SinkMsg::Flush).await.expect("a flush");
        }
    })
    .await;
    sup.stop().await.expect("the tree stops");
    vec![messages as f64 / took.as_secs_f64()]
}

enum FloorSinkMsg {
    Item(u64),
    Flush(oneshot::Sender<u64>),
    Call(oneshot::Sender<u64>),
}

fn floor_w8_sink() -> (mpsc::UnboundedSender<FloorSinkMsg>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(msg) = rx.recv().await {
            match msg {
                FloorSinkMsg::Item(value) => {
                    count += 1;
                    std::hint::black_box(value);
                }
                FloorSinkMsg::Flush(reply) => {
                    let _ = reply.send(count);
                }
                FloorSinkMsg::Call(reply) => {
                    count += 1;
                    let _ = reply.send(count);
                }
            }
        }
    });
    (tx, sink)
}

async fn floor_w8_send(messages: u64, tasks: u64) -> Vec<f64> {
    let (tx, sink) = floor_w8_sink();
    let took = race(tasks, |t| {
        let tx = tx.clone();
        let (from, n) = share(messages, tasks, t);
        async move {
            for seq in from..from + n {
                if tx.send(FloorSinkMsg::Item(item(t, seq))).is_err() {
                    panic!("the sink runs");
                }
                if seq % 1024 == 0 {
                    tick();
                }
            }
            let (reply, answer) = oneshot::channel();
            let _ = tx.send(FloorSinkMsg::Flush(reply));
            answer.await.expect("a flush");
        }
    })
    .await;
    drop(tx);
    sink.await.expect("the sink exits");
    vec![messages as f64 / took.as_secs_f64()]
}

/// `[p50 ns, calls per second]`: `calls` round trips from `tasks`
/// concurrent callers, each call timed.
async fn sup_w8_call(calls: u64, tasks: u64) -> Vec<f64> {
    let (sup, handle) = w8_sink(None).await;
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(calls as usize)));
    let took = race(tasks, |t| {
        let (handle, latencies) = (handle.clone(), latencies.clone());
        let (_, n) = share(calls, tasks, t);
        async move {
            let mut mine = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let started = Instant::now();
                let got = handle.call(SinkMsg::Call).await.expect("an answer");
                mine.push(started.elapsed());
                std::hint::black_box(got);
                tick();
            }
            latencies.lock().expect("not poisoned").extend(mine);
        }
    })
    .await;
    sup.stop().await.expect("the tree stops");
    let latencies = latencies.lock().expect("not poisoned");
    vec![call_stats(&latencies)[0], calls as f64 / took.as_secs_f64()]
}

async fn floor_w8_call(calls: u64, tasks: u64) -> Vec<f64> {
    let (tx, sink) = floor_w8_sink();
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(calls as usize)));
    let took = race(tasks, |t| {
        let (tx, latencies) = (tx.clone(), latencies.clone());
        let (_, n) = share(calls, tasks, t);
        async move {
            let mut mine = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let started = Instant::now();
                let (reply, answer) = oneshot::channel();
                if tx.send(FloorSinkMsg::Call(reply)).is_err() {
                    panic!("the sink runs");
                }
                let got = answer.await.expect("an answer");
                mine.push(started.elapsed());
                std::hint::black_box(got);
                tick();
            }
            latencies.lock().expect("not poisoned").extend(mine);
        }
    })
    .await;
    drop(tx);
    sink.await.expect("the sink exits");
    let latencies = latencies.lock().expect("not poisoned");
    vec![call_stats(&latencies)[0], calls as f64 / took.as_secs_f64()]
}

/// The senders of W8's run with restarts.
const W8_SENDERS: u64 = 8;

/// `[sent, handled, dropped with an incarnation (MessagesDropped), refused
/// at send (HandleError), unaccounted, duplicated, restarts]`: 8 senders
/// send for `run`, in bursts of 64, while the sink is killed every 10 ms.
/// Every message sent must be handled once, or reported dropped: sent =
/// handled + dropped + refused.
async fn sup_w8_restarts(run: Duration) -> Vec<f64> {
    let tally = Arc::new(Tally::new(W8_SENDERS));
    let (spec, handle) = ChildSpec::worker_with_handle("sink", {
        let tally = tally.clone();
        move || Sink {
            tally: Some(tally.clone()),
        }
    });
    let spec = Supervisor::builder("w8")
        .max_restarts(u32::MAX)
        .period(LONG_PERIOD)
        .child(spec)
        .build()
        .expect("a valid spec");
    let mut events = spec.subscribe();
    let sup = spec.start().await.expect("the tree starts");
    let done = Arc::new(AtomicBool::new(false));
    let killer = tokio::spawn({
        let (handle, done) = (handle.clone(), done.clone());
        async move {
            let mut kills = 0u64;
            let mut every = tokio::time::interval(Duration::from_millis(10));
            every.tick().await;
            while !done.load(Ordering::Relaxed) {
                every.tick().await;
                if let Some(child) = handle.child() {
                    child.kill();
                    kills += 1;
                }
            }
            kills
        }
    });
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let deadline = Instant::now() + run;
    race(W8_SENDERS, |t| {
        let (handle, counts) = (handle.clone(), counts.clone());
        async move {
            let (mut sent, mut refused) = (0u64, 0u64);
            let mut seq = 0u64;
            while Instant::now() < deadline {
                for _ in 0..64 {
                    sent += 1;
                    match handle.send(SinkMsg::Item(item(t, seq))) {
                        Ok(()) => {}
                        Err(SendError {
                            error: HandleError::NotRunning,
                            ..
                        }) => refused += 1,
                        Err(error) => panic!("a send failed: {error}"),
                    }
                    seq += 1;
                }
                tick();
                tokio::task::yield_now().await;
            }
            counts[0].fetch_add(sent, Ordering::Relaxed);
            counts[1].fetch_add(refused, Ordering::Relaxed);
        }
    })
    .await;
    done.store(true, Ordering::Relaxed);
    let kills = killer.await.expect("the killer exits");
    // The items before the flush are handled or dropped with their
    // incarnation by the time it is answered.
    handle
        .call_timeout(SinkMsg::Flush, PATIENCE)
        .await
        .expect("the last incarnation answers");
    sup.stop().await.expect("the tree stops");
    let mut dropped = 0u64;
    while let Some(event) = events.try_recv() {
        match event {
            supervise::Event::MessagesDropped { count, .. } => dropped += count as u64,
            supervise::Event::Missed { .. } => panic!("events were missed"),
            _ => {}
        }
    }
    let sent = counts[0].load(Ordering::Relaxed);
    let refused = counts[1].load(Ordering::Relaxed);
    let handled = tally.handled.load(Ordering::Relaxed);
    let unaccounted = sent as f64 - (handled + dropped + refused) as f64;
    let duplicated = tally.duplicated.load(Ordering::Relaxed);
    vec![
        sent as f64,
        handled as f64,
        dropped as f64,
        refused as f64,
        unaccounted,
        duplicated as f64,
        kills as f64,
    ]
}

fn w8_send<const TASKS: u64>(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w8_send(cfg.w8_messages, TASKS)),
        Side::B => on_runtime(flavour, floor_w8_send(cfg.w8_messages, TASKS)),
    }
}

fn w8_call(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w8_call(cfg.w8_calls, 8)),
        Side::B => on_runtime(flavour, floor_w8_call(cfg.w8_calls, 8)),
    }
}

/// The floor has no restarts: only `supervise` runs (B reads n/a).
fn w8_restarts(side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    match side {
        Side::A => on_runtime(flavour, sup_w8_restarts(cfg.w8_restart_run)),
        Side::B => vec![f64::NAN; 7],
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
    /// Every run of A must give exactly this (a count).
    AExactly(f64),
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::None => "–".to_owned(),
            Target::RatioAtMost(x) => format!("ratio ≤ {x}"),
            Target::RatioAtLeast(x) => format!("ratio ≥ {x}"),
            Target::AAtMost(x) => format!("A ≤ {}", number(x)),
            Target::AExactly(x) => format!("A = {} in every run", number(x)),
        }
    }

    fn verdict(self, a: &[f64], ratio: f64) -> &'static str {
        let a_median = median(a);
        let met = match self {
            Target::None => return "",
            Target::AAtMost(_) | Target::AExactly(_) if a_median.is_nan() => return "",
            Target::AAtMost(x) => a_median <= x,
            Target::AExactly(x) => a.iter().all(|&v| v == x),
            _ if ratio.is_nan() => return "",
            Target::RatioAtMost(x) => ratio <= x,
            Target::RatioAtLeast(x) => ratio >= x,
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
                name: "start, specs built in the clock (ms)",
                target: Target::RatioAtMost(1.3),
            },
            Metric {
                name: "start of a built spec (ms; the earlier clock)",
                target: Target::None,
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
        metrics: &[
            Metric {
                name: "p50 until every new task has run (ms)",
                target: Target::RatioAtMost(1.3),
            },
            Metric {
                name: "p50 until every init reported (ms; the earlier clock)",
                target: Target::None,
            },
        ],
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
        workload: "W6H",
        title: "W6H call, #[handlers] (A) vs hand-written loop (B)",
        metrics: &[
            Metric {
                name: "p50 (ns)",
                target: Target::RatioAtMost(1.05),
            },
            Metric {
                name: "mean (ns)",
                target: Target::None,
            },
        ],
        run: w6_handlers,
    },
    Case {
        workload: "W6G",
        title: "W6G call, generated method (A) vs call_timeout 5 s (B)",
        metrics: &[
            Metric {
                name: "p50 (ns)",
                target: Target::RatioAtMost(1.05),
            },
            Metric {
                name: "mean (ns)",
                target: Target::None,
            },
        ],
        run: w6_generated,
    },
    Case {
        workload: "W8",
        title: "W8 send, 1 task",
        metrics: &[Metric {
            name: "messages/s",
            target: Target::RatioAtLeast(0.9),
        }],
        run: w8_send::<1>,
    },
    Case {
        workload: "W8",
        title: "W8 send, 8 tasks",
        metrics: &[Metric {
            name: "messages/s",
            target: Target::RatioAtLeast(0.9),
        }],
        run: w8_send::<8>,
    },
    Case {
        workload: "W8",
        title: "W8 call, 8 callers",
        metrics: &[
            Metric {
                name: "p50 (ns)",
                target: Target::RatioAtMost(1.1),
            },
            Metric {
                name: "calls/s",
                target: Target::None,
            },
        ],
        run: w8_call,
    },
    Case {
        workload: "W8",
        title: "W8 send from 8 tasks, a kill every 10 ms (A only)",
        metrics: &[
            Metric {
                name: "messages sent",
                target: Target::None,
            },
            Metric {
                name: "handled",
                target: Target::None,
            },
            Metric {
                name: "dropped with an incarnation (MessagesDropped)",
                target: Target::None,
            },
            Metric {
                name: "refused at send (NotRunning)",
                target: Target::None,
            },
            Metric {
                name: "unaccounted (sent − handled − dropped − refused)",
                target: Target::AExactly(0.0),
            },
            Metric {
                name: "duplicated",
                target: Target::AExactly(0.0),
            },
            Metric {
                name: "kills",
                target: Target::None,
            },
        ],
        run: w8_restarts,
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

/// The conditions a cell is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    /// Nothing else of the bench runs; every run in this process.
    Quiet,
    /// A CPU-bound thread per core spins for the whole cell, both sides.
    Loaded,
    /// Every run of either side in a fresh process (the bench re-executes
    /// itself with `--cell`): a clean heap and cold caches.
    Fresh,
}

impl Condition {
    const ALL: [Condition; 3] = [Condition::Quiet, Condition::Loaded, Condition::Fresh];

    fn name(self) -> &'static str {
        match self {
            Condition::Quiet => "quiet",
            Condition::Loaded => "loaded",
            Condition::Fresh => "fresh",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Condition::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// A busy-loop thread per core, spinning until dropped: the background
/// load of the `loaded` condition.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..4096 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        }
                        std::hint::black_box(x);
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One run of case `index` for `side` in a fresh process.
fn fresh_run(index: usize, side: Side, flavour: Flavour, cfg: &Config) -> Vec<f64> {
    let exe = std::env::current_exe().expect("the bench's own path");
    let side_name = match side {
        Side::A => "A",
        Side::B => "B",
    };
    let mut command = Command::new(exe);
    command.args(["--cell", &index.to_string(), side_name, flavour.name()]);
    if cfg.quick {
        command.arg("--quick");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .expect("the bench re-executes itself");
    assert!(
        output.status.success(),
        "`--cell {index} {side_name}` failed"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CELL "))
        .expect("`--cell` prints a result line");
    line.split_whitespace()
        .map(|x| x.parse::<f64>().expect("a number"))
        .collect()
}

/// `--cell INDEX A|B mt|ct [--quick]`: the child process of [`fresh_run`].
fn cell_mode(args: &[String]) -> ! {
    let usage = || -> ! {
        eprintln!("usage: bench --cell INDEX A|B mt|ct [--quick]");
        std::process::exit(2)
    };
    let (index, side, flavour) = match args {
        [index, side, flavour, rest @ ..] if rest.iter().all(|a| a == "--quick") => (
            index.parse::<usize>().ok().filter(|&i| i < CASES.len()),
            match side.as_str() {
                "A" => Some(Side::A),
                "B" => Some(Side::B),
                _ => None,
            },
            Flavour::parse(flavour),
        ),
        _ => usage(),
    };
    let (Some(index), Some(side), Some(flavour)) = (index, side, flavour) else {
        usage()
    };
    let cfg = if args.len() == 4 {
        Config::QUICK
    } else {
        Config::FULL
    };
    let result = (CASES[index].run)(side, flavour, &cfg);
    let line: Vec<String> = result.iter().map(|x| x.to_string()).collect();
    println!("CELL {}", line.join(" "));
    let _ = std::io::stdout().flush();
    // Some runs leave children behind on purpose (W2's RSS run): do not
    // wait for them.
    std::process::exit(0)
}

#[derive(Clone)]
struct Row {
    title: &'static str,
    metric: &'static str,
    /// The runtime, `mt` or `ct` (`–` for W7, which runs none).
    rt: &'static str,
    condition: Condition,
    a: Vec<f64>,
    b: Vec<f64>,
    ratios: Vec<f64>,
    target: Target,
}

/// Runs one cell: `cfg.rounds` rounds of A and B, alternating, in
/// `condition`. With `only`, just that side runs (for profiling); the
/// other reads as n/a.
fn run_case(
    index: usize,
    flavour: Flavour,
    cfg: &Config,
    only: Option<Side>,
    condition: Condition,
) -> Vec<Row> {
    let case = &CASES[index];
    let _load = (condition == Condition::Loaded).then(Load::start);
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
                match condition {
                    Condition::Fresh => fresh_run(index, side, flavour, cfg),
                    Condition::Quiet | Condition::Loaded => (case.run)(side, flavour, cfg),
                }
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
            "  {} [{}, {}] round {}/{}: A {} B {} ({})",
            case.title,
            flavour.name(),
            condition.name(),
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
                condition,
                a,
                b,
                ratios,
                target: metric.target,
            }
        })
        .collect()
}

const LEGEND: &str = "A = supervise, B = the raw-tokio floor; W5: A = one storm, B = the same restarts in batches under fresh supervisors (both supervise); W7: A = the tree derived with the macros, B = the same tree built with the builder; W9: A = supervise's Registry, B = a DashMap.\n\
ratio = median of the per-round ratios A/B (for children/s and the other rates, higher is better).\n\
Conditions: quiet = every run in this process, nothing else of the bench running; loaded = a busy-loop thread per core for the whole cell (both sides); fresh = every run in a fresh process.";

fn print_header() {
    println!("{LEGEND}");
    println!();
    println!("| workload | metric | rt | condition | A: median (min–max) | B: median (min–max) | ratio A/B | target | met? |");
    println!("|---|---|---|---|---|---|---|---|---|");
}

fn ratio_text(ratio: f64) -> String {
    if ratio.is_nan() {
        "n/a".to_owned()
    } else {
        format!("{ratio:.2}×")
    }
}

/// Prints a row as soon as its cell is done, so that a run cut short
/// keeps what it measured.
fn print_row(row: &Row) {
    let ratio = median(&row.ratios);
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        row.title,
        row.metric,
        row.rt,
        row.condition.name(),
        cell(&row.a),
        cell(&row.b),
        ratio_text(ratio),
        row.target.describe(),
        row.target.verdict(&row.a, ratio),
    );
    let _ = std::io::stdout().flush();
}

/// The summary: one line per metric and runtime, the conditions side by
/// side (medians; the rows above have the min–max).
fn print_summary(rows: &[Row], conditions: &[Condition]) {
    println!();
    println!("Summary: medians A / B and the ratio, per condition.");
    println!();
    let mut head = "| workload | metric | rt | target |".to_owned();
    let mut rule = "|---|---|---|---|".to_owned();
    for c in conditions {
        head.push_str(&format!(" {0} A / B | {0} ratio |", c.name()));
        rule.push_str("---|---|");
    }
    head.push_str(" met? (");
    head.push_str(
        &conditions
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(" / "),
    );
    head.push_str(") |");
    rule.push_str("---|");
    println!("{head}");
    println!("{rule}");
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    for row in rows {
        let key = (row.title, row.metric, row.rt);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let mut line = format!(
            "| {} | {} | {} | {} |",
            row.title,
            row.metric,
            row.rt,
            row.target.describe()
        );
        let mut verdicts = Vec::new();
        for &c in conditions {
            let found = rows
                .iter()
                .find(|r| (r.title, r.metric, r.rt) == key && r.condition == c);
            match found {
                Some(r) => {
                    let ratio = median(&r.ratios);
                    line.push_str(&format!(
                        " {} / {} | {} |",
                        number(median(&r.a)),
                        number(median(&r.b)),
                        ratio_text(ratio)
                    ));
                    let v = r.target.verdict(&r.a, ratio);
                    verdicts.push(if v.is_empty() { "–" } else { v });
                }
                None => {
                    line.push_str(" – | – |");
                    verdicts.push("–");
                }
            }
        }
        line.push_str(&format!(" {} |", verdicts.join(" / ")));
        println!("{line}");
    }
    let _ = std::io::stdout().flush();
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--quick] [--rounds N] [--conditions quiet,loaded,fresh] [W1 W2 W2P W3 W4 W5 W6 W6H W6G W7 W8 W9 ...]\n\
         for profiling one side: [--side supervise|floor] [--rt mt|ct] (quiet only unless --conditions)"
    );
    std::process::exit(2)
}

fn main() {
    // The same silent hook for both sides: crashes must not pay for
    // writing a report.
    std::panic::set_hook(Box::new(|_| {}));
    start_watchdog();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--rss") => rss_mode(&args[1..]),
        Some("--cell") => cell_mode(&args[1..]),
        _ => {}
    }
    let mut cfg = Config::FULL;
    let mut rounds = None;
    let mut selected: Vec<String> = Vec::new();
    let mut only = None;
    let mut conditions = None;
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
            "--conditions" => {
                let list = args.next().unwrap_or_else(|| usage());
                let parsed: Option<Vec<Condition>> =
                    list.split(',').map(Condition::parse).collect();
                conditions = Some(parsed.filter(|c| !c.is_empty()).unwrap_or_else(|| usage()));
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
    let conditions = conditions.unwrap_or_else(|| {
        if only.is_some() {
            vec![Condition::Quiet]
        } else {
            Condition::ALL.to_vec()
        }
    });
    eprintln!("bench: {cfg:?}, conditions {conditions:?}");
    print_header();
    let all = Instant::now();
    let mut rows = Vec::new();
    for (index, case) in CASES.iter().enumerate() {
        if !selected.is_empty() && !selected.iter().any(|w| w == case.workload) {
            continue;
        }
        for &flavour in &flavours {
            for &condition in &conditions {
                let cell_started = Instant::now();
                let cell_rows = run_case(index, flavour, &cfg, only, condition);
                eprintln!(
                    "  {} [{}, {}]: {:.1} s",
                    case.title,
                    flavour.name(),
                    condition.name(),
                    cell_started.elapsed().as_secs_f64()
                );
                cell_rows.iter().for_each(print_row);
                rows.extend(cell_rows);
            }
        }
    }
    // W7 runs no runtime: it times cargo. Left out of a one-sided
    // profiling run unless asked for. Every build is a process of its
    // own, so its fresh condition is its quiet one: not run twice.
    let w7_asked = selected.iter().any(|w| w == "W7");
    if w7_asked || (selected.is_empty() && only.is_none()) {
        for &condition in &conditions {
            if condition == Condition::Fresh && conditions.contains(&Condition::Quiet) {
                continue;
            }
            let _load = (condition == Condition::Loaded).then(Load::start);
            let cell_started = Instant::now();
            let (derived, builder) = w7::measure(cfg.rounds);
            eprintln!(
                "  W7 [{}]: {:.1} s",
                condition.name(),
                cell_started.elapsed().as_secs_f64()
            );
            let row = Row {
                title: "W7 compile time, 200-child tree (A derived, B builder)",
                metric: "incremental debug build (s)",
                rt: "–",
                condition,
                ratios: derived.iter().zip(&builder).map(|(a, b)| a / b).collect(),
                a: derived,
                b: builder,
                target: Target::RatioAtMost(1.5),
            };
            print_row(&row);
            if condition == Condition::Quiet && conditions.contains(&Condition::Fresh) {
                // Each build is already a fresh process.
                rows.push(Row {
                    condition: Condition::Fresh,
                    ..row.clone()
                });
            }
            rows.push(row);
        }
    }
    print_summary(&rows, &conditions);
    eprintln!("bench: {:.1} s in all", all.elapsed().as_secs_f64());
}
