//! Shared by the benchmarks: the size of the generated tree, the tree itself, the bare-parse
//! baseline and peak memory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// `ALIAUDIT_BENCH_ACCOUNTS` and `ALIAUDIT_BENCH_USERS`, or the given defaults.
pub fn size(accounts: usize, users: usize) -> (usize, usize) {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        var("ALIAUDIT_BENCH_ACCOUNTS", accounts),
        var("ALIAUDIT_BENCH_USERS", users),
    )
}

/// A sample tree of `accounts` x ~`users` under `target/`, generated once (seed 42) and reused.
pub fn tree(accounts: usize, users: usize) -> PathBuf {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-tree-{accounts}x{users}"));
    if !root.join(".complete").exists() {
        let start = std::time::Instant::now();
        let _ = std::fs::remove_dir_all(&root);
        let options = aliaudit::sample::SampleOptions {
            accounts,
            users,
            seed: 42,
        };
        let n = aliaudit::sample::write_tree(&root, &options).expect("write the bench tree");
        std::fs::write(root.join(".complete"), b"").expect("mark the bench tree");
        eprintln!(
            "generated {n} files in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    root
}

/// Peak resident memory of this process (VmHWM), in KiB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The bare-parse baseline: read every file and parse it into `serde_json::Value`, CSV
/// records (decoding a credential report's Base64 first) or XML events, in parallel like the
/// pipeline, and nothing else.
pub fn baseline(root: &Path) -> usize {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files
        .par_iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            match ext {
                "json" => {
                    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    // A credential report page holds its CSV records Base64-encoded.
                    match v.get("Content").and_then(|c| c.as_str()) {
                        Some(content) => {
                            use base64::Engine;
                            let compact: Vec<u8> = content
                                .bytes()
                                .filter(|b| !b.is_ascii_whitespace())
                                .collect();
                            let csv = base64::engine::general_purpose::STANDARD
                                .decode(&compact)
                                .unwrap();
                            csv::ReaderBuilder::new()
                                .from_reader(&csv[..])
                                .byte_records()
                                .filter(|r| r.is_ok())
                                .count()
                        }
                        None => usize::from(!v.is_null()),
                    }
                }
                "csv" => csv::ReaderBuilder::new()
                    .from_reader(&bytes[..])
                    .byte_records()
                    .filter(|r| r.is_ok())
                    .count(),
                "xml" => {
                    let mut reader = quick_xml::Reader::from_reader(&bytes[..]);
                    let mut buf = Vec::new();
                    let mut n = 0;
                    while !matches!(
                        reader.read_event_into(&mut buf),
                        Ok(quick_xml::events::Event::Eof) | Err(_)
                    ) {
                        n += 1;
                        buf.clear();
                    }
                    n
                }
                _ => bytes.len(),
            }
        })
        .sum()
}

/// Files below `root` and their total size in bytes.
pub fn tree_stats(root: &Path) -> (u64, u64) {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .fold((0u64, 0u64), |(n, b), e| {
            (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
        })
}
