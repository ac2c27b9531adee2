//! NumPy and Python functions Kiln does not have, each with the nearest thing that it does
//! have: the hint of the NameError a call of one gets (and of the TypeError for a method).

/// What to write instead of `name`, if it is a function Kiln knows it lacks.
pub(super) fn instead(name: &str) -> Option<&'static str> {
    INSTEAD
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, hint)| *hint)
}

const NO_SORT: &str =
    "Kiln sorts arrays with np.sort(a), a.sort() and np.argsort(a), and lists with sorted(xs): build on those";
const NO_LISTS: &str =
    "Kiln has arrays, tuples and lists of numbers, not dicts or sets: use array([...]) or zeros(n)";

pub(super) const INSTEAD: &[(&[&str], &str)] = &[
    (&["append"], "use concatenate((a, b))"),
    (
        &["column_stack"],
        "use stack((a, b), axis=1) for 1-D columns, hstack((a, b)) for 2-D arrays",
    ),
    (
        &["outer"],
        "loop over ndrange(n, m) and index the two arrays: out[i, j] = f(a[i], b[j])",
    ),
    (
        &["percentile", "quantile", "unique"],
        NO_SORT,
    ),
    (
        &["subplots", "subplot", "add_subplot", "gca", "gcf"],
        "Kiln draws one axes per figure: call figure() to start another figure",
    ),
    (
        &["xlim", "ylim", "axis", "xscale", "yscale"],
        "the axes fit the data with round ticks: plot only the range you want to see, e.g. plot(x[lo:hi], y[lo:hi])",
    ),
    (
        &["bar", "barh", "pie", "contour", "contourf", "fill_between", "errorbar", "pcolormesh"],
        "Kiln draws plot, scatter, hist and imshow (with colorbar)",
    ),
    (&["float_power"], "use x ** y with a float x"),
    (&["diff"], "use a[1:] - a[:-1]"),
    (&["cumprod"], "write it as a loop: p *= a[i]; out[i] = p"),
    (
        &["nanmean"],
        "use where(isnan(a), 0.0, a).sum() / (~isnan(a)).sum()",
    ),
    (&["count_nonzero"], "use (a != 0).sum()"),
    (
        &[
            "inv", "solve", "det", "eig", "eigh", "svd", "qr", "cholesky", "lstsq", "einsum",
        ],
        "Kiln's linear algebra is dot, matmul, @, norm, trace and matrix_power: write the algorithm with loops",
    ),
    (&["isclose"], "use abs(a - b) <= atol + rtol * abs(b)"),
    (
        &["allclose"],
        "use (abs(a - b) <= 1e-8 + 1e-5 * abs(b)).all()",
    ),
    (
        &["fmod"],
        "use a % b (Python's sign rule: the sign of b, not of a as fmod has it)",
    ),
    (&["divmod"], "use (a // b, a % b)"),
    (&["normal"], "use loc + scale * randn(*shape)"),
    (&["uniform"], "use low + (high - low) * rand(*shape)"),
    (
        &["choice", "shuffle", "permutation"],
        "draw indices with randint(0, n, size) and index the array",
    ),
    (
        &["nonzero", "argwhere", "flatnonzero"],
        "loop over the array and test each element",
    ),
    (
        &["tile", "repeat", "roll"],
        "write it as a loop over the indices",
    ),
    (&["dict", "set"], NO_LISTS),
    (
        &["tolist"],
        "make the list with a comprehension: [float(v) for v in a]",
    ),
    (
        &["map", "filter", "vectorize"],
        "apply the function to each element in a for loop",
    ),
    (
        &["isinstance", "type"],
        "types are static in Kiln: each variable has one type when the cell compiles",
    ),
    (
        &["input", "open"],
        "Kiln cells read no files or console input",
    ),
    (&["fsum"], "use sum(a) (NumPy's pairwise summation)"),
    (
        &["factorial", "gcd", "lcm", "comb", "perm"],
        "write it as a loop over integers",
    ),
    (&["item"], "index the element: a[i] or a[i, j]"),
];
