//! The `aliaudit` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    aliaudit::cli::run(aliaudit::cli::Cli::parse())
}
