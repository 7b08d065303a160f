//! Procedural macros of the [`supervise`](https://docs.rs/supervise) crate.
//!
//! Do not depend on this crate directly: use `supervise`, which re-exports
//! its macros behind the default `macros` feature. The derive and the
//! `supervision_tree!` DSL land with the macros milestone; until then this
//! crate only reserves the name and the version lock with the runtime.
