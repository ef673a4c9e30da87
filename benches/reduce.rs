//! Criterion benchmarks of the reduce kernels (`cargo bench --bench reduce`).

use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let _ = c;
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
