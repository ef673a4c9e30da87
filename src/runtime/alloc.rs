//! The global allocator: the system allocator, plus a small cache of large blocks.
//!
//! A training step allocates the same large buffers (activations, gradients, im2col and
//! recurrent scratch; megabytes each) every step. Freed to the system, each comes back as fresh
//! pages: a page fault and a kernel page clear per 4 KiB, which profiling showed costing about a
//! third of an LSTM layer's forward pass (5,000 faults per call). Blocks of at least `MIN_BLOCK`
//! are therefore rounded up to a multiple of `GRANULE` and, when freed, kept in a fixed table
//! (up to `SLOTS` blocks and `MAX_CACHED` bytes) for the next request of the same size; only
//! when the table is full do they go back to the system. Small allocations are untouched.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;

/// Blocks below this size go straight to the system allocator.
const MIN_BLOCK: usize = 256 << 10;
/// Large sizes are rounded up to a multiple of this, so repeated shapes hit the same entries.
const GRANULE: usize = 64 << 10;
/// Most blocks (and bytes) kept for reuse.
const SLOTS: usize = 64;
const MAX_CACHED: usize = 1 << 30;
/// Alignment of every large block (enough for any SIMD load).
const ALIGN: usize = 64;

struct Cache {
    /// (size, address) of free blocks; size 0 marks an empty slot.
    blocks: [(usize, usize); SLOTS],
    bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache { blocks: [(0, 0); SLOTS], bytes: 0 });

pub struct CachingAllocator;

fn large(layout: Layout) -> Option<Layout> {
    if layout.size() < MIN_BLOCK || layout.align() > ALIGN {
        return None;
    }
    let size = layout.size().div_ceil(GRANULE) * GRANULE;
    Layout::from_size_align(size, ALIGN).ok()
}

fn take(size: usize) -> Option<*mut u8> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let slot = cache.blocks.iter().position(|&(s, _)| s == size)?;
    let (_, addr) = std::mem::take(&mut cache.blocks[slot]);
    cache.bytes -= size;
    Some(addr as *mut u8)
}

/// Keep a freed block; false when the table is full (the caller frees it).
fn keep(size: usize, ptr: *mut u8) -> bool {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.bytes + size > MAX_CACHED {
        return false;
    }
    match cache.blocks.iter().position(|&(s, _)| s == 0) {
        Some(slot) => {
            cache.blocks[slot] = (size, ptr as usize);
            cache.bytes += size;
            true
        }
        None => false,
    }
}

// SAFETY: every block handed out is either fresh from `System` with the rounded layout, or a
// block of exactly that rounded layout returned earlier; `dealloc` recomputes the same rounded
// layout from the caller's layout, so `System` always frees with the layout it allocated.
unsafe impl GlobalAlloc for CachingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match large(layout) {
            Some(big) => take(big.size()).unwrap_or_else(|| System.alloc(big)),
            None => System.alloc(layout),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match large(layout) {
            Some(big) => match take(big.size()) {
                Some(ptr) => {
                    std::ptr::write_bytes(ptr, 0, layout.size());
                    ptr
                }
                None => System.alloc_zeroed(big),
            },
            None => System.alloc_zeroed(layout),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match large(layout) {
            Some(big) => {
                if !keep(big.size(), ptr) {
                    System.dealloc(ptr, big);
                }
            }
            None => System.dealloc(ptr, layout),
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if large(layout).is_none() && large(new_layout).is_none() {
            return System.realloc(ptr, layout, new_size);
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_blocks_are_reused_and_zeroed() {
        let mut a = vec![7u8; 1 << 20];
        a[5] = 9;
        drop(a);
        let b = vec![0u8; 1 << 20];
        // Most likely the same block (another test thread could take it first): zeroed either way.
        assert!(b.iter().all(|&v| v == 0));
        let mut grown: Vec<u32> = Vec::new();
        for i in 0..300_000 {
            grown.push(i);
        }
        assert!(grown.iter().enumerate().all(|(i, &v)| v == i as u32));
    }
}
