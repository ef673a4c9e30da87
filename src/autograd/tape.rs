use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};

/// The backward rule of one recorded op.
pub trait Backward: Send + Sync {
    fn name(&self) -> &'static str;
    /// Gradients of the inputs given `grad`, the gradient of the output. `needs[i]` tells whether
    /// input `i` leads to a requested source; return `None` for inputs that need nothing.
    /// Each returned gradient has its input's shape and dtype.
    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>>;
}

struct Node {
    op: Arc<dyn Backward>,
    inputs: Vec<TensorId>,
    output: TensorId,
}

/// A record of ops for one `GradientTape`.
pub struct Tape {
    nodes: Vec<Node>,
    /// Ids whose gradients flow: watched tensors and outputs of recorded ops.
    tracked: HashSet<TensorId>,
    persistent: bool,
    watch_accessed_variables: bool,
    used: bool,
}

pub type TapeRef = Arc<Mutex<Tape>>;

thread_local! {
    static ACTIVE: RefCell<Vec<TapeRef>> = const { RefCell::new(Vec::new()) };
    static PAUSED: Cell<usize> = const { Cell::new(0) };
}

fn lock(t: &TapeRef) -> std::sync::MutexGuard<'_, Tape> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tape {
    pub fn new(persistent: bool, watch_accessed_variables: bool) -> TapeRef {
        Arc::new(Mutex::new(Tape {
            nodes: Vec::new(),
            tracked: HashSet::new(),
            persistent,
            watch_accessed_variables,
            used: false,
        }))
    }

    pub fn watch(&mut self, t: &Tensor) {
        self.tracked.insert(t.id());
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn reset(&mut self) {
        self.nodes.clear();
        self.tracked.clear();
        self.used = false;
    }

    fn follows(&self, t: &Tensor) -> bool {
        self.tracked.contains(&t.id()) || (self.watch_accessed_variables && t.is_trainable_variable())
    }
}

/// Make `tape` active on this thread (entering `with GradientTape()`).
pub fn push(tape: &TapeRef) {
    ACTIVE.with(|a| a.borrow_mut().push(tape.clone()));
}

/// Deactivate `tape` (leaving its `with` block).
pub fn pop(tape: &TapeRef) {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        if let Some(i) = a.iter().rposition(|t| Arc::ptr_eq(t, tape)) {
            a.remove(i);
        }
    });
}

/// True when an op on this thread could be recorded.
#[inline]
pub fn is_recording() -> bool {
    PAUSED.with(|p| p.get() == 0) && ACTIVE.with(|a| !a.borrow().is_empty())
}

/// Pauses recording on this thread while alive (`tape.stop_recording()`, and the backward walk).
pub struct StopRecording(());

impl StopRecording {
    pub fn new() -> StopRecording {
        pause();
        StopRecording(())
    }
}

/// Pause recording on this thread until the matching `resume` (nests).
pub fn pause() {
    PAUSED.with(|p| p.set(p.get() + 1));
}

/// Undo one `pause`.
pub fn resume() {
    PAUSED.with(|p| p.set(p.get().saturating_sub(1)));
}

impl Default for StopRecording {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for StopRecording {
    fn drop(&mut self) {
        resume();
    }
}

/// Record `output = op(inputs)` on every active tape that follows one of the inputs.
/// `make` builds the backward rule; it runs only if some tape records.
#[inline]
pub fn record(inputs: &[&Tensor], output: &Tensor, make: impl FnOnce() -> Arc<dyn Backward>) {
    if !is_recording() {
        return;
    }
    ACTIVE.with(|active| {
        let mut op: Option<Arc<dyn Backward>> = None;
        let mut make = Some(make);
        for tape in active.borrow().iter() {
            let mut tape = lock(tape);
            if !inputs.iter().any(|t| tape.follows(t)) {
                continue;
            }
            let op = op.get_or_insert_with(|| (make.take().expect("built once"))()).clone();
            for t in inputs {
                if t.is_trainable_variable() && tape.watch_accessed_variables {
                    tape.tracked.insert(t.id());
                }
            }
            tape.tracked.insert(output.id());
            tape.nodes.push(Node { op, inputs: inputs.iter().map(|t| t.id()).collect(), output: output.id() });
        }
    });
}

/// Gradients of the sum of `targets` with respect to `sources` (ids). `seeds` are the
/// output gradients (default: ones). Unconnected sources get `None`.
pub fn gradient(
    tape: &TapeRef,
    targets: &[Tensor],
    sources: &[TensorId],
    seeds: Option<&[Tensor]>,
) -> Result<Vec<Option<Tensor>>> {
    let _pause = StopRecording::new();
    let mut guard = lock(tape);
    if guard.used && !guard.persistent {
        return Err(Error::Value(
            "GradientTape.gradient can only be called once on non-persistent tapes. \
             Create the tape with persistent=True to compute several gradients."
                .into(),
        ));
    }
    guard.used = true;
    // A non-persistent tape gives up its nodes, so saved tensors are freed as the walk proceeds.
    let owned_nodes;
    let nodes: &[Node] = if guard.persistent {
        &guard.nodes
    } else {
        owned_nodes = std::mem::take(&mut guard.nodes);
        &owned_nodes
    };

    // Sources the tape never followed (unwatched tensors, non-trainable variables) get None.
    let followed: Vec<TensorId> = sources.iter().copied().filter(|s| guard.tracked.contains(s)).collect();
    // Forward pass over the tape: which values depend on a source.
    let mut leads: HashSet<TensorId> = followed.iter().copied().collect();
    let relevant: Vec<bool> = nodes
        .iter()
        .map(|n| {
            let r = n.inputs.iter().any(|i| leads.contains(i));
            if r {
                leads.insert(n.output);
            }
            r
        })
        .collect();

    let source_set: HashSet<TensorId> = followed.iter().copied().collect();
    let mut grads: HashMap<TensorId, Tensor> = HashMap::new();
    if let Some(seeds) = seeds {
        if seeds.len() != targets.len() {
            return Err(Error::Value(format!(
                "gradient: received {} output_gradients for {} targets",
                seeds.len(),
                targets.len()
            )));
        }
    }
    for (i, t) in targets.iter().enumerate() {
        let seed = match seeds {
            Some(s) => {
                if s[i].shape() != t.shape() {
                    return Err(Error::Shape(format!(
                        "gradient: output_gradients[{i}] has shape {:?}, expected the target's shape {:?}",
                        s[i].shape(),
                        t.shape()
                    )));
                }
                s[i].to_dtype(t.dtype())
            }
            None => Tensor::ones(t.shape(), t.dtype()),
        };
        accumulate(&mut grads, t.id(), seed)?;
    }

    for (node, &rel) in nodes.iter().zip(&relevant).rev() {
        if !rel {
            continue;
        }
        let g = if source_set.contains(&node.output) {
            match grads.get(&node.output) {
                Some(g) => g.clone(),
                None => continue,
            }
        } else {
            match grads.remove(&node.output) {
                Some(g) => g,
                None => continue,
            }
        };
        let needs: Vec<bool> = node.inputs.iter().map(|i| leads.contains(i)).collect();
        let input_grads = node.op.backward(&g, &needs)?;
        for ((id, gi), need) in node.inputs.iter().zip(input_grads).zip(needs) {
            if let (Some(gi), true) = (gi, need) {
                accumulate(&mut grads, *id, gi)?;
            }
        }
    }
    Ok(sources.iter().map(|s| if source_set.contains(s) { grads.get(s).cloned() } else { None }).collect())
}

fn accumulate(grads: &mut HashMap<TensorId, Tensor>, id: TensorId, g: Tensor) -> Result<()> {
    match grads.remove(&id) {
        Some(prev) => {
            let sum = crate::ops::add(&prev, &g)?;
            grads.insert(id, sum);
        }
        None => {
            grads.insert(id, g);
        }
    }
    Ok(())
}
