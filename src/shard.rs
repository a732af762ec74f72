//! Sharded runs (SPEC 8): `report --shard K/N` evaluates the accounts whose id hashes to
//! shard K and writes their pages plus a shard summary; `merge` puts the shard summaries
//! together into the portfolio, customer pages, `summary.json`, `findings.csv` and
//! `manifest.json`, byte for byte what one run over the whole input writes, without reading
//! the evidence again.
//!
//! A shard's output folder holds `accounts/` (its accounts' pages), `shard.json` (what the
//! roll-ups need of each account, its files and diagnostics, the options of the run) and
//! `shard-fragments.dat` (each account's `summary.json` entry and `findings.csv` rows).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::diag::Diagnostic;
use crate::evidence::{FileRecord, FileStatus, Kind};
use crate::i18n::Note;
use crate::output::{Fragments, OutputError};
use crate::pipeline::{AccountResult, VendorException};
use crate::summary::ManifestOptions;

/// The shard summary's schema.
pub const SCHEMA: &str = "aliaudit.shard/v1";
/// The shard summary's file name.
pub const SUMMARY_FILE: &str = "shard.json";
/// The fragments' file name.
pub const FRAGMENTS_FILE: &str = "shard-fragments.dat";

/// One shard of N: accounts whose id hashes to `index - 1` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` (1 <= K <= N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) of `count`.
    pub fn from_job_index(index: &str, count: usize) -> Result<Shard, String> {
        let i: usize = index
            .trim()
            .parse()
            .map_err(|_| format!("JOB_COMPLETION_INDEX={index:?} is not a number"))?;
        if count == 0 || i >= count {
            return Err(format!(
                "JOB_COMPLETION_INDEX={i} is not below --shard-count {count}"
            ));
        }
        Ok(Shard {
            index: i + 1,
            count,
        })
    }

    /// Whether account `id` belongs to this shard: the first 8 bytes of its SHA-256, as a
    /// big-endian number, modulo the shard count (the same on every machine).
    pub fn contains(&self, id: &str) -> bool {
        let digest = sha2::Sha256::digest(id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % self.count as u64) as usize == self.index - 1
    }
}

/// A string that lives for the whole process: catalogue keys and the few fixed words the
/// results carry. Each distinct text is kept once.
fn intern(text: &str) -> &'static str {
    static SEEN: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let seen = guard.get_or_insert_with(HashSet::new);
    if let Some(s) = seen.get(text) {
        return s;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    seen.insert(leaked);
    leaked
}

#[derive(Serialize, Deserialize)]
struct NoteForm {
    key: String,
    args: Vec<(String, String)>,
}

impl NoteForm {
    fn of(n: &Note) -> NoteForm {
        NoteForm {
            key: n.key.to_string(),
            args: n
                .args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    fn note(self) -> Note {
        Note {
            key: intern(&self.key),
            args: self
                .args
                .into_iter()
                .map(|(k, v)| (intern(&k), v))
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct VendorForm {
    control: String,
    title: Arc<str>,
    state: String,
}

/// What the roll-ups need of one account (its findings are in the fragments).
#[derive(Serialize, Deserialize)]
struct AccountForm {
    info: crate::model::AccountInfo,
    evidence: BTreeMap<String, String>,
    vendor_score: Option<i64>,
    identity: crate::aggregate::Identity,
    gaps: Vec<String>,
    gap_notes: Vec<NoteForm>,
    notes_shown: Option<Vec<String>>,
    counts: crate::aggregate::Counts,
    figures: crate::aggregate::AccountFigures,
    data_quality: Vec<String>,
    status: crate::aggregate::AccountStatus,
    score_tenths: Option<u32>,
    failed: Vec<crate::pipeline::FailedControl>,
    exceptions: Vec<crate::exceptions::Hit>,
    vendor_exceptions: Vec<VendorForm>,
    fails: crate::trend::Fails,
    history: Vec<crate::trend::AccountPoint>,
    delta: Option<crate::trend::Delta>,
}

impl AccountForm {
    fn of(a: &AccountResult) -> AccountForm {
        AccountForm {
            info: a.info.clone(),
            evidence: a
                .evidence
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            vendor_score: a.vendor_score,
            identity: a.identity.clone(),
            gaps: a.gaps.clone(),
            gap_notes: a.gap_notes.iter().map(NoteForm::of).collect(),
            notes_shown: a.notes_shown.clone(),
            counts: a.counts.clone(),
            figures: a.figures.clone(),
            data_quality: a.evaluation.data_quality.clone(),
            status: a.status,
            score_tenths: a.score_tenths,
            failed: a.failed.clone(),
            exceptions: a.exceptions.clone(),
            vendor_exceptions: a
                .vendor_exceptions
                .iter()
                .map(|v| VendorForm {
                    control: v.control.clone(),
                    title: v.title.clone(),
                    state: v.state.to_string(),
                })
                .collect(),
            fails: a.fails,
            history: a.history.clone(),
            delta: a.delta.clone(),
        }
    }

    fn result(self) -> AccountResult {
        AccountResult {
            info: self.info,
            evidence: self
                .evidence
                .into_iter()
                .map(|(k, v)| (intern(&k), v))
                .collect(),
            vendor_score: self.vendor_score,
            identity: self.identity,
            gaps: self.gaps,
            gap_notes: self.gap_notes.into_iter().map(NoteForm::note).collect(),
            notes_shown: self.notes_shown,
            counts: self.counts,
            figures: self.figures,
            evaluation: crate::rules::Evaluation {
                findings: Vec::new(),
                data_quality: self.data_quality,
            },
            status: self.status,
            score_tenths: self.score_tenths,
            failed: self.failed,
            exceptions: self.exceptions,
            vendor_exceptions: self
                .vendor_exceptions
                .into_iter()
                .map(|v| VendorException {
                    control: v.control,
                    title: v.title,
                    state: intern(&v.state),
                })
                .collect(),
            fails: self.fails,
            history: self.history,
            // The change in tenths is not serialized; it is the score change, exactly.
            delta: self.delta.map(|mut d| {
                d.score_tenths = d.score.map(|s| (s * 10.0).round() as i64);
                d
            }),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct FileForm {
    path: String,
    account: Option<String>,
    size: u64,
    sha256: String,
    kind: Option<Kind>,
    status: FileStatus,
    reason: Option<String>,
    reason_note: Option<NoteForm>,
}

impl FileForm {
    fn of(f: &FileRecord) -> FileForm {
        FileForm {
            path: f.path.clone(),
            account: f.account.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            kind: f.kind,
            status: f.status,
            reason: f.reason.clone(),
            reason_note: f.reason_note.as_ref().map(NoteForm::of),
        }
    }

    fn record(self) -> FileRecord {
        FileRecord {
            path: self.path,
            account: self.account,
            size: self.size,
            sha256: self.sha256,
            kind: self.kind,
            status: self.status,
            reason: self.reason,
            reason_note: self.reason_note.map(NoteForm::note),
        }
    }
}

/// A file a run depends on: as given, and its SHA-256.
pub type FileRef = Option<(String, String)>;

/// The options every shard of one run shares, and that `merge` uses to finish it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunSpec {
    /// Options recorded in the manifest (inputs, formats, rules, exceptions, branding...).
    pub manifest: ManifestOptions,
    /// `--as-of`, RFC 3339.
    pub as_of: String,
    /// `--period`.
    pub period: Option<String>,
    /// `--baseline` (the file read, and its SHA-256).
    pub baseline: FileRef,
    /// `--templates`.
    pub templates: Option<String>,
    /// `--font`.
    pub font: Option<String>,
    /// The shard count.
    pub count: usize,
    /// SHA-256 over the sorted ids of every account folder of the input.
    pub input_ids: String,
}

#[derive(Serialize, Deserialize)]
struct ShardForm {
    schema: String,
    tool_version: String,
    index: usize,
    spec: RunSpec,
    /// Page names used for this shard's accounts.
    slugs: BTreeMap<String, String>,
    /// Page names of every customer (account pages link to them).
    customer_slugs: BTreeMap<String, String>,
    accounts: Vec<AccountForm>,
    files: Vec<FileForm>,
    diagnostics: Vec<Diagnostic>,
    /// Per account folder: offset, `summary.json` bytes, `findings.csv` bytes.
    fragments: BTreeMap<String, (u64, u64, u64)>,
}

/// SHA-256 over the sorted, distinct ids.
pub fn ids_digest<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let sorted: BTreeSet<&str> = ids.collect();
    let mut h = sha2::Sha256::new();
    for id in sorted {
        h.update(id.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Writes `shard.json` and `shard-fragments.dat` for a shard's run into `out`.
pub fn write(
    run: &crate::pipeline::Run,
    fragments: &dyn Fragments,
    spec: &RunSpec,
    shard: Shard,
    out: &Path,
) -> Result<(), OutputError> {
    let (slugs, customer_slugs) = crate::view::page_names(run);
    let err = |source| OutputError::Write {
        path: out.join(FRAGMENTS_FILE),
        source,
    };
    let mut index = BTreeMap::new();
    crate::output::write_atomic(&out.join(FRAGMENTS_FILE), |w| {
        let mut offset = 0u64;
        for a in &run.accounts {
            let json = fragments.json(&a.info.folder)?;
            let csv = fragments.csv(&a.info.folder)?;
            w.write_all(&json).map_err(err)?;
            w.write_all(&csv).map_err(err)?;
            index.insert(
                a.info.folder.clone(),
                (offset, json.len() as u64, csv.len() as u64),
            );
            offset += (json.len() + csv.len()) as u64;
        }
        Ok(())
    })?;
    let form = ShardForm {
        schema: SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        index: shard.index,
        spec: spec.clone(),
        slugs: run
            .accounts
            .iter()
            .filter_map(|a| {
                slugs
                    .get(&a.info.id)
                    .map(|s| (a.info.id.clone(), s.clone()))
            })
            .collect(),
        customer_slugs,
        accounts: run.accounts.iter().map(AccountForm::of).collect(),
        files: run.files.iter().map(FileForm::of).collect(),
        diagnostics: run.diagnostics.clone(),
        fragments: index,
    };
    crate::output::write_atomic(&out.join(SUMMARY_FILE), |w| {
        serde_json::to_writer(&mut *w, &form).map_err(|e| OutputError::Render {
            what: "shard.json",
            message: e.to_string(),
        })
    })
}

/// Errors reading or merging shards.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A shard folder cannot be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The shards do not belong together.
    #[error("{0}")]
    Mismatch(String),
}

/// The shards, read and checked: one run's complete set.
pub struct Merged {
    /// The options they share.
    pub spec: RunSpec,
    /// Every account, sorted by id.
    pub accounts: Vec<AccountResult>,
    /// Every file, sorted by path.
    pub files: Vec<FileRecord>,
    /// Every shard's diagnostics (sorting and the run's own are left to the caller).
    pub diagnostics: Vec<Diagnostic>,
    /// Where each account's pages are: shard folder and page name.
    pub pages: BTreeMap<String, (PathBuf, String)>,
    /// The customers' page names the shards used.
    pub customer_slugs: BTreeMap<String, String>,
    fragments: ShardFragments,
}

impl Merged {
    /// The accounts' fragments.
    pub fn fragments(&self) -> &dyn Fragments {
        &self.fragments
    }
}

struct ShardFragments {
    files: Vec<Mutex<std::fs::File>>,
    index: BTreeMap<String, (usize, u64, u64, u64)>,
}

impl ShardFragments {
    fn read(&self, folder: &str, csv: bool) -> Result<Vec<u8>, OutputError> {
        let &(file, offset, json_len, csv_len) =
            self.index.get(folder).ok_or_else(|| OutputError::Render {
                what: "summary",
                message: format!("no shard holds the account read from {folder}"),
            })?;
        let (at, len) = if csv {
            (offset + json_len, csv_len)
        } else {
            (offset, json_len)
        };
        let mut f = self.files[file].lock().unwrap_or_else(|p| p.into_inner());
        let err = |source| OutputError::Write {
            path: PathBuf::from(FRAGMENTS_FILE),
            source,
        };
        f.seek(SeekFrom::Start(at)).map_err(err)?;
        let mut bytes = vec![0; len as usize];
        f.read_exact(&mut bytes).map_err(err)?;
        Ok(bytes)
    }
}

impl Fragments for ShardFragments {
    fn json(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        self.read(folder, false)
    }

    fn csv(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
        self.read(folder, true)
    }
}

/// Reads the shard folders and checks that they are the complete set of one run: the same
/// version, options and input, each shard once.
pub fn read(dirs: &[PathBuf]) -> Result<Merged, MergeError> {
    let mut forms: Vec<(PathBuf, ShardForm)> = Vec::new();
    for dir in dirs {
        let path = dir.join(SUMMARY_FILE);
        let shown = path.display().to_string();
        let file = std::fs::File::open(&path).map_err(|e| MergeError::Read {
            path: shown.clone(),
            message: format!("cannot read it ({e}); is this the output of report --shard?"),
        })?;
        let form: ShardForm =
            serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
                MergeError::Read {
                    path: shown.clone(),
                    message: format!("not a shard summary of this aliaudit ({e})"),
                }
            })?;
        if form.schema != SCHEMA {
            return Err(MergeError::Read {
                path: shown,
                message: format!("schema {} is not {SCHEMA}", form.schema),
            });
        }
        forms.push((dir.clone(), form));
    }
    let Some((first_dir, first)) = forms.first() else {
        return Err(MergeError::Mismatch("no shard folders given".into()));
    };
    let spec = first.spec.clone();
    for (dir, f) in &forms[1..] {
        let differs = |what: &str| {
            MergeError::Mismatch(format!(
                "{} and {} are shards of different runs: {what} differ",
                first_dir.display(),
                dir.display()
            ))
        };
        if f.tool_version != first.tool_version {
            return Err(differs("the aliaudit versions"));
        }
        if f.spec.input_ids != spec.input_ids || f.spec.manifest.inputs != spec.manifest.inputs {
            return Err(differs("the inputs"));
        }
        if f.spec.count != spec.count {
            return Err(differs("the shard counts"));
        }
        if f.spec != spec {
            return Err(differs(
                "the options (as-of, period, formats, rules, exceptions, baseline, branding, language, templates or font)",
            ));
        }
    }
    let mut seen = BTreeMap::new();
    for (dir, f) in &forms {
        if let Some(other) = seen.insert(f.index, dir.clone()) {
            return Err(MergeError::Mismatch(format!(
                "{} and {} are both shard {}/{}",
                other.display(),
                dir.display(),
                f.index,
                spec.count
            )));
        }
    }
    let missing: Vec<String> = (1..=spec.count)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{}", spec.count))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Mismatch(format!(
            "shard {} missing: give every shard's output folder",
            missing.join(", ")
        )));
    }
    let mut accounts = Vec::new();
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut pages = BTreeMap::new();
    let customer_slugs = first.customer_slugs.clone();
    let mut fragment_files = Vec::new();
    let mut index = BTreeMap::new();
    for (n, (dir, form)) in forms.into_iter().enumerate() {
        let path = dir.join(FRAGMENTS_FILE);
        let file = std::fs::File::open(&path).map_err(|e| MergeError::Read {
            path: path.display().to_string(),
            message: format!("cannot read it ({e})"),
        })?;
        fragment_files.push(Mutex::new(file));
        for (folder, (offset, json, csv)) in form.fragments {
            index.insert(folder, (n, offset, json, csv));
        }
        for (id, slug) in form.slugs {
            pages.insert(id, (dir.clone(), slug));
        }
        accounts.extend(form.accounts.into_iter().map(AccountForm::result));
        files.extend(form.files.into_iter().map(FileForm::record));
        diagnostics.extend(form.diagnostics);
    }
    accounts.sort_by(|a: &AccountResult, b: &AccountResult| a.info.id.cmp(&b.info.id));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Merged {
        spec,
        accounts,
        files,
        diagnostics,
        pages,
        customer_slugs,
        fragments: ShardFragments {
            files: fragment_files,
            index,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_every_id_once() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/-2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Shard::from_job_index("3", 4),
            Ok(Shard { index: 4, count: 4 })
        );
        assert!(Shard::from_job_index("4", 4).is_err());
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        let mut sizes = [0usize; 4];
        for n in 0..1000 {
            let id = format!("{:016}", 1_100_000_000_000_000u64 + n);
            let owners: Vec<usize> = shards
                .iter()
                .enumerate()
                .filter(|(_, s)| s.contains(&id))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(owners.len(), 1, "{id}");
            sizes[owners[0]] += 1;
        }
        // Roughly even (a hash, not a count).
        assert!(sizes.iter().all(|&s| (200..300).contains(&s)), "{sizes:?}");
        // The same on every machine: pinned.
        assert!(Shard { index: 1, count: 1 }.contains("anything"));
    }

    #[test]
    fn an_account_survives_the_shard_summary_unchanged() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quirks");
        let options = crate::pipeline::RunOptions {
            inputs: vec![root],
            keep_resources: true,
            ..Default::default()
        };
        let run = crate::pipeline::run_streamed(&options, &|_, _| Ok(()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!run.accounts.is_empty());
        for a in &run.accounts {
            let text = serde_json::to_string(&AccountForm::of(a)).unwrap_or_default();
            let back: AccountForm = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.result(), *a);
        }
        for f in &run.files {
            let text = serde_json::to_string(&FileForm::of(f)).unwrap_or_default();
            let back: FileForm = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.record(), *f);
        }
    }

    #[test]
    fn interned_strings_are_kept_once() {
        let a = intern("engine.gap_risk_items");
        let b = intern(&String::from("engine.gap_risk_items"));
        assert!(std::ptr::eq(a, b));
    }
}
