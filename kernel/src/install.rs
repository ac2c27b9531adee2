//! `kiln install`: writes the kernelspec.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct InstallArgs {
    #[arg(long)]
    pub user: bool,
    #[arg(long)]
    pub sys_prefix: bool,
    #[arg(long)]
    pub prefix: Option<std::path::PathBuf>,
}

pub fn install(args: InstallArgs) -> ExitCode {
    let _ = args;
    ExitCode::SUCCESS
}
