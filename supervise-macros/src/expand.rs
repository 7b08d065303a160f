//! Code generation for a checked tree (shared by the derive and the DSL),
//! and the fallback emitted next to the errors of one that is not.
//!
//! The generated code is laid out so that a type that cannot be a child
//! is reported once, at the user's field:
//!
//! * the handle struct names each child's handle as
//!   `<Type as Child>::Handle`, at the field type's span: that is the one
//!   error for a type that is not a child (`Child`'s message says how to
//!   make it one). Its last field is the supervisor's, of a known type, so
//!   that the struct is sized whatever its children are.
//! * everything else is inside one anonymous `const _: () = { ... };`
//!   (nothing it defines can clash with a user's name), and names a
//!   child's type only as `<Type as Child>::item` at that type's span, so
//!   that a failure there is the same diagnostic, which rustc shows once.
//! * the impls that need every child to be one (`Clone`, `Debug` and
//!   `Child` for the handle and the supervisor) say so in `where`
//!   clauses bound by a `for<'_>`, which the compiler does not check where
//!   they are written, only where they are used.
//! * the value a field holds is cloned through a local trait whose message
//!   names `#[child(factory = ...)]`, at the field's type.
//!
//! Local variables are hygienic (`Span::mixed_site`), so no field name can
//! shadow them, and the supervisor's own field in the handle takes a name
//! no child has.

use std::collections::HashSet;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;

use crate::internals::ast::{dynamic_worker, shape, type_text, ChildNode, ChildType, Tree};
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
        (Ok(()), Some(tree)) => generate(&tree, Mode::Real),
        (Err(errors), Some(tree)) => {
            let mut out = errors.to_compile_error();
            out.extend(generate(&tree, Mode::Fallback));
            out
        }
        (Err(errors), None) => errors.to_compile_error(),
        (Ok(()), None) => unreachable!("a shape error was recorded"),
    }
}

/// Real code, or the fallback: the same items, whose bodies are never
/// run, so that code using the supervisor shows no follow-on errors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Real,
    Fallback,
}

/// The items of a tree and of the trees written inline in it (which are
/// built through their parents, field by field).
pub(crate) fn generate(root: &Tree, mode: Mode) -> TokenStream {
    let mut trees = Vec::new();
    collect(root, &mut trees, &mut HashSet::new());
    let gen = Gen {
        krate: root.krate(),
        mode,
    };
    let handles = trees.iter().map(|t| gen.handle_struct(t));
    let impls = trees.iter().map(|t| gen.impls(t));
    let builds = trees.iter().map(|t| gen.build_fn(t));
    let checks = trees.iter().map(|t| gen.checks(t));
    let clone_trait = (mode == Mode::Real).then(clone_trait);
    quote! {
        #(#handles)*
        const _: () = {
            #clone_trait
            #(#impls)*
            #(#builds)*
        };
        #(#checks)*
    }
}

/// Every tree once, children before parents (a name given twice in a
/// DSL is an error of its own; its second tree is left out).
fn collect<'a>(tree: &'a Tree, out: &mut Vec<&'a Tree>, seen: &mut HashSet<String>) {
    for child in &tree.children {
        if let ChildType::Inline(nested) = &child.ty {
            collect(nested, out, seen);
        }
    }
    if !tree.excluded.get() && seen.insert(tree.ident.to_string()) {
        out.push(tree);
    }
}

/// The trait through which a field's value is cloned for every start:
/// its message is the one a field whose type is not `Clone` gets.
fn clone_trait() -> TokenStream {
    quote! {
        #[diagnostic::on_unimplemented(
            message = "`{Self}` is cloned for every start of its child, but it is not `Clone`",
            label = "derive or implement `Clone` for this type",
            note = "or give the field `#[child(factory = ...)]`, a function that builds a new value: the field's value starts the first incarnation, the factory every later one"
        )]
        trait ClonedForEachStart: ::core::marker::Sized {
            const CLONE: fn(&Self) -> Self;
        }
        #[diagnostic::do_not_recommend]
        impl<T: ::core::clone::Clone + 'static> ClonedForEachStart for T {
            const CLONE: fn(&Self) -> Self = <T as ::core::clone::Clone>::clone;
        }
    }
}

/// `tokens` with every token at `span`, so that errors in generated code
/// point at the user's token.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
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

/// A hygienic local name: no field or user item can shadow it.
fn local(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// A hygienic local name whose errors point at `at`.
fn local_at(name: &str, at: Span) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site().located_at(at))
}

fn handle_ident(tree: &Tree) -> syn::Ident {
    format_ident!("{}Handle", tree.ident)
}

/// The handle's field for the supervisor: `supervisor`, with as many `_`
/// as it takes for no child to have that name.
fn supervisor_field(tree: &Tree) -> syn::Ident {
    let names: HashSet<String> = tree.children.iter().map(ChildNode::name).collect();
    let mut name = String::from("supervisor");
    while names.contains(&name) {
        name.push('_');
    }
    syn::Ident::new(&name, Span::call_site())
}

fn build_ident(tree: &Tree) -> syn::Ident {
    format_ident!("__supervise_build_{}", tree.ident)
}

/// What the handle holds for a child, and what the impls require of it.
enum Part<'a> {
    /// A child of this type: `<ty as Child>::Handle`.
    Type(&'a syn::Type),
    /// A supervisor written inline: its own handle struct.
    Inline(&'a Tree),
    /// A type the macro rejected (fallback only): what it most likely
    /// meant, or nothing.
    Rejected(Option<&'a syn::Type>),
}

fn part(child: &ChildNode) -> Part<'_> {
    if child.attrs.skip {
        return Part::Rejected(None);
    }
    match &child.ty {
        ChildType::Inline(tree) if tree.excluded.get() => Part::Rejected(None),
        ChildType::Inline(tree) => Part::Inline(tree),
        ChildType::Type(ty) => match shape(ty) {
            ast::Shape::Child => Part::Type(ty),
            other => Part::Rejected(other.meant()),
        },
    }
}

struct Gen {
    krate: TokenStream,
    mode: Mode,
}

impl Gen {
    /// `::supervise` at `span`.
    fn krate_at(&self, span: Span) -> TokenStream {
        respan(self.krate.clone(), span)
    }

    /// `<ty as Child>` at the type's span.
    fn as_child(&self, ty: &syn::Type) -> TokenStream {
        let span = syn::spanned::Spanned::span(ty);
        let krate = self.krate_at(span);
        let ty = ty.to_token_stream();
        quote_spanned!(span=> <#ty as #krate::Child>)
    }

    /// The type of a child's field in the handle.
    fn handle_type(&self, child: &ChildNode) -> TokenStream {
        match part(child) {
            Part::Type(ty) | Part::Rejected(Some(ty)) => {
                let as_child = self.as_child(ty);
                let span = syn::spanned::Spanned::span(ty);
                quote_spanned!(span=> #as_child::Handle)
            }
            Part::Inline(tree) => handle_ident(tree).to_token_stream(),
            Part::Rejected(None) => quote!(()),
        }
    }

    /// The `where` clauses of the impls that need every child of `tree`
    /// (and of its inline trees) to be one: bound by a `for<'_>`, so that
    /// they are checked where the impl is used, not where it is written.
    fn bounds(&self, tree: &Tree, debug: bool, out: &mut Vec<TokenStream>) {
        self.bounds_once(tree, debug, out, &mut HashSet::new());
    }

    /// One bound per type (a type given to several children is bound once).
    fn bounds_once(
        &self,
        tree: &Tree,
        debug: bool,
        out: &mut Vec<TokenStream>,
        seen: &mut HashSet<String>,
    ) {
        for child in &tree.children {
            let ty = match part(child) {
                Part::Type(ty) | Part::Rejected(Some(ty)) => ty,
                Part::Inline(nested) => {
                    self.bounds_once(nested, debug, out, seen);
                    continue;
                }
                Part::Rejected(None) => continue,
            };
            let span = syn::spanned::Spanned::span(ty);
            let krate = self.krate_at(span);
            let ty = ty.to_token_stream();
            if !seen.insert(ty.to_string()) {
                continue;
            }
            out.push(quote_spanned!(span=> for<'__supervise> #ty: #krate::Child));
            if debug {
                out.push(quote_spanned! {span=>
                    for<'__supervise> <#ty as #krate::Child>::Handle: ::core::fmt::Debug
                });
            }
        }
    }

    fn handle_struct(&self, tree: &Tree) -> TokenStream {
        let krate = &self.krate;
        let vis = &tree.vis;
        let handle = handle_ident(tree);
        let supervisor = supervisor_field(tree);
        let doc = format!(
            "Typed handles of the children of [`{}`], valid across their restarts.",
            tree.ident
        );
        let fields = tree.children.iter().map(|c| {
            let doc = format!("The handle of child `{}`.", c.id());
            let field = &c.ident;
            let ty = self.handle_type(c);
            quote!(#[doc = #doc] pub #field: #ty)
        });
        let mut bounds = Vec::new();
        self.bounds(tree, false, &mut bounds);
        quote! {
            #[doc = #doc]
            #vis struct #handle where #(#bounds,)* {
                #(#fields,)*
                #supervisor: #krate::SupervisorRef,
            }
        }
    }

    fn impls(&self, tree: &Tree) -> TokenStream {
        let krate = &self.krate;
        let ident = &tree.ident;
        let self_ty = type_path(tree);
        let handle = handle_ident(tree);
        let handle_name = handle.to_string();
        let supervisor = supervisor_field(tree);
        let mut bounds = Vec::new();
        self.bounds(tree, false, &mut bounds);
        // The handle must be `Send` and `Sync` as `Child` says: true of
        // every child's handle, and said here so that a worker whose
        // `Message` is not `Send` is reported once, in its `Worker` impl.
        let send_bounds =
            [quote!(for<'__supervise> #handle: ::core::marker::Send + ::core::marker::Sync)];
        let mut debug_bounds = Vec::new();
        self.bounds(tree, true, &mut debug_bounds);
        let fields: Vec<&syn::Ident> = tree.children.iter().map(|c| &c.ident).collect();
        let names: Vec<String> = tree.children.iter().map(ChildNode::name).collect();
        let f = local("f");
        let id_var = local("id");
        // The impl's header at the struct's name: the one place a list of
        // the types that are children shows it.
        let impl_token = quote_spanned!(ident.span()=> impl);
        let root_name = tree.root_name();
        let build = build_ident(tree);
        let (spec_body, child_spec_body) = match self.mode {
            Mode::Real => {
                let whole = local("whole");
                let splits = tree
                    .children
                    .iter()
                    .map(|c| self.split(c, &whole, &TokenStream::new()));
                let mut bindings = Vec::new();
                bindings_of(tree, &quote!(self), &mut bindings);
                let values = self.values(tree, &mut 0);
                let (spec, handle_var) = (local("spec"), local("handle"));
                (
                    quote! {
                        #(#bindings)*
                        #build(#root_name, (#(#values,)*))
                    },
                    quote! {
                        let #whole: #krate::__private::Factory<Self> =
                            #krate::__private::__Arc::new(#f);
                        let (#spec, #handle_var) = #build(#id_var, (#(#splits,)*));
                        (#krate::ChildSpec::supervisor(#id_var, #spec), #handle_var)
                    },
                )
            }
            Mode::Fallback => (
                quote!(::core::unreachable!()),
                quote!({
                    let _ = (#id_var, #f);
                    ::core::unreachable!()
                }),
            ),
        };
        quote! {
            impl ::core::clone::Clone for #handle where #(#bounds,)* {
                fn clone(&self) -> Self {
                    #handle {
                        #(#fields: ::core::clone::Clone::clone(&self.#fields),)*
                        #supervisor: ::core::clone::Clone::clone(&self.#supervisor),
                    }
                }
            }

            impl ::core::fmt::Debug for #handle where #(#debug_bounds,)* {
                fn fmt(&self, #f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #f.debug_struct(#handle_name)
                        .field("supervisor", &self.#supervisor)
                        #(.field(#names, &self.#fields))*
                        .finish()
                }
            }

            impl #handle where #(#bounds,)* {
                /// The supervisor's own control handle (`which_children`,
                /// `terminate_child`, ...), following it across its restarts.
                pub fn supervisor(&self) -> &#krate::SupervisorRef {
                    &self.#supervisor
                }
            }

            /// The supervisor's control handle: `stop`, `which_children`,
            /// `count_children`, `snapshot`, ... are called on the tree's
            /// handle directly.
            impl ::core::ops::Deref for #handle where #(#bounds,)* {
                type Target = #krate::SupervisorRef;

                fn deref(&self) -> &#krate::SupervisorRef {
                    &self.#supervisor
                }
            }

            impl #self_ty where #(#bounds,)* {
                /// The tree's spec, started from this value (each field is
                /// cloned for every start of its child), and its typed handle.
                /// Subscribe to the spec's events before starting it.
                pub fn spec(self) -> (#krate::SupervisorSpec, #handle) {
                    #spec_body
                }

                /// Starts the tree from this value; returns its typed handle
                /// once every child's init has finished, in order.
                ///
                /// # Errors
                ///
                /// A child failed to start; the ones started before it were
                /// stopped in reverse order.
                pub async fn start(self) -> ::core::result::Result<#handle, #krate::StartError> {
                    let (spec, handle) = Self::spec(self);
                    spec.start().await?;
                    ::core::result::Result::Ok(handle)
                }
            }

            #impl_token #krate::Child for #self_ty where #(#bounds,)* #(#send_bounds,)* {
                type Handle = #handle;
                const KIND: #krate::ChildKind = #krate::ChildKind::Supervisor;
                const RESTART: #krate::Restart = #krate::Restart::Permanent;
                const SHUTDOWN: #krate::Shutdown = #krate::Shutdown::Infinity;
                const SIGNIFICANT: bool = false;

                fn child_spec<F>(#id_var: &str, #f: F) -> (#krate::ChildSpec, #handle)
                where
                    F: ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static,
                {
                    #child_spec_body
                }
            }
        }
    }

    /// The arguments of a tree's build function, from the variables of
    /// [`bindings_of`]: a factory per child (a tuple of them for an inline
    /// tree).
    fn values(&self, tree: &Tree, n: &mut usize) -> Vec<TokenStream> {
        let krate = &self.krate;
        tree.children
            .iter()
            .map(|c| match &c.ty {
                ChildType::Inline(nested) => {
                    let inner = self.values(nested, n);
                    quote!((#(#inner,)*))
                }
                ChildType::Type(ty) => {
                    *n += 1;
                    let var = local(&format!("v{n}"));
                    let span = syn::spanned::Spanned::span(&**ty);
                    let as_child = self.as_child(ty);
                    if let Some(function) = &c.wired {
                        // A function of the siblings' handles: a pointer,
                        // copied for every start.
                        return quote_spanned! {span=> {
                            let f: #function = #var;
                            let factory: #krate::__private::Factory<#function> =
                                #krate::__private::__Arc::new(move || f);
                            factory
                        }};
                    }
                    match c.attrs.factory.get() {
                        None => {
                            let ty = ty.to_token_stream();
                            let clone = local("clone");
                            // `<` elsewhere than the type: a path that starts
                            // at the type gets rustc's "consider borrowing"
                            // (`&T` is `Clone`) instead of the trait's message.
                            let lt = quote!(<);
                            quote_spanned! {span=> {
                                let #clone = #lt #ty as ClonedForEachStart>::CLONE;
                                #as_child::__cloned(#var, #clone)
                            }}
                        }
                        Some(factory) => {
                            let fspan = syn::spanned::Spanned::span(factory);
                            let make = local_at("make", fspan);
                            let call = quote_spanned!(fspan=> #make());
                            quote_spanned! {span=>
                                #as_child::__first_then(#var, {
                                    let #make = #factory;
                                    let factory: #krate::__private::Factory<#ty> =
                                        #krate::__private::__Arc::new(move || -> #ty { #call });
                                    factory
                                })
                            }
                        }
                    }
                }
            })
            .collect()
    }

    /// A child's factory (a tuple of them for an inline tree) taken from
    /// the factory of its whole parent, `whole`, by the field path.
    fn split(&self, child: &ChildNode, whole: &syn::Ident, path: &TokenStream) -> TokenStream {
        let krate = &self.krate;
        let field = &child.ident;
        let path = quote!(#path.#field);
        match &child.ty {
            ChildType::Inline(nested) => {
                let inner = nested.children.iter().map(|c| self.split(c, whole, &path));
                quote!((#(#inner,)*))
            }
            ChildType::Type(_) => {
                let v = local("v");
                quote!(#krate::__private::part(&#whole, |#v: Self| #v #path))
            }
        }
    }

    /// The types of a tree's build arguments.
    fn param_types(&self, tree: &Tree) -> Vec<TokenStream> {
        let krate = &self.krate;
        tree.children
            .iter()
            .map(|c| match &c.ty {
                ChildType::Inline(nested) => {
                    let inner = self.param_types(nested);
                    quote!((#(#inner,)*))
                }
                ChildType::Type(ty) => match &c.wired {
                    Some(function) => quote!(#krate::__private::Factory<#function>),
                    None => quote!(#krate::__private::Factory<#ty>),
                },
            })
            .collect()
    }

    /// The function that builds a tree's spec and handle from one factory
    /// per child (a tuple of them for an inline tree), in start order.
    fn build_fn(&self, tree: &Tree) -> TokenStream {
        if self.mode == Mode::Fallback {
            return TokenStream::new();
        }
        let krate = &self.krate;
        let build = build_ident(tree);
        let handle = handle_ident(tree);
        let supervisor = supervisor_field(tree);
        let (name, builder, spec, handle_var) = (
            local("name"),
            local("builder"),
            local("spec"),
            local("handle"),
        );
        let params: Vec<syn::Ident> = (0..tree.children.len())
            .map(|i| local(&format!("p{i}")))
            .collect();
        let handles: Vec<syn::Ident> = (0..tree.children.len())
            .map(|i| local(&format!("h{i}")))
            .collect();
        let param_types = self.param_types(tree);
        let flags = flags(tree, krate);
        let starts = start_order(tree).into_iter().map(|i| {
            let child = &tree.children[i];
            let id = child.id();
            let (param, handle) = (&params[i], &handles[i]);
            let child_spec = local("child");
            let overrides = overrides(child, krate);
            let spec_and_handle = match &child.ty {
                ChildType::Type(ty) if child.wired.is_some() => {
                    // Built at every start by the field's function, from
                    // the handles of the siblings it uses (started before
                    // it: checked).
                    let span = syn::spanned::Spanned::span(&**ty);
                    let as_child = self.as_child(ty);
                    let used = child
                        .attrs
                        .uses
                        .get()
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let (vars, sources): (Vec<_>, Vec<_>) = used
                        .iter()
                        .enumerate()
                        .filter_map(|(k, name)| {
                            let j = tree
                                .children
                                .iter()
                                .position(|s| s.ident.unraw() == name.unraw())?;
                            Some((local_at(&format!("u{k}"), name.span()), &handles[j]))
                        })
                        .unzip();
                    let make = local("make");
                    let args = vars.iter().map(|v| quote_spanned!(v.span()=> #v.clone()));
                    quote_spanned! {span=> {
                        let #make = #param;
                        #(let #vars = ::core::clone::Clone::clone(&#sources);)*
                        #as_child::child_spec(#id, move || (#make())(#(#args),*))
                    }}
                }
                ChildType::Type(ty) => {
                    let span = syn::spanned::Spanned::span(&**ty);
                    let as_child = self.as_child(ty);
                    let krate = self.krate_at(span);
                    quote_spanned! {span=>
                        #as_child::child_spec(#id, #krate::__private::call(#param))
                    }
                }
                ChildType::Inline(nested) => {
                    let nested_build = build_ident(nested);
                    quote! {{
                        let (#spec, #handle) = #nested_build(#id, #param);
                        (#krate::ChildSpec::supervisor(#id, #spec), #handle)
                    }}
                }
            };
            quote! {
                let (#child_spec, #handle) = #spec_and_handle;
                let #builder = #builder.child(#child_spec #overrides);
            }
        });
        let inits = tree.children.iter().zip(&handles).map(|(c, h)| {
            let field = &c.ident;
            match &c.ty {
                ChildType::Type(ty) => {
                    let span = syn::spanned::Spanned::span(&**ty);
                    let field = respan(field.to_token_stream(), span);
                    quote_spanned!(span=> #field: #h)
                }
                ChildType::Inline(_) => quote!(#field: #h),
            }
        });
        let mut bounds = Vec::new();
        self.bounds(tree, false, &mut bounds);
        quote! {
            #[allow(non_snake_case)]
            fn #build(
                #name: &str,
                (#(#params,)*): (#(#param_types,)*),
            ) -> (#krate::SupervisorSpec, #handle) where #(#bounds,)* {
                let #builder = #krate::Supervisor::builder(#name) #flags;
                #(#starts)*
                let #spec = #krate::__private::build(#builder);
                let #handle_var = #handle {
                    #(#inits,)*
                    #supervisor: #spec.supervisor_ref(),
                };
                (#spec, #handle_var)
            }
        }
    }

    /// Constants that check, at compile time, that every field's type is
    /// a child, what depends on the defaults of a child's type (which the
    /// macro cannot see), and the warning of an `auto_shutdown` that can
    /// never trigger. They read a type's defaults as `<Type as Child>::...`
    /// at the type's span, so that a type that is not a child is the same
    /// error wherever it is read, which the compiler shows once.
    fn checks(&self, tree: &Tree) -> TokenStream {
        if self.mode == Mode::Fallback {
            return TokenStream::new();
        }
        // One constant per tree (a constant per child costs the compiler as
        // much as the rest of the derive). Children of one type with the
        // same settings pass or fail together: each such group is checked
        // once, at its first child. The checks that can fail are guarded by
        // one condition, so that a tree that passes evaluates no call.
        let mut seen = HashSet::new();
        let mut reads = Vec::new();
        let mut checks = Vec::new();
        for child in &tree.children {
            if let ChildType::Type(ty) = &child.ty {
                let key = (
                    ty.to_token_stream().to_string(),
                    child.attrs.restart.get().copied(),
                    child.attrs.significant.get().copied(),
                );
                if !seen.insert(key) {
                    continue;
                }
                let before = checks.len();
                self.significant_checks(tree, child, ty, &mut checks);
                self.dynamic_shutdown_check(child, ty, &mut checks);
                if checks.len() == before {
                    // Still read once: a type that is not a child is
                    // reported here.
                    reads.push(self.default_of(ty, "SIGNIFICANT"));
                }
            }
        }
        let mut out = TokenStream::new();
        for read in reads {
            out.extend(quote!(const _: bool = #read;));
        }
        for (_, fail) in checks {
            out.extend(quote!(const _: () = #fail;));
        }
        out.extend(self.auto_shutdown_warning(tree));
        for child in &tree.children {
            out.extend(self.finite_shutdown_warning(tree, child));
        }
        out
    }

    /// `<ty as Child>::NAME`, at the type's span, read through a function
    /// bound by `Child` alone: a path to the constant would also require
    /// `Child`'s supertraits there, so that a worker that is not `Send`
    /// would be reported at the field too, not only in its `Worker` impl.
    fn default_of(&self, ty: &syn::Type, name: &str) -> TokenStream {
        let span = syn::spanned::Spanned::span(ty);
        let krate = self.krate_at(span);
        let value = match name {
            "SIGNIFICANT" | "HANDLES_SHUTDOWN" => quote_spanned!(span=> bool),
            "RESTART" => quote_spanned!(span=> #krate::Restart),
            _ => quote_spanned!(span=> #krate::Shutdown),
        };
        let name = syn::Ident::new(name, span);
        let ty = ty.to_token_stream();
        quote_spanned! {span=> {
            const fn must_be_a_child<T: #krate::Child>() -> #value {
                <T as #krate::Child>::#name
            }
            must_be_a_child::<#ty>()
        }}
    }

    /// A significant child needs an `auto_shutdown` other than `never` and
    /// a restart type other than `permanent` (OTP's `bad_combination`).
    /// What the field sets is checked by the macro; this checks what comes
    /// from the type, at the token that conflicts with it.
    fn significant_checks(
        &self,
        tree: &Tree,
        child: &ChildNode,
        ty: &syn::Type,
        checks: &mut Vec<(TokenStream, TokenStream)>,
    ) {
        let attrs = &child.attrs;
        let span = syn::spanned::Spanned::span(ty);
        let krate = self.krate_at(span);
        let (name, sup) = (child.name(), &tree.ident);
        let ty_text = type_text(ty);
        let never = matches!(
            tree.attrs.auto_shutdown.get(),
            None | Some(AutoShutdown::Never)
        );
        let mut assert = |at: Span, cond: TokenStream, msg: String| {
            let msg = panic_message(&msg, at);
            let fail = quote_spanned! {at=>
                if #cond {
                    ::core::panic!(#msg)
                }
            };
            checks.push((cond, fail));
        };
        let type_significant = self.default_of(ty, "SIGNIFICANT");
        let restart = self.default_of(ty, "RESTART");
        let type_permanent =
            quote_spanned!(span=> ::core::matches!(#restart, #krate::Restart::Permanent));
        match (attrs.significant.get(), attrs.restart.get()) {
            // Both set on the field: checked by the macro.
            (Some(_), Some(_)) | (Some(false), None) => {}
            (Some(true), None) => assert(
                token_span(attrs.significant.tokens(), span),
                type_permanent,
                format!(
                    "child `{name}` of `{sup}` is significant, but its type `{ty_text}` is \
                     restarted `permanent` by default; a significant child must be `transient` \
                     or `temporary`: add `#[child(restart = transient)]`"
                ),
            ),
            // Under `never`, any significant child is a mistake (and the
            // first one to report).
            (None, _) if never => assert(
                span,
                type_significant,
                format!(
                    "child `{name}` of `{sup}` is significant by default (its type \
                     `{ty_text}` is declared `significant`), but `{sup}`'s auto_shutdown is \
                     `never`; set `#[supervisor(auto_shutdown = any_significant)]` or \
                     `all_significant`, or write `#[child(significant = false)]`"
                ),
            ),
            (None, restart) => match restart {
                Some(Restart::Permanent) => assert(
                    token_span(attrs.restart.tokens(), span),
                    type_significant,
                    format!(
                        "child `{name}` of `{sup}` is `permanent`, but its type `{ty_text}` \
                             is declared `significant`, and a significant child must be \
                             `transient` or `temporary`: write `restart = transient`, or add \
                             `significant = false`"
                    ),
                ),
                Some(_) => {}
                None => assert(
                    span,
                    quote!(#type_significant && #type_permanent),
                    format!(
                        "child `{name}` of `{sup}` is significant and permanent by default \
                             (from its type `{ty_text}`); a significant child must be \
                             `transient` or `temporary`: add `#[child(restart = transient)]`"
                    ),
                ),
            },
        }
    }

    /// A dynamic supervisor of Elixir's flavour refuses a child whose
    /// shutdown is a timeout of zero: with a worker type declared so, every
    /// `start_child` would fail at run time.
    fn dynamic_shutdown_check(
        &self,
        child: &ChildNode,
        ty: &syn::Type,
        checks: &mut Vec<(TokenStream, TokenStream)>,
    ) {
        let Some(worker) = dynamic_worker(ty) else {
            return;
        };
        let span = syn::spanned::Spanned::span(worker);
        let krate = self.krate_at(span);
        let shutdown = self.default_of(worker, "SHUTDOWN");
        let msg = format!(
            "the workers of dynamic supervisor `{}` are `{}`, whose shutdown is 0, which a dynamic \
             supervisor refuses (as Elixir's `DynamicSupervisor` does): every `start_child` would \
             fail. Declare the worker with `#[worker(shutdown = brutal_kill)]` to stop its \
             children at once, or a timeout above 0",
            child.name(),
            type_text(worker)
        );
        let cond = quote_spanned!(span=> #krate::__private::is_zero_timeout(#shutdown));
        let msg = panic_message(&msg, span);
        let fail = quote_spanned! {span=>
            if #cond {
                ::core::panic!(#msg)
            }
        };
        checks.push((cond, fail));
    }

    /// `auto_shutdown = any_significant` (or `all_significant`) with no
    /// significant child never shuts the supervisor down. OTP accepts it,
    /// so it compiles, with a warning at the value: the use of a deprecated
    /// constant, chosen by whether any child is significant (which the
    /// children's types may say).
    fn auto_shutdown_warning(&self, tree: &Tree) -> TokenStream {
        let value = match tree.attrs.auto_shutdown.get() {
            Some(AutoShutdown::AnySignificant) => "any_significant",
            Some(AutoShutdown::AllSignificant) => "all_significant",
            _ => return TokenStream::new(),
        };
        let Some(at) = tree.attrs.auto_shutdown.tokens() else {
            return TokenStream::new();
        };
        let span = token_span(Some(at), Span::call_site());
        let mut any = Vec::new();
        for child in &tree.children {
            match (child.attrs.significant.get(), &child.ty) {
                (Some(true), _) => return TokenStream::new(),
                (Some(false), _) | (None, ChildType::Inline(_)) => {}
                (None, ChildType::Type(ty)) => any.push(self.default_of(ty, "SIGNIFICANT")),
            }
        }
        let value = syn::Ident::new(value, span);
        let note = format!(
            "no child of `{}` is significant, so `auto_shutdown = {value}` never shuts it down; \
             mark the children whose exit should stop it `#[child(significant)]` (with `restart = \
             transient` or `temporary`), or remove `auto_shutdown`",
            tree.ident
        );
        let none_significant = quote!(!(false #(|| #any)*));
        warning(
            span,
            "auto_shutdown",
            &value.to_string(),
            none_significant,
            true,
            &note,
            &tree.lint_attrs,
        )
    }

    /// A finite `#[child(shutdown = ...)]` on a child that is not asked to
    /// stop (a worker without `HANDLES_SHUTDOWN`) is never waited for: its
    /// supervisor aborts it at once. OTP accepts it, so it compiles, with a
    /// warning at the value, chosen by the type's `Child::HANDLES_SHUTDOWN`.
    fn finite_shutdown_warning(&self, tree: &Tree, child: &ChildNode) -> TokenStream {
        let (Some(Shutdown::Millis(ms)), Some(at), ChildType::Type(ty)) = (
            child.attrs.shutdown.get(),
            child.attrs.shutdown.tokens(),
            &child.ty,
        ) else {
            return TokenStream::new();
        };
        if *ms == 0 || !matches!(part(child), Part::Type(_)) {
            return TokenStream::new();
        }
        let handles_shutdown = self.default_of(ty, "HANDLES_SHUTDOWN");
        never_waited_warning(
            at,
            &child.name(),
            &type_text(ty),
            handles_shutdown,
            &tree.lint_attrs,
        )
    }
}

/// The warning, at the shutdown value `at`, of a finite shutdown that
/// `handles_shutdown` (a `bool` constant) says is never waited for: shared
/// by `#[child(shutdown = ..)]` and `#[worker(shutdown = ..)]`.
pub(crate) fn never_waited_warning(
    at: &TokenStream,
    child: &str,
    ty: &str,
    handles_shutdown: TokenStream,
    lints: &[syn::Attribute],
) -> TokenStream {
    let span = token_span(Some(at), Span::call_site());
    let note = finite_shutdown_note(child, ty);
    warning(
        span,
        "shutdown",
        "timeout",
        handles_shutdown,
        false,
        &note,
        lints,
    )
}

/// The note of a finite shutdown that is never waited for.
fn finite_shutdown_note(child: &str, ty: &str) -> String {
    let whom = if child == ty {
        "it".to_owned()
    } else {
        format!("`{ty}`")
    };
    format!(
        "`{child}` is not asked to stop, so its supervisor aborts it at once and this timeout is \
         never waited for: give {whom} a `#[terminate]` hook (with `#[handlers]`) or set \
         `const HANDLES_SHUTDOWN: bool = true` in its `impl Worker` and watch \
         `Context::shutdown_requested`, or remove `shutdown`"
    )
}

/// A warning at `span`: a macro cannot emit one on stable Rust, so this is
/// the use of a constant, `_::flag::<{ cond }>::item`, deprecated with
/// `note` when `cond` evaluates to `warn_when` (the `deprecated` lint,
/// under the item's own lint levels `lints`).
pub(crate) fn warning(
    span: Span,
    flag: &str,
    item: &str,
    cond: TokenStream,
    warn_when: bool,
    note: &str,
    lints: &[syn::Attribute],
) -> TokenStream {
    let flag = syn::Ident::new(flag, span);
    let item = syn::Ident::new(item, span);
    let quiet = !warn_when;
    quote_spanned! {span=>
        #(#lints)*
        const _: () = {
            #[allow(non_camel_case_types)]
            struct #flag<const WHEN: bool>;
            #[allow(dead_code, non_upper_case_globals)]
            impl #flag<#warn_when> {
                #[deprecated(note = #note)]
                const #item: () = ();
            }
            #[allow(dead_code, non_upper_case_globals)]
            impl #flag<#quiet> {
                const #item: () = ();
            }
            #flag::<{ #cond }>::#item
        };
    }
}

/// A message as the literal format string of a `panic!` (a call to a
/// function of `supervise` instead costs the compiler more, in every
/// build).
fn panic_message(msg: &str, at: Span) -> syn::LitStr {
    syn::LitStr::new(&msg.replace('{', "{{").replace('}', "}}"), at)
}

/// The span of a key's value (its first token), or `default`.
pub(crate) fn token_span(tokens: Option<&TokenStream>, default: Span) -> Span {
    tokens
        .and_then(|t| t.clone().into_iter().next())
        .map_or(default, |t| t.span())
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

/// Takes a tree's value apart, down its inline trees, into hygienic
/// variables numbered in declaration order: `let v1 = self.web.api;`.
fn bindings_of(tree: &Tree, path: &TokenStream, out: &mut Vec<TokenStream>) {
    for child in &tree.children {
        let field = &child.ident;
        let path = quote!(#path.#field);
        match &child.ty {
            ChildType::Inline(nested) => bindings_of(nested, &path, out),
            ChildType::Type(_) => {
                let var = local(&format!("v{}", out.len() + 1));
                out.push(quote!(let #var = #path;));
            }
        }
    }
}

/// The struct definitions of a `supervision_tree!` (the root and every
/// inline supervisor): public fields, and `Clone` when every field is (a
/// child built by a factory need not be, and then neither is its tree).
pub(crate) fn structs(tree: &Tree) -> TokenStream {
    let mut trees = Vec::new();
    collect(tree, &mut trees, &mut HashSet::new());
    let mut out = TokenStream::new();
    let mut inline = TokenStream::new();
    for t in &trees {
        let (outside, inside) = struct_def(t);
        out.extend(outside);
        inline.extend(inside);
    }
    // The inline supervisors' structs, in the module of the tree.
    if let Some(module) = trees.iter().find_map(|t| t.module.as_ref()) {
        let vis = &tree.vis;
        let doc = format!(
            "The structs of the supervisors written inline in [`{}`].",
            tree.ident
        );
        out.extend(quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #vis mod #module {
                #inline
            }
        });
    }
    out
}

/// The type of a tree's struct. An inline supervisor's struct is generic
/// in its fields' types, in a module of its own (which sees nothing of the
/// user's scope, so it takes the types as parameters), and the name the
/// user wrote is an alias of it: `type Web = app_tree::Web<Api>;` (the
/// module is named after the tree's root).
/// The generated code names the struct by this path, never by the alias,
/// so that a name the module already has (rustc's "defined multiple
/// times", at the alias) is the one error: nothing generated reaches the
/// other type.
fn type_path(tree: &Tree) -> TokenStream {
    let ident = &tree.ident;
    let Some(module) = &tree.module else {
        return ident.to_token_stream();
    };
    let args: Vec<TokenStream> = tree.children.iter().map(field_type).collect();
    if args.is_empty() {
        quote!(#module::#ident)
    } else {
        quote!(#module::#ident<#(#args),*>)
    }
}

/// A field's type in its tree's struct: as written (a function of the
/// siblings' handles for a wired child), or an inline supervisor's path.
fn field_type(child: &ChildNode) -> TokenStream {
    if let Some(function) = &child.wired {
        return function.to_token_stream();
    }
    match &child.ty {
        ChildType::Type(ty) => ty.to_token_stream(),
        // A supervisor whose name is taken (reported): not declared.
        ChildType::Inline(nested) if nested.excluded.get() => quote!(()),
        ChildType::Inline(nested) => type_path(nested),
    }
}

/// A tree's struct, its alias and its `Clone`, and (for an inline
/// supervisor) its struct in the tree's module.
fn struct_def(tree: &Tree) -> (TokenStream, TokenStream) {
    let inline = tree.module.is_some();
    let ident = &tree.ident;
    let vis = &tree.vis;
    let attrs = &tree.pass_attrs;
    let self_ty = type_path(tree);
    let types: Vec<TokenStream> = tree.children.iter().map(field_type).collect();
    // An inline supervisor's struct takes its fields' types as parameters.
    let params: Vec<syn::Ident> = (0..types.len())
        .map(|i| format_ident!("Child{}", i))
        .collect();
    let fields = tree.children.iter().enumerate().map(|(i, c)| {
        let field = &c.ident;
        let attrs = &c.pass_attrs;
        let ty = if inline {
            params[i].to_token_stream()
        } else {
            types[i].clone()
        };
        // The macro's own span: a field the macro makes `pub` is not the
        // user's, so that lints about it (`private_interfaces` for a private
        // type) stay quiet. In an inline supervisor's module, a field
        // visible to its module only is visible to the crate.
        let field_vis = match &c.vis {
            syn::Visibility::Inherited => quote!(pub),
            syn::Visibility::Restricted(_) if inline => quote!(pub(crate)),
            other => other.to_token_stream(),
        };
        quote!(#(#attrs)* #field_vis #field: #ty)
    });
    let clone = if derives_clone(attrs) {
        TokenStream::new()
    } else {
        // Bound by a `for<'_>`: a field that is not `Clone` makes the
        // tree not `Clone`, and is no error of its own.
        let names: Vec<&syn::Ident> = tree.children.iter().map(|c| &c.ident).collect();
        quote! {
            impl ::core::clone::Clone for #self_ty
            where
                #(for<'__supervise> #types: ::core::clone::Clone,)*
            {
                fn clone(&self) -> Self {
                    Self {
                        #(#names: ::core::clone::Clone::clone(&self.#names),)*
                    }
                }
            }
        }
    };
    // Spanned at the name: a name taken in the module (E0428) is reported
    // at the user's token, not at the macro call.
    let span = ident.span();
    if !inline {
        let root = quote_spanned! {span=>
            #(#attrs)*
            #vis struct #ident {
                #(#fields,)*
            }
            #clone
        };
        return (root, TokenStream::new());
    }
    let generics = (!params.is_empty()).then(|| quote!(<#(#params),*>));
    let docs = attrs.iter().filter(|a| a.path().is_ident("doc"));
    // At the user's name, where rustc reports a name the module already
    // has. A private child type in a public tree's alias is allowed, as it
    // is in the fields the macro makes public.
    let alias = quote_spanned! {span=>
        #[allow(private_interfaces)]
        #vis type #ident = #self_ty;
    };
    // As visible as the alias, from inside the module: a struct more
    // visible than its handle would make its `Child` impl a public
    // interface of a private type.
    let inner_vis = match vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(r) if r.path.is_ident("self") => quote!(pub(super)),
        syn::Visibility::Restricted(_) => quote!(pub(crate)),
    };
    let inside = quote! {
        #(#attrs)*
        #inner_vis struct #ident #generics {
            #(#fields,)*
        }
    };
    let outside = quote! {
        #(#docs)*
        #alias
        #clone
    };
    (outside, inside)
}
