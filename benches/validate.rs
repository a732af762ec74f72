//! Benchmark of `validate` against a bare-parse baseline (run with `cargo bench --bench validate`).
//!
//! Generates (once, cached under `target/`) a sample tree of ALIAUDIT_BENCH_ACCOUNTS accounts
//! (default 10,000) x ALIAUDIT_BENCH_USERS users (default 50), then runs, each in a fresh child
//! process so that peak memory is measured per mode:
//!   baseline  read every file and parse it into serde_json::Value / CSV records / XML events,
//!             in parallel like the pipeline, and nothing else;
//!   validate  the full pipeline (discover, ingest, model, rules, aggregate), no output;
//!             as-of from the evidence, so every account's model is held until all are read;
//!   validate-as-of  the same with --as-of given, which streams accounts.
//! Prints accounts per second, wall time and peak RSS (VmHWM) for both, and their ratio.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;

// The same allocator as the aliaudit binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn child(mode: &str, root: &Path) {
    let start = Instant::now();
    let accounts = match mode {
        "baseline" => {
            common::baseline(root);
            std::fs::read_dir(root).map(|_| 0).unwrap_or(0)
        }
        _ => {
            // Exactly what `aliaudit validate` runs (no manifest hashes, no per-resource text);
            // `validate-as-of` is `aliaudit validate --as-of 2026-09-30`, which streams.
            let as_of = (mode == "validate-as-of")
                .then(|| aliaudit_core::text::parse_as_of("2026-09-30").unwrap());
            let run = aliaudit_core::pipeline::run(&aliaudit_core::pipeline::RunOptions {
                inputs: vec![root.to_path_buf()],
                as_of,
                limits: aliaudit_core::ingest::Limits {
                    hash: false,
                    ..Default::default()
                },
                keep_resources: false,
                ..Default::default()
            })
            .unwrap();
            run.accounts.len()
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "RESULT {mode} {secs:.3} {} {accounts}",
        common::peak_rss_kb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let (accounts, users) = common::size(10_000, 50);
    let root = common::tree(accounts, users);
    let (files, bytes) = common::tree_stats(&root);
    let exe = std::env::current_exe().unwrap();
    let run = |mode: &str| -> (f64, u64) {
        let out = Command::new(&exe)
            .args(["--child", mode, root.to_str().unwrap()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("RESULT"))
            .unwrap_or_else(|| panic!("{mode} failed: {}", String::from_utf8_lossy(&out.stderr)));
        let parts: Vec<&str> = line.split_whitespace().collect();
        (parts[2].parse().unwrap(), parts[3].parse().unwrap())
    };
    // Warm the page cache so both modes read from memory.
    run("baseline");
    let rounds = 5;
    let mut results = Vec::new();
    for mode in ["baseline", "validate", "validate-as-of"] {
        let mut best = (f64::MAX, 0);
        for _ in 0..rounds {
            let (secs, kb) = run(mode);
            if secs < best.0 {
                best = (secs, kb);
            }
        }
        results.push((mode, best.0, best.1));
    }
    println!();
    println!(
        "tree: {accounts} accounts x ~{users} users, {files} files, {:.1} MiB; {} cores; best of {rounds}",
        bytes as f64 / 1048576.0,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "{:<15} {:>10} {:>14} {:>14}",
        "mode", "seconds", "accounts/s", "peak RSS MiB"
    );
    for (mode, secs, kb) in &results {
        println!(
            "{mode:<15} {secs:>10.3} {:>14.0} {:>14.1}",
            accounts as f64 / secs,
            *kb as f64 / 1024.0
        );
    }
    println!(
        "validate / baseline time: {:.2}x; with --as-of: {:.2}x",
        results[1].1 / results[0].1,
        results[2].1 / results[0].1
    );
}
