//! End-to-end tests: the real binary over fixture trees in `tests/fixtures/<scenario>/`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn aliaudit(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run aliaudit");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn report(inputs: &[&str], extra: &[&str]) -> (Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["report"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["-o", out.path().to_str().unwrap()]);
    args.extend_from_slice(extra);
    (aliaudit(&args), out)
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

fn account<'a>(summary: &'a Value, id: &str) -> &'a Value {
    summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no account {id}"))
}

fn control<'a>(account: &'a Value, id: &str) -> &'a Value {
    account["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn manifest_entry<'a>(manifest: &'a Value, suffix: &str) -> &'a Value {
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no manifest entry for {suffix}"))
}

const Q: &str = "tests/fixtures/quirks";
const M: &str = "tests/fixtures/malformed";

// ---------------------------------------------------------------- quirks

#[test]
fn every_evidence_shape_and_quirk_is_read_and_the_run_exits_0() {
    let (out, dir) = report(&[Q], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert_eq!(s["schema"], "aliaudit.summary/v1");
    assert_eq!(s["portfolio"]["accounts_complete"], 2);
    // The as-of instant is the newest evidence timestamp (Sas CheckTime 1790300000000 ms).
    assert_eq!(s["as_of"], "2026-09-25T01:33:20Z");

    let prod = account(&s, "1486203957716420");
    assert_eq!(prod["name"], "Harbour Bank - Production 生产");
    assert_eq!(prod["alias"], "harbourbank");
    assert_eq!(prod["vendor_score"], 58);
    // BOM + CRLF CSV, LOGIN_DISABLED, a root key only in additional_access_key_1.
    assert_eq!(prod["identity"]["ram_users"], 4);
    assert_eq!(prod["identity"]["console_users"], 2);
    assert_eq!(prod["identity"]["root_active_access_keys"], 1);
    let root_key = control(prod, "root.no_access_key");
    assert_eq!(root_key["status"], "fail");
    assert_eq!(
        root_key["resources"][0]["id"],
        "<root>/additional_access_key_1"
    );
    // XML page 1 and a JSON page 2 with numbers as strings and List as one object, merged.
    assert_eq!(control(prod, "sas.12")["status"], "fail");
    // Items 3 and 49 duplicate built-in controls: no rows of their own, the controls cite them.
    let ids: Vec<&str> = prod["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"sas.3") && !ids.contains(&"sas.49"),
        "{ids:?}"
    );
    let cited = |id: &str| {
        control(prod, id)["sources"][0]["what"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        cited("root.mfa"),
        "Security Center DescribeRiskCheckResult item 3, status pass"
    );
    assert!(
        cited("root.no_access_key").starts_with("Security Center DescribeRiskCheckResult item 49")
    );
    assert_eq!(control(prod, "pref.mfa_enforced")["status"], "fail");

    // API credential report in two pages (Base64 with line breaks, header repeated on page 2),
    // Ram-shaped preference and password policy, ListCheckResult, uid from GetCallerIdentity.
    let legacy = account(&s, "harbour-bank/legacy");
    assert_eq!(legacy["uid"], "1099511627776000");
    assert_eq!(legacy["identity"]["ram_users"], 3);
    assert_eq!(
        control(legacy, "pref.mfa_enforced")["status"],
        "not_evaluable"
    );
    assert_eq!(control(legacy, "pwd.lockout")["status"], "fail");
    assert_eq!(control(legacy, "sas.cspm.77")["status"], "fail");
    assert_eq!(control(legacy, "sas.cspm.78")["status"], "excepted");

    let m = json(dir.path(), "manifest.json");
    assert_eq!(
        manifest_entry(&m, "legacy/generate.json")["status"],
        "ignored"
    );
    assert_eq!(
        manifest_entry(&m, "harbour-bank/README.md")["status"],
        "ignored"
    );
    assert_eq!(
        manifest_entry(&m, "prod/risk-page-1.xml")["kind"],
        "sas_risk_check_result"
    );
    let entry = manifest_entry(&m, "prod/pwd.json");
    assert_eq!(entry["status"], "used");
    assert_eq!(entry["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn summary_json_has_exactly_the_v1_contract_keys() {
    let (_, dir) = report(&[Q], &[]);
    let s = json(dir.path(), "summary.json");
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let has = |v: &Value, want: &[&str]| {
        let k = keys(v);
        for w in want {
            assert!(k.iter().any(|x| x == w), "missing {w} in {k:?}");
        }
    };
    has(
        &s,
        &[
            "schema",
            "tool_version",
            "as_of",
            "baseline",
            "portfolio",
            "accounts",
            "diagnostics",
        ],
    );
    has(
        &s["portfolio"],
        &[
            "accounts",
            "accounts_complete",
            "accounts_partial",
            "accounts_failed",
            "score_mean",
            "score_median",
            "controls",
        ],
    );
    has(
        &s["portfolio"]["controls"][0],
        &["id", "fail_accounts", "pass_accounts"],
    );
    let a = &s["accounts"][0];
    has(
        a,
        &[
            "id",
            "name",
            "customer",
            "uid",
            "alias",
            "status",
            "score",
            "vendor_score",
            "counts",
            "identity",
            "controls",
            "delta",
        ],
    );
    has(
        &a["counts"],
        &[
            "pass",
            "fail",
            "excepted",
            "not_applicable",
            "not_evaluable",
        ],
    );
    has(
        &a["identity"],
        &[
            "ram_users",
            "console_users",
            "console_users_without_mfa",
            "active_access_keys",
            "access_keys_not_rotated_90d",
            "root_mfa",
            "root_active_access_keys",
        ],
    );
    has(
        &a["controls"][0],
        &[
            "id",
            "title",
            "severity",
            "status",
            "frameworks",
            "resources",
        ],
    );
    has(&a["controls"][0]["frameworks"], &["cis_v1", "cis_v2"]);
    has(
        &a["controls"][0]["resources"][0],
        &["id", "status", "detail"],
    );
    assert!(a["delta"].is_null());
    assert!(s["baseline"].is_null());
}

/// Every file below `dir`, as (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let inputs = [Q, M, "tests/fixtures/layout", "samples"];
    let (one, a) = report(&inputs, &["--jobs", "1"]);
    let (four, b) = report(&inputs, &["--jobs", "4"]);
    assert_eq!(one.code, four.code);
    let (x, y) = (tree(a.path()), tree(b.path()));
    let names: Vec<&str> = x.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"index.html") && names.iter().any(|n| n.starts_with("accounts/")));
    assert_eq!(names, y.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>());
    for ((name, bx), (_, by)) in x.iter().zip(&y) {
        assert!(bx == by, "{name} differs between --jobs 1 and --jobs 4");
    }
    let (_, again) = report(&inputs, &["--jobs", "1"]);
    assert!(tree(again.path()) == x, "a second run gave different bytes");
}

// ---------------------------------------------------------------- HTML

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn html_escapes_hostile_names_in_text_attributes_and_svg() {
    let (out, dir) = report(&["tests/fixtures/hostile"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let pages: Vec<(String, String)> = tree(dir.path())
        .into_iter()
        .filter(|(n, _)| n.ends_with(".html"))
        .map(|(n, b)| (n, String::from_utf8(b).unwrap()))
        .collect();
    assert_eq!(pages.len(), 3, "index, one customer, one account");
    for (name, html) in &pages {
        for raw in [
            "<script>alert",
            "<img src=x",
            "\"onerror=",
            "</svg><script>",
            "<b>x</b>",
        ] {
            assert!(!html.contains(raw), "{name} contains raw {raw}");
        }
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{name}: account name not shown escaped"
        );
    }
    let account = &pages
        .iter()
        .find(|(n, _)| n.starts_with("accounts/"))
        .unwrap()
        .1;
    assert!(
        account.contains("&lt;script&gt;alert(3)&lt;&#x2F;script&gt;@x.onaliyun.com")
            || account.contains("&lt;script&gt;alert(3)&lt;/script&gt;@x.onaliyun.com")
    );
    // A count of zero is shown as 0, not as unknown.
    assert!(account.contains("Active AccessKeys</span><span class=\"value\">0</span>"));
    // The Sas title appears inside the SVG chart of the customer page, escaped by plotters.
    let customer = &pages
        .iter()
        .find(|(n, _)| n.starts_with("customers/"))
        .unwrap()
        .1;
    assert!(
        customer.contains("&lt;/svg&gt;&lt;script&gt;alert(4)"),
        "escaped title missing from the SVG"
    );
}

#[test]
fn html_pages_are_self_contained_and_link_to_each_other() {
    let (out, dir) = report(&["samples"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let index = read(dir.path(), "index.html");
    for (name, bytes) in tree(dir.path())
        .iter()
        .filter(|(n, _)| n.ends_with(".html"))
    {
        let html = String::from_utf8_lossy(bytes);
        assert!(!html.contains("<link"), "{name} links a stylesheet");
        assert!(!html.contains(" src="), "{name} loads a resource");
        assert!(
            !html.contains("href=\"http"),
            "{name} links outside the report"
        );
        assert!(
            html.contains("<style>") && html.contains("<svg"),
            "{name} lacks inline CSS or charts"
        );
    }
    let links: std::collections::BTreeSet<&str> = index
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .filter(|h| h.starts_with("accounts/") || h.starts_with("customers/"))
        .collect();
    assert_eq!(
        links.iter().filter(|h| h.starts_with("accounts/")).count(),
        6
    );
    assert_eq!(
        links.iter().filter(|h| h.starts_with("customers/")).count(),
        3
    );
    for link in links {
        let page = read(dir.path(), link);
        assert!(
            page.contains("href=\"../index.html\""),
            "{link} does not link back"
        );
    }
}

#[test]
fn templates_can_be_exported_and_overridden_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = aliaudit(&["templates", "export", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for name in [
        "base.html",
        "index.html",
        "account.html",
        "customer.html",
        "report.css",
        "report.js",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} not exported");
    }
    // Keep only a changed index.html and stylesheet: the rest falls back to the built-ins.
    for name in [
        "base.html",
        "account.html",
        "customer.html",
        "report.js",
        "accounts_table.html",
    ] {
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    let index = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        index.replace("{{ t.portfolio.heading }}</h1>", "Quarterly review</h1>"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("report.css"),
        "body { color: rebeccapurple; }",
    )
    .unwrap();
    let (out, html) = report(&[Q], &["--templates", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let index = read(html.path(), "index.html");
    assert!(index.contains("Quarterly review</h1>"));
    assert!(index.contains("rebeccapurple"));
    assert!(read(html.path(), "accounts/1486203957716420.html").contains("Executive summary"));
    // A broken template is fatal before any work.
    std::fs::write(dir.path().join("index.html"), "{% for x in %}").unwrap();
    let (bad, _) = report(&[Q], &["--templates", dir.path().to_str().unwrap()]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("templates do not load"),
        "{}",
        bad.stderr
    );
}

#[test]
fn as_of_option_takes_a_date_as_the_end_of_that_day() {
    let (out, dir) = report(&[Q], &["--as-of", "2027-03-31"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert_eq!(s["as_of"], "2027-03-31T23:59:59Z");
    let prod = account(&s, "1486203957716420");
    // Six months later the prod console user last seen 2026-08-30 is inactive.
    assert_eq!(
        control(prod, "ram.inactive_console_users")["status"],
        "fail"
    );
    // The evidence is now months old: a data-quality note, not a failure.
    let notes = prod["data_quality"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("stale evidence")),
        "{notes:?}"
    );
}

// ---------------------------------------------------------------- malformed input

fn malformed() -> (Output, Value, Value) {
    let (out, dir) = report(&[M], &[]);
    let s = json(dir.path(), "summary.json");
    let m = json(dir.path(), "manifest.json");
    (out, s, m)
}

fn rejected_reason(m: &Value, suffix: &str) -> String {
    let e = manifest_entry(m, suffix);
    assert_eq!(e["status"], "rejected", "{e}");
    e["reason"].as_str().unwrap().to_string()
}

#[test]
fn malformed_input_exits_2_and_reports_every_file() {
    let (out, s, m) = malformed();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(s["portfolio"]["accounts"], 12);
    let files = m["files"].as_array().unwrap();
    let on_disk = walkdir::WalkDir::new(M)
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count();
    assert_eq!(files.len(), on_disk, "every file is listed");
    assert!(
        out.stderr
            .contains("error: malformed/truncated-json/practice.json")
    );
}

#[test]
fn rejects_truncated_json_with_line_and_column_and_evaluates_the_rest() {
    let (_, s, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "truncated-json/practice.json"),
        "invalid JSON at line 5, column 53: EOF while parsing a value"
    );
    assert_eq!(
        manifest_entry(&m, "truncated-json/practice.json")["kind"],
        "practice_report"
    );
    let a = account(&s, "truncated-json");
    assert_eq!(a["status"], "partial");
    assert_eq!(control(a, "pwd.min_length")["status"], "pass");
    let strength = control(a, "spr.password_strength");
    assert_eq!(strength["status"], "not_evaluable");
    assert!(
        strength["detail"]
            .as_str()
            .unwrap()
            .contains("practice report was rejected")
    );
}

#[test]
fn rejects_a_csv_row_with_the_wrong_number_of_fields_naming_the_line() {
    let (_, s, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "csv-fields/cr.csv"),
        "line 3: expected 16 fields like the header, found 4"
    );
    assert_eq!(
        control(account(&s, "csv-fields"), "root.mfa")["status"],
        "not_evaluable"
    );
}

#[test]
fn rejects_an_invalid_timestamp_naming_line_and_column() {
    let (_, _, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "bad-timestamp/cr.csv"),
        "line 3: column user_last_logon: invalid timestamp \"yesterday\" (expected YYYY-MM-DDThh:mm:ssZ)"
    );
}

#[test]
fn rejects_binary_junk_empty_files_and_non_utf8() {
    let (_, _, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "junk/junk.json"),
        "invalid JSON at line 1, column 1: expected value"
    );
    assert_eq!(rejected_reason(&m, "junk/empty.json"), "the file is empty");
    assert_eq!(
        rejected_reason(&m, "junk/latin1.csv"),
        "line 3: column user: not valid UTF-8 (byte 4 of the cell)"
    );
    let png = manifest_entry(&m, "junk/photo.png");
    assert_eq!(png["status"], "ignored");
}

#[test]
fn rejects_a_wrong_type_naming_the_json_path() {
    let (_, _, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "wrong-type/sas.json"),
        "JSON path List[1].CheckTime (line 1, column 144): expected a whole number, found \"tomorrow\""
    );
}

#[test]
fn rejects_truncated_xml_and_bad_base64_and_a_missing_last_page() {
    let (_, _, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "bad-xml/risk.xml"),
        "invalid XML at line 6, column 1: document ends inside <List> (truncated?)"
    );
    assert!(
        rejected_reason(&m, "bad-base64/cr.json")
            .starts_with("JSON path Content: not valid Base64")
    );
    assert!(rejected_reason(&m, "missing-page/cr-1.json").contains("the last page is missing"));
}

#[test]
fn unknown_enum_values_are_warnings_and_make_the_control_not_evaluable() {
    let (_, s, _) = malformed();
    let diags = s["diagnostics"].as_array().unwrap();
    let find = |needle: &str| {
        diags
            .iter()
            .find(|d| d["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no diagnostic with {needle}"))
    };
    let d = find("MFAOperationForLogin: unknown value \"sometimes\"");
    assert_eq!(d["level"], "warning");
    assert_eq!(d["account"], "unknown-enum");
    find("List[0].Status: unknown value \"exploded\"");
    find("line 2, column mfa_active: unknown value \"MAYBE\"");
    let a = account(&s, "unknown-enum");
    assert_eq!(control(a, "pref.mfa_enforced")["status"], "not_evaluable");
    assert_eq!(control(a, "sas.1")["status"], "not_evaluable");
    assert_eq!(control(a, "root.mfa")["status"], "not_evaluable");
}

#[test]
fn a_saved_api_error_is_rejected_with_its_code() {
    let (_, s, m) = malformed();
    assert_eq!(
        rejected_reason(&m, "api-error/GetPasswordPolicy.json"),
        "a saved API error, not data: NoPermission: You are not authorized to do this action."
    );
    assert_eq!(account(&s, "api-error")["status"], "failed");
}

#[test]
fn unknown_keys_in_account_toml_are_named() {
    let (_, s, m) = malformed();
    let reason = rejected_reason(&m, "bad-toml/account.toml");
    assert!(
        reason.starts_with("line 2, column 1: unknown field `owner`"),
        "{reason}"
    );
    assert_eq!(account(&s, "bad-toml")["name"], "bad-toml");
}

#[test]
fn hostile_cells_are_neutralised_in_findings_csv() {
    let (_, dir) = report(&[M], &[]);
    let text = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")@x.onaliyun.com\""),
        "formula not neutralised"
    );
    assert!(!text.contains(",=HYPERLINK"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.get(0), Some("account_id"));
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unsafe cell {cell}"
            );
        }
    }
}

/// The `findings.csv` columns as README.md and SPEC document them.
const FINDINGS_HEADER: &str = "account_id,account_name,customer,control_id,control_title,severity,cis_v1,cis_v2,control_status,control_detail,resource_id,resource_status,resource_detail,source_file,source_field,as_of,sources,scored";

#[test]
fn findings_csv_names_the_requirements_of_the_frameworks_selected_and_only_then() {
    let read = |extra: &[&str]| {
        let mut args = vec!["--format", "csv", "--as-of", "2026-09-30", "-q"];
        args.extend(extra);
        let (out, dir) = report(&["samples"], &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        std::fs::read_to_string(dir.path().join("findings.csv")).unwrap()
    };
    let plain = read(&[]);
    let with = read(&["--framework", "mlps2-l3,iso27001-2022"]);
    // Without frameworks the header is the documented one.
    assert_eq!(plain.split("\r\n").next(), Some(FINDINGS_HEADER));
    assert_eq!(
        with.split("\r\n").next().map(str::to_string),
        Some(format!("{FINDINGS_HEADER},requirements"))
    );
    let records = |text: &str| -> Vec<csv::StringRecord> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect()
    };
    let (plain, with) = (records(&plain), records(&with));
    // The same rows, each with one more cell: its control's requirements.
    assert_eq!(plain.len(), with.len());
    let mut seen = std::collections::BTreeSet::new();
    for (p, w) in plain.iter().zip(&with) {
        assert_eq!((p.len(), w.len()), (18, 19));
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            w.iter().take(18).collect::<Vec<_>>()
        );
        let (control, requirements) = (&w[3], &w[18]);
        // Security Center checks are in no framework.
        let (kind, expected) = match control {
            "ram.console_mfa" => (control, "mlps2-l3 8.1.4.1 d); iso27001-2022 A.8.5"),
            "root.mfa" => (
                control,
                "mlps2-l3 8.1.4.1 d); iso27001-2022 A.8.2; iso27001-2022 A.8.5",
            ),
            c if c.starts_with("sas.") => ("sas", ""),
            _ => continue,
        };
        assert_eq!(requirements, expected, "{control}");
        seen.insert(kind.to_string());
    }
    assert_eq!(seen.len(), 3, "{seen:?}");

    // A framework id may start with '-': the cell is neutralised like any other.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("minus.toml");
    std::fs::write(
        &own,
        "id = \"-acme\"\nname = \"ACME\"\nname_zh = \"ACME\"\nversion = \"1\"\n\
         judgement = \"Ours.\"\njudgement_zh = \"我们的。\"\nsources = [\"ACME\"]\n\n\
         [[requirement]]\nid = \"AP-1\"\ntitle_en = \"MFA\"\ntitle_zh = \"多因素认证\"\n\
         controls = [\"ram.console_mfa\"]\n",
    )
    .unwrap();
    let minus = read(&["--framework-file", own.to_str().unwrap()]);
    let cells: std::collections::BTreeSet<(String, String)> = records(&minus)
        .iter()
        .filter(|r| matches!(&r[3], "ram.console_mfa" | "root.mfa"))
        .map(|r| (r[3].to_string(), r[18].to_string()))
        .collect();
    assert_eq!(
        cells.into_iter().collect::<Vec<_>>(),
        [
            ("ram.console_mfa".to_string(), "'-acme AP-1".to_string()),
            ("root.mfa".to_string(), String::new())
        ]
    );
}

#[test]
fn a_huge_file_is_rejected_without_being_read_into_memory() {
    let tree = tempfile::tempdir().unwrap();
    let acct = tree.path().join("big");
    std::fs::create_dir_all(&acct).unwrap();
    std::fs::write(
        acct.join("policy.json"),
        r#"{"PasswordPolicy":{"MinimumPasswordLength":14}}"#,
    )
    .unwrap();
    let big = vec![b' '; 3 * 1024 * 1024];
    std::fs::write(acct.join("huge.json"), &big).unwrap();
    let (out, dir) = report(&[tree.path().to_str().unwrap()], &["--max-file-mb", "1"]);
    assert_eq!(out.code, 2);
    let m = json(dir.path(), "manifest.json");
    let e = manifest_entry(&m, "big/huge.json");
    assert_eq!(e["status"], "rejected");
    assert_eq!(
        e["reason"],
        "the file is 3145728 bytes, over the 1048576-byte limit for one evidence file"
    );
    assert_eq!(e["size"], 3145728);
}

#[cfg(unix)]
#[test]
fn a_link_loop_is_reported_and_the_walk_goes_on() {
    let tree = tempfile::tempdir().unwrap();
    let acct = tree.path().join("cust/acct");
    std::fs::create_dir_all(&acct).unwrap();
    std::fs::write(
        acct.join("policy.json"),
        r#"{"PasswordPolicy":{"MinimumPasswordLength":14}}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink(tree.path().join("cust"), acct.join("loop")).unwrap();
    let (out, dir) = report(&[tree.path().to_str().unwrap()], &[]);
    assert!(out.stderr.contains("link loop"), "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert_eq!(s["portfolio"]["accounts"], 1);
}

// ---------------------------------------------------------------- layout and ids

#[test]
fn account_folders_are_found_at_any_depth_and_hidden_entries_skipped() {
    let (out, dir) = report(&["tests/fixtures/layout"], &[]);
    assert_eq!(out.code, 2, "the solo account has no evidence");
    let s = json(dir.path(), "summary.json");
    account(&s, "customers/north/cn-hangzhou/web");
    let solo = account(&s, "solo");
    assert_eq!(solo["status"], "failed");
    assert_eq!(solo["customer"], "South");
    let m = json(dir.path(), "manifest.json");
    let paths: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths.iter().any(|p| p.contains("/.")),
        "hidden entries listed: {paths:?}"
    );
    let notes = manifest_entry(&m, "north/notes.txt");
    assert_eq!(notes["status"], "ignored");
    assert!(
        notes["reason"]
            .as_str()
            .unwrap()
            .starts_with("not in an account folder")
    );
}

#[test]
fn two_folders_with_one_account_id_are_an_error_naming_both() {
    let (out, dir) = report(&["tests/fixtures/duplicates"], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains(
        "two folders resolve to the account id \"1111222233334444\": duplicates/team-a and duplicates/team-b"
    ), "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert_eq!(s["portfolio"]["accounts"], 1);
    assert_eq!(s["accounts"][0]["name"], "Team A");
    let m = json(dir.path(), "manifest.json");
    assert!(rejected_reason(&m, "team-b/policy.json").contains("duplicate account id"));
}

#[test]
fn several_roots_are_read_in_order() {
    let (out, dir) = report(&[Q, "tests/fixtures/layout"], &[]);
    assert_eq!(out.code, 2);
    let s = json(dir.path(), "summary.json");
    assert_eq!(s["portfolio"]["accounts"], 4);
}

// ---------------------------------------------------------------- exit codes and flags

#[test]
fn strict_writes_nothing_and_exits_2() {
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("out");
    let out = aliaudit(&["report", M, "-o", target.to_str().unwrap(), "--strict"]);
    assert_eq!(out.code, 2);
    assert!(!target.exists(), "strict mode wrote output");
    assert!(out.stderr.contains("nothing written"));
}

#[test]
fn fatal_problems_exit_1_with_a_hint() {
    let out = aliaudit(&["report", Q, "-o", "/tmp/x", "--as-of", "last friday"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("use YYYY-MM-DD"), "{}", out.stderr);
    let out = aliaudit(&["validate", "tests/fixtures/no-such-folder"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no-such-folder"), "{}", out.stderr);
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let out = aliaudit(&["report", Q, "-o", blocker.path().to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is not a folder"), "{}", out.stderr);
    let out = aliaudit(&["report", Q, "-o", "/tmp/x", "--jobs", "0"]);
    assert_eq!(out.code, 1);
}

#[test]
fn validate_prints_each_account_and_writes_nothing() {
    let out = aliaudit(&["validate", Q]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        // 59.2 on CIS v2.0.0 (the default): pwd.max_age_v1, a fail, is informational.
        out.stdout.contains("complete  score  59.2"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("harbour-bank/legacy"));
    assert!(
        out.stdout
            .contains("2 accounts (2 complete, 0 partial, 0 failed)")
    );
}

#[test]
fn a_rules_file_changes_thresholds_and_is_recorded_in_the_manifest() {
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(rules.path(), "[thresholds]\npassword_min_length = 10\n").unwrap();
    let (out, dir) = report(&[Q], &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert_eq!(
        control(account(&s, "harbour-bank/legacy"), "pwd.min_length")["status"],
        "pass"
    );
    let m = json(dir.path(), "manifest.json");
    assert_eq!(m["options"]["thresholds"]["password_min_length"], 10);
    // As `["<path>", "<sha256>"]`.
    use sha2::Digest;
    let text = std::fs::read(rules.path()).unwrap();
    assert_eq!(
        m["options"]["rules_file"],
        serde_json::json!([
            // Given by an absolute path: named by its file name, no path of this machine.
            rules.path().file_name().unwrap().to_str().unwrap(),
            hex::encode(sha2::Sha256::digest(&text))
        ])
    );
    std::fs::write(rules.path(), "[thresholds]\nminimum = 10\n").unwrap();
    let (bad, _) = report(&[Q], &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("unknown field `minimum`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn controls_lists_every_control_with_logic_and_mappings() {
    let out = aliaudit(&["controls"]);
    assert_eq!(out.code, 0);
    for id in [
        "root.no_recent_use",
        "pwd.max_age_v1",
        "pwd.max_age_v2",
        "pref.mfa_enforced",
        "spr.password_strength",
    ] {
        assert!(out.stdout.contains(id), "{id} missing");
    }
    assert!(
        out.stdout
            .contains("CIS v1.0.0 1.13 (not in v2.0.0 in this form)")
    );
    assert!(out.stdout.contains("MaxLoginAttemps is between 1 and 5"));
    let json_out = aliaudit(&["controls", "--format", "json"]);
    let v: Value = serde_json::from_str(&json_out.stdout).unwrap();
    assert_eq!(v["thresholds"]["access_key_rotation_days"], 90);
    assert!(v["controls"].as_array().unwrap().len() >= 28);
}

#[test]
fn sample_trees_are_deterministic_and_evaluate_cleanly() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        let out = aliaudit(&[
            "sample",
            "-o",
            dir.path().to_str().unwrap(),
            "--accounts",
            "8",
            "--seed",
            "7",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let (ra, oa) = report(&[a.path().to_str().unwrap()], &[]);
    assert_eq!(ra.code, 0, "{}", ra.stderr);
    let (_, ob) = report(&[b.path().to_str().unwrap()], &[]);
    let strip = |v: Value| {
        // The roots' names differ (two temporary folders); everything else must be equal.
        let name = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_string();
        let text = v.to_string();
        text.replace(&name(a.path()), "ROOT")
            .replace(&name(b.path()), "ROOT")
    };
    assert_eq!(
        strip(json(oa.path(), "summary.json")),
        strip(json(ob.path(), "summary.json"))
    );
    let s = json(oa.path(), "summary.json");
    assert_eq!(s["portfolio"]["accounts_complete"], 8);
}

#[test]
fn the_bundled_samples_report_cleanly() {
    let (out, dir) = report(&["samples"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = json(dir.path(), "summary.json");
    assert!(s["portfolio"]["accounts"].as_u64().unwrap() >= 6);
    let customers: std::collections::BTreeSet<&str> = s["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["customer"].as_str())
        .collect();
    assert!(customers.len() >= 2, "{customers:?}");
}

#[test]
fn leftovers_of_an_interrupted_run_are_removed() {
    let out = tempfile::tempdir().unwrap();
    let spill = out.path().join(".aliaudit-work-abc123");
    std::fs::create_dir_all(&spill).unwrap();
    std::fs::write(spill.join("0.spill"), "findings of an earlier run").unwrap();
    std::fs::create_dir_all(out.path().join("accounts")).unwrap();
    let half = out.path().join("accounts/.aliaudit-x1y2.tmp");
    std::fs::write(&half, "half a page").unwrap();
    let stale = out.path().join("accounts/closed-account.html");
    std::fs::write(&stale, "a page of an account that is gone").unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(["report", Q, "--quiet", "--format", "json", "-o"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success());
    assert!(!spill.exists(), "an old spill folder survived");
    assert!(!half.exists(), "a half-written file survived");
    assert!(!stale.exists(), "a page of an earlier run survived");
    // Nothing of this run is left behind either.
    let hidden: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn a_folder_holding_files_of_the_user_is_never_replaced() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("accounts")).unwrap();
    let mine = out.path().join("accounts/notes.txt");
    std::fs::write(&mine, "the user's own file").unwrap();
    let run = aliaudit(&[
        "report",
        Q,
        "--format",
        "json",
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("accounts/notes.txt"), "{}", run.stderr);
    assert!(
        run.stderr.contains("choose a new or empty folder"),
        "{}",
        run.stderr
    );
    assert!(mine.exists(), "a file of the user's was removed");
    assert!(!out.path().join("summary.json").exists());
}

/// The real binary run in `dir`.
fn aliaudit_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run aliaudit");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_project_file_holds_the_quarterly_settings_and_every_flag_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("audit");
    // `init` writes the commented example, once.
    let init = aliaudit_in(tmp.path(), &["init", "audit"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(init.stdout.contains("aliaudit.toml"), "{}", init.stdout);
    assert_eq!(aliaudit_in(tmp.path(), &["init", "audit"]).code, 1);
    let example = std::fs::read_to_string(project.join("aliaudit.toml")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quarters");
    let text = example
        .replace(
            "inputs = [\"evidence/2026-q4\"]",
            &format!("inputs = [\"{}\"]", fixtures.join("2026-q3").display()),
        )
        .replace("out = \"reports/2026-q4\"", "out = \"reports/q3\"")
        .replace(
            "formats = [\"json\", \"csv\", \"html\", \"pdf\"]",
            "formats = [\"json\"]",
        )
        .replace("lang = \"en\"\n# Ages", "lang = \"zh\"\n# Ages")
        .replace("# as_of = \"2026-12-31\"", "as_of = \"2026-09-30\"")
        .replace("# period = \"2026-Q4\"", "period = \"Q3 review\"")
        .replace("# benchmark = \"cis-v2\"", "benchmark = \"cis-v1\"");
    std::fs::write(project.join("aliaudit.toml"), &text).unwrap();

    // Run in the project's folder: everything comes from the file.
    let run = aliaudit_in(&project, &["report", "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let out = project.join("reports/q3");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["manifest.json", "summary.json"]);
    let m = json(&out, "manifest.json");
    assert_eq!(m["options"]["lang"], "zh");
    assert_eq!(m["as_of"], "2026-09-30T23:59:59Z");
    assert_eq!(m["options"]["benchmark"], "cis-v1");
    use sha2::Digest;
    assert_eq!(
        m["options"]["project_file"],
        serde_json::json!([
            "aliaudit.toml",
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        ])
    );
    assert_eq!(json(&out, "summary.json")["period"], "Q3 review");

    // From elsewhere with --config: paths are relative to the file; flags override it.
    let run = aliaudit_in(
        tmp.path(),
        &[
            "report",
            "-q",
            "--config",
            "audit/aliaudit.toml",
            "--lang",
            "en",
            "--benchmark",
            "cis-v2",
            "-o",
            "en",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let m = json(&tmp.path().join("en"), "manifest.json");
    assert_eq!(m["options"]["lang"], "en");
    assert_eq!(m["options"]["benchmark"], "cis-v2");
    assert_eq!(m["options"]["formats"], serde_json::json!(["json"]));

    // An unknown key is an error naming it and its line; nothing is written.
    std::fs::write(
        project.join("aliaudit.toml"),
        text.replace("[collect]", "[report.extra]\nlogo = 1\n[collect]"),
    )
    .unwrap();
    let bad = aliaudit_in(&project, &["report", "-q", "-o", "bad"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    let line = text.lines().position(|l| l == "[collect]").unwrap() + 1;
    assert!(
        bad.stderr.contains(&format!(
            "aliaudit.toml: line {line}, column 9: unknown field `extra`"
        )),
        "{}",
        bad.stderr
    );
    assert!(!project.join("bad").exists());

    // Without a project file or inputs, the error says where inputs can come from.
    let none = aliaudit_in(tmp.path(), &["report", "-o", "x"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no INPUT"), "{}", none.stderr);
}

/// The sandbox account of the samples: its password policy has MaxPasswordAge 90, which
/// meets CIS v1.0.0 1.13 and fails CIS v2.0.0 1.13.
fn sandbox(summary: &Value) -> &Value {
    summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["folder"].as_str().unwrap().ends_with("sandbox"))
        .unwrap()
}

#[test]
fn only_the_chosen_benchmark_version_is_scored() {
    let run = |extra: &[&str]| {
        let mut args = vec!["--as-of", "2026-09-30", "--format", "json,csv,html"];
        args.extend_from_slice(extra);
        let (out, dir) = report(&["samples/chens-foods"], &args);
        assert_ne!(out.code, 1, "{}", out.stderr);
        let summary = json(dir.path(), "summary.json");
        (summary, dir)
    };
    // The default, CIS v2.0.0: 1.13 v2 (365+ days or never) fails and is scored; 1.13 v1
    // passes and is informational.
    let (v2, v2_dir) = run(&[]);
    assert_eq!(v2["benchmark"]["id"], "cis-v2");
    assert_eq!(v2["benchmark"]["version"], "v2.0.0");
    // A control's status, whether it is scored, and the version it is informational for.
    let role = |a: &Value, id: &str| -> (Value, Value, Value) {
        let c = control(a, id);
        (
            c["status"].clone(),
            c["scored"].clone(),
            c["informational"].clone(),
        )
    };
    let a = sandbox(&v2);
    assert_eq!(
        role(a, "pwd.max_age_v2"),
        ("fail".into(), true.into(), Value::Null)
    );
    assert_eq!(
        role(a, "pwd.max_age_v1"),
        ("pass".into(), false.into(), "cis-v1".into())
    );
    let counted = |a: &Value| {
        let c = &a["counts"];
        [
            "pass",
            "fail",
            "excepted",
            "not_applicable",
            "not_evaluable",
        ]
        .map(|k| c[k].as_u64().unwrap())
    };
    // Not in the counts either (one result fewer than the controls listed).
    let listed = a["controls"].as_array().unwrap().len() as u64;
    assert_eq!(counted(a).iter().sum::<u64>(), listed - 1);
    assert_eq!(a["score"], SCORE_V2);
    assert_eq!(counted(a), COUNTS_V2);
    // Nor in the portfolio's roll-up.
    let rolled: Vec<&str> = v2["portfolio"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(rolled.contains(&"pwd.max_age_v2") && !rolled.contains(&"pwd.max_age_v1"));
    // The page says so, and names the benchmark.
    let page = std::fs::read_dir(v2_dir.path().join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().contains("sandbox"))
        .unwrap();
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("Informational: CIS v1.0.0, not scored"));
    assert!(!html.contains("Informational: CIS v2.0.0"));
    assert!(html.contains("Benchmark: CIS Alibaba Cloud Foundations Benchmark v2.0.0"));
    let csv = std::fs::read_to_string(v2_dir.path().join("findings.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",as_of,sources,scored")
    );
    let v1_rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",pwd.max_age_v1,"))
        .collect();
    assert!(!v1_rows.is_empty() && v1_rows.iter().all(|l| l.ends_with(",false")));

    // CIS v1.0.0: the opposite.
    let (v1, _dir) = run(&["--benchmark", "cis-v1"]);
    assert_eq!(v1["benchmark"]["id"], "cis-v1");
    let a = sandbox(&v1);
    assert_eq!(
        role(a, "pwd.max_age_v1"),
        ("pass".into(), true.into(), Value::Null)
    );
    assert_eq!(
        role(a, "pwd.max_age_v2"),
        ("fail".into(), false.into(), "cis-v2".into())
    );
    assert_eq!(a["score"], SCORE_V1);
    assert_eq!(counted(a), COUNTS_V1);
}

#[test]
fn the_benchmark_version_comes_from_the_flag_then_the_rules_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "benchmark = \"cis-v1\"\n").unwrap();
    let rules = rules.to_str().unwrap();
    let chosen = |extra: &[&str]| {
        let mut args = vec![
            "--as-of",
            "2026-09-30",
            "--format",
            "json",
            "--rules",
            rules,
        ];
        args.extend_from_slice(extra);
        let (out, dir) = report(&["samples/chens-foods"], &args);
        assert_ne!(out.code, 1, "{}", out.stderr);
        let summary = json(dir.path(), "summary.json");
        let manifest = json(dir.path(), "manifest.json");
        assert_eq!(summary["benchmark"]["id"], manifest["options"]["benchmark"]);
        (
            summary["benchmark"]["id"].as_str().unwrap().to_string(),
            sandbox(&summary)["score"].clone(),
        )
    };
    assert_eq!(chosen(&[]), ("cis-v1".to_string(), SCORE_V1.into()));
    assert_eq!(
        chosen(&["--benchmark", "cis-v2"]),
        ("cis-v2".to_string(), SCORE_V2.into())
    );
    // validate takes the flag too: the sandbox line shows the v1 score.
    let v = aliaudit(&[
        "validate",
        "samples/chens-foods",
        "--as-of",
        "2026-09-30",
        "--benchmark",
        "cis-v1",
    ]);
    assert_ne!(v.code, 1, "{}", v.stderr);
    assert!(
        v.stdout.contains(&format!("score {SCORE_V1:>5.1}")),
        "{}",
        v.stdout
    );
}

#[test]
fn an_unknown_benchmark_version_exits_1_naming_the_accepted_ones() {
    let out = aliaudit(&["validate", "samples", "--benchmark", "cis-v3"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("'cis-v3'")
            && out.stderr.contains("cis-v2")
            && out.stderr.contains("cis-v1"),
        "{}",
        out.stderr
    );
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "benchmark = \"v2\"\n").unwrap();
    let out = aliaudit(&["validate", "samples", "--rules", rules.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("rules.toml")
            && out.stderr.contains("`cis-v2`")
            && out.stderr.contains("`cis-v1`"),
        "{}",
        out.stderr
    );
}

/// The sandbox account's score and counts (pass, fail, excepted, not applicable, not
/// evaluable) under each benchmark version: 1.13 moves one low-severity result between pass
/// and fail.
const SCORE_V2: f64 = 48.6;
const COUNTS_V2: [u64; 5] = [16, 20, 0, 0, 2];
const SCORE_V1: f64 = 50.0;
const COUNTS_V1: [u64; 5] = [17, 19, 0, 0, 2];

#[test]
fn every_link_inside_a_page_has_its_target_and_findings_link_to_evidence_and_logic() {
    let (out, dir) = report(&["samples"], &["--format", "html"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(dir.path()) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|x| x != "html") {
            continue;
        }
        let page = std::fs::read_to_string(entry.path()).unwrap();
        for part in page.split("href=\"#").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            assert!(
                page.contains(&format!("id=\"{target}\"")),
                "{}: #{target} leads nowhere",
                entry.path().display()
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    let account =
        std::fs::read_to_string(dir.path().join("accounts/9208642287660594.html")).unwrap();
    assert!(account.contains("href=\"#ev-c-ram-console_mfa\""));
    assert!(account.contains("href=\"#l-ram-console_mfa\""));
}
