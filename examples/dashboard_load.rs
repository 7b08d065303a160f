//! What an open dashboard page costs a busy tree: 10,000 children under a
//! dynamic supervisor, 1,000 of them killed (and restarted) a second, and
//! the process's CPU time with no page open against one page open.
//! BENCHMARKS.md has the method and the results.
//!
//! The process's CPU is its user + system time (`/proc/self/stat`, all
//! threads) over each phase, as a share of one core. Phases alternate
//! (no page, page, no page, page, ...), each `--seconds` long after a
//! warm-up. The page is a Server-Sent Events reader on a thread of this
//! process (its reads are counted in the page's cost), or with
//! `--browser` a headless Chromium (Debian's `chromium` and
//! `chromium-driver`), whose redraws the page counts
//! (`window.superviseDashboard.redraws`).
//!
//! ```text
//! cargo run --release -p examples --example dashboard_load
//! cargo run --release -p examples --example dashboard_load -- --browser
//! cargo run --release -p examples --example dashboard_load -- --children 10000 --rate 1000 --seconds 10 --rounds 3
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child as Process, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use supervise::{
    worker, Context, Dashboard, DynamicSupervisor, Exit, Supervisor, Worker, WorkerHandle,
};

/// Waits to be killed.
#[worker(shutdown = brutal_kill)]
#[derive(Clone, Debug)]
struct Sleeper;

impl Worker for Sleeper {
    type Message = ();
    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[derive(Clone, Supervisor)]
#[supervisor(max_restarts = 1000000, max_seconds = 1)]
struct Load {
    pool: DynamicSupervisor<Sleeper>,
    dashboard: Dashboard,
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: a number")))
        .unwrap_or(default)
}

/// This process's user + system CPU time.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the whole line, in clock ticks (100 a
    // second on Linux).
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// One phase's numbers.
#[derive(Debug, Default, Clone, Copy)]
struct Phase {
    cpu: f64,
    restarts: f64,
    frames: f64,
    bytes: f64,
    redraws: f64,
}

/// A page open on the dashboard.
enum Page {
    /// A Server-Sent Events reader on a thread: counts frames and bytes.
    Reader {
        frames: Arc<AtomicU64>,
        bytes: Arc<AtomicU64>,
        stop: Arc<AtomicBool>,
    },
    /// Headless Chromium through chromedriver.
    Browser(Browser),
}

impl Page {
    fn open(addr: SocketAddr, browser: bool) -> Page {
        if browser {
            return Page::Browser(Browser::open(&format!("http://{addr}/")));
        }
        let frames = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, b, s) = (frames.clone(), bytes.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).expect("the dashboard");
            stream
                .write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut chunk = vec![0u8; 1 << 16];
            let marker = b"event: frame";
            while !s.load(Ordering::Relaxed) {
                match stream.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        b.fetch_add(n as u64, Ordering::Relaxed);
                        let seen = chunk[..n]
                            .windows(marker.len())
                            .filter(|w| w == marker)
                            .count();
                        f.fetch_add(seen as u64, Ordering::Relaxed);
                    }
                    Err(_) => {}
                }
            }
        });
        Page::Reader {
            frames,
            bytes,
            stop,
        }
    }

    /// Frames, bytes and redraws so far.
    fn counts(&mut self) -> (u64, u64, u64) {
        match self {
            Page::Reader { frames, bytes, .. } => (
                frames.load(Ordering::Relaxed),
                bytes.load(Ordering::Relaxed),
                0,
            ),
            Page::Browser(browser) => {
                let stats = browser.execute(
                    "return [window.superviseDashboard.frames, window.superviseDashboard.redraws]",
                );
                let numbers: Vec<u64> = stats
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|n| n.trim().parse().unwrap_or(0))
                    .collect();
                (numbers[0], 0, numbers[1])
            }
        }
    }

    fn close(self) {
        match self {
            Page::Reader { stop, .. } => stop.store(true, Ordering::Relaxed),
            Page::Browser(browser) => browser.close(),
        }
    }
}

/// A WebDriver session, in plain HTTP/1.1 (what the bench needs of it).
struct Browser {
    driver: Process,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    fn open(url: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver)");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let up = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                up.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = r#"{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--window-size=1400,900"]}}}}"#;
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let created = browser.call("POST", "/session", caps);
        browser.session = json_string(&created, "sessionId").expect("a session");
        let path = format!("/session/{}/url", browser.session);
        browser.call("POST", &path, &format!(r#"{{"url":"{url}"}}"#));
        browser
    }

    fn execute(&mut self, script: &str) -> String {
        let path = format!("/session/{}/execute/sync", self.session);
        let body = format!(r#"{{"script":"{script}","args":[]}}"#);
        let reply = self.call("POST", &path, &body);
        let value = reply.find("\"value\":").expect("a value") + "\"value\":".len();
        reply[value..].trim_end_matches('}').to_owned()
    }

    fn call(&mut self, method: &str, path: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        // chromedriver keeps the connection open: read the head, then as
        // many bytes as it says.
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, length) = loop {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "chromedriver closed the connection");
            raw.extend_from_slice(&chunk[..n]);
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|l| l.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while raw.len() < head_end + length {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "chromedriver closed the connection");
            raw.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&raw[head_end..head_end + length]).into_owned()
    }

    fn close(mut self) {
        let path = format!("/session/{}", self.session);
        self.call("DELETE", &path, "");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    Some(json[at..].split('"').next()?.to_owned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let children: usize = arg(&args, "--children", 10_000);
    let rate: u64 = arg(&args, "--rate", 1_000);
    let seconds: u64 = arg(&args, "--seconds", 10);
    let rounds: usize = arg(&args, "--rounds", 3);
    let browser = args.iter().any(|a| a == "--browser");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    // Killed children are not worth a report each.
    std::panic::set_hook(Box::new(|_| {}));

    let load = runtime
        .block_on(
            Load {
                pool: DynamicSupervisor::new().max_restarts(u32::MAX),
                dashboard: Dashboard::new(0),
            }
            .start(),
        )
        .expect("the tree starts");
    let handles: Vec<WorkerHandle<Sleeper>> = runtime.block_on(async {
        let mut handles = Vec::with_capacity(children);
        for _ in 0..children {
            handles.push(load.pool.start_child(Sleeper).await.unwrap());
        }
        handles
    });
    let addr = runtime.block_on(load.dashboard.listening());
    println!("{children} children, {rate} kills a second, dashboard on http://{addr}/");

    // The killer: `rate` kills a second, in ticks of 10 ms, round robin.
    let kills = Arc::new(AtomicU64::new(0));
    let killed = kills.clone();
    runtime.spawn(async move {
        let per_tick = (rate / 100).max(1) as usize;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut next = 0;
        loop {
            tick.tick().await;
            for _ in 0..per_tick {
                if let Some(child) = handles[next].child() {
                    child.kill();
                    killed.fetch_add(1, Ordering::Relaxed);
                }
                next = (next + 1) % handles.len();
            }
        }
    });

    let phase = |page: &mut Option<Page>| -> Phase {
        // Warm up: the page's first frames, the tree's steady state.
        std::thread::sleep(Duration::from_secs(2));
        let counts = |page: &mut Option<Page>| page.as_mut().map_or((0, 0, 0), Page::counts);
        let (cpu0, kills0, at0) = (cpu_time(), kills.load(Ordering::Relaxed), Instant::now());
        let (f0, b0, r0) = counts(page);
        std::thread::sleep(Duration::from_secs(seconds));
        let (f1, b1, r1) = counts(page);
        let (cpu1, kills1, at1) = (cpu_time(), kills.load(Ordering::Relaxed), Instant::now());
        let wall = (at1 - at0).as_secs_f64();
        Phase {
            cpu: (cpu1 - cpu0).as_secs_f64() / wall * 100.0,
            restarts: (kills1 - kills0) as f64 / wall,
            frames: (f1 - f0) as f64 / wall,
            bytes: (b1 - b0) as f64 / wall,
            redraws: (r1 - r0) as f64 / wall,
        }
    };

    let mut without = Vec::new();
    let mut with = Vec::new();
    for round in 1..=rounds {
        let mut none = None;
        let off = phase(&mut none);
        println!(
            "round {round}: no page:  {:5.1} % of a core, {:6.0} restarts/s",
            off.cpu, off.restarts
        );
        without.push(off);
        let mut page = Some(Page::open(addr, browser));
        let on = phase(&mut page);
        println!(
            "round {round}: one page: {:5.1} % of a core, {:6.0} restarts/s, {:4.1} frames/s, {:4.1} redraws/s, {:7.0} bytes/s",
            on.cpu, on.restarts, on.frames, on.redraws, on.bytes
        );
        with.push(on);
        if let Some(page) = page {
            page.close();
        }
    }
    let mean = |phases: &[Phase], f: fn(&Phase) -> f64| {
        phases.iter().map(f).sum::<f64>() / phases.len() as f64
    };
    let (off, on) = (mean(&without, |p| p.cpu), mean(&with, |p| p.cpu));
    println!(
        "mean: no page {off:.1} %, one page {on:.1} %: the page costs {:.1} % of a core; {:.1} frames/s, {:.1} redraws/s",
        on - off,
        mean(&with, |p| p.frames),
        mean(&with, |p| p.redraws),
    );
    runtime.block_on(async {
        load.supervisor().current().unwrap().stop().await.unwrap();
    });
}
