//! Chaos soak: a large three-level tree hit by random crashes, in real time
//! on the multi-thread runtime, with its books checked at the end.
//!
//! ```text
//! cargo run --release -p examples --example soak                          # 10,000 children, 60 s
//! cargo run --release -p examples --example soak -- --seconds 5 --children 1000
//! ```
//!
//! The tree: a root (one_for_one) over 10 supervisors, each over 10
//! supervisors, each over `children / 100` workers. The middle and the
//! leaf supervisors cycle through one_for_one, rest_for_one and
//! one_for_all; the workers are 70% permanent, 20% transient and 10%
//! temporary, and one in seven handles its shutdown. Every intensity is
//! far above what the crashes can reach: the soak is about the books, not
//! about giving up.
//!
//! Injectors crash random workers at `--rate` crashes per second (default
//! 2000) for `--seconds` seconds (default 60), in three phases of a third
//! each: a warm-up, round 1 and round 2. A third of the crashes go through
//! the worker's mailbox with an error, a third with a panic, a third are
//! [`ChildRef::kill`](supervise::ChildRef::kill)s; callers ping random
//! workers meanwhile. After each phase the tree is left to settle (no
//! event for 200 ms, every permanent child running, every crash answered).
//! Then it checks, and prints:
//!
//! * crashes injected (sent to a running incarnation, or killed), and how
//!   many reached one: a message queued for an incarnation that died of
//!   something else first is dropped with its mailbox (the runtime counts
//!   those in `Event::MessagesDropped`; this soak also counts its own);
//! * restarts done (`Event::Restarting`);
//! * children lost: permanent children not running after each phase
//!   (snapshot);
//! * the books of the event stream, per path and incarnation: every start
//!   answered by exactly one exit (after the final stop, none is left
//!   running); every crash (an abnormal exit) answered by exactly one
//!   decision (`Event::Restarting`; a `ShutdownError` when the crash raced
//!   its termination by a group restart; nothing for a temporary child);
//!   no decision without a crash; every crash a worker carried out (it
//!   counts them) shows as exactly one exit with its error or panic; every
//!   `killed` exit was an injector's kill;
//! * RSS (`/proc/self/statm`) after round 2 within 5% of after round 1, and
//!   the same for the heap in use (a counting allocator: RSS also moves
//!   with the allocator's fragmentation, which the warm-up lets settle);
//! * tasks leaked: tokio's count of alive tasks, after the tree stopped,
//!   against the count before it started.
//!
//! `--hog-ms N` adds an application task that computes in polls of N ms
//! (between yields), as a CPU-heavy task sharing the runtime would.
//!
//! It exits with status 1 if any check fails. The last line reads
//! `soak: N crashes, N restarts, N lost, N leaked, RSS growth X%`.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use supervise::{
    ChildSpec, ChildState, Context, Event, Exit, ExitReason, HandleError, Reply, Restart, Strategy,
    Supervisor, SupervisorHandle, SupervisorSnapshot, Worker, WorkerHandle,
};

// ===== live heap =====

/// The system allocator, counting the bytes in use: RSS says what the
/// process holds, this what the program holds (the difference is the
/// allocator's own fragmentation).
struct Counting;

static HEAP: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        HEAP.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        HEAP.fetch_add(new as u64, Ordering::Relaxed);
        HEAP.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ===== options =====

#[derive(Debug, Clone, Copy)]
struct Options {
    seconds: f64,
    children: usize,
    rate: u64,
    seed: u64,
    hog_ms: u64,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            seconds: 60.0,
            children: 10_000,
            rate: 2_000,
            seed: 0x5eed_cafe_f00d,
            hog_ms: 0,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--seconds" => options.seconds = number(&flag, &value()?)?,
                "--children" => options.children = number(&flag, &value()?)?,
                "--rate" => options.rate = number(&flag, &value()?)?,
                "--seed" => options.seed = number(&flag, &value()?)?,
                "--hog-ms" => options.hog_ms = number(&flag, &value()?)?,
                "--help" | "-h" => return Err(
                    "usage: soak [--seconds N] [--children N] [--rate N] [--seed N] [--hog-ms N]"
                        .to_owned(),
                ),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if options.children < 100 || options.seconds <= 0.0 {
            return Err("--children must be at least 100 and --seconds above 0".to_owned());
        }
        Ok(options)
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not a number"))
}

// ===== the worker =====

enum Chaos {
    Crash,
    Panic,
    Ping(Reply<u64>),
}

/// Crashes when told to (counting the crashes it carries out), answers
/// pings; `traps` ones handle shutdown.
struct ChaosWorker {
    traps: bool,
    carried_out: Arc<AtomicU64>,
}

impl Worker for ChaosWorker {
    type Message = Chaos;

    fn handles_shutdown(&self) -> bool {
        self.traps
    }

    async fn run(self, mut ctx: Context<Chaos>) -> Result<(), Exit> {
        let shutdown = ctx.shutdown_signal();
        loop {
            let msg = tokio::select! {
                biased;
                () = shutdown.requested(), if self.traps => return Err(Exit::shutdown()),
                msg = ctx.recv() => msg,
            };
            match msg {
                Some(Chaos::Crash) => {
                    self.carried_out.fetch_add(1, Ordering::Relaxed);
                    return Err("injected crash".into());
                }
                Some(Chaos::Panic) => {
                    self.carried_out.fetch_add(1, Ordering::Relaxed);
                    panic!("injected panic");
                }
                Some(Chaos::Ping(reply)) => {
                    let _ = reply.send(ctx.incarnation());
                }
                None => return Ok(()),
            }
        }
    }
}

// ===== the tree =====

const STRATEGIES: [Strategy; 3] = [
    Strategy::OneForOne,
    Strategy::RestForOne,
    Strategy::OneForAll,
];

/// Far above what the crashes reach within the window.
const MAX_RESTARTS: u32 = 10_000_000;

/// Exits each worker remembers for the snapshot (default 8): one, so that
/// what the tree keeps by design is full after a worker's first exit, and
/// memory that still grows in the second round is a leak.
const HISTORY: usize = 1;

struct Tree {
    spec: supervise::SupervisorSpec,
    workers: Vec<WorkerHandle<ChaosWorker>>,
    restart_types: HashMap<String, Restart>,
    permanent: usize,
}

fn build_tree(children: usize, carried_out: &Arc<AtomicU64>) -> Tree {
    let per_leaf = children / 100;
    let mut workers = Vec::with_capacity(per_leaf * 100);
    let mut restart_types = HashMap::new();
    // Every supervisor is permanent.
    let mut permanent = 110;
    let mut root = Supervisor::builder("soak")
        .strategy(Strategy::OneForOne)
        .max_restarts(MAX_RESTARTS)
        .max_seconds(1);
    let mut n = 0usize;
    for m in 0..10 {
        let mut middle = Supervisor::builder(format!("m{m}"))
            .strategy(STRATEGIES[m % 3])
            .max_restarts(MAX_RESTARTS)
            .max_seconds(1);
        for l in 0..10 {
            let mut leaf = Supervisor::builder(format!("l{l}"))
                .strategy(STRATEGIES[(m * 10 + l) % 3])
                .max_restarts(MAX_RESTARTS)
                .max_seconds(1)
                .history(HISTORY);
            for w in 0..per_leaf {
                let restart = match n % 10 {
                    0 => Restart::Temporary,
                    1 | 2 => Restart::Transient,
                    _ => Restart::Permanent,
                };
                let traps = n % 7 == 3;
                n += 1;
                let carried_out = carried_out.clone();
                let (spec, handle) =
                    ChildSpec::worker_with_handle(format!("w{w}"), move || ChaosWorker {
                        traps,
                        carried_out: carried_out.clone(),
                    });
                leaf = leaf.child(spec.restart(restart));
                workers.push(handle);
                restart_types.insert(format!("soak/m{m}/l{l}/w{w}"), restart);
                permanent += usize::from(restart == Restart::Permanent);
            }
            let leaf = leaf.build().expect("a valid leaf");
            middle = middle.child(ChildSpec::supervisor(format!("l{l}"), leaf));
        }
        let middle = middle.build().expect("a valid middle supervisor");
        root = root.child(ChildSpec::supervisor(format!("m{m}"), middle));
    }
    Tree {
        spec: root.build().expect("a valid root"),
        workers,
        restart_types,
        permanent,
    }
}

// ===== the books =====

/// What the event stream says, checked as it comes, per path and
/// incarnation.
#[derive(Default)]
struct Books {
    restart_types: HashMap<String, Restart>,
    /// The running incarnation of each path.
    live: HashMap<String, u64>,
    /// The last incarnation of each path that exited.
    last_exit: HashMap<String, u64>,
    /// Crashed incarnations waiting for their supervisor's decision.
    pending: HashMap<String, u64>,
    events: u64,
    starts: u64,
    exits: u64,
    crashes: u64,
    crashes_by_message: u64,
    crashes_by_kill: u64,
    restarts: u64,
    shutdown_errors: u64,
    temporary_crashes: u64,
    /// Temporary children that crashed: no decision comes, but a shutdown
    /// error may, if the crash raced a group restart.
    temporary_crashed: HashSet<String>,
    exits_before_start: u64,
    /// The incarnations the injectors killed (filled before each kill).
    killed: Arc<Mutex<HashSet<(String, u64)>>>,
    /// `killed` exits of incarnations nobody killed, with their shutdown
    /// errors: a sample.
    unexplained_kills: u64,
    unexplained_sample: Vec<String>,
    violations: u64,
    first_violations: Vec<String>,
    /// The longest an event waited in the stream before the books got it.
    max_lag: Duration,
    /// Messages that died with their incarnation's mailbox, as the runtime
    /// counts them (`Event::MessagesDropped`: crash orders and pings).
    messages_dropped: u64,
}

impl Books {
    fn violation(&mut self, what: String) {
        self.violations += 1;
        if self.first_violations.len() < 20 {
            self.first_violations.push(what);
        }
    }

    fn record(&mut self, event: Event) {
        self.events += 1;
        match event {
            Event::Started { child } => {
                self.starts += 1;
                let (path, n) = (child.path(), child.incarnation());
                if self.last_exit.get(path) == Some(&n) {
                    // Its exit came first (see the summary).
                    self.exits_before_start += 1;
                } else if let Some(old) = self.live.insert(path.to_owned(), n) {
                    self.violation(format!("{path}#{n} started while #{old} had not exited"));
                }
            }
            Event::Exited {
                path,
                incarnation,
                reason,
            } => {
                self.exits += 1;
                match self.live.remove(&*path) {
                    Some(n) if n == incarnation => {}
                    // Exited before its `Started` event (checked there).
                    None => {}
                    Some(n) => {
                        self.violation(format!("{path}#{incarnation} exited while #{n} ran"))
                    }
                }
                match self.last_exit.insert(path.to_string(), incarnation) {
                    Some(n) if n >= incarnation => self.violation(format!(
                        "{path}#{incarnation} exited after #{n} had (a second exit?)"
                    )),
                    _ => {}
                }
                if !reason.is_normal() {
                    self.crashes += 1;
                    match reason {
                        ExitReason::Killed => {
                            self.crashes_by_kill += 1;
                            let key = (path.to_string(), incarnation);
                            if !lock(&self.killed).remove(&key) {
                                self.unexplained_kills += 1;
                                if self.unexplained_sample.len() < 5 {
                                    self.unexplained_sample
                                        .push(format!("exit {path}#{incarnation} killed"));
                                }
                            }
                        }
                        _ => self.crashes_by_message += 1,
                    }
                    if self.restart_types.get(&*path) == Some(&Restart::Temporary) {
                        // Forgotten without an event, unless the crash
                        // raced a group restart (a shutdown error).
                        self.temporary_crashes += 1;
                        self.temporary_crashed.insert(path.to_string());
                    } else if let Some(old) = self.pending.insert(path.to_string(), incarnation) {
                        self.violation(format!(
                            "{path}#{old} crashed and got no decision before #{incarnation} crashed"
                        ));
                    }
                }
            }
            Event::Restarting { child, .. } => {
                self.restarts += 1;
                if self.pending.remove(&*child).is_none() {
                    self.violation(format!("{child} restarted without a crash"));
                }
            }
            Event::ShutdownError { child, reason, .. } => {
                self.shutdown_errors += 1;
                if self.unexplained_sample.len() < 10
                    && self
                        .unexplained_sample
                        .iter()
                        .any(|e| e.starts_with(&format!("exit {child}#")))
                {
                    self.unexplained_sample
                        .push(format!("shutdown_error {child} {reason}"));
                }
                if self.pending.remove(&*child).is_none() && !self.temporary_crashed.remove(&*child)
                {
                    self.violation(format!(
                        "shutdown error of {child} ({reason}) without a crash"
                    ));
                }
            }
            Event::ChildTerminated { .. } => {}
            Event::MessagesDropped { count, .. } => self.messages_dropped += count as u64,
            other => self.violation(format!("unexpected event {other:?}")),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ===== chaos =====

/// xorshift64*: enough randomness for picking victims, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Injected {
    by_error: AtomicU64,
    by_panic: AtomicU64,
    by_kill: AtomicU64,
    refused: AtomicU64,
    killed: Arc<Mutex<HashSet<(String, u64)>>>,
}

impl Injected {
    fn total(&self) -> u64 {
        self.by_error.load(Ordering::Relaxed)
            + self.by_panic.load(Ordering::Relaxed)
            + self.by_kill.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct Calls {
    outstanding: AtomicU64,
    answered: AtomicU64,
    lost: AtomicU64,
    timed_out: AtomicU64,
    not_found: AtomicU64,
    other: AtomicU64,
}

const INJECTORS: u64 = 4;
const TICK: Duration = Duration::from_millis(10);

/// Crashes random workers at `rate / INJECTORS` per second until `until`,
/// and pings one now and then.
async fn inject(
    workers: Arc<Vec<WorkerHandle<ChaosWorker>>>,
    injected: Arc<Injected>,
    calls: Arc<Calls>,
    rate: u64,
    seed: u64,
    until: Instant,
) {
    let mut rng = Rng(seed | 1);
    let per_tick = (rate as f64 / INJECTORS as f64) * TICK.as_secs_f64();
    let mut owed = 0.0;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while Instant::now() < until {
        ticker.tick().await;
        owed += per_tick;
        while owed >= 1.0 {
            owed -= 1.0;
            let victim = &workers[rng.below(workers.len())];
            let (counter, ok) = match rng.below(3) {
                0 => (&injected.by_error, victim.send(Chaos::Crash).is_ok()),
                1 => (&injected.by_panic, victim.send(Chaos::Panic).is_ok()),
                _ => (
                    &injected.by_kill,
                    victim
                        .child()
                        .map(|child| {
                            let key = (child.path().to_owned(), child.incarnation());
                            lock(&injected.killed).insert(key);
                            child.kill();
                        })
                        .is_some(),
                ),
            };
            if ok {
                counter.fetch_add(1, Ordering::Relaxed);
            } else {
                injected.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        if rng.below(4) == 0 {
            let target = workers[rng.below(workers.len())].clone();
            let calls = calls.clone();
            calls.outstanding.fetch_add(1, Ordering::Relaxed);
            // Not awaited here: the injector keeps its pace.
            tokio::spawn(async move {
                let counter = match target
                    .call_timeout(Chaos::Ping, Duration::from_secs(5))
                    .await
                {
                    Ok(_) => &calls.answered,
                    Err(HandleError::Lost) => &calls.lost,
                    Err(HandleError::Timeout) => &calls.timed_out,
                    Err(HandleError::NotFound) => &calls.not_found,
                    Err(_) => &calls.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                calls.outstanding.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
}

/// An application task that computes in long polls: `poll` of CPU, then a
/// yield, until `until`.
async fn hog(poll: Duration, until: Instant) {
    while Instant::now() < until {
        let busy = Instant::now();
        while busy.elapsed() < poll {
            std::hint::spin_loop();
        }
        tokio::task::yield_now().await;
    }
}

// ===== measuring =====

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
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

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Permanent children (workers and supervisors) running in the tree.
fn permanent_running(tree: &SupervisorSnapshot) -> usize {
    tree.walk()
        .iter()
        .filter(|(_, c)| c.restart == Restart::Permanent && c.state == ChildState::Running)
        .count()
}

/// Waits until the tree is quiet: no event for 200 ms, every permanent
/// child running, no crash waiting for its decision. Returns the last
/// snapshot's count of permanent children running.
async fn settle(
    root: &SupervisorHandle,
    books: &Mutex<Books>,
    expected_permanent: usize,
    patience: Duration,
) -> usize {
    let deadline = Instant::now() + patience;
    loop {
        let before = lock(books).events;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let running = match root.snapshot().await {
            Ok(tree) => permanent_running(&tree),
            Err(_) => 0,
        };
        let (after, pending) = {
            let books = lock(books);
            (books.events, books.pending.len())
        };
        let quiet = before == after && pending == 0;
        if (quiet && running == expected_permanent) || Instant::now() >= deadline {
            return running;
        }
    }
}

// ===== the soak =====

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    supervise::install_panic_hook();
    let baseline = alive_tasks();
    let carried_out = Arc::new(AtomicU64::new(0));
    let tree = build_tree(options.children, &carried_out);
    let workers = Arc::new(tree.workers);
    let injected = Arc::new(Injected::default());
    let calls = Arc::new(Calls::default());
    let books = Arc::new(Mutex::new(Books {
        restart_types: tree.restart_types,
        killed: injected.killed.clone(),
        ..Books::default()
    }));
    let mut events = tree.spec.subscribe();
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let bookkeeper = {
        let books = books.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    event = events.recv_timed() => {
                        let Some((at, event)) = event else { break };
                        {
                            let mut books = lock(&books);
                            books.max_lag = books.max_lag.max(at.elapsed());
                            books.record(event);
                            for _ in 0..255 {
                                match events.try_recv() {
                                    Some(event) => books.record(event),
                                    None => break,
                                }
                            }
                        }
                        // Never keep a worker thread long: a child whose
                        // abort waits behind it more than 100 ms is
                        // reported killed.
                        tokio::task::yield_now().await;
                    }
                    _ = &mut done_rx => {
                        let mut books = lock(&books);
                        while let Some(event) = events.try_recv() {
                            books.record(event);
                        }
                        break;
                    }
                }
            }
        })
    };

    let started = Instant::now();
    let root = match tree.spec.start().await {
        Ok(root) => root,
        Err(error) => {
            eprintln!("soak: the tree failed to start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "soak: {} workers under 110 supervisors started in {:.2?}; {} crashes/s for {} s \
         (a warm-up and 2 rounds)",
        workers.len(),
        started.elapsed(),
        options.rate,
        options.seconds
    );

    let round = Duration::from_secs_f64(options.seconds / 3.0);
    let patience = Duration::from_secs(60).max(round);
    let mut lost = Vec::new();
    let mut rss = Vec::new();
    let mut heap = Vec::new();
    for (r, phase) in ["warm-up", "round 1", "round 2"].into_iter().enumerate() {
        let r = r as u64;
        let until = Instant::now() + round;
        let injectors: Vec<_> = (0..INJECTORS)
            .map(|i| {
                tokio::spawn(inject(
                    workers.clone(),
                    injected.clone(),
                    calls.clone(),
                    options.rate,
                    options.seed ^ (r * INJECTORS + i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    until,
                ))
            })
            .collect();
        if options.hog_ms > 0 {
            tokio::spawn(hog(Duration::from_millis(options.hog_ms), until));
        }
        for injector in injectors {
            let _ = injector.await;
        }
        let settling = Instant::now();
        let running = settle(&root, &books, tree.permanent, patience).await;
        lost.push(tree.permanent - running);
        rss.push(rss_bytes().unwrap_or(0));
        heap.push(HEAP.load(Ordering::Relaxed));
        let mut books = lock(&books);
        println!(
            "{phase}: {} crashes injected so far, {} restarts, {} events (longest wait in the \
             stream {:.0?}); settled in {:.2?}; {} permanent children not running; \
             RSS {:.1} MiB, heap {:.1} MiB",
            injected.total(),
            books.restarts,
            books.events,
            books.max_lag,
            settling.elapsed(),
            tree.permanent - running,
            mib(rss[r as usize]),
            mib(heap[r as usize]),
        );
        books.max_lag = Duration::ZERO;
    }
    // Let the last pings finish (each gives up after 5 s at most).
    let pings_deadline = Instant::now() + Duration::from_secs(10);
    while calls.outstanding.load(Ordering::Relaxed) > 0 && Instant::now() < pings_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stopping = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(120), root.stop()).await;
    let stop_took = stopping.elapsed();
    let _ = done_tx.send(());
    let _ = bookkeeper.await;
    let mut leaked = alive_tasks().saturating_sub(baseline);
    let deadline = Instant::now() + Duration::from_secs(5);
    while leaked > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        leaked = alive_tasks().saturating_sub(baseline);
    }

    // ===== the verdict =====
    let books = lock(&books);
    let mut failures = Vec::new();
    let crashes = injected.total();
    let lost_total = lost.iter().copied().max().unwrap_or(0);
    let percent = |first: u64, second: u64| match (first, second) {
        (0, _) | (_, 0) => f64::NAN,
        (first, second) => (second as f64 - first as f64) / first as f64 * 100.0,
    };
    let growth = percent(rss[1], rss[2]);
    let heap_growth = percent(heap[1], heap[2]);
    let reached_by_message = carried_out.load(Ordering::Relaxed);
    let sent_by_message =
        injected.by_error.load(Ordering::Relaxed) + injected.by_panic.load(Ordering::Relaxed);
    let kills = injected.by_kill.load(Ordering::Relaxed);

    println!(
        "injected: {} errors, {} panics, {} kills ({} not sent: the child was down or gone)",
        injected.by_error.load(Ordering::Relaxed),
        injected.by_panic.load(Ordering::Relaxed),
        kills,
        injected.refused.load(Ordering::Relaxed),
    );
    println!(
        "reached: {} crashes by message carried out ({} dropped with a dead incarnation's mailbox), \
         {} kills of a live incarnation; the runtime counted {} messages dropped with their mailbox",
        reached_by_message,
        sent_by_message.saturating_sub(reached_by_message),
        books.crashes_by_kill,
        books.messages_dropped,
    );
    println!(
        "events: {} in all; {} starts, {} exits, {} crashes, {} restarts, {} shutdown errors \
         (crashes racing a group restart), {} crashes of temporary children",
        books.events,
        books.starts,
        books.exits,
        books.crashes,
        books.restarts,
        books.shutdown_errors,
        books.temporary_crashes,
    );
    println!(
        "calls: {} answered, {} lost with a crashed incarnation, {} to temporary children gone, \
         {} timed out, {} other errors",
        calls.answered.load(Ordering::Relaxed),
        calls.lost.load(Ordering::Relaxed),
        calls.not_found.load(Ordering::Relaxed),
        calls.timed_out.load(Ordering::Relaxed),
        calls.other.load(Ordering::Relaxed),
    );
    println!(
        "memory: RSS {:.1} MiB after round 1, {:.1} MiB after round 2 ({growth:+.1}%); \
         heap in use {:.1} MiB, {:.1} MiB ({heap_growth:+.1}%); the tree stopped in {:.2?}",
        mib(rss[1]),
        mib(rss[2]),
        mib(heap[1]),
        mib(heap[2]),
        stop_took
    );
    if books.exits_before_start > 0 {
        println!(
            "note: {} incarnations' exits came before their start on the event stream \
             (a child that crashed before its supervisor emitted `Started`)",
            books.exits_before_start
        );
    }

    if stopped.is_err() {
        failures.push("the tree did not stop within 120 s".to_owned());
    } else if let Ok(Err(error)) = stopped {
        failures.push(format!("stop failed: {error}"));
    }
    if crashes == 0 {
        failures.push("no crash was injected".to_owned());
    }
    if lost_total > 0 {
        failures.push(format!(
            "{lost_total} permanent children not running after a round"
        ));
    }
    if books.violations > 0 {
        failures.push(format!(
            "{} violations of the books, first ones:\n    {}",
            books.violations,
            books.first_violations.join("\n    ")
        ));
    }
    if !books.pending.is_empty() {
        failures.push(format!(
            "{} crashes never got a decision: {:?}",
            books.pending.len(),
            books.pending.iter().take(10).collect::<Vec<_>>()
        ));
    }
    if !books.live.is_empty() {
        failures.push(format!(
            "{} incarnations started and never exited (lost exit events): {:?}",
            books.live.len(),
            books.live.iter().take(10).collect::<Vec<_>>()
        ));
    }
    if books.crashes_by_message != reached_by_message {
        failures.push(format!(
            "{} crashes carried out by workers, but {} exits with an error or a panic",
            reached_by_message, books.crashes_by_message
        ));
    }
    if books.unexplained_kills > 0 {
        failures.push(format!(
            "{} incarnations exited `killed` that no injector killed, e.g.:\n    {}",
            books.unexplained_kills,
            books.unexplained_sample.join("\n    ")
        ));
    }
    if growth.is_nan() || growth > 5.0 {
        failures.push(format!("RSS grew {growth:.1}% from round 1 to round 2"));
    }
    if heap_growth.is_nan() || heap_growth > 5.0 {
        failures.push(format!(
            "the heap in use grew {heap_growth:.1}% from round 1 to round 2"
        ));
    }
    if leaked > 0 {
        failures.push(format!("{leaked} tasks still alive after the tree stopped"));
    }
    for failure in &failures {
        println!("FAILED: {failure}");
    }
    println!(
        "soak: {crashes} crashes, {} restarts, {lost_total} lost, {leaked} leaked, RSS growth {growth:.1}%",
        books.restarts
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
