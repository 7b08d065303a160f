//! Comparing a trace with the one OTP recorded
//! (`tests/conformance/FORMAT.md`, canonicalisation rule 4, "Same-slot
//! interleaving").
//!
//! Lines of one time slot that different processes wrote may interleave in
//! any order: OTP itself resolves such races both ways. So two traces match
//! when every slot holds the same lines (as a multiset) and, for every
//! *actor*, that actor's lines appear in the same relative order. The
//! actor of each kind of line:
//!
//! | line | actors |
//! |---|---|
//! | `started`, `start_failed`, `start_ignored` of `P#N` | P's parent (the driver for the root), and the parent's *start sequence*; if P is a supervisor, P's start sequence too |
//! | `report SUP ...` | SUP |
//! | `exit P#N R` | P's parent when R is `shutdown` or `killed` and the slot holds no `inject crash P`, or when the slot holds the parent's own `exit`; otherwise `P#N` itself; if P is a supervisor, P too |
//! | `call ...` | its own client (a fresh actor per line) |
//! | `inject ...`, `inject_note ...` | the driver |
//!
//! A supervisor's start sequence holds the start lines of its children and
//! its own `started` line: a supervisor is reported started after its
//! children (synchronous start). Its other lines (its reports, the exits it
//! causes) are not ordered against its own `started` line, which its
//! parent writes while it already runs: OTP orders that race both ways.
//!
//! A line with two actors keeps its place in both sequences. Rule 2's
//! runs of a dynamic supervisor's parallel exits are taken within that
//! supervisor's own sequence (FORMAT.md: a line of another actor between
//! them, a call's reply say, does not break the run): each sequence of a
//! dynamic supervisor has its runs sorted before it is compared, as the
//! oracle's `Compare.sequences` does with `sort_runs_of_children`.

use std::collections::BTreeMap;

/// How two traces matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Line by line.
    Exact,
    /// Only under rule 4: some slot interleaves actors differently.
    PerActor,
}

/// Compares `ours` with `expected` (both canonical traces, `T line` per
/// line). `is_supervisor` says which paths are supervisors, `is_dynamic`
/// which of them are `simple_one_for_one` or `dynamic` (rule 2). `Err`
/// names the first slot that differs and how.
pub fn compare(
    expected: &str,
    ours: &str,
    is_supervisor: &dyn Fn(&str) -> bool,
    is_dynamic: &dyn Fn(&str) -> bool,
) -> Result<Match, String> {
    if expected == ours {
        return Ok(Match::Exact);
    }
    let (want, got) = (slots(expected), slots(ours));
    let times: std::collections::BTreeSet<&str> = want.keys().chain(got.keys()).copied().collect();
    for t in times {
        let empty = Vec::new();
        let (w, g) = (want.get(t).unwrap_or(&empty), got.get(t).unwrap_or(&empty));
        let (mut ws, mut gs) = (w.clone(), g.clone());
        ws.sort_unstable();
        gs.sort_unstable();
        if ws != gs {
            return Err(format!(
                "at {t}: not the same lines\n  expected: {w:?}\n  ours:     {g:?}"
            ));
        }
        let (wa, ga) = (
            by_actor(w, is_supervisor, is_dynamic),
            by_actor(g, is_supervisor, is_dynamic),
        );
        if let Some((actor, lines)) = wa.iter().find(|(a, l)| ga.get(*a) != Some(l)) {
            return Err(format!(
                "at {t}: {actor}'s lines in another order\n  expected: {lines:?}\n  ours:     {:?}",
                ga.get(actor)
            ));
        }
    }
    Ok(Match::PerActor)
}

/// FORMAT.md's canonicalisation rule 2, shared by the conformance replay
/// and the reference model: in `lines` (`(time, line)`, in order), each
/// maximal run of same-time `exit` lines of the children of one dynamic
/// supervisor (`is_dynamic` says which supervisors are) is sorted, since
/// those children are stopped in parallel; and every slot that
/// `unordered` names is sorted whole. Returns `T line` strings.
pub fn canonical(
    lines: &[(u64, String)],
    is_dynamic: &dyn Fn(&str) -> bool,
    unordered: &dyn Fn(u64) -> bool,
) -> Vec<String> {
    // The dynamic supervisor whose child an `exit` line names.
    let dyn_parent = |line: &str| -> Option<String> {
        let label = line.strip_prefix("exit ")?.split(' ').next()?;
        let path = label.split('#').next()?;
        let parent = &path[..path.rfind('/')?];
        is_dynamic(parent).then(|| parent.to_string())
    };
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].0;
        let mut j = i + 1;
        if unordered(t) {
            while j < lines.len() && lines[j].0 == t {
                j += 1;
            }
        } else if let Some(parent) = dyn_parent(&lines[i].1) {
            while j < lines.len()
                && lines[j].0 == t
                && dyn_parent(&lines[j].1).as_deref() == Some(parent.as_str())
            {
                j += 1;
            }
        }
        let mut run: Vec<String> = lines[i..j]
            .iter()
            .map(|(t, l)| format!("{t} {l}"))
            .collect();
        run.sort();
        out.extend(run);
        i = j;
    }
    out
}

/// The lines of each time slot, in order.
fn slots(trace: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in trace.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        let (t, rest) = line.split_once(' ').unwrap_or((line, ""));
        out.entry(t).or_default().push(rest);
    }
    out
}

/// Each actor's lines of one slot, in order; in the sequence of a dynamic
/// supervisor, each run of its children's exits sorted (rule 2).
fn by_actor<'a>(
    slot: &[&'a str],
    is_supervisor: &dyn Fn(&str) -> bool,
    is_dynamic: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, Vec<&'a str>> {
    let mut out: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for line in slot {
        for actor in actors(line, slot, is_supervisor) {
            out.entry(actor).or_default().push(line);
        }
    }
    for (actor, seq) in &mut out {
        if is_dynamic(actor) {
            sort_runs_of_children(seq, actor);
        }
    }
    out
}

/// Sorts each maximal run of consecutive `exit` lines of `sup`'s children
/// in `seq` (one slot's lines, without their time).
fn sort_runs_of_children(seq: &mut [&str], sup: &str) {
    let child_exit = |line: &str| {
        line.strip_prefix("exit ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|label| label.split('#').next())
            .and_then(|path| path.rfind('/').map(|i| &path[..i]))
            == Some(sup)
    };
    let mut i = 0;
    while i < seq.len() {
        let mut j = i;
        while j < seq.len() && child_exit(seq[j]) {
            j += 1;
        }
        if j > i {
            seq[i..j].sort_unstable();
            i = j;
        } else {
            i += 1;
        }
    }
}

/// The actors of `line`, one of its `slot`'s.
fn actors(line: &str, slot: &[&str], is_supervisor: &dyn Fn(&str) -> bool) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let path_of = |label: &str| label.split('#').next().unwrap_or(label).to_string();
    let parent_of = |path: &str| match path.rfind('/') {
        Some(i) => path[..i].to_string(),
        None => "driver".to_string(),
    };
    let with_own = |mut actors: Vec<String>, path: &str| {
        if is_supervisor(path) {
            actors.push(path.to_string());
        }
        actors
    };
    match words.as_slice() {
        ["started" | "start_failed" | "start_ignored", label, ..] => {
            let path = path_of(label);
            let parent = parent_of(&path);
            let mut actors = vec![format!("start sequence of {parent}"), parent];
            if is_supervisor(&path) {
                actors.push(format!("start sequence of {path}"));
            }
            actors
        }
        ["report", sup, ..] => vec![sup.to_string()],
        ["exit", label, reason @ ..] => {
            let path = path_of(label);
            let parent = parent_of(&path);
            let reason = reason.join(" ");
            let crash = format!("inject crash {path} ");
            let injected = slot.iter().any(|l| l.starts_with(&crash));
            let parent_exits = slot.iter().any(|l| {
                l.strip_prefix("exit ")
                    .and_then(|rest| rest.split(' ').next())
                    .is_some_and(|label| path_of(label) == parent)
            });
            let by_parent =
                (matches!(reason.as_str(), "shutdown" | "killed") && !injected) || parent_exits;
            let first = if by_parent { parent } else { label.to_string() };
            with_own(vec![first], &path)
        }
        // Its own client's only line: the multiset covers it.
        ["call", ..] => Vec::new(),
        _ => vec!["driver".to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sups(path: &str) -> bool {
        matches!(path, "root" | "root/s1")
    }

    fn dynamic(path: &str) -> bool {
        path == "root/d"
    }

    fn check(expected: &str, ours: &str) -> Result<Match, String> {
        compare(expected, ours, &|p| sups(p) || dynamic(p), &dynamic)
    }

    const BASE: &str = "\
0 started root/a#1
0 started root/s1/b#1
0 started root/s1#1
0 started root#1
100 inject crash root/a abnormal
100 exit root/a#1 abnormal
100 report root child_terminated root/a abnormal
100 call which_children root -> [{s1,root/s1#1,supervisor},{a,restarting,worker}]
100 started root/a#2
";

    #[test]
    fn rule_2_sorts_parallel_exits_of_one_dynamic_supervisor_only() {
        let lines: Vec<(u64, String)> = [
            "exit root/d/b#1 shutdown",
            "exit root/d/a#1 shutdown",
            "exit root/s/b#1 shutdown",
            "exit root/s/a#1 shutdown",
        ]
        .iter()
        .map(|l| (300, l.to_string()))
        .collect();
        let sorted = canonical(&lines, &|p| p == "root/d", &|_| false);
        assert_eq!(
            sorted,
            [
                "300 exit root/d/a#1 shutdown",
                "300 exit root/d/b#1 shutdown",
                "300 exit root/s/b#1 shutdown",
                "300 exit root/s/a#1 shutdown",
            ]
        );
        let whole = canonical(&lines, &|_| false, &|t| t == 300);
        assert_eq!(whole[0], "300 exit root/d/a#1 shutdown");
        assert_eq!(whole[3], "300 exit root/s/b#1 shutdown");
    }

    #[test]
    fn rule_2_sorts_a_run_within_the_dynamic_supervisors_own_sequence() {
        // F7: a call's reply (another actor's line) between root/d's
        // parallel exits does not break their run in root/d's sequence.
        let expected = "\
1800 started root/d/n7#1
1800 call start_child root/d/n7 -> {ok,root/d/n7#1}
1800 exit root/d/n5#1 shutdown
1800 exit root/d/n6#1 shutdown
1800 exit root/d/n7#1 shutdown
1800 exit root/d#1 shutdown
1800 exit root#1 shutdown
";
        let ours = "\
1800 started root/d/n7#1
1800 exit root/d/n7#1 shutdown
1800 call start_child root/d/n7 -> {ok,root/d/n7#1}
1800 exit root/d/n5#1 shutdown
1800 exit root/d/n6#1 shutdown
1800 exit root/d#1 shutdown
1800 exit root#1 shutdown
";
        assert_eq!(check(expected, ours), Ok(Match::PerActor));
        // The run does not reach past a line of root/d's own: its exit,
        // which closes its sequence, stays after its children's.
        let late = ours.replace(
            "1800 exit root/d/n6#1 shutdown\n1800 exit root/d#1 shutdown\n",
            "1800 exit root/d#1 shutdown\n1800 exit root/d/n6#1 shutdown\n",
        );
        assert!(check(expected, &late).is_err());
        // Nor is a static supervisor's sequence sorted.
        let static_sup = |t: &str| t.replace("root/d", "root/s1");
        assert!(check(&static_sup(expected), &static_sup(ours)).is_err());
    }

    #[test]
    fn identical_traces_match_exactly() {
        assert_eq!(check(BASE, BASE), Ok(Match::Exact));
    }

    #[test]
    fn a_reorder_across_actors_in_one_slot_passes() {
        // The client's call result moves before the supervisor's report.
        let ours = BASE.replace(
            "100 report root child_terminated root/a abnormal\n100 call which_children root -> [{s1,root/s1#1,supervisor},{a,restarting,worker}]\n",
            "100 call which_children root -> [{s1,root/s1#1,supervisor},{a,restarting,worker}]\n100 report root child_terminated root/a abnormal\n",
        );
        assert_ne!(ours, BASE);
        assert_eq!(check(BASE, &ours), Ok(Match::PerActor));
    }

    #[test]
    fn a_restarted_supervisors_report_may_precede_its_started_line() {
        // s1 reports an exit once its init has returned, while root logs
        // s1's start: either order.
        let expected = "700 started root/s1/b#2\n700 report root/s1 child_terminated root/s1/a abnormal\n700 started root/s1#2\n700 started root/s1/a#3\n";
        let ours = "700 started root/s1/b#2\n700 started root/s1#2\n700 report root/s1 child_terminated root/s1/a abnormal\n700 started root/s1/a#3\n";
        assert_eq!(check(expected, ours), Ok(Match::PerActor));
        // But its children's restart after its report stays after it.
        let ours = "700 started root/s1/b#2\n700 started root/s1#2\n700 started root/s1/a#3\n700 report root/s1 child_terminated root/s1/a abnormal\n";
        assert!(check(expected, ours).is_err());
    }

    #[test]
    fn a_reorder_of_one_actors_lines_fails() {
        // root's report after root's restart of the child.
        let ours = BASE
            .replace("100 report root child_terminated root/a abnormal\n", "")
            .to_string()
            + "100 report root child_terminated root/a abnormal\n";
        assert!(check(BASE, &ours).is_err());
    }

    #[test]
    fn a_changed_call_result_fails() {
        let ours = BASE.replace("{a,restarting,worker}", "{a,root/a#2,worker}");
        assert!(check(BASE, &ours).is_err());
    }

    #[test]
    fn a_reorder_of_shutdown_exits_fails() {
        let expected = "300 inject stop_supervisor root\n300 exit root/s1/b#1 shutdown\n300 exit root/s1#1 shutdown\n300 exit root/a#1 shutdown\n300 exit root#1 shutdown\n";
        let ours = "300 inject stop_supervisor root\n300 exit root/a#1 shutdown\n300 exit root/s1/b#1 shutdown\n300 exit root/s1#1 shutdown\n300 exit root#1 shutdown\n";
        assert!(check(expected, ours).is_err());
    }

    #[test]
    fn a_supervisor_reported_started_before_its_children_fails() {
        let ours = BASE.replace(
            "0 started root/s1/b#1\n0 started root/s1#1\n",
            "0 started root/s1#1\n0 started root/s1/b#1\n",
        );
        assert!(check(BASE, &ours).is_err());
    }

    #[test]
    fn a_supervisor_exiting_before_its_children_fails() {
        let expected = "300 exit root/s1/b#1 shutdown\n300 exit root/s1#1 shutdown\n";
        let ours = "300 exit root/s1#1 shutdown\n300 exit root/s1/b#1 shutdown\n";
        assert!(check(expected, ours).is_err());
    }

    #[test]
    fn children_ending_normal_at_shutdown_in_start_order_fail() {
        // Stopped by their parent in reverse start order, whatever reason
        // each ends with: the parent's own exit is in the slot, so their
        // exits are the parent's lines and keep its order.
        let expected =
            "300 exit root/b#1 normal\n300 exit root/a#1 normal\n300 exit root#1 shutdown\n";
        let ours = "300 exit root/a#1 normal\n300 exit root/b#1 normal\n300 exit root#1 shutdown\n";
        assert!(check(expected, ours).is_err());
    }

    #[test]
    fn crashes_of_different_children_in_one_slot_may_interleave() {
        // Two injected crashes: each exit is its own process's line.
        let expected = "100 inject crash root/a abnormal\n100 inject crash root/b abnormal\n100 exit root/a#1 abnormal\n100 exit root/b#1 abnormal\n";
        let ours = "100 inject crash root/a abnormal\n100 inject crash root/b abnormal\n100 exit root/b#1 abnormal\n100 exit root/a#1 abnormal\n";
        assert_eq!(check(expected, ours), Ok(Match::PerActor));
    }

    #[test]
    fn lines_missing_or_added_fail() {
        let ours = BASE.replace("100 started root/a#2\n", "");
        assert!(check(BASE, &ours).is_err());
        let ours = BASE.to_string() + "100 started root/a#3\n";
        assert!(check(BASE, &ours).is_err());
    }
}
