//! Criterion benchmarks of Philox-based generation (`cargo bench --bench random`): 1M f32 values
//! of uniform and normal, and dropout of a 1M-element tensor; elements per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rkeras::{ops, DType, Tensor};

const N: usize = 1 << 20;

fn benches(c: &mut Criterion) {
    let x = Tensor::ones(&[N], DType::F32);
    let mut g = c.benchmark_group("random_f32_1M");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("uniform", |b| b.iter(|| ops::uniform(&[N], 0.0, 1.0, DType::F32, 7).expect("uniform")));
    g.bench_function("normal", |b| b.iter(|| ops::normal(&[N], 0.0, 1.0, DType::F32, 7).expect("normal")));
    g.bench_function("dropout", |b| b.iter(|| ops::dropout(&x, 0.5, None, 7).expect("dropout")));
    g.finish();
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
