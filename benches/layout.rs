//! Criterion benchmarks of the copying layout kernels (`cargo bench --bench layout`): take
//! (select) and its scatter-add backward, concatenate, and a transposed copy; bytes per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rkeras::autograd::{self, Tape};
use rkeras::{ops, Tensor};

fn benches(c: &mut Criterion) {
    let x = Tensor::from_vec((0..1 << 20).map(|i| i as f32).collect::<Vec<f32>>(), &[1024, 1024]).expect("shape");
    let idx = Tensor::from_vec((0..1024i64).map(|i| (i * 7) % 1024).collect::<Vec<i64>>(), &[1024]).expect("shape");
    let mut g = c.benchmark_group("layout_f32_1024x1024");
    g.throughput(Throughput::Bytes(4 << 20));
    g.bench_function("take_rows", |b| b.iter(|| ops::take(&x, &idx, Some(0)).expect("take")));
    g.bench_function("take_columns", |b| b.iter(|| ops::take(&x, &idx, Some(1)).expect("take")));
    g.bench_function("take_columns_backward", |b| {
        b.iter(|| {
            let tape = Tape::new(false, true);
            tape.lock().expect("tape").watch(&x);
            autograd::push(&tape);
            let y = ops::take(&x, &idx, Some(1)).expect("take");
            autograd::pop(&tape);
            autograd::gradient(&tape, &[y], &[x.id()], None).expect("gradient")
        })
    });
    g.bench_function("concatenate_axis1", |b| b.iter(|| ops::concatenate(&[x.clone(), x.clone()], 1).expect("concatenate")));
    g.bench_function("transpose_copy", |b| b.iter(|| ops::transpose(&x, None).expect("transpose").contiguous()));
    g.finish();
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
