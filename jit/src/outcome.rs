//! What running a cell produces — the output it sends while it runs, its result or error,
//! where its time went — and the compiler stages a cell can be printed at. The session makes
//! these and the magics and the front ends read them; none of them needs the session itself.

use kiln_runtime::Value;

/// Something a running cell sends out before it finishes.
pub enum Output {
    Stdout(String),
    Stderr(String),
    /// `display(v)`
    Display(Value),
    /// `clear_output(wait=...)`
    ClearOutput {
        wait: bool,
    },
    /// How far a cell still running after a second is: sent a few times a second, and
    /// once more with `finished` when it ends (front ends replace the line in place).
    Progress(ProgressLine),
    /// A rich display: HTML for notebooks, the same as text for consoles (`%%compare`).
    Html {
        html: String,
        text: String,
    },
    /// A picture (`imshow`): PNG bytes, with its title if one was given.
    Image {
        png: Vec<u8>,
        title: Option<String>,
    },
}

/// One state of a long cell's progress line.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressLine {
    /// Iterations done and the total of the outermost loop running, when one is.
    pub loop_done: Option<(i64, i64)>,
    /// Seconds since the cell started running.
    pub elapsed_s: f64,
    /// The cell has ended: the line shows its time.
    pub finished: bool,
}

impl ProgressLine {
    /// Seconds left at the loop's rate so far (None until a few iterations are done).
    pub fn remaining_s(&self) -> Option<f64> {
        let (done, total) = self.loop_done?;
        (done > 0 && !self.finished).then(|| self.elapsed_s * (total - done) as f64 / done as f64)
    }

    /// The line as plain text: `[#####.....] 50% 500/1000 · 1.2 s elapsed · ~1.2 s left`.
    pub fn text(&self) -> String {
        if self.finished {
            return format!("done in {}", seconds(self.elapsed_s));
        }
        let mut out = String::new();
        if let Some((done, total)) = self.loop_done {
            let frac = if total > 0 {
                done as f64 / total as f64
            } else {
                1.0
            };
            let filled = (frac * 20.0).round() as usize;
            out.push_str(&format!(
                "[{}{}] {:>3.0}% {done}/{total} · ",
                "#".repeat(filled),
                ".".repeat(20 - filled.min(20)),
                frac * 100.0
            ));
        } else {
            out.push_str("running · ");
        }
        out.push_str(&format!("{} elapsed", seconds(self.elapsed_s)));
        if let Some(r) = self.remaining_s() {
            out.push_str(&format!(" · ~{} left", seconds(r)));
        }
        out
    }

    /// The line as HTML: a `<progress>` bar and the same figures.
    pub fn html(&self) -> String {
        let bar = match self.loop_done {
            Some((done, total)) if !self.finished => {
                format!(
                    "<progress value=\"{done}\" max=\"{}\"></progress> ",
                    total.max(1)
                )
            }
            _ => String::new(),
        };
        let text = match (self.finished, self.loop_done) {
            (false, Some(_)) => self
                .text()
                .split_once("] ")
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
            _ => self.text(),
        };
        format!("<div class=\"kiln-progress\">{bar}<code>{text}</code></div>")
    }
}

fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{}:{:02}", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// A failed cell: Python's exception name, its message, and the rendered report.
#[derive(Clone, Debug)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    /// The report as lines of plain text (source line, caret, call chain, hint).
    pub traceback: Vec<String>,
}

pub enum ExecResult {
    /// The cell ran; its result value if its last statement was a non-None expression.
    Ok(Option<Value>),
    Err(CellError),
}

/// Where the time of the last cell went, in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub parse_ms: f64,
    pub check_ms: f64,
    pub lower_ms: f64,
    pub codegen_ms: f64,
    pub run_ms: Vec<f64>,
    /// What `@gpu` loops cost, when the cell has any (all runs together)...
    pub gpu: Option<GpuTimes>,
    /// ...and run by run, beside `run_ms` (a repeated cell: `kiln run --repeat`).
    pub gpu_runs: Vec<GpuTimes>,
}

/// The OpenCL side of a cell's time, from the device's profiling events.
#[derive(Clone, Debug, Default)]
pub struct GpuTimes {
    /// Program builds, a device's first-launch compile included.
    pub build_ms: f64,
    pub builds: u32,
    /// Launches whose program was already built this session.
    pub cached: u32,
    pub to_device_bytes: u64,
    pub to_device_ms: f64,
    pub from_device_bytes: u64,
    pub from_device_ms: f64,
    pub kernel_ms: f64,
    pub launches: u32,
}

impl From<kiln_runtime::opencl::GpuStats> for GpuTimes {
    fn from(s: kiln_runtime::opencl::GpuStats) -> Self {
        let ms = |ns: u64| ns as f64 / 1e6;
        GpuTimes {
            build_ms: ms(s.build_ns),
            builds: s.builds,
            cached: s.cached,
            to_device_bytes: s.to_device_bytes,
            to_device_ms: ms(s.to_device_ns),
            from_device_bytes: s.from_device_bytes,
            from_device_ms: ms(s.from_device_ns),
            kernel_ms: ms(s.kernel_ns),
            launches: s.launches,
        }
    }
}

impl GpuTimes {
    /// Two runs' costs together.
    pub fn add(&mut self, o: &GpuTimes) {
        self.build_ms += o.build_ms;
        self.builds += o.builds;
        self.cached += o.cached;
        self.to_device_bytes += o.to_device_bytes;
        self.to_device_ms += o.to_device_ms;
        self.from_device_bytes += o.from_device_bytes;
        self.from_device_ms += o.from_device_ms;
        self.kernel_ms += o.kernel_ms;
        self.launches += o.launches;
    }
}

impl Timings {
    /// Source to machine code.
    pub fn compile_ms(&self) -> f64 {
        self.parse_ms + self.check_ms + self.lower_ms + self.codegen_ms
    }
}

/// What to print instead of running (`kiln run --emit`, `%ir`, `%clif`, `%asm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Tokens,
    Ast,
    Ir,
    Clif,
    Asm,
    /// The OpenCL C of the cell's `@gpu` loops.
    OpenCl,
}
