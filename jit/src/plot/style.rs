//! How series look: matplotlib's colour cycle and colour names, `plot`'s format strings
//! (`'r--'`, `'o'`, `'k.'`), markers, and the colormaps of `imshow`.

pub type Rgb = (u8, u8, u8);

/// matplotlib's default cycle (`tab10`): each new series takes the next.
pub const CYCLE: [Rgb; 10] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x7f, 0x7f, 0x7f),
    (0xbc, 0xbd, 0x22),
    (0x17, 0xbe, 0xcf),
];

/// A line's dash pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStyle {
    Solid,
    Dashed,
    DashDot,
    Dotted,
}

impl LineStyle {
    /// On/off lengths in pixels (matplotlib's patterns at a 1.5 pt line, 100 dpi).
    pub fn pattern(self) -> &'static [f64] {
        match self {
            LineStyle::Solid => &[],
            LineStyle::Dashed => &[7.7, 3.3],
            LineStyle::DashDot => &[13.3, 3.3, 2.2, 3.3],
            LineStyle::Dotted => &[2.2, 3.3],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Point,
    Circle,
    Square,
    Triangle,
    X,
    Plus,
}

impl Marker {
    fn from_char(c: char) -> Option<Marker> {
        Some(match c {
            '.' => Marker::Point,
            'o' => Marker::Circle,
            's' => Marker::Square,
            '^' => Marker::Triangle,
            'x' => Marker::X,
            '+' => Marker::Plus,
            _ => return None,
        })
    }

    /// `scatter(..., marker='s')`.
    pub fn parse(s: &str) -> Result<Marker, String> {
        let mut cs = s.chars();
        match (cs.next().and_then(Marker::from_char), cs.next()) {
            (Some(m), None) => Ok(m),
            _ => Err(format!(
                "Unrecognized marker style '{s}' (Kiln draws '.', 'o', 's', '^', 'x' and '+')"
            )),
        }
    }
}

/// A format string's parts: `plot(x, y, 'r--')`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub color: Option<Rgb>,
    pub dash: Option<LineStyle>,
    pub marker: Option<Marker>,
}

/// matplotlib's single-letter colours.
fn letter(c: char) -> Option<Rgb> {
    Some(match c {
        'b' => (0, 0, 255),
        'g' => (0, 128, 0),
        'r' => (255, 0, 0),
        'c' => (0, 191, 191),
        'm' => (191, 0, 191),
        'y' => (191, 191, 0),
        'k' => (0, 0, 0),
        'w' => (255, 255, 255),
        _ => return None,
    })
}

/// Parse a format string as matplotlib does: at most one colour, one line style and one
/// marker, in any order.
pub fn parse_format(fmt: &str) -> Result<Format, String> {
    let bad =
        |c: char| format!("'{fmt}' is not a valid format string (unrecognized character '{c}')");
    let twice = |what: &str| format!("'{fmt}' is not a valid format string (two {what} symbols)");
    let mut f = Format::default();
    let cs: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let rest: String = cs[i..].iter().collect();
        let dash = [
            ("--", LineStyle::Dashed),
            ("-.", LineStyle::DashDot),
            ("-", LineStyle::Solid),
            (":", LineStyle::Dotted),
        ]
        .into_iter()
        .find(|(p, _)| rest.starts_with(p));
        if let Some((p, d)) = dash {
            if f.dash.is_some() {
                return Err(twice("linestyle"));
            }
            f.dash = Some(d);
            i += p.len();
            continue;
        }
        if let Some(m) = Marker::from_char(c) {
            if f.marker.is_some() {
                return Err(twice("marker"));
            }
            f.marker = Some(m);
        } else if let Some(rgb) = letter(c) {
            if f.color.is_some() {
                return Err(twice("color"));
            }
            f.color = Some(rgb);
        } else if c == 'C' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            if f.color.is_some() {
                return Err(twice("color"));
            }
            f.color = Some(CYCLE[cs[i + 1].to_digit(10).unwrap_or(0) as usize]);
            i += 1;
        } else {
            return Err(bad(c));
        }
        i += 1;
    }
    Ok(f)
}

/// `color='red'`, `'r'`, `'C1'`, `'tab:orange'`, `'#ff8000'`.
pub fn parse_color(s: &str) -> Result<Rgb, String> {
    let bad = || format!("'{s}' is not a valid color value");
    let mut cs = s.chars();
    if let (Some(c), None) = (cs.next(), cs.next()) {
        return letter(c).ok_or_else(bad);
    }
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
            return Ok(((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(bad());
    }
    if let Some(d) = s.strip_prefix('C') {
        if let Ok(k) = d.parse::<usize>() {
            return Ok(CYCLE[k % CYCLE.len()]);
        }
    }
    let name = s.strip_prefix("tab:").unwrap_or(s).to_ascii_lowercase();
    let tab = [
        "blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan",
    ];
    if s.starts_with("tab:") {
        let k = tab
            .iter()
            .position(|t| *t == name || (*t == "gray" && name == "grey"));
        return k.map(|k| CYCLE[k]).ok_or_else(bad);
    }
    Ok(match name.as_str() {
        "blue" => (0, 0, 255),
        "green" => (0, 128, 0),
        "red" => (255, 0, 0),
        "cyan" => (0, 255, 255),
        "magenta" => (255, 0, 255),
        "yellow" => (255, 255, 0),
        "black" => (0, 0, 0),
        "white" => (255, 255, 255),
        "orange" => (255, 165, 0),
        "purple" => (128, 0, 128),
        "brown" => (165, 42, 42),
        "pink" => (255, 192, 203),
        "gray" | "grey" => (128, 128, 128),
        "olive" => (128, 128, 0),
        "navy" => (0, 0, 128),
        "teal" => (0, 128, 128),
        _ => return Err(bad()),
    })
}

const CMAPS: &str = "'viridis', 'magma', 'inferno', 'plasma', 'cividis', 'turbo', 'gray', 'hot'";

/// A colormap: one of colorous's gradients, or matplotlib's piecewise-linear `hot`.
#[derive(Clone, Copy)]
pub enum Colormap {
    Gradient(colorous::Gradient),
    /// Black, red, yellow, white: red rises over the first 3/8, green over the next 3/8,
    /// blue over the last quarter (matplotlib's `_hot_data`).
    Hot,
}

impl Colormap {
    /// The colour at `t` in [0, 1].
    pub fn eval(&self, t: f64) -> Rgb {
        match self {
            Colormap::Gradient(g) => {
                let c = g.eval_continuous(t);
                (c.r, c.g, c.b)
            }
            Colormap::Hot => {
                let ramp = |lo: f64, hi: f64| {
                    let v = ((t - lo) / (hi - lo)).clamp(0.0, 1.0);
                    (v * 255.0).round() as u8
                };
                (
                    ramp(0.0, 0.365079),
                    ramp(0.365079, 0.746032),
                    ramp(0.746032, 1.0),
                )
            }
        }
    }
}

/// `imshow`'s colormap by name (`_r` reverses it).
pub fn colormap(name: &str) -> Result<(Colormap, bool), String> {
    let (base, reversed) = match name.strip_suffix("_r") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let g = match base {
        "viridis" => colorous::VIRIDIS,
        "magma" => colorous::MAGMA,
        "inferno" => colorous::INFERNO,
        "plasma" => colorous::PLASMA,
        "cividis" => colorous::CIVIDIS,
        "turbo" => colorous::TURBO,
        // matplotlib's `gray` runs black → white; colorous's GREYS white → black.
        "gray" | "grey" => return Ok((Colormap::Gradient(colorous::GREYS), !reversed)),
        "hot" => return Ok((Colormap::Hot, reversed)),
        "Greys" | "greys" => colorous::GREYS,
        _ => {
            return Err(format!(
                "'{name}' is not a valid value for cmap; supported values are {CMAPS}"
            ))
        }
    };
    Ok((Colormap::Gradient(g), reversed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let f = parse_format("r--").unwrap();
        assert_eq!(f.color, Some((255, 0, 0)));
        assert_eq!(f.dash, Some(LineStyle::Dashed));
        assert_eq!(f.marker, None);
        let f = parse_format("o").unwrap();
        assert_eq!((f.dash, f.marker), (None, Some(Marker::Circle)));
        let f = parse_format("k.-").unwrap();
        assert_eq!(f.dash, Some(LineStyle::Solid));
        assert_eq!(f.marker, Some(Marker::Point));
        assert_eq!(parse_format("C1").unwrap().color, Some(CYCLE[1]));
        assert_eq!(
            parse_format("q").unwrap_err(),
            "'q' is not a valid format string (unrecognized character 'q')"
        );
        assert!(parse_format("rg").is_err());
    }

    #[test]
    fn colors() {
        assert_eq!(parse_color("r").unwrap(), (255, 0, 0));
        assert_eq!(parse_color("#ff8000").unwrap(), (255, 128, 0));
        assert_eq!(parse_color("tab:orange").unwrap(), CYCLE[1]);
        assert_eq!(parse_color("C2").unwrap(), CYCLE[2]);
        assert_eq!(
            parse_color("nope").unwrap_err(),
            "'nope' is not a valid color value"
        );
    }
}
