//! Replays the oracle's scenarios (run on the real Erlang/OTP 25 and Elixir
//! 1.14) through `supervise` and compares the traces line by line.
//!
//! `cargo test -p supervise-tests --test conformance` runs the public
//! scenarios in `tests/conformance/public`, the project's own in
//! `tests/conformance/project`, and every directory named in
//! `SUPERVISE_CONFORMANCE_DIR` (separated by `:`; a missing one fails the
//! run). `tests/conformance/FORMAT.md` describes both files. It ends with the line
//! `conformance: N passed, M failed`, and fails when M > 0: every scenario
//! must pass, there is no skip list.

mod driver;
mod render;
mod scn;

use std::path::{Path, PathBuf};

use std::process::ExitCode;
use supervise_tests::scenarios;

use similar::TextDiff;

/// How a scenario's expected trace is compared with ours.
enum Expect {
    /// Line by line, against any of these traces (two for `nondeterministic/`).
    Exact(Vec<String>),
    /// Per time slot as a multiset (`async_orphans`).
    Multiset(String),
}

fn main() -> ExitCode {
    // libtest's flags (`--nocapture`, filters, ...) are accepted and ignored.
    let mut dirs = scenarios::recorded();
    if let Ok(extra) = std::env::var("SUPERVISE_CONFORMANCE_DIR") {
        dirs.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    let overrides = scenarios::exact_window();

    let (mut passed, mut failed) = (0usize, 0usize);
    for dir in &dirs {
        let files = match scenarios::files(dir) {
            Ok(files) => files,
            Err(e) => {
                println!("FAIL {e}");
                failed += 1;
                continue;
            }
        };
        for scn in files {
            let name = scn.strip_prefix(dir).unwrap_or(&scn).display().to_string();
            match check(&scn, &overrides) {
                Ok(note) => {
                    passed += 1;
                    println!("ok   {name}{note}");
                }
                Err(report) => {
                    failed += 1;
                    println!("FAIL {name}\n{report}");
                }
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("  cannot read {}: {e}", path.display()))
}

/// Runs one scenario; `Ok` carries a note for the summary line.
fn check(scn_path: &Path, overrides: &Path) -> Result<String, String> {
    let text = read(scn_path)?;
    let scenario = scn::parse(&text).map_err(|e| format!("  {}: {e}", scn_path.display()))?;
    let file_name = scn_path.file_name().expect("a file").to_owned();
    let trace_path = scn_path.with_extension("trace");
    let mut note = String::new();

    let expect = if scenario.tags.iter().any(|t| t == "second_granularity")
        && overrides.join(&file_name).with_extension("trace").is_file()
    {
        // The runtime's exact sliding window differs from OTP's whole
        // seconds by design: check the trace of the documented rule.
        note = " (exact-window trace)".into();
        Expect::Exact(vec![read(
            &overrides.join(&file_name).with_extension("trace"),
        )?])
    } else if scenario.tags.iter().any(|t| t == "async_orphans") {
        Expect::Multiset(read(&trace_path)?)
    } else {
        let mut traces = vec![read(&trace_path)?];
        let alt = scn_path.with_extension("trace.alt");
        if alt.is_file() {
            traces.push(read(&alt)?);
        }
        Expect::Exact(traces)
    };

    let ours = driver::run(&scenario).join("\n") + "\n";
    match expect {
        Expect::Exact(traces) => {
            match traces.iter().position(|t| normalise(t) == ours) {
                Some(0) => return Ok(note),
                Some(_) => return Ok(format!("{note} (matches the .trace.alt)")),
                None => {}
            }
            Err(diff(&normalise(&traces[0]), &ours))
        }
        Expect::Multiset(trace) => {
            if slots(&normalise(&trace)) == slots(&ours) {
                return Ok(" (compared per time slot)".into());
            }
            Err(diff(&normalise(&trace), &ours))
        }
    }
}

fn normalise(trace: &str) -> String {
    let lines: Vec<&str> = trace
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n") + "\n"
}

/// The lines grouped by time, each group sorted.
fn slots(trace: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in trace.lines() {
        let (t, rest) = line.split_once(' ').unwrap_or((line, ""));
        match out.last_mut() {
            Some((lt, group)) if lt == t => group.push(rest.to_string()),
            _ => out.push((t.to_string(), vec![rest.to_string()])),
        }
    }
    for (_, group) in &mut out {
        group.sort();
    }
    out
}

fn diff(expected: &str, ours: &str) -> String {
    TextDiff::from_lines(expected, ours)
        .unified_diff()
        .header("expected (OTP)", "supervise")
        .to_string()
}
