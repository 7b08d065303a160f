//! `#[worker(...)]`: a worker's default child spec.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use crate::expand::shutdown;
use crate::internals::attr::{Restart, WorkerAttrs};
use crate::internals::ctxt::Ctxt;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let mut attrs = WorkerAttrs::new();
    attrs.parse(&cx, args);
    let item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(err) => {
            cx.syn_error(err);
            let errors = cx.check().expect_err("an error was recorded");
            let mut out = errors.to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let (ident, generics) = match &item {
        syn::Item::Struct(s) => (&s.ident, &s.generics),
        syn::Item::Enum(e) => (&e.ident, &e.generics),
        other => {
            let at = match other {
                syn::Item::Fn(f) => f.sig.ident.to_token_stream(),
                syn::Item::Trait(t) => t.ident.to_token_stream(),
                syn::Item::Type(t) => t.ident.to_token_stream(),
                syn::Item::Union(u) => u.ident.to_token_stream(),
                other => other.to_token_stream(),
            };
            cx.error_spanned_by(
                at,
                "`#[worker]` goes on the struct or enum that implements `supervise::Worker`",
            );
            let errors = cx.check().expect_err("an error was recorded");
            let mut out = errors.to_compile_error();
            out.extend(item.into_token_stream());
            return out;
        }
    };
    check_worker(&cx, &attrs);

    let krate = match attrs.krate.get() {
        Some(path) => path.to_token_stream(),
        None => quote!(::supervise),
    };
    let restart = match attrs.restart.get().copied().unwrap_or(Restart::Permanent) {
        Restart::Permanent => quote!(#krate::Restart::Permanent),
        Restart::Transient => quote!(#krate::Restart::Transient),
        Restart::Temporary => quote!(#krate::Restart::Temporary),
    };
    let shutdown = match attrs.shutdown.get() {
        Some(s) => shutdown(&krate, *s),
        None => quote!(#krate::Shutdown::DEFAULT_WORKER),
    };
    let significant = attrs.significant.get().copied().unwrap_or(false);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let child_impl = quote! {
        impl #impl_generics #krate::Child for #ident #ty_generics #where_clause {
            type Handle = #krate::WorkerHandle<Self>;
            const KIND: #krate::ChildKind = #krate::ChildKind::Worker;
            const RESTART: #krate::Restart = #restart;
            const SHUTDOWN: #krate::Shutdown = #shutdown;
            const SIGNIFICANT: bool = #significant;

            fn child_spec<F>(__id: &str, __factory: F) -> (#krate::ChildSpec, Self::Handle)
            where
                F: ::core::ops::Fn() -> Self + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #krate::__private::worker_child(__id, __factory)
            }
        }
    };
    let mut out = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };
    out.extend(item.into_token_stream());
    out.extend(child_impl);
    out
}

/// A worker marked significant by default must not be permanent (OTP's
/// `bad_combination`); whether its supervisors allow significant children
/// is checked where it is used.
fn check_worker(cx: &Ctxt, attrs: &WorkerAttrs) {
    if attrs.significant.get() != Some(&true) {
        return;
    }
    match attrs.restart.get() {
        None => cx.error_spanned_by(
            attrs.significant.tokens().cloned().unwrap_or_default(),
            "a significant worker must be `transient` or `temporary`: add `restart = transient` \
             (the default restart type is `permanent`)",
        ),
        Some(Restart::Permanent) => cx.error_spanned_by(
            attrs.restart.tokens().cloned().unwrap_or_default(),
            "a significant worker must be `transient` or `temporary`, not `permanent`",
        ),
        Some(_) => {}
    }
}
