//! Lists (`KList`): Numba's reflected lists of scalars, shared by reference and
//! reference-counted like arrays and strings.
//!
//! Elements are stored in 8-byte words, `width` words each (1, or 2 for complex); compiled
//! code reads and writes an element through the address [`kiln_list_at`] or [`kiln_list_push`]
//! returns, with the element's own machine type (a bool in the word's first byte, an f32 in
//! its first four). The element type's code (the `DType` codes: 0 bool, 1 i64, 2 f64,
//! 3 f32, 4 c128) is passed to the functions that look at values (printing, sorting, sums).
//! An address stays valid until the list next grows.

use crate::array::{Array, DType};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, guard_pure, KResult};
use crate::obj::note_alloc;
use std::sync::atomic::AtomicI64;

pub const KIND_LIST: i64 = 3;

#[repr(C)]
pub struct KList {
    pub refcount: AtomicI64,
    pub kind: i64,
    /// Words per element (1, or 2 for complex).
    pub width: i64,
    pub words: Vec<u64>,
    /// Where `pop` and the reductions leave their result for the compiled code to load.
    pub scratch: [u64; 2],
}

impl KList {
    /// A new empty list with refcount 1.
    pub fn new_raw(width: i64, cap: usize) -> *mut KList {
        note_alloc();
        Box::into_raw(Box::new(KList {
            refcount: AtomicI64::new(1),
            kind: KIND_LIST,
            width: width.max(1),
            words: Vec::with_capacity(cap * width.max(1) as usize),
            scratch: [0; 2],
        }))
    }
    pub fn len(&self) -> usize {
        self.words.len() / self.width as usize
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    fn elem(&self, k: usize) -> &[u64] {
        let w = self.width as usize;
        &self.words[k * w..(k + 1) * w]
    }
}

/// One element's value, seen from Rust.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Val {
    Bool(bool),
    Int(i64),
    F64(f64),
    F32(f32),
    C128(f64, f64),
}

fn read(code: i64, w: &[u64]) -> Val {
    match DType::from_i64(code) {
        DType::Bool => Val::Bool(w[0] & 0xff != 0),
        // A list's elements are scalars: int64 (never a narrow integer type).
        DType::I64 | crate::narrow_ints!() => Val::Int(w[0] as i64),
        DType::F64 => Val::F64(f64::from_bits(w[0])),
        DType::F32 => Val::F32(f32::from_bits(w[0] as u32)),
        DType::C128 => Val::C128(f64::from_bits(w[0]), f64::from_bits(w[1])),
    }
}

fn repr(v: Val) -> String {
    match v {
        Val::Bool(b) => if b { "True" } else { "False" }.to_string(),
        Val::Int(i) => i.to_string(),
        Val::F64(x) => crate::pyfmt::float_repr(x),
        Val::F32(x) => crate::pyfmt::f32_repr(x),
        Val::C128(re, im) => crate::pyfmt::complex_repr(re, im),
    }
}

fn as_f64(v: Val) -> f64 {
    match v {
        Val::Bool(b) => b as i64 as f64,
        Val::Int(i) => i as f64,
        Val::F64(x) => x,
        Val::F32(x) => x as f64,
        Val::C128(re, _) => re,
    }
}

/// Python's `repr` of a list of this element type: `[1, 2]`, `[1.0, 2.5]`, `[True]`.
/// # Safety
/// `l` must be a live list.
pub unsafe fn list_repr(l: *const KList, code: i64) -> String {
    let l = &*l;
    let mut s = String::from("[");
    for k in 0..l.len() {
        if k > 0 {
            s.push_str(", ");
        }
        s.push_str(&repr(read(code, l.elem(k))));
    }
    s.push(']');
    s
}

/// A Python index (negative from the end) into `0..n`, if it is one.
fn wrap(i: i64, n: usize) -> Option<usize> {
    let n = n as i64;
    let k = if i < 0 { i + n } else { i };
    (0..n).contains(&k).then_some(k as usize)
}

/// A new empty list of `width` words per element, with room for `cap` elements.
#[no_mangle]
pub extern "C" fn kiln_list_new(width: i64, cap: i64) -> *mut u8 {
    guard_pure(std::ptr::null_mut(), || {
        KList::new_raw(width, cap.clamp(0, 1 << 20) as usize) as *mut u8
    })
}

/// Appends one zeroed element and returns its address (the compiled code stores the value).
/// # Safety
/// `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_push(l: *mut u8) -> *mut u64 {
    let l = &mut *(l as *mut KList);
    let w = l.width as usize;
    let n = l.words.len();
    l.words.resize(n + w, 0);
    l.words.as_mut_ptr().add(n)
}

/// # Safety
/// `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_len(l: *mut u8) -> i64 {
    (*(l as *const KList)).len() as i64
}

/// The address of element `i` (negative from the end), or null with IndexError.
/// # Safety
/// `ctx` live; `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_at(ctx: *mut ExecCtx, l: *mut u8, i: i64) -> *mut u64 {
    // Only a shared borrow: the iterations of a parallel loop over a list read it at once.
    let l = &*(l as *const KList);
    match wrap(i, l.len()) {
        Some(k) => (l.words.as_ptr() as *mut u64).add(k * l.width as usize),
        None => {
            (*ctx).raise(ErrorKind::IndexError, "list index out of range");
            std::ptr::null_mut()
        }
    }
}

/// `l.pop()` (`has_index` 0) or `l.pop(i)`: removes the element and returns the address of
/// a copy of it, or null with Python's IndexError.
/// # Safety
/// `ctx` live; `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_pop(
    ctx: *mut ExecCtx,
    l: *mut u8,
    i: i64,
    has_index: i64,
) -> *mut u64 {
    let l = &mut *(l as *mut KList);
    let n = l.len();
    let at = if has_index == 0 { -1 } else { i };
    let k = match wrap(at, n) {
        Some(k) => k,
        None => {
            let msg = if n == 0 {
                "pop from empty list"
            } else {
                "pop index out of range"
            };
            (*ctx).raise(ErrorKind::IndexError, msg);
            return std::ptr::null_mut();
        }
    };
    let w = l.width as usize;
    for (j, word) in l.words.drain(k * w..(k + 1) * w).enumerate() {
        l.scratch[j] = word;
    }
    l.scratch.as_mut_ptr()
}

/// `l.insert(i, v)`: a zeroed element inserted before index `i` (clamped as Python does);
/// returns its address.
/// # Safety
/// `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_insert(l: *mut u8, i: i64) -> *mut u64 {
    let l = &mut *(l as *mut KList);
    let n = l.len() as i64;
    let k = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
    let w = l.width as usize;
    for _ in 0..w {
        l.words.insert(k * w, 0);
    }
    l.words.as_mut_ptr().add(k * w)
}

/// A new list with the elements of `a` then those of `b` (`a + b`, `list(a)` with `b` null).
/// # Safety
/// `a` live, `b` null or a live list of the same width.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_concat(a: *mut u8, b: *mut u8) -> *mut u8 {
    let a = &*(a as *const KList);
    let r = KList::new_raw(a.width, 0);
    (*r).words.extend_from_slice(&a.words);
    if !b.is_null() {
        (*r).words.extend_from_slice(&(*(b as *const KList)).words);
    }
    r as *mut u8
}

/// `a.extend(b)` and `a += b`: `b`'s elements appended to `a` (`a` may be `b`).
/// # Safety
/// `a` and `b` live lists of the same width.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_extend(a: *mut u8, b: *mut u8) {
    let more = (*(b as *const KList)).words.clone();
    (*(a as *mut KList)).words.extend_from_slice(&more);
}

/// `a * n`: a new list of `a`'s elements `n` times (none when `n <= 0`), or null with a
/// MemoryError past what a list can hold.
/// # Safety
/// `ctx` live, `a` a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_repeat(ctx: *mut ExecCtx, a: *mut u8, n: i64) -> *mut u8 {
    guard(ctx, std::ptr::null_mut(), || {
        let a = &*(a as *const KList);
        let n = n.max(0) as usize;
        let total = a.words.len().checked_mul(n).filter(|&t| t <= 1 << 36);
        let Some(total) = total else {
            return err(ErrorKind::MemoryError, "the list would be too large");
        };
        let r = KList::new_raw(a.width, 0);
        (*r).words.reserve(total);
        for _ in 0..n {
            (*r).words.extend_from_slice(&a.words);
        }
        Ok(r as *mut u8)
    })
}

/// `a *= n`: `a`'s elements `n` times, in place; 0 on success, or -1 with a MemoryError.
/// # Safety
/// `ctx` live, `a` a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_imul(ctx: *mut ExecCtx, a: *mut u8, n: i64) -> i64 {
    let r = kiln_list_repeat(ctx, a, n);
    if r.is_null() {
        return -1;
    }
    std::mem::swap(
        &mut (*(a as *mut KList)).words,
        &mut (*(r as *mut KList)).words,
    );
    crate::obj::kiln_decref(r);
    0
}

/// `list(range(start, stop, step))` (`step` not 0).
#[no_mangle]
pub extern "C" fn kiln_list_range(start: i64, stop: i64, step: i64) -> *mut u8 {
    guard_pure(std::ptr::null_mut(), || {
        let r = KList::new_raw(1, 0);
        let mut v = start as i128;
        let (stop, step) = (stop as i128, step as i128);
        while (step > 0 && v < stop) || (step < 0 && v > stop) {
            unsafe { (*r).words.push(v as i64 as u64) };
            v += step;
        }
        r as *mut u8
    })
}

/// `l.reverse()`, in place.
/// # Safety
/// `l` must be a live list.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_reverse(l: *mut u8) {
    let l = &mut *(l as *mut KList);
    let w = l.width as usize;
    let mut elems: Vec<Vec<u64>> = l.words.chunks(w).map(|c| c.to_vec()).collect();
    elems.reverse();
    l.words = elems.concat();
}

/// `l.sort()`, in place, stable, as Python orders numbers (a NaN compares false with
/// everything, so it stays where the merge leaves it). Complex lists never get here.
/// # Safety
/// `l` must be a live list of element type `code`.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_sort(l: *mut u8, code: i64, reverse: i64) {
    let l = &mut *(l as *mut KList);
    let w = l.width as usize;
    let mut elems: Vec<Vec<u64>> = l.words.chunks(w).map(|c| c.to_vec()).collect();
    let less = |a: &Vec<u64>, b: &Vec<u64>| match (read(code, a), read(code, b)) {
        (Val::Int(x), Val::Int(y)) => x < y,
        (x, y) => as_f64(x) < as_f64(y),
    };
    // Python's list.sort(reverse=True) keeps equal elements in their order too.
    insertion_merge_sort(&mut elems, &|a, b| {
        if reverse != 0 {
            less(b, a)
        } else {
            less(a, b)
        }
    });
    l.words = elems.concat();
}

/// A stable sort that only asks `less` (Python's sort uses `<` alone).
fn insertion_merge_sort<T: Clone>(v: &mut [T], less: &dyn Fn(&T, &T) -> bool) {
    let n = v.len();
    if n <= 16 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    insertion_merge_sort(&mut v[..mid], less);
    insertion_merge_sort(&mut v[mid..], less);
    let (left, right) = (v[..mid].to_vec(), v[mid..].to_vec());
    let (mut i, mut j) = (0, 0);
    for slot in v.iter_mut() {
        // Take from the right only when it is strictly less: stability.
        if j < right.len() && (i == left.len() || less(&right[j], &left[i])) {
            *slot = right[j].clone();
            j += 1;
        } else {
            *slot = left[i].clone();
            i += 1;
        }
    }
}

/// `x in l`: `x` in the element type's words.
/// # Safety
/// `l` must be a live list of element type `code`.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_contains(l: *mut u8, code: i64, w0: i64, w1: i64) -> i64 {
    let l = &*(l as *const KList);
    let x = read(code, &[w0 as u64, w1 as u64]);
    (0..l.len()).any(|k| read(code, l.elem(k)) == x) as i64
}

/// `sum(l)` (`op` 0), `min(l)` (1), `max(l)` (2): the result's address (in the element
/// type's words; a bool list's sum is an int), or null with Python's ValueError for the
/// minimum or maximum of an empty list.
/// # Safety
/// `ctx` live; `l` must be a live list of element type `code`.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_reduce(
    ctx: *mut ExecCtx,
    l: *mut u8,
    code: i64,
    op: i64,
) -> *mut u64 {
    let l = &mut *(l as *mut KList);
    let n = l.len();
    if op != 0 && n == 0 {
        let name = if op == 1 { "min" } else { "max" };
        (*ctx).raise(
            ErrorKind::ValueError,
            format!("{name}() iterable argument is empty"),
        );
        return std::ptr::null_mut();
    }
    let vals: Vec<Val> = (0..n).map(|k| read(code, l.elem(k))).collect();
    let out: [u64; 2] = if op == 0 {
        match DType::from_i64(code) {
            DType::Bool | DType::I64 | crate::narrow_ints!() => {
                let s = vals.iter().fold(0i64, |s, v| match v {
                    Val::Int(i) => s.wrapping_add(*i),
                    Val::Bool(b) => s + *b as i64,
                    _ => s,
                });
                [s as u64, 0]
            }
            DType::F32 => {
                let s = vals.iter().fold(0f32, |s, v| s + as_f64(*v) as f32);
                [s.to_bits() as u64, 0]
            }
            DType::F64 => {
                // Python's sum of floats adds left to right from the int 0.
                let s = vals.iter().fold(0f64, |s, v| s + as_f64(*v));
                [s.to_bits(), 0]
            }
            DType::C128 => {
                let (mut re, mut im) = (0f64, 0f64);
                for v in &vals {
                    if let Val::C128(a, b) = v {
                        re += a;
                        im += b;
                    }
                }
                [re.to_bits(), im.to_bits()]
            }
        }
    } else {
        // Python's min/max: the first element, replaced by each later one that compares
        // strictly less (greater).
        let mut best = 0;
        for k in 1..n {
            let better = match (vals[k], vals[best]) {
                (Val::Int(x), Val::Int(y)) => {
                    if op == 1 {
                        x < y
                    } else {
                        x > y
                    }
                }
                (x, y) => {
                    let (x, y) = (as_f64(x), as_f64(y));
                    if op == 1 {
                        x < y
                    } else {
                        x > y
                    }
                }
            };
            if better {
                best = k;
            }
        }
        let e = l.elem(best);
        [e[0], if e.len() > 1 { e[1] } else { 0 }]
    };
    l.scratch = out;
    l.scratch.as_mut_ptr()
}

/// The list's text as `print` and `str` show it.
/// # Safety
/// `l` must be a live list of element type `code`.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_repr(l: *mut u8, code: i64) -> *mut u8 {
    crate::strings::new_kstr(list_repr(l as *const KList, code))
}

/// `np.array(l)`: a new 1-D array of dtype `code` with the list's elements.
/// # Safety
/// `ctx` live; `l` must be a live list of element type `code`.
#[no_mangle]
pub unsafe extern "C" fn kiln_list_to_array(
    ctx: *mut ExecCtx,
    l: *mut u8,
    code: i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        to_array(l as *const KList, code)
    })
}

unsafe fn to_array(l: *const KList, code: i64) -> KResult<*mut Array> {
    let l = &*l;
    let dt = DType::from_i64(code);
    let n = l.len();
    let a = crate::alloc::new_array(dt, &[n as i64])?;
    let data = (*a).data;
    for k in 0..n {
        let e = l.elem(k);
        match dt {
            DType::Bool => *data.add(k) = (e[0] & 0xff != 0) as u8,
            DType::F32 => *(data as *mut u32).add(k) = e[0] as u32,
            DType::I64 | DType::F64 => *(data as *mut u64).add(k) = e[0],
            crate::narrow_ints!() => {
                crate::nd::write_e(dt, data.add(k * dt.size()), crate::nd::E::I(e[0] as i64))
            }
            DType::C128 => {
                *(data as *mut u64).add(2 * k) = e[0];
                *(data as *mut u64).add(2 * k + 1) = e[1];
            }
        }
    }
    Ok(a)
}

pub(crate) unsafe fn free(obj: *mut u8) {
    drop(Box::from_raw(obj as *mut KList));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_and_print() {
        unsafe {
            let l = kiln_list_new(1, 0);
            for v in [3.0f64, 0.5, 1e16] {
                *kiln_list_push(l) = v.to_bits();
            }
            assert_eq!(list_repr(l as *const KList, 2), "[3.0, 0.5, 1e+16]");
            kiln_list_sort(l, 2, 0);
            assert_eq!(list_repr(l as *const KList, 2), "[0.5, 3.0, 1e+16]");
            let r = kiln_list_range(5, 0, -2);
            assert_eq!(list_repr(r as *const KList, 1), "[5, 3, 1]");
            crate::obj::kiln_decref(l);
            crate::obj::kiln_decref(r);
        }
    }

    #[test]
    fn stable_sort() {
        let mut v: Vec<(i32, i32)> = (0..40).map(|k| (k % 3, k)).collect();
        insertion_merge_sort(&mut v, &|a, b| a.0 < b.0);
        let mut w = v.clone();
        w.sort_by_key(|p| p.0);
        assert_eq!(v, w);
    }
}
