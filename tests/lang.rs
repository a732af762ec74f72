//! The Chinese edition: `--lang zh` over the samples and the quarter fixture.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use aliaudit_core::i18n::{Catalogue, Lang};

mod common;

fn report(args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_aliaudit"))
        .arg("report")
        .args(args)
        .args(["-o", out.path().to_str().unwrap(), "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c == 0 || c == 2));
    out
}

fn pages(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect()
}

/// English catalogue messages that must not appear in a Chinese report: every message of
/// the page sections without placeholders and of two words or more.
fn english_messages() -> Vec<&'static str> {
    let en = Catalogue::get(Lang::En);
    let zh = Catalogue::get(Lang::Zh);
    en.entries()
        .iter()
        .filter(|(k, v)| {
            [
                "ui.",
                "portfolio.",
                "customer.",
                "account.",
                "trend.",
                "register.",
                "pdf.",
                "status.",
                "section.",
            ]
            .iter()
            .any(|p| k.starts_with(p))
                && !v.contains('{')
                && v.split_whitespace().count() >= 2
                && zh.entries()[*k] != **v
        })
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The rules engine's English sentences as fixed fragments (the longest text between
/// placeholders, when it is long enough to be telling).
fn engine_fragments() -> Vec<String> {
    Catalogue::get(Lang::En)
        .entries()
        .iter()
        .filter(|(k, _)| k.starts_with("engine.") && !k.starts_with("engine.what_"))
        .filter_map(|(_, v)| {
            v.split(['{', '}'])
                .step_by(2)
                .max_by_key(|part| part.len())
                .map(str::trim)
                .filter(|part| part.len() >= 12)
                .map(String::from)
        })
        .collect()
}

#[test]
fn a_chinese_html_report_has_chinese_headings_and_no_english_built_in_strings() {
    let out = report(&["samples", "--lang", "zh", "--format", "html,json"]);
    let english = english_messages();
    assert!(
        english.len() > 80,
        "only {} messages checked",
        english.len()
    );
    let html = pages(out.path(), "html");
    assert_eq!(html.len(), 1 + 3 + 6);
    for page in &html {
        let text = std::fs::read_to_string(page).unwrap();
        assert!(
            text.contains("<html lang=\"zh-Hans\">"),
            "{}",
            page.display()
        );
        // A built-in message is the whole text of an element; finding and data-quality
        // sentences of the rules engine are not in the catalogue yet.
        for message in &english {
            let escaped = message.replace('"', "&quot;").replace('\'', "&#39;");
            assert!(
                !text.contains(&format!(">{escaped}<")),
                "{} still says \"{message}\"",
                page.display()
            );
        }
    }
    // The rules engine explains findings in Chinese on the pages...
    let fragments = engine_fragments();
    assert!(fragments.len() > 40, "only {} fragments", fragments.len());
    for page in &html {
        let text = std::fs::read_to_string(page).unwrap();
        for fragment in &fragments {
            let escaped = fragment.replace('"', "&quot;").replace('\'', "&#39;");
            assert!(
                !text.contains(&escaped),
                "{} still explains in English: \"{fragment}\"",
                page.display()
            );
        }
    }
    // ...while summary.json stays English for other tools.
    let summary = std::fs::read_to_string(out.path().join("summary.json")).unwrap();
    assert!(summary.contains("console users have no MFA"));
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(
        index.contains("来源不一致"),
        "the data-quality note is not in Chinese"
    );
    for heading in [
        "总览合规报告",
        "账号（得分由低到高）",
        "账号与控制项",
        "方法说明",
    ] {
        assert!(index.contains(heading), "index lacks {heading}");
    }
    // Blue Harbor Logistics - dev: console users without MFA.
    let account = out.path().join("accounts/1985122531331123.html");
    let account = std::fs::read_to_string(account).unwrap();
    for heading in [
        "管理层摘要",
        "优先整改",
        "CIS 第 1 章 - 身份与访问管理",
        "控制项判定逻辑",
    ] {
        assert!(account.contains(heading), "account page lacks {heading}");
    }
    // Control titles and logic come from the Chinese catalogue, thresholds filled in.
    assert!(account.contains("启用中的 AccessKey 在 90 天内轮换"));
    assert!(account.contains("将 MaxIdleDaysForUsers 设为 90。"));
    assert!(account.contains("个控制台用户中有"));
    assert!(account.contains("可登录控制台，未启用 MFA"));
    // Evidence stays as collected.
    assert!(account.contains("@blue-harbor") || account.contains("onaliyun.com"));
}

#[test]
fn a_chinese_pdf_says_page_x_of_y_in_chinese() {
    let out = report(&["tests/fixtures/cjk", "--lang", "zh", "--format", "pdf"]);
    let pdf = pages(&out.path().join("accounts"), "pdf").remove(0);
    let text = match Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
    {
        Ok(o) => String::from_utf8(o.stdout).unwrap(),
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "CI needs poppler-utils");
            eprintln!("SKIPPED: no poppler");
            return;
        }
    };
    assert!(text.contains("第 1 页，共"), "{text}");
    assert!(!text.contains("Page 1 of"));
    for heading in ["管理层摘要", "附录", "控制项判定逻辑", "华东生产账号"] {
        assert!(text.contains(heading), "PDF lacks {heading}");
    }
    for english in english_messages() {
        assert!(!text.contains(english), "PDF still says \"{english}\"");
    }
    for fragment in engine_fragments() {
        assert!(
            !text.contains(&fragment),
            "PDF still explains in English: \"{fragment}\""
        );
    }
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("合规报告："));
}

/// Chinese text followed by ASCII punctuation (`中文: `, `中文. `, `中文 (`...): Chinese
/// sentences take full-width colons, stops and brackets.
fn half_width_after_chinese(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c) || "）。".contains(c);
    let mut found = Vec::new();
    for (i, w) in chars.windows(3).enumerate() {
        let bad = is_cjk(w[0]) && ":.;".contains(w[1]) && w[2] == ' '
            || is_cjk(w[0]) && w[1] == ' ' && w[2] == '('
            || is_cjk(w[0]) && w[1] == '(';
        if bad {
            let from = i.saturating_sub(12);
            found.push(chars[from..(i + 8).min(chars.len())].iter().collect());
        }
    }
    found
}

#[test]
fn chinese_pdfs_use_full_width_punctuation_after_chinese_text() {
    let out = report(&["samples", "--lang", "zh", "--format", "pdf"]);
    let mut checked = 0;
    for pdf in pages(out.path(), "pdf") {
        let Some(text) = common::pdf_text(&pdf, &[]) else {
            return;
        };
        let bad = half_width_after_chinese(&text);
        assert!(bad.is_empty(), "{}: {bad:?}", pdf.display());
        checked += 1;
    }
    assert!(checked >= 3);
    // The check itself finds what it is for.
    assert_eq!(
        half_width_after_chinese("控制台用户 (6 个)，账号: 仅").len(),
        2
    );
}

#[test]
fn english_stays_the_default() {
    let out = report(&["tests/fixtures/cjk", "--format", "html"]);
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains("<html lang=\"en\">"));
    assert!(index.contains("Portfolio compliance report"));
}

#[test]
fn why_a_file_was_ignored_is_written_in_chinese() {
    let out = report(&[
        "tests/fixtures/quirks",
        "--lang",
        "zh",
        "--format",
        "html,json",
    ]);
    let page =
        std::fs::read_to_string(out.path().join("accounts/harbour-bank-legacy.html")).unwrap();
    assert!(page.contains("GenerateCredentialReport 状态：凭证报告本身来自 GetCredentialReport"));
    // The manifest keeps the English reason for other tools.
    let manifest = std::fs::read_to_string(out.path().join("manifest.json")).unwrap();
    assert!(manifest.contains("the report itself comes from GetCredentialReport"));
}
