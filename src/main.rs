//! The `aliaudit` binary: parses the command line and hands it to the library.

use clap::Parser;

// Ingest and evaluation make many small allocations across threads; mimalloc handles that
// pattern far better than the system allocator (see the validate benchmark). It is built with
// `no_thp`: asked for transparent huge pages, the kernel zeroes 2 MiB for each fresh region a
// document's buffers touch, which was 9% of a PDF's time and 40 MiB of a 1,000-account run's
// peak (ARCHITECTURE.md, "PDF and page throughput").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match aliaudit::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` print and succeed. Every other argument error is fatal
        // (exit 1, as the README's table says): clap's own code, 2, means "reports written,
        // some input rejected" to a scheduler.
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() {
                aliaudit::cli::EXIT_FATAL
            } else {
                aliaudit::cli::EXIT_OK
            });
        }
    };
    // A bug must not look like a partial run (Rust's panic exit code, 101, is none of ours):
    // the panic message has been printed by the hook; say what it means and exit 1.
    match std::panic::catch_unwind(move || aliaudit::cli::run(cli)) {
        Ok(code) => code,
        Err(_) => {
            eprintln!(
                "error: aliaudit stopped on an internal error (a bug: please report it with the message above); the output folder was left as it was"
            );
            std::process::ExitCode::from(aliaudit::cli::EXIT_FATAL)
        }
    }
}
