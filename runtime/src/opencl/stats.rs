//! Time and bytes spent on the device, for `%time`: accumulated by every launch and handed
//! out (and reset) by [`take_stats`]. Transfer and kernel times come from the queue's
//! profiling events, so they are the device's own measure, not the host's wait.

use std::sync::Mutex;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuStats {
    /// Building programs, plus the first launch's extra time (PoCL compiles the
    /// work-group function then).
    pub build_ns: u64,
    pub builds: u32,
    /// Launches whose program came from the session's cache.
    pub cached: u32,
    pub to_device_bytes: u64,
    pub to_device_ns: u64,
    pub from_device_bytes: u64,
    pub from_device_ns: u64,
    pub kernel_ns: u64,
    pub launches: u32,
}

static STATS: Mutex<GpuStats> = Mutex::new(GpuStats {
    build_ns: 0,
    builds: 0,
    cached: 0,
    to_device_bytes: 0,
    to_device_ns: 0,
    from_device_bytes: 0,
    from_device_ns: 0,
    kernel_ns: 0,
    launches: 0,
});

/// Adds to the session's totals.
pub(crate) fn add(f: impl FnOnce(&mut GpuStats)) {
    f(&mut STATS.lock().unwrap_or_else(|e| e.into_inner()));
}

/// The totals since the last call, and starts new ones.
pub fn take_stats() -> GpuStats {
    std::mem::take(&mut *STATS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Nanoseconds between a profiled command's start and end (0 when the device gives none).
pub(crate) fn event_ns(e: &opencl3::event::Event) -> u64 {
    match (e.profiling_command_start(), e.profiling_command_end()) {
        (Ok(s), Ok(t)) => t.saturating_sub(s),
        _ => 0,
    }
}
