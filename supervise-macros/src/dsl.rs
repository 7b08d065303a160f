//! `supervision_tree!`: a whole tree in one macro, parsed into the same
//! model as the derive, checked by the same checks, expanded by the same
//! code generation (plus the struct definitions).
//!
//! Grammar:
//!
//! ```text
//! tree     := attr* vis 'struct' Ident '{' (child (',' child)* ','?)? '}'
//! child    := attr* vis Ident ':' (Ident '{' ... '}'   // an inline supervisor
//!                                 | Type)              // a worker or supervisor type
//! ```
//!
//! `#[supervisor(...)]` configures a tree (the root or an inline one),
//! `#[child(...)]` a child, exactly as for the derive.

use std::cell::RefCell;

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{braced, Token};

use crate::expand;
use crate::internals::ast::{misplaced_supervisor_attr, snake_case, ChildNode, ChildType, Tree};
use crate::internals::attr::{ChildAttrs, SupAttrs};
use crate::internals::check;
use crate::internals::ctxt::Ctxt;
use crate::internals::symbol::{CHILD, SUPERVISOR};

/// A tree as written.
struct RawTree {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: syn::Ident,
    /// `<T>` after the name, which a supervisor cannot have (reported).
    generics: Option<syn::Generics>,
    children: Vec<RawChild>,
}

struct RawChild {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: syn::Ident,
    ty: RawType,
}

enum RawType {
    Type(syn::Type),
    /// A value where the type belongs, reported: no type to take.
    Unknown,
    Inline {
        ident: syn::Ident,
        children: Vec<RawChild>,
    },
}

/// The parser: every mistake it can step over is recorded in `errors` and
/// parsing goes on (so that the tree is still generated and nothing else
/// fails because of it); the others end it.
struct Parse<'a> {
    errors: &'a RefCell<Vec<syn::Error>>,
    /// The root's name, for messages.
    root: RefCell<String>,
}

impl Parse<'_> {
    fn error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    // tree := attr* vis 'struct' Ident generics? '{' children '}' ';'?
    fn tree(&self, input: ParseStream<'_>) -> syn::Result<RawTree> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error(
                "expected `struct`: a tree is declared as `struct Name { child: Type, ... }`",
            ));
        }
        input.parse::<Token![struct]>()?;
        let ident: syn::Ident = input.parse()?;
        *self.root.borrow_mut() = ident.to_string();
        let generics = self.generics(input)?;
        let children = self.body(input, &ident)?;
        if input.peek(Token![;]) {
            let semi: Token![;] = input.parse()?;
            self.error(syn::Error::new(
                semi.span,
                "remove this `;`: the tree is one struct, `supervision_tree! { struct Name { ... } }`, \
                 with no `;` after it",
            ));
        }
        if !input.is_empty() {
            return Err(input.error(
                "expected one tree: nest the other supervisors inside the root as \
                 `name: Name { ... }`",
            ));
        }
        Ok(RawTree {
            attrs,
            vis,
            ident,
            generics,
            children,
        })
    }

    /// `<T>` after a supervisor's name: reported, and kept so that the
    /// struct is still declared as written.
    fn generics(&self, input: ParseStream<'_>) -> syn::Result<Option<syn::Generics>> {
        if !input.peek(Token![<]) {
            return Ok(None);
        }
        let mut generics: syn::Generics = input.parse()?;
        if input.peek(Token![where]) {
            generics.where_clause = Some(input.parse()?);
        }
        self.error(syn::Error::new_spanned(
            &generics,
            "a supervisor struct cannot be generic: its children are its field types",
        ));
        Ok(Some(generics))
    }

    /// `{ children }` of the tree `name`.
    fn body(&self, input: ParseStream<'_>, name: &syn::Ident) -> syn::Result<Vec<RawChild>> {
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected `{{`: `{name}` takes its children in braces, one field per child: \
                 `struct {name} {{ child: Type, ... }}`"
            )));
        }
        let content;
        braced!(content in input);
        self.children(&content)
    }

    // children := (child (',' child)* ','?)?
    fn children(&self, input: ParseStream<'_>) -> syn::Result<Vec<RawChild>> {
        let mut children = Vec::new();
        while !input.is_empty() {
            children.push(self.child(input)?);
            if input.is_empty() {
                break;
            }
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            } else if input.peek(Token![;]) {
                let semi: Token![;] = input.parse()?;
                self.error(syn::Error::new(
                    semi.span,
                    "expected `,`: children are separated by commas, as a struct's fields are",
                ));
            } else {
                // A `,` forgotten: said, and the next child read.
                self.error(input.error(
                    "expected `,`: children are separated by commas, as a struct's fields are",
                ));
            }
        }
        Ok(children)
    }

    // child := attr* vis Ident ':' (Ident '{' children '}' | Type)
    fn child(&self, input: ParseStream<'_>) -> syn::Result<RawChild> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        if !input.peek(<syn::Ident as syn::ext::IdentExt>::peek_any) {
            return Err(input.error("expected a child's name: `name: Type`"));
        }
        let keyword = !input.peek(syn::Ident);
        let mut ident: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if keyword {
            self.error(syn::Error::new(
                ident.span(),
                format!(
                    "`{ident}` is a Rust keyword: name the child `r#{ident}` (its id is still \
                     `{ident}`)"
                ),
            ));
            ident = syn::Ident::new_raw(&ident.to_string(), ident.span());
        }
        if !input.peek(Token![:]) {
            return Err(input.error(format!(
                "expected `:`: a child is its name and its type, `{ident}: Type`"
            )));
        }
        input.parse::<Token![:]>()?;
        let ty = if input.peek(syn::Ident) && input.peek2(syn::token::Brace) {
            let inline: syn::Ident = input.parse()?;
            let children = self.body(input, &inline)?;
            RawType::Inline {
                ident: inline,
                children,
            }
        } else if input.peek(syn::Ident) && input.peek2(Token![<]) && self.generic_inline(input) {
            let inline: syn::Ident = input.parse()?;
            self.generics(input)?;
            let children = self.body(input, &inline)?;
            RawType::Inline {
                ident: inline,
                children,
            }
        } else {
            match self.child_type(input, &ident)? {
                Some(ty) => RawType::Type(ty),
                None => RawType::Unknown,
            }
        };
        Ok(RawChild {
            attrs,
            vis,
            ident,
            ty,
        })
    }

    /// `Name<...> {`: an inline supervisor written generic.
    fn generic_inline(&self, input: ParseStream<'_>) -> bool {
        let fork = input.fork();
        fork.parse::<syn::Ident>().is_ok()
            && fork.parse::<syn::Generics>().is_ok()
            && fork.peek(syn::token::Brace)
    }

    /// A child's type. A value written where the type belongs (`db:
    /// Db::new()`, `port: 8080`, `db: Db { .. }`) is reported, and the type
    /// it names, if any, is taken (`None`: the field is kept as `()`, and
    /// left out of the supervisor).
    fn child_type(
        &self,
        input: ParseStream<'_>,
        name: &syn::Ident,
    ) -> syn::Result<Option<syn::Type>> {
        let fork = input.fork();
        if let Ok(ty) = fork.parse::<syn::Type>() {
            // The type ends the child: a `,`, the end, or (a `,` forgotten)
            // the next child.
            let next_child =
                (fork.peek(syn::Ident) && fork.peek2(Token![:]) && !fork.peek2(Token![::]))
                    || fork.peek(Token![#])
                    || fork.peek(Token![pub]);
            if fork.is_empty() || fork.peek(Token![,]) || fork.peek(Token![;]) || next_child {
                input.parse::<syn::Type>()?;
                return Ok(Some(ty));
            }
            if fork.peek(Token![=]) && !fork.peek(Token![==]) {
                // `db: Db = Db::new()`: a default value, which a tree does
                // not take (the value is given when it starts).
                input.parse::<syn::Type>()?;
                let mut written = TokenStream::new();
                while !input.is_empty() && !input.peek(Token![,]) {
                    written.extend(std::iter::once(input.parse::<TokenTree>()?));
                }
                self.error(syn::Error::new_spanned(
                    &written,
                    format!(
                        "remove this value: a tree declares each child's type (`{name}: \
                         {}`), and its value is given when the tree starts (`{} {{ {name}: \
                         ..., .. }}.start()`)",
                        crate::internals::ast::type_text(&ty),
                        self.root.borrow()
                    ),
                ));
                return Ok(Some(ty));
            }
        }
        let mut written = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            written.extend(std::iter::once(input.parse::<TokenTree>()?));
        }
        if written.is_empty() {
            return Err(input.error(format!("expected the type of child `{name}`")));
        }
        self.error(syn::Error::new_spanned(
            &written,
            format!(
                "expected the type of child `{name}`, not a value: a tree declares each child's \
                 type (`{name}: Worker`), and its value is given when the tree starts \
                 (`{} {{ {name}: Worker::new(..), .. }}.start()`)",
                self.root.borrow()
            ),
        ));
        // The type the value names (`Db` in `Db::new()` or `Db { .. }`), so
        // that the struct keeps its field; or `()`.
        let named = match syn::parse2::<syn::Expr>(written) {
            Ok(syn::Expr::Call(call)) => match *call.func {
                syn::Expr::Path(p) if p.path.segments.len() > 1 => {
                    let n = p.path.segments.len() - 1;
                    let segments = p.path.segments.iter().take(n);
                    let colon = p.path.leading_colon;
                    syn::parse2::<syn::Type>(quote::quote!(#colon #(#segments)::*)).ok()
                }
                _ => None,
            },
            Ok(syn::Expr::Struct(s)) => syn::parse2::<syn::Type>(s.path.into_token_stream()).ok(),
            _ => None,
        };
        Ok(named)
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let errors = RefCell::new(Vec::new());
    let parse = Parse {
        errors: &errors,
        root: RefCell::new(String::from("Root")),
    };
    let raw = match (|input: ParseStream<'_>| parse.tree(input)).parse2(input) {
        Ok(raw) => raw,
        Err(err) => {
            let mut all = errors.into_inner();
            all.push(err);
            return all.into_iter().map(|e| e.to_compile_error()).collect();
        }
    };
    let cx = Ctxt::new();
    for error in errors.into_inner() {
        cx.syn_error(error);
    }
    let root_doc = format!(
        "The start argument of the `{}` supervision tree: one field per child.",
        raw.ident
    );
    if let Some(generics) = raw.generics {
        // Declared as written, with no supervisor impls: the error says why.
        let (attrs, vis, ident) = (&raw.attrs, &raw.vis, &raw.ident);
        let fields = raw.children.iter().map(|c| {
            let (attrs, vis, field) = (&c.attrs, &c.vis, &c.ident);
            let ty = match &c.ty {
                RawType::Type(ty) => ty.to_token_stream(),
                RawType::Inline { ident, .. } => ident.to_token_stream(),
                RawType::Unknown => quote::quote!(()),
            };
            quote::quote!(#(#attrs)* #vis #field: #ty)
        });
        let where_clause = &generics.where_clause;
        let mut out = cx
            .check()
            .expect_err("an error was recorded")
            .to_compile_error();
        out.extend(quote::quote! {
            #(#attrs)*
            #vis struct #ident #generics #where_clause { #(#fields,)* }
        });
        return out;
    }
    let mut tree = to_tree(
        &cx,
        raw.attrs,
        raw.vis,
        raw.ident,
        raw.children,
        &root_doc,
        &[],
    );
    let module = format_ident!("{}_tree", snake_case(&tree.ident.unraw().to_string()));
    in_module(&mut tree, &module);
    check_unique_names(&cx, &tree, &mut Vec::new());
    check::check(&cx, &tree);
    let mut out = expand::structs(&tree);
    match cx.check() {
        Ok(()) => out.extend(expand::generate(&tree, expand::Mode::Real)),
        Err(errors) => {
            out.extend(errors.to_compile_error());
            out.extend(expand::generate(&tree, expand::Mode::Fallback));
        }
    }
    out
}

/// The supervisors written inline in `tree`, at every depth, have their
/// structs in `module`.
fn in_module(tree: &mut Tree, module: &syn::Ident) {
    for child in &mut tree.children {
        if let ChildType::Inline(nested) = &mut child.ty {
            nested.module = Some(module.clone());
            in_module(nested, module);
        }
    }
}

/// Every supervisor of one DSL becomes a struct, and its typed handle a
/// struct named after it (`NameHandle`): all these names must differ.
/// Reported at the second supervisor's name (the handle is named only when
/// it is what the name collides with).
fn check_unique_names(cx: &Ctxt, tree: &Tree, seen: &mut Vec<(String, String)>) {
    let name = tree.ident.to_string();
    let handle = format!("{name}Handle");
    let as_supervisor = seen.iter().find(|(n, _)| *n == name);
    let as_handle = seen.iter().find(|(_, h)| *h == name);
    let handle_taken = seen.iter().find(|(n, _)| *n == handle);
    let msg = if as_supervisor.is_some() {
        Some(format!(
            "a supervisor named `{name}` is already declared in this tree (each supervisor \
             becomes a struct of its name); give this one another name"
        ))
    } else if let Some((owner, _)) = as_handle {
        Some(format!(
            "`{name}` is the name of the typed handle of supervisor `{owner}` in this tree; \
             give this supervisor another name"
        ))
    } else {
        handle_taken.map(|_| {
            format!(
                "the typed handle of `{name}` would be named `{handle}`, as a supervisor of this \
                 tree is; give one of them another name"
            )
        })
    };
    match msg {
        Some(msg) => {
            cx.error_spanned_by(&tree.ident, msg);
            tree.excluded.set(true);
        }
        None => seen.push((name, handle)),
    }
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            check_unique_names(cx, nested, seen);
        }
    }
}

fn to_tree(
    cx: &Ctxt,
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: syn::Ident,
    children: Vec<RawChild>,
    default_doc: &str,
    inherited_derives: &[syn::Attribute],
) -> Tree {
    let mut sup = SupAttrs::new();
    let mut pass_attrs = Vec::new();
    for attr in attrs {
        if attr.path().is_ident(SUPERVISOR) {
            sup.parse(cx, &attr);
        } else if attr.path().is_ident(CHILD) {
            cx.error_spanned_by(
                &attr,
                "`#[child(...)]` configures a child; the tree itself takes `#[supervisor(...)]`",
            );
        } else if attr.path().is_ident("derive") {
            pass_attrs.extend(without_supervisor_derive(cx, attr));
        } else {
            pass_attrs.push(attr);
        }
    }
    if !pass_attrs.iter().any(|a| a.path().is_ident("doc")) {
        pass_attrs.push(syn::parse_quote!(#[doc = #default_doc]));
    }
    // An inline supervisor without derives of its own takes its parent's,
    // so that `#[derive(Debug)]` on the root covers the whole tree.
    if !pass_attrs.iter().any(|a| a.path().is_ident("derive")) {
        pass_attrs.extend(inherited_derives.iter().cloned());
    }
    let derives: Vec<syn::Attribute> = pass_attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .cloned()
        .collect();
    let children = children
        .into_iter()
        .map(|raw| to_child(cx, raw, &vis, &ident, &derives))
        .collect();
    Tree {
        ident,
        vis,
        attrs: sup,
        children,
        lint_attrs: crate::internals::ast::lint_attrs(&pass_attrs),
        pass_attrs,
        excluded: Default::default(),
        module: None,
    }
}

fn to_child(
    cx: &Ctxt,
    raw: RawChild,
    parent_vis: &syn::Visibility,
    parent: &syn::Ident,
    parent_derives: &[syn::Attribute],
) -> ChildNode {
    let mut child_attrs = ChildAttrs::new();
    // `#[supervisor]` and `#[derive]` belong to an inline supervisor's
    // struct; the rest (docs) to the field.
    let mut sup_attrs = Vec::new();
    let mut pass_attrs = Vec::new();
    let inline = matches!(raw.ty, RawType::Inline { .. });
    for attr in raw.attrs {
        if attr.path().is_ident(CHILD) {
            child_attrs.parse(cx, &attr);
        } else if attr.path().is_ident(SUPERVISOR) || (inline && attr.path().is_ident("derive")) {
            sup_attrs.push(attr);
        } else {
            pass_attrs.push(attr);
        }
    }
    if !pass_attrs.iter().any(|a| a.path().is_ident("doc")) {
        let doc = format!("What child `{}` is started from.", raw.ident);
        pass_attrs.push(syn::parse_quote!(#[doc = #doc]));
    }
    let ty = match raw.ty {
        RawType::Unknown => {
            // Reported already: a field of type `()` that is no child.
            child_attrs.skip = true;
            ChildType::Type(Box::new(syn::parse_quote!(())))
        }
        RawType::Type(ty) => {
            for attr in &sup_attrs {
                misplaced_supervisor_attr(cx, attr, &ty, false);
            }
            ChildType::Type(Box::new(ty))
        }
        RawType::Inline { ident, children } => {
            let doc = format!(
                "The start argument of supervisor `{}` under `{parent}`: one field per child.",
                raw.ident
            );
            ChildType::Inline(Box::new(to_tree(
                cx,
                sup_attrs,
                parent_vis.clone(),
                ident,
                children,
                &doc,
                parent_derives,
            )))
        }
    };
    ChildNode {
        ident: raw.ident,
        vis: raw.vis,
        ty,
        attrs: child_attrs,
        pass_attrs,
        wired: None,
    }
    .wire()
}

/// `#[derive(..., Supervisor)]` on a tree of the DSL: the macro implements
/// the supervisor itself, so the derive would implement it twice. Reported
/// at `Supervisor`, which is left out.
fn without_supervisor_derive(cx: &Ctxt, attr: syn::Attribute) -> Option<syn::Attribute> {
    let Ok(paths) =
        attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, Token![,]>::parse_terminated)
    else {
        return Some(attr);
    };
    let is_supervisor = |p: &syn::Path| p.segments.last().is_some_and(|s| s.ident == "Supervisor");
    let Some(supervisor) = paths.iter().find(|p| is_supervisor(p)) else {
        return Some(attr);
    };
    cx.error_spanned_by(
        supervisor,
        "`supervision_tree!` implements the supervisor itself: remove `Supervisor` from this \
         `#[derive(...)]` (it is for a struct declared outside the macro)",
    );
    let kept: Vec<&syn::Path> = paths.iter().filter(|p| !is_supervisor(p)).collect();
    if kept.is_empty() {
        return None;
    }
    let pound = attr.pound_token;
    Some(syn::parse_quote!(#pound[derive(#(#kept),*)]))
}
