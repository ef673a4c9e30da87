//! Criterion benchmarks of the fused dense op (`cargo bench --bench dense`), at the MLP
//! benchmark's shapes (batch 128). The fused optimizer updates are in `benches/optim.rs`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkeras::autograd::{self, Tape};
use rkeras::ops::{self, Activation};
use rkeras::Tensor;

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0) * 0.1).collect();
    Tensor::from_vec(v, shape).unwrap()
}

fn bench_dense(c: &mut Criterion, m: usize, k: usize, n: usize) {
    let (x, w, b) = (tensor(&[m, k], 1), tensor(&[k, n], 2), tensor(&[n], 3));
    let mut g = c.benchmark_group("dense_f32");
    g.throughput(Throughput::Elements((2 * m * n * k) as u64));
    let id = format!("{m}x{k}x{n}");
    g.bench_function(BenchmarkId::new("forward_relu", &id), |bench| bench.iter(|| ops::dense(&x, &w, Some(&b), Activation::Relu).unwrap()));
    g.throughput(Throughput::Elements((3 * 2 * m * n * k) as u64));
    g.bench_function(BenchmarkId::new("forward_backward_relu", &id), |bench| {
        bench.iter(|| {
            let tape = Tape::new(false, false);
            tape.lock().unwrap().watch(&w);
            tape.lock().unwrap().watch(&b);
            autograd::push(&tape);
            let y = ops::sum(&ops::dense(&x, &w, Some(&b), Activation::Relu).unwrap(), None, false).unwrap();
            autograd::pop(&tape);
            autograd::gradient(&tape, &[y], &[w.id(), b.id()], None).unwrap()
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    for (m, k, n) in [(128, 784, 256), (128, 256, 256), (32, 64, 128)] {
        bench_dense(c, m, k, n);
    }
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
