//! The model shared by the derive and the DSL: attributes parsed into
//! values that keep their tokens, cross-field checks, and the error context.

pub(crate) mod ast;
pub(crate) mod attr;
pub(crate) mod check;
pub(crate) mod ctxt;
pub(crate) mod symbol;
