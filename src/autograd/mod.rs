//! Tape autograd. While a tape is active on this thread, every op whose inputs the tape watches
//! appends a node (its backward rule plus input/output ids). Nodes are appended in creation order,
//! so `gradient` is one reverse walk. With no active tape nothing is recorded and ops pay only a
//! thread-local check.
//!
//! Gradients are first order: the backward walk itself is not recorded on outer tapes.

mod tape;

pub use tape::{gradient, is_recording, pause, pop, push, record, resume, Backward, StopRecording, Tape, TapeRef};
