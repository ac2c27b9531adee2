//! Runtime helpers that only the generated whole-array loops use: broadcasting, overlap
//! checks, buffer reuse and NumPy's pairwise summation driven block by block. They live
//! beside the backend because their contract is the backend's loop shapes.

use kiln_runtime::{Array, DType, ErrorKind, ExecCtx};

fn shape_of(a: &Array) -> &[i64] {
    &a.shape[..a.ndim.clamp(0, 4) as usize]
}

fn shape_text(s: &[i64]) -> String {
    let parts: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(","))
    }
}

/// NumPy broadcasting of `n` arrays to `ndim` dimensions, written to `out`. With a
/// destination, the result must be the destination's shape (a slice assignment).
/// Returns 0, or 1 with a ValueError raised.
///
/// # Safety
/// `arrs` holds `n` live arrays; `out` has room for `ndim` values; `dest` is null or live.
#[no_mangle]
pub unsafe extern "C" fn kiln_bcast(
    ctx: *mut ExecCtx,
    ndim: i64,
    out: *mut i64,
    n: i64,
    arrs: *const *const Array,
    dest: *const Array,
) -> i64 {
    let arrs: Vec<&Array> = (0..n as usize).map(|k| &**arrs.add(k)).collect();
    let nd = ndim.max(0) as usize;
    let mut shape = vec![1i64; nd];
    let mut bad = false;
    for a in &arrs {
        let s = shape_of(a);
        let off = nd - s.len();
        for (k, &d) in s.iter().enumerate() {
            let o = &mut shape[off + k];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                bad = true;
            }
        }
    }
    if bad {
        let shapes: Vec<String> = arrs.iter().map(|a| shape_text(shape_of(a))).collect();
        (*ctx).raise(
            ErrorKind::ValueError,
            format!(
                "operands could not be broadcast together with shapes {} ",
                shapes.join(" ")
            ),
        );
        return 1;
    }
    if !dest.is_null() {
        let ds = shape_of(&*dest);
        let fits = ds.len() >= nd && {
            let off = ds.len() - nd;
            shape
                .iter()
                .enumerate()
                .all(|(k, &d)| d == 1 || d == ds[off + k])
        };
        if !fits {
            (*ctx).raise(
                ErrorKind::ValueError,
                format!(
                    "could not broadcast input array from shape {} into shape {}",
                    shape_text(&shape),
                    shape_text(ds)
                ),
            );
            return 1;
        }
        // The loop runs over the destination's shape (it may have more dimensions).
        for (k, &d) in ds.iter().enumerate().take(nd) {
            *out.add(k) = d;
        }
        return 0;
    }
    for (k, &d) in shape.iter().enumerate() {
        *out.add(k) = d;
    }
    0
}

/// `np.broadcast_to(a, shape)`: a view of `a` with `ndim` dimensions of this shape, stride 0
/// along the axes `a` lacks or has of length 1. Returns a new reference, or null with a
/// ValueError raised when `a` does not broadcast to the shape.
///
/// # Safety
/// `a` is live; `shape` has `ndim` values.
#[no_mangle]
pub unsafe extern "C" fn kiln_broadcast_view(
    ctx: *mut ExecCtx,
    a: *mut Array,
    ndim: i64,
    shape: *const i64,
) -> *mut Array {
    let nd = ndim.clamp(0, 4) as usize;
    let want = std::slice::from_raw_parts(shape, nd);
    let have = shape_of(&*a);
    let mut strides = vec![0i64; nd];
    let fits = have.len() <= nd
        && have.iter().enumerate().all(|(k, &d)| {
            let j = nd - have.len() + k;
            if d == want[j] {
                strides[j] = if d == 1 { 0 } else { (*a).strides[k] };
                true
            } else {
                d == 1
            }
        });
    if !fits {
        (*ctx).raise(
            ErrorKind::ValueError,
            format!(
                "operands could not be broadcast together with remapped shapes [original->remapped]: {} and requested shape {}",
                shape_text(have),
                shape_text(want)
            ),
        );
        return std::ptr::null_mut();
    }
    kiln_runtime::kiln_array_view(ctx, a, (*a).data, ndim, shape, strides.as_ptr())
}

/// Byte range an array's elements span.
unsafe fn extent(a: &Array) -> (usize, usize) {
    let size = DType::from_i64(a.dtype).size() as i64;
    let (mut lo, mut hi) = (0i64, 0i64);
    for (k, &d) in shape_of(a).iter().enumerate() {
        if d == 0 {
            return (0, 0);
        }
        let s = a.strides[k] * (d - 1);
        if s < 0 {
            lo += s;
        } else {
            hi += s;
        }
    }
    let base = a.data as i64;
    (
        (base + lo * size) as usize,
        (base + (hi + 1) * size) as usize,
    )
}

/// Might writing `dest` change what reading `src` sees (shared memory)? Then the loop
/// computes into a temporary first, so results equal NumPy's (`a[1:] = a[:-1]`).
///
/// # Safety
/// Both must be live arrays.
#[no_mangle]
pub unsafe extern "C" fn kiln_may_overlap(dest: *const Array, src: *const Array) -> i64 {
    if dest == src {
        // The same array read and written at the same index is safe elementwise.
        return 0;
    }
    let (a0, a1) = extent(&*dest);
    let (b0, b1) = extent(&*src);
    (a0 < b1 && b0 < a1) as i64
}

/// An array to write a result of this dtype and shape into: `old` itself when this is the
/// only reference to a contiguous array of that dtype and shape (in-place reassignment),
/// else a new one. Returns a new reference, or null with a MemoryError raised.
///
/// # Safety
/// `old` is null or live; `shape` has `ndim` values.
#[no_mangle]
pub unsafe extern "C" fn kiln_reuse_or_new(
    ctx: *mut ExecCtx,
    old: *mut Array,
    dtype: i64,
    ndim: i64,
    shape: *const i64,
) -> *mut Array {
    if !old.is_null() {
        let a = &*old;
        let want = std::slice::from_raw_parts(shape, ndim.max(0) as usize);
        let contiguous = {
            let mut expect = 1i64;
            let mut ok = true;
            for k in (0..a.ndim as usize).rev() {
                if a.shape[k] != 1 && a.strides[k] != expect {
                    ok = false;
                }
                expect *= a.shape[k];
            }
            ok
        };
        if a.refcount.load(std::sync::atomic::Ordering::Acquire) == 1
            && a.base.is_null()
            && a.dtype == dtype
            && shape_of(a) == want
            && contiguous
        {
            kiln_runtime::kiln_incref(old as *mut u8);
            return old;
        }
    }
    kiln_runtime::kiln_array_new(ctx, dtype, ndim, shape, 2)
}

/// NumPy's pairwise summation, driven by the generated loop one leaf block at a time: the
/// plan lists the leaves (≤ 128 elements) of NumPy's recursion and how partial sums combine.
pub struct PairwisePlan {
    ops: Vec<PwOp>,
    pos: usize,
    stack: Vec<f64>,
    /// Combine in f32, as NumPy's float32 sum does.
    f32: bool,
}

enum PwOp {
    Leaf(i64, i64),
    Combine,
}

/// Blocks the generated loop fills at a time: whole subtrees of NumPy's recursion of up to
/// this many elements, each summed by `pairwise` exactly as NumPy sums that subtree (so the
/// loop calls the runtime once per few thousand elements, not once per 128).
pub const PW_BLOCK: i64 = 4096;

fn plan_into(ops: &mut Vec<PwOp>, lo: i64, n: i64) {
    if n <= PW_BLOCK {
        ops.push(PwOp::Leaf(lo, n));
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        plan_into(ops, lo, n2);
        plan_into(ops, lo + n2, n - n2);
        ops.push(PwOp::Combine);
    }
}

impl PairwisePlan {
    fn run_combines(&mut self) {
        while let Some(PwOp::Combine) = self.ops.get(self.pos) {
            let b = self.stack.pop().unwrap_or(0.0);
            let a = self.stack.pop().unwrap_or(0.0);
            self.stack.push(if self.f32 {
                (a as f32 + b as f32) as f64
            } else {
                a + b
            });
            self.pos += 1;
        }
    }
}

#[no_mangle]
pub extern "C" fn kiln_pw_begin(n: i64, f32: i64) -> *mut PairwisePlan {
    let mut ops = Vec::new();
    if n > 0 {
        plan_into(&mut ops, 0, n);
    }
    Box::into_raw(Box::new(PairwisePlan {
        ops,
        pos: 0,
        stack: Vec::new(),
        f32: f32 != 0,
    }))
}

/// The next leaf block: writes its start and length, returns 0 when there is none.
///
/// # Safety
/// `plan` comes from `kiln_pw_begin`; `lo`/`len` are writable.
#[no_mangle]
pub unsafe extern "C" fn kiln_pw_next(plan: *mut PairwisePlan, lo: *mut i64, len: *mut i64) -> i64 {
    let p = &mut *plan;
    p.run_combines();
    match p.ops.get(p.pos) {
        Some(PwOp::Leaf(a, n)) => {
            *lo = *a;
            *len = *n;
            p.pos += 1;
            1
        }
        _ => 0,
    }
}

/// The nodes of NumPy's pairwise tree over `n` elements cut at the shallowest depth with
/// at least 16 nodes (or fewer, where subtrees are leaves), left to right: the units a
/// threaded sum hands to workers. Writes (start, len) pairs; returns the count.
fn pw_cut(lo: i64, n: i64, depth: u32, out: &mut Vec<(i64, i64)>) {
    if n <= 128 || depth == 0 {
        out.push((lo, n));
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pw_cut(lo, n2, depth - 1, out);
        pw_cut(lo + n2, n - n2, depth - 1, out);
    }
}

fn pw_depth(max_nodes: i64) -> u32 {
    // 2^depth nodes at most; 16 is plenty for balance on a few cores.
    (max_nodes.clamp(1, 16) as u64).ilog2()
}

/// # Safety
/// `out` has room for `2 * max_nodes` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_pw_nodes(n: i64, max_nodes: i64, out: *mut i64) -> i64 {
    let mut nodes = Vec::new();
    pw_cut(0, n.max(0), pw_depth(max_nodes), &mut nodes);
    for (k, (a, len)) in nodes.iter().enumerate() {
        *out.add(2 * k) = *a;
        *out.add(2 * k + 1) = *len;
    }
    nodes.len() as i64
}

/// Combine node sums as NumPy's recursion adds them, then start from 0.0 as `np.sum` does.
///
/// # Safety
/// `sums` holds one f64 per node of `kiln_pw_nodes(n, max_nodes)`.
#[no_mangle]
pub unsafe extern "C" fn kiln_pw_combine(n: i64, max_nodes: i64, sums: *const f64) -> f64 {
    fn walk(n: i64, depth: u32, next: &mut usize, sums: *const f64) -> f64 {
        if n <= 128 || depth == 0 {
            // SAFETY: one slot per node, visited in order.
            let v = unsafe { *sums.add(*next) };
            *next += 1;
            v
        } else {
            let mut n2 = n / 2;
            n2 -= n2 % 8;
            let a = walk(n2, depth - 1, next, sums);
            a + walk(n - n2, depth - 1, next, sums)
        }
    }
    if n <= 0 {
        return 0.0;
    }
    let mut next = 0;
    0.0 + walk(n, pw_depth(max_nodes), &mut next, sums)
}

/// A block's sum, as NumPy's `pairwise_sum` computes that subtree, pushed onto the plan's
/// stack. `f32` says the buffer holds f32 values summed in f32.
///
/// # Safety
/// `buf` holds `len` values of the given width.
#[no_mangle]
pub unsafe extern "C" fn kiln_pw_leaf(plan: *mut PairwisePlan, buf: *const u8, len: i64, f32: i64) {
    let n = len.max(0) as usize;
    let v = if f32 != 0 {
        let b = std::slice::from_raw_parts(buf as *const f32, n);
        subtree(b) as f64
    } else {
        let b = std::slice::from_raw_parts(buf as *const f64, n);
        subtree(b)
    };
    (*plan).stack.push(v);
}

/// NumPy's pairwise sum of a whole subtree (its recursion above 128 elements, `leaf` below).
fn subtree<T: Copy + Default + std::ops::Add<Output = T>>(a: &[T]) -> T {
    let n = a.len();
    if n <= 128 {
        return leaf(a);
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    subtree(&a[..n2]) + subtree(&a[n2..])
}

fn leaf<T: Copy + Default + std::ops::Add<Output = T>>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::default();
        for &x in a {
            res = res + x;
        }
        return res;
    }
    let mut r = [T::default(); 8];
    r.copy_from_slice(&a[..8]);
    let mut i = 8;
    while i < n - n % 8 {
        for j in 0..8 {
            r[j] = r[j] + a[i + j];
        }
        i += 8;
    }
    let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    while i < n {
        res = res + a[i];
        i += 1;
    }
    res
}

/// The total (0.0 plus the pairwise sum, as NumPy's reduction starts), freeing the plan.
/// For f32 sums the combines happen in f32, as in NumPy.
///
/// # Safety
/// `plan` comes from `kiln_pw_begin` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn kiln_pw_end(plan: *mut PairwisePlan) -> f64 {
    let mut p = Box::from_raw(plan);
    p.run_combines();
    let total = p.stack.pop().unwrap_or(0.0);
    if p.f32 {
        (0.0f32 + total as f32) as f64
    } else {
        0.0 + total
    }
}

/// What `display(v)`, `clear_output()` and a finished figure hand to the session running
/// the cell.
pub enum DisplayEvent {
    /// The flattened value (8-byte words) and its index in the program's display types.
    Value(*const u64, usize),
    Clear(bool),
    /// A PNG picture and its title.
    Image(Vec<u8>, Option<String>),
}

type DisplayHook = Box<dyn FnMut(DisplayEvent)>;

thread_local! {
    /// Set by the session on the thread that runs a cell.
    static DISPLAY_HOOK: std::cell::RefCell<Option<DisplayHook>> = const { std::cell::RefCell::new(None) };
}

/// Install (or remove) the display hook of the current thread.
pub fn set_display_hook(hook: Option<DisplayHook>) {
    DISPLAY_HOOK.with(|h| *h.borrow_mut() = hook);
}

pub(crate) fn display_event(ctx: *mut ExecCtx, ev: DisplayEvent) {
    // Text printed before the display goes out first.
    // SAFETY: ctx is the live context of the running cell.
    unsafe { (*ctx).flush() };
    DISPLAY_HOOK.with(|h| {
        if let Some(f) = h.borrow_mut().as_mut() {
            f(ev);
        }
    });
}

/// # Safety
/// `ctx` is live; `vals` points at the flattened value of display type `k`.
#[no_mangle]
pub unsafe extern "C" fn kiln_display(ctx: *mut ExecCtx, vals: *const u64, k: i64) {
    display_event(ctx, DisplayEvent::Value(vals, k as usize));
}

/// # Safety
/// `ctx` is live.
#[no_mangle]
pub unsafe extern "C" fn kiln_clear_output(ctx: *mut ExecCtx, wait: i64) {
    display_event(ctx, DisplayEvent::Clear(wait != 0));
}

/// Python's `round(i, n)` for an int: unchanged for n >= 0, else to a multiple of 10^-n,
/// ties to even.
#[no_mangle]
pub extern "C" fn kiln_round_int(x: i64, n: i64) -> i64 {
    if n >= 0 {
        return x;
    }
    if n < -18 {
        return 0;
    }
    let m = 10i128.pow((-n) as u32);
    let x = x as i128;
    let q = x.div_euclid(m);
    let r = x.rem_euclid(m);
    let twice = 2 * r;
    let q = if twice > m || (twice == m && q % 2 != 0) {
        q + 1
    } else {
        q
    };
    (q * m) as i64
}

/// `a.cumsum(axis=k)`: running sums along one axis, NumPy's dtypes (bool sums as i64),
/// added in order along the axis as NumPy does.
///
/// # Safety
/// `ctx` is live; `a` is a live array.
#[no_mangle]
pub unsafe extern "C" fn kiln_cumsum_axis(
    ctx: *mut ExecCtx,
    a: *const Array,
    axis: i64,
) -> *mut Array {
    let arr = &*a;
    let nd = arr.ndim.clamp(0, 4) as usize;
    let ax = if axis < 0 { axis + nd as i64 } else { axis };
    if ax < 0 || ax >= nd as i64 {
        (*ctx).raise(
            ErrorKind::AxisError,
            format!("axis {axis} is out of bounds for array of dimension {nd}"),
        );
        return std::ptr::null_mut();
    }
    let ax = ax as usize;
    let dt = DType::from_i64(arr.dtype);
    // NumPy accumulates bool and the narrow integers in int64.
    let out_dt = if dt == DType::Bool || dt.is_int() {
        DType::I64
    } else {
        dt
    };
    let out = kiln_runtime::kiln_array_new(ctx, out_dt as i64, nd as i64, arr.shape.as_ptr(), 0);
    if out.is_null() {
        return out;
    }
    let o = &*out;
    let shape = &arr.shape[..nd];
    let total: i64 = shape.iter().product();
    // Elements after the axis, in C order: the step between neighbours along it in `out`.
    let inner: i64 = shape[ax + 1..].iter().product();
    let mut idx = vec![0i64; nd];
    for flat in 0..total {
        let mut rest = flat;
        for d in (0..nd).rev() {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        let src = arr.data.offset(
            (idx.iter()
                .zip(&arr.strides[..nd])
                .map(|(i, s)| i * s)
                .sum::<i64>()
                * dt.size() as i64) as isize,
        );
        let dst = o.data.offset((flat * out_dt.size() as i64) as isize);
        let prev = (idx[ax] > 0).then(|| {
            o.data
                .offset(((flat - inner) * out_dt.size() as i64) as isize)
        });
        match dt {
            DType::Bool | DType::I64 | kiln_runtime::narrow_ints!() => {
                let v = dt.read_int(src);
                let p = prev.map(|p| *(p as *const i64)).unwrap_or(0);
                *(dst as *mut i64) = p.wrapping_add(v);
            }
            DType::F64 => {
                let p = prev.map(|p| *(p as *const f64)).unwrap_or(0.0);
                *(dst as *mut f64) = p + *(src as *const f64);
            }
            DType::F32 => {
                let p = prev.map(|p| *(p as *const f32)).unwrap_or(0.0);
                *(dst as *mut f32) = p + *(src as *const f32);
            }
            DType::C128 => {
                let (pr, pi) = prev
                    .map(|p| (*(p as *const f64), *(p as *const f64).add(1)))
                    .unwrap_or((0.0, 0.0));
                *(dst as *mut f64) = pr + *(src as *const f64);
                *(dst as *mut f64).add(1) = pi + *(src as *const f64).add(1);
            }
        }
    }
    out
}

/// The symbols above, for the JIT's symbol table.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_bcast", kiln_bcast as *const u8),
        ("kiln_may_overlap", kiln_may_overlap as *const u8),
        ("kiln_broadcast_view", kiln_broadcast_view as *const u8),
        ("kiln_reuse_or_new", kiln_reuse_or_new as *const u8),
        ("kiln_pw_begin", kiln_pw_begin as *const u8),
        ("kiln_pw_next", kiln_pw_next as *const u8),
        ("kiln_pw_leaf", kiln_pw_leaf as *const u8),
        ("kiln_pw_end", kiln_pw_end as *const u8),
        ("kiln_display", kiln_display as *const u8),
        ("kiln_clear_output", kiln_clear_output as *const u8),
        ("kiln_round_int", kiln_round_int as *const u8),
        ("kiln_cumsum_axis", kiln_cumsum_axis as *const u8),
        ("kiln_pw_nodes", kiln_pw_nodes as *const u8),
        ("kiln_pw_combine", kiln_pw_combine as *const u8),
    ]
}
