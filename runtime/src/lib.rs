//! Kiln's runtime: what compiled code calls into. Arrays, strings, printing and formatting,
//! math that Cranelift has no instruction for, and the execution context. It knows nothing
//! of the compiler or of Jupyter.

pub mod alloc;
pub mod array;
pub mod array_ops;
pub mod ctx;
pub mod error;
pub mod ffi;
pub mod format;
pub mod guard;
pub mod headroom;
pub mod linalg;
pub mod lists;
pub mod masks;
pub mod math;
pub mod nd;
pub mod npprint;
pub mod obj;
pub mod opencl;
pub mod par;
pub mod printf;
pub mod progress;
pub mod pyfmt;
pub mod random;
pub mod shapes;
pub mod sorting;
pub mod strings;
pub mod value;

pub use alloc::*;
pub use array::{Array, DType};
pub use array_ops::*;
pub use ctx::{ExecCtx, Stream};
pub use error::{ErrorKind, RuntimeError};
pub use ffi::{
    find_library, kiln_ffi_array_data, kiln_ffi_fault, kiln_ffi_guarded, kiln_ffi_open,
    kiln_ffi_sym, Library,
};
pub use format::*;
pub use linalg::{kiln_dot, kiln_dot_scalar};
pub use lists::*;
pub use masks::{kiln_mask_assign, kiln_mask_assign_array, kiln_mask_select, kiln_take};
pub use math::*;
pub use nd::*;
pub use npprint::html_table;
pub use obj::{kiln_decref, kiln_incref, live_objects, KStr};
pub use par::{kiln_par_for, kiln_par_for_lanes, set_threads, threads};
pub use random::{kiln_rand, kiln_rand_scalar, kiln_randint, kiln_randn, kiln_seed};
pub use shapes::{
    kiln_diagonal, kiln_flat_view, kiln_flip, kiln_join, kiln_matrix_power, kiln_meshgrid,
};
pub use sorting::{kiln_argsort, kiln_median, kiln_median_all, kiln_sort, kiln_sort_in_place};
pub use strings::*;
pub use value::{repr_value, str_value, ArrayRef, Value};

use ctx::{kiln_raise, kiln_raise_interrupt, kiln_raise_recursion, kiln_trace, kiln_trace_if_none};
use opencl::kiln_gpu_for;

/// Every `extern "C"` entry point with its address, for `JITBuilder::symbol`. The test
/// `symbols_complete` checks this list against the sources, so a new entry point that is
/// not registered fails the build's tests rather than a JIT link at run time.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    macro_rules! syms {
        ($($f:ident),* $(,)?) => { vec![$((stringify!($f), $f as *const u8)),*] };
    }
    syms![
        // ctx.rs
        kiln_raise,
        kiln_trace,
        kiln_trace_if_none,
        kiln_raise_interrupt,
        kiln_raise_recursion,
        // obj.rs
        kiln_incref,
        kiln_decref,
        // alloc.rs
        kiln_array_new,
        kiln_array_view,
        // array_ops.rs
        kiln_array_full_i64,
        kiln_array_full_f64,
        kiln_array_full_c128,
        kiln_fill_i64,
        kiln_fill_f64,
        kiln_fill_c128,
        kiln_arange_i64,
        kiln_arange_f64,
        kiln_linspace,
        kiln_array_copy,
        kiln_array_reduce,
        kiln_index_error,
        kiln_raise_msg,
        kiln_int_bounds_error,
        // nd.rs
        kiln_array_reshape,
        kiln_array_transpose,
        kiln_array_slice,
        kiln_array_astype,
        kiln_eye,
        kiln_cumsum,
        kiln_array_reduce_axis,
        // masks.rs
        kiln_mask_select,
        kiln_mask_assign,
        kiln_mask_assign_array,
        kiln_take,
        // linalg.rs
        kiln_dot,
        kiln_dot_scalar,
        // shapes.rs
        kiln_flip,
        kiln_join,
        kiln_meshgrid,
        kiln_diagonal,
        kiln_flat_view,
        kiln_matrix_power,
        // sorting.rs
        kiln_sort,
        kiln_sort_in_place,
        kiln_argsort,
        kiln_median,
        kiln_median_all,
        // random.rs
        kiln_seed,
        kiln_rand_scalar,
        kiln_rand,
        kiln_randn,
        kiln_randint,
        // par.rs
        kiln_par_for,
        kiln_par_for_lanes,
        // opencl/mod.rs
        kiln_gpu_for,
        // ffi/
        kiln_ffi_open,
        kiln_ffi_sym,
        kiln_ffi_guarded,
        kiln_ffi_fault,
        kiln_ffi_array_data,
        // lists.rs
        kiln_list_new,
        kiln_list_push,
        kiln_list_len,
        kiln_list_at,
        kiln_list_pop,
        kiln_list_insert,
        kiln_list_concat,
        kiln_list_extend,
        kiln_list_repeat,
        kiln_list_imul,
        kiln_list_range,
        kiln_list_reverse,
        kiln_list_sort,
        kiln_list_contains,
        kiln_list_reduce,
        kiln_list_repr,
        kiln_list_to_array,
        // strings.rs
        kiln_str_new,
        kiln_str_concat,
        kiln_str_len,
        kiln_raise_str,
        kiln_str_eq,
        kiln_write,
        kiln_write_str,
        // format.rs
        kiln_fmt_i64,
        kiln_fmt_bool,
        kiln_fmt_f64,
        kiln_fmt_f32,
        kiln_fmt_c128,
        kiln_fmt_str,
        kiln_fmt_array,
        kiln_repr_str,
        kiln_repr_array,
        // math.rs
        kiln_m_exp,
        kiln_m_expm1,
        kiln_m_cbrt,
        kiln_m_exp2,
        kiln_m_log1p,
        kiln_m_log,
        kiln_m_log2,
        kiln_m_log10,
        kiln_m_sin,
        kiln_m_cos,
        kiln_m_tan,
        kiln_m_arcsin,
        kiln_m_arccos,
        kiln_m_arctan,
        kiln_m_sinh,
        kiln_m_cosh,
        kiln_m_tanh,
        kiln_m_arctan2,
        kiln_m_hypot,
        kiln_m_pow,
        kiln_m_round_n,
        kiln_m_np_round_n,
        kiln_m_py_fmod,
        kiln_m_py_floordiv,
        kiln_pow_i64,
        kiln_c_exp,
        kiln_c_log,
        kiln_c_log2,
        kiln_c_log10,
        kiln_c_sqrt,
        kiln_c_sin,
        kiln_c_cos,
        kiln_c_tan,
        kiln_c_sinh,
        kiln_c_cosh,
        kiln_c_tanh,
        kiln_c_arcsin,
        kiln_c_arccos,
        kiln_c_arctan,
        kiln_c_div,
        kiln_c_pow,
        kiln_c_abs,
    ]
}

#[cfg(test)]
mod tests;
