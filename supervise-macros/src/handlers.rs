//! `#[handlers]`: a worker written as GenServer-style handlers.
//!
//! Parse (the impl block into a [`Model`]: each annotated method's kind,
//! its message arguments, its context and reply parameters and what it
//! returns), check (each rule a `check_*` recording into the context), then
//! expand: the message enum, the `Worker` and `Handlers` impls and the
//! client trait. Expansion cannot fail; a handler with a mistake is left
//! out of the generated code (its method stays in the impl block), so the
//! user sees its error and no follow-on ones.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;

use crate::internals::ctxt::Ctxt;

/// The methods of `WorkerHandle` itself: a client method of the same name
/// would be shadowed by them.
const HANDLE_METHODS: &[&str] = &[
    "same_child",
    "is_gone",
    "child",
    "send",
    "send_wait",
    "call",
    "call_timeout",
    "try_call",
    "wait_running",
    "clone",
];

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let mut item: syn::ItemImpl = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let at = syn::parse2::<syn::Item>(input.clone())
                .map(|item| crate::internals::ast::item_name(&item))
                .unwrap_or_else(|_| input.clone());
            cx.error_spanned_by(
                at,
                "`#[handlers]` goes on the worker's inherent impl block: \
                 `#[handlers] impl MyWorker { #[call] async fn get(&mut self) -> u64 { ... } }`",
            );
            let mut out = cx
                .check()
                .expect_err("an error was recorded")
                .to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let options = parse_options(&cx, args);
    let model = parse_impl(&cx, &options, &mut item);
    let generated = model.map(|model| expand_model(&options, &model, &item));
    let mut out = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };
    out.extend(item.into_token_stream());
    out.extend(generated);
    out
}

// ===== parse =====

/// `#[handlers(message = Name, api = Name, vis = pub(crate), crate = path)]`.
struct Options {
    message: Option<syn::Ident>,
    api: Option<syn::Ident>,
    vis: Option<syn::Visibility>,
    krate: TokenStream,
}

fn parse_options(cx: &Ctxt, args: TokenStream) -> Options {
    let mut options = Options {
        message: None,
        api: None,
        vis: None,
        krate: quote!(::supervise),
    };
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "message" => options.message = Some(meta.value()?.parse()?),
            "api" => options.api = Some(meta.value()?.parse()?),
            "vis" => options.vis = Some(meta.value()?.parse()?),
            "crate" => {
                let path: syn::Path = meta.value()?.parse()?;
                options.krate = path.into_token_stream();
            }
            _ => {
                let hint =
                    crate::internals::attr::closest(&key, &["message", "api", "vis", "crate"])
                        .map(|close| format!(" (did you mean `{close}`?)"))
                        .unwrap_or_default();
                return Err(meta.error(format!(
                    "unknown `#[handlers]` key `{}`{hint}: the keys are `message` (the message \
                     enum's name), `api` (the client trait's name), `vis` (their \
                     visibility) and `crate`",
                    meta.path.to_token_stream()
                )));
            }
        }
        Ok(())
    });
    if let Err(err) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(err);
    }
    options
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Call,
    Cast,
    Info,
    Init,
    Terminate,
}

impl Kind {
    fn from_attr(attr: &syn::Attribute) -> Option<Kind> {
        let ident = attr.path().get_ident()?;
        Some(match ident.to_string().as_str() {
            "call" => Kind::Call,
            "cast" => Kind::Cast,
            "info" => Kind::Info,
            "init" => Kind::Init,
            "terminate" => Kind::Terminate,
            _ => return None,
        })
    }
}

/// How long a call's client waits: `#[call(timeout = ...)]`.
#[derive(Clone, Copy)]
enum CallTimeout {
    /// 5 s for the whole call, as `gen_server:call/2`.
    Default,
    /// `timeout = infinity`: as long as the callee lives.
    Infinity,
    /// `timeout = "2s"`.
    Millis(u64),
}

/// `#[call(timeout = "2s")]` or `#[call(timeout = infinity)]`.
fn parse_call_options(cx: &Ctxt, attr: &syn::Attribute) -> CallTimeout {
    let mut timeout = CallTimeout::Default;
    let result = attr.parse_nested_meta(|meta| {
        if !meta.path.is_ident("timeout") {
            return Err(meta.error(format!(
                "unknown `#[call]` key `{}`: the one key is `timeout` (`timeout = \"2s\"`, or \
                 `timeout = infinity`; the default is 5 s, as `GenServer.call`'s)",
                meta.path.to_token_stream()
            )));
        }
        let expr: syn::Expr = meta.value()?.parse()?;
        match &expr {
            syn::Expr::Path(p) if p.path.is_ident("infinity") => timeout = CallTimeout::Infinity,
            _ => {
                if let Some(ms) = crate::internals::attr::duration(cx, &expr, "timeout") {
                    timeout = CallTimeout::Millis(ms);
                }
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        cx.syn_error(err);
    }
    timeout
}

/// One parameter of a handler, after `self`.
enum Param {
    /// A message argument (its index among them).
    Arg(usize),
    /// The worker's context, `&mut Context` (`mutable`) or `&Context`.
    Ctx { mutable: bool },
    /// A call's reply, kept to answer later.
    Reply,
    /// A terminate hook's `&ExitReason`.
    Reason,
}

struct Handler {
    kind: Kind,
    method: syn::Ident,
    variant: syn::Ident,
    docs: Vec<syn::Attribute>,
    params: Vec<Param>,
    /// The message arguments: their names (for the client method) and types.
    args: Vec<(syn::Ident, syn::Type)>,
    /// A call's answer type.
    reply: Option<syn::Type>,
    /// A call answering `Result<V, E>`: `V` and `E`, which its client
    /// returns as `Result<V, ReplyError<E>>`.
    flat: Option<(syn::Type, syn::Type)>,
    /// A call that keeps its `Reply` to answer later.
    deferred: bool,
    /// Returns `Result<_, Exit>`: an `Err` stops the worker.
    fallible: bool,
    is_async: bool,
    /// A call's client deadline.
    timeout: CallTimeout,
    span: Span,
}

struct Model {
    self_ty: syn::Type,
    message: syn::Ident,
    api: syn::Ident,
    handlers: Vec<Handler>,
    init: Option<Handler>,
    terminate: Option<Handler>,
}

/// Takes the handler attributes off the methods of an impl block that is
/// not read as handlers, so that each shows no "cannot find attribute".
fn strip_handler_attrs(item: &mut syn::ItemImpl) {
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(method) = impl_item {
            method.attrs.retain(|attr| Kind::from_attr(attr).is_none());
        }
    }
}

fn parse_impl(cx: &Ctxt, options: &Options, item: &mut syn::ItemImpl) -> Option<Model> {
    let model = parse_handlers(cx, options, item);
    if model.is_none() {
        strip_handler_attrs(item);
    }
    model
}

fn parse_handlers(cx: &Ctxt, options: &Options, item: &mut syn::ItemImpl) -> Option<Model> {
    if let Some((path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "`#[handlers]` goes on the worker's inherent impl block (`impl MyWorker { ... }`): \
             it writes the `impl Worker` itself",
        );
        return None;
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "a handler-style worker cannot be generic: implement `supervise::Worker` and \
             `supervise::handlers::Handlers` by hand for a generic worker",
        );
        return None;
    }
    let name = match &*item.self_ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    };
    let Some(name) = name else {
        cx.error_spanned_by(
            &item.self_ty,
            "`#[handlers]` goes on the impl block of a struct or enum named by a path",
        );
        return None;
    };
    let name = name.unraw().to_string();
    let message = options
        .message
        .clone()
        .unwrap_or_else(|| format_ident!("{}Message", name));
    let api = options
        .api
        .clone()
        .unwrap_or_else(|| format_ident!("{}Api", name));
    let mut model = Model {
        self_ty: (*item.self_ty).clone(),
        message,
        api,
        handlers: Vec::new(),
        init: None,
        terminate: None,
    };
    for impl_item in &mut item.items {
        let syn::ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let mut kinds = Vec::new();
        let mut timeout = CallTimeout::Default;
        method.attrs.retain(|attr| match Kind::from_attr(attr) {
            Some(kind) => {
                match (&attr.meta, kind) {
                    (syn::Meta::Path(_), _) => {}
                    (syn::Meta::List(_), Kind::Call) => timeout = parse_call_options(cx, attr),
                    _ => cx.error_spanned_by(
                        &attr.meta,
                        format!("`#[{}]` takes no arguments", attr.path().to_token_stream()),
                    ),
                }
                kinds.push((kind, attr.path().clone()));
                false
            }
            None => true,
        });
        let Some((kind, attr)) = kinds.first().cloned() else {
            continue;
        };
        if let Some((_, second)) = kinds.get(1) {
            cx.error_spanned_by(
                second,
                "a method is one handler: keep one of `#[call]`, `#[cast]`, `#[info]`, \
                 `#[init]` and `#[terminate]`",
            );
        }
        fill_context(&mut method.sig, &model.message);
        let Some(mut handler) = parse_handler(cx, kind, method) else {
            continue;
        };
        handler.timeout = timeout;
        match kind {
            Kind::Init | Kind::Terminate => {
                let slot = if kind == Kind::Init {
                    &mut model.init
                } else {
                    &mut model.terminate
                };
                if slot.is_some() {
                    cx.error_spanned_by(
                        &attr,
                        format!(
                            "a worker has one `#[{}]` hook: merge the two",
                            attr.to_token_stream()
                        ),
                    );
                } else {
                    *slot = Some(handler);
                }
            }
            _ => model.handlers.push(handler),
        }
    }
    check_client_names(cx, &mut model);
    Some(model)
}

/// `&mut Context` (no message type written) becomes
/// `&mut Context<Message>`: a handler need not name the generated enum.
fn fill_context(sig: &mut syn::Signature, message: &syn::Ident) {
    for input in &mut sig.inputs {
        let syn::FnArg::Typed(pat) = input else {
            continue;
        };
        let syn::Type::Reference(reference) = &mut *pat.ty else {
            continue;
        };
        let syn::Type::Path(path) = &mut *reference.elem else {
            continue;
        };
        if let Some(last) = path.path.segments.last_mut() {
            if last.ident == "Context" && last.arguments.is_none() {
                last.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#message>));
            }
        }
    }
}

/// The last segment of a path type, and its generic arguments.
fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn generic_types(segment: &syn::PathSegment) -> Vec<&syn::Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Result<V, E>`, written with two arguments: `V` and `E`.
fn two_arg_result(ty: &syn::Type) -> Option<(syn::Type, syn::Type)> {
    let segment = last_segment(ty)?;
    match generic_types(segment).as_slice() {
        [value, error] if segment.ident == "Result" => Some(((*value).clone(), (*error).clone())),
        _ => None,
    }
}

/// `Result<T, Exit>`: `T`.
fn exit_result(ty: &syn::Type) -> Option<syn::Type> {
    two_arg_result(ty)
        .filter(|(_, error)| last_segment(error).is_some_and(|e| e.ident == "Exit"))
        .map(|(value, _)| value)
}

fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(t) if t.elems.is_empty())
}

fn parse_handler(cx: &Ctxt, kind: Kind, method: &syn::ImplItemFn) -> Option<Handler> {
    let sig = &method.sig;
    let mut ok = true;
    match sig.receiver() {
        Some(receiver) if matches!(receiver.kind, syn::ReceiverKind::Reference(..)) => {}
        Some(receiver) => {
            cx.error_spanned_by(
                receiver,
                "a handler takes `&mut self`: the worker's state stays with it between messages",
            );
            ok = false;
        }
        None => {
            cx.error_spanned_by(
                &sig.ident,
                "a handler takes `&mut self` first: the worker's state",
            );
            ok = false;
        }
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(
            &sig.generics,
            "a handler cannot be generic: its arguments travel in the worker's message enum",
        );
        ok = false;
    }
    let typed: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(pat) => Some(pat),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let mut params = Vec::new();
    let mut args = Vec::new();
    let mut reply = None;
    let mut deferred = false;
    for (index, pat) in typed.iter().enumerate() {
        let ty = &*pat.ty;
        if let syn::Type::Reference(reference) = ty {
            if last_segment(&reference.elem).is_some_and(|s| s.ident == "Context") {
                params.push(Param::Ctx {
                    mutable: reference.mutability.is_some(),
                });
                continue;
            }
            if kind == Kind::Terminate {
                params.push(Param::Reason);
                continue;
            }
        }
        if kind == Kind::Call {
            if let Some(segment) = last_segment(ty).filter(|s| s.ident == "Reply") {
                if index + 1 != typed.len() {
                    cx.error_spanned_by(
                        ty,
                        "a call's `Reply` is its last parameter: move it after the arguments",
                    );
                    ok = false;
                } else if let [answer] = generic_types(segment).as_slice() {
                    reply = Some((*answer).clone());
                    deferred = true;
                    params.push(Param::Reply);
                    continue;
                }
            }
        }
        match kind {
            Kind::Init | Kind::Terminate => {
                let expected = if kind == Kind::Init {
                    "an `#[init]` hook takes `&mut self` and, if it needs it, `ctx: &mut Context`"
                } else {
                    "a `#[terminate]` hook takes `&mut self` and, if it needs them, \
                     `reason: &ExitReason` and `ctx: &mut Context`"
                };
                cx.error_spanned_by(ty, expected);
                ok = false;
                continue;
            }
            _ => {}
        }
        if let syn::Type::ImplTrait(_) = ty {
            cx.error_spanned_by(
                ty,
                "a handler's argument travels in a message, whose type is fixed: give it a \
                 concrete type, not `impl Trait`",
            );
            ok = false;
            continue;
        }
        if let syn::Type::Reference(reference) = ty {
            cx.error_spanned_by(
                reference,
                format!(
                    "a handler's argument travels in a message, so it is owned: take `{}`, \
                     not a reference",
                    owned_hint(&reference.elem)
                ),
            );
            ok = false;
            continue;
        }
        let name = match &*pat.pat {
            syn::Pat::Ident(p) if p.subpat.is_none() => {
                format_ident!("{}", p.ident.unraw().to_string(), span = p.ident.span())
            }
            _ => format_ident!("arg{}", args.len()),
        };
        params.push(Param::Arg(args.len()));
        args.push((name, ty.clone()));
    }
    let output = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let (value, fallible) = match exit_result(&output) {
        Some(value) => (value, true),
        None => (output.clone(), false),
    };
    match kind {
        Kind::Call if deferred => {
            if !is_unit(&value) {
                cx.error_spanned_by(
                    &sig.output,
                    "a call that keeps its `Reply` answers through it: return nothing (or \
                     `Result<(), Exit>` to stop the worker)",
                );
                ok = false;
            }
        }
        Kind::Call => reply = Some(value),
        Kind::Cast | Kind::Info => {
            if !is_unit(&value) {
                cx.error_spanned_by(
                    &sig.output,
                    "a cast or info handler answers nobody: return nothing (or \
                     `Result<(), Exit>` to stop the worker); a handler that answers is a \
                     `#[call]`",
                );
                ok = false;
            }
        }
        Kind::Terminate => {
            if !is_unit(&output) {
                cx.error_spanned_by(&sig.output, "a `#[terminate]` hook returns nothing");
                ok = false;
            }
        }
        Kind::Init => {}
    }
    if !ok {
        return None;
    }
    let method_name = sig.ident.unraw().to_string();
    let flat = reply.as_ref().and_then(two_arg_result);
    Some(Handler {
        kind,
        method: sig.ident.clone(),
        variant: format_ident!("{}", camel_case(&method_name), span = sig.ident.span()),
        docs: method
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .cloned()
            .collect(),
        params,
        args,
        reply,
        flat,
        deferred,
        fallible,
        is_async: sig.asyncness.is_some(),
        timeout: CallTimeout::Default,
        span: sig.ident.span(),
    })
}

/// `str` → `String`, `[T]` → `Vec<T>`, otherwise the type itself.
fn owned_hint(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        syn::Type::Slice(s) => format!("Vec<{}>", s.elem.to_token_stream()).replace(' ', ""),
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A client method named like one of `WorkerHandle`'s own would never be
/// called (the inherent method wins); two handlers must not make the same
/// message.
fn check_client_names(cx: &Ctxt, model: &mut Model) {
    for handler in &model.handlers {
        let name = handler.method.unraw().to_string();
        if handler.kind != Kind::Info && HANDLE_METHODS.contains(&name.as_str()) {
            cx.error_spanned_by(
                &handler.method,
                format!(
                    "`{name}` is a method of `WorkerHandle` already, so the handle's `{name}` \
                     would not reach this handler: rename it"
                ),
            );
        }
    }
    // A second handler of the same message is left out of the generated
    // code, so that the enum does not define it twice.
    let mut seen = std::collections::HashSet::new();
    model.handlers.retain(|handler| {
        let first = seen.insert(handler.variant.to_string());
        if !first {
            cx.error_spanned_by(
                &handler.method,
                format!(
                    "two handlers make the message `{}`: rename one",
                    handler.variant
                ),
            );
        }
        first
    });
}

// ===== expand =====

fn expand_model(options: &Options, model: &Model, item: &syn::ItemImpl) -> TokenStream {
    let krate = &options.krate;
    let vis = options
        .vis
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(pub));
    let self_ty = &model.self_ty;
    let message = &model.message;
    let api = &model.api;
    let type_name = self_ty.to_token_stream().to_string().replace(' ', "");
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();

    let variants = model.handlers.iter().map(|h| {
        let docs = &h.docs;
        let mut fields: Vec<TokenStream> =
            h.args.iter().map(|(_, ty)| ty.to_token_stream()).collect();
        if let Some(reply) = &h.reply {
            fields.push(quote!(#krate::Reply<#reply>));
        }
        let variant = &h.variant;
        let note = format!(" The message of [`{type_name}::{}`].", h.method);
        if fields.is_empty() {
            quote!(#(#docs)* #[doc = ""] #[doc = #note] #variant)
        } else {
            quote!(#(#docs)* #[doc = ""] #[doc = #note] #variant(#(#fields),*))
        }
    });
    let enum_doc = format!(
        " The messages of [`{type_name}`]'s handlers (generated by `#[handlers]`): what its \
         `WorkerHandle` sends, and what a timer of its own carries (`Context::send_after`)."
    );

    let arms = model.handlers.iter().map(|h| dispatch_arm(message, h));
    let names = model.handlers.iter().map(|h| {
        let variant = &h.variant;
        let name = h.method.unraw().to_string();
        let pattern = if h.args.is_empty() && h.reply.is_none() {
            quote!(#message::#variant)
        } else {
            quote!(#message::#variant(..))
        };
        quote!(#pattern => #name)
    });

    let terminates = model.terminate.is_some();
    let init = model.init.as_ref().map(|h| {
        let call = invoke(h);
        quote_spanned! {h.span=>
            async fn init(
                &mut self,
                __ctx: &mut #krate::Context<#message>,
            ) -> ::core::result::Result<#krate::Init, #krate::Exit> {
                #krate::handlers::IntoInit::into_init(#call)
            }
        }
    });
    let terminate = model.terminate.as_ref().map(|h| {
        let call = invoke(h);
        quote_spanned! {h.span=>
            async fn terminate(
                &mut self,
                __reason: &#krate::ExitReason,
                __ctx: &mut #krate::Context<#message>,
            ) {
                #call
            }
        }
    });

    let client_sigs: Vec<(TokenStream, TokenStream)> = model
        .handlers
        .iter()
        .filter(|h| h.kind != Kind::Info)
        .map(|h| client_method(krate, message, h))
        .collect();
    let client_decls = client_sigs.iter().map(|(decl, _)| decl);
    let client_impls = client_sigs.iter().map(|(_, body)| body);
    let api_doc = format!(
        " The client API of [`{type_name}`] (generated by `#[handlers]`): a method per \
         `#[call]` and `#[cast]` handler on its `WorkerHandle`. A call waits 5 s for its \
         answer (through a restart, for the next incarnation), unless its handler says \
         `#[call(timeout = ...)]`, and fails at once if the callee dies."
    );

    quote! {
        #[doc = #enum_doc]
        #vis enum #message {
            #(#variants,)*
        }

        impl ::core::fmt::Debug for #message {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(<#self_ty as #krate::handlers::Handlers>::handler_name(self))
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::Worker for #self_ty #where_clause {
            type Message = #message;

            const HANDLES_SHUTDOWN: bool = #terminates;

            #init

            fn run(
                self,
                ctx: #krate::Context<#message>,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), #krate::Exit>,
            > + ::core::marker::Send {
                #krate::handlers::serve(self, ctx)
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::handlers::Handlers for #self_ty #where_clause {
            const TERMINATES: bool = #terminates;

            #[allow(unused_variables)]
            async fn handle(
                &mut self,
                __message: #message,
                __ctx: &mut #krate::Context<#message>,
            ) -> ::core::result::Result<(), #krate::Exit> {
                match __message {
                    #(#arms)*
                }
            }

            fn handler_name(__message: &#message) -> &'static str {
                match *__message {
                    #(#names,)*
                }
            }

            #terminate
        }

        #[doc = #api_doc]
        #vis trait #api {
            #(#client_decls)*
        }

        #[automatically_derived]
        impl #api for #krate::WorkerHandle<#self_ty> {
            #(#client_impls)*
        }
    }
}

/// The call of a handler's method, its arguments bound to `__a0...`, the
/// context to `__ctx`, the reply to `__reply`, the reason to `__reason`.
fn invoke(h: &Handler) -> TokenStream {
    let method = &h.method;
    let args = h.params.iter().map(|param| match param {
        Param::Arg(i) => format_ident!("__a{}", i).into_token_stream(),
        Param::Ctx { mutable: true } => quote!(&mut *__ctx),
        Param::Ctx { mutable: false } => quote!(&*__ctx),
        Param::Reply => quote!(__reply),
        Param::Reason => quote!(__reason),
    });
    let call = quote_spanned!(h.span=> self.#method(#(#args),*));
    if h.is_async {
        quote_spanned!(h.span=> #call.await)
    } else {
        call
    }
}

fn dispatch_arm(message: &syn::Ident, h: &Handler) -> TokenStream {
    let variant = &h.variant;
    let mut bindings: Vec<TokenStream> = (0..h.args.len())
        .map(|i| format_ident!("__a{}", i).into_token_stream())
        .collect();
    if h.reply.is_some() {
        bindings.push(quote!(__reply));
    }
    let pattern = if bindings.is_empty() {
        quote!(#message::#variant)
    } else {
        quote!(#message::#variant(#(#bindings),*))
    };
    let call = invoke(h);
    let body = match (h.kind, h.deferred, h.fallible) {
        (Kind::Call, false, false) => quote! {
            let _ = __reply.send(#call);
            ::core::result::Result::Ok(())
        },
        (Kind::Call, false, true) => quote! {
            match #call {
                ::core::result::Result::Ok(__value) => {
                    let _ = __reply.send(__value);
                    ::core::result::Result::Ok(())
                }
                ::core::result::Result::Err(__exit) => ::core::result::Result::Err(__exit),
            }
        },
        (_, _, true) => quote!(#call),
        (_, _, false) => quote! {
            #call;
            ::core::result::Result::Ok(())
        },
    };
    quote_spanned!(h.span=> #pattern => { #body })
}

/// A client method's declaration (in the trait) and implementation (for
/// `WorkerHandle<Worker>`).
fn client_method(
    krate: &TokenStream,
    message: &syn::Ident,
    h: &Handler,
) -> (TokenStream, TokenStream) {
    let method = &h.method;
    let docs = &h.docs;
    let names: Vec<&syn::Ident> = h.args.iter().map(|(name, _)| name).collect();
    let types: Vec<&syn::Type> = h.args.iter().map(|(_, ty)| ty).collect();
    let variant = &h.variant;
    match (h.kind, &h.reply) {
        (Kind::Call, Some(reply)) => {
            let errors = match h.timeout {
                CallTimeout::Default => {
                    " # Errors\n\n A `HandleError`: the child is gone, \
                    exited before it answered or dropped the reply, or no answer came within \
                    5 s (`Timeout`)."
                }
                CallTimeout::Millis(_) => {
                    " # Errors\n\n A `HandleError`: the child is gone, \
                    exited before it answered or dropped the reply, or no answer came within \
                    the handler's `timeout` (`Timeout`)."
                }
                CallTimeout::Infinity => {
                    " # Errors\n\n A `HandleError`: the child is gone, \
                    did not come up within 5 s, exited before it answered, or dropped the \
                    reply."
                }
            };
            let make = quote!(move |__reply| #message::#variant(#(#names,)* __reply));
            let call = match h.timeout {
                CallTimeout::Default => quote! {
                    self.call_timeout(#make, #krate::worker::DEFAULT_CALL_TIMEOUT)
                },
                CallTimeout::Millis(ms) => quote! {
                    self.call_timeout(#make, #krate::__private::Duration::from_millis(#ms))
                },
                CallTimeout::Infinity => quote!(self.call(#make)),
            };
            let (output, call) = match &h.flat {
                Some((value, error)) => (
                    quote!(::core::result::Result<#value, #krate::ReplyError<#error>>),
                    quote! {
                        let call = #call;
                        async move { #krate::ReplyError::flatten(call.await) }
                    },
                ),
                None => (
                    quote!(::core::result::Result<#reply, #krate::HandleError>),
                    call,
                ),
            };
            let errors = match &h.flat {
                Some(_) => format!(
                    "{errors} With its handler's own error, as `ReplyError::Reply`; the \
                     `HandleError` as `ReplyError::Call`."
                ),
                None => errors.to_owned(),
            };
            let decl = quote_spanned! {h.span=>
                #(#docs)*
                #[doc = ""]
                #[doc = #errors]
                fn #method(&self, #(#names: #types),*) -> impl ::core::future::Future<
                    Output = #output,
                > + ::core::marker::Send;
            };
            let body = quote_spanned! {h.span=>
                fn #method(&self, #(#names: #types),*) -> impl ::core::future::Future<
                    Output = #output,
                > + ::core::marker::Send {
                    #call
                }
            };
            (decl, body)
        }
        _ => {
            let errors = " # Errors\n\n A `HandleError`: the child is not running, is gone, \
                          or its bounded mailbox is full.";
            let value = if names.is_empty() {
                quote!(#message::#variant)
            } else {
                quote!(#message::#variant(#(#names),*))
            };
            let decl = quote_spanned! {h.span=>
                #(#docs)*
                #[doc = ""]
                #[doc = #errors]
                fn #method(&self, #(#names: #types),*) -> ::core::result::Result<(), #krate::HandleError>;
            };
            let body = quote_spanned! {h.span=>
                fn #method(&self, #(#names: #types),*) -> ::core::result::Result<(), #krate::HandleError> {
                    self.send(#value).map_err(|__error| __error.error)
                }
            };
            (decl, body)
        }
    }
}
