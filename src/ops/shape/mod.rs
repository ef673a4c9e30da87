//! Layout ops: expand_dims, squeeze, concatenate, stack, split, slicing, take, one_hot, pad,
//! tile, repeat, creation ops; one module per op.
