//! Criterion benchmarks of the matmul kernels (`cargo bench --bench matmul`).

use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let _ = c;
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
