//! Parser for the oracle's `.scn` scenario format (see
//! `tests/conformance/FORMAT.md`).

use std::fmt;

/// A parsed scenario.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) step: u64,
    pub(crate) tags: Vec<String>,
    /// `sup` and `child` lines, in file order.
    pub(crate) nodes: Vec<Node>,
    /// Timeline events, in file order (stable for equal times).
    pub(crate) events: Vec<Timed>,
    pub(crate) end: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) path: String,
    pub(crate) is_sup: bool,
    pub(crate) attrs: Attrs,
}

/// `key=value` pairs in the order written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attrs(pub Vec<(String, String)>);

impl Attrs {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Timed {
    pub(crate) at: u64,
    pub(crate) event: Ev,
}

#[derive(Debug, Clone)]
pub(crate) enum Ev {
    Crash {
        path: String,
        reason: String,
    },
    StopSupervisor {
        path: String,
    },
    /// `terminate_child`, `terminate_child_id`, `restart_child`,
    /// `delete_child`, `get_childspec`: an operation on a child path.
    ChildOp {
        op: ChildOp,
        path: String,
    },
    StartChild {
        path: String,
        attrs: Attrs,
    },
    WhichChildren {
        path: String,
    },
    CountChildren {
        path: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildOp {
    Terminate,
    TerminateById,
    Restart,
    Delete,
    GetChildspec,
}

#[derive(Debug)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

pub(crate) fn parse(text: &str) -> Result<Scenario, ParseError> {
    let mut sc = Scenario {
        step: 100,
        tags: Vec::new(),
        nodes: Vec::new(),
        events: Vec::new(),
        end: 0,
    };
    let mut saw_end = false;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let err = |message: String| ParseError { line, message };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if saw_end {
            return Err(err("nothing may follow `end`".into()));
        }
        let toks: Vec<&str> = content.split_whitespace().collect();
        match toks[0] {
            "step" => {
                sc.step = int_arg(&toks, 1, "a step in ms").map_err(err)?;
                if sc.step == 0 {
                    return Err(err("expected a step above zero".into()));
                }
            }
            "tags" => sc.tags.extend(toks[1..].iter().map(|t| t.to_string())),
            "sup" | "child" => {
                let path = toks
                    .get(1)
                    .ok_or_else(|| err(format!("expected a path after `{}`", toks[0])))?;
                if sc.nodes.is_empty() && (toks[0] != "sup" || *path != "root") {
                    return Err(err("expected the first node to be `sup root`".into()));
                }
                if !sc.nodes.is_empty() {
                    let parent = parent_of(path)
                        .ok_or_else(|| err(format!("expected a path below root, got `{path}`")))?;
                    if !sc.nodes.iter().any(|n| n.is_sup && n.path == parent) {
                        return Err(err(format!(
                            "expected the parent `{parent}` to be declared by an earlier `sup` line"
                        )));
                    }
                    if sc.nodes.iter().any(|n| n.path == *path) {
                        return Err(err(format!("path `{path}` is declared twice")));
                    }
                }
                sc.nodes.push(Node {
                    path: path.to_string(),
                    is_sup: toks[0] == "sup",
                    attrs: attrs(&toks[2..]).map_err(err)?,
                });
            }
            "at" => {
                let at = int_arg(&toks, 1, "a time in ms").map_err(err)?;
                let event = event(&toks[2..]).map_err(err)?;
                sc.events.push(Timed { at, event });
            }
            "end" => {
                sc.end = int_arg(&toks, 1, "an end time in ms").map_err(err)?;
                saw_end = true;
            }
            other => {
                return Err(err(format!(
                    "expected `step`, `tags`, `sup`, `child`, `at` or `end`, got `{other}`"
                )))
            }
        }
    }
    if sc.nodes.is_empty() {
        return Err(ParseError {
            line: 1,
            message: "expected a `sup root` line".into(),
        });
    }
    if !saw_end {
        return Err(ParseError {
            line: text.lines().count(),
            message: "expected a final `end T` line".into(),
        });
    }
    Ok(sc)
}

pub(crate) fn parent_of(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

pub(crate) fn basename(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

fn int_arg(toks: &[&str], i: usize, what: &str) -> Result<u64, String> {
    let tok = toks
        .get(i)
        .ok_or_else(|| format!("expected {what} after `{}`", toks[0]))?;
    tok.parse()
        .map_err(|_| format!("expected {what}, got `{tok}`"))
}

fn attrs(toks: &[&str]) -> Result<Attrs, String> {
    toks.iter()
        .map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("expected `key=value`, got `{t}`"))
        })
        .collect::<Result<_, _>>()
        .map(Attrs)
}

fn event(toks: &[&str]) -> Result<Ev, String> {
    let name = *toks.first().ok_or("expected an event after the time")?;
    let path = || {
        toks.get(1)
            .map(|p| p.to_string())
            .ok_or_else(|| format!("expected a path after `{name}`"))
    };
    let op = |op| Ok(Ev::ChildOp { op, path: path()? });
    match name {
        "crash" => {
            let reason = toks
                .get(2)
                .ok_or("expected a reason after the path of `crash`")?;
            const REASONS: [&str; 5] = ["normal", "shutdown", "shutdown_tuple", "abnormal", "kill"];
            if !REASONS.contains(reason) {
                return Err(format!(
                    "expected a crash reason (one of {}), got `{reason}`",
                    REASONS.join(", ")
                ));
            }
            Ok(Ev::Crash {
                path: path()?,
                reason: reason.to_string(),
            })
        }
        "stop_supervisor" => Ok(Ev::StopSupervisor {
            path: toks.get(1).unwrap_or(&"root").to_string(),
        }),
        "terminate_child" => op(ChildOp::Terminate),
        "terminate_child_id" => op(ChildOp::TerminateById),
        "restart_child" => op(ChildOp::Restart),
        "delete_child" => op(ChildOp::Delete),
        "get_childspec" => op(ChildOp::GetChildspec),
        "start_child" => Ok(Ev::StartChild {
            path: path()?,
            attrs: attrs(&toks[2..])?,
        }),
        "which_children" => Ok(Ev::WhichChildren { path: path()? }),
        "count_children" => Ok(Ev::CountChildren { path: path()? }),
        other => Err(format!(
            "expected an event (crash, stop_supervisor, terminate_child, terminate_child_id, \
             restart_child, delete_child, get_childspec, start_child, which_children, \
             count_children), got `{other}`"
        )),
    }
}
