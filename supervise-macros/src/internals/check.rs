//! Rules that look at more than one attribute: each is a `check_*`
//! function that states its rule and reports at the tokens that broke it.
//! Rules about a single value are checked while parsing (`attr.rs`).

use std::collections::HashMap;

use super::ast::{ChildType, Tree};
use super::attr::{closest, list, AutoShutdown, Restart, Strategy};
use super::ctxt::Ctxt;

/// Checks a tree and every supervisor written inline in it.
pub(crate) fn check(cx: &Ctxt, tree: &Tree) {
    check_unique_ids(cx, tree);
    check_significant_children(cx, tree);
    check_dependencies(cx, tree);
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            check(cx, nested);
        }
    }
}

/// Two children of one supervisor cannot share an id (the field name, or
/// `id = ...`): OTP's `duplicate_child_name`. Reported at the second one.
fn check_unique_ids(cx: &Ctxt, tree: &Tree) {
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for child in &tree.children {
        let id = child.id();
        match seen.get(&id) {
            Some(first) => cx.error_spanned_by(
                child.id_tokens(),
                format!(
                    "duplicate child id `{id}` (also the id of field `{first}`); give one of them \
                     another name or `#[child(id = \"...\")]`"
                ),
            ),
            None => {
                seen.insert(id, &child.ident);
            }
        }
    }
}

/// A child marked significant needs a supervisor whose `auto_shutdown` is
/// `any_significant` or `all_significant`, and must not be permanent (OTP's
/// `bad_combination`). When the restart type comes from the child's type,
/// the generated code asserts it in a constant instead.
fn check_significant_children(cx: &Ctxt, tree: &Tree) {
    let never = matches!(
        tree.attrs.auto_shutdown.get(),
        None | Some(AutoShutdown::Never)
    );
    for child in &tree.children {
        if child.attrs.significant.get() != Some(&true) {
            continue;
        }
        let at = child
            .attrs
            .significant
            .tokens()
            .cloned()
            .unwrap_or_default();
        if never {
            cx.error_spanned_by(
                &at,
                format!(
                    "child `{}` is significant, but the supervisor's auto_shutdown is `never`; set \
                     `#[supervisor(auto_shutdown = any_significant)]` (or `all_significant`), or \
                     drop `significant`",
                    child.ident
                ),
            );
        }
        if child.attrs.restart.get() == Some(&Restart::Permanent) {
            cx.error_spanned_by(
                child.attrs.restart.tokens().cloned().unwrap_or(at),
                format!(
                    "child `{}` is significant and permanent; a significant child must be \
                     `transient` or `temporary`",
                    child.ident
                ),
            );
        }
    }
}

/// `depends_on` names earlier-starting siblings: each must exist, not be
/// the child itself, and not close a cycle; and the strategy must restart
/// dependents (`rest_for_one` or `one_for_all`: `one_for_one` never does).
fn check_dependencies(cx: &Ctxt, tree: &Tree) {
    let names: Vec<String> = tree.children.iter().map(|c| c.ident.to_string()).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let one_for_one = matches!(tree.attrs.strategy.get(), None | Some(Strategy::OneForOne));
    for child in &tree.children {
        let Some(deps) = child.attrs.depends_on.get() else {
            continue;
        };
        if one_for_one && !deps.is_empty() {
            let strategy = if tree.attrs.strategy.get().is_some() {
                "its strategy is `one_for_one`"
            } else {
                "its strategy is `one_for_one` (the default)"
            };
            cx.error_spanned_by(
                child.attrs.depends_on.tokens().cloned().unwrap_or_default(),
                format!(
                    "`{}` declares `depends_on`, but supervisor `{}` would never restart it when \
                     what it depends on restarts: {strategy}. Use \
                     `#[supervisor(strategy = rest_for_one)]` or `one_for_all`",
                    child.ident, tree.ident
                ),
            );
        }
        for dep in deps {
            if *dep == child.ident {
                cx.error_spanned_by(dep, format!("child `{dep}` cannot depend on itself"));
            } else if !names.iter().any(|n| dep == n) {
                let mut msg = format!("unknown sibling `{dep}` in `depends_on`");
                if let Some(close) = closest(&dep.to_string(), &name_refs) {
                    msg.push_str(&format!("; did you mean `{close}`?"));
                }
                if !msg.ends_with('?') {
                    msg.push('.');
                }
                msg.push_str(&format!(
                    " The children of `{}` are {}",
                    tree.ident,
                    list(&name_refs)
                ));
                cx.error_spanned_by(dep, msg);
            }
        }
    }
    check_cycles(cx, tree);
}

/// Reports each dependency cycle once, naming it, at the `depends_on`
/// entry that closes it.
fn check_cycles(cx: &Ctxt, tree: &Tree) {
    let index: HashMap<String, usize> = tree
        .children
        .iter()
        .enumerate()
        .map(|(i, c)| (c.ident.to_string(), i))
        .collect();
    let edges: Vec<Vec<(usize, &syn::Ident)>> = tree
        .children
        .iter()
        .map(|c| {
            c.attrs
                .depends_on
                .get()
                .map(|deps| {
                    deps.iter()
                        .filter(|d| **d != c.ident)
                        .filter_map(|d| index.get(&d.to_string()).map(|&j| (j, d)))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; edges.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..edges.len() {
        visit(cx, tree, &edges, start, &mut state, &mut stack);
    }
}

fn visit(
    cx: &Ctxt,
    tree: &Tree,
    edges: &[Vec<(usize, &syn::Ident)>],
    node: usize,
    state: &mut [u8],
    stack: &mut Vec<usize>,
) {
    if state[node] != 0 {
        return;
    }
    state[node] = 1;
    stack.push(node);
    for &(next, token) in &edges[node] {
        match state[next] {
            0 => visit(cx, tree, edges, next, state, stack),
            1 => {
                let from = stack.iter().position(|&n| n == next).unwrap_or(0);
                let mut cycle: Vec<String> = stack[from..]
                    .iter()
                    .map(|&n| tree.children[n].ident.to_string())
                    .collect();
                cycle.push(tree.children[next].ident.to_string());
                let links: Vec<String> = cycle
                    .windows(2)
                    .enumerate()
                    .map(|(k, pair)| {
                        if k == 0 {
                            format!("`{}` depends on `{}`", pair[0], pair[1])
                        } else {
                            format!("`{}` on `{}`", pair[0], pair[1])
                        }
                    })
                    .collect();
                cx.error_spanned_by(
                    token,
                    format!(
                        "dependency cycle: {}; children start one after another, so one of these \
                         `depends_on` must go",
                        links.join(", ")
                    ),
                );
            }
            _ => {}
        }
    }
    stack.pop();
    state[node] = 2;
}

/// The start order: declaration order, except that a child starts after
/// everything it depends on (a stable topological sort). Assumes the
/// dependencies were checked.
pub(crate) fn start_order(tree: &Tree) -> Vec<usize> {
    let n = tree.children.len();
    let deps: Vec<Vec<usize>> = tree
        .children
        .iter()
        .map(|c| {
            c.attrs
                .depends_on
                .get()
                .map(|ds| {
                    ds.iter()
                        .filter_map(|d| tree.children.iter().position(|s| s.ident == *d))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n)
            .find(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]))
            .expect("dependencies were checked for cycles");
        placed[next] = true;
        order.push(next);
    }
    order
}
