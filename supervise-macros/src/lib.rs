//! Procedural macros of the [`supervise`](https://docs.rs/supervise) crate.
//!
//! Do not depend on this crate directly: use `supervise`, which re-exports
//! the macros behind its default `macros` feature and documents them with
//! examples. Each macro parses its input into one model, checks every rule
//! (collecting all the mistakes of one spec), and only then generates code;
//! on error it still emits the items, so that no follow-on errors appear.

mod dsl;
mod expand;
mod handlers;
mod internals;
mod worker;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// Derives a supervisor from a struct whose named fields are its children.
/// See `supervise::Supervisor`.
#[proc_macro_derive(Supervisor, attributes(supervisor, child))]
pub fn derive_supervisor(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// Declares a worker's default child spec. See `supervise::worker`.
#[proc_macro_attribute]
pub fn worker(args: TokenStream, input: TokenStream) -> TokenStream {
    worker::expand(args.into(), input.into()).into()
}

/// Declares a whole supervision tree. See `supervise::supervision_tree`.
#[proc_macro]
pub fn supervision_tree(input: TokenStream) -> TokenStream {
    dsl::expand(input.into()).into()
}

/// Writes a worker as GenServer-style handlers. See `supervise::handlers`.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, input: TokenStream) -> TokenStream {
    handlers::expand(args.into(), input.into()).into()
}
