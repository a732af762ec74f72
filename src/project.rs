//! The project file, `aliaudit.toml`: the choices a team types every quarter (inputs, output,
//! formats, language, rules, exceptions, branding, baseline, period...) in one place, the way
//! mdBook has `book.toml`. `[report]` holds the defaults of `report` and `validate`,
//! `[collect]` those of `collect`, and `[deliver]` the delivery configuration itself (the
//! keys of a `deliver --config` file). Every flag overrides the file.
//!
//! Unknown keys are errors naming the key and its line. Paths are relative to the file's
//! folder. This module reads the file and resolves its paths; it runs nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use aliaudit_core::stamp::FileStamp;

/// The file looked for in the current folder when `--config` is not given.
pub const FILE_NAME: &str = "aliaudit.toml";

/// A read project file.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// The file as named, and the SHA-256 of its bytes (the manifest records it).
    pub stamp: Option<FileStamp>,
    /// `[report]`, paths resolved.
    pub report: ReportDefaults,
    /// `[collect]`, paths resolved.
    pub collect: CollectDefaults,
    /// Whether the file has a `[deliver]` table (read by `deliver` from the same text).
    pub has_deliver: bool,
    /// The file's path (for `deliver`, which parses `[deliver]` itself).
    pub path: Option<PathBuf>,
    /// The file's text.
    pub text: String,
}

/// `[report]`: defaults of `report` and `validate`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportDefaults {
    /// Input roots.
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Formats, as `--format` names them.
    pub formats: Option<Vec<String>>,
    /// `en` or `zh`.
    pub lang: Option<String>,
    /// As `--as-of` takes it.
    pub as_of: Option<String>,
    /// Period label.
    pub period: Option<String>,
    /// Rules file.
    pub rules: Option<PathBuf>,
    /// The CIS benchmark version scored.
    pub benchmark: Option<aliaudit_core::rules::Benchmark>,
    /// Built-in frameworks rolled up (`framework`).
    pub frameworks: Vec<String>,
    /// The user's framework files (`framework_files`).
    pub framework_files: Vec<PathBuf>,
    /// Exceptions file.
    pub exceptions: Option<PathBuf>,
    /// Branding file.
    pub branding: Option<PathBuf>,
    /// Previous output folder.
    pub baseline: Option<PathBuf>,
    /// Templates folder.
    pub templates: Option<PathBuf>,
    /// Extra font.
    pub font: Option<PathBuf>,
    /// `--strict`.
    pub strict: Option<bool>,
    /// `--max-file-mb`.
    pub max_file_mb: Option<u64>,
}

/// `[collect]`: defaults of `collect`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectDefaults {
    /// Accounts file.
    pub accounts: Option<PathBuf>,
    /// Output folder (an input of `report`).
    pub out: Option<PathBuf>,
    /// Security Center title language.
    pub lang: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    #[serde(default)]
    report: ReportForm,
    #[serde(default)]
    collect: CollectForm,
    /// Checked by `deliver` with its own rules (it is a delivery configuration).
    #[serde(default)]
    deliver: Option<toml::Table>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReportForm {
    #[serde(default)]
    inputs: Vec<String>,
    out: Option<String>,
    formats: Option<Vec<String>>,
    lang: Option<String>,
    as_of: Option<String>,
    period: Option<String>,
    rules: Option<String>,
    benchmark: Option<aliaudit_core::rules::Benchmark>,
    #[serde(default)]
    framework: Vec<String>,
    #[serde(default)]
    framework_files: Vec<String>,
    exceptions: Option<String>,
    branding: Option<String>,
    baseline: Option<String>,
    templates: Option<String>,
    font: Option<String>,
    strict: Option<bool>,
    max_file_mb: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CollectForm {
    accounts: Option<String>,
    out: Option<String>,
    lang: Option<String>,
}

impl Project {
    /// The project of this run: `--config FILE` (which must exist), else `aliaudit.toml` in
    /// the current folder when there is one, else none (every setting from the flags).
    pub fn find(config: Option<&Path>) -> Result<Project> {
        match config {
            Some(path) => Project::load(path),
            None if Path::new(FILE_NAME).is_file() => Project::load(Path::new(FILE_NAME)),
            None => Ok(Project::default()),
        }
    }

    /// Reads a project file.
    pub fn load(path: &Path) -> Result<Project> {
        let shown = aliaudit_core::diag::shown_path(path);
        let bytes = std::fs::read(path).with_context(|| format!("{shown}: cannot read it"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{shown}: not UTF-8 text"))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut project = Project::parse(&text, &shown, dir)?;
        use sha2::Digest;
        project.stamp = Some(FileStamp {
            path: path.display().to_string(),
            sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
        });
        project.path = Some(path.to_path_buf());
        project.text = text;
        Ok(project)
    }

    /// Parses a project file's text; `dir` is where its relative paths start, `shown` names
    /// it in errors.
    pub fn parse(text: &str, shown: &str, dir: &Path) -> Result<Project> {
        let form: Form = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!("{shown}: {}", aliaudit_core::diag::toml_error(text, &e))
        })?;
        let path = |p: String| -> PathBuf {
            if dir.as_os_str().is_empty() {
                PathBuf::from(p)
            } else {
                dir.join(p)
            }
        };
        let r = form.report;
        if let Some(lang) = &r.lang
            && !["en", "zh"].contains(&lang.as_str())
        {
            bail!("{shown}: [report] lang \"{lang}\" is not en or zh");
        }
        if let Some(mb) = r.max_file_mb
            && !(1..=4096).contains(&mb)
        {
            bail!("{shown}: [report] max_file_mb {mb} is not between 1 and 4096");
        }
        if r.inputs.iter().any(|i| i.trim().is_empty()) {
            bail!("{shown}: [report] inputs holds an empty path");
        }
        let c = form.collect;
        if let Some(lang) = &c.lang
            && !["en", "zh"].contains(&lang.as_str())
        {
            bail!("{shown}: [collect] lang \"{lang}\" is not en or zh");
        }
        Ok(Project {
            report: ReportDefaults {
                inputs: r.inputs.into_iter().map(path).collect(),
                out: r.out.map(path),
                formats: r.formats,
                lang: r.lang,
                as_of: r.as_of,
                period: r.period,
                rules: r.rules.map(path),
                benchmark: r.benchmark,
                frameworks: r.framework,
                framework_files: r.framework_files.into_iter().map(path).collect(),
                exceptions: r.exceptions.map(path),
                branding: r.branding.map(path),
                baseline: r.baseline.map(path),
                templates: r.templates.map(path),
                font: r.font.map(path),
                strict: r.strict,
                max_file_mb: r.max_file_mb,
            },
            collect: CollectDefaults {
                accounts: c.accounts.map(path),
                out: c.out.map(path),
                lang: c.lang,
            },
            has_deliver: form.deliver.is_some(),
            ..Project::default()
        })
    }
}

/// The commented example `aliaudit init` writes.
pub const EXAMPLE: &str = r#"# aliaudit project file: the choices of the quarterly job in one place.
# `aliaudit report` (and validate, collect, deliver) read ./aliaudit.toml, or the file given
# with --config FILE. Every command-line flag overrides the value here. Paths are relative to
# this file. An unknown key is an error naming its line.

[report]
# Input roots: folders holding one folder per account.
inputs = ["evidence/2026-q4"]
# Output folder.
out = "reports/2026-q4"
# Output formats (manifest.json is always written).
formats = ["json", "csv", "html", "pdf"]
# Report language: en or zh.
lang = "en"
# Ages are measured against this date (default: the newest evidence timestamp).
# as_of = "2026-12-31"
# Name of the period in histories and trend charts (default: the as-of date's quarter).
# period = "2026-Q4"
# Last quarter's output folder: adds the change since then and the trend charts.
# baseline = "reports/2026-q3"
# The CIS Alibaba Cloud Foundations Benchmark version scored: cis-v2 (v2.0.0) or cis-v1
# (v1.0.0). The other version's own controls are shown as informational.
# benchmark = "cis-v2"
# Also roll the controls up into these frameworks' requirements (summary.json `frameworks`):
# mlps2-l2, mlps2-l3, iso27001-2022, soc2-2017, nist-800-53r5, cis-controls-v8.1.
# framework = ["mlps2-l3", "iso27001-2022"]
# Framework files of your own (TOML, as crates/core/data/frameworks/*.toml).
# framework_files = ["frameworks/acme.toml"]
# Thresholds, severities, rating thresholds ([rating]) and due-date policy ([due_days]).
# rules = "rules.toml"
# Accepted risks ([[exception]] entries).
# exceptions = "exceptions.toml"
# White-label branding (company, logo, accent, prepared_by...).
# branding = "branding.toml"
# Treat any rejected input or incomplete account as a failure.
# strict = false

[collect]
# Accounts file of `aliaudit collect`, and where the evidence goes.
# accounts = "accounts.toml"
# out = "evidence/2026-q4"

# The delivery configuration of `aliaudit deliver` (the same keys as its own file).
# [deliver]
# from = "Audit Team <audit@example.com>"
# management = ["cfo@example.com"]
# [deliver.smtp]
# host = "smtp.example.com"
# user = "audit@example.com"
# password_env = "ALIAUDIT_SMTP_PASSWORD"
"#;

/// `aliaudit init [DIR]`: writes `DIR/aliaudit.toml` (the commented example); an existing
/// file is kept and is an error.
pub fn init(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", aliaudit_core::diag::shown_path(dir)))?;
    let path = dir.join(FILE_NAME);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot write {} (an existing project file is never replaced)",
                aliaudit_core::diag::shown_path(&path)
            )
        })?;
    use std::io::Write;
    file.write_all(EXAMPLE.as_bytes())
        .with_context(|| format!("cannot write {}", aliaudit_core::diag::shown_path(&path)))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_example_parses_and_its_paths_start_at_the_file() {
        let p = Project::parse(EXAMPLE, "aliaudit.toml", Path::new("/srv/audit")).unwrap();
        assert_eq!(
            p.report.inputs,
            [PathBuf::from("/srv/audit/evidence/2026-q4")]
        );
        assert_eq!(
            p.report.out,
            Some(PathBuf::from("/srv/audit/reports/2026-q4"))
        );
        assert_eq!(p.report.lang.as_deref(), Some("en"));
        assert!(!p.has_deliver);
        let here = Project::parse(EXAMPLE, "aliaudit.toml", Path::new("")).unwrap();
        assert_eq!(here.report.inputs, [PathBuf::from("evidence/2026-q4")]);
    }

    #[test]
    fn frameworks_are_listed_and_their_files_start_at_the_file() {
        let text = EXAMPLE
            .replace("# framework = [", "framework = [")
            .replace("# framework_files = [", "framework_files = [");
        let p = Project::parse(&text, "aliaudit.toml", Path::new("/srv/audit")).unwrap();
        assert_eq!(p.report.frameworks, ["mlps2-l3", "iso27001-2022"]);
        assert_eq!(
            p.report.framework_files,
            [PathBuf::from("/srv/audit/frameworks/acme.toml")]
        );
        let none = Project::parse(EXAMPLE, "aliaudit.toml", Path::new("")).unwrap();
        assert!(none.report.frameworks.is_empty() && none.report.framework_files.is_empty());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it_and_its_line() {
        let text = "[report]\ninputs = [\"e\"]\nformat = [\"pdf\"]\n";
        let e = Project::parse(text, "aliaudit.toml", Path::new("")).unwrap_err();
        let e = e.to_string();
        assert!(e.starts_with("aliaudit.toml: line 3, column 1: "), "{e}");
        assert!(e.contains("unknown field `format`"), "{e}");
        let e = Project::parse("[reprot]\n", "p.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1") && e.contains("unknown field `reprot`"),
            "{e}"
        );
    }

    #[test]
    fn values_out_of_range_are_errors() {
        for (text, says) in [
            ("[report]\nlang = \"fr\"\n", "lang \"fr\" is not en or zh"),
            (
                "[report]\nmax_file_mb = 0\n",
                "max_file_mb 0 is not between 1 and 4096",
            ),
            ("[report]\ninputs = [\" \"]\n", "inputs holds an empty path"),
            ("[report]\nstrict = \"yes\"\n", "line 2"),
            ("[report]\nbenchmark = \"cis-v3\"\n", "line 2"),
        ] {
            let e = Project::parse(text, "p.toml", Path::new(""))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    proptest::proptest! {
        /// Any text, including edits of the example, reads or is an error naming the file;
        /// nothing panics.
        #[test]
        fn any_text_reads_or_is_a_named_error(
            cut in 0..EXAMPLE.len(),
            insert in "[ -~\n\\[\\]=\"]{0,40}",
        ) {
            let cut = (0..=cut).rev().find(|i| EXAMPLE.is_char_boundary(*i)).unwrap_or(0);
            let text = format!("{}{insert}{}", &EXAMPLE[..cut], &EXAMPLE[cut..]);
            if let Err(e) = Project::parse(&text, "p.toml", Path::new("d")) {
                proptest::prop_assert!(e.to_string().starts_with("p.toml: "), "{e}");
            }
        }
    }

    #[test]
    fn init_writes_the_example_once_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = init(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), EXAMPLE);
        std::fs::write(&path, "# mine\n").unwrap();
        assert!(init(dir.path()).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    }
}
