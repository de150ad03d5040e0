//! What the runtime tells the outside (features `tracing` and `metrics`): the spans, events and metrics
//! the crate docs list in "Observability". Every call site in the runtime goes through here, so that
//! names, labels and fields are written once; each half has a no-op twin, so that a build without its
//! feature compiles the calls out. The effects a test kit records (feature `testkit`) go through here
//! too.

mod effects;
mod meters;
mod spans;

#[cfg(feature = "testkit")]
pub use effects::Effect;
pub(crate) use effects::*;
pub(crate) use meters::*;
pub(crate) use spans::*;
