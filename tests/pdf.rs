//! PDF reports read back with poppler (`pdftotext`, `pdffonts`, `pdfinfo`; `.ci/run`
//! installs poppler-utils): text, fonts, pages, outline, metadata, size, repeatability.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn aliaudit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn report(input: &str, out: &Path) {
    let o = aliaudit(&[
        "report",
        input,
        "-o",
        out.to_str().unwrap(),
        "--quiet",
        "--format",
        "pdf",
    ]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    report("tests/fixtures/cjk", out.path());
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
    report("tests/fixtures/cjk", a.path());
    let o = aliaudit(&[
        "report",
        "tests/fixtures/cjk",
        "-o",
        b.path().to_str().unwrap(),
        "--quiet",
        "--format",
        "pdf",
        "--jobs",
        "1",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the account has no practice report: partial"
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
    let urls = poppler(
        "pdfinfo",
        &["-url", a.path().join(&customer).to_str().unwrap()],
    );
    assert!(urls.contains("../accounts/2233445566778899.pdf"), "{urls}");
}

#[test]
fn a_300_user_account_pdf_stays_under_one_megabyte() {
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
    report(tree.path().to_str().unwrap(), out.path());
    let pdf = walkdir::WalkDir::new(out.path().join("accounts"))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .unwrap();
    let size = pdf.metadata().unwrap().len();
    let summary = poppler("pdfinfo", &[pdf.path().to_str().unwrap()]);
    eprintln!(
        "300-user account PDF: {size} bytes; {}",
        summary
            .lines()
            .find(|l| l.starts_with("Pages"))
            .unwrap_or("")
    );
    assert!(size < 1_000_000, "{size} bytes");
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
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .args(["report", "--as-of", "2026-09-30", "-o"])
        .arg(out.path().join("r"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
        .status()
        .unwrap();
    assert!(status.success() || status.code() == Some(2));
    let pdf = out.path().join("r/accounts/9208642287660594.pdf");
    let page2 = std::process::Command::new("pdftotext")
        .args(["-f", "2", "-l", "2", "-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&page2.stdout);
    let verdict = "Verdict: Acme Retail - prod has 2 console users without MFA";
    assert!(text.contains(verdict), "{text}");
    for words in [
        "Rating",
        "Poor",
        // CIS v2.0.0 (the default) scored: pwd.max_age_v1, a fail here, is informational.
        "64.3 on 39 of 43 controls",
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
