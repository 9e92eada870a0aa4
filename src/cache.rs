//! Cache hints: reads announced ahead of time, so that the memory latency of a row read at
//! random overlaps with other work. Hints only: results never depend on them.

/// Asks for the cache lines of `data` to be loaded (a no-op where the hint is not
/// available).
#[inline(always)]
pub fn prefetch<T: ?Sized>(data: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = data as *const T as *const u8;
        let len = std::mem::size_of_val(data);
        let mut offset = 0;
        while offset < len {
            // SAFETY: prefetching has no effect on memory and cannot fault; the addresses
            // are inside `data` anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset) as *const i8) };
            offset += 64;
        }
        // The last line, when `data` does not start on a line boundary.
        if len > 0 && (start as usize % 64) + len > offset {
            // SAFETY: as above.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(len - 1) as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
