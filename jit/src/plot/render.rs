//! A figure drawn into pixels and encoded as PNG. The layout is matplotlib's default subplot
//! (axes from 12.5 % to 90 % of the width, 11 % to 88 % of the height), a colorbar beside
//! an image (its height, 1/20 as wide), square image pixels (the axes shrink to the image's
//! aspect); the axes are framed, with outward ticks at round numbers on the left and bottom.

use super::figure::{Figure, Image, Kind, Loc, Series};
use super::style::{Marker, Rgb};
use super::ticks;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &str = "sans-serif";
/// Tick labels, axis labels, legend (matplotlib's 10 pt at 100 dpi).
const TEXT_PX: f64 = 15.0;
const TITLE_PX: f64 = 18.0;
const TICK_LEN: i32 = 5;
const LINE_W: u32 = 2;

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        // The font is ours and valid; text would be missing, nothing worse, if it were not.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

/// A rectangle in pixels: left, top, right, bottom.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn w(&self) -> f64 {
        self.x1 - self.x0
    }
    fn h(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// Data → pixel mapping of the axes: `y` may run downward (an image's rows).
struct Axes {
    r: Rect,
    x: (f64, f64),
    /// The y values at the bottom and at the top of the axes.
    y: (f64, f64),
}

impl Axes {
    fn px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.r.x0 + (x - self.x.0) / (self.x.1 - self.x.0) * self.r.w(),
            self.r.y1 - (y - self.y.0) / (self.y.1 - self.y.0) * self.r.h(),
        )
    }
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn pt(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// Where the axes (and the colorbar) go, and the data ranges they show.
fn layout(fig: &Figure) -> (Axes, Option<Rect>) {
    let (w, h) = (fig.size.0 as f64, fig.size.1 as f64);
    let mut r = Rect {
        x0: 0.125 * w,
        y0: 0.12 * h,
        x1: 0.9 * w,
        y1: 0.89 * h,
    };
    let Some(img) = &fig.image else {
        let (x, y) = data_limits(&fig.series);
        return (Axes { r, x, y }, None);
    };
    let full_w = r.w();
    r.x1 = r.x0 + 0.8 * full_w;
    // Square pixels: shrink the axes to the image's aspect, centred.
    let aspect = img.cols as f64 / img.rows as f64;
    if r.w() / r.h() > aspect {
        let nw = r.h() * aspect;
        let c = (r.x0 + r.x1) / 2.0;
        (r.x0, r.x1) = (c - nw / 2.0, c + nw / 2.0);
    } else {
        let nh = r.w() / aspect;
        let c = (r.y0 + r.y1) / 2.0;
        (r.y0, r.y1) = (c - nh / 2.0, c + nh / 2.0);
    }
    let cx0 = r.x1 + 0.05 * full_w;
    let cbar = Rect {
        x0: cx0,
        y0: r.y0,
        x1: cx0 + (r.h() / 20.0).max(8.0),
        y1: r.y1,
    };
    let x = (-0.5, img.cols as f64 - 0.5);
    let y = (img.rows as f64 - 0.5, -0.5);
    (Axes { r, x, y }, Some(cbar))
}

/// The view limits of the series: finite data plus margins; bars stand on 0.
fn data_limits(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let mut bars = false;
    for s in series {
        match &s.kind {
            Kind::Bars { edges, counts } => {
                bars = true;
                xs.extend(edges.first().copied());
                xs.extend(edges.last().copied());
                ys.push(0.0);
                ys.extend(counts.iter().copied());
            }
            _ => {
                // A point counts where both coordinates are finite (the others are not drawn).
                for (&x, &y) in s.x.iter().zip(&s.y) {
                    if x.is_finite() && y.is_finite() {
                        xs.push(x);
                        ys.push(y);
                    }
                }
            }
        }
    }
    let yr = ticks::finite_range(ys);
    let sticky = bars && yr.is_some_and(|(lo, _)| lo == 0.0);
    (
        ticks::view_limits(ticks::finite_range(xs), false),
        ticks::view_limits(yr, sticky),
    )
}

/// The pixels of the image in its axes: each output pixel the mean of the finite values it
/// covers (nearest value when enlarging).
fn image_pixels(img: &Image, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    let span = |k: u32, n: u32, m: usize| {
        let a = (k as f64 * m as f64 / n as f64).floor() as usize;
        let b = (((k + 1) as f64 * m as f64 / n as f64).ceil() as usize).max(a + 1);
        (a.min(m - 1), b.min(m))
    };
    for py in 0..h {
        let (r0, r1) = span(py, h, img.rows);
        for px in 0..w {
            let (c0, c1) = span(px, w, img.cols);
            let (mut sum, mut n) = (0.0, 0usize);
            for r in r0..r1 {
                for c in c0..c1 {
                    let v = img.values[r * img.cols + c];
                    if v.is_finite() {
                        sum += v;
                        n += 1;
                    }
                }
            }
            let v = if n > 0 { sum / n as f64 } else { f64::NAN };
            let c = img.color_of(v);
            out.extend_from_slice(&[c.0, c.1, c.2]);
        }
    }
    out
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type Res = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing the figure failed: {e:?}")
}

fn text_style(size: f64, pos: Pos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(&BLACK)
        .pos(pos)
}

fn text_width(area: &Area, s: &str, size: f64) -> f64 {
    area.estimate_text_size(s, &text_style(size, Pos::default()))
        .map(|(w, _)| w as f64)
        .unwrap_or(0.0)
}

fn text(area: &Area, s: &str, at: (f64, f64), size: f64, pos: Pos) -> Res {
    area.draw(&Text::new(s.to_string(), pt(at), text_style(size, pos)))
        .map_err(err)
}

fn frame(area: &Area, r: Rect) -> Res {
    let (x0, y0, x1, y1) = (
        r.x0.round() as i32,
        r.y0.round() as i32,
        r.x1.round() as i32,
        r.y1.round() as i32,
    );
    area.draw(&PathElement::new(
        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
        ShapeStyle::from(&BLACK).stroke_width(1),
    ))
    .map_err(err)
}

/// The x ticks below the axes and the y ticks left of them (not those `xticks([])` /
/// `yticks([])` removed); returns the widest y label.
fn draw_ticks(area: &Area, ax: &Axes, (no_x, no_y): (bool, bool)) -> Result<f64, String> {
    let nx = ((ax.r.w() * 0.72 / 30.0) as usize).clamp(1, 9);
    let ny = ((ax.r.h() * 0.72 / 20.0) as usize).clamp(1, 9);
    let sorted = |(a, b): (f64, f64)| (a.min(b), a.max(b));
    let (xlo, xhi) = sorted(ax.x);
    let xt = if no_x {
        Vec::new()
    } else {
        ticks::ticks(xlo, xhi, nx)
    };
    let line = ShapeStyle::from(&BLACK).stroke_width(1);
    for (t, label) in xt.iter().zip(ticks::labels(&xt)) {
        let (x, _) = pt(ax.px(*t, ax.y.0));
        let y = ax.r.y1.round() as i32;
        area.draw(&PathElement::new(vec![(x, y), (x, y + TICK_LEN)], line))
            .map_err(err)?;
        text(
            area,
            &label,
            (x as f64, (y + TICK_LEN + 3) as f64),
            TEXT_PX,
            Pos::new(HPos::Center, VPos::Top),
        )?;
    }
    let (ylo, yhi) = sorted(ax.y);
    let yt = if no_y {
        Vec::new()
    } else {
        ticks::ticks(ylo, yhi, ny)
    };
    let mut widest: f64 = 0.0;
    for (t, label) in yt.iter().zip(ticks::labels(&yt)) {
        let (_, y) = pt(ax.px(ax.x.0, *t));
        let x = ax.r.x0.round() as i32;
        area.draw(&PathElement::new(vec![(x - TICK_LEN, y), (x, y)], line))
            .map_err(err)?;
        widest = widest.max(text_width(area, &label, TEXT_PX));
        text(
            area,
            &label,
            ((x - TICK_LEN - 3) as f64, y as f64),
            TEXT_PX,
            Pos::new(HPos::Right, VPos::Center),
        )?;
    }
    Ok(widest)
}

/// A polyline in pixels, cut into dashes.
fn dashes(points: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || points.len() < 2 {
        return vec![points.to_vec()];
    }
    let mut out = Vec::new();
    let mut cur = vec![points[0]];
    let (mut k, mut left, mut on) = (0usize, pattern[0], true);
    for w in points.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        let mut len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        while len > left {
            let t = left / len;
            let m = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on {
                cur.push(m);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![m];
            }
            on = !on;
            len -= left;
            a = m;
            k = (k + 1) % pattern.len();
            left = pattern[k];
        }
        left -= len;
        if on {
            cur.push(b);
        }
    }
    if on && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

fn marker(area: &Area, m: Marker, at: (f64, f64), color: RGBColor, r: i32) -> Res {
    let (x, y) = pt(at);
    let fill = ShapeStyle::from(&color).filled();
    let line = ShapeStyle::from(&color).stroke_width(LINE_W);
    match m {
        Marker::Point => area.draw(&Circle::new((x, y), (r / 2).max(1), fill)),
        Marker::Circle => area.draw(&Circle::new((x, y), r, fill)),
        Marker::Square => area.draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], fill)),
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - r - 1), (x - r - 1, y + r), (x + r + 1, y + r)],
            fill,
        )),
        Marker::X => area
            .draw(&PathElement::new(
                vec![(x - r, y - r), (x + r, y + r)],
                line,
            ))
            .and_then(|_| {
                area.draw(&PathElement::new(
                    vec![(x - r, y + r), (x + r, y - r)],
                    line,
                ))
            }),
        Marker::Plus => area
            .draw(&PathElement::new(vec![(x - r, y), (x + r, y)], line))
            .and_then(|_| area.draw(&PathElement::new(vec![(x, y - r), (x, y + r)], line))),
    }
    .map_err(err)
}

fn draw_series(area: &Area, ax: &Axes, s: &Series) -> Res {
    let color = rgb(s.color);
    match &s.kind {
        Kind::Bars { edges, counts } => {
            for (k, &c) in counts.iter().enumerate() {
                if c <= 0.0 {
                    continue;
                }
                let a = pt(ax.px(edges[k], c));
                let b = pt(ax.px(edges[k + 1], 0.0));
                area.draw(&Rectangle::new([a, b], ShapeStyle::from(&color).filled()))
                    .map_err(err)?;
            }
        }
        Kind::Scatter { marker: m } => {
            for (&x, &y) in s.x.iter().zip(&s.y) {
                if x.is_finite() && y.is_finite() {
                    marker(area, *m, ax.px(x, y), color, 4)?;
                }
            }
        }
        Kind::Line { dash, marker: m } => {
            if let Some(d) = dash {
                // Broken at every non-finite point, as matplotlib's paths are.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
                for (&x, &y) in s.x.iter().zip(&s.y) {
                    if x.is_finite() && y.is_finite() {
                        runs.last_mut().unwrap().push(ax.px(x, y));
                    } else if !runs.last().unwrap().is_empty() {
                        runs.push(vec![]);
                    }
                }
                let style = ShapeStyle::from(&color).stroke_width(LINE_W);
                for run in runs.iter().filter(|r| r.len() >= 2) {
                    for piece in dashes(run, d.pattern()) {
                        let px: Vec<(i32, i32)> = piece.into_iter().map(pt).collect();
                        area.draw(&PathElement::new(px, style)).map_err(err)?;
                    }
                }
            }
            if let Some(m) = m {
                for (&x, &y) in s.x.iter().zip(&s.y) {
                    if x.is_finite() && y.is_finite() {
                        marker(area, *m, ax.px(x, y), color, 4)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The legend's box: a sample of each labelled series and its label, in a corner of the axes
/// (`best`: the corner that covers the fewest points).
fn draw_legend(area: &Area, ax: &Axes, fig: &Figure, loc: Loc) -> Res {
    let items: Vec<&Series> = fig.series.iter().filter(|s| s.label.is_some()).collect();
    if items.is_empty() {
        return Ok(());
    }
    let row = TEXT_PX + 6.0;
    let sample = 28.0;
    let widest = items
        .iter()
        .map(|s| text_width(area, s.label.as_deref().unwrap_or(""), TEXT_PX))
        .fold(0.0, f64::max);
    let (bw, bh) = (sample + widest + 24.0, row * items.len() as f64 + 8.0);
    let pad = 8.0;
    let corner = |l: Loc| {
        let x0 = match l {
            Loc::UpperLeft | Loc::LowerLeft => ax.r.x0 + pad,
            _ => ax.r.x1 - pad - bw,
        };
        let y0 = match l {
            Loc::LowerLeft | Loc::LowerRight => ax.r.y1 - pad - bh,
            _ => ax.r.y0 + pad,
        };
        Rect {
            x0,
            y0,
            x1: x0 + bw,
            y1: y0 + bh,
        }
    };
    let loc = if loc == Loc::Best {
        let covered = |r: Rect| {
            fig.series
                .iter()
                .flat_map(|s| s.x.iter().zip(&s.y))
                .filter(|(x, y)| {
                    let (px, py) = ax.px(**x, **y);
                    px >= r.x0 && px <= r.x1 && py >= r.y0 && py <= r.y1
                })
                .count()
        };
        [
            Loc::UpperRight,
            Loc::UpperLeft,
            Loc::LowerLeft,
            Loc::LowerRight,
        ]
        .into_iter()
        .min_by_key(|l| covered(corner(*l)))
        .unwrap_or(Loc::UpperRight)
    } else {
        loc
    };
    let b = corner(loc);
    area.draw(&Rectangle::new(
        [pt((b.x0, b.y0)), pt((b.x1, b.y1))],
        ShapeStyle::from(&WHITE.mix(0.8)).filled(),
    ))
    .map_err(err)?;
    area.draw(&Rectangle::new(
        [pt((b.x0, b.y0)), pt((b.x1, b.y1))],
        ShapeStyle::from(&RGBColor(204, 204, 204)).stroke_width(1),
    ))
    .map_err(err)?;
    for (k, s) in items.iter().enumerate() {
        let cy = b.y0 + 4.0 + row * (k as f64 + 0.5);
        let (x0, x1) = (b.x0 + 8.0, b.x0 + 8.0 + sample);
        let color = rgb(s.color);
        match &s.kind {
            Kind::Bars { .. } => area
                .draw(&Rectangle::new(
                    [pt((x0, cy - 5.0)), pt((x1, cy + 5.0))],
                    ShapeStyle::from(&color).filled(),
                ))
                .map_err(err)?,
            Kind::Scatter { marker: m } => marker(area, *m, ((x0 + x1) / 2.0, cy), color, 4)?,
            Kind::Line { dash, marker: m } => {
                if let Some(d) = dash {
                    for piece in dashes(&[(x0, cy), (x1, cy)], d.pattern()) {
                        let px: Vec<(i32, i32)> = piece.into_iter().map(pt).collect();
                        area.draw(&PathElement::new(
                            px,
                            ShapeStyle::from(&color).stroke_width(LINE_W),
                        ))
                        .map_err(err)?;
                    }
                }
                if let Some(m) = m {
                    marker(area, *m, ((x0 + x1) / 2.0, cy), color, 4)?;
                }
            }
        }
        text(
            area,
            s.label.as_deref().unwrap_or(""),
            (x1 + 8.0, cy),
            TEXT_PX,
            Pos::new(HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

fn draw_colorbar(area: &Area, img: &Image, r: Rect) -> Res {
    let (w, h) = (r.w().round().max(1.0) as u32, r.h().round().max(1.0) as u32);
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        let t = 1.0 - (y as f64 + 0.5) / h as f64;
        let c = img.color_at(t);
        for _ in 0..w {
            px.extend_from_slice(&[c.0, c.1, c.2]);
        }
    }
    if let Some(e) = BitMapElement::with_owned_buffer(pt((r.x0, r.y0)), (w, h), px) {
        area.draw(&e).map_err(err)?;
    }
    frame(area, r)?;
    let (lo, hi) = if img.hi > img.lo {
        (img.lo, img.hi)
    } else {
        (img.lo - 0.5, img.lo + 0.5)
    };
    let n = ((r.h() * 0.72 / 20.0) as usize).clamp(1, 9);
    let ts = ticks::ticks(lo, hi, n);
    let line = ShapeStyle::from(&BLACK).stroke_width(1);
    for (t, label) in ts.iter().zip(ticks::labels(&ts)) {
        let y = (r.y1 - (t - lo) / (hi - lo) * r.h()).round() as i32;
        let x = r.x1.round() as i32;
        area.draw(&PathElement::new(vec![(x, y), (x + TICK_LEN, y)], line))
            .map_err(err)?;
        text(
            area,
            &label,
            ((x + TICK_LEN + 3) as f64, y as f64),
            TEXT_PX,
            Pos::new(HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

fn draw(area: &Area, fig: &Figure) -> Res {
    area.fill(&WHITE).map_err(err)?;
    let (ax, cbar) = layout(fig);
    if let Some(img) = &fig.image {
        let (x0, y0) = pt((ax.r.x0, ax.r.y0));
        let (x1, y1) = pt((ax.r.x1, ax.r.y1));
        let (w, h) = ((x1 - x0).max(1) as u32, (y1 - y0).max(1) as u32);
        let px = image_pixels(img, w, h);
        if let Some(e) = BitMapElement::with_owned_buffer((x0, y0), (w, h), px) {
            area.draw(&e).map_err(err)?;
        }
        if let Some(c) = cbar {
            draw_colorbar(area, img, c)?;
        }
    }
    for s in &fig.series {
        draw_series(area, &ax, s)?;
    }
    frame(area, ax.r)?;
    let widest = draw_ticks(area, &ax, fig.no_ticks)?;
    if let Some(loc) = fig.legend {
        draw_legend(area, &ax, fig, loc)?;
    }
    let cx = (ax.r.x0 + ax.r.x1) / 2.0;
    if let Some(t) = &fig.title {
        text(
            area,
            t,
            (cx, ax.r.y0 - 8.0),
            TITLE_PX,
            Pos::new(HPos::Center, VPos::Bottom),
        )?;
    }
    if let Some(t) = &fig.xlabel {
        let y = ax.r.y1 + TICK_LEN as f64 + 3.0 + TEXT_PX + 6.0;
        text(area, t, (cx, y), TEXT_PX, Pos::new(HPos::Center, VPos::Top))?;
    }
    if let Some(t) = &fig.ylabel {
        let x = ax.r.x0 - TICK_LEN as f64 - 3.0 - widest - 6.0 - TEXT_PX;
        let style = text_style(TEXT_PX, Pos::new(HPos::Center, VPos::Top))
            .transform(FontTransform::Rotate270);
        let cy = (ax.r.y0 + ax.r.y1) / 2.0;
        area.draw(&Text::new(t.clone(), pt((x.max(2.0), cy)), style))
            .map_err(err)?;
    }
    area.present().map_err(err)
}

/// The figure as PNG bytes.
pub fn render_png(fig: &Figure) -> Result<Vec<u8>, String> {
    register_font();
    let (w, h) = fig.size;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&area, fig)?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()
            .and_then(|mut wr| wr.write_image_data(&buf))
            .map_err(|e| format!("PNG encoding failed: {e}"))?;
    }
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::super::style::LineStyle;
    use super::*;

    #[test]
    fn dash_pattern_cuts_a_line() {
        let d = dashes(&[(0.0, 0.0), (100.0, 0.0)], LineStyle::Dashed.pattern());
        assert!(d.len() >= 9, "{}", d.len());
        assert!(d.iter().all(|p| p.len() >= 2));
        assert_eq!(dashes(&[(0.0, 0.0), (1.0, 1.0)], &[]).len(), 1);
    }
}
