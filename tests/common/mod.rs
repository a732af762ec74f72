//! Helpers shared by the end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// The binary under test: this build's, or the one `ALIAUDIT_BIN` names (the byte compare of
/// two builds runs the same tests over each; see ARCHITECTURE.md, "Proving a refactor").
pub fn binary() -> std::path::PathBuf {
    std::env::var_os("ALIAUDIT_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_aliaudit").into())
}

/// Where the `keep_outputs_for_comparing_builds` runs copy what they wrote
/// (`ALIAUDIT_COMPARE_OUT`), if anywhere.
pub fn compare_out() -> Option<std::path::PathBuf> {
    std::env::var_os("ALIAUDIT_COMPARE_OUT").map(std::path::PathBuf::from)
}

/// Copies `from` (a file or a folder) to `to`, for the byte compare.
pub fn keep(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .args(["-r", from.to_str().unwrap(), to.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success(), "cannot copy {}", from.display());
}

/// Runs the real binary from the repository root: (exit code, stderr).
pub fn aliaudit(args: &[&str]) -> (i32, String) {
    let out = Command::new(binary())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Text of a PDF (`pdftotext -layout`, with `extra` options), or `None` without poppler
/// outside CI.
pub fn pdf_text(path: &Path, extra: &[&str]) -> Option<String> {
    match Command::new("pdftotext")
        .arg("-layout")
        .args(extra)
        .arg(path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext failed on {}",
                path.display()
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "CI needs poppler-utils");
            eprintln!("SKIPPED: no poppler (apt-get install poppler-utils)");
            None
        }
    }
}

/// What a run of the binary gave.
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the real binary from the repository root with `args`, after `setup` has adjusted the
/// command (environment variables...).
pub fn run_with(args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    setup(&mut cmd);
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Exit codes of a report that finished: 0, or 2 when some account's evidence was partial.
pub const FINISHED: &[i32] = &[0, 2];

/// Runs `aliaudit report INPUT -o OUT --quiet` with `extra` options from the repository root
/// and asserts that it exited with one of `codes`; what it gave.
pub fn report(input: &str, out: &Path, extra: &[&str], codes: &[i32]) -> Output {
    let mut args = vec!["report", input, "-o", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let o = run_with(&args, |_| {});
    assert!(
        codes.contains(&o.code),
        "report {input} {extra:?}: exit {}, expected one of {codes:?}: {}",
        o.code,
        o.stderr
    );
    o
}
