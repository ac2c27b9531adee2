//! IPython-style magics (SPEC.md §8): `%time`, `%timeit`, `%threads`, `%who`, `%%ir`, ...
//! and IPython's shell conventions: `!cmd`, `%%bash`, `%%sh`, `%%writefile`, `%cd`, `%pwd`.
//!
//! A cell whose first line starts with `%%` is a cell magic for the rest of the cell; a cell
//! that is one `%` line is a line magic, one `!` line a shell command. In a longer cell,
//! `%` and `!` lines (at the start of a line) run in order among runs of code lines
//! (`split_line_magics`). Everything else is Kiln code.

use crate::outcome::{CellError, ExecResult, Output, Stage, Timings};
use crate::syntax::ast::Target;
use kiln_runtime::ErrorKind;

/// What a magic needs of the session it runs in. The session implements it and calls
/// [`run`]; the magics see nothing else of it, so the dependency points one way.
pub trait Host {
    /// Run a cell (which may itself be a magic: `%%time` over `%%target serial`).
    fn execute(&mut self, code: &str, sink: &mut dyn FnMut(Output)) -> ExecResult;
    /// Compile a cell once and run it `repeat` times (the timings hold every run).
    fn execute_repeat(
        &mut self,
        code: &str,
        repeat: u32,
        sink: &mut dyn FnMut(Output),
    ) -> ExecResult;
    /// A compiler stage of a cell as text, instead of running it.
    fn emit(&mut self, code: &str, stage: Stage) -> Result<String, CellError>;
    /// Where the time of the last cell went.
    fn timings(&mut self) -> &mut Timings;
    /// The settings magics change.
    fn settings(&mut self) -> &mut Settings;
    /// The session's globals as (name, type, summary), for `%who` and `%whos`.
    fn globals(&self) -> Vec<(String, String, String)>;
    /// The OpenCL C of every kernel compiled so far for `@gpu` loops in function `name`.
    fn opencl_listings(&self, name: &str) -> Vec<String>;
    /// Forget every global and function (`%reset`).
    fn reset(&mut self);
    /// A copy of every global (`%%compare` runs a cell from the same start per target).
    fn snapshot(&self) -> Result<crate::session::Snapshot, String>;
    /// Replace every global with a copy made by [`Host::snapshot`].
    fn restore(&mut self, s: crate::session::Snapshot);
    /// The flag an interrupt sets (shell commands watch it to kill their child).
    fn interrupt_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool>;
    /// Define C functions a `%%c` cell compiled as globals, each called by its signature.
    fn define_c_functions(&mut self, funcs: Vec<crate::ffi::cell::CFunction>);
}

/// Session settings the magics change.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Array bounds checks (`%bounds on|off`).
    pub bounds_checks: bool,
    /// Parallel loops run several iterations side by side in vector lanes where they can
    /// (`%vector on|off`).
    pub vector: bool,
    /// Run every annotated loop on this target (`%%target`).
    pub target_override: Option<Target>,
    /// The directory before the last `%cd` (where `%cd -` goes back to).
    pub previous_dir: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bounds_checks: true,
            // `KILN_VECTOR=off` starts a session without lanes (the bench's comparison row).
            vector: std::env::var("KILN_VECTOR").map_or(true, |v| v != "off"),
            target_override: None,
            previous_dir: None,
        }
    }
}

/// Every line magic, as `%lsmagic` lists them and `%` completes them.
pub const LINE_MAGICS: &[&str] = &[
    "time", "timeit", "threads", "bounds", "vector", "opencl", "devices", "device", "who", "whos",
    "memory", "reset", "cd", "pwd", "lsmagic",
];

/// Every cell magic.
pub const CELL_MAGICS: &[&str] = &[
    "time",
    "timeit",
    "tokens",
    "ast",
    "ir",
    "clif",
    "asm",
    "opencl",
    "target",
    "compare",
    "writefile",
    "bash",
    "sh",
    "c",
];

pub enum Magic<'a> {
    /// `%time stmt` / `%%time`
    Time(&'a str),
    /// `%timeit stmt` / `%%timeit`
    /// `%timeit [-n N] [-r R] code` / `%%timeit [-n N] [-r R]` over a body: (the options of
    /// a cell magic's first line, the rest).
    TimeIt(&'a str, &'a str),
    /// `%%tokens`, `%%ast`, `%%ir`, `%%clif`, `%%asm`: print a stage of the cell instead of
    /// running it.
    Stage(Stage, &'a str),
    /// `%%target par|serial|gpu`
    Target(&'a str, &'a str),
    /// `%%compare [targets]`
    Compare(&'a str, &'a str),
    /// `%threads [N]`
    Threads(&'a str),
    /// `%bounds on|off`
    Bounds(&'a str),
    /// `%vector on|off`
    Vector(&'a str),
    /// `%opencl NAME`: the kernels compiled so far for the `@gpu` loops in function NAME.
    OpenClOf(&'a str),
    /// `%devices`
    Devices,
    /// `%device N`
    Device(&'a str),
    Who,
    Whos,
    /// `%memory`: heap objects alive and the process's resident memory.
    Memory,
    Reset,
    LsMagic,
    /// `!cmd`: run in `/bin/sh -c`; its exit status is not an error (as in IPython).
    System(&'a str),
    /// `%%bash`, `%%sh`: the body is the script (the shell, the body); a nonzero exit
    /// status is IPython's `CalledProcessError`.
    Script(&'a str, &'a str),
    /// `%%writefile [-a|--append] FILE` (the arguments, the body).
    WriteFile(&'a str, &'a str),
    /// `%cd [-q] [DIR|-|~]`
    Cd(&'a str),
    /// `%%c [FLAGS]`: the body is C, compiled and loaded; its functions become globals.
    C(&'a str, &'a str),
    /// `%pwd`: the current directory as the cell's result.
    Pwd,
    Unknown(&'a str),
}

/// A `!cmd` line, not the `!=` that can begin a continued line inside brackets.
fn system_line(line: &str) -> Option<&str> {
    let cmd = line.strip_prefix('!')?;
    if cmd.starts_with('=') {
        return None;
    }
    // `!!cmd` (IPython's captured form) runs like `!cmd`.
    Some(cmd.strip_prefix('!').unwrap_or(cmd).trim())
}

/// The magic of a cell, if it is one.
pub fn parse(code: &str) -> Option<Magic<'_>> {
    let trimmed = code.trim_start_matches(['\n', '\r']);
    if let Some(rest) = trimmed.strip_prefix("%%") {
        let (first, body) = rest.split_once('\n').unwrap_or((rest, ""));
        let first = first.trim_end_matches('\r');
        let mut words = first.split_whitespace();
        let name = words.next().unwrap_or("");
        let arg = first[name.len()..].trim();
        return Some(match name {
            "time" => Magic::Time(body),
            "timeit" => Magic::TimeIt(arg, body),
            "tokens" => Magic::Stage(Stage::Tokens, body),
            "ast" => Magic::Stage(Stage::Ast, body),
            "ir" => Magic::Stage(Stage::Ir, body),
            "clif" => Magic::Stage(Stage::Clif, body),
            "asm" => Magic::Stage(Stage::Asm, body),
            "opencl" => Magic::Stage(Stage::OpenCl, body),
            "target" => Magic::Target(arg, body),
            "compare" => Magic::Compare(arg, body),
            "writefile" => Magic::WriteFile(arg, body),
            "bash" | "sh" => Magic::Script(name, body),
            "c" => Magic::C(arg, body),
            _ => Magic::Unknown(name),
        });
    }
    let line = trimmed.trim_end();
    if line.contains('\n') {
        return None;
    }
    if let Some(cmd) = system_line(line) {
        return Some(Magic::System(cmd));
    }
    if !line.starts_with('%') {
        return None;
    }
    let rest = &line[1..];
    let name = rest.split_whitespace().next().unwrap_or("");
    let arg = rest[name.len()..].trim();
    Some(match name {
        "time" => Magic::Time(arg),
        "timeit" => Magic::TimeIt("", arg),
        "threads" => Magic::Threads(arg),
        "bounds" => Magic::Bounds(arg),
        "vector" => Magic::Vector(arg),
        "opencl" => Magic::OpenClOf(arg),
        "devices" => Magic::Devices,
        "device" => Magic::Device(arg),
        "who" => Magic::Who,
        "whos" => Magic::Whos,
        "memory" => Magic::Memory,
        "reset" => Magic::Reset,
        "lsmagic" => Magic::LsMagic,
        "cd" => Magic::Cd(arg),
        "pwd" => Magic::Pwd,
        _ => Magic::Unknown(name),
    })
}

/// A cell of code lines, `%` line magics and `!cmd` lines (each at the start of its line,
/// where no Kiln statement can begin), cut into parts to run in order: each magic or `!`
/// line alone, each run of code lines together, preceded by blank lines so that its line
/// numbers stay the cell's. `None` when the cell has no such line, or is a single one.
/// (A `%` or `!` line inside a triple-quoted string is taken as one too.)
pub fn split_line_magics(code: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = code.lines().collect();
    let is_magic =
        |l: &str| (l.starts_with('%') && !l.starts_with("%%")) || system_line(l).is_some();
    if !lines.iter().any(|l| is_magic(l))
        || lines.iter().filter(|l| !l.trim().is_empty()).count() < 2
    {
        return None;
    }
    let mut parts = Vec::new();
    let mut code_part: Option<String> = None;
    for (k, line) in lines.iter().enumerate() {
        if is_magic(line) {
            parts.extend(code_part.take());
            parts.push(line.to_string());
        } else {
            code_part
                .get_or_insert_with(|| "\n".repeat(k))
                .push_str(&format!("{line}\n"));
        }
    }
    parts.extend(code_part);
    parts.retain(|p| !p.trim().is_empty());
    Some(parts)
}

/// Jupyter's `is_complete_request` (and `kiln repl`) for a cell that may be a magic: a `%%`
/// cell goes on until a blank line ends it, as in IPython; a lone `%` or `!` line is
/// complete; anything else is the parser's answer.
pub fn is_complete(code: &str) -> crate::syntax::Completeness {
    use crate::syntax::Completeness;
    let code = code.replace("\r\n", "\n");
    let trimmed = code.trim_start_matches('\n');
    if trimmed.starts_with("%%") {
        let mut end = trimmed
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        if trimmed.ends_with('\n') {
            end.push('\n');
        }
        return if end.ends_with("\n\n") {
            Completeness::Complete
        } else {
            Completeness::Incomplete(String::new())
        };
    }
    let line = trimmed.trim_end();
    if !line.contains('\n') && (line.starts_with('%') || system_line(line).is_some()) {
        return Completeness::Complete;
    }
    crate::syntax::is_complete(&code)
}

fn usage_error(message: String) -> ExecResult {
    ExecResult::Err(CellError {
        ename: ErrorKind::ValueError.name().into(),
        evalue: message.clone(),
        traceback: vec![format!("UsageError: {message}")],
    })
}

pub(crate) fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v:.3} ms")
    } else {
        format!("{:.1} µs", v * 1000.0)
    }
}

pub(crate) fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else if n >= 1 << 10 {
        format!("{:.1} kB", n as f64 / 1e3)
    } else {
        format!("{n} B")
    }
}

/// The OpenCL line of `%time`: build, each direction's bytes and time, kernels.
fn gpu_times(g: &crate::outcome::GpuTimes) -> String {
    let build = if g.builds > 0 {
        ms(g.build_ms)
    } else {
        "cached".to_string()
    };
    format!(
        "OpenCL: build {build}, to device {} in {}, from device {} in {}, kernels {} ({} launch{})\n",
        bytes(g.to_device_bytes),
        ms(g.to_device_ms),
        bytes(g.from_device_bytes),
        ms(g.from_device_ms),
        ms(g.kernel_ms),
        g.launches,
        if g.launches == 1 { "" } else { "es" }
    )
}

/// What `%memory` prints: the arrays and strings alive (each counted once, views
/// included) and, where the system reports it, the process's resident memory now and at its
/// peak. A notebook that keeps making arrays sees here whether they are really freed.
fn memory_report() -> String {
    let live = kiln_runtime::live_objects();
    let mut text =
        format!("live objects: {live} (arrays, views and strings held by globals or in use)\n");
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |field: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        if let (Some(rss), Some(peak)) = (kib("VmRSS:"), kib("VmHWM:")) {
            text.push_str(&format!(
                "resident memory: {} (peak {})\n",
                bytes(rss * 1024),
                bytes(peak * 1024)
            ));
        }
    }
    text
}

/// Run a magic in `session`.
pub fn run(session: &mut dyn Host, magic: Magic, sink: &mut dyn FnMut(Output)) -> ExecResult {
    match magic {
        Magic::Time(code) => {
            // The body may itself be a magic (`%%time` over `%%target serial`).
            *session.timings() = Default::default();
            let wall = std::time::Instant::now();
            let r = session.execute(code, sink);
            let total = wall.elapsed().as_secs_f64() * 1e3;
            let t = session.timings().clone();
            if !t.run_ms.is_empty() {
                let run: f64 = t.run_ms.iter().sum();
                sink(Output::Stdout(format!(
                    "parse {}, check {}, lower {}, Cranelift codegen {}, run {}\nWall time: {}\n",
                    ms(t.parse_ms),
                    ms(t.check_ms),
                    ms(t.lower_ms),
                    ms(t.codegen_ms),
                    ms(run),
                    ms(total)
                )));
                if let Some(g) = &t.gpu {
                    sink(Output::Stdout(gpu_times(g)));
                }
            }
            r
        }
        Magic::TimeIt(opts, code) => {
            let (options, code) = match timeit_options(opts, code) {
                Ok(o) => o,
                Err(e) => return usage_error(e),
            };
            // As IPython: pick loops per run so a run takes ≥ 0.2 s, then 7 runs.
            let first = session.execute_repeat(code, 1, &mut |_| {});
            if let ExecResult::Err(e) = first {
                return ExecResult::Err(e);
            }
            let once = session
                .timings()
                .run_ms
                .first()
                .copied()
                .unwrap_or(0.0)
                .max(1e-6);
            // 1, 2, 5, 10, 20, 50, ... loops, as IPython chooses them.
            let mut loops: u32 = 1;
            let mut k = 0;
            while options.loops.is_none() && (loops as f64) * once < 200.0 && loops < 10_000_000 {
                loops = [1, 2, 5][(k + 1) % 3] * 10u32.pow((k + 1) as u32 / 3);
                k += 1;
            }
            let loops = options.loops.unwrap_or(loops);
            let runs = options.runs.unwrap_or(7);
            let r = session.execute_repeat(code, loops * runs, &mut |_| {});
            let times = session.timings().run_ms.clone();
            let per_run: Vec<f64> = times
                .chunks(loops as usize)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect();
            let n = per_run.len().max(1) as f64;
            let mean = per_run.iter().sum::<f64>() / n;
            let sd = (per_run.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            let best = per_run.iter().cloned().fold(f64::INFINITY, f64::min);
            let compile = session.timings().compile_ms();
            sink(Output::Stdout(format!(
                "{} ± {} per loop (mean ± std. dev. of {} runs, {} loop{} each); best {}; compiled once in {}\n",
                ms(mean),
                ms(sd),
                per_run.len(),
                loops,
                if loops == 1 { "" } else { "s" },
                ms(best),
                ms(compile)
            )));
            match r {
                ExecResult::Err(e) => ExecResult::Err(e),
                ExecResult::Ok(_) => ExecResult::Ok(None),
            }
        }
        Magic::Stage(stage, code) => match session.emit(code, stage) {
            Ok(text) => {
                sink(Output::Stdout(text));
                ExecResult::Ok(None)
            }
            Err(e) => ExecResult::Err(e),
        },
        Magic::Target(t, code) => {
            let target = match t {
                "serial" => Target::Serial,
                "par" => Target::Par,
                "gpu" => Target::Gpu,
                other => {
                    return usage_error(format!("%%target takes serial, par or gpu, not '{other}'"))
                }
            };
            let old = session.settings().target_override.replace(target);
            let r = session.execute(code, sink);
            session.settings().target_override = old;
            r
        }
        Magic::Compare(targets, code) => crate::compare::run(session, targets, code, sink),
        Magic::Threads(arg) => {
            if !arg.is_empty() {
                let n: usize = match arg.parse() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return usage_error(format!(
                            "%threads takes a positive number, not '{arg}'"
                        ))
                    }
                };
                if let Err(e) = kiln_runtime::par::set_threads(n) {
                    return usage_error(e);
                }
            }
            sink(Output::Stdout(format!(
                "{} worker threads\n",
                kiln_runtime::par::threads()
            )));
            ExecResult::Ok(None)
        }
        Magic::Bounds(arg) => {
            match arg {
                "on" => session.settings().bounds_checks = true,
                "off" => session.settings().bounds_checks = false,
                "" => {}
                other => return usage_error(format!("%bounds takes on or off, not '{other}'")),
            }
            let state = if session.settings().bounds_checks {
                "on"
            } else {
                "off"
            };
            sink(Output::Stdout(format!("bounds checks {state}\n")));
            ExecResult::Ok(None)
        }
        Magic::Vector(arg) => {
            match arg {
                "on" => session.settings().vector = true,
                "off" => session.settings().vector = false,
                "" => {}
                other => return usage_error(format!("%vector takes on or off, not '{other}'")),
            }
            let state = if session.settings().vector {
                "on: parallel loops run iterations side by side in vector lanes where they can \
                 (%%ir says which)"
            } else {
                "off: every parallel loop runs one iteration at a time per thread"
            };
            sink(Output::Stdout(format!("vector lanes {state}\n")));
            ExecResult::Ok(None)
        }
        Magic::OpenClOf(name) => {
            if name.is_empty() {
                return usage_error(
                    "%opencl takes a function name (`%opencl <cell>` for top-level loops); %%opencl shows a cell's".into(),
                );
            }
            let listings = session.opencl_listings(name);
            if listings.is_empty() {
                sink(Output::Stdout(format!(
                    "no kernel of `{name}` in this session: its @gpu loops compile when a cell that reaches them runs (%%opencl shows a cell's kernels without running it)\n"
                )));
            } else {
                sink(Output::Stdout(listings.join("\n")));
            }
            ExecResult::Ok(None)
        }
        Magic::Devices => {
            sink(Output::Stdout(kiln_runtime::opencl::devices_report()));
            ExecResult::Ok(None)
        }
        Magic::Device(arg) => match kiln_runtime::opencl::select_device(arg) {
            Ok(text) => {
                sink(Output::Stdout(format!("{}\n", text.trim_end())));
                ExecResult::Ok(None)
            }
            Err(msg) => ExecResult::Err(CellError {
                ename: ErrorKind::DeviceError.name().into(),
                evalue: msg.clone(),
                traceback: vec![format!("DeviceError: {msg}")],
            }),
        },
        Magic::Who | Magic::Whos => {
            let globals = session.globals();
            let text = if matches!(magic, Magic::Who) {
                globals
                    .iter()
                    .map(|g| g.0.clone())
                    .collect::<Vec<_>>()
                    .join("\t")
            } else {
                let mut t = format!("{:<12}{:<16}{}\n", "Variable", "Type", "Data/Info");
                t.push_str(&format!("{}\n", "-".repeat(44)));
                for (n, ty, info) in &globals {
                    t.push_str(&format!("{n:<12}{ty:<16}{info}\n"));
                }
                t
            };
            let text = if globals.is_empty() {
                "Interactive namespace is empty.".to_string()
            } else {
                text
            };
            sink(Output::Stdout(format!("{}\n", text.trim_end())));
            ExecResult::Ok(None)
        }
        Magic::Memory => {
            sink(Output::Stdout(memory_report()));
            ExecResult::Ok(None)
        }
        Magic::Reset => {
            session.reset();
            ExecResult::Ok(None)
        }
        Magic::LsMagic => {
            let line: Vec<String> = LINE_MAGICS.iter().map(|m| format!("%{m}")).collect();
            let cell: Vec<String> = CELL_MAGICS.iter().map(|m| format!("%%{m}")).collect();
            sink(Output::Stdout(format!(
                "Line magics: {}\nCell magics: {}\nShell: !cmd runs cmd in /bin/sh -c\n",
                line.join(" "),
                cell.join(" ")
            )));
            ExecResult::Ok(None)
        }
        Magic::System(cmd) => {
            if cmd.is_empty() {
                return ExecResult::Ok(None);
            }
            let cmd = expand_command(session, cmd);
            let flag = session.interrupt_flag();
            match crate::shell::run("/bin/sh", &["-c", &cmd], &flag, sink) {
                Ok(crate::shell::Ended::Interrupted) => keyboard_interrupt(),
                // As IPython: a failing command's status is not an error of the cell.
                Ok(_) => ExecResult::Ok(None),
                Err(e) => os_error(&e, "/bin/sh"),
            }
        }
        Magic::Script(shell, body) => run_script(session, shell, body, sink),
        Magic::WriteFile(args, body) => write_file(args, body, sink),
        Magic::C(flags, body) => crate::ffi::cell::run(session, flags, body, sink),
        Magic::Cd(arg) => change_dir(session, arg, sink),
        Magic::Pwd => match std::env::current_dir() {
            Ok(dir) => ExecResult::Ok(Some(kiln_runtime::Value::Str(
                dir.to_string_lossy().into_owned(),
            ))),
            Err(e) => os_error(&e, "."),
        },
        Magic::Unknown(name) => usage_error(format!(
            "Line magic function `%{name}` not found (see %lsmagic)."
        )),
    }
}

/// IPython's expansion of a `!` line: `{expr}` becomes the `str` of the expression's value,
/// `$name` that of a global (`$$name` is a literal `$name`; a `$` inside single quotes stays),
/// `{{` and `}}` literal braces. As in IPython it is all or nothing: when any part cannot be
/// expanded (an undefined name, `{}`, `awk '{print $1}'`, the shell's own `$HOME`), the
/// command runs as written.
fn expand_command(session: &mut dyn Host, cmd: &str) -> String {
    let mut eval = |expr: &str| -> Option<String> {
        // Only an expression: `{x = 1}` must not assign.
        let is_expr = crate::stack::on_compiler_stack(|| {
            let (module, diags) = crate::syntax::parse(expr);
            diags.is_empty()
                && module.body.len() == 1
                && matches!(module.body[0].kind, crate::syntax::ast::StmtKind::Expr(_))
        });
        if !is_expr {
            return None;
        }
        match session.execute(expr, &mut |_| {}) {
            ExecResult::Ok(v) => Some(kiln_runtime::str_value(
                &v.unwrap_or(kiln_runtime::Value::None),
            )),
            ExecResult::Err(_) => None,
        }
    };
    expand_vars(cmd, &mut eval).unwrap_or_else(|| cmd.to_string())
}

/// The expansion of [`expand_command`], with `eval` giving an expression's text (`None`:
/// the whole expansion fails).
pub fn expand_vars(cmd: &str, eval: &mut dyn FnMut(&str) -> Option<String>) -> Option<String> {
    if !cmd.contains(['{', '}', '$']) {
        return Some(cmd.to_string());
    }
    let chars: Vec<char> = cmd.chars().collect();
    let mut out = String::new();
    let mut in_quotes = false;
    let mut k = 0;
    let word_len = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '.')
            .count()
    };
    while k < chars.len() {
        let c = chars[k];
        match c {
            '\'' => {
                in_quotes = !in_quotes;
                out.push(c);
                k += 1;
            }
            '{' if chars.get(k + 1) == Some(&'{') => {
                out.push('{');
                k += 2;
            }
            '}' if chars.get(k + 1) == Some(&'}') => {
                out.push('}');
                k += 2;
            }
            '}' => return None,
            '{' => {
                let mut depth = 0;
                let mut end = None;
                for (j, &d) in chars.iter().enumerate().skip(k) {
                    match d {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = end?;
                let expr: String = chars[k + 1..end].iter().collect();
                if expr.trim().is_empty() {
                    return None;
                }
                out.push_str(&eval(expr.trim())?);
                k = end + 1;
            }
            '$' if !in_quotes && chars.get(k + 1) == Some(&'$') && word_len(k + 2) > 0 => {
                let n = word_len(k + 2);
                out.push('$');
                out.extend(&chars[k + 2..k + 2 + n]);
                k += 2 + n;
            }
            '$' if !in_quotes && word_len(k + 1) > 0 => {
                let n = word_len(k + 1);
                let name: String = chars[k + 1..k + 1 + n].iter().collect();
                out.push_str(&eval(&name)?);
                k += 1 + n;
            }
            _ => {
                out.push(c);
                k += 1;
            }
        }
    }
    Some(out)
}

fn keyboard_interrupt() -> ExecResult {
    ExecResult::Err(CellError {
        ename: ErrorKind::KeyboardInterrupt.name().into(),
        evalue: String::new(),
        traceback: vec![ErrorKind::KeyboardInterrupt.name().into()],
    })
}

/// Python's exception for a failed system call on `path`: `FileNotFoundError: [Errno 2] No
/// such file or directory: 'nodir/f.txt'`.
fn os_error(e: &std::io::Error, path: &str) -> ExecResult {
    use std::io::ErrorKind as K;
    let ename = match e.kind() {
        K::NotFound => "FileNotFoundError",
        K::PermissionDenied => "PermissionError",
        K::AlreadyExists => "FileExistsError",
        K::IsADirectory => "IsADirectoryError",
        K::NotADirectory => "NotADirectoryError",
        _ => "OSError",
    };
    let evalue = match e.raw_os_error() {
        Some(n) => {
            let text = std::io::Error::from_raw_os_error(n).to_string();
            let text = text
                .strip_suffix(&format!(" (os error {n})"))
                .unwrap_or(&text)
                .to_string();
            format!(
                "[Errno {n}] {text}: {}",
                kiln_runtime::pyfmt::str_repr(path)
            )
        }
        None => format!("{e}: {}", kiln_runtime::pyfmt::str_repr(path)),
    };
    ExecResult::Err(CellError {
        ename: ename.into(),
        traceback: vec![format!("{ename}: {evalue}")],
        evalue,
    })
}

/// IPython gives a cell magic its body with a final newline.
pub(crate) fn with_newline(body: &str) -> String {
    if body.is_empty() || body.ends_with('\n') {
        body.to_string()
    } else {
        format!("{body}\n")
    }
}

/// A file name as the user wrote it: surrounding quotes removed, `~` expanded.
fn path_arg(arg: &str) -> String {
    let arg = arg.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|&q| {
            arg.strip_prefix(q)
                .and_then(|a| a.strip_suffix(q))
                .filter(|_| arg.len() >= 2)
        })
        .unwrap_or(arg);
    let home = || std::env::var("HOME").ok().filter(|h| !h.is_empty());
    if unquoted == "~" {
        if let Some(h) = home() {
            return h;
        }
    } else if let Some(rest) = unquoted.strip_prefix("~/") {
        if let Some(h) = home() {
            return format!("{}/{rest}", h.trim_end_matches('/'));
        }
    }
    unquoted.to_string()
}

/// What `%timeit`'s options ask for (IPython's `-n` loops per run, `-r` runs).
#[derive(Debug, Default, PartialEq)]
pub struct TimeItOptions {
    pub loops: Option<u32>,
    pub runs: Option<u32>,
}

/// `%timeit`'s options, before the code on a line magic's line (`-n 10 -r 3 f(x)`) or on a
/// cell magic's first line; `-q`, `-o`, `-t`, `-c` are accepted and change nothing.
pub fn timeit_options<'c>(
    first: &'c str,
    code: &'c str,
) -> Result<(TimeItOptions, &'c str), String> {
    let mut o = TimeItOptions::default();
    let line_magic = first.trim().is_empty();
    let mut rest = if line_magic {
        code.trim_start()
    } else {
        first.trim()
    };
    while let Some(opt) = rest.strip_prefix('-') {
        let flag = opt.chars().next().unwrap_or(' ');
        let after = opt[flag.len_utf8()..].trim_start();
        match flag {
            'n' | 'r' | 'p' => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                let v: u32 = after[..end]
                    .parse()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| format!("%timeit -{flag} takes a positive integer"))?;
                match flag {
                    'n' => o.loops = Some(v),
                    'r' => o.runs = Some(v),
                    _ => {}
                }
                rest = after[end..].trim_start();
            }
            'q' | 'o' | 't' | 'c' => rest = after,
            _ => return Err(format!("%timeit: option -{flag} not recognized")),
        }
    }
    Ok((o, if line_magic { rest } else { code }))
}

/// The arguments of `%%writefile`: (append, file name).
pub fn writefile_args(args: &str) -> Result<(bool, String), String> {
    let mut append = false;
    let mut rest = args.trim();
    loop {
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        match word {
            "-a" | "--append" => {
                append = true;
                rest = after.trim_start();
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        return Err("%%writefile [-a] FILE: the following arguments are required: filename".into());
    }
    Ok((append, path_arg(rest)))
}

/// `%%writefile`: IPython's messages, the file opened before anything is printed.
fn write_file(args: &str, body: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
    use std::io::Write;
    let (append, name) = match writefile_args(args) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let existed = std::path::Path::new(&name).exists();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&name);
    let mut file = match file {
        Ok(f) => f,
        Err(e) => return os_error(&e, &name),
    };
    let message = match (existed, append) {
        (true, true) => "Appending to",
        (true, false) => "Overwriting",
        (false, _) => "Writing",
    };
    sink(Output::Stdout(format!("{message} {name}\n")));
    match file.write_all(with_newline(body).as_bytes()) {
        Ok(()) => ExecResult::Ok(None),
        Err(e) => os_error(&e, &name),
    }
}

/// `%%bash` / `%%sh`: the body run by that shell; a nonzero status is IPython's
/// `CalledProcessError`.
fn run_script(
    session: &mut dyn Host,
    shell: &str,
    body: &str,
    sink: &mut dyn FnMut(Output),
) -> ExecResult {
    let script = with_newline(body);
    let flag = session.interrupt_flag();
    let program = if shell == "sh" { "/bin/sh" } else { "bash" };
    let command = crate::shell::bytes_repr(script.as_bytes());
    let evalue = match crate::shell::run(program, &["-c", &script], &flag, sink) {
        Ok(crate::shell::Ended::Interrupted) => return keyboard_interrupt(),
        Ok(crate::shell::Ended::Exited(0)) => return ExecResult::Ok(None),
        Ok(crate::shell::Ended::Exited(n)) => {
            format!("Command '{command}' returned non-zero exit status {n}.")
        }
        Ok(crate::shell::Ended::Signaled(sig)) => format!(
            "Command '{command}' died with {}.",
            crate::shell::signal_repr(sig)
        ),
        Err(e) => return os_error(&e, program),
    };
    ExecResult::Err(CellError {
        ename: "CalledProcessError".into(),
        traceback: vec![format!("CalledProcessError: {evalue}")],
        evalue,
    })
}

/// `%cd`: as IPython, the new directory printed (not with `-q`); `%cd` alone goes home and
/// `%cd -` back to the directory before the last `%cd`. A directory that cannot be entered
/// is an error of the cell (IPython only prints it), so that a notebook run on does not
/// write its files elsewhere.
fn change_dir(session: &mut dyn Host, arg: &str, sink: &mut dyn FnMut(Output)) -> ExecResult {
    let mut arg = arg.trim();
    let mut quiet = false;
    if let Some(rest) = arg.strip_prefix("-q") {
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            quiet = true;
            arg = rest.trim_start();
        }
    }
    let target = match arg {
        "" => match std::env::var("HOME") {
            Ok(h) if !h.is_empty() => h,
            _ => return usage_error("%cd: $HOME is not set".into()),
        },
        "-" => match &session.settings().previous_dir {
            Some(d) => d.to_string_lossy().into_owned(),
            None => return usage_error("%cd -: No previous directory to change to.".into()),
        },
        a => path_arg(a),
    };
    let before = std::env::current_dir().ok();
    if let Err(e) = std::env::set_current_dir(&target) {
        return os_error(&e, &target);
    }
    session.settings().previous_dir = before;
    if !quiet {
        let now = std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or(target);
        sink(Output::Stdout(format!("{now}\n")));
    }
    ExecResult::Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(code: &str) -> String {
        match parse(code) {
            None => "code".into(),
            Some(Magic::System(c)) => format!("system {c:?}"),
            Some(Magic::Script(sh, b)) => format!("script {sh} {b:?}"),
            Some(Magic::WriteFile(a, b)) => format!("writefile {a:?} {b:?}"),
            Some(Magic::Cd(a)) => format!("cd {a:?}"),
            Some(Magic::C(f, b)) => format!("c {f:?} {b:?}"),
            Some(Magic::Pwd) => "pwd".into(),
            Some(Magic::Unknown(n)) => format!("unknown {n}"),
            Some(_) => "other".into(),
        }
    }

    #[test]
    fn timeit_reads_ipythons_loop_and_run_counts() {
        let (o, code) = timeit_options("", "-n 3 -r2 f(x, -1)").unwrap();
        assert_eq!((o.loops, o.runs, code), (Some(3), Some(2), "f(x, -1)"));
        let (o, code) = timeit_options("", "x - 1").unwrap();
        assert_eq!((o, code), (TimeItOptions::default(), "x - 1"));
        let (o, code) = timeit_options("-q -n 10", "y = -x\n").unwrap();
        assert_eq!((o.loops, o.runs, code), (Some(10), None, "y = -x\n"));
        assert!(timeit_options("", "-n zero f()").is_err());
        assert!(timeit_options("", "-z f()").is_err());
    }

    #[test]
    fn shell_conventions_parse() {
        assert_eq!(name("!ls -l"), r#"system "ls -l""#);
        assert_eq!(name("\n!!echo x\n"), r#"system "echo x""#);
        assert_eq!(name("!= 3"), "code");
        assert_eq!(name("x = 1"), "code");
        assert_eq!(name("  !ls"), "code");
        assert_eq!(
            name("%%bash\necho a\nexit 2"),
            r#"script bash "echo a\nexit 2""#
        );
        assert_eq!(name("%%sh\r\necho a"), r#"script sh "echo a""#);
        assert_eq!(
            name("%%writefile -a out.txt\nline\n"),
            r#"writefile "-a out.txt" "line\n""#
        );
        assert_eq!(name("%cd /tmp"), r#"cd "/tmp""#);
        assert_eq!(name("%cd"), r#"cd """#);
        assert_eq!(name("%pwd"), "pwd");
        assert_eq!(name("%%bashx\n"), "unknown bashx");
    }

    #[test]
    fn magic_cells_are_complete_at_a_blank_line() {
        use crate::syntax::Completeness::*;
        let c = |code: &str| match is_complete(code) {
            Complete => "complete",
            Incomplete(_) => "incomplete",
            Invalid => "invalid",
        };
        assert_eq!(c("%%bash"), "incomplete");
        assert_eq!(c("%%bash\n"), "incomplete");
        assert_eq!(c("%%bash\necho a\n"), "incomplete");
        assert_eq!(c("%%bash\necho a\n\n"), "complete");
        assert_eq!(c("%%bash\r\necho a\r\n  \r\n"), "complete");
        assert_eq!(c("!ls -l\n"), "complete");
        assert_eq!(c("%cd /tmp"), "complete");
        assert_eq!(c("for i in range(3):\n"), "incomplete");
        assert_eq!(c("x = 1"), "complete");
    }

    #[test]
    fn bang_expansion_like_ipython() {
        let mut eval = |e: &str| match e {
            "n" => Some("3".to_string()),
            "n * 2" => Some("6".to_string()),
            "path.name" => Some("p".to_string()),
            _ => None,
        };
        let mut x = |cmd: &str| expand_vars(cmd, &mut eval);
        assert_eq!(x("echo {n} {n * 2}").as_deref(), Some("echo 3 6"));
        assert_eq!(x("echo $n-$$n $path.name").as_deref(), Some("echo 3-$n p"));
        assert_eq!(x("echo '$n' {{n}} $$").as_deref(), Some("echo '$n' {n} $$"));
        // All or nothing: the caller then runs the command as written.
        assert_eq!(x("echo $HOME {n}"), None);
        assert_eq!(x("awk '{print $1}' f"), None);
        assert_eq!(x("find . -exec rm {} ;"), None);
        assert_eq!(x("echo }"), None);
        assert_eq!(x("ls -l").as_deref(), Some("ls -l"));
    }

    #[test]
    fn writefile_arguments() {
        assert_eq!(writefile_args("f.txt"), Ok((false, "f.txt".into())));
        assert_eq!(writefile_args("-a f.txt"), Ok((true, "f.txt".into())));
        assert_eq!(
            writefile_args("--append \"my file.txt\""),
            Ok((true, "my file.txt".into()))
        );
        assert!(writefile_args("-a").is_err());
        assert!(writefile_args("").is_err());
        assert_eq!(with_newline("a"), "a\n");
        assert_eq!(with_newline("a\n"), "a\n");
        assert_eq!(with_newline(""), "");
    }

    #[test]
    fn bang_lines_split_among_code() {
        let parts = split_line_magics("x = 1\n!echo a\n!echo b\ny = x\n%who").unwrap();
        assert_eq!(
            parts,
            vec!["x = 1\n", "!echo a", "!echo b", "\n\n\ny = x\n", "%who"]
        );
        // `!=` continuing a bracketed line is code.
        assert_eq!(split_line_magics("t = (1\n!= 2)\nt"), None);
        // Every magic and command is listed once, and completes.
        for list in [LINE_MAGICS, CELL_MAGICS] {
            let mut names = list.to_vec();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), list.len());
        }
    }
}
