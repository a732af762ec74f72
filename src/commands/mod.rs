//! The commands as library functions. `cli` turns the flags into a validated spec (a
//! [`report::ReportSpec`], a [`merge::MergeSpec`]...) and calls one function here, which runs
//! the stages and says how the run went ([`Outcome`]). The commands print what a user sees on
//! the terminal (diagnostics, the totals, what was written); errors are returned.
//!
//! `report`, a shard (`report --shard`) and `merge` end with one shared sequence
//! (`commands/set.rs`): data files, pages, manifest, then the swap of the output folder.

pub(crate) mod collect;
pub(crate) mod controls;
pub(crate) mod deliver;
pub mod merge;
pub mod report;
pub(crate) mod sample;
mod set;
pub(crate) mod validate;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use aliaudit_core::diag::Level;
use aliaudit_core::pipeline::{self, Run};
use aliaudit_core::rules::RulePack;
use aliaudit_core::stamp::FileStamp;

/// How a command went, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every account fully evaluated and no input rejected (or: every message sent, every
    /// account collected).
    Complete,
    /// The outputs were written, but some input was rejected or some account is incomplete
    /// (with `--strict`: and nothing was written).
    Incomplete,
}

impl Outcome {
    /// `Incomplete` when `problems`, else `Complete`.
    fn from_problems(problems: bool) -> Outcome {
        if problems {
            Outcome::Incomplete
        } else {
            Outcome::Complete
        }
    }
}

/// The output formats of `report` (manifest.json is always written). Ordered as the manifest
/// lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// summary.json.
    Json,
    /// findings.csv.
    Csv,
    /// HTML pages.
    Html,
    /// PDF pages.
    Pdf,
    /// findings.ocsf.jsonl.
    Ocsf,
}

impl Format {
    /// The name used on the command line and in the manifest.
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Ocsf => "ocsf",
        }
    }

    /// The format of a name in the manifest (ASCII case ignored).
    fn from_name(name: &str) -> Option<Format> {
        [
            Format::Json,
            Format::Csv,
            Format::Html,
            Format::Pdf,
            Format::Ocsf,
        ]
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// Reads a rules file; with it, its name as given and its SHA-256.
fn load_rules(path: Option<&PathBuf>) -> Result<(RulePack, Option<FileStamp>)> {
    let Some(path) = path else {
        return Ok((RulePack::default(), None));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rules file {}", path.display()))?;
    let shown = path.display().to_string();
    let pack = RulePack::from_toml(&text, &shown)?;
    let stamp = FileStamp {
        path: shown,
        sha256: sha256_hex(text.as_bytes()),
    };
    Ok((pack, Some(stamp)))
}

/// The frameworks of a run: the built-in ones named, then the user's files (each checked,
/// errors naming entry and line), with the files' stamps.
fn load_frameworks(
    ids: &[String],
    files: &[PathBuf],
) -> Result<(Vec<aliaudit_core::frameworks::Framework>, Vec<FileStamp>)> {
    let mut texts = Vec::new();
    let mut stamps = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read framework file {}", path.display()))?;
        let shown = path.display().to_string();
        stamps.push(FileStamp {
            path: shown.clone(),
            sha256: sha256_hex(text.as_bytes()),
        });
        texts.push((shown, text));
    }
    let frameworks = aliaudit_core::frameworks::select(ids, &texts).map_err(anyhow::Error::msg)?;
    Ok((frameworks, stamps))
}

/// Reads an exceptions register (an empty one without a file).
fn load_exceptions(path: Option<&PathBuf>) -> Result<aliaudit_core::exceptions::Register> {
    let Some(path) = path else {
        return Ok(aliaudit_core::exceptions::Register::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read exceptions file {}", path.display()))?;
    let sha = sha256_hex(text.as_bytes());
    Ok(aliaudit_core::exceptions::Register::from_toml(
        &text,
        &path.display().to_string(),
        sha,
    )?)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The SHA-256 of a file, streamed.
fn sha256_of_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut file, &mut h).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

/// One worker pool for reading, evaluating and rendering (`None`: one thread per core).
fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")
}

/// Runs the pipeline with a progress bar on a terminal; with a sink, each account's findings
/// go to it and are not kept.
fn evaluate(
    options: &pipeline::RunOptions,
    quiet: bool,
    pool: &rayon::ThreadPool,
    sink: Option<pipeline::Sink<'_>>,
) -> Result<Run> {
    // A progress bar only on a terminal (indicatif draws nothing when stderr is piped).
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} reading folders {bar:30} {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let mut options = options.clone();
    if let Some(bar) = &bar {
        let bar = bar.clone();
        options.progress = Some(pipeline::Progress(std::sync::Arc::new(
            move |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )));
    }
    let run = match sink {
        Some(sink) => pool.install(|| pipeline::run_streamed(&options, sink))?,
        None => pool.install(|| pipeline::run(&options))?,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(run)
}

/// Prints the run's warnings and errors on stderr (unless `quiet`).
fn print_diagnostics(run: &Run, quiet: bool) {
    if quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    for d in run.diagnostics.iter().filter(|d| d.level != Level::Info) {
        let _ = writeln!(err, "{d}");
    }
}

/// The one-line totals of a run: accounts by state, mean score, files, as-of.
fn totals_line(run: &Run) -> String {
    let p = &run.portfolio;
    let score = p
        .mean()
        .map(|s| format!(", mean score {s}"))
        .unwrap_or_default();
    let rejected = run
        .files
        .iter()
        .filter(|f| f.status == aliaudit_core::evidence::FileStatus::Rejected)
        .count();
    format!(
        "{} accounts ({} complete, {} partial, {} failed){score}; {} files read, {rejected} rejected; as of {}",
        p.accounts,
        p.complete,
        p.partial,
        p.failed,
        run.files.len(),
        run.as_of
            .map(aliaudit_core::text::rfc3339)
            .unwrap_or_else(|| "unknown".into())
    )
}

/// For the benchmarks: CPU seconds per stage, summed over threads, with `ALIAUDIT_TIMINGS`.
fn print_timings() {
    if aliaudit_core::timing::enabled() {
        for (stage, secs) in aliaudit_core::timing::report() {
            eprintln!("timing {stage} {secs:.3}");
        }
        if let Some(d) = aliaudit_core::timing::documents() {
            eprintln!(
                "timing pdf_documents {} median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                d.count, d.median_ms, d.p95_ms, d.max_ms
            );
        }
    }
}

/// Says once what a run that died had left beside the output folder and this run removed.
fn note_cleaned(staged: &aliaudit_report::outdir::Staged, quiet: bool) {
    if !quiet && !staged.cleaned.is_empty() {
        eprintln!(
            "note: removed what an interrupted run left beside {}: {}",
            staged.shown(),
            staged.cleaned.join(", ")
        );
    }
}
