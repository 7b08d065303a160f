//! Compile-fail and compile-pass cases of the `supervise` macros
//! (`#[derive(Supervisor)]`, `#[worker]`, `supervision_tree!`, `#[handlers]`).
//!
//! The `.stderr` snapshots are recorded with one rustc version (the
//! wording and layout of rustc's diagnostics change between versions), so
//! the test is ignored on any other. Re-bless with
//! `TRYBUILD=overwrite cargo test -p supervise-tests --test ui`.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "ui snapshots are recorded with rustc 1.95"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/derive/*.rs");
    t.compile_fail("tests/ui/tree/*.rs");
    t.compile_fail("tests/ui/worker/*.rs");
    t.compile_fail("tests/ui/handlers/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
