//! The memory a script's evaluation holds, counted by the allocator itself.
//!
//! Rhai's size limits look at one string, array or map at a time: a map of 20,000 entries
//! that all share one 1 MiB string passes them, and so does a loop that hands obsbuild's own
//! functions (`svc.set`, `service`) value after value to keep. Counting at the allocator sees
//! everything the evaluation thread holds, whoever allocated it, so the sandbox can stop a
//! script at a budget (see `sandbox.rs`) long before the machine runs out.
//!
//! Each thread counts its own bytes: allocations add, frees subtract. The evaluation runs on
//! a thread of its own, so its count is what the script holds.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

// mimalloc, not the C library's: a build is a great many small allocations (Cargo.toml).
use mimalloc::MiMalloc as Inner;

/// The process's allocator, counting bytes per thread.
pub struct Counting;

thread_local! {
    // `const` and without a destructor: reading it never allocates, so the allocator may.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_add(delta)));
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `Inner` unchanged and only adds bookkeeping that neither
// allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as it is.
        let ptr = unsafe { Inner.alloc(layout) };
        if !ptr.is_null() {
            add(signed(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { Inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(signed(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { Inner.dealloc(ptr, layout) };
        add(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let new = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add(signed(new_size) - signed(layout.size()));
        }
        new
    }
}

/// Bytes the calling thread has allocated and not freed (memory it frees that another
/// thread allocated counts against it, so compare two readings of one thread).
pub fn live() -> isize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_what_this_thread_holds() {
        std::thread::spawn(|| {
            let before = super::live();
            let block = vec![0u8; 10 << 20];
            assert!(super::live() - before >= 10 << 20);
            drop(block);
            assert!(super::live() - before < 1 << 20);
        })
        .join()
        .unwrap();
    }
}
