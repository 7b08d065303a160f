//! Examples of the supervise crate: see the `[[example]]` entries.
//!
//! This library holds the systems of the seeds (the Elixir tutorials the
//! project implements), each declared with the macros (`#[worker]`,
//! `#[handlers]`, `#[derive(Supervisor)]`, `supervision_tree!`): the
//! GenServers are `#[handlers]` workers, called through their generated
//! `...Api` traits on the typed handles. The examples
//! (`cargo run -p examples --example NAME`) run them and print what
//! happens; the tests of `supervise-tests` (`tests/tests/seed_*.rs`) drive
//! the same modules and assert what the seeds say happens.
//!
//! | module | seed | example |
//! |---|---|---|
//! | [`financial_app`] | 002, "Financial Application Tree" | `financial_app` |
//! | [`bombs`] | 001, the `Bomb` crash timelines | `bombs` |
//! | [`counter_kv`] | 003, "Your First Supervisor" | `counter_kv` |
//! | [`invoice`] | 002, "Basic Supervisor" | `invoice` |
//! | [`chat_app`] | 003, the chat application exercise | `chat_app` |
//! | [`order_system`] | 004, the order processing system | `order_system` |
//! | [`sessions`] | 003, "DynamicSupervisor" | `sessions` |

pub mod bombs;
pub mod chat_app;
pub mod counter_kv;
pub mod financial_app;
pub mod invoice;
pub mod order_system;
pub mod sessions;
