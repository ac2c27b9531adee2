//! `kiln`: run Kiln files, a REPL, and the Jupyter kernel.

mod cli;
mod install;
mod jupyter;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Kiln: a JIT-compiled array language and its Jupyter kernel"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a .kiln file (cells separated by `# %%` lines) or a .ipynb notebook.
    Run(cli::RunArgs),
    /// An interactive read-eval-print loop.
    Repl,
    /// Run as a Jupyter kernel (started by Jupyter through the kernelspec).
    Kernel {
        /// The connection file Jupyter writes.
        #[arg(long = "connection-file", short = 'f')]
        connection_file: PathBuf,
    },
    /// Install the `kiln` kernelspec so Jupyter can find it.
    Install(install::InstallArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Run(run) => cli::run(run),
        Command::Repl => cli::repl(),
        Command::Kernel { connection_file } => jupyter::kernel_main(&connection_file),
        Command::Install(opts) => install::install(opts),
    }
}
