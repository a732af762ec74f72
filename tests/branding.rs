//! White-label branding: the real binary with `tests/fixtures/branding/branding.toml` (a PNG
//! logo, a customer override, hostile text) over the quarter fixture.
#![allow(clippy::unwrap_used)]

mod common;
use common::aliaudit;

use std::path::Path;
use std::process::Command;

const TREE: &str = "tests/fixtures/quarters/2026-q3";
const BRANDING: &str = "tests/fixtures/branding/branding.toml";

fn branded(formats: &str) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = aliaudit(&[
        "report",
        TREE,
        "-o",
        out.path().to_str().unwrap(),
        "--as-of",
        "2026-09-30",
        "--branding",
        BRANDING,
        "--format",
        formats,
    ]);
    assert_eq!(code, 2, "{stderr}");
    (out, stderr)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn branding_reaches_every_html_page_escaped() {
    let (out, stderr) = branded("json,html");
    assert!(
        stderr.contains("[customers.\"Nobody Inc\"] matches no customer of this run"),
        "{stderr}"
    );
    let index = read(out.path(), "index.html");
    assert!(
        index.contains("Lighthouse Audit &lt;script&gt;alert(1)&lt;/script&gt;"),
        "company not escaped"
    );
    assert!(!index.contains("<script>alert(1)"));
    assert!(index.contains("<img class=\"logo\" src=\"data:image/png;base64,iVBORw0KGgo"));
    assert!(index.contains("--accent: #c01c28; --on-accent: #ffffff;"));
    assert!(index.contains("Lighthouse Audit - restricted"));
    assert!(index.contains("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; text stays text"));
    assert!(index.contains("Prepared by Lighthouse Audit team."));
    assert!(index.contains("Contact: audit@lighthouse.example."));
    // Eastwind's override: its own accent (light, so dark text on it and blue links).
    let east = read(out.path(), "customers/eastwind.html");
    assert!(east.contains("--accent: #ffd400; --on-accent: #212529; --link: #1f5fa8;"));
    let account = read(out.path(), "accounts/2200000000000001.html");
    assert!(account.contains("--accent: #ffd400"));
    let north = read(out.path(), "accounts/1100000000000001.html");
    assert!(north.contains("--accent: #c01c28"));
    // The manifest records the branding file.
    let manifest = read(out.path(), "manifest.json");
    assert!(manifest.contains("branding.toml"));
}

#[test]
fn branding_reaches_the_pdfs() {
    let (out, _) = branded("pdf");
    let Some(cover) = common::pdf_text(&out.path().join("portfolio.pdf"), &["-l", "1"]) else {
        return;
    };
    assert!(
        cover.contains("Lighthouse Audit <script>alert(1)</script>"),
        "{cover}"
    );
    assert!(cover.contains("Quarterly access review"));
    assert!(cover.contains("Prepared by Lighthouse Audit team"));
    assert!(cover.contains("Contact: audit@lighthouse.example"));
    assert!(cover.contains("\"quoted\" & <b>bold</b> text stays text"));
    let second =
        common::pdf_text(&out.path().join("portfolio.pdf"), &["-f", "2", "-l", "2"]).unwrap();
    assert!(
        second.contains("Lighthouse Audit - restricted - as of 2026-09-30 23:59 UTC"),
        "{second}"
    );
    let east = common::pdf_text(&out.path().join("customers/eastwind.pdf"), &["-l", "1"]).unwrap();
    assert!(east.contains("Eastwind access review"));
    let info = Command::new("pdfinfo")
        .arg(out.path().join("portfolio.pdf"))
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Author:          Lighthouse Audit <script>alert(1)</script>"),
        "{info}"
    );
    // The logo is drawn as an image.
    let images = Command::new("pdfimages")
        .args(["-list"])
        .arg(out.path().join("portfolio.pdf"))
        .output()
        .unwrap();
    let images = String::from_utf8_lossy(&images.stdout);
    assert!(images.contains(" 120    40 "), "{images}");
}

#[test]
fn without_branding_the_look_is_neutral() {
    let out = tempfile::tempdir().unwrap();
    let (code, _) = aliaudit(&[
        "report",
        TREE,
        "-o",
        out.path().to_str().unwrap(),
        "--format",
        "html",
        "--quiet",
    ]);
    assert_eq!(code, 2);
    let index = read(out.path(), "index.html");
    assert!(index.contains("--accent: #16324f"));
    assert!(index.contains("<p class=\"brand\">aliaudit</p>"));
    assert!(!index.contains("<img class=\"logo\""));
}

#[test]
fn a_bad_branding_file_names_the_key_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "accent = \"crimson\"\n",
            "accent \"crimson\" is not a colour (use #rrggbb)",
        ),
        (
            "logo = \"nowhere.png\"\n",
            "logo \"nowhere.png\": cannot read it",
        ),
        (
            "[customers.\"X\"]\nlogo = \"branding.toml\"\n",
            "customers.\"X\".logo \"branding.toml\": neither PNG nor SVG",
        ),
        ("company = \"A\"\nbrand = \"B\"\n", "unknown field `brand`"),
    ];
    for (n, (text, expected)) in cases.iter().enumerate() {
        let file = dir.path().join("branding.toml");
        std::fs::write(&file, text).unwrap();
        let out = dir.path().join(format!("out{n}"));
        let (code, stderr) = aliaudit(&[
            "report",
            TREE,
            "-o",
            out.to_str().unwrap(),
            "--branding",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("branding.toml: "), "{stderr}");
        assert!(stderr.contains(expected), "{stderr} lacks {expected}");
        assert!(!out.exists());
    }
}
