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

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, Token};

use crate::expand;
use crate::internals::ast::{misplaced_supervisor_attr, ChildNode, ChildType, Tree};
use crate::internals::attr::{ChildAttrs, SupAttrs};
use crate::internals::check;
use crate::internals::ctxt::Ctxt;
use crate::internals::symbol::{CHILD, SUPERVISOR};

/// A tree as written.
struct RawTree {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: syn::Ident,
    children: Punctuated<RawChild, Token![,]>,
}

struct RawChild {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: syn::Ident,
    ty: RawType,
}

enum RawType {
    Type(syn::Type),
    Inline {
        ident: syn::Ident,
        children: Punctuated<RawChild, Token![,]>,
    },
}

impl Parse for RawTree {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident: syn::Ident = input.parse()?;
        let content;
        braced!(content in input);
        let children = content.parse_terminated(RawChild::parse, Token![,])?;
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
            children,
        })
    }
}

impl Parse for RawChild {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        let ident: syn::Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = if input.peek(syn::Ident) && input.peek2(syn::token::Brace) {
            let ident: syn::Ident = input.parse()?;
            let content;
            braced!(content in input);
            RawType::Inline {
                ident,
                children: content.parse_terminated(RawChild::parse, Token![,])?,
            }
        } else {
            RawType::Type(input.parse()?)
        };
        Ok(RawChild {
            attrs,
            vis,
            ident,
            ty,
        })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let raw: RawTree = match syn::parse2(input) {
        Ok(raw) => raw,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Ctxt::new();
    let root_doc = format!(
        "The start argument of the `{}` supervision tree: one field per child.",
        raw.ident
    );
    let tree = to_tree(
        &cx,
        raw.attrs,
        raw.vis,
        raw.ident,
        raw.children,
        &root_doc,
        &[],
    );
    check_unique_names(&cx, &tree, &mut Vec::new());
    check::check(&cx, &tree);
    let mut out = expand::structs(&tree);
    match cx.check() {
        Ok(()) => out.extend(expand::supervisor_impls(&tree)),
        Err(errors) => {
            out.extend(errors.to_compile_error());
            out.extend(expand::fallback(&tree));
        }
    }
    out
}

/// Every supervisor of one DSL becomes a struct (and a `...Handle`
/// struct): their names must differ. Reported at the second one.
fn check_unique_names(cx: &Ctxt, tree: &Tree, seen: &mut Vec<String>) {
    let name = tree.ident.to_string();
    let handle = format!("{name}Handle");
    if seen.contains(&name) || seen.contains(&handle) {
        cx.error_spanned_by(
            &tree.ident,
            format!(
                "a supervisor named `{name}` is already declared in this tree (each becomes a \
                 struct, with a `{handle}`); give this one another name"
            ),
        );
    } else {
        seen.push(name);
        seen.push(handle);
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
    children: Punctuated<RawChild, Token![,]>,
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
        pass_attrs,
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
    }
}
