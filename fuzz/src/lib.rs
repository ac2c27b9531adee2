//! What the fuzz targets share: the grammar-aware generator of Kiln cells and the input
//! filters.

pub mod program;

pub use program::generate;

/// Brackets nested deeper than this, or prefix operators repeated longer, send the input
/// away: the compiler's own depth limits answer those with SyntaxError and RecursionError
/// and have their own tests, and a fuzzer that finds them again and again finds nothing
/// else.
pub const MAX_NESTING: usize = 64;

/// Whether `src` nests brackets deeper than [`MAX_NESTING`], or has a line with more than
/// four times as many operators (a long `1 + 1 + ...` or `---...1` chain).
pub fn too_deep(src: &str) -> bool {
    let mut depth = 0usize;
    let mut operators = 0usize;
    for c in src.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '\n' => operators = 0,
            '-' | '+' | '~' | '*' | '/' | '%' | '@' | '&' | '|' | '^' | '<' | '>' | '=' => {
                operators += 1
            }
            _ => {}
        }
        if depth > MAX_NESTING || operators > 4 * MAX_NESTING {
            return true;
        }
    }
    src.matches("not ").count() > MAX_NESTING
}

/// A fuzz input as Kiln cells: an input whose first byte is even is source text (the
/// corpus's real cells, and what the fuzzer mutates from them), split into cells at
/// `# %%` lines; any other input drives [`generate`]. `None` for input to skip (not UTF-8,
/// or nested past [`MAX_NESTING`]).
pub fn cells(data: &[u8]) -> Option<Vec<String>> {
    let (&mode, rest) = data.split_first()?;
    let cells = if mode % 2 == 0 {
        let text = std::str::from_utf8(rest).ok()?;
        text.split("\n# %%").map(str::to_string).collect()
    } else {
        generate(&mut arbitrary::Unstructured::new(rest)).ok()?
    };
    if cells.iter().any(|c| too_deep(c)) {
        return None;
    }
    if std::env::var_os("KILN_FUZZ_SHOW").is_some() {
        // Replaying a crash (`KILN_FUZZ_SHOW=1 cargo fuzz run exec artifacts/exec/crash-...`)
        // shows the cells, to turn into a regression test.
        eprintln!("{}", cells.join("# %%\n"));
    }
    Some(cells)
}
