//! Shared by the benchmarks: the size of the generated tree and the tree itself.

use std::path::{Path, PathBuf};

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
