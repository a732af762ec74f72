//! The output folder through the real binary: runs that overlap, are killed or fail never
//! leave `OUT` a mix of two runs; arguments out of bounds and argument errors exit 1.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::run_with;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aliaudit"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(args: &[&str]) -> common::Output {
    run_with(args, |_| {})
}

/// Every file below `dir` with its bytes, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walk(dir) {
        files.insert(
            entry.strip_prefix(dir).unwrap().to_path_buf(),
            std::fs::read(&entry).unwrap(),
        );
    }
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The names beside `out` in its parent folder, other than `out` itself.
fn beside(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| *n != out.file_name().unwrap().to_string_lossy())
        .collect()
}

/// A synthetic tree big enough that a report with PDFs takes a few seconds.
fn big_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    let r = run(&[
        "sample",
        "-o",
        tree.to_str().unwrap(),
        "--accounts",
        "40",
        "--users",
        "60",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    tree
}

/// `report TREE --as-of AS_OF -o OUT` with `extra` flags.
fn report_args<'a>(
    tree: &'a Path,
    out: &'a Path,
    as_of: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "report",
        tree.to_str().unwrap(),
        "--as-of",
        as_of,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    args
}

fn start_report(tree: &Path, out: &Path, as_of: &str) -> Child {
    bin()
        .args(report_args(tree, out, as_of, &["--quiet"]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `ready` holds, or fails after a minute.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn as_of_in(out: &Path, file: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(file)).unwrap()).unwrap();
    v["as_of"].as_str().unwrap_or_default().to_string()
}

/// The staging folder of a run into `out`, once it holds account pages.
fn staging_with_pages(out: &Path) -> Option<PathBuf> {
    let prefix = format!(".{}.aliaudit-staging-", out.file_name()?.to_string_lossy());
    std::fs::read_dir(out.parent()?)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read_dir(p.join("accounts"))
                .map(|d| d.count() > 2)
                .unwrap_or(false)
        })
}

#[test]
fn a_second_run_into_the_same_folder_stops_at_once_naming_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = big_tree(tmp.path());
    let out = tmp.path().join("reports/out");
    let mut first = start_report(&tree, &out, "2026-09-30");
    let lock = tmp.path().join("reports/.out.aliaudit-lock");
    let pid = first.id().to_string();
    wait_for("the first run's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid))
    });
    let started = Instant::now();
    let second = run(&report_args(&tree, &out, "2026-12-31", &[]));
    let refused_in = started.elapsed();
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the second was tried; make the tree bigger"
    );
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("another aliaudit run (process {pid}, started 20")),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("aliaudit report"),
        "{}",
        second.stderr
    );
    // Refused before any evidence was read, well before the first run could end.
    assert!(refused_in < Duration::from_secs(5), "{refused_in:?}");
    // A merge into the folder is refused the same way.
    let merge = run(&[
        "merge",
        tmp.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(merge.code, 1, "{}", merge.stderr);
    assert!(
        merge.stderr.contains(&format!("process {pid}")),
        "{}",
        merge.stderr
    );
    let status = first.wait().unwrap();
    assert!(status.success());
    // The folder is the first run's, whole: every data file has its as-of.
    assert_eq!(as_of_in(&out, "summary.json"), "2026-09-30T23:59:59Z");
    assert_eq!(as_of_in(&out, "manifest.json"), "2026-09-30T23:59:59Z");
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
}

#[test]
fn a_run_killed_mid_way_leaves_the_previous_set_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = big_tree(tmp.path());
    let out = tmp.path().join("reports/out");
    let r = run(&report_args(&tree, &out, "2026-09-30", &["--quiet"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = snapshot(&out);
    let mut second = start_report(&tree, &out, "2026-12-31");
    wait_for("the second run's pages", || {
        staging_with_pages(&out).is_some()
    });
    second.kill().unwrap();
    second.wait().unwrap();
    // Killed while writing pages: OUT is the first run's set, byte for byte.
    assert!(snapshot(&out) == before, "OUT changed under a killed run");
    assert!(
        beside(&out)
            .iter()
            .any(|n| n.starts_with(".out.aliaudit-staging-")),
        "{:?}",
        beside(&out)
    );
    // The next run takes the dead run's lock, removes its staging folder and says so.
    let r = run(&report_args(&tree, &out, "2026-12-31", &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("removed what an interrupted run left beside"),
        "{}",
        r.stderr
    );
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
    assert_eq!(as_of_in(&out, "summary.json"), "2026-12-31T23:59:59Z");
    assert_eq!(as_of_in(&out, "manifest.json"), "2026-12-31T23:59:59Z");
    // Every file in OUT is the new run's: the manifest lists the pages there are.
    let pages = std::fs::read_dir(out.join("accounts")).unwrap().count();
    assert_eq!(pages, 2 * 40);
}

/// A tmpfs of `size` mounted at `dir` (needs root and a kernel that lets us), unmounted when
/// dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_run_that_fails_writing_leaves_the_previous_set() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    let Some(_fs) = Tmpfs::mount(&disk, "1000k") else {
        // Not root (or no mount rights): a folder we may not write into fails the same way.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and can mount a tmpfs"
        );
        eprintln!("SKIPPED: cannot mount a tmpfs here");
        return;
    };
    let out = disk.join("out");
    let first = run(&[
        "report",
        "samples",
        "--quiet",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = snapshot(&out);
    // Every format needs far more than the 700 KiB the disk has left (about 1.7 MiB).
    let second = run(&["report", "samples", "-o", out.to_str().unwrap()]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("No space left on device"),
        "{}",
        second.stderr
    );
    assert!(snapshot(&out) == before, "OUT changed under a failed run");
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let lock = tmp.path().join(".out.aliaudit-lock");
    std::fs::write(
        &lock,
        "process 999999, started 2026-01-01T00:00:00Z, aliaudit report",
    )
    .unwrap();
    let r = run(&[
        "report",
        "samples",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.join("summary.json").exists());
}

#[test]
fn a_held_lock_stops_report_merge_shard_and_deliver() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let lock_path = tmp.path().join(".out.aliaudit-lock");
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();
    std::fs::write(
        &lock_path,
        "process 4242, started 2026-12-01T08:00:00Z, aliaudit report",
    )
    .unwrap();
    let o = out.to_str().unwrap();
    for args in [
        vec!["report", "samples", "-o", o],
        vec![
            "report",
            "samples",
            "-o",
            o,
            "--shard",
            "1/2",
            "--as-of",
            "2026-09-30",
        ],
        vec!["merge", "samples", "-o", o],
        vec!["deliver", o, "--config", "Cargo.toml"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("process 4242, started 2026-12-01T08:00:00Z"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(!out.exists());
}

#[test]
fn numeric_flags_out_of_bounds_exit_1_with_the_range() {
    for (args, range) in [
        (vec!["validate", "samples", "--jobs", "20000"], "1..=1024"),
        (vec!["validate", "samples", "--jobs", "0"], "1..=1024"),
        (
            vec![
                "validate",
                "samples",
                "--max-file-mb",
                "18446744073709551615",
            ],
            "1..=4096",
        ),
        (
            vec!["validate", "samples", "--max-file-mb", "0"],
            "1..=4096",
        ),
        (
            vec!["merge", "samples", "-o", "x", "--jobs", "5000"],
            "1..=1024",
        ),
        (vec!["sample", "-o", "x", "--accounts", "0"], "1..=1000000"),
        (
            vec![
                "collect",
                "--accounts",
                "a.toml",
                "-o",
                "x",
                "--jobs",
                "500",
            ],
            "1..=64",
        ),
        (
            vec!["collect", "--accounts", "a.toml", "-o", "x", "--rate", "0"],
            "more than 0, at most 1000",
        ),
        (
            vec![
                "collect",
                "--accounts",
                "a.toml",
                "-o",
                "x",
                "--timeout",
                "0",
            ],
            "1..=3600",
        ),
        (
            vec![
                "collect",
                "--accounts",
                "a.toml",
                "-o",
                "x",
                "--retries",
                "1000",
            ],
            "0..=20",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(range), "{args:?}: {}", r.stderr);
    }
    // The largest allowed file limit reads the files as usual (no wrap-around to "empty").
    let r = run(&["validate", "samples", "--max-file-mb", "4096"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn argument_errors_exit_1_and_help_exits_0() {
    for args in [
        vec!["report", "samples", "-o", "x", "--fromat", "json"],
        vec!["report", "samples", "-o", "x", "--format", "docx"],
        vec!["reprot", "samples"],
        vec!["report"],
        vec![],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("error:") || r.stderr.contains("Usage"),
            "{args:?}: {}",
            r.stderr
        );
    }
    for args in [vec!["--help"], vec!["report", "--help"], vec!["--version"]] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty());
    }
}

/// A second run over fewer accounts leaves only its own files: no page of an account the
/// first run had, and every account page there is one the new summary names.
#[test]
fn pages_of_accounts_an_earlier_run_had_are_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let report = |input: &str| {
        let r = run(&[
            "report",
            "--as-of",
            "2026-09-30",
            "--format",
            "json,html",
            "-o",
            out.to_str().unwrap(),
            input,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    report("samples");
    let before = std::fs::read_dir(out.join("accounts")).unwrap().count();
    report("samples/chens-foods");
    let pages: Vec<String> = std::fs::read_dir(out.join("accounts"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(before > pages.len(), "{before} pages, then {pages:?}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let accounts = summary["accounts"].as_array().unwrap();
    assert_eq!(pages.len(), accounts.len(), "{pages:?}");
    // Nothing of the first run is left anywhere in OUT: no customer page of a customer the
    // second run does not have.
    let customers = walk(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/customers/"))
        .count();
    assert!(customers <= 1, "{:?}", walk(&out));
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
}
