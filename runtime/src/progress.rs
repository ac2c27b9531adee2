//! How far the running cell's outermost loop is, for the progress line a long cell shows.
//!
//! The session owns one [`Progress`] per running cell and reads it from its own thread a few
//! times a second. The compiled code of the cell's top-level `for` loops writes it: the
//! loop's start, step and trip count before it starts, its counter at every iteration of
//! the outer level (one store), and `count = -1` when it ends. A parallel loop (or a
//! threaded whole-array statement) that runs while no such loop is running claims it and
//! counts finished chunks. Plain stores of the counter cost nothing measurable; the reader
//! only ever sees whole 8-byte values.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// Field offsets the generated code writes (`repr(C)`, 8-byte words).
pub const PROGRESS_START_OFFSET: i32 = 0;
pub const PROGRESS_STEP_OFFSET: i32 = 8;
pub const PROGRESS_COUNT_OFFSET: i32 = 16;
pub const PROGRESS_POS_OFFSET: i32 = 24;

#[repr(C)]
pub struct Progress {
    /// The loop's first counter value.
    pub start: AtomicI64,
    /// Its step (never 0 while `count >= 0`).
    pub step: AtomicI64,
    /// Its trip count; -1 when no loop is being followed.
    pub count: AtomicI64,
    /// The counter's current value (a parallel loop: `start` plus finished iterations).
    pub pos: AtomicI64,
}

const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(Progress, start) == PROGRESS_START_OFFSET as usize);
    assert!(offset_of!(Progress, step) == PROGRESS_STEP_OFFSET as usize);
    assert!(offset_of!(Progress, count) == PROGRESS_COUNT_OFFSET as usize);
    assert!(offset_of!(Progress, pos) == PROGRESS_POS_OFFSET as usize);
};

impl Progress {
    pub const fn new() -> Progress {
        Progress {
            start: AtomicI64::new(0),
            step: AtomicI64::new(1),
            count: AtomicI64::new(-1),
            pos: AtomicI64::new(0),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

/// Where contexts that nobody watches (`kiln run` without a terminal, tests, the workers of
/// a parallel loop) write their progress: written, never read.
pub static UNWATCHED: Progress = Progress::new();

impl Progress {
    /// (iterations done, total) of the loop being followed, if any. Read while the loop
    /// runs, the fields may come from two neighbouring moments; the result is clamped.
    pub fn fraction(&self) -> Option<(i64, i64)> {
        let count = self.count.load(Relaxed);
        if count < 0 {
            return None;
        }
        let (start, step, pos) = (
            self.start.load(Relaxed),
            self.step.load(Relaxed),
            self.pos.load(Relaxed),
        );
        if step == 0 {
            return None;
        }
        let done = (pos as i128 - start as i128) / step as i128;
        Some((done.clamp(0, count as i128) as i64, count))
    }

    /// A parallel loop of `n` iterations starts: followed if no loop is. Returns whether it
    /// claimed the progress (then it must call [`Progress::release`] when it ends).
    pub fn claim(&self, n: i64) -> bool {
        if self.count.load(Relaxed) >= 0 {
            return false;
        }
        self.start.store(0, Relaxed);
        self.step.store(1, Relaxed);
        self.pos.store(0, Relaxed);
        self.count.store(n, Relaxed);
        true
    }

    /// `k` more iterations of a claimed parallel loop are done.
    pub fn advance(&self, k: i64) {
        self.pos.fetch_add(k, Relaxed);
    }

    pub fn release(&self) {
        self.count.store(-1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_of_loops_of_either_direction() {
        let p = Progress::default();
        assert_eq!(p.fraction(), None);
        // for i in range(10, 0, -2): 5 iterations; the counter is at 4 -> 3 done.
        p.start.store(10, Relaxed);
        p.step.store(-2, Relaxed);
        p.pos.store(4, Relaxed);
        p.count.store(5, Relaxed);
        assert_eq!(p.fraction(), Some((3, 5)));
        // Past the end (the last increment) reads as all done.
        p.pos.store(-2, Relaxed);
        assert_eq!(p.fraction(), Some((5, 5)));
        // A parallel loop cannot claim it while a serial one is followed...
        assert!(!p.claim(100));
        p.count.store(-1, Relaxed);
        // ...and can when none is.
        assert!(p.claim(100));
        p.advance(30);
        p.advance(20);
        assert_eq!(p.fraction(), Some((50, 100)));
        p.release();
        assert_eq!(p.fraction(), None);
    }
}
