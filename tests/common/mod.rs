//! Helpers shared by the end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// Runs the real binary from the repository root: (exit code, stderr).
pub fn aliaudit(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
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
