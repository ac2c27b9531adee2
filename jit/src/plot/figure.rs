//! The figure a cell draws on: its series (lines, scatters, histogram bars), at most one
//! image (`imshow`, drawn with a colorbar), its labels and legend. The calls check their
//! data here, with matplotlib's messages.

use super::style::{self, LineStyle, Marker, Rgb, CYCLE};

/// Pixels per inch: matplotlib's inline default (`figure.dpi` 100).
pub const DPI: f64 = 100.0;

/// How a series is drawn.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A polyline (broken at non-finite points) and/or markers at the points.
    Line {
        dash: Option<LineStyle>,
        marker: Option<Marker>,
    },
    /// Markers only.
    Scatter { marker: Marker },
    /// Bars: `edges` has one more entry than `counts`.
    Bars { edges: Vec<f64>, counts: Vec<f64> },
}

#[derive(Clone, Debug)]
pub struct Series {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub color: Rgb,
    pub label: Option<String>,
    pub kind: Kind,
}

/// `imshow`'s data, row-major, with its colormap and the finite range it spans.
#[derive(Clone)]
pub struct Image {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
    pub cmap: style::Colormap,
    pub reversed: bool,
    pub lo: f64,
    pub hi: f64,
}

/// Where `legend()` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Best,
    UpperRight,
    UpperLeft,
    LowerLeft,
    LowerRight,
}

impl Loc {
    pub fn parse(s: &str) -> Result<Loc, String> {
        Ok(match s {
            "best" => Loc::Best,
            "upper right" => Loc::UpperRight,
            "upper left" => Loc::UpperLeft,
            "lower left" => Loc::LowerLeft,
            "lower right" => Loc::LowerRight,
            _ => {
                return Err(format!(
                    "'{s}' is not a valid value for loc; supported values are 'best', 'upper right', 'upper left', 'lower left', 'lower right'"
                ))
            }
        })
    }
}

#[derive(Clone)]
pub struct Figure {
    /// Width and height in pixels.
    pub size: (u32, u32),
    pub title: Option<String>,
    pub xlabel: Option<String>,
    pub ylabel: Option<String>,
    pub series: Vec<Series>,
    pub image: Option<Image>,
    pub legend: Option<Loc>,
    /// `xticks([])`, `yticks([])`: the axis drawn without ticks or their labels.
    pub no_ticks: (bool, bool),
    /// The next colour of the cycle.
    next_color: usize,
}

impl Default for Figure {
    fn default() -> Self {
        Figure::new(6.4, 4.8)
    }
}

impl Figure {
    /// A figure of `w` by `h` inches (matplotlib's default is 6.4 by 4.8).
    pub fn new(w: f64, h: f64) -> Figure {
        let px = |v: f64| (v * DPI).round().clamp(50.0, 4000.0) as u32;
        Figure {
            size: (px(w), px(h)),
            title: None,
            xlabel: None,
            ylabel: None,
            series: Vec::new(),
            image: None,
            legend: None,
            no_ticks: (false, false),
            next_color: 0,
        }
    }

    /// Nothing drawn or written yet (an empty figure is not shown).
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
            && self.image.is_none()
            && self.title.is_none()
            && self.xlabel.is_none()
            && self.ylabel.is_none()
    }

    fn color(&mut self, given: Option<Rgb>) -> Rgb {
        given.unwrap_or_else(|| {
            let c = CYCLE[self.next_color % CYCLE.len()];
            self.next_color += 1;
            c
        })
    }

    /// `plot(y)` (x is `None`: 0, 1, 2, ...) or `plot(x, y, fmt)`.
    pub fn plot(
        &mut self,
        x: Option<Vec<f64>>,
        y: Vec<f64>,
        fmt: Option<&str>,
        color: Option<&str>,
        label: Option<String>,
    ) -> Result<(), String> {
        let x = x.unwrap_or_else(|| (0..y.len()).map(|i| i as f64).collect());
        if x.len() != y.len() {
            return Err(format!(
                "x and y must have same first dimension, but have shapes ({},) and ({},)",
                x.len(),
                y.len()
            ));
        }
        let f = fmt
            .map(style::parse_format)
            .transpose()?
            .unwrap_or_default();
        let given = color.map(style::parse_color).transpose()?.or(f.color);
        // A marker alone draws no line, as in matplotlib.
        let dash = match (f.dash, f.marker) {
            (None, Some(_)) => None,
            (d, _) => Some(d.unwrap_or(LineStyle::Solid)),
        };
        let color = self.color(given);
        self.series.push(Series {
            x,
            y,
            color,
            label,
            kind: Kind::Line {
                dash,
                marker: f.marker,
            },
        });
        Ok(())
    }

    pub fn scatter(
        &mut self,
        x: Vec<f64>,
        y: Vec<f64>,
        marker: Option<&str>,
        color: Option<&str>,
        label: Option<String>,
    ) -> Result<(), String> {
        if x.len() != y.len() {
            return Err("x and y must be the same size".into());
        }
        let marker = marker
            .map(Marker::parse)
            .transpose()?
            .unwrap_or(Marker::Circle);
        let given = color.map(style::parse_color).transpose()?;
        let color = self.color(given);
        self.series.push(Series {
            x,
            y,
            color,
            label,
            kind: Kind::Scatter { marker },
        });
        Ok(())
    }

    /// `hist(x, bins)`: NumPy's equal-width bins over the finite values' range (the last
    /// bin closed), NaN and ±inf left out.
    pub fn hist(
        &mut self,
        data: Vec<f64>,
        bins: i64,
        color: Option<&str>,
        label: Option<String>,
    ) -> Result<(), String> {
        if bins < 1 {
            return Err("`bins` must be positive, when an integer".into());
        }
        let bins = bins.min(100_000) as usize;
        let (lo, hi) = match super::ticks::finite_range(data.iter().copied()) {
            Some((lo, hi)) if hi > lo => (lo, hi),
            Some((v, _)) => (v - 0.5, v + 0.5),
            None => (0.0, 1.0),
        };
        let edges: Vec<f64> = (0..=bins)
            .map(|k| lo + (hi - lo) * k as f64 / bins as f64)
            .collect();
        let mut counts = vec![0.0; bins];
        for v in data.iter().copied().filter(|v| v.is_finite()) {
            let k = (((v - lo) / (hi - lo)) * bins as f64).floor() as usize;
            counts[k.min(bins - 1)] += 1.0;
        }
        let given = color.map(style::parse_color).transpose()?;
        let color = self.color(given);
        self.series.push(Series {
            x: Vec::new(),
            y: Vec::new(),
            color,
            label,
            kind: Kind::Bars { edges, counts },
        });
        Ok(())
    }

    /// `imshow(a, cmap)`: the values row-major; the colormap spans their finite range.
    pub fn imshow(
        &mut self,
        rows: usize,
        cols: usize,
        values: Vec<f64>,
        cmap: &str,
    ) -> Result<(), String> {
        let (cmap, reversed) = style::colormap(cmap)?;
        if rows == 0 || cols == 0 {
            return Err(format!("Invalid shape ({rows}, {cols}) for image data"));
        }
        let (lo, hi) = super::ticks::finite_range(values.iter().copied()).unwrap_or((0.0, 1.0));
        self.image = Some(Image {
            rows,
            cols,
            values,
            cmap,
            reversed,
            lo,
            hi,
        });
        Ok(())
    }
}

impl Image {
    /// The colour of value `v` (NaN and ±inf are left white, as matplotlib leaves them
    /// transparent on a white figure).
    pub fn color_of(&self, v: f64) -> Rgb {
        if !v.is_finite() {
            return (255, 255, 255);
        }
        let t = if self.hi > self.lo {
            ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        self.color_at(t)
    }

    /// The colormap at `t` in [0, 1].
    pub fn color_at(&self, t: f64) -> Rgb {
        let t = if self.reversed { 1.0 - t } else { t };
        self.cmap.eval(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let mut f = Figure::default();
        assert!(f.is_empty());
        assert_eq!(
            f.plot(Some(vec![1.0, 2.0, 3.0]), vec![1.0; 4], None, None, None)
                .unwrap_err(),
            "x and y must have same first dimension, but have shapes (3,) and (4,)"
        );
        f.plot(None, vec![1.0, f64::NAN, 3.0], Some("r--"), None, None)
            .unwrap();
        assert_eq!(f.series[0].x, vec![0.0, 1.0, 2.0]);
        assert_eq!(f.series[0].color, (255, 0, 0));
        f.hist(
            vec![0.0, 1.0, 1.0, 2.0, f64::INFINITY, f64::NAN],
            2,
            None,
            None,
        )
        .unwrap();
        match &f.series[1].kind {
            Kind::Bars { edges, counts } => {
                assert_eq!(edges, &vec![0.0, 1.0, 2.0]);
                assert_eq!(counts, &vec![1.0, 3.0]);
            }
            k => panic!("{k:?}"),
        }
        // The first cycle colour went to the histogram: the line had its own.
        assert_eq!(f.series[1].color, CYCLE[0]);
        assert!(f.hist(vec![1.0], 0, None, None).is_err());
    }
}
