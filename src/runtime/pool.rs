//! One rayon pool for all kernels, built lazily. Size: `set_num_threads(n)`, else
//! `RKERAS_NUM_THREADS`, else the available cores. A forked child gets a fresh pool: rayon's
//! workers do not survive `fork`, and joining the parent's dead pool would hang, so it is leaked.
//!
//! Kernels never use rayon's global pool: every parallel loop goes through `par_chunks_mut`,
//! `par_ranges` or `par_for_each`, which run inline below their work threshold and otherwise
//! share the work between the calling thread and "hot" helpers (see `Hot`).
//! Chunk boundaries depend only on the problem size, never on the thread count, so results are
//! the same for any number of threads.

use std::cell::{Cell, UnsafeCell};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

struct PoolState {
    generation: usize,
    pool: Arc<rayon::ThreadPool>,
    hot: Arc<Hot>,
}

static POOL: Mutex<Option<PoolState>> = Mutex::new(None);
/// 0 = not set by the user (use env or cores).
static REQUESTED: AtomicUsize = AtomicUsize::new(0);
/// Bumped in the child after each fork.
static FORK_GENERATION: AtomicUsize = AtomicUsize::new(0);
static ATFORK: Once = Once::new();

thread_local! {
    /// True while this thread runs part of a parallel loop: loops nested inside run inline.
    static IN_LOOP: Cell<bool> = const { Cell::new(false) };
}

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

fn pool() -> (Arc<rayon::ThreadPool>, Arc<Hot>) {
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
            return (state.pool.clone(), state.hot.clone());
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
    let hot = Arc::new(Hot::new(pool.current_num_threads()));
    *guard = Some(PoolState { generation, pool: pool.clone(), hot: hot.clone() });
    (pool, hot)
}

// ---- hot helpers ------------------------------------------------------------------------------
//
// Waking a parked thread costs tens to hundreds of microseconds on a virtual machine (the idle
// vCPU has to be rescheduled by the host), longer than most kernels. So a parallel loop is run by
// the calling thread together with helpers that are rayon jobs: after finishing a loop a helper
// spins for `HELPER_SPIN`, ready for the next one, and only then returns its thread to rayon.
// The caller never waits for a helper to start: it takes indices itself, and at the end waits only
// for the helpers that joined (each finishing the index it holds).

/// How long an idle helper keeps waiting for the next loop before giving its thread back, and
/// for how much of that it spins without yielding its core.
const HELPER_SPIN: Duration = Duration::from_millis(2);
const PURE_SPIN: Duration = Duration::from_micros(50);

/// `Hot::state`: the loop's sequence number in the high 32 bits, whether it is open to joiners,
/// and the number of helpers inside it.
const OPEN: u64 = 1 << 31;
const ACTIVE: u64 = OPEN - 1;

/// The loop being run: `f` is borrowed from the caller of `for_each_index`, which does not return
/// before every helper that joined has left.
#[derive(Clone, Copy)]
struct Job {
    f: *const (dyn Fn(usize) + Sync),
    count: usize,
}

struct Hot {
    state: AtomicU64,
    /// Indices taken: from the front by the caller (low 32 bits), from the back by helpers (high
    /// 32 bits). So a loop run again and again (inference) tends to give each core the same
    /// indices, whose data are then still in its cache.
    taken: AtomicU64,
    job: UnsafeCell<Job>,
    /// Helpers currently spinning or working for this pool.
    helpers: AtomicUsize,
    max_helpers: usize,
    /// One loop at a time is shared out; a second caller (another Python thread) runs inline.
    dispatch: Mutex<()>,
    /// A panic caught in a helper, re-raised by the caller.
    panicked: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

// SAFETY: `job` is written only by the caller holding `dispatch` while no helper is inside a loop
// (state closed with no active helper), and read by helpers only after joining an open loop,
// which the caller published with a release store that their acquire CAS observes.
unsafe impl Sync for Hot {}
unsafe impl Send for Hot {}

fn noop(_: usize) {}

impl Hot {
    fn new(threads: usize) -> Hot {
        let f: &'static (dyn Fn(usize) + Sync) = &noop;
        Hot {
            state: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            job: UnsafeCell::new(Job { f, count: 0 }),
            helpers: AtomicUsize::new(0),
            max_helpers: threads.saturating_sub(1),
            dispatch: Mutex::new(()),
            panicked: Mutex::new(None),
        }
    }

    /// Take indices until none is left: the caller from the front, helpers from the back.
    fn work(&self, job: Job, helper: bool) {
        // SAFETY: see `Job`: `f` outlives the loop.
        let f = unsafe { &*job.f };
        let mut taken = self.taken.load(Ordering::Relaxed);
        loop {
            let (front, back) = (taken & 0xFFFF_FFFF, taken >> 32);
            if front + back >= job.count as u64 {
                break;
            }
            let (next, i) = if helper { (taken + (1 << 32), job.count - 1 - back as usize) } else { (taken + 1, front as usize) };
            match self.taken.compare_exchange_weak(taken, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    f(i);
                    taken = self.taken.load(Ordering::Relaxed);
                }
                Err(now) => taken = now,
            }
        }
    }

    /// Make every later `work` call find no index left.
    fn stop(&self) {
        self.taken.store(0x7FFF_FFFF, Ordering::Relaxed);
    }

    /// A helper's life: join each new open loop, and leave after `HELPER_SPIN` without one.
    fn helper(self: Arc<Hot>, mut seen: u64) {
        IN_LOOP.with(|c| c.set(true));
        let mut idle = Instant::now();
        let mut spins = 0u32;
        loop {
            let s = self.state.load(Ordering::Acquire);
            let seq = s >> 32;
            if seq != seen {
                if s & OPEN == 0 {
                    seen = seq; // missed it: the caller already finished that loop
                    continue;
                }
                if self.state.compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Relaxed).is_err() {
                    continue;
                }
                seen = seq;
                // SAFETY: joined an open loop, so `job` is published and stays valid until we leave.
                let job = unsafe { *self.job.get() };
                if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.work(job, true))) {
                    // Stop the others taking more indices; the caller re-raises the panic.
                    self.stop();
                    *self.panicked.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
                }
                self.state.fetch_sub(1, Ordering::Release);
                idle = Instant::now();
                continue;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) {
                let waited = idle.elapsed();
                if waited > HELPER_SPIN {
                    break;
                }
                if waited > PURE_SPIN {
                    // Give the core to other runnable threads (an oversubscribed machine), and
                    // come straight back when there are none.
                    std::thread::yield_now();
                }
            }
            std::hint::spin_loop();
        }
        self.helpers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Closes the loop and waits for the helpers inside it, also when `f` panics on the caller.
struct CloseOnDrop<'a>(&'a Hot);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        let hot = self.0;
        hot.stop();
        hot.state.fetch_and(!OPEN, Ordering::AcqRel);
        // Helpers inside finish the index they hold; one descheduled by the OS may take a while.
        let mut spins = 0u32;
        while hot.state.load(Ordering::Acquire) & ACTIVE != 0 {
            spins = spins.wrapping_add(1);
            if spins > 1 << 12 {
                std::thread::yield_now();
            }
            std::hint::spin_loop();
        }
    }
}

/// Call `f(i)` for every `i` in `0..count`, spread over the pool. The calling thread takes part;
/// which thread runs which index varies, what each index computes does not.
fn for_each_index(count: usize, f: &(dyn Fn(usize) + Sync)) {
    if count <= 1 || num_threads() == 1 || IN_LOOP.with(|c| c.get()) || rayon::current_thread_index().is_some() {
        (0..count).for_each(f);
        return;
    }
    let (pool, hot) = pool();
    let Ok(_dispatch) = hot.dispatch.try_lock() else {
        (0..count).for_each(f); // another thread is sharing out a loop right now
        return;
    };
    // SAFETY (lifetime erasure): `CloseOnDrop` below makes every helper leave before we return.
    let f_static: *const (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f) };
    let seq = (hot.state.load(Ordering::Relaxed) >> 32).wrapping_add(1) & 0xFFFF_FFFF;
    // SAFETY: we hold `dispatch` and the previous loop closed with no helper inside.
    unsafe { *hot.job.get() = Job { f: f_static, count } };
    hot.taken.store(0, Ordering::Relaxed);
    hot.state.store(seq << 32 | OPEN, Ordering::Release);
    let close = CloseOnDrop(&hot);
    let wanted = hot.max_helpers.min(count - 1);
    while hot.helpers.load(Ordering::Acquire) < wanted {
        hot.helpers.fetch_add(1, Ordering::AcqRel);
        let h = hot.clone();
        // A new helper joins the loop just published (it has not seen `seq` yet).
        pool.spawn(move || h.helper(seq.wrapping_sub(1) & 0xFFFF_FFFF));
    }
    IN_LOOP.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hot.work(Job { f: f_static, count }, false)));
    IN_LOOP.with(|c| c.set(false));
    drop(close);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
    let helper_panic = hot.panicked.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(p) = helper_panic {
        std::panic::resume_unwind(p);
    }
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

/// `f` of every item (independent pieces of work, e.g. disjoint slices of the variables an
/// optimizer updates), in parallel when there is more than one; results in item order.
pub fn par_map_mut<P: Send, R: Send>(items: &mut [P], f: impl Fn(&mut P) -> R + Sync + Send) -> Vec<R> {
    if items.len() <= 1 || num_threads() == 1 {
        return items.iter_mut().map(f).collect();
    }
    let slots: Vec<Mutex<Option<&mut P>>> = items.iter_mut().map(|p| Mutex::new(Some(p))).collect();
    let results: Vec<Mutex<Option<R>>> = slots.iter().map(|_| Mutex::new(None)).collect();
    for_each_index(slots.len(), &|i| {
        if let Some(item) = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take() {
            *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(f(item));
        }
    });
    results.into_iter().map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every item ran")).collect()
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

    #[test]
    fn every_index_runs_once_when_taken_from_both_ends() {
        // The caller takes indices from the front and helpers from the back: they meet once.
        for count in [2, 3, 17, 5000] {
            let runs: Vec<std::sync::atomic::AtomicU32> = (0..count).map(|_| std::sync::atomic::AtomicU32::new(0)).collect();
            for_each_index(count, &|i| {
                runs[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1), "{count}");
        }
    }
}
