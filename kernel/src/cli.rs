//! `kiln run` and `kiln repl`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The file to run.
    pub file: PathBuf,
    /// Print a compiler stage instead of running.
    #[arg(long, value_parser = ["ir", "clif", "asm", "tokens", "ast"])]
    pub emit: Option<String>,
    /// Print per-cell phase timings to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Run each cell this many times (compiled once); for benchmarks.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
}

pub fn run(args: RunArgs) -> ExitCode {
    let _ = args;
    ExitCode::SUCCESS
}

pub fn repl() -> ExitCode {
    ExitCode::SUCCESS
}
