//! Random numbers: one process-global generator, the same numbers on every machine.
//!
//! - Generator: **xoshiro256\*\*** (Blackman & Vigna, 2018) on a 256-bit state.
//! - Seeding: `seed(n)` fills the four state words with four successive outputs of
//!   **SplitMix64** started at `n as u64`. The session starts from `seed(0)`; no OS
//!   entropy is ever used.
//! - `rand()`: a float in [0, 1) from the top 53 bits of one output: `(x >> 11) * 2^-53`.
//! - `randn()`: standard normal by **Marsaglia's polar method**: draw `u = 2·U1 - 1`,
//!   `v = 2·U2 - 1` (each `U` as for `rand()`) until `0 < s = u² + v² < 1`, then
//!   `f = sqrt(-2·ln(s)/s)`; return `u·f` and keep `v·f` for the next call (reseeding
//!   drops it). `ln` is the `libm` crate's (a port of musl), so the bits do not depend on
//!   the platform's math library.
//! - `randint(lo, hi)`: `lo + r` with `r` uniform in `[0, hi - lo)` by Lemire's
//!   multiply-and-reject method on 64-bit outputs (no modulo bias).
//!
//! Arrays are filled in C order, one draw per element.

use crate::alloc::{new_array, read_shape};
use crate::array::{Array, DType};
use crate::ctx::ExecCtx;
use crate::error::ErrorKind;
use crate::guard::{err, guard, KResult};
use std::sync::Mutex;

pub struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

const fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub const fn seeded(seed: u64) -> Rng {
        let mut x = seed;
        let a = splitmix64(&mut x);
        let b = splitmix64(&mut x);
        let c = splitmix64(&mut x);
        let d = splitmix64(&mut x);
        Rng {
            s: [a, b, c, d],
            spare: None,
        }
    }

    /// xoshiro256**'s next output.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1): the top 53 bits scaled by 2^-53.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Marsaglia's polar method; the second value is kept).
    pub fn normal(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * libm::log(s) / s).sqrt();
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }

    /// Uniform in [lo, hi); requires lo < hi.
    pub fn int_in(&mut self, lo: i64, hi: i64) -> i64 {
        let range = hi.wrapping_sub(lo) as u64;
        loop {
            let m = self.next_u64() as u128 * range as u128;
            let low = m as u64;
            if low < range {
                let t = range.wrapping_neg() % range;
                if low < t {
                    continue;
                }
            }
            return lo.wrapping_add((m >> 64) as u64 as i64);
        }
    }
}

static RNG: Mutex<Rng> = Mutex::new(Rng::seeded(0));

fn with_rng<T>(f: impl FnOnce(&mut Rng) -> T) -> T {
    f(&mut RNG.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Restarts the generator from `n` (the session calls `seed(0)` when it starts).
pub fn seed(n: u64) {
    with_rng(|r| *r = Rng::seeded(n));
}

unsafe fn fill_f64(
    ndim: i64,
    shape: *const i64,
    mut f: impl FnMut(&mut Rng) -> f64,
) -> KResult<*mut Array> {
    let a = new_array(DType::F64, read_shape(ndim, shape)?)?;
    let out = std::slice::from_raw_parts_mut((*a).data as *mut f64, (*a).size as usize);
    with_rng(|r| out.iter_mut().for_each(|o| *o = f(r)));
    Ok(a)
}

/// `np.random.seed(n)`.
#[no_mangle]
pub extern "C" fn kiln_seed(n: i64) {
    crate::guard::guard_pure((), || seed(n as u64))
}

/// `rand()` with no arguments.
#[no_mangle]
pub extern "C" fn kiln_rand_scalar() -> f64 {
    crate::guard::guard_pure(f64::NAN, || with_rng(|r| r.uniform()))
}

/// `rand(shape)`: uniform [0, 1) float64 array.
/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_rand(ctx: *mut ExecCtx, ndim: i64, shape: *const i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        fill_f64(ndim, shape, |r| r.uniform())
    })
}

/// `randn(shape)`: standard normal float64 array.
/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_randn(ctx: *mut ExecCtx, ndim: i64, shape: *const i64) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        fill_f64(ndim, shape, |r| r.normal())
    })
}

/// `randint(lo, hi, shape)`: int64 array uniform in [lo, hi).
/// # Safety
/// `ctx` live; `shape` points at `ndim` i64.
#[no_mangle]
pub unsafe extern "C" fn kiln_randint(
    ctx: *mut ExecCtx,
    lo: i64,
    hi: i64,
    ndim: i64,
    shape: *const i64,
) -> *mut Array {
    guard(ctx, std::ptr::null_mut(), || {
        if lo >= hi {
            return err(ErrorKind::ValueError, "low >= high");
        }
        let a = new_array(DType::I64, read_shape(ndim, shape)?)?;
        let out = std::slice::from_raw_parts_mut((*a).data as *mut i64, (*a).size as usize);
        with_rng(|r| out.iter_mut().for_each(|o| *o = r.int_in(lo, hi)));
        Ok(a)
    })
}
