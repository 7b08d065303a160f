//! `#[worker(...)]`: a worker's default child spec.
//!
//! The attribute only declares the defaults (an impl of
//! `worker::WorkerDefaults`, constants and nothing else); `supervise`
//! makes every type with them that implements `Worker` a `Child`. So a
//! mistake in the worker's `Worker` impl (a `Message` or a worker that is
//! not `Send`, a generic parameter without the impl's bounds) is reported
//! once, in that impl, and nothing generated here repeats it.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use crate::expand::shutdown;
use crate::internals::attr::{Restart, Shutdown, WorkerAttrs};
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
    check_worker(&cx, &attrs);
    let krate = match attrs.krate.get() {
        Some(path) => path.to_token_stream(),
        None => quote!(::supervise),
    };
    let defaults = |self_ty: TokenStream, generics: &syn::Generics| {
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
        let (impl_generics, _, where_clause) = generics.split_for_impl();
        // `Worker` is checked at the type's name (see `declare`), or where
        // a generic worker is used: the `for<'_>` defers it to there.
        let mut preds: Vec<TokenStream> = where_clause
            .map(|w| w.predicates.iter().map(ToTokens::to_token_stream).collect())
            .unwrap_or_default();
        preds.push(quote!(for<'__supervise> Self: #krate::Worker));
        quote! {
            impl #impl_generics #krate::worker::WorkerDefaults for #self_ty where #(#preds,)* {
                const RESTART: #krate::Restart = #restart;
                const SHUTDOWN: #krate::Shutdown = #shutdown;
                const SIGNIFICANT: bool = #significant;
            }
        }
    };
    let warning = |ident: &syn::Ident, generics: &syn::Generics, item_attrs: &[syn::Attribute]| {
        let lints = crate::internals::ast::lint_attrs(item_attrs);
        finite_shutdown_warning(&krate, &attrs, ident, generics, &lints)
    };
    let generated = match &item {
        syn::Item::Struct(s) => {
            let mut out = declare(&krate, &s.ident, &s.generics, &defaults);
            out.extend(warning(&s.ident, &s.generics, &s.attrs));
            out
        }
        syn::Item::Enum(e) => {
            let mut out = declare(&krate, &e.ident, &e.generics, &defaults);
            out.extend(warning(&e.ident, &e.generics, &e.attrs));
            out
        }
        // `#[worker]` on the `impl Worker for Type` block: the attribute
        // belongs on `Type`. Said so, and the defaults are declared anyway,
        // so that the fields of that type show no follow-on errors.
        syn::Item::Impl(i) if i.trait_.is_some() => {
            let self_ty = &i.self_ty;
            cx.syn_error(syn::Error::new(
                Span::call_site(),
                format!(
                    "`#[worker]` goes on the worker's struct or enum, not on its `impl Worker`: \
                     move it to the definition of `{}`",
                    self_ty.to_token_stream().to_string().replace(' ', "")
                ),
            ));
            defaults(self_ty.to_token_stream(), &i.generics)
        }
        other => {
            let at = crate::internals::ast::item_name(other);
            cx.error_spanned_by(
                at,
                "`#[worker]` goes on the struct or enum that implements `supervise::Worker`",
            );
            TokenStream::new()
        }
    };
    let mut out = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };
    out.extend(item.into_token_stream());
    out.extend(generated);
    out
}

/// The defaults of a struct or enum, and (when it is not generic, so that
/// the question has one answer) the check that it implements `Worker`, at
/// its name.
fn declare(
    krate: &TokenStream,
    ident: &syn::Ident,
    generics: &syn::Generics,
    defaults: &dyn Fn(TokenStream, &syn::Generics) -> TokenStream,
) -> TokenStream {
    let (_, ty_generics, _) = generics.split_for_impl();
    let mut out = defaults(quote!(#ident #ty_generics), generics);
    if generics.params.is_empty() {
        // A bound checked by selection only (not the trait's supertraits,
        // so that a worker that is not `Send` is reported once, in its
        // `Worker` impl), at the type's name.
        let span = ident.span();
        let krate = crate::expand::respan(krate.clone(), span);
        out.extend(quote_spanned! {span=>
            const _: () = {
                const fn worker<T: #krate::Worker>() {}
                worker::<#ident>()
            };
        });
    }
    out
}

/// A finite shutdown timeout written on a worker that is not asked to stop
/// (its `Worker::HANDLES_SHUTDOWN` is false) is never waited for: its
/// supervisor aborts it at once. OTP accepts it (and it is the default),
/// so it compiles, with a warning at the value: the use of a deprecated
/// function, chosen by the worker's constant, under the type's lint levels
/// (`#[allow(deprecated)]` on it silences the warning). Not for a generic
/// worker, whose answer depends on its parameters.
fn finite_shutdown_warning(
    krate: &TokenStream,
    attrs: &WorkerAttrs,
    ident: &syn::Ident,
    generics: &syn::Generics,
    lints: &[syn::Attribute],
) -> TokenStream {
    let (Some(Shutdown::Millis(ms)), Some(at)) = (attrs.shutdown.get(), attrs.shutdown.tokens())
    else {
        return TokenStream::new();
    };
    if *ms == 0 || !generics.params.is_empty() {
        return TokenStream::new();
    }
    let span = crate::expand::token_span(Some(at), Span::call_site());
    let name = ident.to_string();
    let krate = crate::expand::respan(krate.clone(), span);
    let handles_shutdown = quote_spanned!(span=> <#ident as #krate::Worker>::HANDLES_SHUTDOWN);
    crate::expand::never_waited_warning(at, &name, &name, handles_shutdown, lints)
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
