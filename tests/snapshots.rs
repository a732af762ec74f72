//! Snapshot tests (insta) of the page views and the rendered HTML over the fixture trees.
//! Chart SVGs are left out of these snapshots (they are tested on their own); everything
//! else a template sees, and the markup it makes, is pinned.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use aliaudit_core::pipeline::{self, Run, RunOptions};
use aliaudit_core::rules::RulePack;
use aliaudit_report::render::html::Templates;
use aliaudit_report::view::Site;
use serde_json::Value;

fn run(root: &str) -> Run {
    pipeline::run(&RunOptions {
        inputs: vec![PathBuf::from(root)],
        keep_resources: true,
        ..RunOptions::default()
    })
    .unwrap()
}

/// The view as JSON with every chart replaced by a marker.
fn without_charts(view: &impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(view).unwrap();
    if let Some(charts) = value.get_mut("charts").and_then(Value::as_object_mut) {
        for (name, svg) in charts.iter_mut() {
            if svg.as_str().is_some_and(|s| s.starts_with("<svg")) {
                *svg = Value::String(format!("<{name} chart>"));
            }
        }
    }
    value
}

/// Replaces every `open ... close` region of `html` with `marker`.
fn collapse(html: &str, open: &str, close: &str, marker: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        out.push_str(marker);
        rest = match rest[start..].find(close) {
            Some(end) => &rest[start + end + close.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Rendered HTML with each inline SVG and the compiled-in CSS and script collapsed.
fn page_markup(html: &str) -> String {
    let html = collapse(html, "<svg", "</svg>", "<svg/>");
    let html = collapse(&html, "<style>", "</style>", "<style/>");
    collapse(&html, "<script>", "</script>", "<script/>")
}

#[test]
fn portfolio_view_of_the_quirks_fixture() {
    let run = run("tests/fixtures/quirks");
    let rules = RulePack::default();
    let site = Site::new(&run, &rules);
    insta::assert_json_snapshot!(without_charts(&site.portfolio()));
}

#[test]
fn account_view_of_the_quirks_fixture() {
    let run = run("tests/fixtures/quirks");
    let rules = RulePack::default();
    let site = Site::new(&run, &rules);
    let prod = run
        .accounts
        .iter()
        .find(|a| a.info.id == "1486203957716420")
        .unwrap();
    let mut view = without_charts(&site.account(prod));
    // The appendix (control logic, thresholds) is the catalog; `aliaudit controls` covers it.
    view.as_object_mut().unwrap().remove("logic");
    insta::assert_json_snapshot!(view);
}

#[test]
fn rendered_pages_of_the_quirks_fixture() {
    let run = run("tests/fixtures/quirks");
    let rules = RulePack::default();
    let site = Site::new(&run, &rules);
    let templates = Templates::load(None, aliaudit_core::i18n::Lang::En).unwrap();
    let mut index = Vec::new();
    templates
        .render("index.html", &site.portfolio(), &mut index)
        .unwrap();
    insta::assert_snapshot!(
        "index_html",
        page_markup(&String::from_utf8(index).unwrap())
    );
    let legacy = run
        .accounts
        .iter()
        .find(|a| a.info.id == "harbour-bank/legacy")
        .unwrap();
    let mut account = Vec::new();
    templates
        .render("account.html", &site.account(legacy), &mut account)
        .unwrap();
    insta::assert_snapshot!(
        "account_html",
        page_markup(&String::from_utf8(account).unwrap())
    );
}
