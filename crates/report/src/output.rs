//! Output stage, data files: `summary.json`, `findings.csv` and `manifest.json`, and the
//! spill that keeps each account's fragments until they are written. The HTML and PDF pages
//! are written by [`crate::pages`]; everything goes into the staging folder that
//! [`crate::outdir`] swaps into place.
//!
//! Writers write to any `Write` (the same bytes every time for the same run); files are
//! written to a temporary name in their folder and renamed into place, so a reader never
//! sees half a file. Large outputs stream: nothing holds a whole report in memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use aliaudit_core::atomic::{OutputError, write_atomic};
use aliaudit_core::pipeline::Run;
use aliaudit_core::summary::{self, ManifestOptions};

fn render_error(what: &'static str) -> impl Fn(String) -> OutputError {
    move |message| OutputError::Render { what, message }
}

/// Writes `summary.json` to `w` (pretty, with a final newline): the run's head and tail
/// around each account's entry, read back from `spill` in account order.
pub fn summary_json(
    run: &Run,
    spill: &dyn Fragments,
    w: &mut dyn Write,
) -> Result<(), OutputError> {
    let err = render_error("summary.json");
    // The document is serialized with an empty account list, which is then filled in: in
    // pretty JSON `"accounts": []` can only be that field (quotes in strings are escaped).
    let whole = serde_json::to_string_pretty(&summary::summary_view(run))
        .map_err(|e| err(e.to_string()))?;
    const MARK: &str = "\n  \"accounts\": []";
    let at = whole
        .find(MARK)
        .ok_or_else(|| err("no accounts field".into()))?;
    let (head, tail) = (&whole[..at + MARK.len() - 2], &whole[at + MARK.len()..]);
    let io = |e: std::io::Error| err(e.to_string());
    w.write_all(head.as_bytes()).map_err(io)?;
    if run.accounts.is_empty() {
        w.write_all(b"[]").map_err(io)?;
    } else {
        for (i, a) in run.accounts.iter().enumerate() {
            w.write_all(if i == 0 { b"[\n    " } else { b",\n    " })
                .map_err(io)?;
            w.write_all(&spill.json(&a.info.folder)?).map_err(io)?;
        }
        w.write_all(b"\n  ]").map_err(io)?;
    }
    w.write_all(tail.as_bytes()).map_err(io)?;
    w.write_all(b"\n").map_err(io)
}

/// One account's entry of `summary.json` (indented for its place in the document, with its
/// requirements of `frameworks`) and its `findings.csv` rows.
pub fn account_fragments(
    result: &aliaudit_core::pipeline::AccountResult,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
    frameworks: &[aliaudit_core::frameworks::Framework],
) -> Result<(Vec<u8>, Vec<u8>), OutputError> {
    let json = serde_json::to_string_pretty(&summary::account_view(result, frameworks))
        .map_err(|e| render_error("summary.json")(e.to_string()))?;
    // Strings in JSON hold no raw newline, so every line break is between tokens.
    let json = json.replace('\n', "\n    ").into_bytes();
    let mut csv = Vec::new();
    findings_rows(result, as_of, frameworks, &mut csv)?;
    Ok((json, csv))
}

/// Account fragments, written by worker threads while accounts are evaluated, kept in files
/// of a private temporary folder (one file per thread) and read back in output order.
pub struct Spill {
    dir: tempfile::TempDir,
    /// Whether the `findings.csv` rows are also kept compressed (for the PDFs, which embed
    /// them).
    pieces: bool,
    slots: Vec<std::sync::Mutex<Option<SpillFile>>>,
    index: std::sync::Mutex<BTreeMap<String, SpillEntry>>,
}

/// A thread's spill file and how much is in it.
type SpillFile = (std::io::BufWriter<std::fs::File>, u64);

#[derive(Debug, Clone, Copy)]
struct SpillEntry {
    slot: usize,
    offset: u64,
    json: usize,
    csv: usize,
    /// The compressed rows after them: the size of their blocks, and their Adler-32.
    piece: Option<(usize, u32)>,
}

/// A finished [`Spill`], for reading.
pub struct SpillReader {
    _dir: tempfile::TempDir,
    files: Vec<std::sync::Mutex<Option<std::fs::File>>>,
    index: BTreeMap<String, SpillEntry>,
}

impl Spill {
    /// A spill in a hidden temporary folder below `out` (removed when dropped), keeping the
    /// `findings.csv` rows compressed as well when `pieces` (for the PDFs).
    pub fn new(out: &Path, pieces: bool) -> Result<Spill, OutputError> {
        let err = |source| OutputError::Write {
            path: out.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(out).map_err(err)?;
        let dir = tempfile::Builder::new()
            .prefix(".aliaudit-work-")
            .tempdir_in(out)
            .map_err(err)?;
        let slots = (0..rayon::current_num_threads() + 1)
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        Ok(Spill {
            dir,
            pieces,
            slots,
            index: Default::default(),
        })
    }

    /// Keeps the fragments of the account read from `folder`.
    pub fn put(&self, folder: &str, json: &[u8], csv: &[u8]) -> Result<(), OutputError> {
        let piece = self.pieces.then(|| crate::zlib::Piece::of(csv));
        // Worker threads each have their own file; any other thread shares the last one.
        let slot = rayon::current_thread_index()
            .unwrap_or(self.slots.len() - 1)
            .min(self.slots.len() - 1);
        let path = self.dir.path().join(format!("{slot}.spill"));
        let err = |source| OutputError::Write {
            path: path.clone(),
            source,
        };
        let mut guard = self.slots[slot].lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let file = std::fs::File::create(&path).map_err(err)?;
            *guard = Some((std::io::BufWriter::with_capacity(1 << 16, file), 0));
        }
        let Some((file, offset)) = guard.as_mut() else {
            unreachable!("the slot was just filled");
        };
        file.write_all(json).map_err(err)?;
        file.write_all(csv).map_err(err)?;
        if let Some(piece) = &piece {
            file.write_all(&piece.blocks).map_err(err)?;
        }
        let entry = SpillEntry {
            slot,
            offset: *offset,
            json: json.len(),
            csv: csv.len(),
            piece: piece.as_ref().map(|p| (p.blocks.len(), p.adler)),
        };
        *offset += (json.len() + csv.len() + entry.piece.map_or(0, |(len, _)| len)) as u64;
        drop(guard);
        self.index
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(folder.to_string(), entry);
        Ok(())
    }

    /// Flushes every file and opens them for reading.
    pub fn finish(self) -> Result<SpillReader, OutputError> {
        let mut files = Vec::new();
        for (slot, writer) in self.slots.into_iter().enumerate() {
            let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
            let path = self.dir.path().join(format!("{slot}.spill"));
            let err = |source| OutputError::Write {
                path: path.clone(),
                source,
            };
            let file = match writer {
                Some((w, _)) => {
                    w.into_inner().map_err(|e| err(e.into_error()))?;
                    Some(std::fs::File::open(&path).map_err(err)?)
                }
                None => None,
            };
            files.push(std::sync::Mutex::new(file));
        }
        Ok(SpillReader {
            _dir: self.dir,
            files,
            index: self.index.into_inner().unwrap_or_else(|e| e.into_inner()),
        })
    }
}

/// Where each account's `summary.json` entry and `findings.csv` rows are kept until the
/// documents are written: this run's spill, or the shards' fragment files.
pub trait Fragments {
    /// The `summary.json` entry of the account read from `folder`.
    fn json(&self, folder: &str) -> Result<Vec<u8>, OutputError>;
    /// The `findings.csv` rows of the account read from `folder`.
    fn csv(&self, folder: &str) -> Result<Vec<u8>, OutputError>;
    /// The same rows, compressed to be joined into an embedded `findings.csv`.
    fn csv_piece(&self, folder: &str) -> Result<crate::zlib::Piece, OutputError> {
        Ok(crate::zlib::Piece::of(&self.csv(folder)?))
    }
}

/// A borrowed source of fragments (a merge's shard files) is a source of fragments.
impl<T: Fragments + ?Sized> Fragments for &T {
    fn json(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        (**self).json(folder)
    }

    fn csv(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        (**self).csv(folder)
    }

    fn csv_piece(&self, folder: &str) -> Result<crate::zlib::Piece, OutputError> {
        (**self).csv_piece(folder)
    }
}

impl Fragments for SpillReader {
    fn json(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        self.read(folder, Part::Json)
    }

    fn csv(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        self.read(folder, Part::Csv)
    }

    fn csv_piece(&self, folder: &str) -> Result<crate::zlib::Piece, OutputError> {
        match self.index.get(folder).and_then(|e| Some((e.csv, e.piece?))) {
            Some((size, (_, adler))) => Ok(crate::zlib::Piece {
                blocks: self.read(folder, Part::Piece)?,
                adler,
                size: size as u64,
            }),
            None => Ok(crate::zlib::Piece::of(&self.csv(folder)?)),
        }
    }
}

/// Which of an account's fragments to read from the spill.
#[derive(Clone, Copy)]
enum Part {
    Json,
    Csv,
    /// The compressed `findings.csv` rows.
    Piece,
}

impl SpillReader {
    fn read(&self, folder: &str, part: Part) -> Result<Vec<u8>, OutputError> {
        use std::io::{Read, Seek, SeekFrom};
        let missing = || OutputError::Render {
            what: "summary",
            message: format!("no evaluated account read from {folder}"),
        };
        let e = self.index.get(folder).ok_or_else(missing)?;
        let (offset, len) = match part {
            Part::Json => (e.offset, e.json),
            Part::Csv => (e.offset + e.json as u64, e.csv),
            Part::Piece => (
                e.offset + (e.json + e.csv) as u64,
                e.piece.map_or(0, |(len, _)| len),
            ),
        };
        let mut guard = self.files[e.slot].lock().unwrap_or_else(|e| e.into_inner());
        let file = guard.as_mut().ok_or_else(missing)?;
        let err = |source| OutputError::Write {
            path: PathBuf::from(folder),
            source,
        };
        file.seek(SeekFrom::Start(offset)).map_err(err)?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes).map_err(err)?;
        Ok(bytes)
    }
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

/// `manifest.json` narrowed to the input files of the accounts `ids` (an account or a
/// customer PDF embeds it): the same document as [`manifest_json`] with only those files and
/// their totals, so that it never names another customer's files and its size does not grow
/// with the portfolio.
pub fn manifest_json_of(
    run: &Run,
    options: &ManifestOptions,
    ids: &std::collections::BTreeSet<&str>,
) -> Result<Vec<u8>, OutputError> {
    let err = render_error("manifest.json");
    let files: Vec<aliaudit_core::evidence::FileRecord> = run
        .files
        .iter()
        .filter(|f| f.account.as_deref().is_some_and(|a| ids.contains(a)))
        .cloned()
        .collect();
    let mut totals = BTreeMap::new();
    for f in &files {
        *totals.entry(f.status.as_str()).or_insert(0) += 1;
    }
    let view = summary::ManifestView {
        files: &files,
        totals,
        ..summary::manifest_view(run, options)
    };
    let mut bytes = serde_json::to_vec_pretty(&view).map_err(|e| err(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Neutralises a spreadsheet formula: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading apostrophe, so it is shown as text and never run.
pub(crate) fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The `findings.csv` columns (then [`REQUIREMENTS_COLUMN`] when frameworks are selected).
pub(crate) const FINDINGS_COLUMNS: [&str; 18] = [
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
    "sources",
    "scored",
];

/// The last `findings.csv` column, only with frameworks selected (`--framework`,
/// `--framework-file`), so that without them the file stays as it was: the requirements of
/// the selected frameworks that list the row's control,
/// [`aliaudit_core::frameworks::requirement_refs`] joined by `; `.
pub(crate) const REQUIREMENTS_COLUMN: &str = "requirements";

/// Writes `findings.csv` to `w`: the header (with the `requirements` column when the run
/// selected frameworks, as its rows in `spill` have it), then each account's rows from
/// `spill`.
pub fn findings_csv(
    run: &Run,
    spill: &dyn Fragments,
    w: &mut dyn Write,
) -> Result<(), OutputError> {
    let io = |e: std::io::Error| render_error("findings.csv")(e.to_string());
    w.write_all(&findings_csv_header(&run.frameworks)?)
        .map_err(io)?;
    for a in &run.accounts {
        w.write_all(&spill.csv(&a.info.folder)?).map_err(io)?;
    }
    Ok(())
}

/// The header line of `findings.csv` (with the requirements column when `frameworks` are
/// selected).
pub(crate) fn findings_csv_header(
    frameworks: &[aliaudit_core::frameworks::Framework],
) -> Result<Vec<u8>, OutputError> {
    let mut header = Vec::new();
    {
        let mut writer = csv_writer(&mut header);
        let requirements = (!frameworks.is_empty()).then_some(REQUIREMENTS_COLUMN);
        writer
            .write_record(FINDINGS_COLUMNS.iter().copied().chain(requirements))
            .map_err(|e| render_error("findings.csv")(e.to_string()))?;
        writer
            .flush()
            .map_err(|e| render_error("findings.csv")(e.to_string()))?;
    }
    Ok(header)
}

fn csv_writer(w: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w)
}

/// One account's `findings.csv` rows: one per control result per resource (one with empty
/// resource columns for a control without resources), each ending in the control's
/// requirements of `frameworks` when any are selected.
fn findings_rows(
    result: &aliaudit_core::pipeline::AccountResult,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
    frameworks: &[aliaudit_core::frameworks::Framework],
    out: &mut Vec<u8>,
) -> Result<(), OutputError> {
    let render = |e: csv::Error| render_error("findings.csv")(e.to_string());
    let mut writer = csv_writer(out);
    let as_of = as_of.map(aliaudit_core::text::rfc3339).unwrap_or_default();
    let as_of = as_of.as_str();
    let a = &result.info;
    let en = aliaudit_core::i18n::Catalogue::get(aliaudit_core::i18n::Lang::En);
    for f in &result.evaluation.findings {
        let detail = f.detail.render(en);
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
            detail.as_str(),
        ];
        let details: Vec<String> = f.resources.iter().map(|r| r.detail.render(en)).collect();
        // Every source reporting the check (both Security Center APIs, or the Security Center
        // item behind a built-in control): `file (place): what`, joined by " | ".
        let sources = f
            .sources
            .iter()
            .map(|c| format!("{} ({}): {}", c.file, c.field, c.what.render(en)))
            .collect::<Vec<_>>()
            .join(" | ");
        let sources = sources.as_str();
        let mut rows: Vec<[&str; 5]> = f
            .resources
            .iter()
            .zip(&details)
            .map(|(r, detail)| {
                [
                    r.id.as_str(),
                    r.status.as_str(),
                    detail.as_str(),
                    r.file.as_deref().unwrap_or(""),
                    r.field.as_deref().unwrap_or(""),
                ]
            })
            .collect();
        if rows.is_empty() {
            rows.push(["", "", "", "", ""]);
        }
        // `false` for informational controls and duplicated Security Center items.
        let scored = if f.scored { "true" } else { "false" };
        let requirements = (!frameworks.is_empty()).then(|| {
            aliaudit_core::frameworks::requirement_refs(frameworks, &f.control_id)
                .collect::<Vec<_>>()
                .join("; ")
        });
        let requirements = requirements.as_deref();
        for rest in rows {
            let record = base
                .iter()
                .chain(rest.iter())
                .chain([&as_of, &sources, &scored])
                .copied()
                .chain(requirements)
                .map(|c| match csv_safe(c) {
                    std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.as_bytes()),
                    std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.into_bytes()),
                });
            writer.write_record(record).map_err(render)?;
        }
    }
    writer
        .flush()
        .map_err(|e| render_error("findings.csv")(e.to_string()))
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
}
