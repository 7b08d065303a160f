//! Code generation for a checked tree (shared by the derive and the DSL),
//! and the fallback emitted when the input had errors.

use std::collections::HashSet;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};

use crate::internals::ast::{ChildNode, ChildType, Tree};
use crate::internals::attr::{AutoShutdown, Restart, Shutdown, Strategy};
use crate::internals::check::start_order;
use crate::internals::ctxt::Ctxt;
use crate::internals::{ast, check};

/// `#[derive(Supervisor)]`.
pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let tree = ast::Tree::from_derive(&cx, input);
    if let Some(tree) = &tree {
        check::check(&cx, tree);
    }
    match (cx.check(), tree) {
        (Ok(()), Some(tree)) => supervisor_impls(&tree),
        (Err(errors), Some(tree)) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback(&tree));
            out
        }
        (Err(errors), None) => errors.to_compile_error(),
        (Ok(()), None) => unreachable!("a shape error was recorded"),
    }
}

/// The impls of one supervisor (and, for the DSL, of the supervisors
/// written inline in it, whose structs `with_structs` also defines).
pub(crate) fn supervisor_impls(tree: &Tree) -> TokenStream {
    let mut out = TokenStream::new();
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            out.extend(supervisor_impls(nested));
        }
    }
    out.extend(expand_one(tree));
    out
}

fn handle_ident(tree: &Tree) -> syn::Ident {
    format_ident!("{}Handle", tree.ident)
}

fn strategy(krate: &TokenStream, s: Strategy) -> TokenStream {
    match s {
        Strategy::OneForOne => quote!(#krate::Strategy::OneForOne),
        Strategy::OneForAll => quote!(#krate::Strategy::OneForAll),
        Strategy::RestForOne => quote!(#krate::Strategy::RestForOne),
    }
}

fn restart(krate: &TokenStream, r: Restart) -> TokenStream {
    match r {
        Restart::Permanent => quote!(#krate::Restart::Permanent),
        Restart::Transient => quote!(#krate::Restart::Transient),
        Restart::Temporary => quote!(#krate::Restart::Temporary),
    }
}

pub(crate) fn shutdown(krate: &TokenStream, s: Shutdown) -> TokenStream {
    match s {
        Shutdown::BrutalKill => quote!(#krate::Shutdown::BrutalKill),
        Shutdown::Infinity => quote!(#krate::Shutdown::Infinity),
        Shutdown::Millis(ms) => quote!(#krate::__private::timeout_ms(#ms)),
    }
}

fn auto_shutdown(krate: &TokenStream, a: AutoShutdown) -> TokenStream {
    match a {
        AutoShutdown::Never => quote!(#krate::AutoShutdown::Never),
        AutoShutdown::AnySignificant => quote!(#krate::AutoShutdown::AnySignificant),
        AutoShutdown::AllSignificant => quote!(#krate::AutoShutdown::AllSignificant),
    }
}

/// The builder calls of the supervisor's flags.
fn flags(tree: &Tree, krate: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(s) = tree.attrs.strategy.get() {
        let s = strategy(krate, *s);
        out.extend(quote!(.strategy(#s)));
    }
    if let Some(n) = tree.attrs.max_restarts.get() {
        out.extend(quote!(.max_restarts(#n)));
    }
    if let Some(ms) = tree.attrs.period_ms.get() {
        out.extend(quote!(.period(#krate::__private::Duration::from_millis(#ms))));
    }
    if let Some(a) = tree.attrs.auto_shutdown.get() {
        let a = auto_shutdown(krate, *a);
        out.extend(quote!(.auto_shutdown(#a)));
    }
    out
}

/// A field's overrides of its type's default child spec.
fn overrides(child: &ChildNode, krate: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(r) = child.attrs.restart.get() {
        let r = restart(krate, *r);
        out.extend(quote!(.restart(#r)));
    }
    if let Some(s) = child.attrs.shutdown.get() {
        let s = shutdown(krate, *s);
        out.extend(quote!(.shutdown(#s)));
    }
    if let Some(b) = child.attrs.significant.get() {
        out.extend(quote!(.significant(#b)));
    }
    out
}

/// `tokens` with every token at `span`, so that errors in generated code
/// point at the user's token.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// A constant that checks, at compile time, the spec rules that depend on
/// the defaults of a child's type (which the macro cannot see), reported
/// at the field's type with the child's name.
fn default_checks(tree: &Tree, child: &ChildNode, krate: &TokenStream) -> TokenStream {
    let attrs = &child.attrs;
    if attrs.restart.get().is_some() && attrs.significant.get().is_some() {
        return TokenStream::new(); // both explicit: checked by the macro
    }
    let ty = child.ty_tokens();
    let span = child.ty_span();
    let krate = respan(krate.clone(), span);
    let restart = match attrs.restart.get() {
        Some(r) => respan(restart(&krate, *r), span),
        None => quote_spanned!(span=> <#ty as #krate::Child>::RESTART),
    };
    let significant = match attrs.significant.get() {
        Some(b) => quote!(#b),
        None => quote_spanned!(span=> <#ty as #krate::Child>::SIGNIFICANT),
    };
    let never = matches!(
        tree.attrs.auto_shutdown.get(),
        None | Some(AutoShutdown::Never)
    );
    let (name, sup) = (&child.ident, &tree.ident);
    let from = if attrs.significant.get().is_some() {
        String::new()
    } else {
        format!(
            " (by default: its type `{}` is declared significant)",
            ty.to_string().replace(' ', "")
        )
    };
    let never_msg = format!(
        "child `{name}` of `{sup}` is significant{from}, but `{sup}`'s auto_shutdown is `never`; \
         set `#[supervisor(auto_shutdown = any_significant)]` or `all_significant`, or \
         `#[child(significant = false)]`"
    );
    let permanent_msg = format!(
        "child `{name}` of `{sup}` is significant{from} and permanent; a significant child must be \
         `transient` or `temporary`: add `#[child(restart = transient)]`"
    );
    quote_spanned! {span=>
        const _: () = {
            let significant: bool = #significant;
            if significant && #never {
                ::core::panic!(#never_msg);
            }
            if significant && ::core::matches!(#restart, #krate::Restart::Permanent) {
                ::core::panic!(#permanent_msg);
            }
        };
    }
}

fn expand_one(tree: &Tree) -> TokenStream {
    let krate = tree.krate();
    let ident = &tree.ident;
    let vis = &tree.vis;
    let handle = handle_ident(tree);
    let root_name = tree.root_name();
    let flags = flags(tree, &krate);

    let fields: Vec<&syn::Ident> = tree.children.iter().map(|c| &c.ident).collect();
    let types: Vec<TokenStream> = tree.children.iter().map(ChildNode::ty_tokens).collect();
    let child_tys: Vec<TokenStream> = tree
        .children
        .iter()
        .map(|c| {
            let ty = c.ty_tokens();
            let krate = respan(krate.clone(), c.ty_span());
            quote_spanned!(c.ty_span()=> <#ty as #krate::Child>)
        })
        .collect();
    let handle_fields = tree.children.iter().zip(&child_tys).map(|(c, child_ty)| {
        let doc = format!("The handle of child `{}`.", c.id());
        let field = &c.ident;
        quote!(#[doc = #doc] pub #field: #child_ty::Handle)
    });
    let factory_params = fields
        .iter()
        .zip(&types)
        .map(|(f, ty)| quote!(#f: #krate::__private::Factory<#ty>));

    // Children in start order.
    let starts = start_order(tree).into_iter().map(|i| {
        let child = &tree.children[i];
        let field = &child.ident;
        let id = child.id();
        let child_ty = &child_tys[i];
        let overrides = overrides(child, &krate);
        let handle_var = format_ident!("__handle_{}", field);
        quote! {
            let (__spec, #handle_var) = #child_ty::child_spec(#id, move || (#field)());
            let __builder = __builder.child(__spec #overrides);
        }
    });
    let handle_vars = fields.iter().map(|f| format_ident!("__handle_{}", f));

    // From a value: each field cloned for every start, or its factory.
    let value_factories = tree.children.iter().map(|c| {
        let field = respan(c.ident.to_token_stream(), c.ty_span());
        let span = c.ty_span();
        let krate = respan(krate.clone(), span);
        match c.attrs.factory.get() {
            Some(factory) => quote_spanned!(span=> #krate::__private::first_then(#field, #factory)),
            None => quote_spanned!(span=> #krate::__private::cloned(#field)),
        }
    });
    // From a factory of the whole struct (a nested supervisor's restarts).
    let split_factories = fields.iter().map(|f| {
        quote! {{
            let __factory = ::core::clone::Clone::clone(&__factory);
            #krate::__private::__Arc::new(move || __factory().#f)
        }}
    });
    let checks = tree
        .children
        .iter()
        .map(|c| default_checks(tree, c, &krate));
    let handle_doc =
        format!("Typed handles of the children of [`{ident}`], valid across their restarts.");

    quote! {
        #[doc = #handle_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #handle {
            supervisor: #krate::SupervisorRef,
            #(#handle_fields,)*
        }

        impl #handle {
            /// The supervisor's own control handle (`which_children`,
            /// `terminate_child`, ...), following it across its restarts.
            pub fn supervisor(&self) -> &#krate::SupervisorRef {
                &self.supervisor
            }
        }

        #(#checks)*

        impl #ident {
            /// Builds the spec from one factory per child (used by the
            /// derive's own code).
            #[doc(hidden)]
            #[allow(clippy::too_many_arguments)]
            pub fn __supervise_build(
                __name: &str,
                #(#factory_params,)*
            ) -> (#krate::SupervisorSpec, #handle) {
                let __builder = #krate::Supervisor::builder(__name) #flags;
                #(#starts)*
                let __spec = #krate::__private::build(__builder);
                let __handle = #handle {
                    supervisor: __spec.supervisor_ref(),
                    #(#fields: #handle_vars,)*
                };
                (__spec, __handle)
            }

            /// The tree's spec, started from this value (each field is
            /// cloned for every start of its child), and its typed handle.
            /// Subscribe to the spec's events before starting it.
            pub fn spec(self) -> (#krate::SupervisorSpec, #handle) {
                let #ident { #(#fields,)* } = self;
                Self::__supervise_build(#root_name, #(#value_factories,)*)
            }

            /// Starts the tree from this value; returns its typed handle
            /// once every child's init has finished, in order.
            ///
            /// # Errors
            ///
            /// A child failed to start; the ones started before it were
            /// stopped in reverse order.
            pub async fn start(self) -> ::core::result::Result<#handle, #krate::StartError> {
                let (__spec, __handle) = self.spec();
                __spec.start().await?;
                ::core::result::Result::Ok(__handle)
            }
        }

        impl #krate::Child for #ident {
            type Handle = #handle;
            const KIND: #krate::ChildKind = #krate::ChildKind::Supervisor;
            const RESTART: #krate::Restart = #krate::Restart::Permanent;
            const SHUTDOWN: #krate::Shutdown = #krate::Shutdown::Infinity;
            const SIGNIFICANT: bool = false;

            fn child_spec<F>(__id: &str, __factory: F) -> (#krate::ChildSpec, #handle)
            where
                F: ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                let __factory = #krate::__private::__Arc::new(__factory);
                let (__spec, __handle) = Self::__supervise_build(__id, #(#split_factories,)*);
                (#krate::ChildSpec::supervisor(__id, __spec), __handle)
            }
        }
    }
}

/// What is emitted next to the errors: the same items with bodies that are
/// never run, so that code using the supervisor shows no follow-on errors.
pub(crate) fn fallback(tree: &Tree) -> TokenStream {
    fallback_once(tree, &mut HashSet::new())
}

/// The fallback of every tree whose name was not emitted yet (a name given
/// twice in a DSL is an error of its own; its second tree is left out).
fn fallback_once(tree: &Tree, emitted: &mut HashSet<String>) -> TokenStream {
    let mut out = TokenStream::new();
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            out.extend(fallback_once(nested, emitted));
        }
    }
    if !emitted.insert(tree.ident.to_string()) {
        return out;
    }
    let krate = tree.krate();
    let ident = &tree.ident;
    let vis = &tree.vis;
    let handle = handle_ident(tree);
    let handle_fields = tree.children.iter().map(|c| {
        let field = &c.ident;
        let ty = c.ty_tokens();
        quote!(pub #field: <#ty as #krate::Child>::Handle)
    });
    out.extend(quote! {
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #handle {
            #(#handle_fields,)*
        }
        impl #handle {
            pub fn supervisor(&self) -> &#krate::SupervisorRef {
                ::core::unreachable!()
            }
        }
        impl #ident {
            pub fn spec(self) -> (#krate::SupervisorSpec, #handle) {
                ::core::unreachable!()
            }
            pub async fn start(self) -> ::core::result::Result<#handle, #krate::StartError> {
                ::core::unreachable!()
            }
        }
        impl #krate::Child for #ident {
            type Handle = #handle;
            const KIND: #krate::ChildKind = #krate::ChildKind::Supervisor;
            const RESTART: #krate::Restart = #krate::Restart::Permanent;
            const SHUTDOWN: #krate::Shutdown = #krate::Shutdown::Infinity;
            const SIGNIFICANT: bool = false;
            fn child_spec<F>(_: &str, _: F) -> (#krate::ChildSpec, #handle)
            where
                F: ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                ::core::unreachable!()
            }
        }
    });
    out
}

/// True when the user's own attributes already derive `Clone`.
fn derives_clone(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "Clone"))
            })
        })
}

/// The struct definitions of a `supervision_tree!` (the root and every
/// inline supervisor): public fields, `Clone`.
pub(crate) fn structs(tree: &Tree) -> TokenStream {
    structs_once(tree, &mut HashSet::new())
}

fn structs_once(tree: &Tree, emitted: &mut HashSet<String>) -> TokenStream {
    let mut out = TokenStream::new();
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            out.extend(structs_once(nested, emitted));
        }
    }
    if !emitted.insert(tree.ident.to_string()) {
        return out;
    }
    let ident = &tree.ident;
    let vis = &tree.vis;
    let attrs = &tree.pass_attrs;
    let fields = tree.children.iter().map(|c| {
        let field = &c.ident;
        let ty = c.ty_tokens();
        let attrs = &c.pass_attrs;
        let field_vis = match &c.vis {
            syn::Visibility::Inherited => quote!(pub),
            other => other.to_token_stream(),
        };
        quote!(#(#attrs)* #field_vis #field: #ty)
    });
    let derive_clone = if derives_clone(attrs) {
        TokenStream::new()
    } else {
        quote!(#[derive(::core::clone::Clone)])
    };
    out.extend(quote! {
        #(#attrs)*
        #derive_clone
        #vis struct #ident {
            #(#fields,)*
        }
    });
    out
}
