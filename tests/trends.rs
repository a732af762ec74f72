//! Quarter over quarter and the accepted-risk register: the real binary over three
//! consecutive quarters of `tests/fixtures/quarters/` (see its README for what changes).
#![allow(clippy::unwrap_used)]

mod common;
use common::aliaudit;

use std::path::Path;

use serde_json::Value;

const Q: &str = "tests/fixtures/quarters";
const PROD: &str = "1100000000000001";
const DEV: &str = "1100000000000002";
const EAST: &str = "2200000000000001";
const NEW: &str = "2200000000000002";

/// Runs one quarter into `out`, against `baseline` when given; returns summary.json.
fn quarter(name: &str, as_of: &str, out: &Path, baseline: Option<&Path>, formats: &str) -> Value {
    let input = format!("{Q}/{name}");
    let exceptions = format!("{Q}/exceptions.toml");
    let mut args = vec![
        "report",
        &input,
        "-o",
        out.to_str().unwrap(),
        "--as-of",
        as_of,
        "--exceptions",
        &exceptions,
        "--format",
        formats,
        "--quiet",
    ];
    if let Some(b) = baseline {
        args.extend(["--baseline", b.to_str().unwrap()]);
    }
    let (code, stderr) = aliaudit(&args);
    // The fixture accounts hold three of the five evidence kinds: partial, exit 2.
    assert_eq!(code, 2, "{stderr}");
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

fn account<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no account {id}"))
}

/// `(control, resource)` of a delta list.
fn keys(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["control"].as_str().unwrap().to_string(),
                c["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(list: &Value, control: &str, resource: &str) -> bool {
    keys(list)
        .iter()
        .any(|(c, r)| c == control && r.starts_with(resource))
}

fn find<'a>(list: &'a Value, control: &str, resource: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == control && c["resource"].as_str().unwrap().starts_with(resource))
        .unwrap_or_else(|| panic!("no {control} {resource} in {list}"))
}

fn periods(history: &Value) -> Vec<String> {
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap().to_string())
        .collect()
}

struct Chain {
    _dir: tempfile::TempDir,
    q2: Value,
    q3: Value,
    q4: Value,
}

fn chain() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let (d2, d3, d4) = (
        dir.path().join("q2"),
        dir.path().join("q3"),
        dir.path().join("q4"),
    );
    let q2 = quarter("2026-q2", "2026-06-30", &d2, None, "json");
    let q3 = quarter("2026-q3", "2026-09-30", &d3, Some(&d2), "json");
    let q4 = quarter("2026-q4", "2026-12-31", &d4, Some(&d3), "json");
    Chain {
        _dir: dir,
        q2,
        q3,
        q4,
    }
}

#[test]
fn the_first_quarter_has_no_delta_but_starts_every_history() {
    let c = chain();
    assert_eq!(c.q2["period"], "2026-Q2");
    assert!(c.q2["baseline"].is_null());
    assert!(c.q2["portfolio"]["delta"].is_null());
    assert!(account(&c.q2, PROD)["delta"].is_null());
    assert_eq!(periods(&account(&c.q2, PROD)["history"]), ["2026-Q2"]);
    assert_eq!(periods(&c.q2["portfolio"]["history"]), ["2026-Q2"]);
    assert_eq!(c.q2["missing_accounts"], Value::Array(vec![]));
}

#[test]
fn two_quarters_give_new_resolved_persisting_and_excepted_failures() {
    let c = chain();
    let s = &c.q3;
    assert_eq!(s["baseline"], "2026-06-30T23:59:59Z");
    assert_eq!(s["baseline_period"], "2026-Q2");
    let d = &account(s, PROD)["delta"];
    // Bob gained MFA and the svc-etl key was rotated: resolved.
    assert!(has(&d["resolved"], "ram.console_mfa", "bob@"));
    assert!(has(&d["resolved"], "ram.access_key_rotation", "svc-etl@"));
    // Dave is new without MFA.
    assert_eq!(
        keys(&d["new_failures"]),
        [(
            "ram.console_mfa".to_string(),
            "dave@northwind.onaliyun.com".to_string()
        )]
    );
    // Carol still has no MFA but is covered by an unexpired exception.
    let carol = find(&d["excepted"], "ram.console_mfa", "carol@");
    assert_eq!(
        (carol["since"].as_str(), carol["periods"].as_u64()),
        (Some("2026-Q2"), Some(2))
    );
    assert!(!has(&d["persisting"], "ram.console_mfa", "carol@"));
    // Passwords that never expire fail CIS v1.0.0 1.13 in both quarters, but that control is
    // informational under CIS v2.0.0 (the default): neither persisting nor resolved.
    assert!(!has(&d["persisting"], "pwd.max_age_v1", ""));
    assert!(!has(&d["resolved"], "pwd.max_age_v1", ""));
    let reuse = find(&d["persisting"], "pwd.reuse_prevention", "");
    assert_eq!(reuse["periods"], 2);
    // The Q2 score on CIS v2.0.0 (61.1 when both versions were scored).
    assert_eq!(d["previous_score"], 62.9);
    let score = account(s, PROD)["score"].as_f64().unwrap();
    assert!((d["score"].as_f64().unwrap() - (score - 62.9)).abs() < 0.05);
    assert!(
        d["changed_controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "ram.access_key_rotation"
                && c["from"] == "fail"
                && c["to"] == "pass")
    );
    assert_eq!(d["counts"]["new_failures"], 1);
    assert_eq!(
        d["counts"]["resolved"],
        d["resolved"].as_array().unwrap().len()
    );
    // A new account has no delta; the missing one is kept at its last state.
    assert!(account(s, NEW)["delta"].is_null());
    let p = &s["portfolio"]["delta"];
    assert_eq!(p["accounts_new"], serde_json::json!([NEW]));
    assert_eq!(p["accounts_missing"], serde_json::json!([DEV]));
    assert_eq!(p["accounts_improved"], 1);
    assert_eq!(p["accounts_unchanged"], 1);
    let missing = &s["missing_accounts"][0];
    assert_eq!(missing["id"], DEV);
    assert_eq!(missing["last_period"], "2026-Q2");
    assert_eq!(missing["score"], account(&c.q2, DEV)["score"]);
    // In the portfolio trend the missing account counts at its last score.
    let mut tenths: Vec<i64> = s["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["score"].as_f64().unwrap() * 10.0).round() as i64)
        .collect();
    tenths.push((missing["score"].as_f64().unwrap() * 10.0).round() as i64);
    let n = tenths.len() as i64;
    let mean = ((tenths.iter().sum::<i64>() * 2 + n) / (2 * n)) as f64 / 10.0;
    let point = &s["portfolio"]["history"][1];
    assert_eq!(point["score_mean"].as_f64().unwrap(), mean);
    assert_eq!(point["accounts"], 3);
    assert_eq!(point["accounts_not_reassessed"], 1);
}

#[test]
fn three_quarters_carry_history_and_count_persisting_periods() {
    let c = chain();
    let s = &c.q4;
    let prod = account(s, PROD);
    assert_eq!(periods(&prod["history"]), ["2026-Q2", "2026-Q3", "2026-Q4"]);
    let scores: Vec<f64> = prod["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores[0], account(&c.q2, PROD)["score"].as_f64().unwrap());
    assert_eq!(scores[1], account(&c.q3, PROD)["score"].as_f64().unwrap());
    assert_eq!(periods(&account(s, NEW)["history"]), ["2026-Q3", "2026-Q4"]);
    assert_eq!(
        periods(&s["portfolio"]["history"]),
        ["2026-Q2", "2026-Q3", "2026-Q4"]
    );
    let d = &prod["delta"];
    // Carol's exception expired on 2026-10-31: she fails again, three periods running.
    let carol = find(&d["persisting"], "ram.console_mfa", "carol@");
    assert_eq!(
        (carol["since"].as_str(), carol["periods"].as_u64()),
        (Some("2026-Q2"), Some(3))
    );
    assert_eq!(
        find(&d["persisting"], "ram.console_mfa", "dave@")["periods"],
        2
    );
    // The key rotated in Q3 is old again: a new failure.
    assert!(has(
        &d["new_failures"],
        "ram.access_key_rotation",
        "svc-etl@"
    ));
    assert!(d["score"].as_f64().unwrap() < 0.0);
    assert_eq!(s["portfolio"]["delta"]["accounts_worsened"], 1);
    // Still missing two quarters on: carried with its Q2 state.
    assert_eq!(s["missing_accounts"][0]["last_period"], "2026-Q2");
    assert_eq!(s["portfolio"]["history"][2]["accounts_not_reassessed"], 1);
    // The analyst gained MFA.
    assert!(has(
        &account(s, NEW)["delta"]["resolved"],
        "ram.console_mfa",
        "analyst@"
    ));
}

#[test]
fn the_register_lists_active_expired_and_stale_entries() {
    let c = chain();
    let numbers = |s: &Value, group: &str| -> Vec<u64> {
        s["exceptions"][group]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(numbers(&c.q3, "active"), [1, 2]);
    assert_eq!(numbers(&c.q3, "stale"), [3]);
    assert_eq!(numbers(&c.q4, "active"), [2]);
    assert_eq!(numbers(&c.q4, "expired"), [1]);
    let expired = &c.q4["exceptions"]["expired"][0];
    assert_eq!(expired["expires"], "2026-10-31");
    assert_eq!(expired["approved_by"], "Northwind CISO");
    assert_eq!(
        expired["matches"][0]["resource"],
        "carol@northwind.onaliyun.com"
    );
    // Active in Q3: carol's control result and counts show it.
    let prod = account(&c.q3, PROD);
    let mfa = prod["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ram.console_mfa")
        .unwrap();
    let carol = mfa["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_str().unwrap().starts_with("carol@"))
        .unwrap();
    assert_eq!(carol["status"], "excepted");
    assert!(
        carol["detail"]
            .as_str()
            .unwrap()
            .contains("approved by: Northwind CISO")
    );
    // The whole OSS check is excepted, so it is out of the score.
    let oss = prod["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "sas.12")
        .unwrap();
    assert_eq!(oss["status"], "excepted");
    assert!(prod["counts"]["excepted"].as_u64().unwrap() >= 1);
    assert!(
        c.q3["exceptions"]["file"]
            .as_str()
            .unwrap()
            .ends_with("exceptions.toml")
    );
}

#[test]
fn rerunning_a_quarter_against_itself_replaces_its_point() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    quarter("2026-q3", "2026-09-30", &a, None, "json");
    let again = quarter("2026-q3", "2026-09-30", &b, Some(&a), "json,html");
    let prod = account(&again, PROD);
    assert_eq!(periods(&prod["history"]), ["2026-Q3"]);
    assert_eq!(prod["delta"]["score"], 0.0);
    assert_eq!(
        find(&prod["delta"]["persisting"], "ram.console_mfa", "dave@")["periods"],
        1
    );
    // The replaced figures are labelled as a restatement, not shown as progress.
    let index = std::fs::read_to_string(b.join("index.html")).unwrap();
    assert!(
        index.contains(
            "Restated: this report has the period 2026-Q3 of the report it is compared with"
        ),
        "{index}"
    );
}

#[test]
fn a_period_label_names_the_points() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, stderr) = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q2",
        "-o",
        out.to_str().unwrap(),
        "--as-of",
        "2026-06-30",
        "--period",
        "FY26 H1",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let s: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["period"], "FY26 H1");
    assert_eq!(periods(&account(&s, EAST)["history"]), ["FY26 H1"]);
}

#[test]
fn a_damaged_or_foreign_baseline_is_a_clear_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "{\"schema\": \"aliaudit.summary/v1\", \"accounts\": [ {\"id\": ",
            "not a readable summary.json",
        ),
        (
            "{\"schema\": \"someone.else/v3\", \"items\": []}",
            "schema \"someone.else/v3\" is not aliaudit.summary/v1",
        ),
        ("[1, 2, 3]", "no \"schema\" key"),
        (
            "{\"schema\": \"aliaudit.summary/v2\", \"as_of\": null, \"accounts\": []}",
            "is not aliaudit.summary/v1",
        ),
    ];
    for (n, (text, expected)) in cases.iter().enumerate() {
        let baseline = dir.path().join(format!("b{n}"));
        std::fs::create_dir_all(&baseline).unwrap();
        std::fs::write(baseline.join("summary.json"), text).unwrap();
        let out = dir.path().join(format!("out{n}"));
        let (code, stderr) = aliaudit(&[
            "report",
            "tests/fixtures/quarters/2026-q3",
            "-o",
            out.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("summary.json: "), "{stderr}");
        assert!(stderr.contains(expected), "{stderr} lacks {expected}");
        assert!(!out.exists(), "output written despite a bad baseline");
    }
    let (code, stderr) = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q3",
        "-o",
        dir.path().join("x").to_str().unwrap(),
        "--baseline",
        dir.path().join("nowhere").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read it"), "{stderr}");
}

#[test]
fn a_bad_exceptions_file_names_the_entry_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exceptions.toml");
    std::fs::write(
        &file,
        "[[exception]]\naccount = \"1*\"\ncontrol = \"ram.console_mfa\"\nreason = \"r\"\nowner = \"o\"\napproved_by = \"a\"\nexpires = \"next year\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, stderr) = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q3",
        "-o",
        out.to_str().unwrap(),
        "--exceptions",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr
            .contains("exception 1 (line 1): expires \"next year\" is not a date (use YYYY-MM-DD)"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn trends_are_byte_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("q2");
    quarter("2026-q2", "2026-06-30", &base, None, "json");
    let mut outputs = Vec::new();
    for jobs in ["1", "4"] {
        let out = dir.path().join(format!("q3-{jobs}"));
        let (code, stderr) = aliaudit(&[
            "report",
            "tests/fixtures/quarters/2026-q3",
            "-o",
            out.to_str().unwrap(),
            "--as-of",
            "2026-09-30",
            "--baseline",
            base.to_str().unwrap(),
            "--exceptions",
            "tests/fixtures/quarters/exceptions.toml",
            "--jobs",
            jobs,
            "--branding",
            "tests/fixtures/branding/branding.toml",
            "--lang",
            "zh",
            "--quiet",
        ]);
        assert_eq!(code, 2, "{stderr}");
        outputs.push(out);
    }
    // Every format, branded and in Chinese.
    for name in [
        "summary.json",
        "findings.csv",
        "index.html",
        "manifest.json",
        "portfolio.pdf",
        "customers/northwind.pdf",
        "accounts/1100000000000001.pdf",
        "accounts/1100000000000001.html",
    ] {
        assert_eq!(
            std::fs::read(outputs[0].join(name)).unwrap(),
            std::fs::read(outputs[1].join(name)).unwrap(),
            "{name} differs with --jobs"
        );
    }
}

#[test]
fn html_and_pdf_show_what_changed_and_the_register_only_with_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (d2, d3) = (dir.path().join("q2"), dir.path().join("q3"));
    quarter("2026-q2", "2026-06-30", &d2, None, "json,html,pdf");
    quarter("2026-q3", "2026-09-30", &d3, Some(&d2), "json,html,pdf");
    let page = |d: &Path, name: &str| std::fs::read_to_string(d.join(name)).unwrap();
    // Without a baseline the sections are absent, not empty.
    assert!(!page(&d2, "index.html").contains("What changed"));
    assert!(!page(&d2, "accounts/1100000000000001.html").contains("What changed"));
    let account = page(&d3, "accounts/1100000000000001.html");
    assert!(account.contains("What changed since 2026-Q2"));
    assert!(account.contains("dave@northwind.onaliyun.com"));
    assert!(account.contains("Score by period"), "trend chart missing");
    // Register text is escaped like all evidence.
    assert!(account.contains("Carol&#39;s hardware token is on order"));
    let index = page(&d3, "index.html");
    assert!(index.contains("Not re-assessed this period"));
    // The headline covers the accounts assessed now; the change and the trend count the
    // account not re-assessed at its last score, and say so.
    assert!(
        index.contains("counting 1 account not re-assessed this period at its last score"),
        "{index}"
    );
    assert!(index.contains("Mean score by period, counting accounts not re-assessed"));
    // Data quality names what incomplete accounts lack; it never says all is well then.
    assert!(index.contains(
        "Evidence missing or unreadable: security practice report, security preference; 10 controls could not be assessed."
    ));
    assert!(!index.contains("The sources agree"));
    assert!(!page(&d3, "customers/eastwind.html").contains("counting 1 account"));
    assert!(index.contains("Northwind dev"));
    assert!(index.contains("Stale (covers no failure)"));
    // The register names the accounts a glob matched and each check by its title.
    assert!(index.contains("11*, matching Northwind prod"), "{index}");
    assert!(index.contains("OSS bucket public access<br><span class=\"id\">sas.12</span>"));
    assert!(index.contains(
        "Password policy requires a minimum length of 14 or more<br><span class=\"id\">pwd.min_length</span>"
    ));
    assert!(page(&d3, "customers/eastwind.html").contains("New since 2026-Q2"));
    let Some(text) = common::pdf_text(&d3.join("accounts/1100000000000001.pdf"), &[]) else {
        return;
    };
    assert!(text.contains("What changed since 2026-Q2"), "{text}");
    assert!(text.contains("Accepted risks"));
    assert!(text.contains("Northwind CISO"));
    assert!(text.contains("Period: 2026-Q3"));
    let portfolio = common::pdf_text(&d3.join("portfolio.pdf"), &[]).unwrap();
    assert!(portfolio.contains("Not re-assessed this period"));
    assert!(portfolio.contains("Northwind dev (1100000000000002): last assessed 2026-Q2"));
    assert!(
        !common::pdf_text(&d2.join("portfolio.pdf"), &[])
            .unwrap()
            .contains("What changed")
    );
}
