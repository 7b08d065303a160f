//! Terminating and restarting a child from the page: refused (403) unless
//! the dashboard was given a token and the request carries it, before
//! anything else is looked at.

use hyper::header::{self, HeaderMap};
use hyper::{Response, StatusCode};

use super::hub::is_below;
use super::server::{json, Body, State};
use super::view;
use crate::child::ChildRef;
use crate::supervisor::{CallError, ChildStatus, SupervisorHandle};

/// What the page asks of a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// `terminate_child`: stopped by its shutdown policy, its spec kept.
    Terminate,
    /// `terminate_child` if it runs, then `restart_child` (neither counts
    /// toward the restart intensity).
    Restart,
}

pub(super) async fn operate(
    state: &State,
    op: Op,
    query: &str,
    headers: &HeaderMap,
) -> Response<Body> {
    let Some(token) = &state.config.token else {
        return error(
            StatusCode::FORBIDDEN,
            "operations are disabled: this dashboard is read-only",
        );
    };
    if !bearer(headers).is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
        return error(StatusCode::FORBIDDEN, "a valid token is required");
    }
    let Some(path) = view::query_values(query, "path").next() else {
        return error(StatusCode::BAD_REQUEST, "which child? (?path=...)");
    };
    let Some(tree) = state.tree() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the tree is not running");
    };
    let Some((supervisor, child)) = locate(&tree, &path).await else {
        return error(StatusCode::NOT_FOUND, "no such child");
    };
    let done = match (op, &child) {
        (Op::Terminate, Located::Static(id, _)) => supervisor.terminate_child(id).await,
        (Op::Terminate, Located::Dynamic(child)) => supervisor.terminate_child_ref(child).await,
        (Op::Restart, Located::Static(id, running)) => {
            let stopped = if *running {
                supervisor.terminate_child(id).await
            } else {
                Ok(())
            };
            match stopped {
                Ok(()) => supervisor.restart_child(id).await.map(drop),
                Err(e) => Err(e),
            }
        }
        (Op::Restart, Located::Dynamic(_)) => {
            return error(
                StatusCode::CONFLICT,
                "a dynamic supervisor's children are not restarted by hand; terminate it instead",
            );
        }
    };
    match done {
        Ok(()) => {
            let mut out = String::from("{\"ok\":true,\"path\":");
            view::push_str(&mut out, &path);
            out.push('}');
            json(StatusCode::OK, out)
        }
        Err(CallError::NotFound) => error(StatusCode::NOT_FOUND, "no such child"),
        Err(e @ (CallError::Stopped | CallError::Exited(_))) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())
        }
        Err(e) => error(StatusCode::CONFLICT, &e.to_string()),
    }
}

/// A child found by path, and how its supervisor names it.
enum Located {
    /// A static supervisor's child: its id, and whether it runs.
    Static(std::sync::Arc<str>, bool),
    /// A dynamic supervisor's running child.
    Dynamic(ChildRef),
}

/// The child at `path` in `tree`, and its supervisor.
async fn locate(tree: &SupervisorHandle, path: &str) -> Option<(SupervisorHandle, Located)> {
    let mut current = tree.clone();
    loop {
        let children = current.which_children().await.ok()?;
        let mut below = None;
        for info in children {
            let running = match &info.status {
                ChildStatus::Running(child) => Some(child.clone()),
                _ => None,
            };
            let child_path = match (&info.id, &running) {
                (Some(id), _) => format!("{}/{id}", current.path()),
                (None, Some(child)) => child.path().to_owned(),
                (None, None) => continue,
            };
            if child_path == path {
                let located = match info.id {
                    Some(id) => Located::Static(id, running.is_some()),
                    None => Located::Dynamic(running?),
                };
                return Some((current, located));
            }
            if below.is_none() && is_below(path, &child_path) {
                below = running.and_then(|child| child.supervisor());
            }
        }
        current = below?;
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares in a time that depends on the lengths only.
fn same(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    let mut out = String::from("{\"error\":");
    view::push_str(&mut out, message);
    out.push('}');
    json(status, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secreT", b"secret"));
        assert!(!same(b"secret!", b"secret"));
        assert!(!same(b"", b"secret"));
    }

    #[test]
    fn bearer_reads_the_scheme_in_any_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
