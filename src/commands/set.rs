//! The sequence that ends `report` and `merge` (and, for its pages, a shard): the strict
//! check, summary.json and findings.csv from the accounts' fragments, the pages, the
//! manifest, then the staged folder swapped into place.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::{Format, Outcome, print_diagnostics, totals_line};
use aliaudit_core::pipeline::{Run, RunOptions};
use aliaudit_core::summary::ManifestOptions;
use aliaudit_report::output::{self, Fragments};

/// The hint of every failed write below OUT.
pub(super) const WRITABLE: &str = "check that the output folder is writable (-o)";

/// How pages are rendered: the templates (HTML), the extra font (PDF), whether PDFs are
/// wanted, and whether to stay quiet.
pub(super) struct Rendering<'a> {
    pub(super) templates: Option<&'a aliaudit_report::render::html::Templates>,
    pub(super) font: Option<&'a Path>,
    pub(super) pdf: bool,
    pub(super) quiet: bool,
}

/// How a run is written: everything the shared sequence needs besides the run.
pub(super) struct Ending<'a> {
    pub(super) options: &'a RunOptions,
    pub(super) formats: &'a [Format],
    pub(super) rendering: Rendering<'a>,
    pub(super) pool: &'a rayon::ThreadPool,
    pub(super) manifest: &'a ManifestOptions,
}

/// The names of the formats, for the manifest.
pub(super) fn format_names(formats: &[Format]) -> Vec<String> {
    formats.iter().map(|f| f.name().to_string()).collect()
}

/// Adds the branding warnings, prints the diagnostics and, with `--strict` and problems,
/// says that nothing is written. Returns the outcome when the run stops there.
pub(super) fn check(run: &mut Run, strict: bool, quiet: bool) -> Option<Outcome> {
    // Branding for a customer this run does not have is probably a typo.
    let warnings = branding_warnings(run);
    run.diagnostics.extend(warnings);
    print_diagnostics(run, quiet);
    if strict && run.has_problems() {
        if !quiet {
            eprintln!("{}", totals_line(run));
            eprintln!(
                "strict: some input was rejected or some account is incomplete; nothing written"
            );
        }
        return Some(Outcome::Incomplete);
    }
    None
}

/// `[customers."X"]` branding tables that match no customer of the run: probably typos.
fn branding_warnings(run: &Run) -> Vec<aliaudit_core::diag::Diagnostic> {
    let branding = &run.branding;
    branding
        .customers()
        .filter(|name| {
            !run.accounts
                .iter()
                .any(|a| a.info.customer.as_deref() == Some(*name))
        })
        .map(|name| {
            let file = branding.file.as_ref();
            aliaudit_core::diag::Diagnostic::warning(
                file.map(|f| aliaudit_core::stamp::shown(&f.path))
                    .unwrap_or_default(),
                format!("[customers.\"{name}\"] matches no customer of this run"),
            )
        })
        .collect()
}

/// Writes the whole set into the staging folder `out`: the pages of `which` (first: their
/// warnings belong in summary.json; the PDFs embed the manifest, made before them since it
/// lists inputs only, and their findings rows), the data files from `fragments` (dropped once
/// they are written: a spill's files must not reach OUT), what `extra` adds (merge: the
/// shards' account pages), and the manifest. Returns what was written, for the closing line.
pub(super) fn write_set<F: Fragments + Sync>(
    e: &Ending,
    run: &mut Run,
    fragments: F,
    out: &Path,
    which: aliaudit_report::pages::Pages,
    extra: impl FnOnce(&Run) -> Result<Option<&'static str>>,
) -> Result<Vec<&'static str>> {
    let mut manifest = Vec::new();
    output::manifest_json(run, e.manifest, &mut manifest).context(WRITABLE)?;
    let manifest = std::sync::Arc::new(manifest);
    let page_files = pages(e, run, out, which, &manifest, &fragments)?;
    let mut written = data_files(run, &fragments, e, out)?;
    drop(fragments);
    written.extend(page_files);
    written.extend(extra(run)?);
    output::write_atomic(&out.join("manifest.json"), |w| {
        w.write_all(&manifest)
            .map_err(|e| output::OutputError::Write {
                path: out.join("manifest.json"),
                source: e,
            })
    })
    .context(WRITABLE)?;
    written.push("manifest.json");
    Ok(written)
}

/// Writes the pages of `which` in the formats asked for; returns what was written. The PDFs
/// embed `manifest` (the bytes of manifest.json) and their rows of `fragments`. The
/// pages' warnings (charts that could not be drawn) are printed unless quiet and join the
/// run's diagnostics in their sorted place (so a merge lists them as a single run does).
pub(super) fn pages(
    e: &Ending,
    run: &mut Run,
    out: &Path,
    which: aliaudit_report::pages::Pages,
    manifest: &std::sync::Arc<Vec<u8>>,
    fragments: &(dyn Fragments + Sync),
) -> Result<Vec<&'static str>> {
    let Rendering {
        templates,
        font,
        pdf,
        quiet,
    } = e.rendering;
    let mut written = Vec::new();
    let fonts = if pdf {
        Some(aliaudit_report::render::layout::Fonts::load(font)?)
    } else {
        None
    };
    let files = aliaudit_report::pages::PdfFiles {
        manifest: manifest.clone(),
        options: e.manifest,
        fragments,
    };
    if templates.is_some() || fonts.is_some() {
        let warnings = e
            .pool
            .install(|| {
                aliaudit_report::pages::write_pages(
                    run,
                    e.options,
                    templates,
                    fonts.as_ref().map(|f| (f, &files)),
                    out,
                    which,
                )
            })
            .context(WRITABLE)?
            .warnings;
        if !quiet {
            let mut err = std::io::stderr().lock();
            for w in &warnings {
                let _ = writeln!(err, "{w}");
            }
        }
        if !warnings.is_empty() {
            run.diagnostics.extend(warnings);
            aliaudit_core::pipeline::sort_diagnostics(&mut run.diagnostics);
        }
        let (html, pdf) = match which {
            aliaudit_report::pages::Pages::All => (
                "index.html, customers/ and accounts/ pages",
                "portfolio.pdf and the customer and account PDFs",
            ),
            aliaudit_report::pages::Pages::Accounts => ("accounts/ pages", "account PDFs"),
            aliaudit_report::pages::Pages::RollUps => (
                "index.html and customers/ pages",
                "portfolio.pdf and the customer PDFs",
            ),
        };
        if templates.is_some() {
            written.push(html);
        }
        if fonts.is_some() {
            written.push(pdf);
        }
    }
    if let Some(fonts) = &fonts {
        let missing = fonts.missing();
        if !missing.is_empty() && !quiet {
            let list: String = missing.iter().take(40).collect();
            eprintln!(
                "warning: {} characters are not in the embedded font (nor in --font or a system font) and are left blank in the PDFs: {list}",
                missing.len()
            );
        }
    }
    Ok(written)
}

/// summary.json and findings.csv, in the formats asked for, from each account's fragments.
fn data_files(
    run: &Run,
    fragments: &dyn Fragments,
    e: &Ending,
    out: &Path,
) -> Result<Vec<&'static str>> {
    let formats = e.formats;
    // The fragments may come from shard files (read here) as well as from our own spill, so
    // the error says what was not written and the cause says why.
    let mut written = Vec::new();
    let data_started = std::time::Instant::now();
    if formats.contains(&Format::Json) {
        output::write_atomic(&out.join("summary.json"), |w| {
            output::summary_json(run, fragments, w)
        })
        .context("summary.json was not written")?;
        written.push("summary.json");
    }
    if formats.contains(&Format::Csv) {
        output::write_atomic(&out.join("findings.csv"), |w| {
            output::findings_csv(run, fragments, w)
        })
        .context("findings.csv was not written")?;
        written.push("findings.csv");
    }
    if formats.contains(&Format::Ocsf) {
        output::write_atomic(&out.join("findings.ocsf.jsonl"), |w| {
            aliaudit_report::ocsf::findings_ocsf(run, &e.options.rules.thresholds, fragments, w)
        })
        .context("findings.ocsf.jsonl was not written")?;
        written.push("findings.ocsf.jsonl");
    }
    aliaudit_core::timing::add(aliaudit_core::timing::Stage::Data, data_started);
    Ok(written)
}
