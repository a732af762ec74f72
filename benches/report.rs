//! Benchmark of `report` with and without HTML (run with `cargo bench --bench report`).
//!
//! Generates (once, under `target/`) ALIAUDIT_BENCH_ACCOUNTS accounts (default 1,000) x
//! ALIAUDIT_BENCH_USERS users (default 100), then times the real binary, best of three:
//! `report --format json,csv` and `report --format json,csv,html`; the difference is what the
//! HTML pages cost.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let accounts: usize = std::env::var("ALIAUDIT_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let users: usize = std::env::var("ALIAUDIT_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let root = target.join(format!("bench-tree-{accounts}x{users}"));
    if !root.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(&root);
        aliaudit::sample::write_tree(
            &root,
            &aliaudit::sample::SampleOptions {
                accounts,
                users,
                seed: 42,
            },
        )
        .unwrap();
        std::fs::write(root.join(".complete"), b"").unwrap();
    }
    let out = target.join("bench-report-out");
    let run = |formats: &str| -> (f64, u64) {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let _ = std::fs::remove_dir_all(&out);
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
                .args(["report", "--quiet", "--format", formats, "-o"])
                .arg(&out)
                .arg(&root)
                .status()
                .unwrap();
            assert!(status.success(), "report failed");
            best = best.min(start.elapsed().as_secs_f64());
        }
        let bytes = walkdir::WalkDir::new(&out)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html")
            })
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum();
        (best, bytes)
    };
    let (without, _) = run("json,csv");
    let (with, html_bytes) = run("json,csv,html");
    println!();
    println!(
        "tree: {accounts} accounts x ~{users} users; {} cores; best of 3",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<28} {:>10} {:>12}",
        "report --format", "seconds", "accounts/s"
    );
    println!(
        "{:<28} {without:>10.3} {:>12.0}",
        "json,csv",
        accounts as f64 / without
    );
    println!(
        "{:<28} {with:>10.3} {:>12.0}",
        "json,csv,html",
        accounts as f64 / with
    );
    println!(
        "HTML adds {:.3} s for {} pages ({:.1} MiB of HTML)",
        with - without,
        accounts + 1,
        html_bytes as f64 / 1048576.0
    );
    let _ = std::fs::remove_dir_all(&out);
}
