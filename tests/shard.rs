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

/// The Q2 report of the quarters fixture (json only) in `base/q2`: a baseline for Q3 runs.
fn q2_baseline(base: &Path) -> PathBuf {
    let q2 = base.join("q2");
    let r = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q2",
        "-o",
        q2.to_str().unwrap(),
        "--as-of",
        "2026-06-30",
        "--format",
        "json",
        "-q",
    ]);
    assert_ne!(r.code, 1, "{}", r.stderr);
    q2
}

#[test]
fn four_shards_and_a_merge_write_what_one_run_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let q = "tests/fixtures/quarters";
    let q2 = q2_baseline(base);
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
fn a_merge_keeps_the_benchmark_version_the_shards_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let opts = [
        "--as-of",
        "2026-09-30",
        "--format",
        "json,csv",
        "--benchmark",
        "cis-v1",
    ];
    let shards = shard_runs(&["samples"], &opts, 2, base);
    let single = base.join("single");
    let mut args = vec!["report", "samples", "-o", single.to_str().unwrap(), "-q"];
    args.extend(opts);
    assert_ne!(aliaudit(&args).code, 1);
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    assert_ne!(m.code, 1, "{}", m.stderr);
    assert_same_tree(&single, &merged);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["benchmark"]["id"], "cis-v1");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["options"]["benchmark"], "cis-v1");
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
    // Shard 3/3 of `input` (as of `as_of`, with `extra`) in place of the third: the merge
    // refuses it and says `why`.
    let other = base.join("other");
    let refused = |input: &str, as_of: &str, extra: &[&str], why: &str| {
        let mut args = vec![
            "report",
            input,
            "-o",
            other.to_str().unwrap(),
            "--shard",
            "3/3",
            "--as-of",
            as_of,
            "--format",
            "json",
            "-q",
        ];
        args.extend_from_slice(extra);
        let r = aliaudit(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let m = merge(&[shards[0].clone(), shards[1].clone(), other.clone()], &out);
        assert_eq!(m.code, 1);
        assert!(m.stderr.contains(why), "{}", m.stderr);
    };
    // A shard of another as-of date.
    refused(
        "samples",
        "2026-10-31",
        &[],
        "are shards of different runs: the options",
    );
    // A shard that scored the other benchmark version.
    refused(
        "samples",
        "2026-09-30",
        &["--benchmark", "cis-v1"],
        "are shards of different runs: the benchmark versions (cis-v2 and cis-v1) differ",
    );
    // A shard of other inputs.
    refused(
        "tests/fixtures/quarters/2026-q3",
        "2026-09-30",
        &[],
        "the inputs differ",
    );
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

/// A copy of `shard` with `damage` applied to its files, merged with `others`: the merge must
/// exit 1, write nothing and say why; returns its stderr.
fn merge_damaged(
    base: &Path,
    name: &str,
    shard: &Path,
    others: &[PathBuf],
    damage: impl FnOnce(&Path),
) -> String {
    let copy = base.join(name);
    std::fs::create_dir_all(copy.join("accounts")).unwrap();
    for e in walkdir::WalkDir::new(shard).into_iter().map(|e| e.unwrap()) {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(shard).unwrap();
            std::fs::copy(e.path(), copy.join(rel)).unwrap();
        }
    }
    damage(&copy);
    let mut shards = vec![copy];
    shards.extend(others.iter().cloned());
    let out = base.join(format!("{name}-out"));
    let m = merge(&shards, &out);
    assert_eq!(m.code, 1, "{name}: {}", m.stderr);
    assert!(!m.stderr.contains("panicked"), "{name}: {}", m.stderr);
    assert!(!out.exists(), "{name}: the merge wrote {}", out.display());
    m.stderr
}

/// Rewrites `dir/shard.json` through `edit`.
fn edit_summary(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("shard.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// The first account of a shard summary with a fragment: its id and folder.
fn first_account(dir: &Path) -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("shard.json")).unwrap()).unwrap();
    let a = &v["accounts"][0]["info"];
    (
        a["id"].as_str().unwrap().to_string(),
        a["folder"].as_str().unwrap().to_string(),
    )
}

#[test]
fn merge_refuses_damaged_shard_files_before_writing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let opts = ["--as-of", "2026-09-30", "--format", "json,csv,html"];
    let shards = shard_runs(&["samples"], &opts, 2, base);
    // The undamaged pair merges.
    let m = merge(&shards, &base.join("good"));
    assert_eq!(m.code, 0, "{}", m.stderr);
    let (shard, other) = (&shards[0], &shards[1..]);
    let (id, folder) = first_account(shard);
    let fragments_len = std::fs::metadata(shard.join("shard-fragments.dat"))
        .unwrap()
        .len();
    let summary = |name: &str| format!("{}: ", base.join(name).join("shard.json").display());
    let damaged = "the shard folder is damaged: run that shard again";

    // (a) An offset past the end of shard-fragments.dat.
    let at = fragments_len + 1_048_576;
    let err = merge_damaged(base, "past-end", shard, other, |d| {
        edit_summary(d, |v| {
            v["fragments"][&folder] = serde_json::json!([at, 512, 0]);
        })
    });
    let expected = format!(
        "{}account \"{id}\": fragment at {at}+512 lies past the end of shard-fragments.dat ({fragments_len} bytes); {damaged}",
        summary("past-end")
    );
    assert!(err.contains(&expected), "{err}");

    // (b) Absurd offsets and lengths: none of them may be allocated or added unchecked.
    for (n, triple) in [
        [0, u64::MAX, 0],
        [u64::MAX - 1, 10, 10],
        [0, u64::MAX, u64::MAX],
        [1 << 62, 1 << 62, 0],
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("absurd-{n}");
        let err = merge_damaged(base, &name, shard, other, |d| {
            edit_summary(d, |v| v["fragments"][&folder] = serde_json::json!(triple))
        });
        assert!(err.contains(&summary(&name)), "{err}");
        assert!(
            err.contains(&format!("account \"{id}\": fragment at {}+", triple[0])),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "lies past the end of shard-fragments.dat ({fragments_len} bytes); {damaged}"
            )),
            "{err}"
        );
    }

    // (c) A truncated shard-fragments.dat: named as damaged, not as an unwritable output.
    let err = merge_damaged(base, "truncated", shard, other, |d| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("shard-fragments.dat"))
            .unwrap();
        f.set_len(fragments_len / 2).unwrap();
    });
    assert!(err.contains(&summary("truncated")), "{err}");
    assert!(
        err.contains(&format!(
            "lies past the end of shard-fragments.dat ({} bytes); {damaged}",
            fragments_len / 2
        )),
        "{err}"
    );
    assert!(!err.contains("writable"), "{err}");

    // (d) Page names that would leave the output folder or are not plain file stems.
    for (n, bad) in ["../evil", "..", "a/b", "x\u{1b}[2J", "", "UPPER", "-x"]
        .into_iter()
        .enumerate()
    {
        let name = format!("page-name-{n}");
        let err = merge_damaged(base, &name, shard, other, |d| {
            edit_summary(d, |v| v["slugs"][&id] = serde_json::json!(bad))
        });
        let shown = bad.replace('\u{1b}', "\\x1b");
        assert!(
            err.contains(&format!(
                "{}account \"{id}\": page name \"{shown}\" is not a plain page name",
                summary(&name)
            )),
            "{err}"
        );
        assert!(
            !err.contains('\u{1b}'),
            "a control character reached the terminal"
        );
    }
    // (e) An evidence state no report writes: refused as it is read, and shown escaped.
    for (n, bad) in ["present:a.json", "Missing", "", "partly\u{1b}[2J"]
        .into_iter()
        .enumerate()
    {
        let name = format!("evidence-state-{n}");
        let err = merge_damaged(base, &name, shard, other, |d| {
            edit_summary(d, |v| {
                v["accounts"][0]["evidence"]["credential_report"] = serde_json::json!(bad)
            })
        });
        let shown = bad.replace('\u{1b}', "\\\\u{1b}");
        assert!(
            err.contains(&format!(
                "{}not a shard summary of this aliaudit (at accounts[0].evidence.credential_report: invalid value: string \"{shown}\", expected an evidence state: present: <files>, rejected: <files> or missing at line 1 column ",
                summary(&name)
            )),
            "{err}"
        );
        assert!(
            !err.contains('\u{1b}'),
            "a control character reached the terminal"
        );
    }
    let err = merge_damaged(base, "customer-page-name", shard, other, |d| {
        edit_summary(d, |v| {
            let customers = v["customer_slugs"].as_object_mut().unwrap();
            let first = customers.keys().next().unwrap().clone();
            customers[&first] = serde_json::json!("../../index");
        })
    });
    assert!(
        err.contains("page name \"../../index\" is not a plain page name"),
        "{err}"
    );

    // Fragments that overlap, or leave bytes of the file unaccounted for.
    let err = merge_damaged(base, "gap", shard, other, |d| {
        edit_summary(d, |v| {
            let f = &mut v["fragments"][&folder];
            f[0] = serde_json::json!(f[0].as_u64().unwrap() + 1);
        })
    });
    assert!(
        err.contains("leaves a gap after") || err.contains("overlaps"),
        "{err}"
    );
    let err = merge_damaged(base, "trailing", shard, other, |d| {
        let mut bytes = std::fs::read(d.join("shard-fragments.dat")).unwrap();
        bytes.extend_from_slice(b"junk");
        std::fs::write(d.join("shard-fragments.dat"), bytes).unwrap();
    });
    assert!(
        err.contains(&format!(
            "shard-fragments.dat has {} bytes, but its fragments end at {fragments_len}",
            fragments_len + 4
        )),
        "{err}"
    );

    // Counts, indexes and the shard count are checked too.
    let err = merge_damaged(base, "count", shard, other, |d| {
        edit_summary(d, |v| {
            v["accounts"][0]["counts"]["fail"] = serde_json::json!(u64::MAX);
        })
    });
    assert!(
        err.contains(&format!("account \"{id}\": its result counts")),
        "{err}"
    );
    let err = merge_damaged(base, "index", shard, other, |d| {
        edit_summary(d, |v| v["index"] = serde_json::json!(3))
    });
    assert!(
        err.contains("it says it is shard 3/2, which no run has"),
        "{err}"
    );
    // A shard count in the billions, in both summaries alike, and no account in either (so
    // nothing else is wrong with them): the missing shards are listed, not counted to.
    let huge = u64::MAX / 2;
    let hollow = |d: &Path| {
        edit_summary(d, |v| {
            v["spec"]["count"] = serde_json::json!(huge);
            for key in ["accounts", "files", "diagnostics"] {
                v[key] = serde_json::json!([]);
            }
            for key in ["slugs", "fragments"] {
                v[key] = serde_json::json!({});
            }
        });
        std::fs::write(d.join("shard-fragments.dat"), b"").unwrap();
    };
    let second = base.join("huge-count-2");
    std::fs::create_dir_all(&second).unwrap();
    for f in ["shard.json", "shard-fragments.dat"] {
        std::fs::copy(other[0].join(f), second.join(f)).unwrap();
    }
    hollow(&second);
    let started = std::time::Instant::now();
    let err = merge_damaged(base, "huge-count", shard, &[second], hollow);
    assert!(started.elapsed().as_secs() < 30);
    assert!(err.contains(&format!("shard 3/{huge}, 4/{huge}")), "{err}");
    assert!(
        err.contains(&format!("and {} more missing", huge - 12)),
        "{err}"
    );
    // An account in the wrong shard (the other shard's, listed twice).
    let err = merge_damaged(base, "wrong-shard", shard, other, |d| {
        edit_summary(d, |v| {
            let theirs: serde_json::Value =
                serde_json::from_slice(&std::fs::read(other[0].join("shard.json")).unwrap())
                    .unwrap();
            v["accounts"][0]["info"]["id"] = theirs["accounts"][0]["info"]["id"].clone();
        })
    });
    assert!(
        err.contains("belongs to shard 2/2, not to this shard 1/2"),
        "{err}"
    );

    // A shard summary too large to be one is not read into memory.
    let err = merge_damaged(base, "huge-summary", shard, other, |d| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("shard.json"))
            .unwrap();
        f.set_len((1 << 30) + 1).unwrap();
    });
    assert!(
        err.contains(&format!(
            "{}it has 1073741825 bytes, more than a shard summary can have",
            summary("huge-summary")
        )),
        "{err}"
    );
    // Nor is a missing account page found out half-way through writing.
    let err = merge_damaged(base, "missing-page", shard, other, |d| {
        let page = std::fs::read_dir(d.join("accounts"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "html"))
            .unwrap();
        std::fs::remove_file(page).unwrap();
    });
    assert!(
        err.contains("is missing; the shard folder is damaged"),
        "{err}"
    );
}

#[test]
fn merge_refuses_an_accepted_risk_entry_the_exceptions_file_does_not_have() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let exceptions = "tests/fixtures/quarters/exceptions.toml";
    let opts = [
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--exceptions",
        exceptions,
    ];
    let shards = shard_runs(&["tests/fixtures/quarters/2026-q3"], &opts, 2, base);
    // The shard whose accounts matched an entry.
    let holder = shards
        .iter()
        .position(|s| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(s.join("shard.json")).unwrap()).unwrap();
            v["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| !a["exceptions"].as_array().unwrap().is_empty())
        })
        .expect("an accepted risk matched");
    let others: Vec<PathBuf> = shards
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != holder)
        .map(|(_, s)| s.clone())
        .collect();
    let err = merge_damaged(base, "entry", &shards[holder], &others, |d| {
        edit_summary(d, |v| {
            for a in v["accounts"].as_array_mut().unwrap() {
                for hit in a["exceptions"].as_array_mut().unwrap() {
                    hit["entry"] = serde_json::json!(41);
                }
            }
        })
    });
    assert!(
        err.contains(&format!(
            "accepted risk number 42 of {exceptions} matched, but that file has 3 entries"
        )),
        "{err}"
    );
}

#[test]
fn merge_refuses_history_figures_no_report_has() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let q = "tests/fixtures/quarters";
    let q2 = q2_baseline(base);
    let opts = [
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--baseline",
        q2.to_str().unwrap(),
    ];
    let inputs = format!("{q}/2026-q3");
    let shards = shard_runs(&[&inputs], &opts, 2, base);
    let (shard, other) = (&shards[0], &shards[1..]);
    let (id, _) = first_account(shard);
    // Summed into the trend charts: a score of 1e308 or failures of u64::MAX overflowed there.
    // A score is refused as it is read (it is no score), a count when the account is checked.
    for (name, pointer, value, says) in [
        (
            "history-score",
            "/accounts/0/history/0/score",
            serde_json::json!(1e308),
            "at accounts[0].history[0].score: invalid value: floating point `1e+308`, expected a score between 0 and 100".to_string(),
        ),
        (
            "history-fails",
            "/accounts/0/history/0/fails/high",
            serde_json::json!(u64::MAX),
            format!("account \"{id}\": history.fails.high 18446744073709551615 is beyond any count of evidence"),
        ),
    ] {
        let err = merge_damaged(base, name, shard, other, |d| {
            edit_summary(d, |v| *v.pointer_mut(pointer).unwrap() = value.clone())
        });
        assert!(err.contains(&says), "{err}");
    }
}

#[test]
fn framework_results_are_the_same_bytes_across_jobs_and_across_shards_and_a_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let own = base.join("acme.toml");
    std::fs::write(
        &own,
        "id = \"acme\"\nname = \"ACME\"\nname_zh = \"ACME 策略\"\nversion = \"1\"\n\
         judgement = \"Our judgement.\"\njudgement_zh = \"我们的判断。\"\nsources = [\"ACME policy\"]\n\n\
         [[requirement]]\nid = \"AP-1\"\ntitle_en = \"MFA\"\ntitle_zh = \"多因素认证\"\n\
         controls = [\"root.mfa\", \"ram.console_mfa\"]\n",
    )
    .unwrap();
    let opts = [
        "--as-of",
        "2026-09-30",
        "--format",
        "json,csv,html,pdf",
        "--exceptions",
        "tests/fixtures/quarters/exceptions.toml",
        "--framework",
        "mlps2-l3,iso27001-2022,soc2-2017,nist-800-53r5,cis-controls-v8.1,mlps2-l2",
        "--framework-file",
        own.to_str().unwrap(),
    ];
    let input = "tests/fixtures/quarters/2026-q3";
    let single = |name: &str, jobs: &str| {
        let out = base.join(name);
        let mut args = vec![
            "report",
            input,
            "-o",
            out.to_str().unwrap(),
            "-q",
            "--jobs",
            jobs,
        ];
        args.extend(opts);
        let r = aliaudit(&args);
        assert_ne!(r.code, 1, "{}", r.stderr);
        out
    };
    let one = single("jobs-1", "1");
    let four = single("jobs-4", "4");
    assert_same_tree(&one, &four);
    let shards = shard_runs(&[input], &opts, 3, base);
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    assert_ne!(m.code, 1, "{}", m.stderr);
    assert_same_tree(&one, &merged);

    // findings.csv (compared above, and embedded in every PDF) names each row's requirements
    // in the frameworks selected, in that order, the user's file last.
    let csv = std::fs::read_to_string(merged.join("findings.csv")).unwrap();
    assert!(
        csv.split("\r\n")
            .next()
            .unwrap()
            .ends_with(",scored,requirements")
    );
    let mfa = csv
        .split("\r\n")
        .find(|l| l.contains(",root.mfa,"))
        .unwrap();
    assert!(
        mfa.ends_with(
            ",mlps2-l3 8.1.4.1 d); iso27001-2022 A.8.2; iso27001-2022 A.8.5; soc2-2017 CC6.1; \
             nist-800-53r5 IA-2(1); cis-controls-v8.1 6.5; acme AP-1"
        ),
        "{mfa}"
    );

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("summary.json")).unwrap()).unwrap();
    let frameworks = summary["frameworks"].as_array().unwrap();
    let ids: Vec<&str> = frameworks
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "mlps2-l3",
            "iso27001-2022",
            "soc2-2017",
            "nist-800-53r5",
            "cis-controls-v8.1",
            "mlps2-l2",
            "acme"
        ]
    );
    let accounts = summary["accounts"].as_array().unwrap();
    // The portfolio's tallies are the accounts' results counted.
    for (n, f) in frameworks.iter().enumerate() {
        for (i, r) in f["requirements"].as_array().unwrap().iter().enumerate() {
            let mut counted = BTreeMap::new();
            for a in accounts {
                let status = a["frameworks"][n]["requirements"][i]["status"]
                    .as_str()
                    .unwrap()
                    .to_string();
                *counted.entry(status).or_insert(0u64) += 1;
            }
            for (status, count) in counted {
                assert_eq!(
                    r[format!("{status}_accounts")],
                    count,
                    "{} {}",
                    f["id"],
                    r["id"]
                );
            }
        }
        let c = &f["coverage"];
        assert_eq!(
            c["total"],
            f["requirements"].as_array().unwrap().len() * accounts.len()
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["options"]["frameworks"][0], "mlps2-l3");
    // A pair: the file as given (absolute: its name only) and its SHA-256.
    assert_eq!(manifest["options"]["framework_files"][0][0], "acme.toml");
    assert_eq!(
        manifest["options"]["framework_files"][0][1]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // A shard whose requirement results do not fit the frameworks is refused.
    let shard = shards.iter().find(|s| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.join("shard.json")).unwrap()).unwrap();
        !v["accounts"].as_array().unwrap().is_empty()
    });
    let shard = shard.unwrap();
    let (id, _) = first_account(shard);
    let saved = std::fs::read(shard.join("shard.json")).unwrap();
    edit_summary(shard, |v| {
        v["frameworks"][&id][0].as_array_mut().unwrap().pop();
    });
    let m = merge(&shards, &base.join("damaged"));
    assert_eq!(m.code, 1);
    assert!(
        m.stderr
            .contains("framework results do not fit the frameworks selected"),
        "{}",
        m.stderr
    );
    assert!(!base.join("damaged").exists());
    std::fs::write(shard.join("shard.json"), saved).unwrap();

    // A framework file changed since the shards ran stops the merge.
    std::fs::write(
        &own,
        std::fs::read_to_string(&own).unwrap() + "\n# edited\n",
    )
    .unwrap();
    let m = merge(&shards, &base.join("changed"));
    assert_eq!(m.code, 1);
    assert!(
        m.stderr
            .contains("(--framework-file) changed since the shards ran"),
        "{}",
        m.stderr
    );
}

#[test]
fn a_bad_framework_file_or_id_stops_the_run_naming_entry_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "id = \"acme\"\nname = \"ACME\"\nname_zh = \"ACME\"\nversion = \"1\"\n\
         judgement = \"j\"\njudgement_zh = \"判断\"\nsources = [\"s\"]\n\n\
         [[requirement]]\nid = \"AP-1\"\ntitle_en = \"MFA\"\ntitle_zh = \"多因素认证\"\n\
         controls = [\"root.mfa\", \"no.such\"]\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--framework-file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "requirement 1 \"AP-1\" (line 9): control \"no.such\" (line 13) is not a built-in control"
        ),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    let r = aliaudit(&[
        "report",
        "samples",
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--framework",
        "pci",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--framework \"pci\""), "{}", r.stderr);
}

#[test]
fn security_center_standards_survive_shards_and_a_merge_and_tampered_counts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let inputs = ["tests/fixtures/sas-standards", "tests/fixtures/sas-once"];
    let opts = ["--as-of", "2026-10-31", "--format", "json,csv"];
    let single = base.join("single");
    let mut args = vec!["report"];
    args.extend(inputs);
    args.extend(["-o", single.to_str().unwrap(), "-q"]);
    args.extend(opts);
    let one = aliaudit(&args);
    // 2: the accounts' evidence is partial (Security Center only).
    assert_eq!(one.code, 2, "{}", one.stderr);
    let shards = shard_runs(&inputs, &opts, 3, base);
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    assert_eq!(m.code, one.code, "{}", m.stderr);
    assert_same_tree(&single, &merged);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("summary.json")).unwrap()).unwrap();
    let portfolio = summary["portfolio"]["vendor_standards"].as_array().unwrap();
    assert_eq!(portfolio[0]["accounts"]["fail"], 2, "{portfolio:?}");

    // A shard whose standards' counts do not add up is refused, naming the account.
    let holder = shards
        .iter()
        .find(|s| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(s.join("shard.json")).unwrap()).unwrap();
            v["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a.get("vendor_standards").is_some())
        })
        .unwrap();
    let others: Vec<PathBuf> = shards.iter().filter(|s| *s != holder).cloned().collect();
    let err = merge_damaged(base, "tampered-standards", holder, &others, |d| {
        edit_summary(d, |v| {
            for a in v["accounts"].as_array_mut().unwrap() {
                if let Some(s) = a.get_mut("vendor_standards") {
                    s["standards"][0]["requirements"][0]["checks"]["pass"] = 40.into();
                }
            }
        })
    });
    assert!(
        err.contains("its Security Center standards: requirement \"Console sign-in\": its counts, check ids and state disagree"),
        "{err}"
    );
}

#[test]
fn security_center_standards_pages_are_the_same_bytes_across_jobs_and_across_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let input = "tests/fixtures/sas-standards";
    let opts = ["--as-of", "2026-10-05", "--lang", "zh"];
    // Partial evidence: a run exits 2, a shard 0 (its part is written), the merge as the run.
    let run = |name: &str, extra: &[&str], code: i32| {
        let out = base.join(name);
        let mut args = vec!["report", input, "-o", out.to_str().unwrap(), "-q"];
        args.extend(opts);
        args.extend(extra);
        let r = aliaudit(&args);
        assert_eq!(r.code, code, "{}", r.stderr);
        out
    };
    let one = run("jobs-1", &["--jobs", "1"], 2);
    let two = run("jobs-2", &["--jobs", "2"], 2);
    assert_same_tree(&one, &two);
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| run(&format!("shard-{k}"), &["--shard", &format!("{k}/2")], 0))
        .collect();
    let merged = base.join("merged");
    let m = merge(&shards, &merged);
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert_same_tree(&one, &merged);
    // The section is there to compare: both accounts' pages and the portfolio's.
    let index = std::fs::read_to_string(merged.join("index.html")).unwrap();
    assert!(index.contains("id=\"sc-standards\""));
    assert!(index.contains("有 1 个要求项编号以多个名称出现：311"));
}
