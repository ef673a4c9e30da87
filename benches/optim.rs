//! Criterion benchmarks of the fused optimizer update (`cargo bench --bench optim`): every rule
//! updating ~1M f32 parameters spread over a small convnet + MLP's variables (conv kernels, dense
//! kernels, biases, norm scales) in one call, and, for scale, this machine's memory bandwidth.
//!
//! Throughput is the bytes a rule must move once per step: parameters read and written, gradients
//! read, every slot variable read and written. Rules with per-variable reductions (Lamb,
//! Adafactor) re-read some of these in later passes; that extra traffic is not counted, so their
//! bytes/s show what the passes cost. The working sets (parameters, gradients and slots: 12–16
//! MB) fit this machine's 32 MB L3, hence `stream_triad` at the same size (cache) and at 384 MB
//! (DRAM).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rkeras::optim::{self, Rule, VarUpdate};
use rkeras::runtime::par_chunks_mut;

/// The variables: 3×3 conv kernels 3→32→64→128, dense 2048→256 (the flattened features), two
/// 256×256 and 128×512 recurrent-sized kernels, a 1024×256 embedding-like table, a 256→10 head,
/// their biases and batch-norm scales: 1,014,602 parameters.
const SHAPES: [&[usize]; 18] = [
    &[3, 3, 3, 32],
    &[32],
    &[3, 3, 32, 64],
    &[64],
    &[64],
    &[3, 3, 64, 128],
    &[128],
    &[128],
    &[2048, 256],
    &[256],
    &[256, 256],
    &[256],
    &[1024, 256],
    &[128, 512],
    &[512],
    &[256, 10],
    &[10],
    &[64],
];

fn rules() -> [(&'static str, Rule); 12] {
    [
        ("sgd_momentum", Rule::Sgd { momentum: 0.9, nesterov: false }),
        ("adam", Rule::Adam { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }),
        ("adamw", Rule::Adam { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }),
        ("rmsprop", Rule::RmsProp { rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false }),
        ("adagrad", Rule::Adagrad { epsilon: 1e-7 }),
        ("adadelta", Rule::Adadelta { rho: 0.95, epsilon: 1e-7 }),
        ("adamax", Rule::Adamax { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 }),
        ("nadam", Rule::Nadam { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, u_product: 0.5 }),
        ("ftrl", Rule::Ftrl { learning_rate_power: -0.5, l1: 0.0, l2: 0.0, l2_shrinkage: 0.0, beta: 0.0 }),
        ("lion", Rule::Lion { beta_1: 0.9, beta_2: 0.99 }),
        ("adafactor", Rule::Adafactor { beta_2_decay: -0.8, epsilon_1: 1e-30, epsilon_2: 1e-3, clip_threshold: 1.0 }),
        ("lamb", Rule::Lamb { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 }),
    ]
}

fn values(n: usize, seed: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0) * scale).collect()
}

fn bench_rules(c: &mut Criterion) {
    let sizes: Vec<usize> = SHAPES.iter().map(|s| s.iter().product()).collect();
    let total: usize = sizes.iter().sum();
    let grads: Vec<Vec<f32>> = sizes.iter().enumerate().map(|(i, &n)| values(n, i + 100, 0.01)).collect();
    let mut g = c.benchmark_group("optimizer_update_f32_1m");
    for (name, rule) in rules() {
        let mut params: Vec<Vec<f32>> = sizes.iter().enumerate().map(|(i, &n)| values(n, i, 0.1)).collect();
        // Slots start positive (accumulators, second moments), as after a few steps.
        let mut slots: Vec<Vec<Vec<f32>>> = SHAPES.iter().map(|s| rule.slot_shapes(s).iter().map(|t| vec![0.1f32; t.iter().product()]).collect()).collect();
        let slot_elements: usize = slots.iter().flatten().map(Vec::len).sum();
        let weight_decay = if name == "adamw" { 0.004 } else { 0.0 };
        g.throughput(Throughput::Bytes((4 * (3 * total + 2 * slot_elements)) as u64));
        g.bench_function(name, |bench| {
            bench.iter(|| {
                let updates = params
                    .iter_mut()
                    .zip(&grads)
                    .zip(slots.iter_mut())
                    .zip(SHAPES)
                    .map(|(((p, g), s), shape)| VarUpdate { param: p, grad: g, slots: s.iter_mut().map(|v| v.as_mut_slice()).collect(), shape: shape.to_vec(), weight_decay })
                    .collect();
                optim::apply(rule, 1e-3, 10, updates).expect("shapes match")
            })
        });
    }
    g.finish();
}

/// `a = b + s·c` over the kernels' thread pool (3 streams: 2 read, 1 written), and a
/// single-threaded `memcpy`, at the optimizer's working-set size and far beyond the L3.
fn bench_bandwidth(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_bandwidth");
    for (label, n) in [("12MB", 1 << 20), ("384MB", 32 << 20)] {
        let (b, cc) = (values(n, 1, 1.0), values(n, 2, 1.0));
        let mut a = vec![0.0f32; n];
        g.throughput(Throughput::Bytes((12 * n) as u64));
        g.bench_function(format!("stream_triad_{label}"), |bench| {
            bench.iter(|| {
                par_chunks_mut(&mut a, 1 << 16, |start, out| {
                    let (b, cc) = (&b[start..start + out.len()], &cc[start..start + out.len()]);
                    for ((o, &x), &y) in out.iter_mut().zip(b).zip(cc) {
                        *o = x + 0.5 * y;
                    }
                });
                black_box(&a);
            })
        });
        g.throughput(Throughput::Bytes((8 * n) as u64));
        g.bench_function(format!("memcpy_1_thread_{label}"), |bench| {
            bench.iter(|| {
                a.copy_from_slice(&b);
                black_box(&a);
            })
        });
    }
    g.finish();
}

criterion_group!(kernels, bench_rules, bench_bandwidth);
criterion_main!(kernels);
