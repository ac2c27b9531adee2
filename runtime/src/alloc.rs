//! Array allocation: fallible, 64-byte aligned, zeroed. Big blocks come from `mmap` (fresh
//! pages are zero, and transparent huge pages can back them) and are kept for reuse when
//! freed.

use crate::array::{Array, DType, HOST_WRITTEN_NOTHING_TO_UPLOAD, KIND_ARRAY, MAX_NDIM};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use crate::obj::note_alloc;
use std::alloc::Layout;
use std::sync::atomic::AtomicI64;
use std::sync::Mutex;

const ALIGN: usize = 64;
/// From this size on, data comes from `mmap` (zero pages for free, page aligned).
const MMAP_THRESHOLD: usize = 1 << 20;
const HUGEPAGE_THRESHOLD: usize = 4 << 20;

/// A non-null, suitably aligned pointer for arrays with no bytes.
fn dangling() -> *mut u8 {
    // No provenance: it is never dereferenced (Miri checks that).
    std::ptr::without_provenance_mut(ALIGN)
}

/// Big blocks are kept after they are freed, up to this many bytes in all, and handed out
/// again (zeroed) for the next allocation of the same number of pages. A loop that makes a
/// new image or temporary of the same shape on every run would otherwise pay for fresh pages
/// every time: the kernel zeroes each one on its first touch, one fault at a time, and
/// unmapping memory several threads touched interrupts them all. glibc's `malloc` keeps such
/// blocks too (up to 32 MiB), and that is the memory NumPy and Numba reuse.
const CACHE_MAX_TOTAL: usize = 128 << 20;
/// Blocks larger than this are always returned to the system.
const CACHE_MAX_BLOCK: usize = 64 << 20;
const PAGE: usize = 4096;
/// From this size on, an allocation is first compared with what the process can really get
/// (`headroom`): Linux grants a mapping beyond a cgroup's limit and kills the process when
/// its pages are touched. Below it the check's file reads would cost more than the pages.
const HEADROOM_CHECK_FROM: usize = 64 << 20;

/// Freed big blocks: (address, page-rounded length), oldest first.
static BLOCK_CACHE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn page_round(bytes: usize) -> usize {
    bytes.div_ceil(PAGE) * PAGE
}

/// Takes a cached block of exactly `len` (page-rounded) bytes.
fn cached_block(len: usize) -> Option<*mut u8> {
    let mut cache = BLOCK_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let k = cache.iter().rposition(|&(_, l)| l == len)?;
    Some(cache.remove(k).0 as *mut u8)
}

/// Returns every cached block to the system (before reporting that memory ran out).
fn drain_cache() {
    let blocks = std::mem::take(&mut *BLOCK_CACHE.lock().unwrap_or_else(|e| e.into_inner()));
    for (p, len) in blocks {
        // SAFETY: each cached block is a live mapping of `len` bytes that nothing uses.
        unsafe { libc::munmap(p as *mut libc::c_void, len) };
    }
}

/// Whether `bytes` more fit in what the machine and the process's memory cgroups leave.
fn fits(bytes: usize) -> bool {
    crate::headroom::available_bytes().is_none_or(|free| bytes as u64 <= free)
}

fn map_zeroed(bytes: usize) -> Option<*mut u8> {
    // SAFETY: anonymous private mapping; no file, no fixed address.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // Only a hint: fewer TLB misses on big arrays. Failure changes nothing (and Miri, which
    // has no madvise, runs without it).
    if bytes >= HUGEPAGE_THRESHOLD && !cfg!(miri) {
        unsafe { libc::madvise(p, bytes, libc::MADV_HUGEPAGE) };
    }
    Some(p as *mut u8)
}

/// Allocates `bytes` zeroed bytes; `None` when the system refuses.
pub(crate) fn alloc_data(bytes: usize) -> Option<*mut u8> {
    if bytes == 0 {
        return Some(dangling());
    }
    if bytes >= MMAP_THRESHOLD {
        if let Some(p) = cached_block(page_round(bytes)) {
            // SAFETY: the block has at least `bytes` writable bytes and no other user.
            unsafe { std::ptr::write_bytes(p, 0, bytes) };
            return Some(p);
        }
        if bytes >= HEADROOM_CHECK_FROM && !fits(bytes) {
            // The cached blocks count as used; returning them may make room.
            drain_cache();
            if !fits(bytes) {
                return None;
            }
        }
        return map_zeroed(bytes).or_else(|| {
            drain_cache();
            map_zeroed(bytes)
        });
    }
    let layout = Layout::from_size_align(bytes, ALIGN).ok()?;
    // SAFETY: layout has nonzero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    (!p.is_null()).then_some(p)
}

/// Frees what [`alloc_data`] returned for the same `bytes`.
/// # Safety
/// `p` must come from `alloc_data(bytes)` and not be freed yet.
pub(crate) unsafe fn free_data(p: *mut u8, bytes: usize) {
    if bytes == 0 {
        return;
    }
    if bytes >= MMAP_THRESHOLD {
        let len = page_round(bytes);
        if len <= CACHE_MAX_BLOCK {
            let mut cache = BLOCK_CACHE.lock().unwrap_or_else(|e| e.into_inner());
            cache.push((p as usize, len));
            let mut total: usize = cache.iter().map(|&(_, l)| l).sum();
            while total > CACHE_MAX_TOTAL {
                let (old, old_len) = cache.remove(0);
                libc::munmap(old as *mut libc::c_void, old_len);
                total -= old_len;
            }
            return;
        }
        libc::munmap(p as *mut libc::c_void, len);
    } else {
        std::alloc::dealloc(p, Layout::from_size_align_unchecked(bytes, ALIGN));
    }
}

/// Python's repr of a shape tuple: `(3,)`, `(2, 3)`, `()`.
pub fn shape_repr(shape: &[i64]) -> String {
    match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// NumPy's `_ArrayMemoryError._size_to_string`: `7.28 TiB`, `800. MiB`, `16 bytes`.
pub fn size_to_string(num_bytes: u128) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let bit_length = 128 - num_bytes.leading_zeros() as i64;
    let mut unit_i = ((bit_length - 1).max(1) / 10) as usize;
    let mut n_units = num_bytes as f64 / 2f64.powi(10 * unit_i as i32);
    if n_units.round() == 1024.0 {
        unit_i += 1;
        n_units /= 1024.0;
    }
    if unit_i >= UNITS.len() {
        n_units *= 2f64.powi(10 * (unit_i - (UNITS.len() - 1)) as i32);
        unit_i = UNITS.len() - 1;
    }
    let num = if unit_i == 0 {
        crate::pyfmt::format_f64(n_units, ".0f").unwrap_or_default()
    } else if n_units.round() < 1000.0 {
        crate::pyfmt::format_f64(n_units, "#.3g").unwrap_or_default()
    } else {
        crate::pyfmt::format_f64(n_units, "#.0f").unwrap_or_default()
    };
    format!("{num} {}", UNITS[unit_i])
}

/// Strides (in elements) of a C-contiguous array of this shape.
pub fn c_strides(shape: &[i64]) -> [i64; MAX_NDIM] {
    let mut st = [0i64; MAX_NDIM];
    let mut acc = 1i64;
    for k in (0..shape.len()).rev() {
        st[k] = acc;
        acc = acc.wrapping_mul(shape[k].max(1));
    }
    st
}

/// A new C-contiguous zeroed array (refcount 1) of the given dtype and shape.
pub fn new_array(dtype: DType, shape: &[i64]) -> KResult<*mut Array> {
    if shape.len() > MAX_NDIM {
        return err(
            ErrorKind::ValueError,
            format!(
                "arrays have at most {MAX_NDIM} dimensions, got {}",
                shape.len()
            ),
        );
    }
    if shape.iter().any(|&d| d < 0) {
        return err(ErrorKind::ValueError, "negative dimensions are not allowed");
    }
    let too_big = || {
        let total: u128 = shape.iter().fold(dtype.size() as u128, |acc, &d| {
            acc.saturating_mul(d as u128)
        });
        (
            ErrorKind::MemoryError,
            format!(
                "Unable to allocate {} for an array with shape {} and data type {}",
                size_to_string(total),
                shape_repr(shape),
                dtype.numpy_name()
            ),
        )
    };
    let mut size: i64 = 1;
    for &d in shape {
        size = size.checked_mul(d).ok_or_else(too_big)?;
    }
    let bytes = size
        .checked_mul(dtype.size() as i64)
        .filter(|b| *b <= isize::MAX as i64 - ALIGN as i64)
        .ok_or_else(too_big)? as usize;
    let data = alloc_data(bytes).ok_or_else(too_big)?;
    let mut sh = [0i64; MAX_NDIM];
    sh[..shape.len()].copy_from_slice(shape);
    note_alloc();
    Ok(Box::into_raw(Box::new(Array {
        refcount: AtomicI64::new(1),
        kind: KIND_ARRAY,
        data,
        ndim: shape.len() as i64,
        dtype: dtype as i64,
        size,
        shape: sh,
        strides: c_strides(shape),
        base: std::ptr::null_mut(),
        alloc_bytes: bytes as i64,
        host_written: 1,
    })))
}

/// Reads `ndim` dimensions from compiled code's shape buffer.
/// # Safety
/// `shape` must point at `ndim` readable i64 when `ndim > 0`.
pub(crate) unsafe fn read_shape<'a>(ndim: i64, shape: *const i64) -> KResult<&'a [i64]> {
    if !(0..=MAX_NDIM as i64).contains(&ndim) {
        return err(
            ErrorKind::ValueError,
            format!("arrays have at most {MAX_NDIM} dimensions, got {ndim}"),
        );
    }
    if ndim == 0 {
        return Ok(&[]);
    }
    Ok(std::slice::from_raw_parts(shape, ndim as usize))
}

/// Fills every element of a fresh contiguous array with the bytes of one element.
/// # Safety
/// `a` must be a live, contiguous array whose elements are `elem.len()` bytes wide.
pub(crate) unsafe fn fill_bytes(a: *mut Array, elem: &[u8]) {
    if elem.iter().all(|&b| b == 0) {
        return; // fresh allocations are already zero
    }
    let n = (*a).size as usize;
    let w = elem.len();
    let data = std::slice::from_raw_parts_mut((*a).data, n * w);
    for chunk in data.chunks_exact_mut(w) {
        chunk.copy_from_slice(elem);
    }
}

/// One element of `dtype` holding the value 1 (for `ones`).
pub(crate) fn one_bytes(dtype: DType) -> Vec<u8> {
    crate::nd::elem_bytes(dtype, crate::nd::E::I(1))
}

/// `zeros` / `ones` / `empty`: fill 0 = zeros, 1 = ones, 2 = empty (zeroed anyway), 3 = an
/// array a kernel will write whole (zeroed, and marked so its first device copy is not
/// uploaded: see `Array::host_written`).
/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_new(
    ctx: *mut ExecCtx,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
    fill: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        let dt = DType::from_i64(dtype);
        let a = new_array(dt, read_shape(ndim, shape)?)?;
        if fill == 1 {
            fill_bytes(a, &one_bytes(dt));
        }
        if fill == 3 {
            (*a).host_written = HOST_WRITTEN_NOTHING_TO_UPLOAD;
        }
        Ok(a)
    })
}

/// A view into `base`'s memory (slicing, transposes, reshapes of contiguous arrays).
/// The view holds one reference to the array that owns the data.
/// # Safety
/// `base` must be a live array; `data`, `shape`, `strides` must describe memory inside it.
#[no_mangle]
pub unsafe extern "C" fn kiln_array_view(
    ctx: *mut ExecCtx,
    base: *mut Array,
    data: *mut u8,
    ndim: i64,
    shape: *const i64,
    strides: *const i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        if base.is_null() {
            return err(ErrorKind::InternalError, "view of a null array");
        }
        let shp = read_shape(ndim, shape)?;
        let st = if ndim > 0 {
            std::slice::from_raw_parts(strides, ndim as usize)
        } else {
            &[]
        };
        // Point at the owner so chains of views never grow.
        let owner = if (*base).base.is_null() {
            base
        } else {
            (*base).base
        };
        crate::obj::kiln_incref(owner as *mut u8);
        let mut sh = [0i64; MAX_NDIM];
        let mut sd = [0i64; MAX_NDIM];
        sh[..shp.len()].copy_from_slice(shp);
        sd[..st.len()].copy_from_slice(st);
        note_alloc();
        Ok(Box::into_raw(Box::new(Array {
            refcount: AtomicI64::new(1),
            kind: KIND_ARRAY,
            data,
            ndim,
            dtype: (*base).dtype,
            size: shp.iter().product(),
            shape: sh,
            strides: sd,
            base: owner,
            alloc_bytes: 0,
            host_written: 1,
        })))
    })
}
