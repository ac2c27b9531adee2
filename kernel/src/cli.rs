//! `kiln run` and `kiln repl`: the session API from a terminal.

use kiln_jit::magics::is_complete;
use kiln_jit::session::Stage;
use kiln_jit::syntax::Completeness;
use kiln_jit::{CellError, ExecResult, Output, Session};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The file to run: a .kiln file (cells separated by `# %%` lines) or a .ipynb notebook.
    pub file: PathBuf,
    /// Print a compiler stage of every cell instead of only running it.
    #[arg(long, value_parser = ["ir", "clif", "asm", "opencl", "tokens", "ast"])]
    pub emit: Option<String>,
    /// Print per-cell phase timings to stderr, one JSON line per cell.
    #[arg(long)]
    pub timings: bool,
    /// Run each cell this many times (compiled once); for benchmarks.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Write every figure the cells show into this folder, as figure-001.png, figure-002.png, ...
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// The code cells of a file: `# %%` separates cells in a .kiln file; a notebook's code cells.
pub fn read_cells(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "ipynb") {
        let nb: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a notebook: {e}", path.display()))?;
        let cells = nb["cells"]
            .as_array()
            .ok_or_else(|| format!("{} has no cells", path.display()))?;
        return Ok(cells
            .iter()
            .filter(|c| c["cell_type"] == "code")
            .map(|c| match &c["source"] {
                serde_json::Value::Array(lines) => {
                    lines.iter().filter_map(|l| l.as_str()).collect::<String>()
                }
                serde_json::Value::String(s) => s.clone(),
                _ => String::new(),
            })
            .collect());
    }
    let mut cells = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("# %%") {
            cells.push(String::new());
        } else {
            cells.last_mut().unwrap().push_str(line);
        }
    }
    Ok(cells.into_iter().filter(|c| !c.trim().is_empty()).collect())
}

thread_local! {
    /// The progress bar of the running cell, on a terminal's stderr.
    static BAR: std::cell::RefCell<Option<indicatif::ProgressBar>> =
        const { std::cell::RefCell::new(None) };
}

/// A long cell's progress as a bar on stderr, when stderr is a terminal (never in pipes or
/// files, so redirected output stays what the program printed).
fn show_progress(line: &kiln_jit::ProgressLine) {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return;
    }
    BAR.with_borrow_mut(|bar| {
        if line.finished {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
                eprintln!("{}", line.text());
            }
            return;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} {elapsed} elapsed, ~{eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        match line.loop_done {
            Some((done, total)) => {
                b.set_length(total.max(0) as u64);
                b.set_position(done.max(0) as u64);
            }
            None => b.set_message(line.text()),
        }
    });
}

/// Where `kiln run` puts figures: numbered PNG files in a folder, or nowhere.
#[derive(Default)]
struct Figures {
    dir: Option<PathBuf>,
    count: usize,
}

impl Figures {
    fn output(&mut self, o: Output) {
        let Output::Image { png, title } = o else {
            return print_output(o);
        };
        let name = title.as_deref().unwrap_or("figure");
        let Some(dir) = &self.dir else {
            println!(
                "<Figure: {name}, {} bytes of PNG; `kiln run --plots DIR` writes it to a file>",
                png.len()
            );
            return;
        };
        self.count += 1;
        let path = dir.join(format!("figure-{:03}.png", self.count));
        match std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, &png)) {
            Ok(()) => println!("<Figure: {name}, written to {}>", path.display()),
            Err(e) => eprintln!("kiln: cannot write {}: {e}", path.display()),
        }
    }
}

fn print_output(o: Output) {
    match o {
        Output::Progress(line) => show_progress(&line),
        Output::Stdout(s) => {
            print!("{s}");
            let _ = std::io::stdout().flush();
        }
        Output::Stderr(s) => {
            eprint!("{s}");
        }
        Output::Display(v) => println!("{}", kiln_runtime::repr_value(&v)),
        Output::ClearOutput { .. } => {}
        Output::Html { text, .. } => print!("{text}"),
        Output::Image { png, title } => println!(
            "<Figure: {}, {} bytes of PNG; open it in Jupyter to see it>",
            title.as_deref().unwrap_or("figure"),
            png.len()
        ),
    }
}

fn print_error(e: &CellError) {
    for line in &e.traceback {
        eprintln!("{line}");
    }
}

pub fn run(args: RunArgs) -> ExitCode {
    let cells = match read_cells(&args.file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kiln: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut session = Session::new();
    ctrl_c_interrupts(&session);
    let mut figures = Figures {
        dir: args.plots.clone(),
        count: 0,
    };
    let mut output = |o: Output| figures.output(o);
    for (k, cell) in cells.iter().enumerate() {
        if let Some(stage) = &args.emit {
            let stage = match stage.as_str() {
                "tokens" => Stage::Tokens,
                "ast" => Stage::Ast,
                "ir" => Stage::Ir,
                "clif" => Stage::Clif,
                "opencl" => Stage::OpenCl,
                _ => Stage::Asm,
            };
            if cells.len() > 1 {
                println!("# %% cell {}", k + 1);
            }
            match session.emit(cell, stage) {
                Ok(text) => print!("{text}"),
                Err(e) => {
                    print_error(&e);
                    return ExitCode::FAILURE;
                }
            }
            // Run it quietly so later cells see its functions and globals.
            if let ExecResult::Err(e) = session.execute(cell, &mut |_| {}) {
                print_error(&e);
                return ExitCode::FAILURE;
            }
            continue;
        }
        let result = if args.repeat > 1 {
            session.execute_repeat(cell, args.repeat, &mut output)
        } else {
            session.execute(cell, &mut output)
        };
        if args.timings {
            let t = &session.timings;
            let runs: Vec<String> = t.run_ms.iter().map(|v| format!("{v:.4}")).collect();
            // Per run, what the cell's @gpu loops cost (profiling events).
            let gpu = if t.gpu_runs.is_empty() {
                String::new()
            } else {
                let g: Vec<String> = t
                    .gpu_runs
                    .iter()
                    .map(|g| {
                        format!(
                            "{{\"kernel_ms\":{:.4},\"to_device_ms\":{:.4},\"to_device_bytes\":{},\"from_device_ms\":{:.4},\"from_device_bytes\":{},\"build_ms\":{:.4},\"launches\":{}}}",
                            g.kernel_ms,
                            g.to_device_ms,
                            g.to_device_bytes,
                            g.from_device_ms,
                            g.from_device_bytes,
                            g.build_ms,
                            g.launches
                        )
                    })
                    .collect();
                format!(",\"gpu\":[{}]", g.join(","))
            };
            eprintln!(
                "{{\"cell\":{},\"parse_ms\":{:.4},\"check_ms\":{:.4},\"lower_ms\":{:.4},\"codegen_ms\":{:.4},\"compile_ms\":{:.4},\"run_ms\":[{}]{gpu}}}",
                k + 1,
                t.parse_ms,
                t.check_ms,
                t.lower_ms,
                t.codegen_ms,
                t.compile_ms(),
                runs.join(",")
            );
        }
        match result {
            ExecResult::Ok(Some(v)) => println!("{}", kiln_runtime::repr_value(&v)),
            ExecResult::Ok(None) => {}
            ExecResult::Err(e) => {
                print_error(&e);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Ctrl-C while a cell runs raises KeyboardInterrupt in it (and kills a running `!`
/// command's process group, which the terminal's SIGINT does not reach); a second Ctrl-C
/// before the cell has seen the first ends the process, as the default action would.
fn ctrl_c_interrupts(session: &Session) {
    use signal_hook::{consts::SIGINT, flag};
    let interrupt = session.interrupt_handle();
    let _ = flag::register_conditional_shutdown(SIGINT, 130, interrupt.clone());
    let _ = flag::register(SIGINT, interrupt);
}

pub fn repl() -> ExitCode {
    let mut rl = match rustyline::DefaultEditor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln: cannot start the line editor: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Kiln {} — a JIT-compiled array language. Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut session = Session::new();
    ctrl_c_interrupts(&session);
    let mut n = 1;
    loop {
        let mut cell = String::new();
        let mut prompt = format!("In [{n}]: ");
        loop {
            match rl.readline(&prompt) {
                Ok(line) => {
                    cell.push_str(&line);
                    cell.push('\n');
                }
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    cell.clear();
                    break;
                }
                Err(_) => return ExitCode::SUCCESS,
            }
            match is_complete(&cell) {
                Completeness::Incomplete(indent) => {
                    prompt = format!(
                        "{}: {indent}",
                        " ".repeat(format!("In [{n}]").len() - 3) + "..."
                    )
                }
                _ => break,
            }
        }
        if cell.trim().is_empty() {
            continue;
        }
        let _ = rl.add_history_entry(cell.trim_end());
        match session.execute(&cell, &mut print_output) {
            ExecResult::Ok(Some(v)) => println!("Out[{n}]: {}", kiln_runtime::repr_value(&v)),
            ExecResult::Ok(None) => {}
            ExecResult::Err(e) => print_error(&e),
        }
        n += 1;
    }
}
