//! The model against Erlang/OTP's own traces: the oracle's scenarios it
//! can express, read as cases.

use super::*;

/// Reads an oracle scenario (`tests/conformance/FORMAT.md`) as a case,
/// if it only uses what the model covers: no init delays, bombs, slow
/// stops, shutdown timeouts other than 5 s, id overrides, whole-second
/// windows, invalid values, or `simple_one_for_one`.
pub(crate) fn from_scn(text: &str) -> Result<Case, String> {
    fn keys(tokens: &[&str]) -> BTreeMap<String, String> {
        tokens
            .iter()
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
    fn unsupported<T>(what: &str) -> Result<T, String> {
        Err(format!("unsupported: {what}"))
    }
    fn child_def(id: &str, k: &BTreeMap<String, String>, kind: Kind) -> Result<ChildDef, String> {
        for key in ["id", "init", "crash_after", "stop_exit", "type"] {
            if k.contains_key(key) {
                return unsupported(key);
            }
        }
        if k.get("stop").is_some_and(|s| s != "0") {
            return unsupported("stop");
        }
        let is_worker = matches!(kind, Kind::Worker { .. });
        let restart = match k.get("restart").map(String::as_str) {
            None | Some("permanent") => Restart::Permanent,
            Some("transient") => Restart::Transient,
            Some("temporary") => Restart::Temporary,
            Some(other) => return unsupported(other),
        };
        let shutdown = match k.get("shutdown").map(String::as_str) {
            None if is_worker => Shutdown::Timeout,
            None => Shutdown::Infinity,
            Some("brutal_kill") => Shutdown::BrutalKill,
            Some("infinity") => Shutdown::Infinity,
            // The model's one timeout, which never runs out.
            Some("5000") => Shutdown::Timeout,
            Some(other) => return unsupported(other),
        };
        let significant = match k.get("significant").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return unsupported(other),
        };
        Ok(ChildDef {
            id: id.to_string(),
            restart,
            shutdown,
            significant,
            kind,
        })
    }
    fn worker(k: &BTreeMap<String, String>) -> Result<Kind, String> {
        let init = match k.get("start") {
            None => vec![InitStep::Ok],
            Some(list) => list
                .split(',')
                .map(|s| match s {
                    "ok" => Ok(InitStep::Ok),
                    "error" => Ok(InitStep::Error),
                    "ignore" => Ok(InitStep::Ignore),
                    other => unsupported(other),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Kind::Worker { trap: None, init })
    }
    fn flags(k: &BTreeMap<String, String>) -> Result<Kind, String> {
        // A killed supervisor's children die asynchronously: the model
        // leaves supervisor children with `brutal_kill` out.
        if k.get("shutdown").map(String::as_str) == Some("brutal_kill") {
            return unsupported("a supervisor child with brutal_kill");
        }
        let num = |key: &str, default: u64| -> Result<u64, String> {
            k.get(key).map_or(Ok(default), |v| {
                v.parse().map_err(|_| format!("unsupported: {key}={v}"))
            })
        };
        let strategy = match k.get("strategy").map(String::as_str) {
            None | Some("one_for_one") => Strategy::OneForOne,
            Some("one_for_all") => Strategy::OneForAll,
            Some("rest_for_one") => Strategy::RestForOne,
            Some("dynamic") => {
                let max_children = match k.get("max_children").map(String::as_str) {
                    None | Some("infinity") => None,
                    Some(m) => Some(m.parse().map_err(|_| "unsupported: max_children")?),
                };
                return Ok(Kind::Dyn(DynDef {
                    max_restarts: num("intensity", 3)? as u32,
                    period: num("period", 5)? * 1000,
                    max_children,
                }));
            }
            Some(other) => return unsupported(other),
        };
        let auto = match k.get("auto_shutdown").map(String::as_str) {
            None | Some("never") => Auto::Never,
            Some("any_significant") => Auto::Any,
            Some("all_significant") => Auto::All,
            Some(other) => return unsupported(other),
        };
        Ok(Kind::Sup(SupDef {
            strategy,
            max_restarts: num("intensity", 1)? as u32,
            period: num("period", 5)? * 1000,
            auto,
            children: Vec::new(),
        }))
    }
    /// The static supervisor at `path` in the tree being built.
    fn sup_at<'a>(root: &'a mut SupDef, path: &str) -> Option<&'a mut SupDef> {
        let mut sup = root;
        for id in path.split('/').skip(1) {
            let child = sup.children.iter_mut().find(|c| c.id == id)?;
            match &mut child.kind {
                Kind::Sup(s) => sup = s,
                _ => return None,
            }
        }
        Some(sup)
    }

    let mut root: Option<SupDef> = None;
    let mut dynamic_root = None;
    let mut events = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(&first) = tokens.first() else {
            continue;
        };
        match first {
            "step" if tokens.get(1) == Some(&"100") => {}
            "end" => {}
            "tags" if tokens[1..].iter().all(|t| *t == "async_orphans") => {}
            "sup" | "child" => {
                let path = tokens[1];
                let k = keys(&tokens[2..]);
                let kind = if first == "sup" {
                    flags(&k)?
                } else {
                    worker(&k)?
                };
                if path == "root" {
                    match kind {
                        Kind::Sup(def) => root = Some(def),
                        Kind::Dyn(def) => {
                            dynamic_root = Some(def);
                            root = Some(SupDef {
                                strategy: Strategy::OneForOne,
                                max_restarts: 0,
                                period: 1000,
                                auto: Auto::Never,
                                children: Vec::new(),
                            });
                        }
                        Kind::Worker { .. } => unreachable!(),
                    }
                    continue;
                }
                let def = child_def(basename(path), &k, kind)?;
                let parent = root
                    .as_mut()
                    .filter(|_| dynamic_root.is_none())
                    .and_then(|r| sup_at(r, parent_of(path)))
                    .ok_or("unsupported: a child of a dynamic supervisor")?;
                // The model does not validate specs (S8).
                if def.significant
                    && (parent.auto == Auto::Never || def.restart == Restart::Permanent)
                {
                    return unsupported("an invalid spec");
                }
                parent.children.push(def);
            }
            "at" => {
                let t: u64 = tokens[1].parse().map_err(|_| "bad time")?;
                let path = tokens.get(3).map(|p| p.to_string()).unwrap_or_default();
                let ev = match tokens[2] {
                    "crash" => Ev::Crash(
                        path,
                        match tokens[4] {
                            "normal" => Crash::Normal,
                            "shutdown" => Crash::Shutdown,
                            "shutdown_tuple" => Crash::ShutdownX,
                            "abnormal" => Crash::Error,
                            "kill" => Crash::Kill,
                            other => return unsupported(other),
                        },
                    ),
                    "stop_supervisor" => Ev::Stop,
                    "terminate_child" => Ev::TerminateChild(path),
                    "restart_child" => Ev::RestartChild(path),
                    "delete_child" => Ev::DeleteChild(path),
                    "which_children" => Ev::WhichChildren(path),
                    "count_children" => Ev::CountChildren(path),
                    "get_childspec" => Ev::GetChildspec(path),
                    "start_child" => {
                        let k = keys(&tokens[4..]);
                        let def = child_def(basename(&path), &k, worker(&k)?)?;
                        Ev::StartChild(path, def)
                    }
                    other => return unsupported(other),
                };
                events.push((t, ev));
            }
            other => return unsupported(other),
        }
    }
    Ok(Case {
        root: root.ok_or("no root")?,
        dynamic_root,
        events,
    })
}

/// An oracle trace line in the model's vocabulary.
pub(crate) fn from_oracle_line(line: &str) -> Option<String> {
    let line = match line.split_once(" inject crash ") {
        // The injected crash is named as the model names it.
        Some((t, what)) => format!(
            "{t} inject crash {}",
            what.replace("abnormal", "error")
                .replace("shutdown_tuple", "shutdown_x")
        ),
        None => line
            .replace("abnormal", "crashed")
            .replace("{shutdown,tuple}", "{shutdown,x}")
            .replace("inject stop_supervisor root", "inject stop root"),
    };
    let line = match line.split_once(" report ") {
        None => line,
        Some((t, report)) => {
            let w: Vec<&str> = report.splitn(4, ' ').collect();
            match w.as_slice() {
                [sup, "shutdown", child, "reached_max_restart_intensity"] => {
                    format!("{t} gave_up {sup} {child}")
                }
                [sup, context, child, reason] => format!("{t} {context} {sup} {child} {reason}"),
                _ => return None,
            }
        }
    };
    // A static supervisor's start_child error carries the child record.
    Some(match line.find("{error,{") {
        Some(i) if line.ends_with(",childrec}}") => {
            let inner = &line[i + "{error,{".len()..line.len() - ",childrec}}".len()];
            format!("{}{{error,{inner}}}", &line[..i])
        }
        _ => line,
    })
}

/// Every oracle scenario the model can express (the public ones and the
/// project's own, all run on Erlang/OTP 25): the model's trace is OTP's
/// (the `restarting` lines, which OTP does not log, left out).
#[test]
pub(crate) fn the_model_follows_erlang_otp() {
    let mut files = Vec::new();
    for dir in supervise_tests::scenarios::recorded() {
        files.extend(supervise_tests::scenarios::files(&dir).unwrap_or_else(|e| panic!("{e}")));
    }
    let (mut checked, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for scn in files {
        let name = scn.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&scn).unwrap();
        let case = match from_scn(&text) {
            Ok(case) => case,
            Err(why) => {
                skipped.push(format!("{name} ({why})"));
                continue;
            }
        };
        let oracle: Vec<(u64, String)> = std::fs::read_to_string(scn.with_extension("trace"))
            .unwrap()
            .lines()
            .filter_map(from_oracle_line)
            .filter_map(|l| {
                let (t, rest) = l.split_once(' ')?;
                Some((t.parse().ok()?, rest.to_string()))
            })
            .collect();
        // Neither does OTP's driver note that the root it stops is gone.
        let mut ours: Vec<(u64, String)> = Vec::new();
        for (t, l) in model::run(&case).lines {
            let after_stop = ours.last().is_some_and(|(_, p)| p == "inject stop root");
            let unlogged = l.starts_with("restarting ");
            let note = after_stop && l == "inject_note not_running";
            if !unlogged && !note {
                ours.push((t, l));
            }
        }
        let (expected, actual) = (canonical(&case, &oracle), canonical(&case, &ours));
        if expected == actual {
            checked.push(name);
        } else {
            let diff = similar::TextDiff::from_lines(
                &(expected.join("\n") + "\n"),
                &(actual.join("\n") + "\n"),
            )
            .unified_diff()
            .header("Erlang/OTP", "model")
            .to_string();
            failed.push(format!("{name}:\n{diff}"));
        }
    }
    println!("checked against OTP: {}", checked.join(" "));
    println!("skipped: {}", skipped.join(", "));
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(
        checked.len() >= 30,
        "only {} scenarios checked",
        checked.len()
    );
}
