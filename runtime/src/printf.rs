//! printf-style formatting, Python's `str % args` (CPython's `unicode_format_arg_*`): one
//! conversion at a time. The compiler parses the format string, matches conversions to
//! arguments and rejects the type errors it can see; each conversion then reaches
//! [`int`], [`float`] or [`text`] as a spec `[flags][width][.precision]conv` (flags from
//! `-+ 0#`), behind [`crate::pyfmt::PRINTF`].

use crate::error::ErrorKind;
use crate::guard::{err, KResult};
use crate::pyfmt::{double_to_string, float_repr, Flags, MAX_WIDTH};

/// One parsed conversion.
#[derive(Clone, Copy, Debug, Default)]
struct Conv {
    ljust: bool,
    plus: bool,
    blank: bool,
    zero: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
    conv: char,
}

fn parse(spec: &str) -> KResult<Conv> {
    let mut c = Conv::default();
    let mut chars = spec.chars().peekable();
    while let Some(&ch) = chars.peek() {
        match ch {
            '-' => c.ljust = true,
            '+' => c.plus = true,
            ' ' => c.blank = true,
            '0' => c.zero = true,
            '#' => c.alt = true,
            _ => break,
        }
        chars.next();
    }
    let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> KResult<usize> {
        let mut v: u64 = 0;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            v = v.saturating_mul(10).saturating_add(d as u64);
            chars.next();
        }
        if v > MAX_WIDTH {
            return err(
                ErrorKind::MemoryError,
                "format width or precision too large",
            );
        }
        Ok(v as usize)
    };
    c.width = number(&mut chars)?;
    if chars.peek() == Some(&'.') {
        chars.next();
        c.precision = Some(number(&mut chars)?);
    }
    c.conv = chars.next().unwrap_or('s');
    Ok(c)
}

/// Pads a number's `body` (its digits, without sign or prefix) to the width: zeros after the
/// sign and the `0x` prefix with the `0` flag, spaces otherwise, on the right with `-`.
fn pad_number(neg: bool, prefix: &str, body: &str, c: &Conv) -> String {
    let sign = if neg {
        "-"
    } else if c.plus {
        "+"
    } else if c.blank {
        " "
    } else {
        ""
    };
    let len = sign.len() + prefix.len() + body.chars().count();
    let pad = c.width.saturating_sub(len);
    if c.ljust {
        format!("{sign}{prefix}{body}{}", " ".repeat(pad))
    } else if c.zero {
        format!("{sign}{prefix}{}{body}", "0".repeat(pad))
    } else {
        format!("{}{sign}{prefix}{body}", " ".repeat(pad))
    }
}

/// Text (`%s`, `%r`, `%c`): cut to the precision (not `%c`), padded with spaces.
fn pad_text(text: &str, c: &Conv) -> String {
    let text: String = match c.precision {
        Some(p) if c.conv != 'c' => text.chars().take(p).collect(),
        _ => text.to_string(),
    };
    let pad = c.width.saturating_sub(text.chars().count());
    if c.ljust {
        format!("{text}{}", " ".repeat(pad))
    } else {
        format!("{}{text}", " ".repeat(pad))
    }
}

/// An integer's magnitude given as decimal digits: `%d %i %u %x %X %o` (digits at least the
/// precision long, `0x`/`0X`/`0o` with `#`).
fn integer(neg: bool, decimal: &str, mag: Option<u64>, c: &Conv) -> String {
    let (mut digits, prefix) = match (c.conv, mag) {
        ('x', Some(m)) => (format!("{m:x}"), "0x"),
        ('X', Some(m)) => (format!("{m:X}"), "0X"),
        ('o', Some(m)) => (format!("{m:o}"), "0o"),
        _ => (decimal.to_string(), ""),
    };
    if let Some(p) = c.precision {
        if digits.len() < p {
            digits = "0".repeat(p - digits.len()) + &digits;
        }
    }
    let prefix = if c.alt { prefix } else { "" };
    pad_number(neg, prefix, &digits, c)
}

fn float_conv(v: f64, c: &Conv) -> String {
    let fl = Flags::alt(c.alt);
    let code = c.conv.to_ascii_lowercase();
    let mut s = double_to_string(v, code, c.precision.unwrap_or(6), fl);
    if c.conv.is_ascii_uppercase() {
        s = s.to_ascii_uppercase();
    }
    let neg = s.starts_with('-');
    pad_number(neg, "", s.trim_start_matches('-'), c)
}

fn chr(v: i64, c: &Conv) -> KResult<String> {
    let ch = u32::try_from(v).ok().filter(|c| *c < 0x110000).ok_or((
        ErrorKind::OverflowError,
        "%c arg not in range(0x110000)".to_string(),
    ))?;
    // Lone surrogates cannot live in a Rust String; show the replacement character.
    let ch = char::from_u32(ch).unwrap_or('\u{FFFD}');
    Ok(pad_text(&ch.to_string(), c))
}

/// `spec % v` for a Python int (a bool is formatted as its int by every numeric conversion).
pub fn int(v: i64, spec: &str) -> KResult<String> {
    let c = parse(spec)?;
    match c.conv {
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
            let mag = v.unsigned_abs();
            Ok(integer(v < 0, &mag.to_string(), Some(mag), &c))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => Ok(float_conv(v as f64, &c)),
        'c' => chr(v, &c),
        _ => Ok(pad_text(&v.to_string(), &c)),
    }
}

/// `spec % x` for a Python float: `%d` of a float is of `int(x)` (every digit, as Python's
/// unbounded int has them; NaN and infinities raise as `int` does).
pub fn float(v: f64, spec: &str) -> KResult<String> {
    let c = parse(spec)?;
    match c.conv {
        'd' | 'i' | 'u' => {
            if v.is_nan() {
                return err(ErrorKind::ValueError, "cannot convert float NaN to integer");
            }
            if v.is_infinite() {
                return err(
                    ErrorKind::OverflowError,
                    "cannot convert float infinity to integer",
                );
            }
            let t = v.trunc();
            // Rust prints a float's exact decimal value: every digit of the integer.
            Ok(integer(t < 0.0, &format!("{:.0}", t.abs()), None, &c))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => Ok(float_conv(v, &c)),
        _ => Ok(pad_text(&float_repr(v), &c)),
    }
}

/// `spec % s` for text: a string, or the `str`/`repr` of any value the compiler already made
/// (`%s`, `%r`; `%a` escapes what is not ASCII as `ascii()` does). `%c` takes one character.
pub fn text(s: &str, spec: &str) -> KResult<String> {
    let c = parse(spec)?;
    match c.conv {
        'c' => {
            if s.chars().count() != 1 {
                return err(ErrorKind::TypeError, "%c requires int or char");
            }
            Ok(pad_text(s, &c))
        }
        'a' => {
            let mut out = String::with_capacity(s.len());
            for ch in s.chars() {
                match ch as u32 {
                    0..=0x7f => out.push(ch),
                    n @ 0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
                    n @ 0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
                    n => out.push_str(&format!("\\U{n:08x}")),
                }
            }
            Ok(pad_text(&out, &c))
        }
        _ => Ok(pad_text(s, &c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_as_python() {
        let i = |v, s| int(v, s).unwrap();
        let f = |v, s| float(v, s).unwrap();
        assert_eq!(i(5, "06.3d"), "000005");
        assert_eq!(i(-5, "-6.3d"), "-005  ");
        assert_eq!(i(255, "#08x"), "0x0000ff");
        assert_eq!(i(-255, "#X"), "-0XFF");
        assert_eq!(i(0, "#o"), "0o0");
        assert_eq!(i(65, "5c"), "    A");
        assert_eq!(i(5, "+ d"), "+5");
        assert_eq!(f(f64::INFINITY, "05f"), "00inf");
        assert_eq!(f(f64::NAN, "+05f"), "+0nan");
        assert_eq!(f(1e20, "d"), "100000000000000000000");
        assert_eq!(f(-0.5, "d"), "0");
        assert_eq!(f(-0.0, "+.2f"), "-0.00");
        assert_eq!(f(2.0, "#.0f"), "2.");
        assert_eq!(f(12345.678, "E"), "1.234568E+04");
        assert_eq!(text("abc", ".2s"), Ok("ab".to_string()));
        assert_eq!(text("'\u{e9}'", "a"), Ok("'\\xe9'".to_string()));
        assert!(text("ab", "c").is_err());
        assert!(int(-1, "c").is_err());
        assert!(float(f64::NAN, "d").is_err());
    }
}
