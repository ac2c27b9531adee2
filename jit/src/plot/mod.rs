//! Figures, as matplotlib's `pyplot` draws them: `plot`, `scatter`, `hist` and `imshow` add
//! to the current figure of the running cell, `title`/`xlabel`/`ylabel`/`legend` decorate
//! it, and it is drawn into a PNG when the cell ends (also when it fails after drawing, as
//! matplotlib's inline backend shows it), when `show()` is called, or when `figure()` starts
//! the next one. Drawing is in Rust (`plotters` on an RGB buffer), with DejaVu Sans compiled
//! into the binary, so no system font or font library is needed.
//!
//! | file | holds |
//! |---|---|
//! | `figure.rs` | the model: series, the image layer, labels, and the checks of a call's data |
//! | `style.rs` | colours (matplotlib's cycle, names, `'r--'` format strings), markers, colormaps |
//! | `ticks.rs` | axis limits with matplotlib's margins, round-number ticks and their labels |
//! | `render.rs` | the figure drawn into pixels, then PNG |
//! | `entry.rs` | `kiln_plot`, the runtime entry the compiled code calls, and the cell's current figure |

mod entry;
mod figure;
mod render;
mod style;
mod ticks;

pub use entry::{finish_cell, symbols};
pub use figure::Figure;
pub use render::render_png;

/// What one `kiln_plot` call does (its `op` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotOp {
    Plot = 0,
    Scatter = 1,
    Hist = 2,
    Imshow = 3,
    Title = 4,
    XLabel = 5,
    YLabel = 6,
    Legend = 7,
    Figure = 8,
    Show = 9,
    Colorbar = 10,
    Savefig = 11,
    /// `xticks([])` / `yticks([])`: no ticks on that axis.
    NoXTicks = 12,
    NoYTicks = 13,
}

impl PlotOp {
    pub fn name(self) -> &'static str {
        match self {
            PlotOp::Plot => "plot",
            PlotOp::Scatter => "scatter",
            PlotOp::Hist => "hist",
            PlotOp::Imshow => "imshow",
            PlotOp::Title => "title",
            PlotOp::XLabel => "xlabel",
            PlotOp::YLabel => "ylabel",
            PlotOp::Legend => "legend",
            PlotOp::Figure => "figure",
            PlotOp::Show => "show",
            PlotOp::Colorbar => "colorbar",
            PlotOp::Savefig => "savefig",
            PlotOp::NoXTicks => "xticks",
            PlotOp::NoYTicks => "yticks",
        }
    }

    fn from_i64(k: i64) -> Option<PlotOp> {
        use PlotOp::*;
        [
            Plot, Scatter, Hist, Imshow, Title, XLabel, YLabel, Legend, Figure, Show, Colorbar,
            Savefig, NoXTicks, NoYTicks,
        ]
        .get(usize::try_from(k).ok()?)
        .copied()
    }
}

/// The operands of every `kiln_plot` call, one 8-byte word each, in this order: arrays and
/// strings are pointers (0 when not given), numbers their bits.
pub mod slot {
    /// The x data (`plot(x, y)`, `scatter`, `hist`'s data, `imshow`'s array).
    pub const X: usize = 0;
    /// The y data (0 for `plot(y)`: x is then 0, 1, 2, ...).
    pub const Y: usize = 1;
    /// `plot`'s format string (`'r--'`), `scatter`'s marker, `imshow`'s colormap, the text of
    /// `title`/`xlabel`/`ylabel`, `legend`'s `loc`, `savefig`'s path.
    pub const FMT: usize = 2;
    pub const LABEL: usize = 3;
    pub const COLOR: usize = 4;
    pub const TITLE: usize = 5;
    pub const XLABEL: usize = 6;
    pub const YLABEL: usize = 7;
    /// `hist`'s bins (i64); `figure`'s width in inches (f64 bits, 0 when not given).
    pub const N: usize = 8;
    /// `figure`'s height in inches (f64 bits).
    pub const M: usize = 9;
    pub const COUNT: usize = 10;
}
