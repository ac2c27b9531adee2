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
