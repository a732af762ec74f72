//! The `aliaudit` binary: parses the command line and hands it to the library.

use clap::Parser;

// Ingest and evaluation make many small allocations across threads; mimalloc handles that
// pattern far better than the system allocator (see the validate benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aliaudit::cli::run(aliaudit::cli::Cli::parse())
}
