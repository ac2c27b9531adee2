//! A grammar-aware generator of Kiln cells: fuzz bytes choose among SPEC §1–7 constructs
//! (scalars, conditionals, bounded loops, functions, arrays, slices, reductions, `@par`)
//! and the result is printed as source, so most inputs get past the parser and exercise
//! type inference, lowering and code generation.
//!
//! Programs are bounded by construction: every loop runs over a small literal range or a
//! counter only the generator touches, functions call only functions defined before them
//! (no recursion), arrays have at most a few dozen elements, and nesting stays shallow.
//! Types are tracked loosely, so most programs are well typed and a few are not (their
//! TypeErrors are as welcome as the rest: Python errors are fine, crashes are not).

use arbitrary::{Result, Unstructured};
use std::fmt::Write;

const MAX_BLOCK_DEPTH: usize = 3;
const MAX_EXPR_DEPTH: usize = 4;
const MAX_STATEMENTS: usize = 6;
const MAX_TOP_STATEMENTS: usize = 14;
const MAX_LEN: i64 = 12;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Int,
    Float,
    Bool,
    /// A 1-D f64 array.
    Array,
    /// A 2-D f64 array.
    Matrix,
}

#[derive(Clone)]
struct Func {
    name: String,
    params: Vec<Kind>,
    returns: Kind,
}

#[derive(Default)]
struct Scope {
    vars: Vec<(String, Kind)>,
    funcs: Vec<Func>,
    /// Whether the block being written is the body of a `@par` loop: its outer scalars are
    /// read-only except reductions, so the generator writes only array elements there.
    in_par: bool,
    in_func: bool,
    in_loop: bool,
    counter: usize,
}

impl Scope {
    fn fresh(&mut self, stem: &str) -> String {
        self.counter += 1;
        format!("{stem}{}", self.counter)
    }

    fn pick(&self, u: &mut Unstructured, kind: Kind) -> Result<Option<String>> {
        let names: Vec<&String> = self
            .vars
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(n, _)| n)
            .collect();
        if names.is_empty() {
            return Ok(None);
        }
        Ok(Some(u.choose(&names)?.to_string()))
    }
}

/// One to three cells of Kiln source, from `u`'s bytes.
pub fn generate(u: &mut Unstructured) -> Result<Vec<String>> {
    let mut scope = Scope::default();
    let cells = u.int_in_range(1..=3)?;
    let mut out = Vec::new();
    for _ in 0..cells {
        let mut src = String::new();
        let n = u.int_in_range(1..=MAX_TOP_STATEMENTS)?;
        for _ in 0..n {
            if u.is_empty() {
                break;
            }
            top_statement(u, &mut scope, &mut src)?;
        }
        // A trailing expression is the cell's result (Jupyter's Out[n]).
        if u.arbitrary()? {
            let kind = any_kind(u)?;
            let e = expr(u, &scope, kind, 0)?;
            writeln!(src, "{e}").unwrap();
        }
        out.push(src);
    }
    Ok(out)
}

fn any_kind(u: &mut Unstructured) -> Result<Kind> {
    Ok(*u.choose(&[
        Kind::Int,
        Kind::Float,
        Kind::Bool,
        Kind::Array,
        Kind::Matrix,
    ])?)
}

fn top_statement(u: &mut Unstructured, scope: &mut Scope, src: &mut String) -> Result<()> {
    if u.ratio(1, 6)? {
        return def(u, scope, src);
    }
    statement(u, scope, src, 0)
}

fn def(u: &mut Unstructured, scope: &mut Scope, src: &mut String) -> Result<()> {
    let name = scope.fresh("f");
    let nparams = u.int_in_range(0..=3)?;
    let mut params = Vec::new();
    let mut inner = Scope {
        funcs: scope.funcs.clone(),
        counter: scope.counter,
        in_func: true,
        ..Scope::default()
    };
    let mut header = Vec::new();
    for _ in 0..nparams {
        let kind = any_kind(u)?;
        let p = inner.fresh("p");
        let annotation = match (kind, u.ratio(1, 3)?) {
            (Kind::Int, true) => ": i64",
            (Kind::Float, true) => ": f64",
            (Kind::Array, true) => ": f64[:]",
            _ => "",
        };
        header.push(format!("{p}{annotation}"));
        inner.vars.push((p, kind));
        params.push(kind);
    }
    let returns = any_kind(u)?;
    writeln!(src, "def {name}({}):", header.join(", ")).unwrap();
    let n = u.int_in_range(0..=MAX_STATEMENTS)?;
    for _ in 0..n {
        statement(u, &mut inner, src, 1)?;
    }
    let e = expr(u, &inner, returns, 0)?;
    writeln!(src, "    return {e}").unwrap();
    scope.counter = inner.counter;
    scope.funcs.push(Func {
        name,
        params,
        returns,
    });
    Ok(())
}

fn indent(src: &mut String, depth: usize) {
    for _ in 0..depth {
        src.push_str("    ");
    }
}

fn block(u: &mut Unstructured, scope: &mut Scope, src: &mut String, depth: usize) -> Result<()> {
    // Names first assigned in a block may be unbound after it (Python's rule, and Kiln's):
    // the generator forgets them, so later code reads only names every path assigned.
    let known = scope.vars.len();
    let n = u.int_in_range(1..=MAX_STATEMENTS)?;
    for _ in 0..n {
        statement(u, scope, src, depth)?;
    }
    scope.vars.truncate(known);
    Ok(())
}

fn statement(
    u: &mut Unstructured,
    scope: &mut Scope,
    src: &mut String,
    depth: usize,
) -> Result<()> {
    let nested = depth < MAX_BLOCK_DEPTH;
    let choice = u.int_in_range(0..=13)?;
    match choice {
        // A new or re-assigned variable (outside @par bodies, where outer scalars are
        // read-only).
        0..=3 if !scope.in_par => {
            let kind = any_kind(u)?;
            let e = expr(u, scope, kind, 0)?;
            let target = match scope.pick(u, kind)? {
                Some(n) if u.arbitrary()? => n,
                _ => {
                    let n = scope.fresh(match kind {
                        Kind::Array | Kind::Matrix => "a",
                        _ => "x",
                    });
                    scope.vars.push((n.clone(), kind));
                    n
                }
            };
            indent(src, depth);
            writeln!(src, "{target} = {e}").unwrap();
        }
        4 if !scope.in_par => {
            let kind = *u.choose(&[Kind::Int, Kind::Float, Kind::Array])?;
            if let Some(t) = scope.pick(u, kind)? {
                let op = u.choose(&["+=", "-=", "*="])?;
                let e = expr(
                    u,
                    scope,
                    if kind == Kind::Array {
                        Kind::Float
                    } else {
                        kind
                    },
                    1,
                )?;
                indent(src, depth);
                writeln!(src, "{t} {op} {e}").unwrap();
            }
        }
        // Element and slice stores.
        5 | 6 => {
            if let Some(a) = scope.pick(u, Kind::Array)? {
                let v = expr(u, scope, Kind::Float, 1)?;
                indent(src, depth);
                if u.arbitrary()? {
                    let i = index(u, scope)?;
                    writeln!(src, "{a}[{i}] = {v}").unwrap();
                } else {
                    let s = slice(u)?;
                    writeln!(src, "{a}[{s}] = {v}").unwrap();
                }
            } else if let Some(m) = scope.pick(u, Kind::Matrix)? {
                let v = expr(u, scope, Kind::Float, 1)?;
                let (i, j) = (index(u, scope)?, index(u, scope)?);
                indent(src, depth);
                writeln!(src, "{m}[{i}, {j}] = {v}").unwrap();
            }
        }
        7 if nested => {
            let c = expr(u, scope, Kind::Bool, 0)?;
            indent(src, depth);
            writeln!(src, "if {c}:").unwrap();
            block(u, scope, src, depth + 1)?;
            if u.arbitrary()? {
                let c = expr(u, scope, Kind::Bool, 0)?;
                indent(src, depth);
                writeln!(src, "elif {c}:").unwrap();
                block(u, scope, src, depth + 1)?;
            }
            if u.arbitrary()? {
                indent(src, depth);
                writeln!(src, "else:").unwrap();
                block(u, scope, src, depth + 1)?;
            }
        }
        8 if nested => {
            let i = scope.fresh("i");
            let n = u.int_in_range(0..=MAX_LEN)?;
            let range = match u.int_in_range(0..=3)? {
                0 => format!("range({n})"),
                1 => format!("range({}, {n})", u.int_in_range(-3..=3)?),
                2 => format!("range({n}, {}, -1)", u.int_in_range(-3..=0)?),
                _ => match scope.pick(u, Kind::Array)? {
                    Some(a) => format!("range(len({a}))"),
                    None => format!("range({n})"),
                },
            };
            indent(src, depth);
            writeln!(src, "for {i} in {range}:").unwrap();
            scope.vars.push((i, Kind::Int));
            let was = scope.in_loop;
            scope.in_loop = true;
            block(u, scope, src, depth + 1)?;
            scope.in_loop = was;
            scope.vars.pop();
        }
        9 if nested && !scope.in_par => {
            // A while loop over a counter nothing else assigns: bounded by construction.
            let c = scope.fresh("w");
            let n = u.int_in_range(0..=MAX_LEN)?;
            indent(src, depth);
            writeln!(src, "{c} = 0").unwrap();
            indent(src, depth);
            writeln!(src, "while {c} < {n}:").unwrap();
            indent(src, depth + 1);
            writeln!(src, "{c} += 1").unwrap();
            let was = scope.in_loop;
            scope.in_loop = true;
            block(u, scope, src, depth + 1)?;
            scope.in_loop = was;
        }
        10 if nested && !scope.in_par => {
            // A parallel loop writing one array's elements, perhaps with a reduction.
            let Some(a) = scope.pick(u, Kind::Array)? else {
                return Ok(());
            };
            let i = scope.fresh("i");
            let s = scope.fresh("s");
            indent(src, depth);
            writeln!(src, "{s} = 0.0").unwrap();
            indent(src, depth);
            if u.arbitrary()? {
                writeln!(src, "@par").unwrap();
                indent(src, depth);
                writeln!(src, "for {i} in range(len({a})):").unwrap();
            } else {
                writeln!(src, "for {i} in prange(len({a})):").unwrap();
            }
            scope.vars.push((i.clone(), Kind::Int));
            let was = scope.in_par;
            scope.in_par = true;
            let v = expr(u, scope, Kind::Float, 1)?;
            indent(src, depth + 1);
            writeln!(src, "{a}[{i}] = {v}").unwrap();
            let r = expr(u, scope, Kind::Float, 2)?;
            indent(src, depth + 1);
            writeln!(src, "{s} += {r}").unwrap();
            scope.in_par = was;
            scope.vars.pop();
            scope.vars.push((s, Kind::Float));
        }
        11 if scope.in_loop && !scope.in_par => {
            indent(src, depth);
            writeln!(src, "{}", u.choose(&["break", "continue"])?).unwrap();
        }
        12 if scope.in_func && !scope.in_par => {
            let kind = any_kind(u)?;
            let e = expr(u, scope, kind, 1)?;
            indent(src, depth);
            writeln!(src, "return {e}").unwrap();
        }
        _ if !scope.in_par => {
            let kind = any_kind(u)?;
            let e = expr(u, scope, kind, 1)?;
            indent(src, depth);
            writeln!(src, "print({e})").unwrap();
        }
        _ => {
            indent(src, depth);
            writeln!(src, "pass").unwrap();
        }
    }
    Ok(())
}

fn index(u: &mut Unstructured, scope: &Scope) -> Result<String> {
    if u.ratio(2, 3)? {
        if let Some(i) = scope.pick(u, Kind::Int)? {
            return Ok(if u.arbitrary()? {
                format!("{i} % 3")
            } else {
                i
            });
        }
    }
    Ok(u.int_in_range(-4..=4)?.to_string())
}

fn slice(u: &mut Unstructured) -> Result<String> {
    let bound = |u: &mut Unstructured| -> Result<String> {
        Ok(if u.arbitrary()? {
            u.int_in_range(-MAX_LEN..=MAX_LEN)?.to_string()
        } else {
            String::new()
        })
    };
    let (lo, hi) = (bound(u)?, bound(u)?);
    Ok(match u.int_in_range(0..=3)? {
        0 => format!("{lo}:{hi}"),
        1 => format!("{lo}:{hi}:{}", u.choose(&[1, 2, 3, -1, -2])?),
        2 => "::-1".to_string(),
        _ => ":".to_string(),
    })
}

fn literal(u: &mut Unstructured, kind: Kind) -> Result<String> {
    Ok(match kind {
        Kind::Int => match u.int_in_range(0..=5)? {
            0 => u
                .choose(&["0", "1", "-1", "2", "3", "7", "0xff", "0b101", "1_000"])?
                .to_string(),
            1 => u
                .choose(&["9223372036854775807", "-9223372036854775807", "2**62"])?
                .to_string(),
            _ => u.int_in_range(-20..=20i64)?.to_string(),
        },
        Kind::Float => match u.int_in_range(0..=4)? {
            0 => u
                .choose(&[
                    "0.0", "-0.0", "1.5", "2.", ".5", "1e-9", "1e300", "inf", "nan", "pi",
                ])?
                .to_string(),
            _ => format!("{:.3}", u.int_in_range(-2000..=2000i32)? as f64 / 100.0),
        },
        Kind::Bool => u.choose(&["True", "False"])?.to_string(),
        Kind::Array => {
            let n = u.int_in_range(0..=MAX_LEN)?;
            match u.int_in_range(0..=6)? {
                0 => format!("zeros({n})"),
                1 => format!("ones({n})"),
                2 => format!("arange({n}) * 1.0"),
                3 => format!("linspace(-1.0, 1.0, {n})"),
                4 => format!("full({n}, {})", literal(u, Kind::Float)?),
                5 => {
                    let items: Vec<String> = (0..n.min(5))
                        .map(|_| literal(u, Kind::Float))
                        .collect::<Result<_>>()?;
                    format!("array([{}])", items.join(", "))
                }
                _ => format!("arange(0.0, {}, 0.5)", n),
            }
        }
        Kind::Matrix => {
            let (h, w) = (u.int_in_range(0..=5)?, u.int_in_range(0..=5)?);
            match u.int_in_range(0..=3)? {
                0 => format!("zeros(({h}, {w}))"),
                1 => format!("ones(({h}, {w}))"),
                2 => format!("eye({h})"),
                _ => format!("arange({}).reshape(({h}, {w})) * 1.0", h * w),
            }
        }
    })
}

fn expr(u: &mut Unstructured, scope: &Scope, kind: Kind, depth: usize) -> Result<String> {
    if depth >= MAX_EXPR_DEPTH || u.ratio(1, 4)? {
        if u.arbitrary()? {
            if let Some(v) = scope.pick(u, kind)? {
                return Ok(v);
            }
        }
        return literal(u, kind);
    }
    let d = depth + 1;
    Ok(match kind {
        Kind::Int => match u.int_in_range(0..=8)? {
            0..=2 => {
                let op = u.choose(&["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "**"])?;
                let (a, b) = (expr(u, scope, Kind::Int, d)?, expr(u, scope, Kind::Int, d)?);
                format!("({a} {op} {b})")
            }
            3 => format!("-{}", expr(u, scope, Kind::Int, d)?),
            4 => match scope.pick(u, Kind::Array)? {
                Some(a) => format!("len({a})"),
                None => format!("abs({})", expr(u, scope, Kind::Int, d)?),
            },
            5 => format!("int({})", expr(u, scope, Kind::Float, d)?),
            6 => {
                let a = expr(u, scope, Kind::Array, d)?;
                let f = u.choose(&["argmin", "argmax"])?;
                format!("{f}({a})")
            }
            7 => {
                let (c, a, b) = (
                    expr(u, scope, Kind::Bool, d)?,
                    expr(u, scope, Kind::Int, d)?,
                    expr(u, scope, Kind::Int, d)?,
                );
                format!("({a} if {c} else {b})")
            }
            _ => call(u, scope, Kind::Int, d)?,
        },
        Kind::Float => match u.int_in_range(0..=9)? {
            0..=2 => {
                let op = u.choose(&["+", "-", "*", "/", "//", "%", "**"])?;
                let a = expr(u, scope, Kind::Float, d)?;
                let kb = *u.choose(&[Kind::Float, Kind::Int])?;
                let b = expr(u, scope, kb, d)?;
                format!("({a} {op} {b})")
            }
            3 => {
                let f = u.choose(&[
                    "sqrt", "abs", "exp", "log", "sin", "cos", "tanh", "floor", "round",
                ])?;
                format!("{f}({})", expr(u, scope, Kind::Float, d)?)
            }
            4 => {
                let f = u.choose(&["min", "max", "hypot", "arctan2"])?;
                let (a, b) = (
                    expr(u, scope, Kind::Float, d)?,
                    expr(u, scope, Kind::Float, d)?,
                );
                format!("{f}({a}, {b})")
            }
            5 => {
                let a = expr(u, scope, Kind::Array, d)?;
                let f = u.choose(&["sum", "prod", "min", "max", "mean", "std", "var"])?;
                if u.arbitrary()? {
                    format!("{f}({a})")
                } else {
                    format!("({a}).{f}()")
                }
            }
            6 => {
                let a = expr(u, scope, Kind::Array, d)?;
                let i = index(u, scope)?;
                match scope.pick(u, Kind::Array)? {
                    Some(v) => format!("{v}[{i}]"),
                    None => format!("({a})[{i}]"),
                }
            }
            7 => match scope.pick(u, Kind::Matrix)? {
                Some(m) => format!("{m}[{}, {}]", index(u, scope)?, index(u, scope)?),
                None => format!("float({})", expr(u, scope, Kind::Int, d)?),
            },
            8 => {
                let (a, b) = (
                    expr(u, scope, Kind::Array, d)?,
                    expr(u, scope, Kind::Array, d)?,
                );
                format!("dot({a}, {b})")
            }
            _ => call(u, scope, Kind::Float, d)?,
        },
        Kind::Bool => match u.int_in_range(0..=5)? {
            0..=1 => {
                let k = *u.choose(&[Kind::Int, Kind::Float])?;
                let op = u.choose(&["<", "<=", "==", "!=", ">", ">="])?;
                let (a, b) = (expr(u, scope, k, d)?, expr(u, scope, k, d)?);
                if u.ratio(1, 4)? {
                    let c = expr(u, scope, k, d)?;
                    format!("({a} {op} {b} < {c})")
                } else {
                    format!("({a} {op} {b})")
                }
            }
            2 => {
                let op = u.choose(&["and", "or"])?;
                let (a, b) = (
                    expr(u, scope, Kind::Bool, d)?,
                    expr(u, scope, Kind::Bool, d)?,
                );
                format!("({a} {op} {b})")
            }
            3 => format!("(not {})", expr(u, scope, Kind::Bool, d)?),
            4 => {
                let a = expr(u, scope, Kind::Array, d)?;
                let f = u.choose(&["any", "all"])?;
                let op = u.choose(&[">", "<", "=="])?;
                format!("{f}({a} {op} 0.0)")
            }
            _ => format!("isnan({})", expr(u, scope, Kind::Float, d)?),
        },
        Kind::Array => match u.int_in_range(0..=8)? {
            0..=2 => {
                let op = u.choose(&["+", "-", "*", "/", "**"])?;
                let a = expr(u, scope, Kind::Array, d)?;
                let kb = *u.choose(&[Kind::Array, Kind::Float, Kind::Int])?;
                let b = expr(u, scope, kb, d)?;
                if u.arbitrary()? {
                    format!("({a} {op} {b})")
                } else {
                    format!("({b} {op} {a})")
                }
            }
            3 => {
                let f = u.choose(&["sqrt", "abs", "exp", "sin", "floor", "cumsum", "sign"])?;
                format!("{f}({})", expr(u, scope, Kind::Array, d)?)
            }
            4 => match scope.pick(u, Kind::Array)? {
                Some(a) => format!("{a}[{}]", slice(u)?),
                None => literal(u, Kind::Array)?,
            },
            5 => {
                let a = expr(u, scope, Kind::Array, d)?;
                let (lo, hi) = (literal(u, Kind::Float)?, literal(u, Kind::Float)?);
                format!("where({a} > 0.0, {a}, clip({a}, {lo}, {hi}))")
            }
            6 => match scope.pick(u, Kind::Matrix)? {
                Some(m) => match u.int_in_range(0..=3)? {
                    0 => format!("{m}[{}]", index(u, scope)?),
                    1 => format!("{m}[:, {}]", index(u, scope)?),
                    2 => format!("{m}.sum(axis={})", u.int_in_range(0..=1)?),
                    _ => {
                        let v = expr(u, scope, Kind::Array, d)?;
                        format!("({m} @ {v})")
                    }
                },
                None => format!("({}).copy()", expr(u, scope, Kind::Array, d)?),
            },
            7 => {
                let a = expr(u, scope, Kind::Array, d)?;
                format!("{a}[{a} > 0.5]")
            }
            _ => call(u, scope, Kind::Array, d)?,
        },
        Kind::Matrix => match u.int_in_range(0..=4)? {
            0 | 1 => {
                let op = u.choose(&["+", "-", "*"])?;
                let a = expr(u, scope, Kind::Matrix, d)?;
                let kb = *u.choose(&[Kind::Matrix, Kind::Array, Kind::Float])?;
                let b = expr(u, scope, kb, d)?;
                format!("({a} {op} {b})")
            }
            2 => format!("({}).T", expr(u, scope, Kind::Matrix, d)?),
            3 => {
                let (a, b) = (
                    expr(u, scope, Kind::Matrix, d)?,
                    expr(u, scope, Kind::Matrix, d)?,
                );
                format!("({a} @ {b})")
            }
            _ => match scope.pick(u, Kind::Matrix)? {
                Some(m) => format!("{m}[{}, ::-1]", slice(u)?),
                None => literal(u, Kind::Matrix)?,
            },
        },
    })
}

/// A call of a user function returning `kind`, or a literal where there is none.
fn call(u: &mut Unstructured, scope: &Scope, kind: Kind, depth: usize) -> Result<String> {
    let candidates: Vec<&Func> = scope.funcs.iter().filter(|f| f.returns == kind).collect();
    if candidates.is_empty() {
        return literal(u, kind);
    }
    let f = u.choose(&candidates)?;
    let args: Vec<String> = f
        .params
        .iter()
        .map(|k| expr(u, scope, *k, depth + 1))
        .collect::<Result<_>>()?;
    Ok(format!("{}({})", f.name, args.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_bounded_and_varied() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0u32..200 {
            let bytes: Vec<u8> = (0..512u32)
                .map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed * 40503) >> 13) as u8)
                .collect();
            let cells = generate(&mut Unstructured::new(&bytes)).unwrap();
            let text = cells.join("# %%\n");
            assert!(!crate::too_deep(&text), "{text}");
            seen.insert(text);
        }
        assert!(seen.len() > 150, "only {} distinct programs", seen.len());
    }
}
