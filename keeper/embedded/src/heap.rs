//! What the program allocates, as the SBF heap would see it. On SBF the program's heap is a
//! 32 KiB bump allocator that never frees, so an instruction fails once the bytes it has
//! allocated, in total, pass 32 KiB. Natively the program allocates from the process
//! allocator; [`CountingAlloc`], installed as a test binary's global allocator, adds up the
//! bytes allocated on this thread while the program's own code runs (the embedded runtime
//! marks `aidx::entry` and pauses inside every syscall stub: CPIs into the SPL programs, logs,
//! events and sysvar reads are the runtime's work, not the program's heap).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The SBF program heap: 32 KiB.
pub const SBF_HEAP_BYTES: u64 = 32 * 1024;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// A global allocator that counts the bytes the program allocates (see the module docs);
/// install it with `#[global_allocator]` in a test binary.
pub struct CountingAlloc;

fn count(bytes: usize) {
    let _ = ACTIVE.try_with(|a| {
        if a.get() {
            let _ = BYTES.try_with(|b| b.set(b.get().saturating_add(bytes as u64)));
        }
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting only reads and
// writes const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A bump allocator grows by allocating the new size and copying.
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Marks whether the program's own code is running on this thread; returns the previous mark.
pub(crate) fn set_active(active: bool) -> bool {
    ACTIVE.with(|a| a.replace(active))
}

/// Runs `f` (a syscall stub: the runtime's work) with counting paused.
pub(crate) fn paused<R>(f: impl FnOnce() -> R) -> R {
    let was = set_active(false);
    let r = f();
    set_active(was);
    r
}

/// The bytes the program allocated on this thread since the last call, and resets the count.
/// Zero unless [`CountingAlloc`] is the global allocator.
pub fn take() -> u64 {
    BYTES.with(|b| b.replace(0))
}
