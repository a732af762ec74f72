//! Sharded runs: `report --shard K/N` on each shard, `merge` of their folders, compared byte
//! for byte with one run over the whole input.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

fn aliaudit_env(args: &[&str], env: &[(&str, &str)]) -> common::Output {
    common::run_with(args, |cmd| {
        cmd.env_remove("JOB_COMPLETION_INDEX");
        for (k, v) in env {
            cmd.env(k, v);
        }
    })
}

fn aliaudit(args: &[&str]) -> common::Output {
    aliaudit_env(args, &[])
}

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn assert_same_tree(single: &Path, merged: &Path) {
    let a = tree(single);
    let b = tree(merged);
    let names_a: Vec<&String> = a.keys().collect();
    let names_b: Vec<&String> = b.keys().collect();
    assert_eq!(names_a, names_b, "different files");
    for (name, bytes) in &a {
        assert!(b[name] == *bytes, "{name} differs");
    }
}

fn shard_runs(inputs: &[&str], opts: &[&str], count: usize, base: &Path) -> Vec<PathBuf> {
    (1..=count)
        .map(|k| {
            let dir = base.join(format!("shard-{k}"));
            let shard = format!("{k}/{count}");
            let mut args = vec!["report"];
            args.extend(inputs);
            args.extend(["-o", dir.to_str().unwrap(), "--shard", &shard, "-q"]);
            args.extend(opts);
            let r = aliaudit(&args);
            assert_eq!(r.code, 0, "shard {shard}: {}", r.stderr);
            dir
        })
        .collect()
}

fn merge(shards: &[PathBuf], out: &Path) -> common::Output {
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["-o".into(), out.display().to_string(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    aliaudit(&args)
}

#[test]
fn four_shards_and_a_merge_write_what_one_run_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let q = "tests/fixtures/quarters";
    let q2 = base.join("q2");
    let r = aliaudit(&[
        "report",
        &format!("{q}/2026-q2"),
        "-o",
        q2.to_str().unwrap(),
        "--as-of",
        "2026-06-30",
        "--format",
        "json",
        "-q",
    ]);
    assert_ne!(r.code, 1, "{}", r.stderr);
    // Two roots (one full of broken files), a baseline, accepted risks, branding, Chinese:
    // everything the roll-ups carry.
    let inputs = [
        format!("{q}/2026-q3"),
        "tests/fixtures/malformed".to_string(),
    ];
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let exceptions = format!("{q}/exceptions.toml");
    let opts = [
        "--as-of",
        "2026-09-30",
        "--baseline",
        q2.to_str().unwrap(),
        "--exceptions",
        &exceptions,
        "--branding",
        "tests/fixtures/branding/branding.toml",
        "--lang",
        "zh",
    ];
    let single = base.join("single");
    let mut args = vec!["report"];
    args.extend(&inputs);
    args.extend(["-o", single.to_str().unwrap(), "-q"]);
    args.extend(opts);
    let one = aliaudit(&args);
    assert_eq!(one.code, 2, "{}", one.stderr);
    let shards = shard_runs(&inputs, &opts, 4, base);
    // Each account is in exactly one shard.
    let mut ids = Vec::new();
    for s in &shards {
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.join("shard.json")).unwrap()).unwrap();
        for a in summary["accounts"].as_array().unwrap() {
            ids.push(a["info"]["id"].as_str().unwrap().to_string());
        }
        assert!(!s.join("summary.json").exists() && !s.join("index.html").exists());
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "an account in two shards");
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    // The merge's exit code is the run's (rejected input here).
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert_same_tree(&single, &merged);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["accounts"].as_array().unwrap().len(), total);
}

#[test]
fn empty_shards_merge_too() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let opts = ["--as-of", "2026-09-30", "--format", "json,csv,html"];
    let single = base.join("single");
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        single.to_str().unwrap(),
        "-q",
        "--as-of",
        "2026-09-30",
        "--format",
        "json,csv,html",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Ten shards for six accounts: some have none.
    let shards = shard_runs(&["samples"], &opts, 10, base);
    let empty = shards
        .iter()
        .filter(|s| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(s.join("shard.json")).unwrap()).unwrap();
            v["accounts"].as_array().unwrap().is_empty()
        })
        .count();
    assert!(empty >= 4, "{empty} empty shards");
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert_same_tree(&single, &merged);
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let opts = ["--as-of", "2026-09-30", "--format", "json"];
    let shards = shard_runs(&["samples"], &opts, 3, base);
    let out = base.join("out");
    // A shard missing.
    let m = merge(&shards[..2], &out);
    assert_eq!(m.code, 1);
    assert!(m.stderr.contains("shard 3/3 missing"), "{}", m.stderr);
    // The same shard twice.
    let m = merge(
        &[shards[0].clone(), shards[0].clone(), shards[1].clone()],
        &out,
    );
    assert_eq!(m.code, 1);
    assert!(m.stderr.contains("are both shard 1/3"), "{}", m.stderr);
    // A shard of another as-of date.
    let other = base.join("other");
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        other.to_str().unwrap(),
        "--shard",
        "3/3",
        "--as-of",
        "2026-10-31",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(r.code, 0);
    let m = merge(&[shards[0].clone(), shards[1].clone(), other.clone()], &out);
    assert_eq!(m.code, 1);
    assert!(
        m.stderr
            .contains("are shards of different runs: the options"),
        "{}",
        m.stderr
    );
    // A shard of other inputs.
    let r = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q3",
        "-o",
        other.to_str().unwrap(),
        "--shard",
        "3/3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(r.code, 0);
    let m = merge(&[shards[0].clone(), shards[1].clone(), other], &out);
    assert_eq!(m.code, 1);
    assert!(m.stderr.contains("the inputs differ"), "{}", m.stderr);
    // Not a shard at all.
    let m = merge(&[PathBuf::from("samples")], &out);
    assert_eq!(m.code, 1);
    assert!(
        m.stderr.contains("shard.json: cannot read it"),
        "{}",
        m.stderr
    );
    assert!(
        !out.exists(),
        "nothing is written when the shards do not fit"
    );
}

#[test]
fn an_indexed_job_finds_its_shard_and_a_shard_needs_an_as_of_date() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let by_flag = shard_runs(
        &["samples"],
        &["--as-of", "2026-09-30", "--format", "json"],
        2,
        base,
    );
    for (index, flagged) in by_flag.iter().enumerate() {
        let dir = base.join(format!("job-{index}"));
        let r = aliaudit_env(
            &[
                "report",
                "samples",
                "-o",
                dir.to_str().unwrap(),
                "--shard-count",
                "2",
                "--as-of",
                "2026-09-30",
                "--format",
                "json",
                "-q",
            ],
            &[("JOB_COMPLETION_INDEX", &index.to_string())],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            std::fs::read(dir.join("shard.json")).unwrap(),
            std::fs::read(flagged.join("shard.json")).unwrap()
        );
    }
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        base.join("x").to_str().unwrap(),
        "--shard-count",
        "2",
        "--as-of",
        "2026-09-30",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("JOB_COMPLETION_INDEX"), "{}", r.stderr);
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        base.join("y").to_str().unwrap(),
        "--shard",
        "1/2",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--shard needs --as-of"), "{}", r.stderr);
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        base.join("z").to_str().unwrap(),
        "--shard",
        "3/2",
        "--as-of",
        "2026-09-30",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("expected K/N"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn the_kubernetes_manifests_match_the_kubernetes_api() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let out = match std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.31.0"])
        .args(&files)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs kubernetes-validate"
            );
            eprintln!("SKIPPED: no kubernetes-validate (pip install kubernetes-validate)");
            return;
        }
    };
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("passed").count(), 3, "{text}");
}

#[test]
fn merge_refuses_a_file_changed_since_the_shards_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let exceptions = base.join("exceptions.toml");
    std::fs::copy("tests/fixtures/quarters/exceptions.toml", &exceptions).unwrap();
    let opts = [
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--exceptions",
        exceptions.to_str().unwrap(),
    ];
    let shards = shard_runs(&["tests/fixtures/quarters/2026-q3"], &opts, 2, base);
    let text = std::fs::read_to_string(&exceptions).unwrap();
    std::fs::write(&exceptions, text + "\n# edited\n").unwrap();
    let m = merge(&shards, &base.join("out"));
    assert_eq!(m.code, 1);
    assert!(
        m.stderr
            .contains("(--exceptions) changed since the shards ran"),
        "{}",
        m.stderr
    );
}
