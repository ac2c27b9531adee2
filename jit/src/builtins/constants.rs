//! Named constants: `pi`, `e`, `inf`, `nan` (bare or under `np.` / `math.`), with NumPy's
//! other spellings.

use crate::ir::{Expr, ExprKind};
use crate::types::Ty;

/// A constant: the names it goes by, its value and its help line.
pub(crate) struct Constant {
    pub names: &'static [&'static str],
    pub value: f64,
    pub help: &'static str,
}

pub(crate) static CONSTANTS: &[Constant] = &[
    Constant {
        names: &["pi"],
        value: std::f64::consts::PI,
        help: "The ratio of a circle's circumference to its diameter (an f64).",
    },
    Constant {
        names: &["e"],
        value: std::f64::consts::E,
        help: "Euler's number, the base of natural logarithms (an f64).",
    },
    Constant {
        names: &["inf", "Inf", "infty"],
        value: f64::INFINITY,
        help: "Positive infinity (an f64).",
    },
    Constant {
        names: &["nan", "NaN", "NAN"],
        value: f64::NAN,
        help: "Not a number (an f64): unequal to everything, itself included.",
    },
];

fn find(name: &str) -> Option<&'static Constant> {
    CONSTANTS.iter().find(|c| c.names.contains(&name))
}

/// The value a constant's name stands for (`True` and `False` too, under a module prefix).
pub(crate) fn constant(name: &str) -> Option<Expr> {
    match name {
        "True" => return Some(Expr::new(ExprKind::Bool(true), Ty::Bool)),
        "False" => return Some(Expr::new(ExprKind::Bool(false), Ty::Bool)),
        _ => {}
    }
    find(name).map(|c| Expr::new(ExprKind::Float(c.value), Ty::F64))
}

/// Every constant's own name, for completion and "did you mean" hints.
pub fn constant_names() -> impl Iterator<Item = &'static str> {
    CONSTANTS.iter().map(|c| c.names[0])
}

/// `name?` for a constant: `pi = 3.141592653589793` and its help line.
pub(super) fn help(name: &str) -> Option<(String, &'static str)> {
    find(name).map(|c| (format!("{name} = {:?}", c.value), c.help))
}
