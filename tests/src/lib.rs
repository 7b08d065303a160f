//! Shared fixtures for the supervise integration tests.
