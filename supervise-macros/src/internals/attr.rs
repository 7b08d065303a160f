//! Parses `#[supervisor(...)]`, `#[child(...)]` and `#[worker(...)]` into
//! values that remember their tokens.
//!
//! None of these functions returns early: an unknown, malformed or repeated
//! key is recorded in the [`Ctxt`] and parsing goes on, so that the user
//! sees every mistake at once.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, Lit};

use super::ctxt::Ctxt;
use super::symbol::*;

/// A value set at most once, with the tokens where it was set.
pub(crate) struct Attr<T> {
    name: &'static str,
    value: Option<(T, TokenStream)>,
}

impl<T> Attr<T> {
    pub(crate) fn none(name: &'static str) -> Self {
        Attr { name, value: None }
    }

    /// Sets the value written at `tokens`; a second `key` is reported
    /// there, at the key.
    pub(crate) fn set<K: ToTokens, O: ToTokens>(&mut self, cx: &Ctxt, key: K, tokens: O, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(key, format!("duplicate key `{}`: give it once", self.name));
        } else {
            self.value = Some((value, tokens.into_token_stream()));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }

    /// The tokens of the value, for errors about it.
    pub(crate) fn tokens(&self) -> Option<&TokenStream> {
        self.value.as_ref().map(|(_, t)| t)
    }
}

// ===== values =====

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Restart {
    Permanent,
    Transient,
    Temporary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AutoShutdown {
    Never,
    AnySignificant,
    AllSignificant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    BrutalKill,
    Infinity,
    Millis(u64),
}

/// `#[supervisor(...)]`: a supervisor's flags.
pub(crate) struct SupAttrs {
    pub(crate) strategy: Attr<Strategy>,
    pub(crate) max_restarts: Attr<u32>,
    /// The period in milliseconds, from `max_seconds` or `period`.
    pub(crate) period_ms: Attr<u64>,
    pub(crate) auto_shutdown: Attr<AutoShutdown>,
    pub(crate) name: Attr<String>,
    pub(crate) krate: Attr<syn::Path>,
}

/// `#[child(...)]`: a field's overrides of its child spec.
pub(crate) struct ChildAttrs {
    pub(crate) restart: Attr<Restart>,
    pub(crate) shutdown: Attr<Shutdown>,
    pub(crate) significant: Attr<bool>,
    pub(crate) id: Attr<String>,
    pub(crate) depends_on: Attr<Vec<syn::Ident>>,
    pub(crate) factory: Attr<Expr>,
    /// The siblings whose handles build the child (`uses = [pool]`).
    pub(crate) uses: Attr<Vec<syn::Ident>>,
    /// `skip` was written (an error: every field is a child); the fallback
    /// leaves the field out of the handle.
    pub(crate) skip: bool,
}

/// `#[worker(...)]`: a worker's default child spec.
pub(crate) struct WorkerAttrs {
    pub(crate) restart: Attr<Restart>,
    pub(crate) shutdown: Attr<Shutdown>,
    pub(crate) significant: Attr<bool>,
    pub(crate) krate: Attr<syn::Path>,
}

impl SupAttrs {
    pub(crate) fn new() -> Self {
        SupAttrs {
            strategy: Attr::none(STRATEGY),
            max_restarts: Attr::none(MAX_RESTARTS),
            period_ms: Attr::none(PERIOD),
            auto_shutdown: Attr::none(AUTO_SHUTDOWN),
            name: Attr::none(NAME),
            krate: Attr::none(CRATE),
        }
    }

    /// Reads one `#[supervisor(...)]` attribute into these flags.
    pub(crate) fn parse(&mut self, cx: &Ctxt, attr: &syn::Attribute) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = key_of(&meta) else {
                return skip_unknown(cx, &meta, SUPERVISOR, SUPERVISOR_KEYS);
            };
            match key.as_str() {
                // #[supervisor(strategy = one_for_all)]
                STRATEGY => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(v) = choice(cx, &expr, STRATEGY, STRATEGIES) {
                        let v = match v {
                            "one_for_one" => Strategy::OneForOne,
                            "one_for_all" => Strategy::OneForAll,
                            _ => Strategy::RestForOne,
                        };
                        self.strategy.set(cx, &meta.path, &expr, v);
                    }
                }
                // #[supervisor(max_restarts = 3)]
                MAX_RESTARTS => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(n) = whole_number(cx, &expr, MAX_RESTARTS, "0 or more") {
                        match u32::try_from(n) {
                            Ok(n) => self.max_restarts.set(cx, &meta.path, &expr, n),
                            Err(_) => cx.error_spanned_by(
                                &expr,
                                format!("max_restarts is too large; the most is {}", u32::MAX),
                            ),
                        }
                    }
                }
                // #[supervisor(max_seconds = 5)]
                MAX_SECONDS => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(n) = whole_number(cx, &expr, MAX_SECONDS, "above 0") {
                        if n == 0 {
                            cx.error_spanned_by(
                                &expr,
                                "max_seconds must be greater than zero; for a window shorter than \
                                 a second, write `period = \"500ms\"`",
                            );
                        } else if self.period_ms.get().is_some() {
                            window_twice(cx, &meta);
                        } else {
                            self.period_ms
                                .set(cx, &meta.path, &meta.path, n.saturating_mul(1000));
                        }
                    }
                }
                // #[supervisor(period = "500ms")]
                PERIOD => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(ms) = duration(cx, &expr, PERIOD) {
                        if ms == 0 {
                            cx.error_spanned_by(&expr, "the period must be greater than zero");
                        } else if self.period_ms.get().is_some() {
                            window_twice(cx, &meta);
                        } else {
                            self.period_ms.set(cx, &meta.path, &meta.path, ms);
                        }
                    }
                }
                // #[supervisor(auto_shutdown = any_significant)]
                AUTO_SHUTDOWN => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(v) = choice(cx, &expr, AUTO_SHUTDOWN, AUTO_SHUTDOWNS) {
                        let v = match v {
                            "never" => AutoShutdown::Never,
                            "any_significant" => AutoShutdown::AnySignificant,
                            _ => AutoShutdown::AllSignificant,
                        };
                        self.auto_shutdown.set(cx, &meta.path, &expr, v);
                    }
                }
                // #[supervisor(name = "app")]
                NAME => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(name) = string_or_ident(cx, &expr, NAME) {
                        if name.contains('/') {
                            cx.error_spanned_by(
                                &expr,
                                "a supervisor name must not contain `/`, which separates the \
                                 parts of a path; use another character (`-`, `_`, `.`, `:`)",
                            );
                        } else {
                            self.name.set(cx, &meta.path, &expr, name);
                        }
                    }
                }
                // #[supervisor(crate = my_supervise)]
                CRATE => {
                    if let Some(path) = krate(cx, &meta)? {
                        self.krate.set(cx, &meta.path, &path, path.clone());
                    }
                }
                _ => return skip_unknown(cx, &meta, SUPERVISOR, SUPERVISOR_KEYS),
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
}

impl ChildAttrs {
    pub(crate) fn new() -> Self {
        ChildAttrs {
            restart: Attr::none(RESTART),
            shutdown: Attr::none(SHUTDOWN),
            significant: Attr::none(SIGNIFICANT),
            id: Attr::none(ID),
            depends_on: Attr::none(DEPENDS_ON),
            factory: Attr::none(FACTORY),
            uses: Attr::none(USES),
            skip: false,
        }
    }

    /// Reads one `#[child(...)]` attribute into these overrides.
    pub(crate) fn parse(&mut self, cx: &Ctxt, attr: &syn::Attribute) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = key_of(&meta) else {
                return skip_unknown(cx, &meta, CHILD, CHILD_KEYS);
            };
            if key == "skip" {
                self.skip = true;
            }
            let spec = (&mut self.restart, &mut self.shutdown, &mut self.significant);
            if parse_spec_key(cx, &meta, &key, spec)? {
                return Ok(());
            }
            match key.as_str() {
                // #[child(id = "processor")]
                ID => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(id) = string_or_ident(cx, &expr, ID) {
                        if id.contains('/') {
                            cx.error_spanned_by(
                                &expr,
                                "a child id must not contain `/`, which separates the parts \
                                 of a path; use another character (`-`, `_`, `.`, `:`)",
                            );
                        } else {
                            self.id.set(cx, &meta.path, &expr, id);
                        }
                    }
                }
                // #[child(depends_on = [db, cache])] or = db
                DEPENDS_ON => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    let mut deps = idents(cx, &expr, DEPENDS_ON);
                    if let (Some(deps), Expr::Path(_)) = (&mut deps, &expr) {
                        unbracketed_deps(cx, &meta, &expr, deps)?;
                    }
                    if let Some(deps) = deps {
                        self.depends_on.set(cx, &meta.path, &meta.path, deps);
                    }
                }
                // #[child(uses = [pool, cache])] or = pool
                USES => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    if let Some(used) = idents(cx, &expr, USES) {
                        self.uses.set(cx, &meta.path, &meta.path, used);
                    }
                }
                // #[child(factory = Connection::open)]
                FACTORY => {
                    let Some(expr) = value(cx, &meta)? else {
                        return Ok(());
                    };
                    self.factory.set(cx, &meta.path, &meta.path, expr);
                }
                _ => return skip_unknown(cx, &meta, CHILD, CHILD_KEYS),
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
}

impl WorkerAttrs {
    pub(crate) fn new() -> Self {
        WorkerAttrs {
            restart: Attr::none(RESTART),
            shutdown: Attr::none(SHUTDOWN),
            significant: Attr::none(SIGNIFICANT),
            krate: Attr::none(CRATE),
        }
    }

    /// Reads the arguments of `#[worker(...)]`.
    pub(crate) fn parse(&mut self, cx: &Ctxt, args: TokenStream) {
        let parser = syn::meta::parser(|meta| {
            let Some(key) = key_of(&meta) else {
                return skip_unknown(cx, &meta, WORKER, WORKER_KEYS);
            };
            let spec = (&mut self.restart, &mut self.shutdown, &mut self.significant);
            if parse_spec_key(cx, &meta, &key, spec)? {
                return Ok(());
            }
            match key.as_str() {
                // #[worker(crate = my_supervise)]
                CRATE => {
                    if let Some(path) = krate(cx, &meta)? {
                        self.krate.set(cx, &meta.path, &path, path.clone());
                    }
                }
                _ => return skip_unknown(cx, &meta, WORKER, WORKER_KEYS),
            }
            Ok(())
        });
        if let Err(err) = syn::parse::Parser::parse2(parser, args) {
            cx.syn_error(err);
        }
    }
}

type SpecKeys<'a> = (
    &'a mut Attr<Restart>,
    &'a mut Attr<Shutdown>,
    &'a mut Attr<bool>,
);

/// The keys a worker's defaults and a field's overrides share: `restart`,
/// `shutdown` and `significant`. Returns whether `key` was one of them.
fn parse_spec_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    spec: SpecKeys<'_>,
) -> syn::Result<bool> {
    let (restart_attr, shutdown_attr, significant_attr) = spec;
    match key {
        // restart = transient
        RESTART => {
            if let Some(expr) = value(cx, meta)? {
                if let Some(r) = restart(cx, &expr) {
                    restart_attr.set(cx, &meta.path, &expr, r);
                }
            }
        }
        // shutdown = brutal_kill | infinity | 5000 | "30s"
        SHUTDOWN => {
            if let Some(expr) = value(cx, meta)? {
                if let Some(s) = shutdown(cx, &expr) {
                    shutdown_attr.set(cx, &meta.path, &expr, s);
                }
            }
        }
        // significant, or significant = true
        SIGNIFICANT => {
            if let Some(v) = flag(cx, meta)? {
                significant_attr.set(cx, &meta.path, &meta.path, v);
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

// ===== value parsers: record semantic errors, return None =====

fn window_twice(cx: &Ctxt, meta: &ParseNestedMeta<'_>) {
    cx.error_spanned_by(
        &meta.path,
        "the restart window is set twice: give `max_seconds` or `period`, once",
    );
}

fn key_of(meta: &ParseNestedMeta<'_>) -> Option<String> {
    meta.path.get_ident().map(|i| i.to_string())
}

/// The form a key takes, for messages.
fn example(key: &str) -> &'static str {
    match key {
        STRATEGY => "strategy = one_for_all",
        MAX_RESTARTS => "max_restarts = 3",
        MAX_SECONDS => "max_seconds = 5",
        PERIOD => "period = \"500ms\"",
        AUTO_SHUTDOWN => "auto_shutdown = any_significant",
        NAME => "name = \"app\"",
        RESTART => "restart = transient",
        SHUTDOWN => "shutdown = \"30s\"",
        SIGNIFICANT => "significant = true",
        ID => "id = \"processor\"",
        DEPENDS_ON => "depends_on = [db]",
        FACTORY => "factory = make_child",
        USES => "uses = [pool]",
        CRATE => "crate = ::supervise",
        _ => "key = value",
    }
}

/// A single `:` next (not `::`): Elixir's `key: value` or `:atom`.
fn peek_colon(input: syn::parse::ParseStream<'_>) -> bool {
    input.peek(syn::Token![:]) && !input.peek(syn::Token![::])
}

/// The value after `key =`. A key without one is reported (with the form
/// it takes) and parsing goes on; so are the Elixir spellings `key: value`
/// and `key = :atom`, whose value is then taken as written in Rust.
fn value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Expr>> {
    let input = meta.input;
    let key = meta.path.to_token_stream().to_string();
    if peek_colon(input) {
        let colon: syn::Token![:] = input.parse()?;
        cx.error_spanned_by(
            colon,
            format!(
                "write `{}`: a key and its value are joined by `=` (`key: value` is Elixir's \
                 keyword list)",
                example(&key)
            ),
        );
        return value_after_eq(cx, input).map(Some);
    }
    if !input.peek(syn::Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` takes a value: `{}`", example(&key)),
        );
        if input.peek(syn::token::Paren) {
            let _ = meta.parse_nested_meta(|_| Ok(()));
        }
        return Ok(None);
    }
    input.parse::<syn::Token![=]>()?;
    value_after_eq(cx, input).map(Some)
}

/// A value; `:atom` (Elixir) is reported and read as `atom`.
fn value_after_eq(cx: &Ctxt, input: syn::parse::ParseStream<'_>) -> syn::Result<Expr> {
    if peek_colon(input) {
        let colon: syn::Token![:] = input.parse()?;
        if input.peek(<syn::Ident as syn::ext::IdentExt>::peek_any) {
            let atom: syn::Ident = syn::ext::IdentExt::parse_any(input)?;
            cx.error_spanned_by(
                quote::quote!(#colon #atom),
                format!("`:{atom}` is an Elixir atom; in Rust, write `{atom}`"),
            );
            return Ok(syn::parse_quote!(#atom));
        }
        cx.error_spanned_by(colon, "expected a value after `=`");
    }
    input.parse()
}

/// `crate = path` or `crate = "path"`.
fn krate(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<syn::Path>> {
    let Some(expr) = value(cx, meta)? else {
        return Ok(None);
    };
    let path = match &expr {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse::<syn::Path>().ok(),
        _ => None,
    };
    if path.is_none() {
        cx.error_spanned_by(
            &expr,
            "expected a path to this crate, e.g. `crate = ::supervise`",
        );
    }
    Ok(path)
}

/// What a key from another crate's attributes means here, if anything.
fn known_elsewhere(attr: &str, name: &str) -> Option<&'static str> {
    match (attr, name) {
        (CHILD, "skip" | "skip_serializing" | "skip_deserializing" | "ignore" | "flatten") => Some(
            "a supervisor has no `skip`: every field is a child, started and restarted by it. \
             Keep what is not a child (a configuration, a shared value) inside the worker that \
             uses it",
        ),
        (CHILD | WORKER, "rename" | "name" | "child_id") => Some(
            "a child is named by `id`: `#[child(id = \"...\")]` (its default is the field's name)",
        ),
        (CHILD | WORKER, "type" | "kind") => Some(
            "a child's kind comes from its type (a `#[worker]` or a supervisor); it is not set \
             by a key",
        ),
        (SUPERVISOR, "intensity" | "max_r") => Some(
            "the restart intensity is `max_restarts = 3` with `max_seconds = 5` (or `period = \
             \"5s\"`)",
        ),
        (SUPERVISOR, "max_t" | "seconds" | "window") => {
            Some("the restart window is `max_seconds = 5` or `period = \"5s\"`")
        }
        _ => None,
    }
}

/// An unknown key: report it with the accepted keys (and the closest one,
/// or what it means in serde's or OTP's spelling), skip its value, and go
/// on.
fn skip_unknown(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    attr: &str,
    keys: &[&str],
) -> syn::Result<()> {
    let name = meta.path.to_token_stream().to_string().replace(' ', "");
    let mut msg = format!("unknown {attr} attribute `{name}`");
    if let Some(close) = closest(&name, keys) {
        msg.push_str(&format!("; did you mean `{close}`?"));
    } else if let Some(meaning) = known_elsewhere(attr, &name) {
        msg.push_str(&format!(": {meaning}."));
    }
    if !msg.ends_with('?') && !msg.ends_with('.') {
        msg.push('.');
    }
    msg.push_str(&format!(" Expected one of {}", list(keys)));
    cx.error_spanned_by(&meta.path, msg);
    if meta.input.peek(syn::Token![=]) || peek_colon(meta.input) {
        // Whatever the value is: up to the next key.
        while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
            meta.input.parse::<proc_macro2::TokenTree>()?;
        }
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            if inner.input.peek(syn::Token![=]) {
                let _: Expr = inner.value()?.parse()?;
            }
            Ok(())
        });
    }
    Ok(())
}

pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

/// `OneForAll`, `one-for-all`, `ONE_FOR_ALL`: the same word as
/// `one_for_all`, for "did you mean".
fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The accepted value closest to `given`, if it is close enough to be a
/// typo: the same word in another case or spelling (`OneForAll`), or a
/// few letters off (`brutal_kil`).
pub(crate) fn closest<'a>(given: &str, choices: &[&'a str]) -> Option<&'a str> {
    let norm = normalized(given);
    if let Some(same) = choices.iter().find(|c| normalized(c) == norm) {
        return Some(same);
    }
    // A beginning that only one choice has: `any` for `any_significant`.
    let starting: Vec<&&str> = choices
        .iter()
        .filter(|c| norm.len() >= 3 && normalized(c).starts_with(&norm))
        .collect();
    if let [only] = starting[..] {
        return Some(only);
    }
    choices
        .iter()
        .map(|c| (levenshtein(&norm, &normalized(c)), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A word: an identifier, a string, or a path (`Strategy::OneForAll`,
/// whose last segment is the word and which is reported as not the form).
fn word(expr: &Expr) -> Option<(String, bool)> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => match p.path.get_ident() {
            Some(i) => Some((syn::ext::IdentExt::unraw(i).to_string(), true)),
            None => p.path.segments.last().map(|s| (s.ident.to_string(), false)),
        },
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some((s.value(), true)),
        _ => None,
    }
}

/// One of a fixed set of words, written bare or quoted.
fn choice(cx: &Ctxt, expr: &Expr, key: &str, choices: &[&'static str]) -> Option<&'static str> {
    let Some((w, plain)) = word(expr) else {
        cx.error_spanned_by(expr, format!("expected a {key}: one of {}", list(choices)));
        return None;
    };
    if plain {
        if let Some(c) = choices.iter().find(|c| **c == w) {
            return Some(c);
        }
    }
    let written = expr.to_token_stream().to_string().replace(' ', "");
    let mut msg = match closest(&w, choices) {
        Some(close) => format!(
            "unknown {key} `{written}`; did you mean `{close}`? Expected one of {}",
            list(choices)
        ),
        None => format!(
            "unknown {key} `{written}`; expected one of {}",
            list(choices)
        ),
    };
    if key == STRATEGY && normalized(&w) == "simpleoneforone" {
        msg = "`simple_one_for_one` is not a strategy of a static supervisor: use a field of type \
               `DynamicSupervisor`; expected one of `one_for_one`, `one_for_all`, `rest_for_one`"
            .into();
    }
    cx.error_spanned_by(expr, msg);
    None
}

fn restart(cx: &Ctxt, expr: &Expr) -> Option<Restart> {
    choice(cx, expr, RESTART, RESTARTS).map(|v| match v {
        "permanent" => Restart::Permanent,
        "transient" => Restart::Transient,
        _ => Restart::Temporary,
    })
}

/// Whether an integer's suffix is a unit of time (`500ms`, `5s`) rather
/// than a type (`3u32`).
fn is_unit(suffix: &str) -> bool {
    matches!(
        suffix,
        "ms" | "s" | "sec" | "secs" | "m" | "min" | "mins" | "h"
    )
}

/// The most a key takes, for "too large".
fn most(key: &str) -> String {
    match key {
        MAX_RESTARTS => u32::MAX.to_string(),
        MAX_SECONDS => format!("{} (seconds)", u64::MAX / 1000),
        _ => format!("{} (milliseconds)", u64::MAX),
    }
}

fn whole_number(cx: &Ctxt, expr: &Expr, key: &str, range: &str) -> Option<u64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) if !i.suffix().is_empty() => {
            let digits = i.base10_digits();
            let msg = if !is_unit(i.suffix()) {
                format!("write the number without its type suffix: `{key} = {digits}`")
            } else if key == MAX_SECONDS {
                format!(
                    "`{i}` is not a number of seconds: write `max_seconds = {digits}` for \
                     seconds, or `period = \"{i}\"` for a duration"
                )
            } else {
                format!("`{i}` is not a whole number: quote a duration: `\"{i}\"`")
            };
            cx.error_spanned_by(expr, msg);
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => match i.base10_parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                cx.error_spanned_by(
                    expr,
                    format!("{key} is too large; the most is {}", most(key)),
                );
                None
            }
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            cx.error_spanned_by(
                expr,
                format!("{key} must be a whole number {range}, not negative"),
            );
            None
        }
        _ => {
            cx.error_spanned_by(expr, format!("{key} must be a whole number {range}"));
            None
        }
    }
}

/// A duration in a string: `500ms`, `5s`, `2m`. A bare number is refused:
/// an Erlang user means seconds by it (`period`'s unit is not obvious).
pub(crate) fn duration(cx: &Ctxt, expr: &Expr, key: &str) -> Option<u64> {
    let expected = "a duration: a string such as \"500ms\", \"5s\" or \"2m\"";
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match parse_duration(&s.value()) {
            Some(ms) => Some(ms),
            None if overflows(&s.value()) => {
                cx.error_spanned_by(
                    expr,
                    format!("{key} is too large; the most is {}", most(key)),
                );
                None
            }
            None => {
                cx.error_spanned_by(
                    expr,
                    format!("malformed {key} `{}`; expected {expected}", s.value()),
                );
                None
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) if !i.suffix().is_empty() && is_unit(i.suffix()) => {
            cx.error_spanned_by(
                expr,
                format!("`{i}` is not a whole number: quote the duration: `{key} = \"{i}\"`"),
            );
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let n = i.base10_digits();
            let erlang = if key == PERIOD {
                format!(" (or `max_seconds = {n}`, as Erlang's `MaxT`)")
            } else {
                String::new()
            };
            cx.error_spanned_by(
                expr,
                format!(
                    "a bare number is not a {key}: write its unit, `{key} = \"{n}s\"` for \
                     seconds{erlang}, or `\"{n}ms\"` for milliseconds"
                ),
            );
            None
        }
        _ => {
            cx.error_spanned_by(expr, format!("malformed {key}; expected {expected}"));
            None
        }
    }
}

/// A duration string whose number is too large (rather than malformed).
fn overflows(s: &str) -> bool {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let unit = s[digits.len()..].trim();
    !digits.is_empty() && matches!(unit, "ms" | "s" | "m") && parse_duration(s).is_none()
}

fn parse_duration(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    match unit.trim() {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        _ => None,
    }
}

const SHUTDOWN_WORDS: &[&str] = &["brutal_kill", "infinity"];

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn shutdown(cx: &Ctxt, expr: &Expr) -> Option<Shutdown> {
    let expected = "expected `brutal_kill`, `infinity`, a whole number of milliseconds (`5000`) \
                    or a duration string (`\"30s\"`)";
    if let Some((w, plain)) = word(expr) {
        match w.as_str() {
            "brutal_kill" if plain => return Some(Shutdown::BrutalKill),
            "infinity" if plain => return Some(Shutdown::Infinity),
            _ => {}
        }
        let is_string = matches!(expr, Expr::Lit(_));
        if !is_string || (parse_duration(&w).is_none() && !overflows(&w)) {
            let written = expr.to_token_stream().to_string().replace(' ', "");
            let msg = match closest(&w, SHUTDOWN_WORDS) {
                Some(close) => format!(
                    "unknown shutdown `{written}`; did you mean `{close}`? {}",
                    capitalized(expected)
                ),
                None if is_string => format!("malformed shutdown; {expected}"),
                None => format!("unknown shutdown `{written}`; {expected}"),
            };
            cx.error_spanned_by(expr, msg);
            return None;
        }
    }
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            let parsed = parse_duration(&s.value()).map(Shutdown::Millis);
            if parsed.is_none() {
                cx.error_spanned_by(
                    expr,
                    format!("shutdown is too large; the most is {}", most(SHUTDOWN)),
                );
            }
            parsed
        }
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) if !i.suffix().is_empty() => {
            let digits = i.base10_digits();
            let msg = if is_unit(i.suffix()) {
                format!("`{i}` is not a duration: quote it, `\"{i}\"`, or write milliseconds alone")
            } else {
                format!(
                    "write the milliseconds without a type suffix, `shutdown = {digits}`, or a \
                     duration string, `shutdown = \"5s\"`"
                )
            };
            cx.error_spanned_by(expr, msg);
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => match i.base10_parse::<u64>() {
            Ok(ms) => Some(Shutdown::Millis(ms)),
            Err(_) => {
                cx.error_spanned_by(
                    expr,
                    format!("shutdown is too large; the most is {}", most(SHUTDOWN)),
                );
                None
            }
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            cx.error_spanned_by(expr, format!("shutdown cannot be negative; {expected}"));
            None
        }
        _ => {
            cx.error_spanned_by(expr, format!("malformed shutdown; {expected}"));
            None
        }
    }
}

fn flag(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<bool>> {
    let input = meta.input;
    if !input.peek(syn::Token![=]) && !peek_colon(input) {
        return Ok(Some(true));
    }
    let Some(expr) = value(cx, meta)? else {
        return Ok(None);
    };
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(Some(b.value)),
        _ => {
            cx.error_spanned_by(&expr, "expected `true` or `false`");
            Ok(None)
        }
    }
}

fn string_or_ident(cx: &Ctxt, expr: &Expr, key: &str) -> Option<String> {
    match word(expr) {
        Some((w, true)) => Some(w),
        _ => {
            cx.error_spanned_by(expr, format!("expected a {key}: a string or an identifier"));
            None
        }
    }
}

fn idents(cx: &Ctxt, expr: &Expr, key: &str) -> Option<Vec<syn::Ident>> {
    let one = |e: &Expr| match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().cloned(),
        _ => None,
    };
    let items: Vec<&Expr> = match expr {
        Expr::Array(a) => a.elems.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match one(item) {
            Some(i) => out.push(i),
            None => {
                cx.error_spanned_by(
                    item,
                    format!("expected the name of a sibling field, e.g. `{key} = [db]`"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// `depends_on = db, cache`: the siblings after the first, written without
/// brackets (they would read as keys). Taken, and reported.
fn unbracketed_deps(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    first: &Expr,
    deps: &mut Vec<syn::Ident>,
) -> syn::Result<()> {
    let input = meta.input;
    let mut more = Vec::new();
    loop {
        let fork = input.fork();
        if fork.parse::<syn::Token![,]>().is_err() {
            break;
        }
        let Ok(next) = fork.parse::<syn::Ident>() else {
            break;
        };
        let is_key = CHILD_KEYS.contains(&next.to_string().as_str())
            || fork.peek(syn::Token![=])
            || fork.peek(syn::token::Paren)
            || fork.peek(syn::Token![:]);
        if is_key {
            break;
        }
        input.parse::<syn::Token![,]>()?;
        more.push(input.parse::<syn::Ident>()?);
    }
    if let Some(last) = more.last() {
        let written: Vec<String> = std::iter::once(first.to_token_stream().to_string())
            .chain(more.iter().map(ToString::to_string))
            .collect();
        cx.error_spanned_by(
            quote::quote!(#first #last),
            format!(
                "to depend on several siblings, list them in brackets: `depends_on = [{}]`",
                written.join(", ")
            ),
        );
        deps.extend(more);
    }
    Ok(())
}
