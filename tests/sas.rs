//! Security Center results: a check in both APIs is one result; affected resources are named;
//! titles are in the report language (fixture `tests/fixtures/sas-once`).
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

fn report(lang: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    common::report(
        "tests/fixtures/sas-once",
        out.path(),
        &["--lang", lang, "--format", "html,json,csv"],
        common::FINISHED,
    );
    out
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn account_html(dir: &Path) -> String {
    let pages: Vec<_> = std::fs::read_dir(dir.join("accounts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    assert_eq!(pages.len(), 1);
    std::fs::read_to_string(&pages[0]).unwrap()
}

#[test]
fn a_check_in_both_apis_is_one_result_citing_both_files() {
    let out = report("en");
    let summary: serde_json::Value =
        serde_json::from_str(&read(out.path(), "summary.json")).unwrap();
    let account = &summary["accounts"][0];
    let controls = account["controls"].as_array().unwrap();
    let sas: Vec<&str> = controls
        .iter()
        .filter(|c| c["section"] == "security_center")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // Item 12 and check 401 are one result; item 3 is the built-in root.mfa's.
    assert_eq!(sas, ["sas.12", "sas.42", "sas.90", "sas.cspm.402"]);
    // Counts: fails are sas.12 and sas.42 only (each once); passes include root.mfa
    // (decided by item 3), sas.90 and sas.cspm.402.
    assert_eq!(account["counts"]["fail"], 2);
    assert_eq!(account["counts"]["pass"], 3);
    // Score: pass high 3 (root.mfa) + low 1 (sas.90) + low 1 (cspm.402) = 5 over 5 + high 3
    // (sas.12) + medium 2 (sas.42) = 10: 50.0. With sas.cspm.401 counted too it would be
    // 5 / 13.
    assert_eq!(account["score"], 50.0);
    let merged = controls.iter().find(|c| c["id"] == "sas.12").unwrap();
    assert_eq!(merged["status"], "fail");
    let sources: Vec<(String, String)> = merged["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // (Paths as every output writes evidence paths; the file names are what matter here.)
    assert_eq!(sources.len(), 2);
    assert!(sources[0].0.ends_with("lakeside-retail/risk.json"));
    assert_eq!(sources[0].1, "List[0]");
    assert!(sources[1].0.ends_with("lakeside-retail/checks.json"));
    assert_eq!(sources[1].1, "Checks[0]");
    // The built-in control cites the Security Center item behind it.
    let root = controls.iter().find(|c| c["id"] == "root.mfa").unwrap();
    assert_eq!(root["status"], "pass");
    assert_eq!(root["resources"][0]["id"], "<root>");
    assert_eq!(root["sources"][0]["field"], "List[2]");
    // The portfolio tallies each check once.
    let tallies = summary["portfolio"]["controls"].as_array().unwrap();
    assert!(
        tallies
            .iter()
            .all(|c| c["id"] != "sas.cspm.401" && c["id"] != "sas.3")
    );

    let html = account_html(out.path());
    assert!(html.contains("Security Center ListCheckResult check 401, status NOT_PASS"));
    assert!(html.contains("lakeside-retail/checks.json (Checks[0])</span>"));
    assert!(!html.contains("sas.cspm.401"));
    let csv = read(out.path(), "findings.csv");
    let row = csv.lines().find(|l| l.contains(",sas.12,")).unwrap();
    assert!(
        row.contains("lakeside-retail/checks.json (Checks[0])"),
        "{row}"
    );
}

#[test]
fn affected_resources_are_named_in_html_csv_and_json() {
    let out = report("en");
    let summary: serde_json::Value =
        serde_json::from_str(&read(out.path(), "summary.json")).unwrap();
    let controls = summary["accounts"][0]["controls"].as_array().unwrap();
    let merged = controls.iter().find(|c| c["id"] == "sas.12").unwrap();
    let names: Vec<&str> = merged["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ledger-archive", "pos-exports"]);
    assert_eq!(
        merged["resources"][1]["field"],
        "List[0].RiskItemResources[1].ContentResource.values[1]"
    );
    assert_eq!(
        merged["resources"][1]["detail"],
        "地域: cn-beijing; 风险描述: public-read-write"
    );
    assert_eq!(
        merged["detail"],
        "Security Center: failed; 3 affected, the evidence names 2 (listed below)"
    );
    let unnamed = controls.iter().find(|c| c["id"] == "sas.42").unwrap();
    assert_eq!(
        unnamed["detail"],
        "Security Center: failed; 3 affected, the evidence names none"
    );
    assert_eq!(unnamed["resources"][0]["id"], "");

    let csv = read(out.path(), "findings.csv");
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains(",sas.12,")).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].contains(",ledger-archive,fail,"), "{}", rows[0]);
    assert!(rows[1].contains(",pos-exports,fail,"), "{}", rows[1]);

    let html = account_html(out.path());
    assert!(html.contains(r#"<td class="id">ledger-archive</td>"#));
    assert!(html.contains(r#"<td class="id">pos-exports</td>"#));
    assert!(html.contains("(no resource named)"));
}

#[test]
fn titles_are_in_the_report_language_and_unknown_ones_are_marked() {
    let en = account_html(report("en").path());
    // Collected in Chinese, shown in English; the unknown one keeps its title, marked.
    assert!(en.contains("OSS - bucket permissions<br>"));
    assert!(!en.contains("OSS-Bucket权限"));
    assert!(en.contains("自营-门店网络分区检查 (original Chinese title)"));
    assert!(en.contains("ECS - disk encryption"));
    // The executive page's risks and actions too, once each.
    assert_eq!(
        en.matches("Resolve the Security Center finding: OSS - bucket permissions.")
            .count(),
        1
    );

    let zh = account_html(report("zh").path());
    // Collected in English, shown in Chinese.
    assert!(zh.contains("SLB-访问日志配置<br>"));
    assert!(zh.contains("ECS-磁盘加密"));
    assert!(!zh.contains("SLB - access log configurations"));
    assert!(zh.contains("OSS-Bucket权限"));
    // Chinese in a Chinese report needs no mark.
    assert!(zh.contains("自营-门店网络分区检查<br>"));
}

/// `report --format json` over `tests/fixtures/sas-standards` with `--jobs N`.
fn standards_report(jobs: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    common::report(
        "tests/fixtures/sas-standards",
        out.path(),
        &["--jobs", jobs, "--format", "json"],
        common::FINISHED,
    );
    out
}

/// A requirement as (id, name, status, tally, check ids).
type Row<'a> = (i64, &'a str, &'a str, [u64; 4], Vec<i64>);

/// `[pass, fail, accepted, not_checked]` of a tally.
fn tally(v: &serde_json::Value) -> [u64; 4] {
    ["pass", "fail", "accepted", "not_checked"].map(|k| v[k].as_u64().unwrap())
}

#[test]
fn security_center_standards_roll_up_from_paged_check_policies_and_the_catalogue() {
    let one = standards_report("1");
    let four = standards_report("4");
    let text = read(one.path(), "summary.json");
    assert_eq!(text, read(four.path(), "summary.json"));
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(summary["diagnostics"].as_array().unwrap().is_empty());
    let manifest: serde_json::Value =
        serde_json::from_str(&read(one.path(), "manifest.json")).unwrap();
    let kinds: Vec<(&str, &str, &str)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().contains("lakeview-prod/check-"))
        .map(|f| {
            (
                f["path"].as_str().unwrap().rsplit('/').next().unwrap(),
                f["kind"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("check-result-p001.json", "sas_check_result", "used"),
            ("check-result-p002.json", "sas_check_result", "used"),
            ("check-result-p003.xml", "sas_check_result", "used"),
            ("check-standards.json", "sas_check_standards", "used"),
            ("check-structure.json", "sas_check_structure", "used"),
        ]
    );

    let prod = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Lakeview Prod")
        .unwrap();
    let v = &prod["vendor_standards"];
    // The evidence date: the newest LastCheckTime (page 3, 1791000600000 ms).
    assert_eq!(v["checked"], "2026-10-03T04:10:00Z");
    assert_eq!(v["files"].as_array().unwrap().len(), 5);
    let standards = v["standards"].as_array().unwrap();
    let names: Vec<(i64, &str, &str)> = standards
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (31, "Lakeview Identity Baseline", "fail"),
            (32, "Lakeview Network Baseline", "not_checked")
        ]
    );
    let identity = &standards[0];
    // Each check once: 5001 and 5006 pass, 5002 and 5004 fail, 5003 accepted, 5005 not
    // checked (5001's older NOT_PASS on page 2 loses to its newer PASS).
    assert_eq!(tally(&identity["checks"]), [2, 2, 1, 1]);
    assert_eq!(tally(&identity["requirements_by_status"]), [1, 2, 0, 1]);
    let requirements: Vec<Row> = identity["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["name"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                tally(&r["checks"]),
                r["check_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_i64().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        requirements,
        [
            (
                311,
                "Console sign-in",
                "fail",
                [1, 1, 0, 1],
                vec![5001, 5002, 5005]
            ),
            (
                312,
                "Key hygiene",
                "fail",
                [0, 2, 1, 0],
                vec![5002, 5003, 5004]
            ),
            (313, "Audit trail", "not_checked", [0, 0, 0, 0], vec![]),
            (314, "Password policy", "pass", [1, 0, 0, 0], vec![5006]),
        ]
    );
    // Sections: from the checks and the catalogue (313's only section has no result).
    let sections: Vec<(&str, &str)> = identity["requirements"][1]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(sections, [("Rotation", "fail"), ("Root keys", "fail")]);
    assert_eq!(
        identity["requirements"][2]["sections"][0]["status"],
        "not_checked"
    );
    let network = &standards[1]["requirements"][0];
    assert_eq!(
        (&network["name"], &network["status"]),
        (&"Ingress".into(), &"not_checked".into())
    );

    // The portfolio: accounts per state of each standard and requirement. In dev, id 311
    // with another name is another requirement.
    let portfolio = summary["portfolio"]["vendor_standards"].as_array().unwrap();
    let rows: Vec<(i64, &str, [u64; 4])> = portfolio
        .iter()
        .flat_map(|s| {
            std::iter::once((
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap(),
                tally(&s["accounts"]),
            ))
            .chain(s["requirements"].as_array().unwrap().iter().map(|r| {
                (
                    r["id"].as_i64().unwrap(),
                    r["name"].as_str().unwrap(),
                    tally(&r["accounts"]),
                )
            }))
        })
        .collect();
    assert_eq!(
        rows,
        [
            (31, "Lakeview Identity Baseline", [0, 2, 0, 0]),
            (311, "Console sign-in", [0, 2, 0, 0]),
            (311, "Console sign-in (legacy)", [1, 0, 0, 0]),
            (312, "Key hygiene", [0, 1, 0, 0]),
            (313, "Audit trail", [0, 0, 0, 1]),
            (314, "Password policy", [1, 0, 0, 0]),
            (32, "Lakeview Network Baseline", [0, 0, 0, 1]),
            (321, "Ingress", [0, 0, 0, 1]),
        ]
    );
}

#[test]
fn accounts_without_vendor_standards_have_no_block() {
    let out = report("en");
    let summary: serde_json::Value =
        serde_json::from_str(&read(out.path(), "summary.json")).unwrap();
    assert!(summary["accounts"][0].get("vendor_standards").is_none());
    assert!(summary["portfolio"].get("vendor_standards").is_none());
    assert!(!account_html(out.path()).contains("sc-standards"));
    assert!(!read(out.path(), "index.html").contains("sc-standards"));
}

/// The HTML of the account page whose file name contains `id`.
fn page_of(dir: &Path, id: &str) -> String {
    read(&dir.join("accounts"), &format!("{id}.html"))
}

/// The table rows of the section's standard `anchor` (`sc-1`...), each as its cells' text
/// with the tags removed, ` | ` between cells.
fn standard_rows(html: &str, anchor: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"t-{anchor}\""))
        .unwrap_or_else(|| panic!("no table {anchor}"));
    let body = &html[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            // Cells open with `<td` or `<th`; a line break inside one reads as a space.
            row.replace("<br>", " ")
                .split("<t")
                .filter(|part| part.starts_with('d') || part.starts_with('h'))
                .map(|cell| {
                    let mut text = String::new();
                    let mut in_tag = false;
                    for ch in cell[cell.find('>').unwrap() + 1..].chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_string()
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

#[test]
fn the_security_center_standards_section_shows_requirements_accounts_and_the_evidence_date() {
    let out = tempfile::tempdir().unwrap();
    common::report(
        "tests/fixtures/sas-standards",
        out.path(),
        &[],
        common::FINISHED,
    );
    let prod = page_of(out.path(), "1700000000000311");
    assert!(prod.contains("<h2 id=\"h-sc-standards\">Security Center standards</h2>"));
    assert!(prod.contains("<a href=\"#sc-standards\">Security Center standards</a>"));
    assert!(
        prod.contains("Evidence date: the newest Security Center check in this evidence ran on 2026-10-03 04:10 UTC;")
    );
    assert!(prod.contains("Lakeview Identity Baseline (id 31)"));
    let rows = standard_rows(&prod, "sc-1");
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert!(rows[0].starts_with("311 | Console sign-in"), "{}", rows[0]);
    assert!(
        rows[0].contains("Fail | 1 pass, 1 fail, 1 not checked Check ids: 5001, 5002, 5005"),
        "{}",
        rows[0]
    );
    assert!(rows[2].starts_with("313 | Audit trail"), "{}", rows[2]);
    assert!(
        rows[2].contains("Not checked | no result | -"),
        "{}",
        rows[2]
    );
    assert_eq!(
        standard_rows(&prod, "sc-2"),
        ["321 | Ingress | Not checked | no result | -"]
    );

    let index = read(out.path(), "index.html");
    assert!(index.contains("2 of 2 accounts have Security Center standards in their evidence."));
    // Requirement 311 has two names in the portfolio: both rows, and a note saying why.
    assert!(index.contains("Requirement 311 appears under more than one name"));
    assert!(!prod.contains("appear under more than one name"));
    let rows = standard_rows(&index, "sc-1");
    assert_eq!(
        rows,
        [
            "311 | Console sign-in | Fail | 2 failing, of the 2 accounts reporting it",
            "311 | Console sign-in (legacy) | Pass | 1 passing, of the 1 account reporting it",
            "312 | Key hygiene | Fail | 1 failing, of the 1 account reporting it",
            "313 | Audit trail | Not checked | 1 not checked, of the 1 account reporting it",
            "314 | Password policy | Pass | 1 passing, of the 1 account reporting it",
        ]
    );

    let pdf = out.path().join("accounts/1700000000000311.pdf");
    if let Some(text) = common::pdf_text(&pdf, &[]) {
        let at = text
            .find("Security Center standards\n")
            .expect("the section in the PDF");
        let section = &text[at..];
        for expected in [
            "Evidence date: the newest Security Center check in this evidence ran on 2026-10-03 04:10 UTC;",
            "Result: Fail. Type: Compliance.",
            "Audit trail",
            "Ingress",
        ] {
            assert!(section.contains(expected), "{expected:?} not in {section}");
        }
    }
    let portfolio = common::pdf_text(&out.path().join("portfolio.pdf"), &[]);
    if let Some(text) = portfolio {
        assert!(text.contains("2 failing, of the 2 accounts"), "{text}");
    }

    let zh = tempfile::tempdir().unwrap();
    common::report(
        "tests/fixtures/sas-standards",
        zh.path(),
        &["--lang", "zh"],
        common::FINISHED,
    );
    let prod = page_of(zh.path(), "1700000000000311");
    assert!(prod.contains(">云安全中心标准</h2>"));
    assert!(prod.contains("证据日期：本证据中云安全中心最近一次检查于 2026-10-03 04:10 UTC"));
    assert_eq!(
        standard_rows(&prod, "sc-2"),
        ["321 | Ingress | 未检查 | 无结果 | -"]
    );
    if let Some(text) = common::pdf_text(&zh.path().join("accounts/1700000000000311.pdf"), &[]) {
        assert!(text.contains("云安全中心标准"));
        assert!(text.contains("结果：未通过。类型：安全合规。"), "{text}");
    }
}
