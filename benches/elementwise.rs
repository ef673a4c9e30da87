//! Criterion benchmarks of the elementwise kernels (`cargo bench --bench elementwise`).

use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let _ = c;
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
