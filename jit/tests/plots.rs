//! Figures (SPEC §9): the PNGs a cell shows, decoded and looked at — their size, that the
//! axes hold a drawing, that other data draw another picture, one figure per cell unless
//! `figure()` or `show()` says otherwise, NaN and inf skipped, and matplotlib's errors.

use kiln_jit::{ExecResult, Output, Session};

/// A decoded PNG: width, height, RGB bytes.
struct Picture {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Picture {
    fn decode(png_bytes: &[u8]) -> Picture {
        let dec = png::Decoder::new(png_bytes);
        let mut r = dec.read_info().expect("a PNG");
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).expect("one frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        Picture {
            w: info.width as usize,
            h: info.height as usize,
            rgb: buf,
        }
    }

    fn px(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let k = 3 * (y * self.w + x);
        (self.rgb[k], self.rgb[k + 1], self.rgb[k + 2])
    }

    /// Pixels that are not white strictly inside the default axes (12.5–90 % of the width,
    /// 12–89 % of the height), a few pixels in from the frame.
    fn inked_in_axes(&self) -> usize {
        let (x0, x1) = (self.w / 8 + 4, self.w * 9 / 10 - 4);
        let (y0, y1) = (self.h * 12 / 100 + 4, self.h * 89 / 100 - 4);
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| self.px(x, y) != (255, 255, 255))
            .count()
    }

    /// Pixels of exactly this colour anywhere.
    fn count(&self, c: (u8, u8, u8)) -> usize {
        self.rgb
            .chunks(3)
            .filter(|p| (p[0], p[1], p[2]) == c)
            .count()
    }
}

/// Run a cell; its result and every output, pictures decoded.
fn run(s: &mut Session, code: &str) -> (ExecResult, Vec<Picture>, Vec<String>) {
    let mut pics = Vec::new();
    let mut order = Vec::new();
    let r = s.execute(code, &mut |o| match o {
        Output::Image { png, .. } => {
            pics.push(Picture::decode(&png));
            order.push("image".to_string());
        }
        Output::Stdout(t) => order.push(t),
        _ => {}
    });
    (r, pics, order)
}

fn pictures(code: &str) -> Vec<Picture> {
    let mut s = Session::new();
    let (r, pics, _) = run(&mut s, code);
    if let ExecResult::Err(e) = r {
        panic!("cell should run:\n{code}\n{}: {}", e.ename, e.evalue);
    }
    pics
}

fn error(code: &str) -> (String, String, usize) {
    let mut s = Session::new();
    match run(&mut s, code) {
        (ExecResult::Err(e), pics, _) => (e.ename, e.evalue, pics.len()),
        (ExecResult::Ok(_), ..) => panic!("cell should fail:\n{code}"),
    }
}

const TAB_BLUE: (u8, u8, u8) = (0x1f, 0x77, 0xb4);
const TAB_ORANGE: (u8, u8, u8) = (0xff, 0x7f, 0x0e);

#[test]
fn calls_in_one_cell_draw_one_figure() {
    let pics = pictures(
        "x = linspace(0.0, 6.0, 100)\n\
         plot(x, sin(x), label='sin')\n\
         scatter(x[::10], cos(x[::10]), label='cos')\n\
         title('two')\nxlabel('x')\nylabel('y')\nlegend()\n",
    );
    assert_eq!(pics.len(), 1);
    let p = &pics[0];
    assert_eq!((p.w, p.h), (640, 480));
    assert!(p.inked_in_axes() > 500, "{}", p.inked_in_axes());
    // The colour cycle: the line is tab:blue, the scatter tab:orange.
    assert!(p.count(TAB_BLUE) > 100);
    assert!(p.count(TAB_ORANGE) > 50);
}

#[test]
fn different_data_give_different_pictures() {
    let a = pictures("x = linspace(0.0, 6.0, 100)\nplot(x, sin(x))\n");
    let b = pictures("x = linspace(0.0, 6.0, 100)\nplot(x, cos(x))\n");
    let c = pictures("x = linspace(0.0, 6.0, 100)\nplot(x, sin(x))\n");
    assert_ne!(a[0].rgb, b[0].rgb);
    assert_eq!(a[0].rgb, c[0].rgb, "the same data draw the same picture");
    let blank = pictures("title('nothing')\n");
    assert_eq!(blank[0].inked_in_axes(), 0, "empty axes are white inside");
    assert!(a[0].inked_in_axes() > 300);
}

#[test]
fn nan_and_inf_are_skipped() {
    let pics = pictures(
        "y = linspace(0.0, 1.0, 50)\ny[10] = nan\ny[20] = inf\ny[30] = -inf\n\
         plot(y)\nscatter(y, y)\nhist(y, bins=5)\n",
    );
    assert_eq!(pics.len(), 1);
    assert!(pics[0].inked_in_axes() > 300);
    // A line of NaNs only draws nothing, and fails nothing.
    let empty = pictures("plot(full(5, nan))\n");
    assert_eq!(empty[0].inked_in_axes(), 0);
}

#[test]
fn mismatched_lengths_are_matplotlibs_value_error() {
    let (name, msg, pics) = error("plot(zeros(3), zeros(4))\n");
    assert_eq!(name, "ValueError");
    assert_eq!(
        msg,
        "x and y must have same first dimension, but have shapes (3,) and (4,)"
    );
    assert_eq!(pics, 0, "nothing was drawn");
    let (name, msg, _) = error("scatter(zeros(3), zeros(2))\n");
    assert_eq!(
        (name.as_str(), msg.as_str()),
        ("ValueError", "x and y must be the same size")
    );
}

#[test]
fn argument_errors() {
    let (name, msg, _) = error("plot(zeros(3), 'q')\n");
    assert_eq!(name, "ValueError");
    assert_eq!(
        msg,
        "'q' is not a valid format string (unrecognized character 'q')"
    );
    let (_, msg, _) = error("hist(zeros(3), bins=0)\n");
    assert_eq!(msg, "`bins` must be positive, when an integer");
    let (name, msg, _) = error("plot(3)\n");
    assert_eq!(name, "TypeError");
    assert_eq!(msg, "plot() takes arrays of numbers, not a i64");
    let (_, msg, _) = error("imshow(zeros((2, 2)), cmap='nope')\n");
    assert!(
        msg.starts_with("'nope' is not a valid value for cmap"),
        "{msg}"
    );
    let (_, msg, _) = error("plot(zeros(2), color='nope')\n");
    assert_eq!(msg, "'nope' is not a valid color value");
}

#[test]
fn figure_starts_a_new_one_and_show_flushes() {
    let pics = pictures("plot(zeros(3))\nfigure()\nplot(ones(3))\n");
    assert_eq!(pics.len(), 2);
    // An empty figure is not shown.
    assert_eq!(pictures("figure()\n").len(), 0);
    assert_eq!(pictures("plot(zeros(3))\nfigure()\n").len(), 1);
    let mut s = Session::new();
    let (r, pics, order) = run(&mut s, "plot(zeros(3))\nshow()\nprint('after')\n");
    assert!(matches!(r, ExecResult::Ok(_)));
    assert_eq!(pics.len(), 1);
    assert_eq!(order, vec!["image".to_string(), "after\n".to_string()]);
    // A figure does not outlive its cell.
    let (_, pics, _) = run(&mut s, "print(1)\n");
    assert_eq!(pics.len(), 0);
}

#[test]
fn a_failing_cell_still_shows_what_it_drew() {
    let (name, _, pics) = error("plot(zeros(3))\nk = 0\nprint(1 // k)\n");
    assert_eq!(name, "ZeroDivisionError");
    assert_eq!(pics, 1);
}

#[test]
fn histogram_bars_stand_on_the_axis() {
    let pics = pictures("seed(1)\nhist(randn(1000), bins=50)\n");
    let p = &pics[0];
    // The bottom edge of the axes (y = 0): bars of tab:blue just above it, near the middle.
    let y = p.h * 89 / 100 - 3;
    assert_eq!(p.px(p.w / 2, y), TAB_BLUE);
    let few = pictures("seed(1)\nhist(randn(1000), bins=3)\n");
    assert_ne!(p.rgb, few[0].rgb);
}

#[test]
fn imshow_has_a_colorbar() {
    let pics = pictures(
        "a = zeros((50, 50))\nfor i, j in ndrange(50, 50):\n    a[i, j] = i + j\n\
         imshow(a, cmap='gray', title='ramp')\n",
    );
    assert_eq!(pics.len(), 1);
    let p = &pics[0];
    // Grey levels from black to white: the image and the bar.
    let greys = p
        .rgb
        .chunks(3)
        .filter(|c| c[0] == c[1] && c[1] == c[2] && c[0] > 20 && c[0] < 235)
        .count();
    assert!(greys > 10_000, "{greys}");
    // Right of the image (square, centred in the axes' left 80 %), the colorbar's column
    // runs from light at the top to dark at the bottom (its black frame left out).
    let column: Vec<(usize, u8)> = (0..p.h)
        .filter_map(|y| {
            let x = (p.w as f64 * (0.125 + 0.775 * 0.85)) as usize + 3;
            let c = p.px(x, y);
            (c.0 == c.1 && c.1 == c.2 && c.0 != 255 && c.0 != 0).then_some((y, c.0))
        })
        .collect();
    assert!(column.len() > 100, "{}", column.len());
    assert!(column.first().unwrap().1 > column.last().unwrap().1);
}

#[test]
fn pyplot_spellings() {
    let pics = pictures(
        "import numpy as np\nimport matplotlib.pyplot as plt\n\
         x = np.linspace(0, 1, 20)\n\
         plt.figure(figsize=(8, 3))\n\
         plt.plot(x, x * x, 'r--', label='square')\n\
         plt.plot(x, x, 'k.', label='line')\n\
         plt.title('pyplot')\nplt.xlabel('x')\nplt.ylabel('y')\nplt.legend()\nplt.show()\n",
    );
    assert_eq!(pics.len(), 1);
    assert_eq!((pics[0].w, pics[0].h), (800, 300));
    assert!(pics[0].count((255, 0, 0)) > 50, "the 'r' of 'r--'");
    let pics = pictures("from matplotlib import pyplot as plt\nplt.hist(ones(3))\n");
    assert_eq!(pics.len(), 1);
}

#[test]
fn legend_draws_the_labels() {
    let code = "x = linspace(0.0, 1.0, 10)\nplot(x, x, label='a line')\n";
    let without = pictures(code);
    let with = pictures(&format!("{code}legend()\n"));
    assert_ne!(without[0].rgb, with[0].rgb);
    // Without labels a legend has nothing to show.
    let bare = pictures("plot(zeros(3))\n");
    let bare_legend = pictures("plot(zeros(3))\nlegend()\n");
    assert_eq!(bare[0].rgb, bare_legend[0].rgb);
}

#[test]
fn savefig_writes_the_figure_and_keeps_it() {
    let dir = std::env::temp_dir().join(format!("kiln-savefig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wave.png");
    let code = format!(
        "x = linspace(0.0, 6.0, 100)\nplot(x, sin(x))\nplt.savefig('{}')\n",
        path.display()
    );
    let pics = pictures(&code);
    let saved = Picture::decode(&std::fs::read(&path).expect("savefig wrote the file"));
    assert_eq!(
        pics.len(),
        1,
        "the figure is still shown when the cell ends"
    );
    assert_eq!(saved.rgb, pics[0].rgb, "the file holds the figure shown");
    let missing = dir.join("no/such/dir/a.png");
    let (ename, evalue, _) = error(&format!("plot([1, 2])\nsavefig('{}')\n", missing.display()));
    assert_eq!(ename, "OSError");
    assert_eq!(
        evalue,
        format!(
            "[Errno 2] No such file or directory: '{}'",
            missing.display()
        )
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_parallel_body_cannot_draw() {
    for code in [
        "x = zeros(10)\n@par\nfor i in range(4):\n    plot(x)\n",
        // Through a function: the check is where the drawing happens.
        "def draw(v):\n    scatter(v, v)\n    return 0\nx = zeros(10)\nfor i in prange(4):\n    draw(x)\n",
    ] {
        let (ename, evalue, _) = error(code);
        assert_eq!(ename, "ValueError", "{code}");
        assert!(evalue.contains("parallel loop's body cannot draw"), "{evalue}");
    }
}

#[test]
fn what_kiln_does_not_draw_says_what_it_does() {
    let mut s = Session::new();
    for (code, hint) in [
        ("fig, ax = plt.subplots()\n", "figure()"),
        ("plt.xlim(0, 1)\n", "plot only the range"),
        ("bar([1, 2], [3, 4])\n", "plot, scatter, hist and imshow"),
    ] {
        let (r, _, _) = run(&mut s, code);
        let ExecResult::Err(e) = r else {
            panic!("{code} should fail")
        };
        assert_eq!(e.ename, "NameError", "{code}");
        assert!(
            e.traceback.join("\n").contains(hint),
            "{code}: {:?}",
            e.traceback
        );
    }
}
