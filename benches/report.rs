//! Benchmark of `report` with and without HTML (run with `cargo bench --bench report`).
//!
//! Generates (once, under `target/`) ALIAUDIT_BENCH_ACCOUNTS accounts (default 1,000) x
//! ALIAUDIT_BENCH_USERS users (default 100), then times the real binary, best of three:
//! `report` with one more output format at each step (json; +csv; +html; +pdf), so the
//! differences are the cost of each stage, and the peak RSS of a full run (`/usr/bin/time`)
//! with its CPU seconds per stage and the distribution of its PDF documents' times (median,
//! p95, max: `ALIAUDIT_TIMINGS`), so a regression in one kind of document shows.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;

fn main() {
    let (accounts, users) = common::size(1_000, 100);
    let root = common::tree(accounts, users);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
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
    // Each step adds one output format; the differences are the cost of each stage.
    let steps = ["json", "json,csv", "json,csv,html", "json,csv,html,pdf"];
    let times: Vec<(f64, u64)> = steps.iter().map(|f| run(f)).collect();
    let (_, html_bytes) = times[2];
    println!();
    println!(
        "tree: {accounts} accounts x ~{users} users; {} cores; best of 3",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<28} {:>10} {:>12} {:>12}",
        "report --format", "seconds", "accounts/s", "stage adds"
    );
    let stage = [
        "read + evaluate + summary.json",
        "findings.csv",
        "HTML (views, charts, pages)",
        "PDF (views, charts, layout)",
    ];
    for (i, f) in steps.iter().enumerate() {
        let (secs, _) = times[i];
        let added = if i == 0 { secs } else { secs - times[i - 1].0 };
        println!(
            "{f:<28} {secs:>10.3} {:>12.0} {added:>11.3}s  {}",
            accounts as f64 / secs,
            stage[i]
        );
    }
    println!(
        "HTML adds {:.3} s for {} pages ({:.1} MiB of HTML); PDF adds {:.3} s",
        times[2].0 - times[1].0,
        accounts + 1,
        html_bytes as f64 / 1048576.0,
        times[3].0 - times[2].0
    );
    if let Ok(out) = Command::new("/usr/bin/time")
        .env("ALIAUDIT_TIMINGS", "1")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_aliaudit"))
        .args(["report", "--quiet", "-o"])
        .arg(&out)
        .arg(&root)
        .output()
    {
        let kb: u64 = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        println!(
            "peak RSS of report with every format: {:.0} MiB",
            kb as f64 / 1024.0
        );
        println!("CPU seconds by stage in that run (summed over threads):");
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            if let Some(rest) = line.strip_prefix("timing ") {
                println!("  {rest}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}
