//! `merge`: the output set of one run, put together from the folders of every
//! `report --shard K/N` without reading the evidence again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::set::{self, Ending, Rendering, WRITABLE};
use super::{Format, Outcome};
use aliaudit_core::diag::shown_path as shown;
use aliaudit_core::ingest::Limits;
use aliaudit_core::pipeline::{self, Run, RunOptions};
use aliaudit_core::stamp::FileStamp;
use aliaudit_report::output;

/// A `merge` run, validated from the flags.
#[derive(Debug, Clone)]
pub struct MergeSpec {
    /// The output folders of every shard of one run.
    pub shards: Vec<PathBuf>,
    /// The output folder.
    pub out: PathBuf,
    /// Worker threads (`None`: one per core).
    pub jobs: Option<usize>,
    /// No diagnostics or totals on the terminal.
    pub quiet: bool,
}

/// Whether two paths name the same folder (both resolved; a missing one is never the same).
fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Checks that a file the shards used is still the same (by its SHA-256).
fn same_file(what: &str, recorded: &Option<FileStamp>, now: Option<&str>) -> Result<()> {
    match (recorded, now) {
        (Some(FileStamp { path, sha256 }), Some(now)) if sha256 != now => bail!(
            "{path} ({what}) changed since the shards ran; run the shards again or restore it"
        ),
        _ => Ok(()),
    }
}

/// Runs `merge`: reads every shard folder as untrusted input, checks that the files the
/// shards used are unchanged, and writes what one run would have written.
pub fn run(spec: &MergeSpec) -> Result<Outcome> {
    let quiet = spec.quiet;
    for folder in &spec.shards {
        if same_folder(folder, &spec.out) {
            bail!(
                "-o {} is one of the shard folders; the merge replaces its output folder as a whole, so give a new one",
                shown(&spec.out)
            );
        }
    }
    // A second run into OUT stops here, before any shard is read.
    let staged = aliaudit_report::outdir::Staged::begin(&spec.out, "merge")?;
    super::note_cleaned(&staged, quiet);
    let shard_locks = lock_shards(&spec.shards)?;
    let merged = aliaudit_report::shard::read(&spec.shards)?;
    let shard_spec = &merged.spec;
    let options = merged_options(&merged)?;
    let as_of = options.as_of;
    let formats: Vec<Format> = shard_spec
        .manifest
        .formats
        .iter()
        .filter_map(|f| Format::from_name(f))
        .collect();
    let templates = if formats.contains(&Format::Html) {
        Some(
            aliaudit_report::render::html::Templates::load(
                shard_spec.templates.as_deref().map(Path::new),
                options.lang,
            )
            .context("the report templates do not load (the shards' --templates)")?,
        )
    } else {
        None
    };
    let mut diagnostics = merged.diagnostics.clone();
    diagnostics.extend(pipeline::run_diagnostics(&merged.accounts, as_of, &options));
    let mut run = Run::from_parts(
        as_of,
        pipeline::AsOfSource::Option,
        merged.accounts.clone(),
        merged.files.clone(),
        diagnostics,
        &options,
    );
    run.set_framework_figures(merged.framework_figures.clone())
        .map_err(|e| {
            anyhow::anyhow!("the shards' {e}; a shard folder is damaged: run that shard again")
        })?;
    check_page_names(&run, &merged)?;
    if let Some(stop) = set::check(&mut run, shard_spec.manifest.strict, quiet) {
        return Ok(stop);
    }
    let out = staged.path();
    let pool = super::thread_pool(spec.jobs)?;
    let ending = Ending {
        options: &options,
        formats: &formats,
        rendering: Rendering {
            templates: templates.as_ref(),
            font: shard_spec.font.as_deref().map(Path::new),
            pdf: formats.contains(&Format::Pdf),
            quiet,
        },
        pool: &pool,
        manifest: &shard_spec.manifest,
    };
    let written = set::write_set(
        &ending,
        &mut run,
        merged.fragments(),
        out,
        aliaudit_report::pages::Pages::RollUps,
        |run| copy_pages(run, &merged, &formats, &pool, out),
    )?;
    staged.commit().context(WRITABLE)?;
    drop(shard_locks);
    if !quiet {
        println!("{}", super::totals_line(&run));
        println!(
            "merged {} shards; wrote {} to {}",
            spec.shards.len(),
            written.join(", "),
            shown(&spec.out)
        );
    }
    super::print_timings();
    Ok(Outcome::from_problems(run.has_problems()))
}

/// Locks every shard folder for reading, so that none changes while it is read.
fn lock_shards(shards: &[PathBuf]) -> Result<Vec<aliaudit_report::outdir::Lock>> {
    let mut locks = Vec::new();
    let mut locked = std::collections::BTreeSet::new();
    for folder in shards {
        // A folder named twice is refused by the reader, with a better message.
        if !locked.insert(std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone())) {
            continue;
        }
        // Shards on a read-only volume cannot be rewritten while we read them either.
        locks.extend(aliaudit_report::outdir::Lock::for_reading(
            folder,
            "merge (reading this shard)",
        )?);
    }
    Ok(locks)
}

/// The options the shards ran with, read again from the files they name: rules,
/// exceptions, branding and baseline, each checked unchanged since the shards ran.
fn merged_options(merged: &aliaudit_report::shard::Merged) -> Result<RunOptions> {
    let shard_spec = &merged.spec;
    let m = &shard_spec.manifest;
    let path_of = |f: &Option<FileStamp>| f.as_ref().map(|f| PathBuf::from(&f.path));
    let (mut rules, rules_file) = super::load_rules(path_of(&m.rules_file).as_ref())?;
    // The version the shards scored (their flag or their rules file's value).
    rules.benchmark = m.benchmark;
    same_file(
        "--rules",
        &m.rules_file,
        rules_file.as_ref().map(|f| f.sha256.as_str()),
    )?;
    let exceptions = super::load_exceptions(path_of(&m.exceptions_file).as_ref())?;
    same_file(
        "--exceptions",
        &m.exceptions_file,
        exceptions.file.as_ref().map(|f| f.sha256.as_str()),
    )?;
    merged.check_exception_hits(&exceptions)?;
    let framework_paths: Vec<PathBuf> = m
        .framework_files
        .iter()
        .map(|f| PathBuf::from(&f.path))
        .collect();
    let (frameworks, framework_files) = super::load_frameworks(&m.frameworks, &framework_paths)?;
    for (recorded, now) in m.framework_files.iter().zip(&framework_files) {
        same_file(
            "--framework-file",
            &Some(recorded.clone()),
            Some(now.sha256.as_str()),
        )?;
    }
    let branding = match path_of(&m.branding_file) {
        Some(path) => aliaudit_core::branding::Branding::load(&path)?,
        None => Default::default(),
    };
    same_file(
        "--branding",
        &m.branding_file,
        branding.file.as_ref().map(|f| f.sha256.as_str()),
    )?;
    let baseline = match &shard_spec.baseline {
        Some(FileStamp { path, .. }) => {
            let path = PathBuf::from(path);
            let now = super::sha256_of_file(&path)?;
            same_file("--baseline", &shard_spec.baseline, Some(&now))?;
            Some(Arc::new(aliaudit_core::trend::Baseline::load(&path)?))
        }
        None => None,
    };
    let lang = if m.lang == "zh" {
        aliaudit_core::i18n::Lang::Zh
    } else {
        aliaudit_core::i18n::Lang::En
    };
    Ok(RunOptions {
        inputs: m.inputs.iter().map(PathBuf::from).collect(),
        exclude: Vec::new(),
        as_of: Some(aliaudit_core::text::parse_as_of(&shard_spec.as_of)?),
        rules,
        limits: Limits {
            max_file_bytes: m.max_file_bytes,
            hash: true,
        },
        keep_resources: true,
        progress: None,
        exceptions: Arc::new(exceptions),
        baseline,
        period: shard_spec.period.clone(),
        branding: Arc::new(branding),
        lang,
        shard: None,
        frameworks: Arc::new(frameworks),
    })
}

/// Refuses a merge whose page names differ from a single run's. The shards named pages
/// among every account of the input; a single run names them among the accounts it found.
/// They differ only when a folder without evidence takes an account's name.
fn check_page_names(run: &Run, merged: &aliaudit_report::shard::Merged) -> Result<()> {
    let (account_slugs, customers) = aliaudit_report::view::page_names(run);
    if customers != merged.customer_slugs
        || run
            .accounts
            .iter()
            .any(|a| merged.pages.get(&a.info.id).map(|p| &p.1) != account_slugs.get(&a.info.id))
    {
        bail!(
            "the shards named some pages differently from a single run (a folder without evidence has the same page name as an account); run the report unsharded"
        );
    }
    Ok(())
}

/// Copies the accounts' pages as the shards wrote them into the staging folder `out`.
fn copy_pages(
    run: &Run,
    merged: &aliaudit_report::shard::Merged,
    formats: &[Format],
    pool: &rayon::ThreadPool,
    out: &Path,
) -> Result<Option<&'static str>> {
    let exts: Vec<&str> = [(Format::Html, "html"), (Format::Pdf, "pdf")]
        .iter()
        .filter(|(f, _)| formats.contains(f))
        .map(|(_, e)| *e)
        .collect();
    if exts.is_empty() {
        return Ok(None);
    }
    std::fs::create_dir_all(out.join("accounts")).context(WRITABLE)?;
    pool.install(|| {
        use rayon::prelude::*;
        run.accounts.par_iter().try_for_each(|a| -> Result<()> {
            let (dir, slug) = &merged.pages[&a.info.id];
            for ext in &exts {
                let from = dir.join("accounts").join(format!("{slug}.{ext}"));
                let bytes = std::fs::read(&from)
                    .with_context(|| format!("cannot read {}", from.display()))?;
                let to = out.join("accounts").join(format!("{slug}.{ext}"));
                output::write_atomic(&to, |w| {
                    std::io::Write::write_all(w, &bytes).map_err(|e| output::OutputError::Write {
                        path: to.clone(),
                        source: e,
                    })
                })
                .context(WRITABLE)?;
            }
            Ok(())
        })
    })?;
    Ok(Some("accounts/ pages (from the shards)"))
}
