//! Replays the oracle's scenarios (run on the real Erlang/OTP 25 and Elixir
//! 1.14) through `supervise` and compares the traces line by line.
//!
//! `cargo test -p supervise-tests --test conformance` runs the public
//! scenarios in `tests/conformance/public`, the project's own in
//! `tests/conformance/project`, and every directory named in
//! `SUPERVISE_CONFORMANCE_DIR` (separated by `:`; a missing one fails the
//! run). `tests/conformance/FORMAT.md` describes both files. It ends with the line
//! `conformance: N passed, M failed (K compared per actor)`, and fails when
//! M > 0: every scenario must pass, there is no skip list.
//!
//! A trace matches OTP's line by line, or else under the same-slot rule
//! (FORMAT.md, rule 4: within one time slot, lines of different actors may
//! interleave; see `supervise_tests::trace`); the scenarios that needed
//! the rule are named. `async_orphans` scenarios are compared per slot as a
//! multiset. With `SUPERVISE_CONFORMANCE_OUT` set, the trace produced for
//! each scenario is written there under the scenario's relative name.

mod driver;
mod render;
mod scn;

use std::path::{Path, PathBuf};

use std::process::ExitCode;
use supervise_tests::scenarios;
use supervise_tests::trace::{self, Match};

use similar::TextDiff;

/// How a scenario's expected trace is compared with ours.
enum Expect {
    /// Against any of these traces (two for `nondeterministic/`): line by
    /// line, or per actor within each time slot.
    Traces(Vec<String>),
    /// Per time slot as a multiset (`async_orphans`).
    Multiset(String),
}

/// How a scenario passed.
enum Passed {
    Exact,
    PerActor,
    Multiset,
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
    let out = std::env::var_os("SUPERVISE_CONFORMANCE_OUT").map(PathBuf::from);
    let overrides = scenarios::exact_window();

    let (mut passed, mut failed) = (0usize, 0usize);
    let mut per_actor = Vec::new();
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
            let relative = scn.strip_prefix(dir).unwrap_or(&scn).to_path_buf();
            let name = relative.display().to_string();
            let written = out
                .as_ref()
                .map(|out| out.join(&relative).with_extension("trace"));
            match check(&scn, &overrides, written.as_deref()) {
                Ok((passed_as, note)) => {
                    passed += 1;
                    let how = match passed_as {
                        Passed::Exact => "",
                        Passed::PerActor => {
                            per_actor.push(name.clone());
                            " (per actor)"
                        }
                        Passed::Multiset => " (per time slot, as a multiset)",
                    };
                    println!("ok   {name}{note}{how}");
                }
                Err(report) => {
                    failed += 1;
                    println!("FAIL {name}\n{report}");
                }
            }
        }
    }
    if !per_actor.is_empty() {
        println!(
            "compared per actor (same-slot rule): {}",
            per_actor.join(", ")
        );
    }
    println!(
        "conformance: {passed} passed, {failed} failed ({} compared per actor)",
        per_actor.len()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("  cannot read {}: {e}", path.display()))
}

/// Runs one scenario, writing our trace to `written` if given; `Ok` says
/// how it passed, with a note.
fn check(
    scn_path: &Path,
    overrides: &Path,
    written: Option<&Path>,
) -> Result<(Passed, String), String> {
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
        Expect::Traces(vec![read(
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
        Expect::Traces(traces)
    };

    let ours = driver::run(&scenario).join("\n") + "\n";
    if let Some(written) = written {
        let write = written
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(written, &ours));
        write.map_err(|e| format!("  cannot write {}: {e}", written.display()))?;
    }
    let is_supervisor = |path: &str| scenario.nodes.iter().any(|n| n.is_sup && n.path == path);
    let is_dynamic = |path: &str| {
        scenario.nodes.iter().any(|n| {
            n.is_sup
                && n.path == path
                && matches!(
                    n.attrs.get("strategy"),
                    Some("simple_one_for_one" | "dynamic")
                )
        })
    };
    match expect {
        Expect::Traces(traces) => {
            let mut first_error = None;
            for (i, expected) in traces.iter().enumerate() {
                if i == 1 {
                    note += " (matches the .trace.alt)";
                }
                match trace::compare(&normalise(expected), &ours, &is_supervisor, &is_dynamic) {
                    Ok(Match::Exact) => return Ok((Passed::Exact, note)),
                    Ok(Match::PerActor) => return Ok((Passed::PerActor, note)),
                    Err(why) => {
                        first_error.get_or_insert(why);
                    }
                }
            }
            Err(format!(
                "  {}\n{}",
                first_error.unwrap_or_default(),
                diff(&normalise(&traces[0]), &ours)
            ))
        }
        Expect::Multiset(trace) => {
            if slots(&normalise(&trace)) == slots(&ours) {
                return Ok((Passed::Multiset, note));
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
