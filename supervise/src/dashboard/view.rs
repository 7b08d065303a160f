//! The tree and the timeline as JSON, for the page and for scripts.
//!
//! Every id, path and reason is a JSON string, escaped here, and the page
//! only ever sets it as text: markup in an id shows as itself. `<`, `>`
//! and `&` are escaped too, so that no JSON this writes can close a tag
//! of any document it were pasted into.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::hub::{Entry, Frame, Picture};
use crate::snapshot::{ChildSnapshot, ChildState, ExitRecord, SupervisorSnapshot};

/// Which page of each large supervisor's children a page shows.
#[derive(Debug, Clone)]
pub(super) struct Pages {
    size: usize,
    /// Page number by supervisor path; the first page otherwise.
    chosen: HashMap<String, usize>,
}

impl Pages {
    /// Every child, on one page (the JSON endpoint).
    pub(super) fn all() -> Self {
        Pages {
            size: usize::MAX,
            chosen: HashMap::new(),
        }
    }

    /// From a page's query: `page=<n>:<supervisor path>`, repeated.
    pub(super) fn from_query(query: &str, size: usize) -> Self {
        let chosen = query_values(query, "page")
            .filter_map(|value| {
                let (n, path) = value.split_once(':')?;
                Some((path.to_owned(), n.parse().ok()?))
            })
            .collect();
        Pages { size, chosen }
    }

    pub(super) fn size(&self) -> usize {
        self.size
    }
}

/// The values of `name` in a query string, percent-decoded.
pub(super) fn query_values<'a>(query: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    query.split('&').filter_map(move |pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key)? == name).then(|| decode(value)).flatten()
    })
}

/// `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a
/// byte; `None` for a bad escape or bytes that are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = (rest.next()? as char).to_digit(16)?;
                let lo = (rest.next()? as char).to_digit(16)?;
                bytes.push((hi * 16 + lo) as u8);
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

/// The frame's tree for `pages`, or `{"error": ...}`.
pub(super) fn push_frame_tree(out: &mut String, frame: &Frame, pages: &Pages) {
    match &frame.tree {
        Ok(picture) => push_tree(out, picture, pages),
        Err(why) => {
            out.push_str("{\"error\":");
            push_str(out, why);
            out.push('}');
        }
    }
}

/// The tree's top supervisor as a node, its children below it.
pub(super) fn push_tree(out: &mut String, picture: &Picture, pages: &Pages) {
    let root = &picture.root;
    out.push_str("{\"path\":");
    push_str(out, &root.path);
    out.push_str(",\"id\":");
    push_str(out, root.path.rsplit('/').next().unwrap_or(&root.path));
    out.push_str(",\"kind\":\"supervisor\",\"top\":true,\"state\":\"running\"");
    out.push_str(",\"sup\":");
    push_supervisor(out, root, picture, pages);
    out.push('}');
}

fn push_supervisor(out: &mut String, sup: &SupervisorSnapshot, picture: &Picture, pages: &Pages) {
    out.push_str("{\"strategy\":");
    push_str(out, &sup.kind.to_string());
    out.push_str(",\"restarts\":");
    push_u64(out, sup.restarts_in_window as u64);
    out.push_str(",\"max_restarts\":");
    push_u64(out, u64::from(sup.intensity.max_restarts));
    out.push_str(",\"period_ms\":");
    push_u64(out, millis(sup.intensity.period));
    let count = sup.children.len();
    out.push_str(",\"count\":");
    push_u64(out, count as u64);
    let mut counts = [0u64; 5];
    for child in &sup.children {
        let i = STATES
            .iter()
            .position(|s| *s == state(child, picture).0)
            .unwrap_or(0);
        counts[i] += 1;
    }
    out.push_str(",\"counts\":{");
    for (i, (name, n)) in STATES.iter().zip(counts).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push(':');
        push_u64(out, n);
    }
    out.push('}');
    let pages_n = count.div_ceil(pages.size).max(1);
    let page = pages
        .chosen
        .get(&*sup.path)
        .copied()
        .unwrap_or(0)
        .min(pages_n - 1);
    out.push_str(",\"page\":");
    push_u64(out, page as u64);
    out.push_str(",\"pages\":");
    push_u64(out, pages_n as u64);
    out.push_str(",\"children\":[");
    let shown = sup
        .children
        .iter()
        .skip(page.saturating_mul(pages.size))
        .take(pages.size);
    for (i, child) in shown.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_child(out, child, sup, picture, pages);
    }
    out.push_str("]}");
}

fn push_child(
    out: &mut String,
    child: &ChildSnapshot,
    parent: &SupervisorSnapshot,
    picture: &Picture,
    pages: &Pages,
) {
    out.push_str("{\"path\":");
    push_str(out, &child.path);
    out.push_str(",\"id\":");
    push_str(out, &child.id);
    out.push_str(",\"kind\":");
    push_str(out, &child.kind.to_string());
    out.push_str(",\"restart\":");
    push_str(out, &child.restart.to_string());
    out.push_str(",\"shutdown\":");
    match picture.shutdowns.get(&child.path) {
        Some(shutdown) => push_str(out, &shutdown.to_string()),
        None => out.push_str("null"),
    }
    let (state, until) = state(child, picture);
    out.push_str(",\"state\":");
    push_str(out, state);
    if let Some(until) = until {
        out.push_str(",\"until\":");
        push_ms(out, until);
    }
    out.push_str(",\"incarnation\":");
    push_u64(out, child.incarnation);
    out.push_str(",\"restarts\":");
    push_u64(out, child.restarts_in_window as u64);
    out.push_str(",\"max_restarts\":");
    push_u64(out, u64::from(parent.intensity.max_restarts));
    out.push_str(",\"exits\":[");
    for (i, exit) in child.history.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_exit(out, exit);
    }
    out.push(']');
    if let Some(sup) = &child.supervisor {
        out.push_str(",\"sup\":");
        push_supervisor(out, sup, picture, pages);
    }
    out.push('}');
}

fn push_exit(out: &mut String, exit: &ExitRecord) {
    out.push_str("{\"reason\":");
    push_str(out, &exit.reason.to_string());
    out.push_str(",\"abnormal\":");
    out.push_str(if exit.reason.is_normal() {
        "false"
    } else {
        "true"
    });
    out.push_str(",\"incarnation\":");
    push_u64(out, exit.incarnation);
    out.push_str(",\"at\":");
    push_ms(out, exit.wall);
    out.push('}');
}

/// The states a page shows, in the order of a supervisor's counts.
const STATES: [&str; 5] = ["running", "restarting", "backing_off", "stopped", "ignored"];

/// A child's state, and when its backoff ends. A stopped child whose
/// latest start has no exit was ignored (its init returned `Ignore`).
fn state(child: &ChildSnapshot, picture: &Picture) -> (&'static str, Option<SystemTime>) {
    match child.state {
        ChildState::Running => ("running", None),
        ChildState::Restarting => ("restarting", None),
        ChildState::BackingOff { until } => {
            let left = until.saturating_duration_since(picture.at);
            ("backing_off", Some(picture.wall + left))
        }
        ChildState::Stopped if picture.ignored.contains(&child.path) || ignored(child) => {
            ("ignored", None)
        }
        _ => ("stopped", None),
    }
}

/// A stopped child whose latest start left no exit: its init returned
/// `Ignore`.
pub(super) fn ignored(child: &ChildSnapshot) -> bool {
    child.state == ChildState::Stopped
        && child.incarnation > 0
        && child.last_exit().map(|e| e.incarnation) != Some(child.incarnation)
}

/// The timeline entries after `since` (all of them for a page that just
/// opened), oldest first; returns the last one's number.
pub(super) fn push_timeline(out: &mut String, timeline: &VecDeque<Entry>, since: u64) -> u64 {
    out.push('[');
    let mut last = since;
    let mut first = true;
    for entry in timeline.iter().filter(|e| e.seq > since) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"seq\":");
        push_u64(out, entry.seq);
        out.push_str(",\"at\":");
        push_ms(out, entry.wall);
        out.push_str(",\"kind\":");
        push_str(out, entry.kind);
        out.push_str(",\"supervisor\":");
        push_str(out, &entry.supervisor);
        out.push_str(",\"child\":");
        push_str(out, &entry.child);
        out.push_str(",\"reason\":");
        match &entry.reason {
            Some(reason) => push_str(out, reason),
            None => out.push_str("null"),
        }
        out.push('}');
        last = entry.seq;
    }
    out.push(']');
    last
}

/// `text` as a JSON string.
pub(super) fn push_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(super) fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Milliseconds since the Unix epoch.
pub(super) fn push_ms(out: &mut String, at: SystemTime) {
    push_u64(
        out,
        millis(at.duration_since(UNIX_EPOCH).unwrap_or_default()),
    );
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
