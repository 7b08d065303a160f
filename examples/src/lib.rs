//! Examples of the supervise crate: see the `[[example]]` entries.
