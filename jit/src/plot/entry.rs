//! `kiln_plot`, the one runtime entry of every plotting builtin, and the current figure of
//! the thread that runs the cell (a fresh thread per cell, so a cell starts with none).

use super::figure::{Figure, Loc};
use super::{slot, PlotOp};
use crate::codegen::support::{display_event, DisplayEvent};
use kiln_runtime::{Array, DType, ErrorKind, ExecCtx};
use std::cell::RefCell;

thread_local! {
    static CURRENT: RefCell<Option<Figure>> = const { RefCell::new(None) };
}

/// Element `(i, j)` of a 1-D (`j` = 0) or 2-D real array, as f64.
unsafe fn get(a: &Array, i: usize, j: usize) -> f64 {
    let dtype = DType::from_i64(a.dtype);
    let mut off = i as i64 * a.strides[0];
    if a.ndim >= 2 {
        off += j as i64 * a.strides[1];
    }
    let p = a.data.offset(off as isize * dtype.size() as isize);
    match dtype {
        DType::Bool | DType::I64 | kiln_runtime::narrow_ints!() => dtype.read_int(p) as f64,
        DType::F64 | DType::C128 => *(p as *const f64),
        DType::F32 => *(p as *const f32) as f64,
    }
}

/// Column `j` of a 2-D array, or the whole of a 1-D one.
unsafe fn column(a: &Array, j: usize) -> Vec<f64> {
    (0..a.shape[0].max(0) as usize)
        .map(|i| get(a, i, j))
        .collect()
}

unsafe fn text(w: u64) -> Option<String> {
    let p = w as *const kiln_runtime::KStr;
    (!p.is_null()).then(|| (*p).s.clone())
}

unsafe fn array<'a>(w: u64) -> Option<&'a Array> {
    (w as *const Array).as_ref()
}

/// Show the current figure now (if anything was drawn on it) and start afresh.
fn show(ctx: *mut ExecCtx) {
    let Some(fig) = CURRENT.with(|c| c.borrow_mut().take()) else {
        return;
    };
    if fig.is_empty() {
        return;
    }
    match super::render_png(&fig) {
        Ok(png) => display_event(ctx, DisplayEvent::Image(png, fig.title.clone())),
        // SAFETY: ctx is the live context of the running cell.
        Err(e) => unsafe { (*ctx).raise(ErrorKind::InternalError, e) },
    }
}

/// Called when a cell ends, whether it finished or failed: its last figure is shown (a
/// failed cell keeps its error: the first error raised wins).
pub fn finish_cell(ctx: &mut ExecCtx) {
    show(ctx);
}

fn with_figure<T>(f: impl FnOnce(&mut Figure) -> T) -> T {
    CURRENT.with(|c| f(c.borrow_mut().get_or_insert_with(Figure::default)))
}

/// One plotting call: `op` a [`PlotOp`], `w` its [`slot::COUNT`] operand words.
///
/// # Safety
/// `ctx` is live; the words hold live arrays and strings (or 0) in the slots `op` reads.
#[no_mangle]
pub unsafe extern "C" fn kiln_plot(ctx: *mut ExecCtx, op: i64, w: *const u64) {
    let w = std::slice::from_raw_parts(w, slot::COUNT);
    let Some(op) = PlotOp::from_i64(op) else {
        (*ctx).raise(
            ErrorKind::InternalError,
            format!("unknown plot operation {op}"),
        );
        return;
    };
    if (*ctx).in_parallel_loop {
        // The figure belongs to the cell's thread; chunks run on several threads at once,
        // so what they drew would land on figures nobody shows, in no fixed order.
        (*ctx).raise(
            ErrorKind::ValueError,
            "a parallel loop's body cannot draw: its iterations run on several threads at once \
             (fill an array in the loop and plot it after the loop)",
        );
        return;
    }
    if let Err(msg) = call(ctx, op, w) {
        (*ctx).raise(ErrorKind::ValueError, msg);
    }
}

unsafe fn call(ctx: *mut ExecCtx, op: PlotOp, w: &[u64]) -> Result<(), String> {
    let x = array(w[slot::X]);
    let y = array(w[slot::Y]);
    let fmt = text(w[slot::FMT]);
    let label = text(w[slot::LABEL]);
    let color = text(w[slot::COLOR]);
    match op {
        PlotOp::Plot => {
            let (xs, ys) = match (x, y) {
                (Some(x), Some(y)) => (Some(x), y),
                (Some(y), None) => (None, y),
                _ => return Err("plot() needs data: plot(y) or plot(x, y)".into()),
            };
            let xv = xs.map(|a| column(a, 0));
            let cols = if ys.ndim >= 2 {
                ys.shape[1].max(0) as usize
            } else {
                1
            };
            if let (Some(xv), true) = (&xv, ys.ndim >= 2) {
                if xv.len() != ys.shape[0] as usize {
                    return Err(format!(
                        "x and y must have same first dimension, but have shapes ({},) and ({}, {})",
                        xv.len(),
                        ys.shape[0],
                        ys.shape[1]
                    ));
                }
            }
            for j in 0..cols {
                let yv = column(ys, j);
                with_figure(|f| {
                    f.plot(
                        xv.clone(),
                        yv,
                        fmt.as_deref(),
                        color.as_deref(),
                        label.clone(),
                    )
                })?;
            }
        }
        PlotOp::Scatter => {
            let (Some(x), Some(y)) = (x, y) else {
                return Err("scatter() needs x and y".into());
            };
            let (xv, yv) = (column(x, 0), column(y, 0));
            with_figure(|f| f.scatter(xv, yv, fmt.as_deref(), color.as_deref(), label))?;
        }
        PlotOp::Hist => {
            let Some(x) = x else {
                return Err("hist() needs data".into());
            };
            let data = column(x, 0);
            let bins = w[slot::N] as i64;
            with_figure(|f| f.hist(data, bins, color.as_deref(), label))?;
        }
        PlotOp::Imshow => {
            let Some(a) = x else {
                return Err("imshow() needs an array".into());
            };
            let (rows, cols) = (a.shape[0].max(0) as usize, a.shape[1].max(0) as usize);
            let mut values = Vec::with_capacity(rows * cols);
            for i in 0..rows {
                for j in 0..cols {
                    values.push(get(a, i, j));
                }
            }
            let cmap = fmt.unwrap_or_else(|| "viridis".into());
            with_figure(|f| f.imshow(rows, cols, values, &cmap))?;
        }
        PlotOp::Title | PlotOp::XLabel | PlotOp::YLabel => {}
        PlotOp::Legend => {
            let loc = Loc::parse(fmt.as_deref().unwrap_or("best"))?;
            with_figure(|f| f.legend = Some(loc));
        }
        PlotOp::Figure => {
            show(ctx);
            let (fw, fh) = (f64::from_bits(w[slot::N]), f64::from_bits(w[slot::M]));
            let fig = if fw > 0.0 && fh > 0.0 {
                Figure::new(fw, fh)
            } else {
                Figure::default()
            };
            CURRENT.with(|c| *c.borrow_mut() = Some(fig));
        }
        PlotOp::Show => show(ctx),
        PlotOp::Savefig => {
            // matplotlib's savefig: the file gets the figure, which stays current (and is
            // still shown when the cell ends).
            let path = fmt.unwrap_or_default();
            let png = CURRENT.with(|c| c.borrow().as_ref().map(super::render_png));
            let png = match png {
                Some(r) => r?,
                None => super::render_png(&Figure::default())?,
            };
            if let Err(e) = std::fs::write(&path, png) {
                // Python's wording: `[Errno 2] No such file or directory: 'x/a.png'`.
                let why = e.to_string();
                let why = why.split(" (os error").next().unwrap_or(&why);
                let errno = e.raw_os_error().unwrap_or(0);
                (*ctx).raise(
                    ErrorKind::OSError,
                    format!("[Errno {errno}] {why}: '{path}'"),
                );
                return Ok(());
            }
        }
        PlotOp::NoXTicks => with_figure(|f| f.no_ticks.0 = true),
        PlotOp::NoYTicks => with_figure(|f| f.no_ticks.1 = true),
        PlotOp::Colorbar => {
            if !with_figure(|f| f.image.is_some()) {
                return Err("No mappable was found to use for colorbar creation. First define a mappable such as an image (with imshow)".into());
            }
        }
    }
    // `title=`, `xlabel=`, `ylabel=` of any call, and the text of `title()`, ... .
    let (title, xlabel, ylabel) = match op {
        PlotOp::Savefig => (None, None, None),
        PlotOp::Title => (text(w[slot::FMT]), None, None),
        PlotOp::XLabel => (None, text(w[slot::FMT]), None),
        PlotOp::YLabel => (None, None, text(w[slot::FMT])),
        _ => (
            text(w[slot::TITLE]),
            text(w[slot::XLABEL]),
            text(w[slot::YLABEL]),
        ),
    };
    if title.is_some() || xlabel.is_some() || ylabel.is_some() {
        with_figure(|f| {
            f.title = title.or(f.title.take());
            f.xlabel = xlabel.or(f.xlabel.take());
            f.ylabel = ylabel.or(f.ylabel.take());
        });
    }
    Ok(())
}

/// The symbols above, for the JIT's symbol table.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![("kiln_plot", kiln_plot as *const u8)]
}
