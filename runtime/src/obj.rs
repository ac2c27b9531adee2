//! Heap objects shared by compiled code and the runtime: reference counting and freeing.
//!
//! Every heap object starts with the same two words: an atomic reference count at offset 0
//! and a kind tag at offset 8. Compiled code increments and decrements through
//! [`kiln_incref`] / [`kiln_decref`]; whoever drops the last reference frees the object.

use crate::array::{Array, KIND_ARRAY, KIND_STR};
use std::sync::atomic::{AtomicI64, Ordering};

/// The common prefix of every heap object.
#[repr(C)]
pub struct ObjHeader {
    pub refcount: AtomicI64,
    pub kind: i64,
}

/// A string object (`str` values). The `String` is owned; compiled code never looks inside.
#[repr(C)]
pub struct KStr {
    pub refcount: AtomicI64,
    pub kind: i64,
    pub s: String,
}

/// Number of heap objects alive right now. Tests use it to detect leaks and double frees.
static LIVE: AtomicI64 = AtomicI64::new(0);

pub fn live_objects() -> i64 {
    LIVE.load(Ordering::SeqCst)
}

// The same count kept per thread, for the unit tests: they run in parallel threads of one
// process, so the global count moves under a test whenever another test allocates.
#[cfg(test)]
thread_local! {
    static LIVE_HERE: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Objects allocated minus objects freed on this thread (unit tests only: a leak check that
/// other tests running at the same time cannot disturb).
#[cfg(test)]
pub(crate) fn live_objects_here() -> i64 {
    LIVE_HERE.with(|c| c.get())
}

pub(crate) fn note_alloc() {
    LIVE.fetch_add(1, Ordering::SeqCst);
    #[cfg(test)]
    LIVE_HERE.with(|c| c.set(c.get() + 1));
}

fn note_free() {
    LIVE.fetch_sub(1, Ordering::SeqCst);
    #[cfg(test)]
    LIVE_HERE.with(|c| c.set(c.get() - 1));
}

impl KStr {
    /// A new string object with refcount 1.
    pub fn new_raw(s: String) -> *mut u8 {
        note_alloc();
        Box::into_raw(Box::new(KStr {
            refcount: AtomicI64::new(1),
            kind: KIND_STR,
            s,
        })) as *mut u8
    }

    /// Borrows the text of a string object; null gives "".
    /// # Safety
    /// `p` must be null or a live `KStr`.
    pub unsafe fn as_str<'a>(p: *const u8) -> &'a str {
        if p.is_null() {
            ""
        } else {
            &(*(p as *const KStr)).s
        }
    }
}

/// # Safety
/// `obj` must be null or a live heap object.
#[no_mangle]
pub unsafe extern "C" fn kiln_incref(obj: *mut u8) {
    if !obj.is_null() {
        (*(obj as *const ObjHeader))
            .refcount
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// # Safety
/// `obj` must be null or a live heap object whose reference the caller gives up.
#[no_mangle]
pub unsafe extern "C" fn kiln_decref(obj: *mut u8) {
    if obj.is_null() {
        return;
    }
    let h = &*(obj as *const ObjHeader);
    // Release/Acquire as Arc does: all uses by other threads happen-before the free.
    if h.refcount.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    std::sync::atomic::fence(Ordering::Acquire);
    free_object(obj);
}

unsafe fn free_object(obj: *mut u8) {
    match (*(obj as *const ObjHeader)).kind {
        KIND_ARRAY => {
            let a = obj as *mut Array;
            let base = (*a).base;
            if base.is_null() {
                // Its device copy, if it has one (a single load when none was ever made).
                crate::opencl::forget(a);
            }
            if (*a).alloc_bytes > 0 && !(*a).data.is_null() {
                crate::alloc::free_data((*a).data, (*a).alloc_bytes as usize);
            }
            drop(Box::from_raw(a));
            note_free();
            // A view keeps its base alive; release it after the view itself is gone.
            if !base.is_null() {
                kiln_decref(base as *mut u8);
            }
        }
        KIND_STR => {
            drop(Box::from_raw(obj as *mut KStr));
            note_free();
        }
        crate::lists::KIND_LIST => {
            crate::lists::free(obj);
            note_free();
        }
        // Unknown kinds are not ours to free; leaking beats corrupting memory.
        _ => {}
    }
}
