//! Axis limits and ticks as matplotlib chooses them: the finite data's range plus a 5 %
//! margin on each side (none on a side that bars stand on), ticks at round numbers (steps of
//! 1, 2, 2.5 or 5 times a power of ten, at most `nbins` intervals: `MaxNLocator`), labelled
//! with just enough decimals for the step and a true minus sign.

/// The finite range of `vals`, if any.
pub fn finite_range(vals: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in vals.into_iter().filter(|v| v.is_finite()) {
        r = Some(match r {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    r
}

/// View limits from data limits: a 5 % margin each side, except at a `sticky` edge (bars
/// start at 0); a single value is widened as matplotlib's `nonsingular` does.
pub fn view_limits(data: Option<(f64, f64)>, sticky_lo: bool) -> (f64, f64) {
    let Some((lo, hi)) = data else {
        return (0.0, 1.0);
    };
    let (lo, hi) = if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo == 0.0 { 0.05 } else { 0.05 * lo.abs() };
        (lo - d, hi + d)
    } else {
        (lo, hi)
    };
    let m = 0.05 * (hi - lo);
    (if sticky_lo { lo } else { lo - m }, hi + m)
}

/// Round-number ticks inside [lo, hi], at most `nbins` intervals apart.
pub fn ticks(lo: f64, hi: f64, nbins: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![];
    }
    let nbins = nbins.max(1) as f64;
    let raw = (hi - lo) / nbins;
    let scale = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|s| s * scale)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * scale);
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    (first as i64..=last as i64)
        .map(|k| {
            let v = k as f64 * step;
            // -0.0 and 1e-17 noise print as 0.
            if v.abs() < step * 1e-9 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// The labels of `ticks`: the fewest decimals that tell them apart exactly as the step
/// does (`0.0 0.5 1.0`, `0 20 40`, `0.00 0.25`), in scientific notation beyond 1e6 or below
/// 1e-4, with matplotlib's minus sign (U+2212).
pub fn labels(ticks: &[f64]) -> Vec<String> {
    let step = if ticks.len() >= 2 {
        (ticks[1] - ticks[0]).abs()
    } else {
        ticks.first().map(|t| t.abs()).unwrap_or(1.0)
    };
    let big = ticks.iter().map(|t| t.abs()).fold(0.0, f64::max);
    let sci = big >= 1e6 || (big > 0.0 && big < 1e-4);
    let decimals = (0..=12)
        .find(|&d| {
            let s = step * 10f64.powi(d);
            (s - s.round()).abs() < 1e-6 * s.max(1.0)
        })
        .unwrap_or(12) as usize;
    ticks
        .iter()
        .map(|&t| {
            let s = if t == 0.0 && sci {
                "0".to_string()
            } else if sci {
                let e = t.abs().log10().floor() as i32;
                let m = t / 10f64.powi(e);
                let m = format!("{m:.2}");
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            } else {
                format!("{t:.decimals$}")
            };
            s.replace('-', "\u{2212}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        let (lo, hi) = view_limits(Some((0.0, 99.0)), false);
        assert_eq!(ticks(lo, hi, 9), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(labels(&[0.0, 20.0, 40.0]), vec!["0", "20", "40"]);
        let (lo, hi) = view_limits(Some((-1.0, 1.0)), false);
        let t = ticks(lo, hi, 9);
        assert_eq!(t, vec![-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(labels(&t)[0], "\u{2212}1.00");
        assert_eq!(labels(&t)[4], "0.00");
        assert_eq!(labels(&[0.0, 0.5, 1.0]), vec!["0.0", "0.5", "1.0"]);
        assert_eq!(labels(&[0.0, 2e6, 4e6]), vec!["0", "2e6", "4e6"]);
        assert_eq!(view_limits(None, false), (0.0, 1.0));
        assert_eq!(view_limits(Some((0.0, 10.0)), true), (0.0, 10.5));
        assert_eq!(view_limits(Some((5.0, 5.0)), false).0, 4.75 - 0.05 * 0.5);
    }
}
