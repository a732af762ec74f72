//! `--format ocsf`: `findings.ocsf.jsonl`, one OCSF Compliance Finding per control result,
//! validated against the published OCSF schema (tests/ocsf/validate.py with the pinned
//! packages of tests/ocsf/requirements.txt), and the same bytes whatever the jobs or shards.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

const QUARTERS: &str = "tests/fixtures/quarters";

fn report(input: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["--format", "ocsf,json"];
    args.extend(extra);
    common::report(input, out, &args, common::FINISHED);
}

fn lines(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("findings.ocsf.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The results of `summary.json`: (account id, control id, status).
fn results(out: &Path) -> Vec<(String, String, String)> {
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let mut all = Vec::new();
    for a in summary["accounts"].as_array().unwrap() {
        for c in a["controls"].as_array().unwrap() {
            all.push((
                a["uid"].as_str().or(a["id"].as_str()).unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            ));
        }
    }
    all
}

/// A Python with the validator's packages: `ALIAUDIT_OCSF_PYTHON`, else `python3` when it
/// has them; `None` (a skip, refused in CI) without.
fn validator_python() -> Option<PathBuf> {
    let python = std::env::var_os("ALIAUDIT_OCSF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&python)
        .args(["-c", "import ocsf_json_schema, jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs pip install -r tests/ocsf/requirements.txt"
        );
        eprintln!("SKIPPED: no OCSF validator (pip install -r tests/ocsf/requirements.txt)");
        return None;
    }
    Some(python)
}

fn validate(out: &Path) {
    let Some(python) = validator_python() else {
        return;
    };
    let file = out.join("findings.ocsf.jsonl");
    let run = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ocsf/validate.py"))
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}: {stdout}{}",
        file.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    let n = lines(out).len();
    assert!(stdout.contains(&format!("ok {n} bad 0")), "{stdout}");
}

#[test]
fn every_result_is_one_valid_compliance_finding() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("samples");
    report(
        "samples",
        &samples,
        &["--framework", "mlps2-l3,iso27001-2022"],
    );
    let quarter = dir.path().join("q3");
    let exceptions = format!("{QUARTERS}/exceptions.toml");
    report(
        &format!("{QUARTERS}/2026-q3"),
        &quarter,
        &["--as-of", "2026-09-30", "--exceptions", &exceptions],
    );
    for out in [&samples, &quarter] {
        validate(out);
        let found = lines(out);
        let results = results(out);
        // One line per result, in the order of summary.json.
        assert_eq!(found.len(), results.len());
        for (line, (account, control, status)) in found.iter().zip(&results) {
            assert_eq!(line["class_uid"], 2003);
            assert_eq!(line["cloud"]["account"]["uid"], account.as_str());
            assert_eq!(line["compliance"]["control"], control.as_str());
            assert_eq!(line["compliance"]["status_code"], status.as_str());
            let expected = match status.as_str() {
                "pass" => 1,
                "fail" | "excepted" => 3,
                "not_applicable" => 99,
                _ => 0,
            };
            assert_eq!(line["compliance"]["status_id"], expected, "{line}");
            assert!(!line["remediation"]["desc"].as_str().unwrap().is_empty());
        }
        // Stable ids, one per result.
        let mut uids: Vec<&str> = found
            .iter()
            .map(|l| l["finding_info"]["uid"].as_str().unwrap())
            .collect();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), found.len());
    }
    // The samples' CIS controls name the benchmark scored and their recommendation.
    let found = lines(&samples);
    let mfa = found
        .iter()
        .find(|l| l["compliance"]["control"] == "ram.console_mfa")
        .unwrap();
    assert_eq!(
        mfa["compliance"]["standards"][0],
        "CIS Alibaba Cloud Foundations Benchmark v2.0.0"
    );
    assert!(
        mfa["compliance"]["requirements"][0]
            .as_str()
            .unwrap()
            .starts_with("CIS 1.")
    );
    assert_eq!(mfa["severity_id"], 4);
    // The frameworks selected are standards too, with the requirements the control evidences.
    let standards = mfa["compliance"]["standards"].as_array().unwrap();
    assert_eq!(standards.len(), 3, "{standards:?}");
    assert!(
        standards[1]
            .as_str()
            .unwrap()
            .starts_with("MLPS 2.0 level 3")
    );
    let requirements: Vec<&str> = mfa["compliance"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        requirements.contains(&"mlps2-l3 8.1.4.1 d)"),
        "{requirements:?}"
    );
    assert!(requirements.iter().any(|r| r.starts_with("iso27001-2022 ")));
    // An accepted risk is a suppressed finding with its owner and expiry.
    let found = lines(&quarter);
    let excepted: Vec<&Value> = found
        .iter()
        .filter(|l| l["compliance"]["status_code"] == "excepted")
        .collect();
    assert!(!excepted.is_empty());
    for l in &excepted {
        assert_eq!(l["status_id"], 3, "{l}");
        assert_eq!(l["status"], "Suppressed");
        let comment = l["comment"].as_str().unwrap();
        assert!(comment.contains("owner: ") && comment.contains("Accepted risk until 20"));
    }
    assert!(
        found
            .iter()
            .filter(|l| l["compliance"]["status_code"] != "excepted")
            .all(|l| l["status_id"] == 1 && l.get("comment").is_none())
    );
}

#[test]
fn the_same_bytes_whatever_the_jobs_and_through_shards() {
    let dir = tempfile::tempdir().unwrap();
    let as_of = ["--as-of", "2026-09-30", "--framework", "mlps2-l3,soc2-2017"];
    let one = dir.path().join("one");
    report("samples", &one, &[&as_of[..], &["--jobs", "1"]].concat());
    let two = dir.path().join("two");
    report("samples", &two, &[&as_of[..], &["--jobs", "2"]].concat());
    let bytes = |d: &Path| std::fs::read(d.join("findings.ocsf.jsonl")).unwrap();
    assert!(!bytes(&one).is_empty());
    assert_eq!(bytes(&one), bytes(&two));
    let mut shards = Vec::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("shard-{k}"));
        let shard = format!("{k}/3");
        report(
            "samples",
            &out,
            &[&as_of[..], &["--shard", &shard]].concat(),
        );
        assert!(!out.join("findings.ocsf.jsonl").exists());
        shards.push(out);
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend(["-o".into(), merged.display().to_string(), "-q".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = common::run_with(&args, |_| {});
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(bytes(&one), bytes(&merged));
}
