//! `%%compare [targets]` (SPEC.md §8): one cell run once per target — `serial par gpu` by
//! default — from the same starting globals, then a table: run time, speed-up over the
//! first target, what the gpu run moved, and for every value a run changed, the largest
//! absolute and relative difference from the first target's value (`0` when equal). The
//! globals keep the first target's results, as if only that run had happened.
//!
//! Only the first target's output is shown (the others print the same, or their
//! differences are in the table). A target that cannot run (no OpenCL device) or fails is
//! a row saying so; a failure of the first target is the cell's error.

use crate::magics::Host;
use crate::outcome::{CellError, ExecResult, GpuTimes, Output};
use crate::session::Snapshot;
use crate::syntax::ast::Target;
use kiln_runtime::{ArrayRef, ErrorKind, Value};

/// One target's run.
struct Run {
    name: &'static str,
    outcome: Outcome,
}

enum Outcome {
    Ran {
        compile_ms: f64,
        run_ms: f64,
        gpu: Option<GpuTimes>,
        after: Snapshot,
    },
    Failed(CellError),
}

fn target_of(word: &str) -> Option<(Target, &'static str)> {
    Some(match word {
        "serial" => (Target::Serial, "serial"),
        "par" => (Target::Par, "par"),
        "gpu" => (Target::Gpu, "gpu"),
        _ => return None,
    })
}

fn usage(message: String) -> ExecResult {
    ExecResult::Err(CellError {
        ename: "UsageError".into(),
        evalue: message.clone(),
        traceback: vec![format!("UsageError: {message}")],
    })
}

fn memory_error(what: &str, why: String) -> ExecResult {
    let message = format!("%%compare could not keep {what}: {why}");
    ExecResult::Err(CellError {
        ename: ErrorKind::MemoryError.name().into(),
        evalue: message.clone(),
        traceback: vec![format!("MemoryError: {message}")],
    })
}

pub fn run(
    host: &mut dyn Host,
    args: &str,
    code: &str,
    sink: &mut dyn FnMut(Output),
) -> ExecResult {
    let mut targets: Vec<(Target, &'static str)> = Vec::new();
    for w in args.split_whitespace() {
        let Some(t) = target_of(w) else {
            return usage(format!(
                "%%compare takes targets among serial, par and gpu, not '{w}'"
            ));
        };
        if !targets.iter().any(|(_, n)| *n == t.1) {
            targets.push(t);
        }
    }
    if targets.is_empty() {
        targets = ["serial", "par", "gpu"]
            .map(|w| target_of(w).unwrap())
            .to_vec();
    }
    let start = match host.snapshot() {
        Ok(s) => s,
        Err(e) => return memory_error("the starting globals", e),
    };

    let old_target = host.settings().target_override;
    // One untimed run of the first target before the timed ones: a cell's first run also
    // pays for memory the process has never touched (the page faults of a fresh big array),
    // which every later run reuses; without it the first target alone would pay for that.
    // Its output is not shown; an error is the cell's error, as a plain run would leave it.
    host.settings().target_override = Some(targets[0].0);
    let warm = host.execute_repeat(code, 1, &mut |_| {});
    host.settings().target_override = old_target;
    if let ExecResult::Err(e) = warm {
        return ExecResult::Err(e);
    }
    match start.copy() {
        Ok(s) => host.restore(s),
        Err(e) => return memory_error("the starting globals", e),
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut first_result = None;
    for (k, &(target, name)) in targets.iter().enumerate() {
        if k > 0 {
            match start.copy() {
                Ok(s) => host.restore(s),
                Err(e) => {
                    host.settings().target_override = old_target;
                    restore_first(host, &mut runs);
                    return memory_error("the starting globals", e);
                }
            }
        }
        host.settings().target_override = Some(target);
        *host.timings() = Default::default();
        let r = if k == 0 {
            host.execute_repeat(code, 1, sink)
        } else {
            host.execute_repeat(code, 1, &mut |_| {})
        };
        let t = host.timings().clone();
        let outcome = match r {
            ExecResult::Err(e) => {
                if k == 0 {
                    // The cell's error, with the globals as that run left them.
                    host.settings().target_override = old_target;
                    return ExecResult::Err(e);
                }
                Outcome::Failed(e)
            }
            ExecResult::Ok(v) => {
                if k == 0 {
                    first_result = v;
                }
                match host.snapshot() {
                    Ok(after) => Outcome::Ran {
                        compile_ms: t.compile_ms(),
                        // An OpenCL build (the first launch of a kernel) is compile time,
                        // reported apart, not run time.
                        run_ms: t.run_ms.iter().sum::<f64>()
                            - t.gpu.as_ref().map_or(0.0, |g| g.build_ms),
                        gpu: t.gpu.clone(),
                        after,
                    },
                    Err(e) => {
                        host.settings().target_override = old_target;
                        restore_first(host, &mut runs);
                        return memory_error("a run's results", e);
                    }
                }
            }
        };
        runs.push(Run { name, outcome });
    }
    host.settings().target_override = old_target;

    let table = Table::new(&start, &runs, &parallel_private_names(code));
    sink(Output::Html {
        html: table.html(),
        text: table.text(),
    });
    restore_first(host, &mut runs);
    ExecResult::Ok(first_result)
}

/// The names private to the iterations of the cell's parallel loops (SPEC §7: loop indices
/// and names assigned before they are read in the body). A serial run leaves them at their
/// last iteration's values, a parallel one as they were before the loop: a difference there
/// is the rule, not an error, and the table lists these names apart.
fn parallel_private_names(code: &str) -> std::collections::BTreeSet<String> {
    use crate::syntax::ast::{ExprKind, Stmt, StmtKind};
    fn is_prange(e: &crate::syntax::ast::Expr) -> bool {
        matches!(&e.kind, ExprKind::Call { func, .. }
            if matches!(&func.kind, ExprKind::Name(n) if n == "prange")
                || matches!(&func.kind, ExprKind::Attribute { attr, .. } if attr == "prange"))
    }
    fn walk(body: &[Stmt], out: &mut std::collections::BTreeSet<String>) {
        for s in body {
            match &s.kind {
                StmtKind::For { target, iter, body } => {
                    // Any annotated loop is parallel on some target of the comparison.
                    if s.target.is_some() || is_prange(iter) {
                        let mut targets = Vec::new();
                        crate::lower::collect_target_names(target, &mut targets);
                        if let Ok(plan) = crate::parallel::analyze(body, &targets, &|_| true) {
                            out.extend(plan.private);
                        }
                    } else {
                        walk(body, out);
                    }
                }
                StmtKind::If { body, orelse, .. } => {
                    walk(body, out);
                    walk(orelse, out);
                }
                StmtKind::While { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    // The tree is built, walked and dropped on the compiler's thread (see `crate::stack`).
    crate::stack::on_compiler_stack(|| {
        let mut out = Default::default();
        walk(&crate::syntax::parse(code).0.body, &mut out);
        out
    })
}

/// Put back the globals the first target's run left.
fn restore_first(host: &mut dyn Host, runs: &mut Vec<Run>) {
    if runs.is_empty() {
        return;
    }
    if let Outcome::Ran { after, .. } = runs.swap_remove(0).outcome {
        host.restore(after);
    }
}

/// How far a value is from the reference's.
#[derive(Clone, Debug, PartialEq)]
enum Diff {
    /// Largest absolute and relative difference (0 and 0 when equal).
    Num { abs: f64, rel: f64 },
    /// Values that are not numbers differ, or shapes/types do.
    Other(String),
}

impl Diff {
    fn text(&self) -> String {
        match self {
            Diff::Num { abs, rel } => format!("{} / {}", num(*abs), num(*rel)),
            Diff::Other(s) => s.clone(),
        }
    }
    fn is_zero(&self) -> bool {
        matches!(self, Diff::Num { abs, rel } if *abs == 0.0 && *rel == 0.0)
    }
}

fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        "inf".into()
    } else {
        format!("{x:.2e}")
    }
}

/// Element values as complex numbers (every numeric dtype fits).
fn elements(a: &ArrayRef) -> Vec<(f64, f64)> {
    a.to_c128_vec()
}

/// `|a - b|` and `|a - b| / |a|` of two numbers; NaN in the same place is equal.
fn num_diff(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let nan = |z: (f64, f64)| z.0.is_nan() || z.1.is_nan();
    if nan(a) || nan(b) {
        return if nan(a) && nan(b) {
            (0.0, 0.0)
        } else {
            (f64::NAN, f64::NAN)
        };
    }
    if a == b {
        // Also inf == inf, and 0.0 == -0.0.
        return (0.0, 0.0);
    }
    let abs = (a.0 - b.0).hypot(a.1 - b.1);
    let mag = a.0.hypot(a.1);
    (abs, if mag == 0.0 { f64::INFINITY } else { abs / mag })
}

fn scalar(v: &Value) -> Option<(f64, f64)> {
    Some(match v {
        Value::Bool(b) => (*b as i64 as f64, 0.0),
        Value::Int(i) => (*i as f64, 0.0),
        Value::Float(x) => (*x, 0.0),
        Value::F32(x) => (*x as f64, 0.0),
        Value::Complex(r, i) => (*r, *i),
        _ => return None,
    })
}

fn diff(reference: &Value, other: &Value) -> Diff {
    if let (Some(a), Some(b)) = (scalar(reference), scalar(other)) {
        let (abs, rel) = num_diff(a, b);
        return Diff::Num { abs, rel };
    }
    match (reference, other) {
        (Value::Array(a), Value::Array(b)) => {
            if a.shape() != b.shape() {
                return Diff::Other(format!(
                    "shape {} vs {}",
                    kiln_runtime::alloc::shape_repr(a.shape()),
                    kiln_runtime::alloc::shape_repr(b.shape())
                ));
            }
            if a.dtype() != b.dtype() {
                return Diff::Other(format!(
                    "dtype {} vs {}",
                    a.dtype().numpy_name(),
                    b.dtype().numpy_name()
                ));
            }
            let (mut abs, mut rel) = (0.0f64, 0.0f64);
            for (x, y) in elements(a).into_iter().zip(elements(b)) {
                let (d, r) = num_diff(x, y);
                if d.is_nan() {
                    return Diff::Other("NaN in different places".into());
                }
                abs = abs.max(d);
                rel = rel.max(r);
            }
            Diff::Num { abs, rel }
        }
        (a, b) => {
            if kiln_runtime::repr_value(a) == kiln_runtime::repr_value(b) {
                Diff::Num { abs: 0.0, rel: 0.0 }
            } else {
                Diff::Other("differs".into())
            }
        }
    }
}

/// A value's type, as `%whos` shows it.
fn kind(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "{} {}",
            a.dtype().numpy_name(),
            kiln_runtime::alloc::shape_repr(a.shape())
        ),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Float(_) => "float".into(),
        Value::F32(_) => "f32".into(),
        Value::Complex(..) => "complex".into(),
        Value::Str(_) => "str".into(),
        Value::Tuple(_) => "tuple".into(),
        Value::List(_) => "list".into(),
        Value::DType { .. } => "dtype".into(),
        Value::Opaque(_) => "object".into(),
        Value::None => "None".into(),
    }
}

struct Row {
    target: &'static str,
    /// run ms, speed-up over the first, compile ms
    times: Option<(f64, f64, f64)>,
    note: String,
}

struct Table {
    first: &'static str,
    rows: Vec<Row>,
    /// Targets compared with the first (the columns of the values table).
    others: Vec<&'static str>,
    /// (name, type, one Diff per other target that ran — None where it did not)
    values: Vec<(String, String, Vec<Option<Diff>>)>,
    /// Names private to a parallel loop's iterations that the runs left differently.
    private: Vec<String>,
}

impl Table {
    fn new(start: &Snapshot, runs: &[Run], private: &std::collections::BTreeSet<String>) -> Table {
        let first = runs[0].name;
        let Outcome::Ran {
            run_ms: first_ms,
            after: ref first_after,
            ..
        } = runs[0].outcome
        else {
            unreachable!("the first run's failure is the cell's error")
        };
        let mut rows = Vec::new();
        for r in runs {
            rows.push(match &r.outcome {
                Outcome::Ran {
                    compile_ms,
                    run_ms,
                    gpu,
                    ..
                } => Row {
                    target: r.name,
                    times: Some((*run_ms, first_ms / run_ms.max(1e-9), *compile_ms)),
                    note: gpu.as_ref().map(transfers).unwrap_or_default(),
                },
                Outcome::Failed(e) => Row {
                    target: r.name,
                    times: None,
                    note: if e.ename == "DeviceError" {
                        format!("skipped: {}", first_line(&e.evalue))
                    } else {
                        format!("failed: {}: {}", e.ename, first_line(&e.evalue))
                    },
                },
            });
        }
        let others: Vec<&'static str> = runs[1..].iter().map(|r| r.name).collect();
        // The values any run changed (or made), in name order.
        let before: std::collections::HashMap<String, Value> = start.values().into_iter().collect();
        let afters: Vec<Option<std::collections::HashMap<String, Value>>> = runs
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Ran { after, .. } => Some(after.values().into_iter().collect()),
                Outcome::Failed(_) => None,
            })
            .collect();
        let first_vals = first_after.values();
        let mut values = Vec::new();
        let mut private_differing = Vec::new();
        for (name, v) in &first_vals {
            let changed = afters
                .iter()
                .flatten()
                .any(|m| match (m.get(name), before.get(name)) {
                    (Some(now), Some(was)) => !diff(was, now).is_zero(),
                    (Some(_), None) => true,
                    _ => false,
                });
            if !changed {
                continue;
            }
            let diffs = afters[1..]
                .iter()
                .map(|m| {
                    m.as_ref().map(|m| match m.get(name) {
                        Some(o) => diff(v, o),
                        None => Diff::Other("not assigned".into()),
                    })
                })
                .collect::<Vec<Option<Diff>>>();
            if private.contains(name) && diffs.iter().flatten().any(|d| !d.is_zero()) {
                private_differing.push(name.clone());
                continue;
            }
            values.push((name.clone(), kind(v), diffs));
        }
        Table {
            first,
            rows,
            others,
            values,
            private: private_differing,
        }
    }

    fn text(&self) -> String {
        let mut out = format!(
            "%%compare: {} (the globals keep the {} run's values)\n",
            self.rows
                .iter()
                .map(|r| r.target)
                .collect::<Vec<_>>()
                .join(", "),
            self.first
        );
        out.push_str(&format!(
            "{:<8}{:>12}{:>11}{:>13}  {}\n",
            "target", "run", "speed-up", "compile", "notes"
        ));
        for r in &self.rows {
            match r.times {
                Some((run, up, compile)) => out.push_str(&format!(
                    "{:<8}{:>12}{:>10.2}x{:>13}  {}\n",
                    r.target,
                    ms(run),
                    up,
                    ms(compile),
                    r.note
                )),
                None => out.push_str(&format!(
                    "{:<8}{:>12}{:>11}{:>13}  {}\n",
                    r.target, "-", "-", "-", r.note
                )),
            }
        }
        if self.others.is_empty() {
            return out;
        }
        let private = self.private_note();
        if self.values.is_empty() {
            out.push_str("(the cell changed no other global)\n");
            if let Some(p) = private {
                out.push_str(&format!("{p}\n"));
            }
            return out;
        }
        out.push_str(&format!(
            "\nlargest difference from {} (absolute / relative):\n",
            self.first
        ));
        let name_w = self
            .values
            .iter()
            .map(|v| v.0.len())
            .max()
            .unwrap_or(5)
            .max(5)
            + 2;
        let kind_w = self
            .values
            .iter()
            .map(|v| v.1.len())
            .max()
            .unwrap_or(4)
            .max(4)
            + 2;
        out.push_str(&format!("{:<name_w$}{:<kind_w$}", "value", "type"));
        for o in &self.others {
            out.push_str(&format!("{o:<22}"));
        }
        out.push('\n');
        for (name, kind, diffs) in &self.values {
            out.push_str(&format!("{name:<name_w$}{kind:<kind_w$}"));
            for d in diffs {
                let t = d.as_ref().map(Diff::text).unwrap_or_else(|| "-".into());
                out.push_str(&format!("{t:<22}"));
            }
            out.push('\n');
        }
        if let Some(p) = private {
            out.push_str(&format!("{p}\n"));
        }
        out
    }

    /// The names private to a parallel loop, which the runs leave differently by the rules.
    fn private_note(&self) -> Option<String> {
        (!self.private.is_empty()).then(|| {
            format!(
                "Not compared: {} (private to a parallel loop's iterations, which a parallel run leaves as they were before the loop)",
                self.private.join(", ")
            )
        })
    }

    fn html(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut h = String::from("<div class=\"kiln-compare\"><table>\n<thead><tr><th>target</th><th>run</th><th>speed-up</th><th>compile</th><th>notes</th></tr></thead><tbody>\n");
        for r in &self.rows {
            match r.times {
                Some((run, up, compile)) => h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{:.2}×</td><td>{}</td><td>{}</td></tr>\n",
                    r.target,
                    ms(run),
                    up,
                    ms(compile),
                    esc(&r.note)
                )),
                None => h.push_str(&format!(
                    "<tr><td>{}</td><td>-</td><td>-</td><td>-</td><td>{}</td></tr>\n",
                    r.target,
                    esc(&r.note)
                )),
            }
        }
        h.push_str("</tbody></table>\n");
        if !self.others.is_empty() {
            if self.values.is_empty() {
                h.push_str("<p>The cell changed no other global.</p>\n");
            } else {
                h.push_str(&format!(
                    "<p>Largest difference from {} (absolute / relative):</p>\n<table>\n<thead><tr><th>value</th><th>type</th>",
                    self.first
                ));
                for o in &self.others {
                    h.push_str(&format!("<th>{o}</th>"));
                }
                h.push_str("</tr></thead><tbody>\n");
                for (name, kind, diffs) in &self.values {
                    h.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td>",
                        esc(name),
                        esc(kind)
                    ));
                    for d in diffs {
                        let t = d.as_ref().map(Diff::text).unwrap_or_else(|| "-".into());
                        h.push_str(&format!("<td>{}</td>", esc(&t)));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody></table>\n");
            }
            if let Some(p) = self.private_note() {
                h.push_str(&format!("<p><small>{}</small></p>\n", esc(&p)));
            }
        }
        h.push_str(&format!(
            "<p><small>The globals keep the {} run's values.</small></p></div>",
            self.first
        ));
        h
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn ms(v: f64) -> String {
    crate::magics::ms(v)
}

fn transfers(g: &GpuTimes) -> String {
    let build = if g.builds > 0 || g.build_ms > 0.0 {
        format!("OpenCL build {} (not in run); ", ms(g.build_ms))
    } else {
        String::new()
    };
    format!(
        "{build}{} launch{}, kernel {}; to device {}, from device {}",
        g.launches,
        if g.launches == 1 { "" } else { "es" },
        ms(g.kernel_ms),
        crate::magics::bytes(g.to_device_bytes),
        crate::magics::bytes(g.from_device_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_of_numbers() {
        assert_eq!(num_diff((1.0, 0.0), (1.0, 0.0)), (0.0, 0.0));
        assert_eq!(num_diff((0.0, 0.0), (-0.0, 0.0)), (0.0, 0.0));
        assert_eq!(num_diff((f64::NAN, 0.0), (f64::NAN, 0.0)), (0.0, 0.0));
        assert!(num_diff((f64::NAN, 0.0), (1.0, 0.0)).0.is_nan());
        assert_eq!(num_diff((2.0, 0.0), (2.5, 0.0)), (0.5, 0.25));
        assert_eq!(num_diff((0.0, 0.0), (1e-300, 0.0)).1, f64::INFINITY);
        assert_eq!(num_diff((3.0, 4.0), (0.0, 0.0)), (5.0, 1.0));
        assert_eq!(
            diff(&Value::Int(7), &Value::Int(7)),
            Diff::Num { abs: 0.0, rel: 0.0 }
        );
        assert_eq!(
            diff(&Value::Str("a".into()), &Value::Str("b".into())),
            Diff::Other("differs".into())
        );
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1.5e-13), "1.50e-13");
    }
}
