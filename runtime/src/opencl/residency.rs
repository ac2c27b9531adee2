//! Device copies of host arrays: one buffer per owner array (the array that owns the
//! elements; views share their owner's buffer), on the current device.
//!
//! The host copy is the one that counts. An owner's `host_written` flag is set by every
//! host-side write and cleared here whenever the device copy equals the host copy (after
//! an upload, and after copying a kernel's writes back), so a launch uploads exactly the
//! arrays the host changed since the device last saw them.

use super::devices::DevCtx;
use super::{stats, Fail, GResult};
use crate::array::{Array, DType};
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::types::{cl_mem, CL_BLOCKING};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

struct Copy {
    buf: Buffer<u8>,
    bytes: usize,
    device: usize,
}

type Map = Option<HashMap<usize, Copy>>;

/// Set once any array has had a device copy: until then freeing an array costs one load.
static EVER: AtomicBool = AtomicBool::new(false);
static COPIES: Mutex<Map> = Mutex::new(None);

fn copies() -> MutexGuard<'static, Map> {
    COPIES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Releases the device copy of an owner array that is being freed (only its address is
/// used: `a` need not be readable any more).
pub fn forget(a: *mut Array) {
    if !EVER.load(Ordering::Relaxed) {
        return;
    }
    let gone = copies().as_mut().and_then(|m| m.remove(&(a as usize)));
    // Released outside the lock. opencl3 panics when a release fails; this runs under
    // compiled code's decref, where unwinding must not go, and a leaked buffer is harmless.
    if let Some(c) = gone {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(c)));
    }
}

/// Drops every device copy (the device changed: the buffers belong to the old context).
pub(crate) fn drop_all() {
    let old = copies().take();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(old)));
}

/// Bytes of an owner's elements.
pub(crate) fn owner_bytes(owner: &Array) -> usize {
    if owner.alloc_bytes > 0 {
        owner.alloc_bytes as usize
    } else {
        owner.size.max(0) as usize * DType::from_i64(owner.dtype).size()
    }
}

/// The device copies, held for the whole launch so that no buffer a kernel uses is
/// released under it.
pub(crate) struct Resident {
    map: MutexGuard<'static, Map>,
}

impl Resident {
    pub fn lock() -> Resident {
        Resident { map: copies() }
    }

    /// The device buffer of `owner`, made equal to the host copy. `name` is for messages.
    ///
    /// # Safety
    /// `owner` must be a live owner array (null `base`) whose data holds its bytes.
    pub unsafe fn ensure(
        &mut self,
        dev: &DevCtx,
        owner: *mut Array,
        name: &str,
    ) -> GResult<cl_mem> {
        let bytes = owner_bytes(&*owner);
        let map = self.map.get_or_insert_with(HashMap::new);
        let key = owner as usize;
        let stale = map
            .get(&key)
            .is_none_or(|c| c.bytes != bytes || c.device != dev.index);
        if stale {
            map.remove(&key);
            let max = dev.device.max_mem_alloc_size().unwrap_or(u64::MAX);
            if bytes as u64 > max {
                return Err(Fail::device(format!(
                    "`{name}` ({} bytes) is larger than the {} bytes one buffer of {} can hold",
                    bytes, max, dev.name
                )));
            }
            // OpenCL has no empty buffers; an empty array gets one element's room.
            let room = bytes.max(16);
            let buf =
                Buffer::<u8>::create(&dev.context, CL_MEM_READ_WRITE, room, std::ptr::null_mut())
                    .map_err(|e| {
                    Fail::device(format!(
                        "{} has no room for `{name}` ({bytes} bytes): {e} ({})",
                        dev.name, e.0
                    ))
                })?;
            EVER.store(true, Ordering::Relaxed);
            map.insert(
                key,
                Copy {
                    buf,
                    bytes,
                    device: dev.index,
                },
            );
            if (*owner).host_written != crate::array::HOST_WRITTEN_NOTHING_TO_UPLOAD {
                (*owner).host_written = 1;
            }
        }
        let c = map.get_mut(&key).expect("inserted above");
        if (*owner).host_written == crate::array::HOST_WRITTEN_NOTHING_TO_UPLOAD {
            // A new array the kernel writes whole: nothing on the host to copy.
            (*owner).host_written = 0;
        }
        if (*owner).host_written != 0 {
            if bytes > 0 {
                let host = std::slice::from_raw_parts((*owner).data as *const u8, bytes);
                let ev = dev
                    .queue
                    .enqueue_write_buffer(&mut c.buf, CL_BLOCKING, 0, host, &[])
                    .map_err(|e| {
                        Fail::device(format!(
                            "copying `{name}` to {} failed: {e} ({})",
                            dev.name, e.0
                        ))
                    })?;
                let ns = stats::event_ns(&ev);
                stats::add(|s| {
                    s.to_device_bytes += bytes as u64;
                    s.to_device_ns += ns;
                });
            }
            (*owner).host_written = 0;
        }
        Ok(c.buf.get())
    }

    /// Copies the device buffer of `owner` (after a kernel wrote it) into the host data.
    ///
    /// # Safety
    /// As for [`Resident::ensure`], after `ensure` for this owner in the same launch.
    pub unsafe fn copy_back(&mut self, dev: &DevCtx, owner: *mut Array, name: &str) -> GResult<()> {
        let bytes = owner_bytes(&*owner);
        let Some(c) = self.map.as_mut().and_then(|m| m.get_mut(&(owner as usize))) else {
            return Err(Fail::internal(format!(
                "`{name}` has no device copy to copy back"
            )));
        };
        if bytes > 0 {
            let host = std::slice::from_raw_parts_mut((*owner).data, bytes);
            let ev = dev
                .queue
                .enqueue_read_buffer(&c.buf, CL_BLOCKING, 0, host, &[])
                .map_err(|e| {
                    // The host copy may be half written; the device copy still holds the
                    // kernel's results, so the next launch must not trust either blindly.
                    (*owner).host_written = 1;
                    Fail::device(format!(
                        "copying `{name}` back from {} failed: {e} ({})",
                        dev.name, e.0
                    ))
                })?;
            let ns = stats::event_ns(&ev);
            stats::add(|s| {
                s.from_device_bytes += bytes as u64;
                s.from_device_ns += ns;
            });
        }
        (*owner).host_written = 0;
        Ok(())
    }

    /// Whether `owner` has a device copy (tests).
    #[cfg(test)]
    pub fn has(&self, owner: *mut Array) -> bool {
        self.map
            .as_ref()
            .is_some_and(|m| m.contains_key(&(owner as usize)))
    }
}
