//! The commands as library functions: `report`, a shard and `merge` run from a spec, with no
//! command line, and say how the run went.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aliaudit::commands::merge::{self, MergeSpec};
use aliaudit::commands::report::{self, EvalSpec, ReportSpec};
use aliaudit::commands::{Format, Outcome};
use aliaudit_core::pipeline::Shard;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn spec(inputs: &[&str], out: &Path, formats: &[Format]) -> ReportSpec {
    ReportSpec {
        eval: EvalSpec {
            inputs: inputs.iter().map(|i| fixture(i)).collect(),
            as_of: Some(aliaudit_core::text::parse_as_of("2026-09-30").unwrap()),
            rules: None,
            benchmark: None,
            exceptions: None,
            jobs: Some(2),
            strict: false,
            quiet: true,
            max_file_bytes: 64 << 20,
            project: None,
            frameworks: Vec::new(),
            framework_files: Vec::new(),
        },
        out: out.to_path_buf(),
        formats: formats.to_vec(),
        templates: None,
        font: None,
        baseline: None,
        lang: aliaudit_core::i18n::Lang::En,
        branding: None,
        period: None,
        shard: None,
    }
}

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn report_runs_from_a_spec_and_says_the_run_was_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let outcome = report::run(&spec(&["samples"], &out, &[Format::Json, Format::Csv])).unwrap();
    assert_eq!(outcome, Outcome::Complete);
    let files: Vec<String> = tree(&out).into_keys().collect();
    assert_eq!(files, ["findings.csv", "manifest.json", "summary.json"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["accounts"].as_array().unwrap().len(), 6);
}

#[test]
fn a_strict_run_with_rejected_input_is_incomplete_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut strict = spec(&["tests/fixtures/malformed"], &out, &[Format::Json]);
    strict.eval.strict = true;
    assert_eq!(report::run(&strict).unwrap(), Outcome::Incomplete);
    assert!(!out.exists(), "strict wrote {:?}", tree(&out).keys());
    // Without --strict the same input is written, and still incomplete.
    strict.eval.strict = false;
    assert_eq!(report::run(&strict).unwrap(), Outcome::Incomplete);
    assert!(out.join("summary.json").is_file());
}

#[test]
fn shards_and_a_merge_from_specs_write_what_one_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let formats = [Format::Json, Format::Csv, Format::Html];
    let inputs = ["samples", "tests/fixtures/quarters/2026-q3"];
    let whole = dir.path().join("whole");
    // The q3 tree has a partial account: both runs must say so.
    let one_run = report::run(&spec(&inputs, &whole, &formats)).unwrap();
    assert_eq!(one_run, Outcome::Incomplete);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|index| {
            let out = dir.path().join(format!("shard-{index}"));
            let mut shard = spec(&inputs, &out, &formats);
            shard.shard = Some(Shard { index, count: 3 });
            // A shard leaves the verdict to the merge.
            assert_eq!(report::run(&shard).unwrap(), Outcome::Complete);
            out
        })
        .collect();
    let merged = dir.path().join("merged");
    let outcome = merge::run(&MergeSpec {
        shards,
        out: merged.clone(),
        jobs: Some(2),
        quiet: true,
    })
    .unwrap();
    assert_eq!(outcome, one_run);
    // The input folders are named in the manifest as given: the same for both runs.
    let (whole, merged) = (tree(&whole), tree(&merged));
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        merged.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &whole {
        assert!(&merged[name] == bytes, "{name} differs");
    }
}

#[test]
fn a_merge_into_one_of_its_shard_folders_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shard-1");
    let mut shard = spec(&["samples"], &out, &[Format::Json]);
    shard.shard = Some(Shard { index: 1, count: 1 });
    report::run(&shard).unwrap();
    let err = merge::run(&MergeSpec {
        shards: vec![out.clone()],
        out: out.clone(),
        jobs: None,
        quiet: true,
    })
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("is one of the shard folders"),
        "{err:#}"
    );
    assert!(out.join("shard.json").is_file());
}
