//! Python's number and string formatting: `repr(float)`, `str(complex)` and the format-spec
//! mini-language of `format()` / f-strings, reproduced from CPython's `pystrtod.c`
//! (`format_float_short`) and `formatter_unicode.c`.
//!
//! Digits come from Rust's float formatting, which is exact: `{:e}` gives the shortest
//! round-trip digits (CPython's dtoa mode 0) and `{:.N}` / `{:.Ne}` round the exact binary
//! value half-to-even (dtoa modes 3 and 2). CPython's layout rules are applied on top.

use crate::error::ErrorKind;
use crate::guard::{err, KResult};
use crate::printf;

/// A format spec that starts with this character is a printf-style conversion (`%5.2f` of
/// `"%5.2f" % x`, without the `%`), as [`printf`] formats it, not Python's format-spec
/// language: the compiler writes such specs for the `%` operator on strings.
pub const PRINTF: char = '\u{0}';

/// How many digits to generate.
#[derive(Clone, Copy)]
pub(crate) enum Digits {
    /// Shortest string that round-trips (`repr`); `f32` when the value is a float32.
    Shortest { f32: bool },
    /// This many significant digits.
    Sig(usize),
    /// This many digits after the decimal point.
    Fixed(usize),
}

/// Decimal digits of a finite `v >= 0`: `(digits, decpt)` with value = 0.d1d2.. × 10^decpt,
/// no trailing zeros (zero gives "0" with decpt 1), as dtoa returns them.
pub(crate) fn gen_digits(v: f64, mode: Digits) -> (Vec<u8>, i32) {
    let (mut digits, decpt) = match mode {
        Digits::Shortest { .. } | Digits::Sig(_) => {
            let s = match mode {
                Digits::Shortest { f32: true } => format!("{:e}", v as f32),
                Digits::Shortest { f32: false } => format!("{v:e}"),
                Digits::Sig(n) => format!("{:.*e}", n.max(1) - 1, v),
                Digits::Fixed(_) => unreachable!(),
            };
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
            (d, exp + 1)
        }
        Digits::Fixed(n) => {
            let s = format!("{:.*}", n, v);
            let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
            let mut d: Vec<u8> = ip.bytes().chain(fp.bytes()).collect();
            let mut decpt = ip.len() as i32;
            let lead = d.iter().take_while(|&&b| b == b'0').count();
            d.drain(..lead);
            decpt -= lead as i32;
            (d, decpt)
        }
    };
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return (vec![b'0'], 1);
    }
    if let Digits::Shortest { f32 } = mode {
        break_shortest_tie(v, f32, &mut digits, decpt);
    }
    (digits, decpt)
}

/// When the value lies exactly halfway between two shortest candidates (`1577249453099395.25`
/// has `…395.2` and `…395.3`), CPython's dtoa and NumPy's Dragon4 take the even digit while
/// Rust takes the larger; make the choice theirs.
fn break_shortest_tie(v: f64, f32: bool, digits: &mut [u8], decpt: i32) {
    let n = digits.len();
    // Ties need both neighbours to round-trip, so only long digit strings qualify.
    if n < if f32 { 6 } else { 15 } || digits[n - 1].is_multiple_of(2) {
        return;
    }
    // The exact value to n+1 significant digits; a tie means it is exactly P·10 + 5.
    let e = format!("{:.*e}", n, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    if exp.parse::<i32>().map(|x| x + 1) != Ok(decpt) {
        return;
    }
    let md: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    if md.len() != n + 1 || md[n] != b'5' {
        return;
    }
    // Exactness: a double's expansion has at most 767 significant digits.
    let full = format!("{:.800e}", v);
    let fd: Vec<u8> = full
        .split('e')
        .next()
        .unwrap_or("")
        .bytes()
        .filter(|b| b.is_ascii_digit())
        .collect();
    if fd.len() <= n + 1 || fd[..n + 1] != md[..] || fd[n + 1..].iter().any(|&b| b != b'0') {
        return;
    }
    // The candidates are P = md[..n] and P+1; keep the one whose last digit is even, if it
    // reads back as `v` (at a power of two the gap below is half the gap above, so the
    // lower candidate may belong to the next double down: 2**-24 is ...063e-08, not ...062).
    let before = digits.to_vec();
    let p = &md[..n];
    if digits[..] == p[..] {
        if p[n - 1] != b'9' {
            digits[n - 1] += 1;
        }
    } else if digits[..n - 1] == p[..n - 1] && digits[n - 1] == p[n - 1] + 1 {
        digits[n - 1] -= 1;
    }
    let text = format!("0.{}e{decpt}", String::from_utf8_lossy(digits));
    let same = if f32 {
        text.parse::<f32>().ok() == Some(v as f32)
    } else {
        text.parse::<f64>().ok() == Some(v)
    };
    if !same {
        digits.copy_from_slice(&before);
    }
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Flags {
    add_dot_0: bool,
    alt: bool,
    always_sign: bool,
    no_neg_0: bool,
    f32: bool,
}

impl Flags {
    /// `Py_DTSF_ALT` alone, as `%` formatting of a float passes it.
    pub(crate) fn alt(alt: bool) -> Flags {
        Flags {
            alt,
            ..Flags::default()
        }
    }
}

/// CPython's `PyOS_double_to_string` + `format_float_short`, lowercase. `code` is one of
/// `e f g r` (`%`, `n` and uppercase are handled by the caller).
pub(crate) fn double_to_string(v: f64, code: char, precision: usize, fl: Flags) -> String {
    let mut out = String::new();
    if v.is_nan() {
        // CPython never prints a sign for a NaN, only a forced '+'.
        if fl.always_sign {
            out.push('+');
        }
        out.push_str("nan");
        return out;
    }
    let mut neg = v.is_sign_negative();
    if v.is_infinite() {
        if neg {
            out.push('-');
        } else if fl.always_sign {
            out.push('+');
        }
        out.push_str("inf");
        return out;
    }
    let a = v.abs();
    let mut precision = precision;
    let mode = match code {
        'e' => {
            precision += 1;
            Digits::Sig(precision)
        }
        'f' => Digits::Fixed(precision),
        'g' => {
            precision = precision.max(1);
            Digits::Sig(precision)
        }
        _ => Digits::Shortest { f32: fl.f32 },
    };
    let (digits, mut decpt) = gen_digits(a, mode);
    if fl.no_neg_0 && digits == b"0" {
        neg = false;
    }
    let digits_len = digits.len() as i64;
    let mut vdigits_end = digits_len;
    let mut use_exp = false;
    match code {
        'e' => {
            use_exp = true;
            vdigits_end = precision as i64;
        }
        'f' => vdigits_end = decpt as i64 + precision as i64,
        'g' => {
            let lim = if fl.add_dot_0 {
                precision as i64 - 1
            } else {
                precision as i64
            };
            if decpt <= -4 || decpt as i64 > lim {
                use_exp = true;
            }
            if fl.alt {
                vdigits_end = precision as i64;
            }
        }
        // NumPy's float32 scalar layout: shortest digits, forced positional / scientific.
        'P' => {}
        'S' => use_exp = true,
        _ => {
            if !(-4 < decpt && decpt <= 16) {
                use_exp = true;
            }
        }
    }
    let mut exp = 0;
    if use_exp {
        exp = decpt - 1;
        decpt = 1;
    }
    let decpt = decpt as i64;
    let vdigits_start = if decpt <= 0 { decpt - 1 } else { 0 };
    if !use_exp && fl.add_dot_0 {
        vdigits_end = vdigits_end.max(decpt + 1);
    } else {
        vdigits_end = vdigits_end.max(decpt);
    }
    if neg {
        out.push('-');
    } else if fl.always_sign {
        out.push('+');
    }
    let zeros = |out: &mut String, n: i64| {
        for _ in 0..n.max(0) {
            out.push('0');
        }
    };
    let dstr = std::str::from_utf8(&digits).unwrap_or("0");
    if decpt <= 0 {
        zeros(&mut out, decpt - vdigits_start);
        out.push('.');
        zeros(&mut out, -decpt);
    } else {
        zeros(&mut out, -vdigits_start);
    }
    if 0 < decpt && decpt <= digits_len {
        out.push_str(&dstr[..decpt as usize]);
        out.push('.');
        out.push_str(&dstr[decpt as usize..]);
    } else {
        out.push_str(dstr);
    }
    if digits_len < decpt {
        zeros(&mut out, decpt - digits_len);
        out.push('.');
        zeros(&mut out, vdigits_end - decpt);
    } else {
        zeros(&mut out, vdigits_end - digits_len);
    }
    if out.ends_with('.') && !fl.alt {
        out.pop();
    }
    if use_exp {
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    }
    out
}

/// `repr(x)` / `str(x)` of a Python float: `1.0`, `0.1`, `1e-05`, `1e+16`, `inf`, `-0.0`.
pub fn float_repr(v: f64) -> String {
    double_to_string(
        v,
        'r',
        0,
        Flags {
            add_dot_0: true,
            ..Flags::default()
        },
    )
}

/// `str(np.float32(x))`: float32's shortest digits, positional for 1e-4 <= |x| < 1e6
/// (NumPy's cutoffs for float32 scalars), else scientific: `0.1`, `1.0`, `1.6777216e+07`.
pub fn f32_repr(v: f32) -> String {
    let fl = Flags {
        add_dot_0: true,
        f32: true,
        ..Flags::default()
    };
    let a = v.abs() as f64;
    let code = if !v.is_finite() {
        'r'
    } else if a == 0.0 || (1e-4..1e6).contains(&a) {
        'P'
    } else {
        'S'
    };
    double_to_string(v as f64, code, 0, fl)
}

/// Python's `repr(complex)`: `(1+2j)`, `2j`, `(-0-1j)`, `(nan+infj)`.
pub fn complex_repr(re: f64, im: f64) -> String {
    let fl = Flags::default();
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", double_to_string(im, 'r', 0, fl))
    } else {
        let r = double_to_string(re, 'r', 0, fl);
        let i = double_to_string(
            im,
            'r',
            0,
            Flags {
                always_sign: true,
                ..fl
            },
        );
        format!("({r}{i}j)")
    }
}

/// A parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Clone, Debug)]
struct Spec {
    fill: char,
    align: char,
    align_given: bool,
    sign: Option<char>,
    no_neg_0: bool,
    alt: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn is_align(c: char) -> bool {
    matches!(c, '<' | '>' | '^' | '=')
}

/// Wider than this is refused rather than building a gigantic string.
pub(crate) const MAX_WIDTH: u64 = 1 << 28;

fn parse_spec(spec: &str, default_align: char, type_name: &str) -> KResult<Spec> {
    let c: Vec<char> = spec.chars().collect();
    let mut p = 0;
    let mut s = Spec {
        fill: ' ',
        align: default_align,
        align_given: false,
        sign: None,
        no_neg_0: false,
        alt: false,
        width: 0,
        grouping: None,
        precision: None,
        ty: None,
    };
    let mut fill_given = false;
    if c.len() >= 2 && is_align(c[1]) {
        s.fill = c[0];
        s.align = c[1];
        fill_given = true;
        s.align_given = true;
        p = 2;
    } else if !c.is_empty() && is_align(c[0]) {
        s.align = c[0];
        s.align_given = true;
        p = 1;
    }
    if p < c.len() && matches!(c[p], '+' | '-' | ' ') {
        s.sign = Some(c[p]);
        p += 1;
    }
    if p < c.len() && c[p] == 'z' {
        s.no_neg_0 = true;
        p += 1;
    }
    if p < c.len() && c[p] == '#' {
        s.alt = true;
        p += 1;
    }
    if !fill_given && p < c.len() && c[p] == '0' {
        s.fill = '0';
        if !s.align_given && default_align == '>' {
            s.align = '=';
        }
        p += 1;
    }
    let number = |p: &mut usize| -> KResult<Option<usize>> {
        let start = *p;
        let mut v: u64 = 0;
        while *p < c.len() && c[*p].is_ascii_digit() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(c[*p] as u64 - '0' as u64))
                .filter(|v| *v <= i64::MAX as u64)
                .ok_or((
                    ErrorKind::ValueError,
                    "Too many decimal digits in format string".to_string(),
                ))?;
            *p += 1;
        }
        if *p == start {
            return Ok(None);
        }
        if v > MAX_WIDTH {
            return err(
                ErrorKind::MemoryError,
                "format width or precision too large",
            );
        }
        Ok(Some(v as usize))
    };
    if let Some(w) = number(&mut p)? {
        s.width = w;
    }
    if p < c.len() && matches!(c[p], ',' | '_') {
        s.grouping = Some(c[p]);
        p += 1;
        if p < c.len() && matches!(c[p], ',' | '_') {
            if c[p] == s.grouping.unwrap_or(',') {
                return err(
                    ErrorKind::ValueError,
                    format!("Cannot specify '{}' with '{}'.", c[p], c[p]),
                );
            }
            return err(ErrorKind::ValueError, "Cannot specify both ',' and '_'.");
        }
    }
    if p < c.len() && c[p] == '.' {
        p += 1;
        match number(&mut p)? {
            Some(n) => s.precision = Some(n),
            None => return err(ErrorKind::ValueError, "Format specifier missing precision"),
        }
    }
    if c.len() - p > 1 {
        return err(
            ErrorKind::ValueError,
            format!("Invalid format specifier '{spec}' for object of type '{type_name}'"),
        );
    }
    if p < c.len() {
        s.ty = Some(c[p]);
    }
    if let Some(g) = s.grouping {
        let ok = match s.ty {
            None => true,
            Some(t) => "dfFgGeE%".contains(t) || (g == '_' && "boxX".contains(t)),
        };
        if !ok {
            return err(
                ErrorKind::ValueError,
                format!("Cannot specify '{g}' with '{}'.", s.ty.unwrap_or('s')),
            );
        }
    }
    Ok(s)
}

fn unknown_code(t: char, type_name: &str) -> KResult<String> {
    err(
        ErrorKind::ValueError,
        format!("Unknown format code '{t}' for object of type '{type_name}'"),
    )
}

/// Groups `digits` from the right in groups of `g` with `sep`, zero-padding on the left
/// up to `min_width` characters (CPython's `_PyUnicode_InsertThousandsGrouping`).
fn group_digits(digits: &str, g: i64, sep: char, min_width: i64) -> String {
    let d: Vec<char> = digits.chars().collect();
    let mut remaining = d.len() as i64;
    let mut min_width = min_width;
    let mut pieces: Vec<String> = Vec::new(); // right to left
    let mut use_sep = false;
    loop {
        let l = g.min(remaining.max(min_width).max(1));
        let n_zeros = (l - remaining).max(0);
        let n_chars = remaining.min(l).max(0);
        let mut piece = String::new();
        for _ in 0..n_zeros {
            piece.push('0');
        }
        piece.extend(&d[(remaining - n_chars) as usize..remaining as usize]);
        if use_sep {
            piece.push(sep);
        }
        pieces.push(piece);
        use_sep = true;
        remaining -= n_chars;
        min_width -= g;
        if remaining <= 0 && min_width <= 0 {
            break;
        }
        min_width -= 1;
    }
    pieces.reverse();
    pieces.concat()
}

/// Lays out a number: `sign`, `prefix` (`0x`), leading `digits` (grouped as the spec says)
/// and `rest` (decimal point, fraction, exponent, `%`), padded per the spec.
fn layout_number(sign: &str, prefix: &str, digits: &str, rest: &str, s: &Spec, g: i64) -> String {
    let n_other = (sign.chars().count() + prefix.chars().count() + rest.chars().count()) as i64;
    let body_digits = match s.grouping {
        // inf/nan have no digits to group: CPython pads them like any other text.
        Some(sep) if !digits.is_empty() => {
            let min_w = if s.fill == '0' && s.align == '=' {
                s.width as i64 - n_other
            } else {
                0
            };
            group_digits(digits, g, sep, min_w)
        }
        _ => digits.to_string(),
    };
    let len = n_other + body_digits.chars().count() as i64;
    let pad = (s.width as i64 - len).max(0) as usize;
    let fill = |n: usize| std::iter::repeat_n(s.fill, n).collect::<String>();
    match s.align {
        '<' => format!("{sign}{prefix}{body_digits}{rest}{}", fill(pad)),
        '^' => format!(
            "{}{sign}{prefix}{body_digits}{rest}{}",
            fill(pad / 2),
            fill(pad - pad / 2)
        ),
        '=' => format!("{sign}{prefix}{}{body_digits}{rest}", fill(pad)),
        _ => format!("{}{sign}{prefix}{body_digits}{rest}", fill(pad)),
    }
}

fn pad_text(text: &str, s: &Spec) -> String {
    let len = text.chars().count();
    let pad = s.width.saturating_sub(len);
    let fill = |n: usize| std::iter::repeat_n(s.fill, n).collect::<String>();
    match s.align {
        '>' => format!("{}{text}", fill(pad)),
        '^' => format!("{}{text}{}", fill(pad / 2), fill(pad - pad / 2)),
        _ => format!("{text}{}", fill(pad)),
    }
}

/// Splits a formatted float (no sign) into leading digits and the rest.
fn split_digits(body: &str) -> (&str, &str) {
    let n = body.bytes().take_while(|b| b.is_ascii_digit()).count();
    body.split_at(n)
}

fn sign_str(neg: bool, s: &Spec) -> &'static str {
    if neg {
        "-"
    } else {
        match s.sign {
            Some('+') => "+",
            Some(' ') => " ",
            _ => "",
        }
    }
}

/// The float part of `format(x, spec)` once the spec is parsed; `f32` selects float32's
/// shortest digits for the repr-like cases.
fn format_float_spec(v: f64, s: &Spec, type_name: &str, f32: bool) -> KResult<String> {
    let mut fl = Flags {
        alt: s.alt,
        no_neg_0: s.no_neg_0,
        f32,
        ..Flags::default()
    };
    let mut v = v;
    let mut pct = false;
    let (code, precision) = match s.ty {
        None => {
            fl.add_dot_0 = true;
            match s.precision {
                None => ('r', 0),
                Some(p) => ('g', p),
            }
        }
        Some(t @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n')) => {
            let code = match t.to_ascii_lowercase() {
                'n' => 'g',
                c => c,
            };
            (code, s.precision.unwrap_or(6))
        }
        Some('%') => {
            v *= 100.0;
            pct = true;
            ('f', s.precision.unwrap_or(6))
        }
        Some(t) => return unknown_code(t, type_name),
    };
    let mut text = double_to_string(v, code, precision, fl);
    if matches!(s.ty, Some('E' | 'F' | 'G')) {
        text = text.to_ascii_uppercase();
    }
    if pct {
        text.push('%');
    }
    let neg = text.starts_with('-');
    let body = text.trim_start_matches('-');
    let (digits, rest) = split_digits(body);
    Ok(layout_number(sign_str(neg, s), "", digits, rest, s, 3))
}

/// `format(x, spec)` for a Python float.
pub fn format_f64(v: f64, spec: &str) -> KResult<String> {
    if let Some(p) = spec.strip_prefix(PRINTF) {
        return printf::float(v, p);
    }
    if spec.is_empty() {
        return Ok(float_repr(v));
    }
    let s = parse_spec(spec, '>', "float")?;
    format_float_spec(v, &s, "float", false)
}

/// `format(np.float32(x), spec)`: `str` for an empty spec, else the value as a Python float.
pub fn format_f32(v: f32, spec: &str) -> KResult<String> {
    if let Some(p) = spec.strip_prefix(PRINTF) {
        return printf::float(v as f64, p);
    }
    if spec.is_empty() {
        return Ok(f32_repr(v));
    }
    format_f64(v as f64, spec)
}

/// `format(n, spec)` for a Python int.
pub fn format_i64(v: i64, spec: &str) -> KResult<String> {
    if let Some(p) = spec.strip_prefix(PRINTF) {
        return printf::int(v, p);
    }
    let s = parse_spec(spec, '>', "int")?;
    let ty = s.ty.unwrap_or('d');
    if "eEfFgG%".contains(ty) {
        // Python converts the int to a float for these codes.
        return format_float_spec(v as f64, &s, "int", false);
    }
    if !"dnbxXoc".contains(ty) {
        return unknown_code(ty, "int");
    }
    if s.precision.is_some() {
        return err(
            ErrorKind::ValueError,
            "Precision not allowed in integer format specifier",
        );
    }
    if s.no_neg_0 {
        return err(
            ErrorKind::ValueError,
            "Negative zero coercion (z) not allowed in integer format specifier",
        );
    }
    if ty == 'n' && s.grouping.is_some() {
        return err(ErrorKind::ValueError, "Cannot specify ',' with 'n'.");
    }
    if ty == 'c' {
        if s.sign.is_some() {
            return err(
                ErrorKind::ValueError,
                "Sign not allowed with integer format specifier 'c'",
            );
        }
        if s.alt {
            return err(
                ErrorKind::ValueError,
                "Alternate form (#) not allowed with integer format specifier 'c'",
            );
        }
        let ch = u32::try_from(v).ok().filter(|c| *c < 0x110000).ok_or((
            ErrorKind::OverflowError,
            "%c arg not in range(0x110000)".to_string(),
        ))?;
        // Lone surrogates cannot live in a Rust String; show the replacement character.
        let ch = char::from_u32(ch).unwrap_or('\u{FFFD}');
        return Ok(layout_number("", "", "", &ch.to_string(), &s, 3));
    }
    let mag = v.unsigned_abs();
    let (digits, prefix, g) = match ty {
        'b' => (format!("{mag:b}"), "0b", 4),
        'o' => (format!("{mag:o}"), "0o", 4),
        'x' => (format!("{mag:x}"), "0x", 4),
        'X' => (format!("{mag:X}"), "0X", 4),
        _ => (mag.to_string(), "", 3),
    };
    let prefix = if s.alt { prefix } else { "" };
    Ok(layout_number(
        sign_str(v < 0, &s),
        prefix,
        &digits,
        "",
        &s,
        g,
    ))
}

/// `format(b, spec)` for a Python bool: `str` when the spec is empty, else as the int 0/1.
pub fn format_bool(v: bool, spec: &str) -> KResult<String> {
    if let Some(p) = spec.strip_prefix(PRINTF) {
        return printf::int(v as i64, p);
    }
    if spec.is_empty() {
        return Ok(if v { "True" } else { "False" }.to_string());
    }
    format_i64(v as i64, spec)
}

/// `format(s, spec)` for a Python str.
pub fn format_str(text: &str, spec: &str) -> KResult<String> {
    if let Some(p) = spec.strip_prefix(PRINTF) {
        return printf::text(text, p);
    }
    if spec.is_empty() {
        return Ok(text.to_string());
    }
    let s = parse_spec(spec, '<', "str")?;
    if let Some(t) = s.ty {
        if t != 's' {
            return unknown_code(t, "str");
        }
    }
    if s.sign.is_some() {
        return err(
            ErrorKind::ValueError,
            "Sign not allowed in string format specifier",
        );
    }
    if s.no_neg_0 {
        return err(
            ErrorKind::ValueError,
            "Negative zero coercion (z) not allowed in string format specifier",
        );
    }
    if s.alt {
        return err(
            ErrorKind::ValueError,
            "Alternate form (#) not allowed in string format specifier",
        );
    }
    if s.align == '=' {
        return err(
            ErrorKind::ValueError,
            "'=' alignment not allowed in string format specifier",
        );
    }
    if let Some(g) = s.grouping {
        return err(
            ErrorKind::ValueError,
            format!("Cannot specify '{g}' with 's'."),
        );
    }
    let truncated: String = match s.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    };
    Ok(pad_text(&truncated, &s))
}

/// `format(z, spec)` for a Python complex (CPython's `format_complex_internal`).
pub fn format_complex(re: f64, im: f64, spec: &str) -> KResult<String> {
    if spec.is_empty() {
        return Ok(complex_repr(re, im));
    }
    let s = parse_spec(spec, '>', "complex")?;
    if s.fill == '0' {
        return err(
            ErrorKind::ValueError,
            "Zero padding is not allowed in complex format specifier",
        );
    }
    if s.align == '=' {
        return err(
            ErrorKind::ValueError,
            "'=' alignment flag is not allowed in complex format specifier",
        );
    }
    let mut fl = Flags {
        alt: s.alt,
        no_neg_0: s.no_neg_0,
        ..Flags::default()
    };
    let mut skip_re = false;
    let mut parens = false;
    let (code, precision) = match s.ty {
        None => {
            if re == 0.0 && re.is_sign_positive() {
                skip_re = true;
            } else {
                parens = true;
            }
            match s.precision {
                None => ('r', 0),
                Some(p) => ('g', p),
            }
        }
        Some(t @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n')) => {
            let code = match t.to_ascii_lowercase() {
                'n' => 'g',
                c => c,
            };
            (code, s.precision.unwrap_or(6))
        }
        Some(t) => return unknown_code(t, "complex"),
    };
    fl.add_dot_0 = false;
    let upper = matches!(s.ty, Some('E' | 'F' | 'G'));
    let part = |x: f64, force_plus: bool| {
        let mut t = double_to_string(x, code, precision, fl);
        if upper {
            t = t.to_ascii_uppercase();
        }
        let neg = t.starts_with('-');
        let body = t.trim_start_matches('-').to_string();
        let sign = if neg {
            "-"
        } else if force_plus {
            "+"
        } else {
            sign_str(false, &s)
        };
        let (digits, rest) = split_digits(&body);
        let inner = Spec {
            fill: ' ',
            align: '<',
            width: 0,
            ..s.clone()
        };
        layout_number(sign, "", digits, rest, &inner, 3)
    };
    let re_s = if skip_re {
        String::new()
    } else {
        part(re, false)
    };
    let im_s = part(im, !skip_re);
    let body = if parens {
        format!("({re_s}{im_s}j)")
    } else {
        format!("{re_s}{im_s}j")
    };
    Ok(pad_text(&body, &s))
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`, escapes for
/// backslash, the quote, `\n \r \t`, other control characters as `\xNN` / `\uNNNN`.
pub fn str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unprintable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of `not str.isprintable()` for non-ASCII characters: C1 controls, the
/// Latin-1 no-break space, line/paragraph separators, BOM and other format characters.
fn is_unprintable(c: char) -> bool {
    matches!(c as u32, 0x80..=0xa0 | 0xad | 0x2028 | 0x2029 | 0x200b..=0x200f | 0xfeff)
}
