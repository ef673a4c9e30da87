//! Criterion benchmarks of the convolution, pooling and recurrent kernels at the shapes of the
//! cnn / lstm / gru workloads of `benches/compare.py` (`cargo bench --bench nn`), and of the cnn's
//! inference as a native chain runs it. Throughput is in floating-point operations (criterion
//! prints it as elements/s: read as FLOP/s; for max pooling, input elements), counted as a
//! direct convolution's even where Winograd does fewer (effective FLOP/s).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkeras::autograd::{self, Tape};
use rkeras::ops::{self, Activation, CellActivation, CellKind, ConvSpec, PoolMode, RnnSpec};
use rkeras::Tensor;

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0) * 0.1).collect();
    Tensor::from_vec(v, shape).unwrap()
}

/// Gradients of sum(f()) with respect to `sources` (a fresh tape per iteration).
fn backward(sources: &[&Tensor], f: impl Fn() -> Tensor) -> Vec<Option<Tensor>> {
    let tape = Tape::new(false, false);
    for s in sources {
        tape.lock().unwrap().watch(s);
    }
    autograd::push(&tape);
    let y = ops::sum(&f(), None, false).unwrap();
    autograd::pop(&tape);
    autograd::gradient(&tape, &[y], &sources.iter().map(|s| s.id()).collect::<Vec<_>>(), None).unwrap()
}

fn bench_conv(c: &mut Criterion, name: &str, x_shape: [usize; 4], k: usize, filters: usize, input_grad: bool) {
    let (n, h, w, ch) = (x_shape[0], x_shape[1], x_shape[2], x_shape[3]);
    let x = tensor(&x_shape, 1);
    let kernel = tensor(&[k, k, ch, filters], 2);
    let bias = tensor(&[filters], 3);
    let spec = ConvSpec { strides: vec![1, 1], dilation: vec![1, 1], padding: vec![(0, 0), (0, 0)], groups: 1 };
    let flops = 2 * n * (h - k + 1) * (w - k + 1) * filters * k * k * ch;
    let mut g = c.benchmark_group("conv2d_f32");
    g.throughput(Throughput::Elements(flops as u64));
    g.bench_function(BenchmarkId::new("forward_relu", name), |b| b.iter(|| ops::conv(&x, &kernel, Some(&bias), &spec, Activation::Relu).unwrap()));
    if ch > 1 {
        // The same convolution by direct sums (this one takes Winograd in `forward_relu`).
        ops::set_winograd(false);
        g.bench_function(BenchmarkId::new("forward_relu_direct", name), |b| b.iter(|| ops::conv(&x, &kernel, Some(&bias), &spec, Activation::Relu).unwrap()));
        ops::set_winograd(true);
    }
    // Backward: dkernel (+ dx unless this is the first layer) on top of the forward.
    g.throughput(Throughput::Elements((flops * if input_grad { 3 } else { 2 }) as u64));
    let sources: Vec<&Tensor> = if input_grad { vec![&x, &kernel, &bias] } else { vec![&kernel, &bias] };
    g.bench_function(BenchmarkId::new("forward_backward_relu", name), |b| b.iter(|| backward(&sources, || ops::conv(&x, &kernel, Some(&bias), &spec, Activation::Relu).unwrap())));
    g.finish();
}

fn bench_pool(c: &mut Criterion) {
    let x = tensor(&[128, 26, 26, 32], 4);
    let mut g = c.benchmark_group("max_pool2d_f32");
    g.throughput(Throughput::Elements(x.numel() as u64));
    g.bench_function("forward_128x26x26x32", |b| b.iter(|| ops::pool(&x, &[2, 2], &[2, 2], &[(0, 0), (0, 0)], PoolMode::Max).unwrap()));
    g.bench_function("forward_backward_128x26x26x32", |b| b.iter(|| backward(&[&x], || ops::pool(&x, &[2, 2], &[2, 2], &[(0, 0), (0, 0)], PoolMode::Max).unwrap())));
    g.finish();
}

/// Inference of the cnn workload's layers as `NativeChain` runs them: conv + max pool fused
/// (`conv_max_pool`), then flatten and the two dense layers; at batch 1 and 32.
fn bench_cnn_inference(c: &mut Criterion) {
    let spec = ConvSpec { strides: vec![1, 1], dilation: vec![1, 1], padding: vec![(0, 0), (0, 0)], groups: 1 };
    let (k1, b1, k2, b2) = (tensor(&[3, 3, 1, 32], 11), tensor(&[32], 12), tensor(&[3, 3, 32, 64], 13), tensor(&[64], 14));
    let (w3, b3, w4, b4) = (tensor(&[1600, 128], 15), tensor(&[128], 16), tensor(&[128, 10], 17), tensor(&[10], 18));
    let mut g = c.benchmark_group("cnn_inference_f32");
    for batch in [1, 32] {
        let x = tensor(&[batch, 28, 28, 1], 19);
        let h1 = ops::conv_max_pool(&x, &k1, Some(&b1), &spec, Activation::Relu, &[2, 2]).unwrap();
        // Conv FLOPs actually computed (the pooling drops conv2's last row and column).
        let (flops1, flops2) = (2 * batch * 26 * 26 * 32 * 9, 2 * batch * 10 * 10 * 64 * 288);
        g.throughput(Throughput::Elements(flops1 as u64));
        g.bench_function(BenchmarkId::new("conv1_max_pool", batch), |b| b.iter(|| ops::conv_max_pool(&x, &k1, Some(&b1), &spec, Activation::Relu, &[2, 2]).unwrap()));
        g.throughput(Throughput::Elements(flops2 as u64));
        g.bench_function(BenchmarkId::new("conv2_max_pool", batch), |b| b.iter(|| ops::conv_max_pool(&h1, &k2, Some(&b2), &spec, Activation::Relu, &[2, 2]).unwrap()));
        g.throughput(Throughput::Elements((flops1 + flops2 + 2 * batch * (1600 * 128 + 128 * 10)) as u64));
        g.bench_function(BenchmarkId::new("whole_model", batch), |b| {
            b.iter(|| {
                let h = ops::conv_max_pool(&x, &k1, Some(&b1), &spec, Activation::Relu, &[2, 2]).unwrap();
                let h = ops::conv_max_pool(&h, &k2, Some(&b2), &spec, Activation::Relu, &[2, 2]).unwrap();
                let h = ops::reshape(&h, &[batch, 1600]).unwrap();
                let h = ops::dense(&h, &w3, Some(&b3), Activation::Relu).unwrap();
                ops::dense(&h, &w4, Some(&b4), Activation::Softmax).unwrap()
            })
        });
    }
    g.finish();
}

fn bench_rnn(c: &mut Criterion, cell: CellKind, name: &str) {
    let (b, t, d, u) = (64, 50, 32, 128);
    let gates = match cell {
        CellKind::Lstm => 4,
        CellKind::Gru { .. } => 3,
        CellKind::Simple => 1,
    };
    let x = tensor(&[b, t, d], 5);
    let kernel = tensor(&[d, gates * u], 6);
    let recurrent = tensor(&[u, gates * u], 7);
    let bias = if matches!(cell, CellKind::Gru { reset_after: true }) { tensor(&[2, gates * u], 8) } else { tensor(&[gates * u], 8) };
    let h0 = tensor(&[b, u], 9);
    let c0 = (cell == CellKind::Lstm).then(|| tensor(&[b, u], 10));
    let spec = RnnSpec { cell, activation: CellActivation::Tanh, recurrent_activation: CellActivation::Sigmoid, go_backwards: false, zero_output_for_mask: false };
    let run = || ops::rnn(&x, &kernel, &recurrent, Some(&bias), &h0, c0.as_ref(), None, None, spec).unwrap();
    let flops = 2 * b * t * gates * u * (d + u);
    let mut g = c.benchmark_group("rnn_sequence_f32");
    g.throughput(Throughput::Elements(flops as u64));
    g.bench_function(BenchmarkId::new("forward", name), |bench| bench.iter(run));
    // Backward as in the workload: weights and bias, not the (input-layer) x.
    g.throughput(Throughput::Elements((2 * flops) as u64));
    g.bench_function(BenchmarkId::new("forward_backward", name), |bench| bench.iter(|| backward(&[&kernel, &recurrent, &bias], run)));
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_conv(c, "128x28x28x1_k3_32", [128, 28, 28, 1], 3, 32, false);
    bench_conv(c, "128x13x13x32_k3_64", [128, 13, 13, 32], 3, 64, true);
    bench_pool(c);
    bench_cnn_inference(c);
    bench_rnn(c, CellKind::Lstm, "lstm_64x50x32_128");
    bench_rnn(c, CellKind::Gru { reset_after: true }, "gru_64x50x32_128");
}

criterion_group! {
    name = nn;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(nn);
