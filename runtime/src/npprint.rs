//! NumPy's array printing (`numpy/_core/arrayprint.py`, NumPy 2 defaults): `repr(a)` and
//! `str(a)` with `precision=8`, `floatmode='maxprec'`, `suppress=False`, `linewidth=75`,
//! `threshold=1000`, `edgeitems=3`. The structure mirrors arrayprint.py (FloatingFormat,
//! IntegerFormat, `_formatArray`, `_extendLine`) so that differences are easy to trace.

use crate::alloc::shape_repr;
use crate::array::{Array, DType};
use crate::pyfmt::{gen_digits, Digits};

const PRECISION: usize = 8;
const LINEWIDTH: usize = 75;
const THRESHOLD: i64 = 1000;
const EDGEITEMS: usize = 3;

/// One element, widened (float32 values are kept as f64 and flagged on the formatter).
#[derive(Clone, Copy)]
enum Elem {
    Bool(bool),
    Int(i64),
    Float(f64),
    Complex(f64, f64),
}

/// Reads element `idx` of `a`.
unsafe fn read_elem(a: &Array, idx: &[usize]) -> Elem {
    let off: i64 = idx
        .iter()
        .enumerate()
        .map(|(k, &i)| i as i64 * a.strides[k])
        .sum();
    let dt = DType::from_i64(a.dtype);
    match crate::nd::read_e(dt, a.data.offset(off as isize * dt.size() as isize)) {
        crate::nd::E::B(b) => Elem::Bool(b),
        crate::nd::E::I(v) => Elem::Int(v),
        crate::nd::E::F(v) => Elem::Float(v),
        crate::nd::E::S(v) => Elem::Float(v as f64),
        crate::nd::E::C(r, i) => Elem::Complex(r, i),
    }
}

/// Decimal digits and point position of `|x|` (finite) as NumPy's Dragon4 gives them in
/// `unique` mode with a cutoff: the shortest round-trip digits (at float32 precision for
/// float32 data), or, when those run past the cutoff, the exact value rounded there.
///
/// `min_digits` (scientific only) asks for at least that many digits after the point;
/// Dragon4 fills them with further exact digits of the value (visible for float32:
/// `5.3423578e+02`, not `5.3423580e+02`).
fn np_digits(
    x: f64,
    f32: bool,
    positional: bool,
    precision: usize,
    min_digits: usize,
) -> (Vec<u8>, i32) {
    let (d, decpt) = gen_digits(x.abs(), Digits::Shortest { f32 });
    if positional {
        let frac = d.len() as i64 - decpt as i64;
        if frac > precision as i64 {
            return gen_digits(x.abs(), Digits::Fixed(precision));
        }
    } else if d.len() > precision + 1 {
        return gen_digits(x.abs(), Digits::Sig(precision + 1));
    } else if d.len() < min_digits + 1 && d != b"0" {
        return gen_digits(x.abs(), Digits::Sig(min_digits + 1));
    }
    (d, decpt)
}

/// `dragon4_positional` pieces: (sign + integer part, fractional digits).
fn positional_parts(x: f64, f32: bool, precision: usize, sign_plus: bool) -> (String, String) {
    let (d, decpt) = np_digits(x, f32, true, precision, 0);
    let ds = String::from_utf8(d).unwrap_or_default();
    let (ip, fp) = if decpt <= 0 {
        ("0".to_string(), "0".repeat((-decpt) as usize) + &ds)
    } else if decpt as usize >= ds.len() {
        (
            ds.clone() + &"0".repeat(decpt as usize - ds.len()),
            String::new(),
        )
    } else {
        (
            ds[..decpt as usize].to_string(),
            ds[decpt as usize..].to_string(),
        )
    };
    // A value that is zero at this precision still has its digits "0".
    let fp = if ds == "0" { String::new() } else { fp };
    let sign = if x.is_sign_negative() {
        "-"
    } else if sign_plus {
        "+"
    } else {
        ""
    };
    (format!("{sign}{ip}"), fp)
}

/// `dragon4_scientific` pieces: (sign + leading digit, fractional digits, exponent).
fn scientific_parts(
    x: f64,
    f32: bool,
    precision: usize,
    min_digits: usize,
    sign_plus: bool,
) -> (String, String, i32) {
    let (d, decpt) = np_digits(x, f32, false, precision, min_digits);
    let ds = String::from_utf8(d).unwrap_or_default();
    let sign = if x.is_sign_negative() {
        "-"
    } else if sign_plus {
        "+"
    } else {
        ""
    };
    let exp = if ds == "0" { 0 } else { decpt - 1 };
    (format!("{sign}{}", &ds[..1]), ds[1..].to_string(), exp)
}

fn exp_string(exp: i32, min_digits: usize) -> String {
    let digits = exp.unsigned_abs().to_string();
    let width = min_digits.max(2);
    format!(
        "{}{}{}",
        if exp < 0 { '-' } else { '+' },
        "0".repeat(width.saturating_sub(digits.len())),
        digits
    )
}

/// arrayprint.py's `FloatingFormat` in `maxprec` mode with `trim='.'`.
struct FloatFormat {
    f32: bool,
    sign_plus: bool,
    exp_format: bool,
    precision: usize,
    min_digits: usize,
    pad_left: usize,
    pad_right: usize,
    exp_size: usize,
}

impl FloatFormat {
    fn new(data: &[f64], f32: bool, sign_plus: bool) -> FloatFormat {
        let finite: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
        let mut f = FloatFormat {
            f32,
            sign_plus,
            exp_format: false,
            precision: PRECISION,
            min_digits: 0,
            pad_left: 0,
            pad_right: 0,
            exp_size: 0,
        };
        let abs_nz: Vec<f64> = finite
            .iter()
            .filter(|v| **v != 0.0)
            .map(|v| v.abs())
            .collect();
        if !abs_nz.is_empty() {
            let max = abs_nz.iter().copied().fold(f64::MIN, f64::max);
            let min = abs_nz.iter().copied().fold(f64::MAX, f64::min);
            // NumPy compares in the array's own precision; for float32 the ratio is computed
            // in float32 too.
            let ratio = if f32 {
                (max as f32 / min as f32) as f64
            } else {
                max / min
            };
            // NumPy 2.3+: the cutoff is 10**min(8, finfo(dtype).precision), 1e6 for float32.
            let cutoff = if f32 { 1e6 } else { 1e8 };
            if max >= cutoff || min < 0.0001 || ratio > 1000.0 {
                f.exp_format = true;
            }
        }
        if finite.is_empty() {
            f.pad_left = 0;
            f.pad_right = 0;
        } else if f.exp_format {
            let parts: Vec<(String, String, i32)> = finite
                .iter()
                .map(|&x| scientific_parts(x, f32, PRECISION, 0, sign_plus))
                .collect();
            f.exp_size = parts
                .iter()
                .map(|p| exp_string(p.2, 0).len() - 1)
                .max()
                .unwrap_or(2);
            f.precision = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
            f.min_digits = f.precision;
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(0);
            f.pad_right = f.exp_size + 2 + f.precision;
        } else {
            let parts: Vec<(String, String)> = finite
                .iter()
                .map(|&x| positional_parts(x, f32, PRECISION, sign_plus))
                .collect();
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(0);
            f.pad_right = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
        }
        if finite.len() != data.len() {
            let neginf = sign_plus || data.iter().any(|v| v.is_infinite() && *v < 0.0);
            let offset = f.pad_right as i64 + 1;
            f.pad_left = (f.pad_left as i64)
                .max(3 - offset)
                .max(3 + neginf as i64 - offset) as usize;
        }
        f
    }

    fn format(&self, x: f64) -> String {
        if !x.is_finite() {
            let ret = if x.is_nan() {
                if self.sign_plus { "+nan" } else { "nan" }.to_string()
            } else if x < 0.0 {
                "-inf".to_string()
            } else if self.sign_plus {
                "+inf".to_string()
            } else {
                "inf".to_string()
            };
            let width = self.pad_left + self.pad_right + 1;
            return format!("{}{ret}", " ".repeat(width.saturating_sub(ret.len())));
        }
        if self.exp_format {
            let (ip, mut fp, exp) =
                scientific_parts(x, self.f32, self.precision, self.min_digits, self.sign_plus);
            while fp.len() < self.min_digits {
                fp.push('0');
            }
            format!(
                "{}{ip}.{fp}e{}",
                " ".repeat(self.pad_left.saturating_sub(ip.len())),
                exp_string(exp, self.exp_size)
            )
        } else {
            let (ip, fp) = positional_parts(x, self.f32, self.precision, self.sign_plus);
            format!(
                "{}{ip}.{fp}{}",
                " ".repeat(self.pad_left.saturating_sub(ip.len())),
                " ".repeat(self.pad_right.saturating_sub(fp.len()))
            )
        }
    }
}

enum Formatter {
    Bool,
    Int(usize),
    Float(FloatFormat),
    Complex(FloatFormat, FloatFormat),
}

impl Formatter {
    fn new(dtype: DType, data: &[Elem]) -> Formatter {
        match dtype {
            DType::Bool => Formatter::Bool,
            DType::I64
            | DType::I8
            | DType::I16
            | DType::I32
            | DType::U8
            | DType::U16
            | DType::U32 => {
                let w = data
                    .iter()
                    .map(|e| match e {
                        Elem::Int(v) => v.to_string().len(),
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                Formatter::Int(w)
            }
            DType::F64 | DType::F32 => {
                let vals: Vec<f64> = data
                    .iter()
                    .map(|e| match e {
                        Elem::Float(v) => *v,
                        _ => 0.0,
                    })
                    .collect();
                Formatter::Float(FloatFormat::new(&vals, dtype == DType::F32, false))
            }
            DType::C128 => {
                let (re, im): (Vec<f64>, Vec<f64>) = data
                    .iter()
                    .map(|e| match e {
                        Elem::Complex(r, i) => (*r, *i),
                        _ => (0.0, 0.0),
                    })
                    .unzip();
                Formatter::Complex(
                    FloatFormat::new(&re, false, false),
                    FloatFormat::new(&im, false, true),
                )
            }
        }
    }

    fn format(&self, e: Elem, zero_d: bool) -> String {
        match (self, e) {
            (Formatter::Bool, Elem::Bool(b)) => match (b, zero_d) {
                (true, true) => "True".into(),
                (true, false) => " True".into(),
                (false, _) => "False".into(),
            },
            (Formatter::Int(w), Elem::Int(v)) => format!("{v:>w$}"),
            (Formatter::Float(f), Elem::Float(v)) => f.format(v),
            (Formatter::Complex(fr, fi), Elem::Complex(r, i)) => {
                let rs = fr.format(r);
                let is = fi.format(i);
                // The 'j' goes before the imaginary part's trailing padding.
                let sp = is.trim_end().len();
                format!("{rs}{}j{}", &is[..sp], &is[sp..])
            }
            _ => String::new(),
        }
    }
}

/// `_extendLine`: wrap before `word` when the line would pass `line_width`.
fn extend_line(s: &mut String, line: &mut String, word: &str, line_width: i64, prefix: &str) {
    let mut needs_wrap = (line.len() + word.len()) as i64 > line_width;
    if line.len() <= prefix.len() {
        needs_wrap = false;
    }
    if needs_wrap {
        s.push_str(line.trim_end());
        s.push('\n');
        *line = prefix.to_string();
    }
    line.push_str(word);
}

struct Printer<'a> {
    shape: &'a [usize],
    word: &'a dyn Fn(&[usize]) -> String,
    sep: &'a str,
    summary: bool,
}

impl Printer<'_> {
    /// `_formatArray`'s `recurser`.
    fn recurse(&self, index: &mut Vec<usize>, hanging: &str, curr_width: i64) -> String {
        let axis = index.len();
        let axes_left = self.shape.len() - axis;
        if axes_left == 0 {
            return (self.word)(index);
        }
        let next_hanging = format!("{hanging} ");
        let next_width = curr_width - 1;
        let a_len = self.shape[axis];
        let show_summary = self.summary && 2 * EDGEITEMS < a_len;
        let (leading, trailing) = if show_summary {
            (EDGEITEMS, EDGEITEMS)
        } else {
            (0, a_len)
        };
        let mut sub = |i: usize, hang: &str, w: i64| {
            index.push(i);
            let r = self.recurse(index, hang, w);
            index.pop();
            r
        };
        let mut s = String::new();
        if axes_left == 1 {
            let elem_width = curr_width - (self.sep.trim_end().len().max(1)) as i64;
            let mut line = hanging.to_string();
            for i in 0..leading {
                let w = sub(i, &next_hanging, next_width);
                extend_line(&mut s, &mut line, &w, elem_width, hanging);
                line.push_str(self.sep);
            }
            if show_summary {
                extend_line(&mut s, &mut line, "...", elem_width, hanging);
                line.push_str(self.sep);
            }
            for i in (2..=trailing).rev() {
                let w = sub(a_len - i, &next_hanging, next_width);
                extend_line(&mut s, &mut line, &w, elem_width, hanging);
                line.push_str(self.sep);
            }
            let w = sub(a_len - 1, &next_hanging, next_width);
            extend_line(&mut s, &mut line, &w, elem_width, hanging);
            s.push_str(&line);
        } else {
            let line_sep = format!("{}{}", self.sep.trim_end(), "\n".repeat(axes_left - 1));
            for i in 0..leading {
                let nested = sub(i, &next_hanging, next_width);
                s.push_str(&format!("{hanging}{nested}{line_sep}"));
            }
            if show_summary {
                s.push_str(&format!("{hanging}...{line_sep}"));
            }
            for i in (2..=trailing).rev() {
                let nested = sub(a_len - i, &next_hanging, next_width);
                s.push_str(&format!("{hanging}{nested}{line_sep}"));
            }
            let nested = sub(a_len - 1, &next_hanging, next_width);
            s.push_str(&format!("{hanging}{nested}"));
        }
        format!("[{}]", &s[hanging.len()..])
    }
}

/// `array2string(a, separator=sep, prefix=prefix, suffix=suffix)` with NumPy's defaults.
unsafe fn array2string(a: &Array, sep: &str, prefix: &str, suffix: &str) -> String {
    let nd = a.ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let shape: Vec<usize> = a.shape[..nd].iter().map(|&d| d.max(0) as usize).collect();
    let size: usize = shape.iter().product();
    if size == 0 {
        return "[]".into();
    }
    let summary = size as i64 > THRESHOLD;
    // The formatter sees only what is printed (`_leading_trailing`).
    let axis_items: Vec<Vec<usize>> = shape
        .iter()
        .map(|&n| {
            if summary && n > 2 * EDGEITEMS {
                (0..EDGEITEMS).chain(n - EDGEITEMS..n).collect()
            } else {
                (0..n).collect()
            }
        })
        .collect();
    let mut shown = Vec::new();
    let mut idx = vec![0usize; nd];
    collect(a, &axis_items, 0, &mut idx, &mut shown);
    let fmt = Formatter::new(DType::from_i64(a.dtype), &shown);
    let zero_d = nd == 0;
    let word = |ix: &[usize]| fmt.format(read_elem(a, ix), zero_d);
    let printer = Printer {
        shape: &shape,
        word: &word,
        sep,
        summary,
    };
    let hanging = format!(" {}", " ".repeat(prefix.len()));
    let width = LINEWIDTH as i64 - suffix.len() as i64;
    printer.recurse(&mut Vec::new(), &hanging, width)
}

unsafe fn collect(
    a: &Array,
    items: &[Vec<usize>],
    k: usize,
    idx: &mut [usize],
    out: &mut Vec<Elem>,
) {
    if k == items.len() {
        out.push(read_elem(a, idx));
        return;
    }
    for &i in &items[k] {
        idx[k] = i;
        collect(a, items, k + 1, idx, out);
    }
}

/// `str(a)`: `[0.  0.5 1. ]`.
/// # Safety
/// `a` must be a live array.
pub unsafe fn array_str(a: *const Array) -> String {
    let a = &*a;
    if a.ndim == 0 {
        return match read_elem(a, &[]) {
            Elem::Bool(b) => if b { "True" } else { "False" }.into(),
            Elem::Int(v) => v.to_string(),
            Elem::Float(v) if a.dtype == DType::F32 as i64 => crate::pyfmt::f32_repr(v as f32),
            Elem::Float(v) => crate::pyfmt::float_repr(v),
            Elem::Complex(r, i) => crate::pyfmt::complex_repr(r, i),
        };
    }
    array2string(a, " ", "", "")
}

/// `repr(a)`: `array([0. , 0.5, 1. ])`, with `shape=` / `dtype=` where NumPy adds them.
/// # Safety
/// `a` must be a live array.
pub unsafe fn array_repr(a: *const Array) -> String {
    let a = &*a;
    let prefix = "array(";
    let lst = array2string(a, ", ", prefix, ")");
    let nd = a.ndim.clamp(0, crate::array::MAX_NDIM as i64) as usize;
    let shape = &a.shape[..nd];
    let size: i64 = shape.iter().product();
    let dt = DType::from_i64(a.dtype);
    let mut extras = Vec::new();
    if (size == 0 && shape != [0]) || size > THRESHOLD {
        extras.push(format!("shape={}", shape_repr(shape)));
    }
    // float64, int64, bool and complex128 are implied by how the values print.
    if dt == DType::F32 || dt.narrow_int().is_some() || size == 0 {
        extras.push(format!("dtype={}", dt.numpy_name()));
    }
    if extras.is_empty() {
        return format!("{prefix}{lst})");
    }
    let arr_str = format!("{prefix}{lst},");
    let extra_str = format!("{})", extras.join(", "));
    let last_line_len = arr_str.len() - arr_str.rfind('\n').map_or(0, |p| p + 1);
    let spacer = if last_line_len + extra_str.len() + 1 > LINEWIDTH {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_string()
    };
    format!("{arr_str}{spacer}{extra_str}")
}

/// An HTML `<table>` of a 2-D array of at most 20×20 elements (for Jupyter's `text/html`),
/// each cell formatted as in the array's repr (without the column padding); `None`
/// otherwise.
pub fn html_table(a: &crate::value::ArrayRef) -> Option<String> {
    let shape = a.shape();
    if shape.len() != 2 || shape[0] > 20 || shape[1] > 20 || shape.contains(&0) {
        return None;
    }
    // SAFETY: `a` holds a reference, so the array is alive.
    let ar = unsafe { &*a.as_ptr() };
    let (r, c) = (shape[0] as usize, shape[1] as usize);
    let elems: Vec<Elem> = (0..r * c)
        .map(|i| unsafe { read_elem(ar, &[i / c, i % c]) })
        .collect();
    let fmt = Formatter::new(DType::from_i64(ar.dtype), &elems);
    let mut s = String::from("<table>\n");
    for i in 0..r {
        s.push_str("<tr>");
        for j in 0..c {
            s.push_str("<td>");
            s.push_str(fmt.format(elems[i * c + j], false).trim());
            s.push_str("</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>");
    Some(s)
}
