//! `report` and `report --shard K/N`: evaluate every account under the inputs and write the
//! output set (or a shard's part of it) into OUT.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::set::{self, Ending, Rendering, WRITABLE};
use super::{Format, Outcome};
use aliaudit_core::diag::shown_path as shown;
use aliaudit_core::ingest::Limits;
use aliaudit_core::pipeline::{self, RunOptions, Shard};
use aliaudit_core::stamp::FileStamp;
use aliaudit_core::summary::ManifestOptions;
use aliaudit_report::output;

/// What `report` and `validate` evaluate, validated from the flags.
#[derive(Debug, Clone)]
pub struct EvalSpec {
    /// The input roots.
    pub inputs: Vec<PathBuf>,
    /// `--as-of`: the instant ages are measured against (else: the newest evidence).
    pub as_of: Option<DateTime<Utc>>,
    /// `--rules`: a rules file.
    pub rules: Option<PathBuf>,
    /// `--benchmark`: the benchmark version scored (else the rules file's, else cis-v2).
    pub benchmark: Option<aliaudit_core::rules::Benchmark>,
    /// `--exceptions`: an accepted-risk register.
    pub exceptions: Option<PathBuf>,
    /// Worker threads (`None`: one per core).
    pub jobs: Option<usize>,
    /// `--strict`: write nothing when some input is rejected or some account incomplete.
    pub strict: bool,
    /// No diagnostics or totals on the terminal.
    pub quiet: bool,
    /// The largest evidence file read, in bytes.
    pub max_file_bytes: u64,
    /// The project file the settings came from (with its SHA-256), when there was one.
    pub project: Option<FileStamp>,
    /// `--framework`: built-in frameworks whose requirements are rolled up (ids).
    pub frameworks: Vec<String>,
    /// `--framework-file`: the user's framework files.
    pub framework_files: Vec<PathBuf>,
}

/// A `report` run, validated from the flags.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    /// What is evaluated.
    pub eval: EvalSpec,
    /// The output folder.
    pub out: PathBuf,
    /// The formats written (sorted, each once).
    pub formats: Vec<Format>,
    /// `--templates`: a folder of templates replacing the built-ins.
    pub templates: Option<PathBuf>,
    /// `--font`: a font for characters the embedded one lacks.
    pub font: Option<PathBuf>,
    /// `--baseline`: the previous output folder or its summary.json.
    pub baseline: Option<PathBuf>,
    /// The language of the pages.
    pub lang: aliaudit_core::i18n::Lang,
    /// `--branding`: a branding file.
    pub branding: Option<PathBuf>,
    /// `--period`: the label of this period (checked: 1 to 40 characters, no controls).
    pub period: Option<String>,
    /// `--shard`: only this shard's accounts (then `as_of` is set).
    pub shard: Option<Shard>,
}

/// The run options and the rules file (name, SHA-256) of an evaluation.
pub(crate) struct Prepared {
    pub(crate) options: RunOptions,
    rules_file: Option<FileStamp>,
    framework_files: Vec<FileStamp>,
}

/// Reads the rules and exceptions files into run options (nothing else set yet).
pub(crate) fn prepare(spec: &EvalSpec) -> Result<Prepared> {
    let (mut rules, rules_file) = super::load_rules(spec.rules.as_ref())?;
    if let Some(benchmark) = spec.benchmark {
        rules.benchmark = benchmark;
    }
    let exceptions = super::load_exceptions(spec.exceptions.as_ref())?;
    let (frameworks, framework_files) =
        super::load_frameworks(&spec.frameworks, &spec.framework_files)?;
    Ok(Prepared {
        options: RunOptions {
            inputs: spec.inputs.clone(),
            exclude: Vec::new(),
            as_of: spec.as_of,
            rules,
            limits: Limits {
                max_file_bytes: spec.max_file_bytes,
                hash: true,
            },
            keep_resources: true,
            progress: None,
            exceptions: Arc::new(exceptions),
            baseline: None,
            period: None,
            branding: Default::default(),
            lang: Default::default(),
            shard: None,
            frameworks: Arc::new(frameworks),
        },
        rules_file,
        framework_files,
    })
}

/// Runs `report`: evaluates, then writes the output set (a shard: its part) into OUT, which
/// holds the previous set until the new one is complete.
pub fn run(spec: &ReportSpec) -> Result<Outcome> {
    let quiet = spec.eval.quiet;
    // The baseline, branding and templates are read before anything is written: a bad one
    // fails fast (exit 1) and leaves OUT as it was.
    let (prepared, baseline_file) = report_options(spec)?;
    let pool = super::thread_pool(spec.eval.jobs)?;
    let templates = if spec.formats.contains(&Format::Html) {
        Some(
            aliaudit_report::render::html::Templates::load(spec.templates.as_deref(), spec.lang)
                .context("the report templates do not load (check --templates)")?,
        )
    } else {
        None
    };
    let formats = &spec.formats;
    // The new set is built beside OUT and swapped in at the end; OUT stays the previous
    // complete set until then, and a second run into it stops here.
    let staged = aliaudit_report::outdir::Staged::begin(&spec.out, "report")?;
    super::note_cleaned(&staged, quiet);
    let out = staged.path();
    // Each account's summary.json entry and findings.csv rows are kept in a spill while the
    // run goes on, so memory holds the accounts in flight, not the portfolio.
    // The PDFs embed the rows: they are compressed once here, beside the account's other
    // fragments, for its own PDF, its customer's and the portfolio's.
    let spill = output::Spill::new(out, formats.contains(&Format::Pdf)).context(WRITABLE)?;
    // A shard keeps the fragments of every account for the merge; the PDFs embed the rows.
    let data = spec.shard.is_some()
        || [Format::Json, Format::Csv, Format::Pdf]
            .iter()
            .any(|f| formats.contains(f));
    let sink = |a: &pipeline::AccountResult, as_of| {
        if !data {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let (json, csv) = output::account_fragments(a, as_of, &prepared.options.frameworks)?;
        spill.put(&a.info.folder, &json, &csv)?;
        aliaudit_core::timing::add(aliaudit_core::timing::Stage::Data, started);
        Ok(())
    };
    let mut run = super::evaluate(&prepared.options, quiet, &pool, Some(&sink))?;
    let spill = spill.finish().context(WRITABLE)?;
    let manifest = manifest_options(spec, &prepared);
    let ending = Ending {
        options: &prepared.options,
        formats,
        rendering: Rendering {
            templates: templates.as_ref(),
            font: spec.font.as_deref(),
            pdf: formats.contains(&Format::Pdf),
            quiet,
        },
        pool: &pool,
        manifest: &manifest,
    };
    if let Some(shard) = spec.shard {
        // A shard writes its accounts' pages and its summary; the merge does the rest.
        super::print_diagnostics(&run, quiet);
        let shard_spec = shard_spec(spec, shard, &run, &manifest, baseline_file);
        // The account PDFs embed the manifest of their own files, which a shard knows.
        let mut manifest_bytes = Vec::new();
        output::manifest_json(&run, &manifest, &mut manifest_bytes).context(WRITABLE)?;
        let mut written = set::pages(
            &ending,
            &mut run,
            out,
            aliaudit_report::pages::Pages::Accounts,
            &std::sync::Arc::new(manifest_bytes),
            &spill,
        )?;
        aliaudit_report::shard::write(&run, &spill, &shard_spec, shard, out).context(WRITABLE)?;
        written.push("shard.json and shard-fragments.dat");
        drop(spill);
        staged.commit().context(WRITABLE)?;
        if !quiet {
            println!(
                "shard {}/{}: {} accounts; wrote {} to {}; when every shard is done: aliaudit merge SHARD_OUT... -o OUT",
                shard.index,
                shard.count,
                run.accounts.len(),
                written.join(", "),
                shown(&spec.out)
            );
        }
        super::print_timings();
        // Problems are the whole run's: the merge's exit code tells them.
        return Ok(Outcome::Complete);
    }
    if let Some(stop) = set::check(&mut run, spec.eval.strict, quiet) {
        // The staging folder goes with `staged`; OUT keeps the previous set.
        return Ok(stop);
    }
    let written = set::write_set(
        &ending,
        &mut run,
        spill,
        out,
        aliaudit_report::pages::Pages::All,
        |_| Ok(None),
    )?;
    staged.commit().context(WRITABLE)?;
    if !quiet {
        println!("{}", super::totals_line(&run));
        println!("wrote {} to {}", written.join(", "), shown(&spec.out));
    }
    super::print_timings();
    Ok(Outcome::from_problems(run.has_problems()))
}

/// The run options of a `report` (rules, exceptions, branding, baseline, language, shard,
/// period; OUT excluded from the inputs), and for a shard the baseline file's stamp, which
/// the merge checks.
fn report_options(spec: &ReportSpec) -> Result<(Prepared, Option<FileStamp>)> {
    let mut prepared = prepare(&spec.eval)?;
    prepared.options.shard = spec.shard;
    prepared.options.period = spec.period.clone();
    prepared.options.lang = spec.lang;
    // Our own pages are never evidence, even when -o is inside an input root.
    prepared.options.exclude = vec![spec.out.clone()];
    if let Some(path) = &spec.branding {
        prepared.options.branding = Arc::new(aliaudit_core::branding::Branding::load(path)?);
    }
    let mut baseline_file = None;
    if let Some(path) = &spec.baseline {
        prepared.options.baseline = Some(Arc::new(aliaudit_core::trend::Baseline::load(path)?));
        if spec.shard.is_some() {
            let file = if path.is_dir() {
                path.join("summary.json")
            } else {
                path.clone()
            };
            baseline_file = Some(FileStamp {
                path: file.display().to_string(),
                sha256: super::sha256_of_file(&file)?,
            });
        }
    }
    Ok((prepared, baseline_file))
}

/// What manifest.json records of the options: inputs, formats, files used, language,
/// thresholds and limits.
fn manifest_options(spec: &ReportSpec, prepared: &Prepared) -> ManifestOptions {
    let options = &prepared.options;
    ManifestOptions {
        inputs: aliaudit_core::discover::root_labels(&spec.eval.inputs),
        formats: set::format_names(&spec.formats),
        strict: spec.eval.strict,
        rules_file: prepared.rules_file.clone(),
        project_file: spec.eval.project.clone(),
        exceptions_file: options.exceptions.file.clone(),
        branding_file: options.branding.file.clone(),
        lang: spec.lang.code().to_string(),
        benchmark: options.rules.benchmark,
        thresholds: options
            .rules
            .thresholds
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        max_file_bytes: options.limits.max_file_bytes,
        frameworks: spec.eval.frameworks.clone(),
        framework_files: prepared.framework_files.clone(),
    }
}

/// What a shard records for the merge: the options every shard must share, the as-of, and
/// a digest of the account ids it saw.
fn shard_spec(
    spec: &ReportSpec,
    shard: Shard,
    run: &pipeline::Run,
    manifest: &ManifestOptions,
    baseline: Option<FileStamp>,
) -> aliaudit_report::shard::RunSpec {
    aliaudit_report::shard::RunSpec {
        manifest: manifest.clone(),
        as_of: run
            .as_of
            .map(aliaudit_core::text::rfc3339)
            .unwrap_or_default(),
        period: spec.period.clone(),
        baseline,
        templates: spec.templates.as_ref().map(|p| p.display().to_string()),
        font: spec.font.as_ref().map(|p| p.display().to_string()),
        count: shard.count,
        input_ids: aliaudit_report::shard::ids_digest(
            run.everyone.iter().flatten().map(|(id, _)| id.as_str()),
        ),
    }
}
