//! The scaling curve (run with `cargo bench --bench scale`): for trees of 100, 1,000 and
//! 10,000 accounts x ~100 users (`ALIAUDIT_BENCH_SIZES`, `ALIAUDIT_BENCH_USERS`), each
//! generated once under `target/` by `aliaudit sample`, it measures in fresh processes:
//!   baseline  read and parse every file, nothing else (the floor for the ingest stage);
//!   validate  `aliaudit validate`;
//!   report    `aliaudit report` with every format (JSON, CSV, HTML, PDF),
//! each with its wall time, accounts per second and peak RSS, and for `report` the CPU
//! seconds of each stage (`ALIAUDIT_TIMINGS`). Prints a Markdown table for the README.
//! Best of `ALIAUDIT_BENCH_ROUNDS` (default 3 below 10,000 accounts, else 1).
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;

// The same allocator as the aliaudit binary, so the baseline's figures compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Measure {
    secs: f64,
    rss_kb: u64,
    timings: Vec<(String, f64)>,
}

/// Runs `aliaudit ARGS` under `/usr/bin/time`: wall seconds, peak RSS, stage timings.
fn timed(args: &[&str]) -> Measure {
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .env("ALIAUDIT_TIMINGS", "1")
        .args(["-f", "RSS %M"])
        .arg(env!("CARGO_BIN_EXE_aliaudit"))
        .args(args)
        .output()
        .expect("/usr/bin/time (Debian package time) runs aliaudit");
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "aliaudit {args:?} failed: {stderr}"
    );
    let rss_kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("RSS "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let timings = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing "))
        .filter_map(|l| {
            let (stage, secs) = l.rsplit_once(' ')?;
            Some((stage.to_string(), secs.parse().ok()?))
        })
        .collect();
    Measure {
        secs,
        rss_kb,
        timings,
    }
}

fn best(rounds: usize, f: impl Fn() -> Measure) -> Measure {
    (0..rounds)
        .map(|_| f())
        .min_by(|a, b| a.secs.total_cmp(&b.secs))
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--baseline") {
        let start = Instant::now();
        common::baseline(Path::new(&args[i + 1]));
        println!(
            "RESULT {:.3} {}",
            start.elapsed().as_secs_f64(),
            common::peak_rss_kb()
        );
        return;
    }
    let sizes: Vec<usize> = std::env::var("ALIAUDIT_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (_, users) = common::size(0, 100);
    let exe = std::env::current_exe().unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-scale-out");
    let mut rows = Vec::new();
    for &accounts in &sizes {
        let root = common::tree(accounts, users);
        let (files, bytes) = common::tree_stats(&root);
        let rounds = std::env::var("ALIAUDIT_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if accounts >= 10_000 { 1 } else { 3 });
        let root_arg = root.to_str().unwrap();
        // Warm the page cache, so every mode reads from memory.
        let _ = Command::new(&exe).args(["--baseline", root_arg]).output();
        let baseline = best(rounds, || {
            let o = Command::new(&exe)
                .args(["--baseline", root_arg])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let line = text.lines().find(|l| l.starts_with("RESULT")).unwrap();
            let parts: Vec<&str> = line.split_whitespace().collect();
            Measure {
                secs: parts[1].parse().unwrap(),
                rss_kb: parts[2].parse().unwrap(),
                timings: Vec::new(),
            }
        });
        let validate = best(rounds, || timed(&["validate", "--quiet", root_arg]));
        let report = best(rounds, || {
            let _ = std::fs::remove_dir_all(&out);
            timed(&["report", "--quiet", "-o", out.to_str().unwrap(), root_arg])
        });
        let _ = std::fs::remove_dir_all(&out);
        eprintln!(
            "{accounts} accounts: baseline {:.3} s, validate {:.3} s, report {:.1} s",
            baseline.secs, validate.secs, report.secs
        );
        rows.push((accounts, files, bytes, baseline, validate, report));
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!();
    println!("{cores} cores; ~{users} users per account; wall time of a fresh process");
    println!();
    println!(
        "| accounts | files (MiB) | bare parse s | validate s | validate acc/s | validate RSS | report s | report acc/s | ms/account | report RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mib = |kb: u64| format!("{:.0} MiB", kb as f64 / 1024.0);
    for (accounts, files, bytes, baseline, validate, report) in &rows {
        let n = *accounts as f64;
        println!(
            "| {accounts} | {files} ({:.0}) | {:.3} | {:.3} | {:.0} | {} | {:.1} | {:.1} | {:.1} | {} |",
            *bytes as f64 / 1048576.0,
            baseline.secs,
            validate.secs,
            n / validate.secs,
            mib(validate.rss_kb),
            report.secs,
            n / report.secs,
            report.secs * 1000.0 / n,
            mib(report.rss_kb),
        );
    }
    println!();
    println!("report, CPU seconds per stage summed over threads (per 1,000 accounts):");
    let stages: Vec<String> = rows
        .last()
        .map(|r| r.5.timings.iter().map(|(s, _)| s.clone()).collect())
        .unwrap_or_default();
    println!("| accounts | {} |", stages.join(" | "));
    println!("|---|{}", "---|".repeat(stages.len()));
    for (accounts, _, _, _, _, report) in &rows {
        let cells: Vec<String> = stages
            .iter()
            .map(|s| {
                let secs = report
                    .timings
                    .iter()
                    .find(|(n, _)| n == s)
                    .map_or(0.0, |t| t.1);
                format!("{secs:.2} ({:.2})", secs * 1000.0 / *accounts as f64)
            })
            .collect();
        println!("| {accounts} | {} |", cells.join(" | "));
    }
    if let [.., (a1, _, _, _, _, r1), (a2, _, _, _, _, r2)] = rows.as_slice() {
        let per1 = r1.secs / *a1 as f64;
        let per2 = r2.secs / *a2 as f64;
        println!();
        println!(
            "per-account report time from {a1} to {a2} accounts: {:+.1}% (near-linear is within 20%)",
            (per2 / per1 - 1.0) * 100.0
        );
    }
}
