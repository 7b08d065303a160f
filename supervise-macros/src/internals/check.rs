//! Rules that look at more than one attribute: each is a `check_*`
//! function that states its rule and reports at the tokens that broke it.
//! Rules about a single value are checked while parsing (`attr.rs`).

use std::collections::HashMap;

use syn::ext::IdentExt;

use super::ast::{shape, type_text, ChildType, Shape, Tree};
use super::attr::{closest, list, AutoShutdown, Restart, Strategy};
use super::ctxt::Ctxt;

/// Checks a tree and every supervisor written inline in it.
pub(crate) fn check(cx: &Ctxt, tree: &Tree) {
    check_tree(cx, tree, None);
}

fn check_tree(cx: &Ctxt, tree: &Tree, inline_as: Option<&syn::Ident>) {
    check_child_types(cx, tree);
    check_unique_ids(cx, tree);
    check_significant_children(cx, tree);
    check_dependencies(cx, tree);
    check_uses(cx, tree);
    if let Some(field) = inline_as {
        check_inline_supervisor_name(cx, tree, field);
    }
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            check_tree(cx, nested, Some(&child.ident));
        }
    }
}

/// A field's type is one child: a worker or a supervisor, by value. The
/// shapes that never are one (an `Option`, a collection, a pointer, a
/// tuple, a trait object) are reported at the type, with what to write
/// instead; any other type is checked by the compiler (`Child`).
fn check_child_types(cx: &Ctxt, tree: &Tree) {
    for child in &tree.children {
        let ChildType::Type(ty) = &child.ty else {
            continue;
        };
        if child.attrs.skip {
            continue; // reported: not a child
        }
        let whole = type_text(ty);
        if let (syn::Type::FnPtr(_), None) = (&**ty, child.attrs.uses.get()) {
            cx.error_spanned_by(
                ty,
                format!(
                    "a field of type `{whole}` builds its child from the handles of siblings: \
                     name them, in the order of the function's parameters, with \
                     `#[child(uses = [...])]`"
                ),
            );
            continue;
        }
        let msg = match shape(ty) {
            Shape::Child => continue,
            Shape::Optional(inner) => {
                let inner = type_text(inner);
                format!(
                    "`{whole}` cannot be a child: a supervisor starts every child it is given, \
                     so none is optional. For a `{inner}` that runs only sometimes, make the field \
                     a `DynamicSupervisor<{inner}>` and start it with `start_child` when needed"
                )
            }
            Shape::Many(inner) => {
                let inner = type_text(inner);
                format!(
                    "`{whole}` cannot be a child: a field is one child. For a number of `{inner}` \
                     chosen at run time, make the field a `DynamicSupervisor<{inner}>` (or a \
                     `PartitionSupervisor<{inner}>`) and start each with `start_child`; for a \
                     fixed number, give each its own field"
                )
            }
            Shape::Pointer(inner) => {
                let inner = type_text(inner);
                format!(
                    "`{whole}` cannot be a child: write the worker or supervisor itself, \
                     `{inner}` (the supervisor owns each incarnation and restarts it from the \
                     field's value)"
                )
            }
            Shape::Tuple => format!(
                "`{whole}` cannot be a child: a field is one child; give each of these its own \
                 field"
            ),
            Shape::Abstract => format!(
                "`{whole}` cannot be a child: a child is a worker or supervisor type (a struct \
                 with `#[worker]`, or a derived supervisor), which the supervisor restarts from \
                 the field's value"
            ),
        };
        cx.error_spanned_by(ty, msg);
    }
}

/// An inline supervisor is a child: its id is the field's name (or
/// `#[child(id = ...)]`), so `name`, which names a root, would do nothing.
fn check_inline_supervisor_name(cx: &Ctxt, tree: &Tree, field: &syn::Ident) {
    if let Some(tokens) = tree.attrs.name.tokens() {
        cx.error_spanned_by(
            tokens,
            format!(
                "`name` names a root supervisor; `{}` is a child of its parent, and a child's \
                 name is its id: the field's name, `{}`. To give it another, write \
                 `#[child(id = \"...\")]` on the field",
                tree.ident,
                syn::ext::IdentExt::unraw(field)
            ),
        );
    }
}

/// Two children of one supervisor cannot share an id (the field name, or
/// `id = ...`): OTP's `duplicate_child_name`. Reported at the second one.
fn check_unique_ids(cx: &Ctxt, tree: &Tree) {
    let mut seen: HashMap<String, String> = HashMap::new();
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
                seen.insert(id, child.name());
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
                    child.name()
                ),
            );
        }
        if child.attrs.restart.get() == Some(&Restart::Permanent) {
            cx.error_spanned_by(
                child.attrs.restart.tokens().cloned().unwrap_or(at),
                format!(
                    "child `{}` is significant and permanent; a significant child must be \
                     `transient` or `temporary`",
                    child.name()
                ),
            );
        }
    }
}

/// `depends_on` names earlier-starting siblings: each must exist, not be
/// the child itself, and not close a cycle; and the strategy must restart
/// dependents (`rest_for_one` or `one_for_all`: `one_for_one` never does).
fn check_dependencies(cx: &Ctxt, tree: &Tree) {
    let names: Vec<String> = tree.children.iter().map(|c| c.name()).collect();
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
                    child.name(),
                    tree.ident
                ),
            );
        }
        for dep in deps {
            let dep_name = dep.unraw().to_string();
            if dep_name == child.name() {
                cx.error_spanned_by(dep, format!("child `{dep_name}` cannot depend on itself"));
            } else if !names.contains(&dep_name) {
                unknown_sibling(cx, tree, dep, "depends_on", &name_refs);
            }
        }
    }
    check_cycles(cx, tree);
}

/// A name in `key` (`depends_on`, `uses`) that is no sibling: the error
/// at it, with the closest name and the siblings there are.
fn unknown_sibling(cx: &Ctxt, tree: &Tree, name: &syn::Ident, key: &str, names: &[&str]) {
    let name_text = name.unraw().to_string();
    let mut msg = format!("unknown sibling `{name_text}` in `{key}`");
    match closest(&name_text, names) {
        Some(close) => msg.push_str(&format!("; did you mean `{close}`?")),
        None => msg.push('.'),
    }
    msg.push_str(&format!(
        " The children of `{}` are {}",
        tree.ident,
        list(names)
    ));
    cx.error_spanned_by(name, msg);
}

/// `uses` builds a child, at every start, from the handles of siblings
/// that start before it: each name is a sibling other than the child, that
/// starts earlier (a handle of a sibling not yet started would reach no one
/// while the child starts), and the field's type is a function of exactly
/// those handles, in the order of `uses`, returning the child.
fn check_uses(cx: &Ctxt, tree: &Tree) {
    let names: Vec<String> = tree.children.iter().map(|c| c.name()).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let order = try_start_order(tree);
    let rank = |i: usize| order.as_ref().and_then(|o| o.iter().position(|&j| j == i));
    for (index, child) in tree.children.iter().enumerate() {
        let Some(used) = child.attrs.uses.get() else {
            continue;
        };
        let at = child.attrs.uses.tokens().cloned().unwrap_or_default();
        match (&child.wired, &child.ty) {
            (_, ChildType::Inline(_)) => {
                cx.error_spanned_by(
                    at,
                    "an inline supervisor is built from its own fields: `uses` goes on a \
                     worker's field",
                );
                continue;
            }
            (None, ChildType::Type(ty)) => {
                let child_ty = type_text(ty.as_ref());
                cx.error_spanned_by(
                    ty,
                    format!(
                        "a child built from its siblings' handles is a function of them: write \
                         the field's type as `fn(...) -> {child_ty}`, one parameter per name in \
                         `uses` (their handles, e.g. `WorkerHandle<Pool>`), and its value as a \
                         function (`{child_ty}::new`, or a closure that captures nothing)"
                    ),
                );
                continue;
            }
            (Some(function), _) => {
                if function.inputs.len() != used.len() {
                    cx.error_spanned_by(
                        &function.inputs,
                        format!(
                            "`uses` names {} sibling(s), but the function takes {} handle(s): \
                             one parameter per name, in the order of `uses`",
                            used.len(),
                            function.inputs.len()
                        ),
                    );
                }
            }
        }
        if let Some(factory) = child.attrs.factory.tokens() {
            cx.error_spanned_by(
                factory,
                "`factory` and `uses` both build the child: with `uses`, the field's function \
                 builds every incarnation, so remove `factory`",
            );
        }
        for name in used {
            let name_text = name.unraw().to_string();
            match names.iter().position(|n| *n == name_text) {
                Some(i) if i == index => cx.error_spanned_by(
                    name,
                    format!("child `{name_text}` cannot be built from its own handle"),
                ),
                Some(i) => {
                    if let (Some(used_rank), Some(own_rank)) = (rank(i), rank(index)) {
                        if used_rank > own_rank {
                            cx.error_spanned_by(
                                name,
                                format!(
                                    "`{name_text}` starts after `{}`, so its handle would reach \
                                     no one while `{}` starts: declare `{name_text}` before \
                                     `{}`",
                                    child.name(),
                                    child.name(),
                                    child.name()
                                ),
                            );
                        }
                    }
                }
                None => unknown_sibling(cx, tree, name, "uses", &name_refs),
            }
        }
    }
}

/// Reports each dependency cycle once, naming it, at the `depends_on`
/// entry that closes it.
fn check_cycles(cx: &Ctxt, tree: &Tree) {
    let index: HashMap<String, usize> = tree
        .children
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name(), i))
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
                        .filter(|d| d.unraw() != c.ident.unraw())
                        .filter_map(|d| index.get(&d.unraw().to_string()).map(|&j| (j, d)))
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
                    .map(|&n| tree.children[n].name())
                    .collect();
                cycle.push(tree.children[next].name());
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
    try_start_order(tree).expect("dependencies were checked for cycles")
}

/// The start order, or `None` when the dependencies have a cycle.
fn try_start_order(tree: &Tree) -> Option<Vec<usize>> {
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
                        .filter_map(|d| {
                            tree.children
                                .iter()
                                .position(|s| s.ident.unraw() == d.unraw())
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]))?;
        placed[next] = true;
        order.push(next);
    }
    Some(order)
}
