//! A global allocator for binaries that build large sellerlink indexes: the system allocator,
//! with every block of at least [`THRESHOLD`] bytes advised to use transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`) on Linux.
//!
//! **Why.** A build's big arrays (interner tables and arenas, the graph's CSR arrays, the
//! evidence's per-artifact state) are read at random. With 4 KiB pages, every random read into
//! a few gigabytes also misses the TLB, and at 100M observations the page walks cost more than
//! the work: on a 2-core machine with THP in `madvise` mode (Debian's default), this allocator
//! took `cluster` on 100M observations from 211 s to 137 s with byte-identical output (see
//! BENCHMARKS.md). Small blocks are left alone, so small programs pay nothing.
//!
//! The library itself allocates through whatever global allocator the program chose (and
//! keeps `unsafe` out of its own code); a binary opts in with two lines:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: sellerlink_hugepages::HugePages = sellerlink_hugepages::HugePages;
//!
//! let v = vec![0u64; 1 << 20]; // 8 MiB: advised
//! assert_eq!(v.len(), 1 << 20);
//! ```
//!
//! Elsewhere than Linux it is the system allocator unchanged. When the kernel has THP off
//! (`never`), the advice is ignored; in `always` mode it is redundant. Memory use does not grow
//! measurably: only blocks of 2 MiB and more are advised, and a huge page is at most 2 MiB of
//! such a block's unused tail.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of at least this many bytes are advised to use huge pages (2 MiB, one huge page).
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink_hugepages::THRESHOLD, 2 << 20);
/// ```
pub const THRESHOLD: usize = 2 << 20;

/// The system allocator, with large blocks advised to use transparent huge pages; see the
/// [crate docs](crate).
///
/// # Examples
///
/// ```
/// #[global_allocator]
/// static ALLOC: sellerlink_hugepages::HugePages = sellerlink_hugepages::HugePages;
/// let big: Vec<u32> = (0..2_000_000).collect();
/// assert_eq!(big[1_999_999], 1_999_999);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HugePages;

/// Advises the whole pages of `[ptr, ptr + size)` to use huge pages (Linux only; a no-op for
/// small blocks, a null pointer or another system).
#[inline]
fn advise(ptr: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= THRESHOLD && !ptr.is_null() {
        const PAGE: usize = 4096;
        let start = (ptr as usize).div_ceil(PAGE) * PAGE;
        let end = (ptr as usize + size) / PAGE * PAGE;
        if end > start {
            // SAFETY: the range lies inside a block this allocator just handed out (whole
            // pages only), and MADV_HUGEPAGE only changes how the kernel backs it, never its
            // contents. A failure (THP unsupported) leaves the block as it was.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns
// its result; `advise` only passes the kernel a hint about the returned block.
unsafe impl GlobalAlloc for HugePages {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given (the caller upholds `GlobalAlloc::alloc`'s contract).
        let ptr = unsafe { System.alloc(layout) };
        advise(ptr, layout.size());
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        advise(ptr, layout.size());
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's, per `GlobalAlloc::realloc`.
        let out = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size > layout.size() {
            advise(out, new_size);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_through_the_system_allocator() {
        let a = HugePages;
        for size in [2usize, 4095, THRESHOLD - 1, THRESHOLD, 3 * THRESHOLD + 17] {
            let layout = Layout::from_size_align(size, 8).expect("valid layout");
            // SAFETY: a non-zero layout; the block is written within bounds, read back, grown
            // with its layout and freed with the grown one.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert_eq!(*p.add(size - 1), 0, "zeroed");
                *p = 7;
                *p.add(size - 1) = 9;
                let q = a.realloc(p, layout, size * 2);
                assert!(!q.is_null());
                assert_eq!((*q, *q.add(size - 1)), (7, 9), "realloc keeps the contents");
                a.dealloc(q, Layout::from_size_align(size * 2, 8).expect("valid layout"));
            }
        }
    }
}
