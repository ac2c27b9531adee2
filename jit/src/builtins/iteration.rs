//! The iterables of `for` loops: `range`, `prange` (a parallel range), `ndrange` (index
//! tuples over a whole index space), `ndindex` (NumPy's spelling of the same), `enumerate` and `zip`. `lower/loops.rs` lowers them as loops; called anywhere
//! else they are an error that says so.

use super::*;
use crate::lower::type_err;

pub(crate) static DEFS: &[Def] = &[
    Def {
        names: &["range"],
        params: &[pos("start"), pos_opt("stop", "None"), pos_opt("step", "1")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "The integers of a for loop: range(stop), range(start, stop[, step]).",
        lower: only_in_for,
    },
    Def {
        names: &["prange"],
        params: &[pos("start"), pos_opt("stop", "None"), pos_opt("step", "1")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "range() whose iterations run in parallel (as under @par).",
        lower: only_in_for,
    },
    Def {
        names: &["ndrange"],
        params: &[star("shape")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Index tuples over a whole index space, row-major: for i, j in ndrange(h, w); \
               parallel under @par and @gpu.",
        lower: only_in_for,
    },
    Def {
        names: &["ndindex"],
        params: &[star("shape")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Index tuples of an array's shape, row-major: for idx in np.ndindex(a.shape); \
               a[idx] reads the element.",
        lower: only_in_for,
    },
    Def {
        names: &["enumerate"],
        params: &[pos("iterable"), opt("start", "0")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "(index, element) pairs of a 1-D array, a range or a zip: \
               for i, x in enumerate(a, start=0).",
        lower: only_in_for,
    },
    Def {
        names: &["zip"],
        params: &[star("iterables")],
        arrays: Arrays::Taken,
        method: Method::No,
        help: "Tuples of the elements of 1-D arrays and ranges side by side, as long as the \
               shortest: for x, y in zip(a, b).",
        lower: only_in_for,
    },
];

fn only_in_for(_: &mut Env<'_>, _: &mut FnCx, c: &mut Call<'_>) -> LResult<Expr> {
    type_err(
        c.span,
        format!(
            "{}() can only be used as the iterable of a for loop",
            c.name
        ),
    )
}
