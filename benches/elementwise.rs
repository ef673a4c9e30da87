//! Criterion benchmarks of the elementwise kernels (`cargo bench --bench elementwise`): f32
//! activations on 1M elements and a broadcast add, in elements per second. Single-threaded, so
//! the numbers measure the kernels (AVX2 vs `RKERAS_SIMD=scalar`), not the machine's load.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rkeras::tensor::Tensor;
use rkeras::{ops, runtime};

const N: usize = 1 << 20;

fn input(n: usize) -> Tensor {
    let v: Vec<f32> = (0..n).map(|i| ((i * 7919) % 20011) as f32 / 20011.0 * 16.0 - 8.0).collect();
    Tensor::from_vec(v, &[n]).expect("valid shape")
}

fn benches(c: &mut Criterion) {
    runtime::set_num_threads(1);
    let x = input(N);
    let mut g = c.benchmark_group(format!("elementwise_f32_{}", runtime::simd::active()));
    g.throughput(Throughput::Elements(N as u64));
    type Op = fn(&Tensor) -> rkeras::Result<Tensor>;
    let unary: [(&str, Op); 5] = [
        ("exp", ops::exp),
        ("tanh", ops::tanh),
        ("sigmoid", ops::sigmoid),
        ("gelu", |t| ops::gelu(t, true)),
        ("relu", ops::relu),
    ];
    for (name, f) in unary {
        g.bench_function(name, |b| b.iter(|| f(&x).expect("op runs")));
    }
    let a = input(N).view(rkeras::tensor::Layout::contiguous(&[1024, 1024])).expect("same size");
    let row = input(1024);
    g.bench_function("add_broadcast_1024x1024+1024", |b| b.iter(|| ops::add(&a, &row).expect("op runs")));
    g.finish();
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
