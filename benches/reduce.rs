//! Criterion benchmarks of reductions, softmax and the fused cross-entropy
//! (`cargo bench --bench reduce`); throughput in bytes read.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkeras::{ops, Tensor};

fn data(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| ((i % 97) as f32 - 48.0) * 0.05).collect::<Vec<f32>>(), shape).expect("valid shape")
}

fn benches(c: &mut Criterion) {
    let x = data(&[1024, 1024]);
    let mut g = c.benchmark_group("sum_f32_1024x1024");
    g.throughput(Throughput::Bytes((x.numel() * 4) as u64));
    for (name, axes) in [("all", None), ("axis0", Some(vec![0usize])), ("axis1", Some(vec![1usize]))] {
        g.bench_function(BenchmarkId::from_parameter(name), |b| b.iter(|| ops::sum(&x, axes.as_deref(), false).expect("sum")));
    }
    g.finish();

    let mut g = c.benchmark_group("softmax_f32");
    for shape in [[128usize, 1000], [8192, 128]] {
        let x = data(&shape);
        g.throughput(Throughput::Bytes((x.numel() * 4) as u64));
        g.bench_function(BenchmarkId::from_parameter(format!("{}x{}", shape[0], shape[1])), |b| b.iter(|| ops::softmax(&x, -1).expect("softmax")));
    }
    g.finish();

    let logits = data(&[128, 1000]);
    let target = ops::softmax(&data(&[128, 1000]), -1).expect("softmax");
    let mut g = c.benchmark_group("categorical_crossentropy_logits_f32");
    g.throughput(Throughput::Bytes((logits.numel() * 8) as u64));
    g.bench_function("128x1000", |b| b.iter(|| ops::categorical_crossentropy(&target, &logits, true, -1).expect("xent")));
    g.finish();
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
