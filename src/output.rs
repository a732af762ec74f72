//! Output stage: renders the views and is the only module that writes files.
//!
//! Renderers write to any `Write` (the same bytes every time for the same run); files are
//! written to a temporary name in their folder and renamed into place, so a reader never
//! sees half a file. Large outputs stream: nothing holds a whole report in memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::pipeline::Run;
use crate::summary::{self, ManifestOptions};

/// Errors writing output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A folder or file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serialising failed.
    #[error("cannot render {what}: {message}")]
    Render {
        /// Which output.
        what: &'static str,
        /// Why.
        message: String,
    },
}

fn render_error(what: &'static str) -> impl Fn(String) -> OutputError {
    move |message| OutputError::Render { what, message }
}

/// Writes `summary.json` to `w` (pretty, with a final newline).
pub fn summary_json(run: &Run, w: &mut dyn Write) -> Result<(), OutputError> {
    let err = render_error("summary.json");
    serde_json::to_writer_pretty(&mut *w, &summary::summary_view(run))
        .map_err(|e| err(e.to_string()))?;
    w.write_all(b"\n").map_err(|e| err(e.to_string()))
}

/// Writes `manifest.json` to `w`.
pub fn manifest_json(
    run: &Run,
    options: &ManifestOptions,
    w: &mut dyn Write,
) -> Result<(), OutputError> {
    let err = render_error("manifest.json");
    serde_json::to_writer_pretty(&mut *w, &summary::manifest_view(run, options))
        .map_err(|e| err(e.to_string()))?;
    w.write_all(b"\n").map_err(|e| err(e.to_string()))
}

/// Neutralises a spreadsheet formula: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading apostrophe, so it is shown as text and never run.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The `findings.csv` columns.
pub const FINDINGS_COLUMNS: [&str; 16] = [
    "account_id",
    "account_name",
    "customer",
    "control_id",
    "control_title",
    "severity",
    "cis_v1",
    "cis_v2",
    "control_status",
    "control_detail",
    "resource_id",
    "resource_status",
    "resource_detail",
    "source_file",
    "source_field",
    "as_of",
];

/// Writes `findings.csv` to `w`: one row per control result per resource (one row with
/// empty resource columns for a control without resources).
pub fn findings_csv(run: &Run, w: &mut dyn Write) -> Result<(), OutputError> {
    let render = |e: csv::Error| OutputError::Render {
        what: "findings.csv",
        message: e.to_string(),
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    writer.write_record(FINDINGS_COLUMNS).map_err(render)?;
    let as_of = run.as_of.map(summary::rfc3339).unwrap_or_default();
    let as_of = as_of.as_str();
    for result in &run.accounts {
        let a = &result.info;
        for f in &result.evaluation.findings {
            let base = [
                a.id.as_str(),
                a.name.as_str(),
                a.customer.as_deref().unwrap_or(""),
                &*f.control_id,
                &*f.title,
                f.severity.as_str(),
                f.cis_v1.unwrap_or(""),
                f.cis_v2.unwrap_or(""),
                f.status.as_str(),
                f.detail.as_str(),
            ];
            let mut rows: Vec<[&str; 5]> = f
                .resources
                .iter()
                .map(|r| {
                    [
                        r.id.as_str(),
                        r.status.as_str(),
                        r.detail.as_str(),
                        r.file.as_deref().unwrap_or(""),
                        r.field.as_deref().unwrap_or(""),
                    ]
                })
                .collect();
            if rows.is_empty() {
                rows.push(["", "", "", "", ""]);
            }
            for rest in rows {
                let record = base
                    .iter()
                    .chain(rest.iter())
                    .chain(std::iter::once(&as_of))
                    .map(|c| csv_safe(c));
                writer
                    .write_record(record.map(|c| c.into_owned()))
                    .map_err(render)?;
            }
        }
    }
    writer.flush().map_err(|e| OutputError::Render {
        what: "findings.csv",
        message: e.to_string(),
    })
}

/// Safe, unique file names for account ids: lower-case ASCII letters, digits and `-`, at most
/// 80 characters (a name with no ASCII letter or digit gets `x` and a hash of it); collisions
/// get `-2`, `-3`... in id order, so names are stable.
pub fn slugs<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut sorted: Vec<&str> = ids.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut used = std::collections::BTreeSet::new();
    let mut out = BTreeMap::new();
    for id in sorted {
        let mut base = String::new();
        for c in id.chars() {
            if c.is_ascii_alphanumeric() {
                base.push(c.to_ascii_lowercase());
            } else if !base.ends_with('-') && !base.is_empty() {
                base.push('-');
            }
        }
        let mut base: String = base.trim_matches('-').chars().take(80).collect();
        base = base.trim_end_matches('-').to_string();
        if base.is_empty() {
            // Nothing ASCII to keep (a Chinese name): a short hash keeps it stable and distinct.
            use sha2::Digest;
            base = format!(
                "x{}",
                &hex::encode(sha2::Sha256::digest(id.as_bytes()))[..10]
            );
        }
        let mut slug = base.clone();
        let mut n = 2;
        while !used.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        out.insert(id.to_string(), slug);
    }
    out
}

/// Writes one file atomically: `render` writes into a temporary file in the same folder,
/// which is renamed into place only when it is complete.
pub fn write_atomic(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let started = std::time::Instant::now();
    let mut rendering = std::time::Duration::ZERO;
    let result = write_file(path, |w| {
        let t = std::time::Instant::now();
        let r = render(w);
        rendering = t.elapsed();
        r
    });
    let total = started.elapsed();
    let write = total.saturating_sub(rendering);
    crate::timing::add(
        crate::timing::Stage::Write,
        std::time::Instant::now() - write,
    );
    result
}

fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let err = |source: std::io::Error| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = tempfile::Builder::new()
        .prefix(".aliaudit-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, tmp);
    render(&mut buffered)?;
    let tmp = buffered.into_inner().map_err(|e| err(e.into_error()))?;
    // Temporary files are private (0600); reports are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(err)?;
    }
    // No fsync per file: a report is thousands of files, waiting for each on the disk cost
    // a tenth of the run, and a report interrupted by a crash is simply run again. The
    // rename still means a reader never sees a half-written file.
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+1"), "'+1");
        assert_eq!(csv_safe("-2+3"), "'-2+3");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("alice"), "alice");
    }

    #[test]
    fn slugs_are_safe_and_unique() {
        let s = slugs(["acme/prod", "Acme/Prod", "../../etc", "<script>", "中文"]);
        assert_eq!(s["Acme/Prod"], "acme-prod");
        assert_eq!(s["acme/prod"], "acme-prod-2");
        assert_eq!(s["../../etc"], "etc");
        assert_eq!(s["<script>"], "script");
        assert_eq!(s["中文"], slugs(["中文"])["中文"]);
        assert!(s["中文"].starts_with('x') && s["中文"].len() == 11);
    }
}
