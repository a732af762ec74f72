//! PDF reports read back with poppler (`pdftotext`, `pdffonts`, `pdfinfo`; `.ci/run`
//! installs poppler-utils): text, fonts, pages, outline, metadata, size, repeatability.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

mod common;
use common::{FINISHED, report};

fn aliaudit(args: &[&str]) -> std::process::Output {
    Command::new(common::binary())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Whether poppler is installed; without it (and outside CI) the PDF tests say SKIPPED.
fn have_poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI needs poppler-utils");
        eprintln!("SKIPPED: no poppler (apt-get install poppler-utils)");
    }
    found
}

fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed for the PDF tests (apt-get install poppler-utils): {e}")
    });
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn account_pdf_text_fonts_pages_outline_and_metadata() {
    if !have_poppler() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    report(
        "tests/fixtures/cjk",
        out.path(),
        &["--format", "pdf"],
        FINISHED,
    );
    let pdf = out.path().join("accounts/2233445566778899.pdf");
    let path = pdf.to_str().unwrap();

    let text = poppler("pdftotext", &["-layout", path, "-"]);
    for needle in [
        "华东生产账号",
        "华东物流集团",
        "张伟@huadong.onaliyun.com",
        "Page 1 of",
        "Executive summary",
        "Evidence manifest",
        "OSS-Bucket",
    ] {
        assert!(text.contains(needle), "{needle} missing from the PDF text");
    }
    // The failing user is listed with the reason, as evidence.
    let line = text
        .lines()
        .find(|l| l.contains("张伟@huadong.onaliyun.com"))
        .unwrap();
    assert!(text.contains("console access without MFA"), "{line}");

    let info = poppler("pdfinfo", &[path]);
    assert!(
        info.contains("Title:           Compliance report: 华东生产账号"),
        "{info}"
    );
    assert!(info.contains("Author:          aliaudit"), "{info}");
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    // The creation date is the as-of instant (Sas CheckTime 1790300000000 ms), not the clock.
    assert!(
        info.contains("CreationDate:    Fri Sep 25 01:33:20 2026 UTC"),
        "{info}"
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 6, "{pages} pages");
    assert!(text.contains(&format!("Page {pages} of {pages}")));

    let fonts = poppler("pdffonts", &[path]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "font not embedded and subset: {row}"
        );
        assert!(row.contains("NotoSansCJKsc"), "{row}");
    }

    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        bytes.windows(9).any(|w| w == b"/Outlines"),
        "no document outline"
    );
}

#[test]
fn pdfs_repeat_byte_for_byte_and_portfolio_and_customer_pdfs_exist() {
    if !have_poppler() {
        return;
    }
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    report(
        "tests/fixtures/cjk",
        a.path(),
        &["--format", "pdf"],
        FINISHED,
    );
    // The account has no practice report: partial (exit 2).
    report(
        "tests/fixtures/cjk",
        b.path(),
        &["--format", "pdf", "--jobs", "1"],
        &[2],
    );
    let customer = walkdir::WalkDir::new(a.path().join("customers"))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.file_type().is_file())
        .unwrap();
    let customer = format!("customers/{}", customer.file_name().to_string_lossy());
    for name in [
        "portfolio.pdf",
        customer.as_str(),
        "accounts/2233445566778899.pdf",
    ] {
        let x = std::fs::read(a.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let y = std::fs::read(b.path().join(name)).unwrap();
        assert!(x == y, "{name} differs between two runs");
    }
    let portfolio = poppler(
        "pdftotext",
        &[a.path().join("portfolio.pdf").to_str().unwrap(), "-"],
    );
    assert!(
        portfolio.contains("PORTFOLIO COMPLIANCE REPORT") && portfolio.contains("华东生产账号")
    );
    // The ranking links each account to its own PDF, relative to the linking file.
    let urls = poppler(
        "pdfinfo",
        &["-url", a.path().join("portfolio.pdf").to_str().unwrap()],
    );
    assert!(urls.contains("accounts/2233445566778899.pdf"), "{urls}");
    // The customer PDF is mailed on its own: it links to no other file.
    let urls = poppler(
        "pdfinfo",
        &["-url", a.path().join(&customer).to_str().unwrap()],
    );
    assert!(!urls.contains(".pdf") && !urls.contains(".html"), "{urls}");
}

#[test]
fn a_300_user_account_pdf_stays_under_one_megabyte_and_25_pages_with_capped_controls() {
    if !have_poppler() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let o = aliaudit(&[
        "sample",
        "-o",
        tree.path().to_str().unwrap(),
        "--accounts",
        "1",
        "--users",
        "300",
        "--seed",
        "3",
    ]);
    assert!(o.status.success());
    let out = tempfile::tempdir().unwrap();
    report(
        tree.path().to_str().unwrap(),
        out.path(),
        &["--format", "pdf,csv"],
        FINISHED,
    );
    let pdf = walkdir::WalkDir::new(out.path().join("accounts"))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .unwrap();
    let size = pdf.metadata().unwrap().len();
    let summary = poppler("pdfinfo", &[pdf.path().to_str().unwrap()]);
    let pages: usize = summary
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eprintln!("300-user account PDF: {size} bytes, {pages} pages");
    assert!(size < 1_000_000, "{size} bytes");
    assert!(pages < 25, "{pages} pages");

    // ram.console_mfa checks every console user: more than the cap, so the PDF shows 25 rows and
    // counts the rest, with the failing ones among them, as findings.csv has them.
    let csv = std::fs::read_to_string(out.path().join("findings.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (control, status, resource) = (
        col("control_id"),
        col("resource_status"),
        col("resource_id"),
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[control] == "ram.console_mfa" && !r[resource].is_empty())
        .collect();
    let failing = rows.iter().filter(|r| &r[status] == "fail").count();
    let not_passing = rows.iter().filter(|r| &r[status] != "pass").count();
    assert!(rows.len() > 25, "{} rows", rows.len());
    let more = rows.len() - 25;
    // Every row not passing is failing here, and failing rows come first.
    assert_eq!(not_passing, failing);
    let more_failing = failing.saturating_sub(25);
    let text = poppler("pdftotext", &[pdf.path().to_str().unwrap(), "-"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = format!(
        "{more} more rows ({more_failing} failing) are in the attached findings.csv and in the HTML report."
    );
    assert!(text.contains(&line), "no \"{line}\"");
    assert!(text.contains("Source: "), "no source caption");
}

#[test]
fn characters_missing_from_the_embedded_font_come_from_font_or_system_fonts_or_are_reported() {
    if !have_poppler() {
        return;
    }
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if !dejavu.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs fonts-dejavu-core"
        );
        eprintln!(
            "SKIPPED: no {} (apt-get install fonts-dejavu-core)",
            dejavu.display()
        );
        return;
    }
    // A snowman (not in the GB2312 subset, in DejaVu Sans) and a private-use character no
    // font has.
    let tree = tempfile::tempdir().unwrap();
    let acct = tree.path().join("snow");
    std::fs::create_dir_all(&acct).unwrap();
    std::fs::write(
        acct.join("cr.csv"),
        "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used\n<root>,2016-01-01T00:00:00Z,-,TRUE,N/A,N/A,N/A,TRUE,FALSE,N/A,N/A,N/A\nsnow\u{2603}man\u{10FFFD}@x.onaliyun.com,2020-01-01T00:00:00Z,2026-01-01T00:00:00Z,TRUE,TRUE,N/A,-,FALSE,FALSE,N/A,N/A,N/A\n",
    )
    .unwrap();
    let input = tree.path().to_str().unwrap();
    for extra in [&[][..], &["--font", dejavu.to_str().unwrap()][..]] {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec![
            "report",
            input,
            "-o",
            out.path().to_str().unwrap(),
            "--format",
            "pdf",
        ];
        args.extend_from_slice(extra);
        let o = aliaudit(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("1 characters are not in the embedded font")
                && stderr.contains('\u{10FFFD}'),
            "{extra:?}: {stderr}"
        );
        let pdf = out.path().join("accounts/snow.pdf");
        let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
        if extra.is_empty() {
            // Some system font drew it (which one depends on the machine's fonts).
            let others = fonts
                .lines()
                .skip(2)
                .filter(|l| !l.contains("NotoSansCJKsc"))
                .count();
            assert!(others >= 1, "no system font embedded: {fonts}");
        } else {
            // --font comes before the system's fonts.
            assert!(fonts.contains("DejaVuSans"), "{extra:?}: {fonts}");
        }
        let text = poppler("pdftotext", &[pdf.to_str().unwrap(), "-"]);
        assert!(
            text.contains("snow\u{2603}man"),
            "the fallback glyph is real text"
        );
    }
    let bad = aliaudit(&[
        "report",
        input,
        "-o",
        tree.path().join("o").to_str().unwrap(),
        "--format",
        "pdf",
        "--font",
        "Cargo.toml",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("--font Cargo.toml: not a TrueType or OpenType font")
    );
}

#[test]
fn system_fonts_are_the_folders_fontconfig_names() {
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if !have_poppler() || !dejavu.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs fonts-dejavu-core"
        );
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("in/snow")).unwrap();
    std::fs::write(
        tree.path().join("in/snow/cr.csv"),
        "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used\n<root>,2016-01-01T00:00:00Z,-,TRUE,N/A,N/A,N/A,TRUE,FALSE,N/A,N/A,N/A\nsnow\u{2603}man@x.onaliyun.com,2020-01-01T00:00:00Z,2026-01-01T00:00:00Z,TRUE,TRUE,N/A,-,FALSE,FALSE,N/A,N/A,N/A\n",
    )
    .unwrap();
    // One folder holding DejaVu Sans (regular only), one holding nothing.
    let one = tree.path().join("one-font");
    let none = tree.path().join("no-fonts");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&none).unwrap();
    std::fs::copy(dejavu, one.join("only.ttf")).unwrap();
    let run = |dir: &Path, name: &str| {
        let config = tree.path().join(format!("{name}.conf"));
        std::fs::write(
            &config,
            format!(
                "<?xml version=\"1.0\"?>\n<fontconfig><dir>{}</dir></fontconfig>\n",
                dir.display()
            ),
        )
        .unwrap();
        let out = tree.path().join(name);
        let o = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
            .args(["report", "in", "-o", name, "--format", "pdf"])
            .current_dir(tree.path())
            .env("FONTCONFIG_FILE", &config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(matches!(o.status.code(), Some(0 | 2)), "{stderr}");
        let pdf = out.join("accounts/snow.pdf");
        (poppler("pdffonts", &[pdf.to_str().unwrap()]), stderr)
    };
    // Only the configured folder is searched: the snowman comes from its one font, even in
    // bold (the machine's DejaVuSans-Bold is not looked at).
    let (fonts, stderr) = run(&one, "one");
    let names: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.contains("NotoSansCJKsc"))
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.ends_with("+DejaVuSans")),
        "{fonts}"
    );
    assert!(!stderr.contains("not in the embedded font"), "{stderr}");
    // A folder without fonts: nothing draws the snowman, and the run says so.
    let (fonts, stderr) = run(&none, "none");
    assert!(
        fonts.lines().skip(2).all(|l| l.contains("NotoSansCJKsc")),
        "{fonts}"
    );
    assert!(
        stderr.contains("1 characters are not in the embedded font") && stderr.contains('\u{2603}'),
        "{stderr}"
    );
}

/// The executive page comes right after the cover in the PDF and at the top of the HTML:
/// the verdict, the rating, the score with its coverage and the action table.
#[test]
fn executive_page_follows_the_cover_with_verdict_and_actions() {
    let out = tempfile::tempdir().unwrap();
    report(
        "samples",
        &out.path().join("r"),
        &["--as-of", "2026-09-30"],
        FINISHED,
    );
    let pdf = out.path().join("r/accounts/9208642287660594.pdf");
    let Some(text) = common::pdf_text(&pdf, &["-f", "2", "-l", "2"]) else {
        return;
    };
    let verdict = "Verdict: Acme Retail - prod has 2 console users without MFA";
    assert!(text.contains(verdict), "{text}");
    for words in [
        "Rating",
        "Poor",
        // CIS v2.0.0 (the default) scored: pwd.max_age_v1, a fail here, is informational;
        // three Security Center items duplicate built-in controls: counted once, with those.
        "64.3 on 36 of 40 controls",
        "Top risks",
        "Actions",
        "What to do",
        "Where",
        "Owner",
        "Due",
        "2026-10-14",
        "security@acme-",
    ] {
        assert!(text.contains(words), "page 2 lacks {words}: {text}");
    }
    let html =
        std::fs::read_to_string(out.path().join("r/accounts/9208642287660594.html")).unwrap();
    assert!(html.contains(&verdict["Verdict: ".len()..]));
    assert!(html.contains("<table class=\"data\" id=\"actions\">"));
    assert!(html.find("id=\"executive\"") < html.find("id=\"summary\""));
    let index = std::fs::read_to_string(out.path().join("r/index.html")).unwrap();
    assert!(index.contains("5 of 6 accounts have console users without MFA"));
}

/// `pdfinfo` of `path`, `-meta` (the XMP) or `-url` (link targets) when `flag` says so.
fn pdfinfo(flag: Option<&str>, path: &Path) -> String {
    let mut args: Vec<&str> = flag.into_iter().collect();
    args.push(path.to_str().unwrap());
    poppler("pdfinfo", &args)
}

/// The files embedded in `pdf`, by name, as `pdfdetach -saveall` gives them back.
fn embedded(pdf: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let list = poppler("pdfdetach", &["-list", pdf.to_str().unwrap()]);
    poppler(
        "pdfdetach",
        &[
            "-saveall",
            "-o",
            dir.path().to_str().unwrap(),
            pdf.to_str().unwrap(),
        ],
    );
    let files: std::collections::BTreeMap<String, Vec<u8>> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    for name in files.keys() {
        assert!(list.contains(name.as_str()), "{name} not listed: {list}");
    }
    files
}

/// The lines of `findings.csv` (CRLF-terminated) whose first cell is one of `ids`, after
/// the header.
fn rows_of(csv: &str, ids: &[&str]) -> String {
    let mut lines = csv.split_inclusive("\r\n");
    let mut out = lines.next().unwrap().to_string();
    for line in lines {
        if ids.iter().any(|id| line.starts_with(&format!("{id},"))) {
            out.push_str(line);
        }
    }
    out
}

#[test]
fn pdfs_are_tagged_pdf_a_3b_and_ua_1_with_the_manifest_and_their_findings_embedded() {
    if !have_poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let o = aliaudit(&["sample", "-o", tree.to_str().unwrap(), "--accounts", "6"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = |out: &Path, lang: &str| {
        report(
            tree.to_str().unwrap(),
            out,
            &[
                "--format",
                "json,csv,pdf",
                "--as-of",
                "2026-12-31",
                "--lang",
                lang,
            ],
            FINISHED,
        );
    };
    let out = dir.path().join("out");
    run(&out, "en");
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    let csv = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let accounts = summary["accounts"].as_array().unwrap();
    let id_of = |a: &serde_json::Value| a["id"].as_str().unwrap().to_string();
    let account = &accounts[0];
    let account_id = id_of(account);
    let customer = account["customer"].as_str().unwrap().to_string();
    let members: Vec<String> = accounts
        .iter()
        .filter(|a| a["customer"].as_str() == Some(customer.as_str()))
        .map(id_of)
        .collect();
    assert!(
        members.len() < accounts.len(),
        "the sample has several customers"
    );
    let find = |folder: &str, id: Option<&str>| -> std::path::PathBuf {
        walkdir::WalkDir::new(out.join(folder))
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
            .find(|p| {
                id.is_none_or(|id| poppler("pdftotext", &[p.to_str().unwrap(), "-"]).contains(id))
            })
            .unwrap()
    };
    let account_pdf = out.join(format!("accounts/{account_id}.pdf"));
    let customer_pdf = find("customers", Some(&members[0]));
    let portfolio_pdf = out.join("portfolio.pdf");
    let manifest_json: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    for (pdf, ids) in [
        (&account_pdf, vec![account_id.clone()]),
        (&customer_pdf, members.clone()),
        (&portfolio_pdf, accounts.iter().map(id_of).collect()),
    ] {
        let info = pdfinfo(None, pdf);
        assert!(
            info.contains("Tagged:          yes"),
            "{}: {info}",
            pdf.display()
        );
        let meta = pdfinfo(Some("-meta"), pdf);
        assert!(meta.contains("<pdfaid:part>3</pdfaid:part>"), "{meta}");
        assert!(
            meta.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "{meta}"
        );
        assert!(meta.contains("<pdfuaid:part>1</pdfuaid:part>"), "{meta}");
        let files = embedded(pdf);
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["findings.csv", "manifest.json"],
            "{}",
            pdf.display()
        );
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(
            String::from_utf8(files["findings.csv"].clone()).unwrap(),
            rows_of(&csv, &ids),
            "{}",
            pdf.display()
        );
        // The manifest: the run's, with the files of the PDF's accounts.
        let embedded: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let mut expected = manifest_json.clone();
        let mine: Vec<serde_json::Value> = expected["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["account"].as_str().is_some_and(|a| ids.contains(&a)))
            .cloned()
            .collect();
        assert!(!mine.is_empty());
        assert_eq!(embedded["files"], serde_json::Value::Array(mine));
        expected["files"] = embedded["files"].clone();
        expected["totals"] = embedded["totals"].clone();
        assert_eq!(embedded, expected, "{}", pdf.display());
        // No link leaves the account and customer PDFs.
        let urls = pdfinfo(Some("-url"), pdf);
        if pdf != &portfolio_pdf {
            assert!(!urls.contains(".pdf") && !urls.contains(".html"), "{urls}");
        }
    }
    // The portfolio embeds manifest.json as written, byte for byte.
    assert_eq!(embedded(&portfolio_pdf)["manifest.json"], manifest);
    // The document language follows the report's.
    let meta = pdfinfo(Some("-meta"), &account_pdf);
    assert!(
        meta.contains("<dc:language><rdf:Bag><rdf:li>en</rdf:li>"),
        "{meta}"
    );
    let zh = dir.path().join("zh");
    run(&zh, "zh");
    let meta = pdfinfo(
        Some("-meta"),
        &zh.join(format!("accounts/{account_id}.pdf")),
    );
    assert!(meta.contains("<rdf:li>zh"), "{meta}");
    let bytes = std::fs::read(zh.join(format!("accounts/{account_id}.pdf"))).unwrap();
    assert!(
        bytes.windows(14).any(|w| w == b"/Lang(zh-Hans)"),
        "the catalogue says the text is Chinese"
    );
}

#[test]
fn every_pdf_names_its_scope_report_id_and_sign_off_lines() {
    if !have_poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let branding = dir.path().join("brand.toml");
    std::fs::write(
        &branding,
        "prepared_by = \"Lighthouse Audit team\"\nreviewed_by = \"Jane Reviewer, CISA\"\n",
    )
    .unwrap();
    let out = dir.path().join("r");
    report(
        "samples",
        &out,
        &["--format", "pdf", "--branding", branding.to_str().unwrap()],
        &[0],
    );
    for (pdf, scope) in [
        (
            "accounts/9208642287660594.pdf",
            "Alibaba Cloud account Acme Retail - prod (id 9208642287660594",
        ),
        (
            "customers/acme-retail.pdf",
            "2 Alibaba Cloud accounts of Acme Retail:",
        ),
        ("portfolio.pdf", "6 Alibaba Cloud accounts of 3 customers"),
    ] {
        let path = out.join(pdf);
        // The id is the SHA-256 of the embedded manifest: anyone can recompute it.
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(&embedded(&path)["manifest.json"]));
        let id = digest.as_bytes()[..12]
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).to_uppercase())
            .collect::<Vec<_>>()
            .join("-");
        let pages: usize = pdfinfo(None, &path)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let cover = poppler("pdftotext", &["-l", "1", path.to_str().unwrap(), "-"]);
        assert!(
            cover.contains(&format!("Report id {id} - aliaudit")),
            "{pdf}: {cover}"
        );
        assert!(
            cover.contains("CIS Alibaba Cloud Foundations Benchmark v2.0.0"),
            "{pdf}"
        );
        let last = poppler(
            "pdftotext",
            &["-f", &pages.to_string(), path.to_str().unwrap(), "-"],
        );
        assert!(last.contains("Scope and sign-off"), "{pdf}: {last}");
        assert!(last.contains(scope), "{pdf}: {last}");
        assert!(last.contains(&digest), "{pdf}: {last}");
        assert!(
            last.contains("Prepared by: Lighthouse Audit team"),
            "{pdf}: {last}"
        );
        assert!(
            last.contains("Reviewed by: Jane Reviewer, CISA"),
            "{pdf}: {last}"
        );
        // The contents page lists the chapters with their pages: the sign-off is the last.
        let all = poppler("pdftotext", &["-layout", path.to_str().unwrap(), "-"]);
        let contents = all
            .split('\u{c}')
            .find(|p| p.contains("Contents\n"))
            .unwrap_or_else(|| panic!("{pdf}: no contents page"));
        let entry = contents
            .lines()
            .find(|l| l.trim_start().starts_with("Scope and sign-off"))
            .unwrap_or_else(|| panic!("{pdf}: {contents}"));
        assert!(
            entry.trim_end().ends_with(&format!(" {pages}")),
            "{pdf}: {entry}"
        );
    }
    // The customer PDF, which is mailed alone, carries the method too.
    let customer = poppler(
        "pdftotext",
        &[out.join("customers/acme-retail.pdf").to_str().unwrap(), "-"],
    );
    assert!(customer.contains("Method"), "{customer}");
    // ... and a page per account: its verdict, risks and actions.
    for (name, id) in [
        ("Acme Retail - prod", "9208642287660594"),
        ("Acme Retail - staging", "2786731986915959"),
    ] {
        let heading = format!("{name} ({id})");
        let page = customer
            .split('\u{c}')
            .find(|p| !p.contains("Contents\n") && p.lines().any(|l| l.trim() == heading))
            .unwrap_or_else(|| panic!("no page for {heading}: {customer}"));
        assert!(page.contains(&format!("Verdict: {name}")), "{page}");
        assert!(page.contains("Actions"), "{page}");
    }
}

/// The objects of an uncompressed-object PDF (krilla writes its dictionaries as text): number
/// to body.
fn pdf_objects(bytes: &[u8]) -> std::collections::BTreeMap<u32, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = std::collections::BTreeMap::new();
    let mut rest = text.as_ref();
    while let Some(at) = rest.find(" 0 obj") {
        let number: String = rest[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let body = &rest[at + 6..];
        let end = body.find("endobj").unwrap_or(body.len());
        if let Ok(n) = number.parse() {
            out.insert(n, body[..end].trim().to_string());
        }
        rest = &body[end..];
    }
    out
}

/// The literal string after `key` in a PDF dictionary (balanced parentheses, escapes kept).
fn pdf_string<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let start = dict.find(key)? + key.len();
    let body = dict[start..].strip_prefix('(')?;
    let mut depth = 1;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The number of the object `key N 0 R` refers to.
fn pdf_ref(dict: &str, key: &str) -> Option<u32> {
    let rest = &dict[dict.find(key)? + key.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn findings_link_to_their_evidence_and_logic_and_continued_tables_name_their_control() {
    if !have_poppler() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let o = aliaudit(&[
        "sample",
        "-o",
        tree.path().to_str().unwrap(),
        "--accounts",
        "1",
        "--users",
        "120",
        "--seed",
        "3",
    ]);
    assert!(o.status.success());
    let out = tempfile::tempdir().unwrap();
    report(
        tree.path().to_str().unwrap(),
        out.path(),
        &["--format", "pdf"],
        FINISHED,
    );
    let pdf = walkdir::WalkDir::new(out.path().join("accounts"))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .unwrap();
    let path = pdf.path().to_str().unwrap();
    let objects = pdf_objects(&std::fs::read(pdf.path()).unwrap());
    // Pages in order, from the page tree's root.
    let kids = objects
        .values()
        .find(|o| o.contains("/Type/Pages"))
        .unwrap();
    let kids = &kids[kids.find("/Kids[").unwrap() + 6..];
    let pages: Vec<u32> = kids[..kids.find(']').unwrap()]
        .split(" 0 R")
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let page_text = |index: usize| {
        let n = (index + 1).to_string();
        poppler("pdftotext", &["-f", &n, "-l", &n, path, "-"])
    };
    let mut evidence_links = 0;
    let mut logic_links = 0;
    for annot in objects.values().filter(|o| o.contains("/Subtype/Link")) {
        let Some(alt) = pdf_string(annot, "/Contents") else {
            panic!("a link without alternative text: {annot}");
        };
        let Some(dest) = pdf_ref(annot, "/Dest ") else {
            continue;
        };
        let target = &objects[&dest];
        let page = pdf_ref(target, "[").unwrap();
        let index = pages.iter().position(|p| *p == page).unwrap();
        // "Evidence for <title> (<id>)": the id is in the last parentheses.
        let id = alt.rsplit_once('(').map(|(_, id)| id.trim_end_matches(')'));
        let text = page_text(index);
        if let Some(control) = alt.strip_prefix("Evidence for ") {
            let id = id.unwrap();
            // The page holds the control's evidence heading, "<title> (<id>)".
            assert!(
                text.contains(&format!("({id})")) && text.contains("Resource"),
                "{control}: page {} lacks its evidence table:\n{text}",
                index + 1
            );
            evidence_links += 1;
        } else if let Some(control) = alt.strip_prefix("Control logic of ") {
            let id = id.unwrap();
            assert!(
                text.contains(id) && text.contains("Remediation"),
                "{control}: page {} lacks its control logic:\n{text}",
                index + 1
            );
            logic_links += 1;
        }
    }
    // Failing controls of the sections and of "Fix first" link to both (Security Center
    // items have no control logic of ours).
    assert!(evidence_links >= 5, "{evidence_links} evidence links");
    assert!(logic_links >= 5, "{logic_links} logic links");

    // Evidence tables of 25 rows continue on new pages: such a page names the control above
    // the repeated header.
    let text = poppler("pdftotext", &[path, "-"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let continued = text.matches(") (continued) Resource Result").count();
    assert!(
        continued >= 1,
        "no continuation caption above a repeated header"
    );
}

#[test]
fn a_customer_pdf_and_page_state_the_data_quality_of_its_own_accounts_only() {
    if !have_poppler() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let o = aliaudit(&[
        "report",
        "tests/fixtures/quarters",
        "-o",
        out.path().to_str().unwrap(),
        "--quiet",
        "--format",
        "pdf,html",
    ]);
    assert!(o.status.code() == Some(0) || o.status.code() == Some(2));
    let pdf = out.path().join("customers/northwind.pdf");
    let text = poppler("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let section = &text[text.rfind("Data quality Evidence missing").unwrap()..];
    let section = &section[..section.find("Scope and sign-off").unwrap()];
    // The note the portfolio gives four accounts names this customer's two.
    assert!(
        section.contains("10 controls could not be assessed. - Northwind prod, Northwind dev "),
        "{section}"
    );
    assert!(!section.contains("Eastwind"), "{section}");
    // The customer's accounts table has no customer column: they are all Northwind's.
    assert!(!text.contains("Account Customer Evidence"), "{text}");
    // Each account's summary counts its failing users, though the run no longer holds its
    // findings (it used to call them "the account's setting").
    assert!(
        text.contains("High: Console users without MFA (2 console users)"),
        "{text}"
    );
    assert!(!text.contains("(the account's setting)"), "{text}");
    let html = std::fs::read_to_string(out.path().join("customers/northwind.html")).unwrap();
    let dq = &html[html.find("id=\"h-dq\"").unwrap()..];
    let dq = &dq[..dq.find("</section>").unwrap()];
    assert!(
        dq.contains("Northwind dev</a>") && !dq.contains("Eastwind"),
        "{dq}"
    );
}

#[test]
fn the_by_framework_section_states_requirement_results_and_coverage_in_english_and_chinese() {
    if !have_poppler() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "report",
            "tests/fixtures/quarters/2026-q3",
            "-o",
            out.to_str().unwrap(),
            "--quiet",
            "--as-of",
            "2026-09-30",
            "--format",
            "pdf,html",
        ];
        args.extend(extra);
        let o = aliaudit(&args);
        assert!(o.status.code() == Some(0) || o.status.code() == Some(2));
        out
    };
    let words = |pdf: &Path| {
        poppler("pdftotext", &[pdf.to_str().unwrap(), "-"])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let en = run("en", &["--framework", "mlps2-l3"]);
    // Northwind prod: 1 pass, 2 fail, 3 not evaluable, 5 not covered of MLPS level 3's 11.
    let account = words(&en.join("accounts/1100000000000001.pdf"));
    let section = &account[account.rfind("By framework").unwrap()..];
    for expected in [
        "MLPS 2.0 level 3",
        "Version: GB/T 22239-2019",
        "27.3% of requirements evaluable from this evidence (3 of 11).",
        "Requirements: 1 pass, 2 fail, 0 excepted, 0 not applicable, 3 not evaluable, 5 not covered by this evidence.",
        "aliaudit's judgement, not the standard's",
        "pwd.lockout: Pass pref.session_duration: Not evaluable",
        "(continued)",
    ] {
        assert!(section.contains(expected), "{expected}: {section}");
    }
    // The contents page lists the section.
    let contents = &account[..account.find("By framework").unwrap()];
    assert!(contents.contains("Contents"), "{contents}");
    let html = std::fs::read_to_string(en.join("accounts/1100000000000001.html")).unwrap();
    assert!(html.contains("<a href=\"#frameworks\">By framework</a>"));
    for (id, class, label) in [
        ("8.1.4.1 a)", "fail", "Fail"),
        ("8.1.4.1 b)", "not_evaluable", "Not evaluable"),
        (
            "8.1.4.1 c)",
            "not_evaluable",
            "Not covered by this evidence",
        ),
        ("8.1.4.1 d)", "fail", "Fail"),
        ("8.1.4.2 b)", "pass", "Pass"),
    ] {
        let row = &html[html
            .find(&format!("<th scope=\"row\" class=\"id\">{id}</th>"))
            .unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(&format!("<span class=\"badge st-{class}\">{label}</span>")),
            "{id}: {row}"
        );
    }
    // The portfolio counts accounts per requirement; the customer its own two.
    let portfolio = words(&en.join("portfolio.pdf"));
    let section = &portfolio[portfolio.rfind("By framework").unwrap()..];
    assert!(section.contains("over 3 accounts"), "{section}");
    assert!(section.contains("0 passing, 3 failing of 3"), "{section}");
    assert!(section.contains("3 passing, 0 failing of 3"), "{section}");
    let index = std::fs::read_to_string(en.join("index.html")).unwrap();
    assert!(
        index.contains("0 passing, 2 failing of 3; 1 other"),
        "{index}"
    );
    let customer = std::fs::read_to_string(en.join("customers/eastwind.html")).unwrap();
    assert!(customer.contains("0 passing, 2 failing of 2"), "{customer}");

    // Chinese: MLPS clause names and titles in Chinese, in the PDF and the page.
    let zh = run("zh", &["--framework", "mlps2-l3", "--lang", "zh"]);
    let text = words(&zh.join("accounts/1100000000000001.pdf")).replace(' ', "");
    let section = &text[text.rfind("按框架").unwrap()..];
    assert!(section.contains("身份鉴别"), "{section}");
    assert!(section.contains("访问控制"), "{section}");
    assert!(
        section.contains("应对登录的用户进行身份标识和鉴别"),
        "{section}"
    );
    assert!(section.contains("本证据未覆盖"), "{section}");
    let html = std::fs::read_to_string(zh.join("accounts/1100000000000001.html")).unwrap();
    assert!(html.contains("<td>身份鉴别</td>"));
    assert!(html.contains("应对登录的用户进行身份标识和鉴别"));

    // Without --framework no page says anything of frameworks.
    let plain = run("plain", &[]);
    for pdf in [
        "portfolio.pdf",
        "accounts/1100000000000001.pdf",
        "customers/eastwind.pdf",
    ] {
        assert!(!words(&plain.join(pdf)).contains("By framework"), "{pdf}");
    }
    for page in [
        "index.html",
        "accounts/1100000000000001.html",
        "customers/eastwind.html",
    ] {
        let html = std::fs::read_to_string(plain.join(page)).unwrap();
        assert!(
            !html.contains("By framework") && !html.contains("id=\"frameworks\""),
            "{page}"
        );
    }
}
