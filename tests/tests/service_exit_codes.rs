//! The `service` example's exit codes: 0 after SIGTERM and a clean
//! shutdown, 1 when its root gives up. Runs the example binary (short,
//! bounded real time: the outcome is asserted, never a duration).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Builds the example and returns the path of its binary.
fn service_binary() -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "examples",
            "--example",
            "service",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "the example builds");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|l| l.contains("\"executable\":\"") && l.contains("service"))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + l[start..].find('"')?;
            Some(l[start..end].to_string())
        })
        .expect("cargo names the executable")
}

fn wait_with_deadline(child: &mut std::process::Child, deadline: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            return status.code().expect("an exit code");
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            panic!("the service did not exit within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exit_codes_after_sigterm_and_after_a_give_up() {
    let binary = service_binary();

    // SIGTERM: a clean shutdown, exit code 0.
    let mut child = Command::new(&binary)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the service starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a first line").unwrap();
    assert!(ready.starts_with("ready on http://127.0.0.1:"), "{ready}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert_eq!(wait_with_deadline(&mut child, Duration::from_secs(20)), 0);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(rest, ["exit: Stopped (code 0)"]);

    // A crashing child exceeds the root's intensity: exit code 1.
    let mut child = Command::new(&binary)
        .arg("--give-up")
        .stdout(Stdio::null())
        .spawn()
        .expect("the service starts");
    assert_eq!(wait_with_deadline(&mut child, Duration::from_secs(20)), 1);
}
