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

/// The quarter fixture by absolute path, for runs from another working directory.
const TREE_ABS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/quarters/2026-q3"
);

/// A PNG whose header declares `w` x `h` pixels, with a tiny image stream: enough for anything
/// that reads the header first, a 40 GB allocation for anything that decodes first.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn logo_svg(body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40">{body}</svg>"#
    )
}

/// Runs `report --branding` over the quarter fixture with `logo` as the SVG logo of the key
/// `key` (`logo` or a customer's), from the branding folder as working directory (where usvg
/// used to resolve relative references), under a 1.5 GB address-space limit; beside the
/// folder lies `outside.png`, a real PNG. Returns (exit code, stderr, whether the output
/// directory exists).
fn report_with_logo(table: &str, logo: &str) -> (i32, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        "tests/fixtures/branding/logo.png",
        dir.path().join("outside.png"),
    )
    .unwrap();
    let brand = dir.path().join("brand");
    std::fs::create_dir(&brand).unwrap();
    std::fs::write(brand.join("acme.svg"), logo).unwrap();
    std::fs::write(
        brand.join("branding.toml"),
        format!("company = \"Acme\"\n{table}logo = \"acme.svg\"\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = Command::new("sh")
        .args(["-c", "ulimit -v 1500000 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_aliaudit"))
        .args(["report", TREE_ABS, "-o"])
        .arg(&out)
        .args([
            "--as-of",
            "2026-09-30",
            "--format",
            "html,pdf",
            "--branding",
        ])
        .arg(brand.join("branding.toml"))
        .current_dir(&brand)
        .output()
        .unwrap();
    (
        run.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&run.stderr).into_owned(),
        out.exists(),
    )
}

#[test]
fn an_svg_logo_that_refers_outside_itself_is_refused_and_nothing_is_written() {
    let outside = std::fs::canonicalize("tests/fixtures/branding/logo.png").unwrap();
    let outside = outside.display();
    let cases = [
        (
            "",
            r#"<image width="120" height="40" href="/etc/passwd"/>"#.to_string(),
            "logo \"acme.svg\": refers to an outside file (\"/etc/passwd\"); a logo must be self-contained".to_string(),
        ),
        (
            "",
            r#"<image width="120" height="40" href="../outside.png"/>"#.into(),
            "logo \"acme.svg\": refers to an outside file (\"../outside.png\")".into(),
        ),
        (
            "[customers.\"Eastwind\"]\n",
            format!(r#"<image width="120" height="40" xlink:href="file://{outside}"/>"#),
            format!("customers.\"Eastwind\".logo \"acme.svg\": refers to an outside file (\"file://{outside}\")"),
        ),
        (
            "",
            format!(r#"<style>rect {{ fill: url("{outside}") }}</style><rect width="9" height="9"/>"#),
            format!("logo \"acme.svg\": refers to an outside file (\"{outside}\")"),
        ),
        (
            "",
            r#"<style>@font-face { font-family: x; src: url(../outside.ttf) }</style>"#.into(),
            "logo \"acme.svg\": refers to an outside file (\"../outside.ttf\")".into(),
        ),
        (
            "",
            r#"<use href="../other.svg#logo"/>"#.into(),
            "logo \"acme.svg\": refers to an outside file (\"../other.svg#logo\")".into(),
        ),
        (
            "",
            "<style>@import \"../brand.css\";</style>".into(),
            "logo \"acme.svg\": imports a style sheet (\"../brand.css\"); a logo must be self-contained".into(),
        ),
    ];
    for (table, body, expected) in cases {
        let (code, stderr, written) = report_with_logo(table, &logo_svg(&body));
        assert_eq!(code, 1, "{body}: {stderr}");
        assert!(stderr.contains("branding.toml: "), "{stderr}");
        assert!(stderr.contains(&expected), "{stderr} lacks {expected}");
        assert!(!written, "{body}: output written");
    }
    // An external entity is refused where it is declared.
    let (code, stderr, written) = report_with_logo(
        "",
        &format!(
            "<!DOCTYPE svg [<!ENTITY e SYSTEM \"../outside.png\">]>{}",
            logo_svg("")
        ),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("logo \"acme.svg\": refers to an outside file (\"../outside.png\")"),
        "{stderr}"
    );
    assert!(!written);
}

#[test]
fn an_embedded_image_past_the_png_limits_is_refused_before_it_is_decoded() {
    let huge = data_uri("image/png", &png_header(100_000, 100_000));
    let image = |uri: &str| logo_svg(&format!(r#"<image width="120" height="40" href="{uri}"/>"#));
    let limits = "(a logo's images may have at most 10000 pixels each way and 8000000 in all)";
    let cases = [
        (
            image(&huge),
            "logo \"acme.svg\": an embedded image: a PNG of 100000 x 100000 pixels",
        ),
        // The same PNG inside an embedded SVG.
        (
            image(&data_uri("image/svg+xml", image(&huge).as_bytes())),
            "logo \"acme.svg\": an embedded image: an embedded image: a PNG of 100000 x 100000 pixels",
        ),
        // A GIF whose header declares 60000 x 60000 pixels.
        (
            image(&data_uri(
                "image/gif",
                b"GIF89a\x60\xea\x60\xea\x00\x00\x00\x3b",
            )),
            "logo \"acme.svg\": an embedded image: a GIF of 60000 x 60000 pixels",
        ),
    ];
    for (logo, expected) in cases {
        let (code, stderr, written) = report_with_logo("", &logo);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr} lacks {expected}");
        assert!(stderr.contains(limits), "{stderr}");
        assert!(!written);
    }
}

#[test]
fn a_self_contained_svg_logo_with_an_embedded_png_reaches_html_and_pdf() {
    let out = tempfile::tempdir().unwrap();
    let (code, stderr) = aliaudit(&[
        "report",
        TREE,
        "-o",
        out.path().to_str().unwrap(),
        "--as-of",
        "2026-09-30",
        "--branding",
        "tests/fixtures/branding/embedded.toml",
        "--format",
        "html,pdf",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let index = read(out.path(), "index.html");
    assert!(index.contains("<img class=\"logo\" src=\"data:image/svg+xml;base64,PHN2Zy"));
    // The embedded PNG (120 x 40) is drawn as an image on the cover.
    let images = Command::new("pdfimages")
        .args(["-list"])
        .arg(out.path().join("portfolio.pdf"))
        .output()
        .unwrap();
    let images = String::from_utf8_lossy(&images.stdout);
    assert!(images.contains(" 120    40 "), "{images}");
}
