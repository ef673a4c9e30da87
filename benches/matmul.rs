//! Criterion benchmarks of the matmul kernel (`cargo bench --bench matmul`). Throughput is
//! reported in elements = floating-point operations (2·m·n·k), so "Melem/s" reads as MFLOP/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkeras::kernels::gemm::{gemm, Mat};

fn bench_shape(c: &mut Criterion, group: &str, m: usize, k: usize, n: usize) {
    let a: Vec<f32> = (0..m * k).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i % 7) as f32 - 3.0) * 0.1).collect();
    let mut out = vec![0f32; m * n];
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements((2 * m * n * k) as u64));
    if m * n * k >= 512 * 512 * 512 {
        g.sample_size(10);
    }
    g.bench_function(BenchmarkId::from_parameter(format!("{m}x{k}x{n}")), |bench| {
        bench.iter(|| gemm(m, n, k, Mat::row_major(&a, 0, k), Mat::row_major(&b, 0, n), &mut out, 0, n, false, true))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    for n in [64, 128, 256, 512, 1024, 2048] {
        bench_shape(c, "matmul_square_f32", n, n, n);
    }
    // The benchmark workloads' shapes: MLP layers (batch 128), LSTM input projection over 50
    // steps of batch 128, and one LSTM recurrent step (batch 64).
    for (m, k, n) in [(128, 784, 512), (128, 512, 512), (128, 512, 10), (6400, 32, 512), (64, 128, 512)] {
        bench_shape(c, "matmul_workload_f32", m, k, n);
    }
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
