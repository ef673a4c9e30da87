//! One rayon pool for all kernels, built lazily. Size: `set_num_threads(n)`, else
//! `RKERAS_NUM_THREADS`, else the available cores. A forked child gets a fresh pool: rayon's
//! workers do not survive `fork`, and joining the parent's dead pool would hang, so it is leaked.
//!
//! Kernels never use rayon's global pool: every parallel loop goes through `par_chunks_mut` or
//! `par_ranges`, which run inline below their work threshold and inside this pool above it.
//! Chunk boundaries depend only on the problem size, never on the thread count, so results are
//! the same for any number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use rayon::prelude::*;

struct PoolState {
    generation: usize,
    pool: Arc<rayon::ThreadPool>,
}

static POOL: Mutex<Option<PoolState>> = Mutex::new(None);
/// 0 = not set by the user (use env or cores).
static REQUESTED: AtomicUsize = AtomicUsize::new(0);
/// Bumped in the child after each fork.
static FORK_GENERATION: AtomicUsize = AtomicUsize::new(0);
static ATFORK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// `RKERAS_NUM_THREADS`, else the available cores. Computed once: `available_parallelism` reads
/// cgroup files on Linux (tens of microseconds), far too slow to ask on every kernel call.
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        if let Some(n) = std::env::var("RKERAS_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
            if n > 0 {
                return n;
            }
        }
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    })
}

/// Number of threads kernels use.
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Change the pool size (takes effect on the next parallel kernel). `0` restores the default.
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n, Ordering::Relaxed);
    let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(old) = guard.take() {
        if old.generation != FORK_GENERATION.load(Ordering::SeqCst) {
            std::mem::forget(old); // a pre-fork pool: its threads are gone, never join it
        }
    }
}

fn pool() -> Arc<rayon::ThreadPool> {
    ATFORK.call_once(|| {
        #[cfg(unix)]
        // SAFETY: registering a plain extern "C" handler that only touches an atomic.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
    let generation = FORK_GENERATION.load(Ordering::SeqCst);
    let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(state) = guard.as_ref() {
        if state.generation == generation {
            return state.pool.clone();
        }
        std::mem::forget(guard.take());
    }
    let n = num_threads();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("rkeras-{i}"))
        .build()
        .map(Arc::new)
        .unwrap_or_else(|_| {
            // Could not spawn threads (e.g. a sandbox limit): run single-threaded rather than fail.
            Arc::new(rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().expect("single-thread pool"))
        });
    *guard = Some(PoolState { generation, pool: pool.clone() });
    pool
}

/// Run `f` inside the kernel pool (so rayon and gemm's `Rayon(0)` use our threads).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f(); // already on a pool thread
    }
    pool().install(f)
}

/// How long the calling thread spins for helpers still busy with their last chunk before it
/// parks. Parking (and being woken by a futex) costs several microseconds, as long as a whole
/// small kernel; spinning this briefly keeps back-to-back small kernels cheap.
const CALLER_SPIN: Duration = Duration::from_micros(100);

/// Call `f(i)` for every `i` in `0..count`, spread over the pool. The calling thread takes part
/// (it is the one that would otherwise sleep until the pool is done): it and up to
/// `threads - 1` helpers each take the next index from a shared counter until none is left.
/// Which thread runs which index varies; what each index computes does not.
fn for_each_index(count: usize, f: &(dyn Fn(usize) + Sync)) {
    let threads = num_threads();
    if count <= 1 || threads == 1 {
        (0..count).for_each(f);
        return;
    }
    if rayon::current_thread_index().is_some() {
        // Already inside a parallel kernel (e.g. gemm's workers): let rayon balance the work.
        (0..count).into_par_iter().for_each(f);
        return;
    }
    let next = AtomicUsize::new(0);
    let helpers = (threads - 1).min(count - 1);
    let busy = AtomicUsize::new(helpers);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            break;
        }
        f(i);
    };
    pool().in_place_scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| {
                work();
                busy.fetch_sub(1, Ordering::Release);
            });
        }
        work();
        let start = Instant::now();
        while busy.load(Ordering::Acquire) != 0 && start.elapsed() < CALLER_SPIN {
            std::hint::spin_loop();
        }
    });
}

/// A raw pointer that may cross threads: `par_chunks_mut` hands each chunk to exactly one call.
struct SharedMut<T>(*mut T);
// SAFETY: only used to rebuild disjoint sub-slices, each touched by one thread (see below).
unsafe impl<T: Send> Sync for SharedMut<T> {}

/// Split `out` into chunks of `chunk` elements and call `f(start_index, chunk)` for each, in
/// parallel when there is more than one chunk and more than one thread.
pub fn par_chunks_mut<T: Send>(out: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    let chunk = chunk.max(1);
    let len = out.len();
    let base = SharedMut(out.as_mut_ptr());
    let base = &base;
    for_each_index(len.div_ceil(chunk), &|i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: `for_each_index` calls each index once, so the ranges are disjoint and inside
        // `out`, which stays mutably borrowed for the whole call.
        let part = unsafe { std::slice::from_raw_parts_mut(base.0.add(start), end - start) };
        f(start, part);
    });
}

/// Call `f` on consecutive ranges of `0..n` of length `chunk` (the last may be shorter), in
/// parallel when there is more than one. Results come back in range order.
pub fn par_ranges<R: Send>(n: usize, chunk: usize, f: impl Fn(Range<usize>) -> R + Sync + Send) -> Vec<R> {
    let chunk = chunk.max(1);
    let count = n.div_ceil(chunk);
    let slots: Vec<Mutex<Option<R>>> = (0..count).map(|_| Mutex::new(None)).collect();
    for_each_index(count, &|i| {
        let result = f(i * chunk..((i + 1) * chunk).min(n));
        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    });
    slots.into_iter().map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every range ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_everything_once() {
        let mut v = vec![0u32; 10_001];
        par_chunks_mut(&mut v, 1000, |start, c| {
            for (i, x) in c.iter_mut().enumerate() {
                *x = (start + i) as u32;
            }
        });
        assert!(v.iter().enumerate().all(|(i, &x)| x as usize == i));
        let sums = par_ranges(10, 3, |r| r.sum::<usize>());
        assert_eq!(sums, vec![3, 12, 21, 9]);
    }
}
