//! Sharded runs (README "Running on many machines"): `report --shard K/N` evaluates the accounts whose id hashes to
//! shard K and writes their pages plus a shard summary; `merge` puts the shard summaries
//! together into the portfolio, customer pages, `summary.json`, `findings.csv` and
//! `manifest.json`, byte for byte what one run over the whole input writes, without reading
//! the evidence again.
//!
//! A shard's output folder holds `accounts/` (its accounts' pages), `shard.json` (what the
//! roll-ups need of each account, its files and diagnostics, the options of the run) and
//! `shard-fragments.dat` (each account's `summary.json` entry and `findings.csv` rows).
//!
//! Shard folders travel between machines and are untrusted input to `merge`: [`read`] checks
//! every size, offset, count, index and page name in them against the files as they are,
//! before the merge writes anything, and refuses a damaged set naming the file and account.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::output::{Fragments, OutputError};
use aliaudit_core::diag::Diagnostic;
use aliaudit_core::evidence::{EvidenceState, FileRecord, FileStatus, Kind};
use aliaudit_core::i18n::{Catalogue, Lang, Message};
use aliaudit_core::pipeline::{AccountResult, VendorException, VendorState};
use aliaudit_core::summary::ManifestOptions;

/// The shard summary's schema.
pub(crate) const SCHEMA: &str = "aliaudit.shard/v1";
/// The shard summary's file name.
pub(crate) const SUMMARY_FILE: &str = "shard.json";
/// The fragments' file name.
pub(crate) const FRAGMENTS_FILE: &str = "shard-fragments.dat";

pub use aliaudit_core::pipeline::Shard;

#[derive(Serialize, Deserialize)]
struct VendorForm {
    control: String,
    title: Arc<str>,
    /// `ignored` or `false positive`; any other text is refused.
    state: VendorState,
}

/// What the roll-ups need of one account (its findings are in the fragments).
#[derive(Serialize, Deserialize)]
struct AccountForm {
    info: aliaudit_core::model::AccountInfo,
    /// As `summary.json` writes it (`present: <files>`...); any other text is refused.
    evidence: BTreeMap<String, EvidenceState>,
    vendor_score: Option<i64>,
    identity: aliaudit_core::aggregate::Identity,
    gaps: Vec<String>,
    /// As `{"key": K, "args": [[name, value], ...]}`.
    gap_notes: Vec<Message>,
    /// The data-quality notes in the report language, when that is not English.
    notes_shown: Option<Vec<String>>,
    counts: aliaudit_core::aggregate::Counts,
    figures: aliaudit_core::aggregate::AccountFigures,
    /// The data-quality notes in English.
    data_quality: Vec<String>,
    status: aliaudit_core::aggregate::AccountStatus,
    /// In tenths, as in `figures`.
    #[serde(rename = "score_tenths", with = "aliaudit_core::score::tenths")]
    score: Option<aliaudit_core::score::Score>,
    failed: Vec<aliaudit_core::pipeline::FailedControl>,
    exceptions: Vec<aliaudit_core::exceptions::Hit>,
    vendor_exceptions: Vec<VendorForm>,
    fails: aliaudit_core::trend::Fails,
    history: Vec<aliaudit_core::trend::AccountPoint>,
    delta: Option<aliaudit_core::trend::Delta>,
    /// Security Center's own standards; left out when the evidence names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor_standards: Option<aliaudit_core::sas_standards::VendorStandards>,
}

impl AccountForm {
    /// The form of `a`, an account of a run in `lang`.
    fn of(a: &AccountResult, lang: Lang) -> AccountForm {
        let en = Catalogue::get(Lang::En);
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
            gap_notes: a.gap_notes.clone(),
            notes_shown: (lang != Lang::En).then(|| a.notes_in(Catalogue::get(lang))),
            counts: a.counts.clone(),
            figures: a.figures.clone(),
            data_quality: a
                .evaluation
                .data_quality
                .iter()
                .map(|n| n.render(en))
                .collect(),
            status: a.status,
            score: a.score,
            failed: a.failed.clone(),
            exceptions: a.exceptions.clone(),
            vendor_exceptions: a
                .vendor_exceptions
                .iter()
                .map(|v| VendorForm {
                    control: v.control.clone(),
                    title: v.title.clone(),
                    state: v.state,
                })
                .collect(),
            fails: a.fails,
            history: a.history.clone(),
            delta: a.delta.clone(),
            vendor_standards: a.vendor_standards.clone(),
        }
    }

    fn result(self) -> AccountResult {
        AccountResult {
            info: self.info,
            evidence: self
                .evidence
                .into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect(),
            vendor_score: self.vendor_score,
            identity: self.identity,
            gaps: self.gaps,
            gap_notes: self.gap_notes,
            notes_shown: self.notes_shown,
            counts: self.counts,
            figures: self.figures,
            evaluation: aliaudit_core::rules::Evaluation {
                findings: Vec::new(),
                // English, as summary.json writes them; the pages use `notes_shown` when
                // the shard was written in another language.
                data_quality: self.data_quality.into_iter().map(Message::from).collect(),
            },
            status: self.status,
            score: self.score,
            failed: self.failed,
            exceptions: self.exceptions,
            vendor_exceptions: self
                .vendor_exceptions
                .into_iter()
                .map(|v| VendorException {
                    control: v.control,
                    title: v.title,
                    state: v.state,
                })
                .collect(),
            fails: self.fails,
            history: self.history,
            delta: self.delta,
            vendor_standards: self.vendor_standards,
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
    reason_note: Option<Message>,
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
            reason_note: f.reason_note.clone(),
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
            reason_note: self.reason_note,
        }
    }
}

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
    pub baseline: Option<aliaudit_core::stamp::FileStamp>,
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
    /// Per account id: its requirement results, per framework of the run (checked against
    /// the frameworks by the merge, which knows them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    frameworks: BTreeMap<String, Vec<Vec<aliaudit_core::frameworks::RequirementStatus>>>,
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
    run: &aliaudit_core::pipeline::Run,
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
        accounts: run
            .accounts
            .iter()
            .map(|a| AccountForm::of(a, run.lang))
            .collect(),
        files: run.files.iter().map(FileForm::of).collect(),
        diagnostics: run.diagnostics.clone(),
        fragments: index,
        frameworks: run.framework_figures.clone(),
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
    /// A shard file says what no shard writes: it was damaged after the shard ran.
    #[error("{path}: {message}; the shard folder is damaged: run that shard again")]
    Damaged {
        /// The file.
        path: String,
        /// What is wrong, naming the account or entry.
        message: String,
    },
    /// The shards do not belong together.
    #[error("{0}")]
    Mismatch(String),
}

/// The largest `shard.json` that `merge` reads. A shard summary holds a few kilobytes per
/// account, so this is room for well over a hundred thousand accounts in one shard; a larger
/// file is refused before it is read into memory.
pub(crate) const MAX_SUMMARY_BYTES: u64 = 1 << 30;

/// The largest count a shard may carry that is not checked against a list it also carries
/// (identity figures, changes since the baseline): far above what an evidence file can
/// hold, and low enough that sums over every account a merge can hold stay exact in `u64`.
const MAX_COUNT: u64 = u32::MAX as u64;

/// The longest page name a shard may give: [`crate::view::slugs`] keeps 80 characters and
/// may add a `-N` suffix.
const MAX_PAGE_NAME: usize = 100;

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
    /// Where each account's pages are: shard folder and page name (a plain file stem).
    pub pages: BTreeMap<String, (PathBuf, String)>,
    /// The customers' page names the shards used (plain file stems).
    pub customer_slugs: BTreeMap<String, String>,
    /// Every account's requirement results, per framework of the run, by account id (for
    /// [`aliaudit_core::pipeline::Run::set_framework_figures`], which checks them).
    pub framework_figures: BTreeMap<String, Vec<Vec<aliaudit_core::frameworks::RequirementStatus>>>,
    fragments: ShardFragments,
}

impl Merged {
    /// Checks that every accepted risk an account matched is an entry of `register` (the
    /// exceptions file the merge reopened, and found unchanged): a damaged entry number would
    /// index past the register when the pages are written.
    pub fn check_exception_hits(
        &self,
        register: &aliaudit_core::exceptions::Register,
    ) -> Result<(), MergeError> {
        let entries = register.len();
        for a in &self.accounts {
            let Some(hit) = a.exceptions.iter().find(|h| h.entry >= entries) else {
                continue;
            };
            let who = account_label(&a.info.id);
            let message = match &register.file {
                Some(aliaudit_core::stamp::FileStamp { path, .. }) => format!(
                    "{who}: accepted risk number {} of {} matched, but that file has {entries} entries",
                    hit.entry as u128 + 1,
                    aliaudit_core::diag::printable(path)
                ),
                None => {
                    format!("{who}: an accepted risk matched, but the run had no exceptions file")
                }
            };
            let dir = self
                .pages
                .get(&a.info.id)
                .map(|(dir, _)| dir.join("shard.json"));
            return Err(MergeError::Damaged {
                path: dir
                    .map(|d| aliaudit_core::diag::shown_path(&d))
                    .unwrap_or_default(),
                message,
            });
        }
        Ok(())
    }

    /// The accounts' fragments.
    pub fn fragments(&self) -> &(dyn Fragments + Sync) {
        &self.fragments
    }
}

struct ShardFragments {
    /// Each shard's fragments file, and its path for messages.
    files: Vec<(PathBuf, Mutex<std::fs::File>)>,
    /// Per account folder: file, offset, `summary.json` bytes, `findings.csv` bytes. Every
    /// range was checked to lie inside its file when the file was opened.
    index: BTreeMap<String, (usize, u64, u64, u64)>,
}

impl ShardFragments {
    fn read(&self, folder: &str, csv: bool) -> Result<Vec<u8>, OutputError> {
        let what = if csv { "findings.csv" } else { "summary.json" };
        let fail = |message: String| OutputError::Render { what, message };
        let shown = aliaudit_core::diag::printable(folder);
        let &(file, offset, json_len, csv_len) = self
            .index
            .get(folder)
            .ok_or_else(|| fail(format!("no shard holds the account read from {shown}")))?;
        // Every range was checked against its file's length when the shards were read (see
        // `check_shard`), and the shard folders are locked: a read that fails now means the
        // file changed anyway.
        let (path, file) = &self.files[file];
        let changed = |e: std::io::Error| {
            fail(format!(
                "{}: the fragment of the account read from {shown} cannot be read ({e}); the file changed while the merge read it: run that shard again",
                aliaudit_core::diag::shown_path(path)
            ))
        };
        let (at, len) = if csv {
            (offset + json_len, csv_len)
        } else {
            (offset, json_len)
        };
        let mut bytes = vec![0; len as usize];
        let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(at)).map_err(changed)?;
        f.read_exact(&mut bytes).map_err(changed)?;
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

/// One shard folder, read and checked on its own.
struct Opened {
    dir: PathBuf,
    summary: String,
    form: ShardForm,
    fragments_path: PathBuf,
    fragments: std::fs::File,
}

/// Reads the shard folders and checks that they are the complete set of one run: the same
/// version, options and input, each shard once. Every shard file is untrusted input: sizes,
/// offsets, counts, indexes and page names are checked here, before anything is written, so
/// a damaged set is refused whole with the file and the account it concerns.
pub fn read(dirs: &[PathBuf]) -> Result<Merged, MergeError> {
    let mut shards: Vec<Opened> = Vec::new();
    for dir in dirs {
        shards.push(open(dir)?);
    }
    let Some(first) = shards.first() else {
        return Err(MergeError::Mismatch("no shard folders given".into()));
    };
    let spec = first.form.spec.clone();
    for s in &shards[1..] {
        let f = &s.form;
        let differs = |what: &str| {
            MergeError::Mismatch(format!(
                "{} and {} are shards of different runs: {what} differ",
                aliaudit_core::diag::shown_path(&first.dir),
                aliaudit_core::diag::shown_path(&s.dir)
            ))
        };
        if f.tool_version != first.form.tool_version {
            return Err(differs("the aliaudit versions"));
        }
        if f.spec.input_ids != spec.input_ids || f.spec.manifest.inputs != spec.manifest.inputs {
            return Err(differs("the inputs"));
        }
        if f.spec.count != spec.count {
            return Err(differs("the shard counts"));
        }
        if f.spec.manifest.benchmark != spec.manifest.benchmark {
            return Err(differs(&format!(
                "the benchmark versions ({} and {})",
                spec.manifest.benchmark.as_str(),
                f.spec.manifest.benchmark.as_str()
            )));
        }
        if f.spec != spec {
            return Err(differs(
                "the options (as-of, period, formats, rules, exceptions, baseline, branding, language, templates or font)",
            ));
        }
    }
    let mut seen = BTreeMap::new();
    for s in &shards {
        if let Some(other) = seen.insert(s.form.index, s.dir.clone()) {
            return Err(MergeError::Mismatch(format!(
                "{} and {} are both shard {}/{}",
                aliaudit_core::diag::shown_path(&other),
                aliaudit_core::diag::shown_path(&s.dir),
                s.form.index,
                spec.count
            )));
        }
    }
    // Each index is in 1..=count (checked when read), so this looks at no more numbers
    // than there are folders, plus ten, whatever count a shard claims.
    let missing_count = spec.count - seen.len();
    if missing_count > 0 {
        let listed: Vec<String> = (1..=spec.count)
            .filter(|k| !seen.contains_key(k))
            .take(10)
            .map(|k| format!("{k}/{}", spec.count))
            .collect();
        let more = if missing_count > listed.len() {
            format!(" and {} more", missing_count - listed.len())
        } else {
            String::new()
        };
        return Err(MergeError::Mismatch(format!(
            "shard {}{more} missing: give every shard's output folder",
            listed.join(", ")
        )));
    }
    let formats = &spec.manifest.formats;
    let page_exts: Vec<&str> = ["html", "pdf"]
        .into_iter()
        .filter(|e| formats.iter().any(|f| f == e))
        .collect();
    let mut accounts = Vec::new();
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut pages = BTreeMap::new();
    let mut page_owners: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    let customer_slugs = first.form.customer_slugs.clone();
    let first_dir = first.dir.clone();
    let mut fragment_files = Vec::new();
    let mut index: BTreeMap<String, (usize, u64, u64, u64)> = BTreeMap::new();
    let mut folder_owners: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut framework_figures = BTreeMap::new();
    for (n, s) in shards.into_iter().enumerate() {
        let damaged = |message: String| MergeError::Damaged {
            path: s.summary.clone(),
            message,
        };
        let form = s.form;
        if form.customer_slugs != customer_slugs {
            return Err(damaged(format!(
                "its customers' page names differ from those of {}",
                aliaudit_core::diag::shown_path(&first_dir)
            )));
        }
        for a in &form.accounts {
            let who = account_label(&a.info.id);
            if let Some(other) = folder_owners.insert(a.info.folder.clone(), s.dir.clone()) {
                return Err(damaged(format!(
                    "{who} is read from {}, and so is an account of {}",
                    aliaudit_core::diag::printable(&a.info.folder),
                    aliaudit_core::diag::shown_path(&other)
                )));
            }
            // Checked to be there when the shard was read.
            let slug = form.slugs.get(&a.info.id).cloned().unwrap_or_default();
            if let Some((other, dir)) =
                page_owners.insert(slug.clone(), (a.info.id.clone(), s.dir.clone()))
            {
                return Err(damaged(format!(
                    "{who} has the page name \"{slug}\" of {} in {}",
                    account_label(&other),
                    aliaudit_core::diag::shown_path(&dir)
                )));
            }
            for ext in &page_exts {
                let page = s.dir.join("accounts").join(format!("{slug}.{ext}"));
                if !page.is_file() {
                    return Err(damaged(format!(
                        "{who}: its page {} is missing",
                        aliaudit_core::diag::shown_path(&page)
                    )));
                }
            }
        }
        fragment_files.push((s.fragments_path, Mutex::new(s.fragments)));
        for (folder, (offset, json, csv)) in form.fragments {
            index.insert(folder, (n, offset, json, csv));
        }
        for (id, slug) in form.slugs {
            pages.insert(id, (s.dir.clone(), slug));
        }
        framework_figures.extend(form.frameworks);
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
        framework_figures,
        fragments: ShardFragments {
            files: fragment_files,
            index,
        },
    })
}

/// Opens one shard folder: reads `shard.json` (bounded), opens `shard-fragments.dat` and
/// checks the summary against itself and the fragments file's real length.
fn open(dir: &Path) -> Result<Opened, MergeError> {
    let path = dir.join(SUMMARY_FILE);
    let summary = aliaudit_core::diag::shown_path(&path);
    let form = read_summary(&path, &summary)?;
    let fragments_path = dir.join(FRAGMENTS_FILE);
    let fragments_shown = aliaudit_core::diag::shown_path(&fragments_path);
    let cannot = |e: std::io::Error| MergeError::Read {
        path: fragments_shown.clone(),
        message: format!("cannot read it ({e})"),
    };
    let not_file = || MergeError::Read {
        path: fragments_shown.clone(),
        message: "is not a file; is this the output of report --shard?".into(),
    };
    // Never a named pipe waited on, also one put in the file's place meanwhile.
    let fragments = aliaudit_core::ingest::open_regular(&fragments_path)
        .map_err(cannot)?
        .map_err(|_| not_file())?;
    let meta = fragments.metadata().map_err(cannot)?;
    check_shard(&form, meta.len()).map_err(|message| MergeError::Damaged {
        path: summary.clone(),
        message,
    })?;
    Ok(Opened {
        dir: dir.to_path_buf(),
        summary,
        form,
        fragments_path,
        fragments,
    })
}

/// Reads and parses a `shard.json`, refusing one larger than [`MAX_SUMMARY_BYTES`] before
/// reading it.
fn read_summary(path: &Path, shown: &str) -> Result<ShardForm, MergeError> {
    let read_error = |message: String| MergeError::Read {
        path: shown.to_string(),
        message,
    };
    let cannot = |e: std::io::Error| {
        read_error(format!(
            "cannot read it ({e}); is this the output of report --shard?"
        ))
    };
    let too_large = |size: u64| MergeError::Damaged {
        path: shown.to_string(),
        message: format!(
            "it has {size} bytes, more than a shard summary can have ({MAX_SUMMARY_BYTES})"
        ),
    };
    let file = aliaudit_core::ingest::open_regular(path)
        .map_err(cannot)?
        .map_err(|_| read_error("is not a file; is this the output of report --shard?".into()))?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_SUMMARY_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    // The file may have grown since: never more than the limit is read.
    file.take(MAX_SUMMARY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_SUMMARY_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    parse_summary(&bytes).map_err(read_error)
}

/// Parses a shard summary (serde_json limits nesting), naming the JSON path of an error.
fn parse_summary(bytes: &[u8]) -> Result<ShardForm, String> {
    // serde's messages quote what they found as it is: escaped, so that the file's bytes
    // cannot reach the terminal as control characters.
    let not_summary = |why: String| {
        format!(
            "not a shard summary of this aliaudit ({}); if it is one, the shard folder is damaged: run that shard again",
            aliaudit_core::diag::printable(&why)
        )
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let form: ShardForm = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        not_summary(if at == "." {
            e.inner().to_string()
        } else {
            format!("at {at}: {}", e.inner())
        })
    })?;
    de.end().map_err(|e| not_summary(e.to_string()))?;
    if form.schema != SCHEMA {
        return Err(format!(
            "schema {} is not {SCHEMA}",
            aliaudit_core::diag::printable(&form.schema)
        ));
    }
    Ok(form)
}

/// `account "ID"`, printable on a terminal whatever the id holds.
fn account_label(id: &str) -> String {
    format!("account \"{}\"", aliaudit_core::diag::printable(id))
}

/// Whether `name` is a page name a shard writes: a plain file stem of lower-case ASCII
/// letters, digits and `-`, as [`crate::view::slugs`] makes them.
fn is_page_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PAGE_NAME
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

const PAGE_NAME_RULE: &str =
    "is not a plain page name (1 to 100 lower-case ASCII letters, digits and '-')";

/// Checks one shard summary against itself and against its fragments file's real length:
/// the shard index, every account (its shard, figures, page name and fragment), and that the
/// fragments lie inside the file, one after the other, as a shard writes them.
fn check_shard(form: &ShardForm, fragments_len: u64) -> Result<(), String> {
    let count = form.spec.count;
    if form.index == 0 || form.index > count {
        return Err(format!(
            "it says it is shard {}/{count}, which no run has",
            form.index
        ));
    }
    let mut folders: BTreeMap<&str, &str> = BTreeMap::new();
    for a in &form.accounts {
        let id = a.info.id.as_str();
        let who = account_label(id);
        let owner = Shard::of(id, count);
        if owner != form.index {
            return Err(format!(
                "{who} belongs to shard {owner}/{count}, not to this shard {}/{count}",
                form.index
            ));
        }
        if let Some(other) = folders.insert(a.info.folder.as_str(), id) {
            return Err(format!(
                "{who} and {} are both read from {}",
                account_label(other),
                aliaudit_core::diag::printable(&a.info.folder)
            ));
        }
        match form.slugs.get(id) {
            None => return Err(format!("{who} has no page name")),
            Some(slug) if !is_page_name(slug) => {
                return Err(format!(
                    "{who}: page name \"{}\" {PAGE_NAME_RULE}",
                    aliaudit_core::diag::printable(slug)
                ));
            }
            Some(_) => {}
        }
        if !form.fragments.contains_key(&a.info.folder) {
            return Err(format!(
                "{who}: no fragment for its folder {}",
                aliaudit_core::diag::printable(&a.info.folder)
            ));
        }
        check_figures(a).map_err(|m| format!("{who}: {m}"))?;
    }
    let ids: BTreeSet<&str> = form.accounts.iter().map(|a| a.info.id.as_str()).collect();
    if ids.len() != form.accounts.len() {
        return Err("an account is listed twice".into());
    }
    if let Some(id) = form.slugs.keys().find(|id| !ids.contains(id.as_str())) {
        return Err(format!(
            "a page name for {}, which this shard does not have",
            account_label(id)
        ));
    }
    for (name, slug) in &form.customer_slugs {
        if !is_page_name(slug) {
            return Err(format!(
                "customer \"{}\": page name \"{}\" {PAGE_NAME_RULE}",
                aliaudit_core::diag::printable(name),
                aliaudit_core::diag::printable(slug)
            ));
        }
    }
    let mut ranges: Vec<(u64, u64, &str)> = Vec::with_capacity(form.fragments.len());
    for (folder, &(offset, json, csv)) in &form.fragments {
        let Some(&id) = folders.get(folder.as_str()) else {
            return Err(format!(
                "a fragment for {}, which no account of this shard is read from",
                aliaudit_core::diag::printable(folder)
            ));
        };
        let past_end = |at: String| {
            format!(
                "{}: fragment at {at} lies past the end of {FRAGMENTS_FILE} ({fragments_len} bytes)",
                account_label(id)
            )
        };
        let Some(len) = json.checked_add(csv) else {
            return Err(past_end(format!("{offset}+{json}+{csv}")));
        };
        match offset.checked_add(len) {
            Some(end) if end <= fragments_len => ranges.push((offset, end, id)),
            _ => return Err(past_end(format!("{offset}+{len}"))),
        }
    }
    // A shard writes the fragments one after the other from the start of the file: a gap,
    // an overlap or bytes after the last one mean the file or the summary was changed.
    ranges.sort_unstable();
    let mut next = 0;
    for (offset, end, id) in ranges {
        if offset != next {
            return Err(format!(
                "{}: fragment at {offset}+{} {} the one before it, which ends at {next}",
                account_label(id),
                end - offset,
                if offset < next {
                    "overlaps"
                } else {
                    "leaves a gap after"
                }
            ));
        }
        next = end;
    }
    if next != fragments_len {
        return Err(format!(
            "{FRAGMENTS_FILE} has {fragments_len} bytes, but its fragments end at {next}"
        ));
    }
    Ok(())
}

/// Checks the figures of one account: counts agree with the lists they count, and the counts
/// that nothing lists are in range. (Its scores and score changes are in range when they are
/// read: a [`aliaudit_core::score::Score`] is one.)
fn check_figures(a: &AccountForm) -> Result<(), String> {
    let mut tally = aliaudit_core::aggregate::ControlTally::default();
    for (_, status) in &a.figures.controls {
        tally.add(*status);
    }
    let c = &a.counts;
    if [
        c.pass,
        c.fail,
        c.excepted,
        c.not_applicable,
        c.not_evaluable,
    ] != [
        tally.pass,
        tally.fail,
        tally.excepted,
        tally.not_applicable,
        tally.not_evaluable,
    ] {
        return Err(format!(
            "its result counts ({} pass, {} fail, {} excepted, {} not applicable, {} not evaluable) do not match its {} control results",
            c.pass,
            c.fail,
            c.excepted,
            c.not_applicable,
            c.not_evaluable,
            a.figures.controls.len()
        ));
    }
    let f = &a.fails;
    let fails = f
        .high
        .checked_add(f.medium)
        .and_then(|n| n.checked_add(f.low));
    if fails != Some(c.fail) || a.failed.len() as u64 != c.fail {
        return Err(format!(
            "its failures by severity ({} high, {} medium, {} low) and its {} failed controls do not match its {} failures",
            f.high,
            f.medium,
            f.low,
            a.failed.len(),
            c.fail
        ));
    }
    if a.figures.score != a.score || a.figures.status != a.status {
        return Err("its score or status is given twice, differently".into());
    }
    if let Some(v) = &a.vendor_standards {
        aliaudit_core::sas_standards::check(v)
            .map_err(|m| format!("its Security Center standards: {m}"))?;
    }
    let i = &a.identity;
    let mut counts = vec![
        ("ram_users", i.ram_users),
        ("console_users", i.console_users),
        ("console_users_without_mfa", i.console_users_without_mfa),
        ("active_access_keys", i.active_access_keys),
        ("access_keys_not_rotated_90d", i.access_keys_not_rotated_90d),
        ("root_active_access_keys", i.root_active_access_keys),
    ];
    if let Some(d) = &a.delta {
        let c = &d.counts;
        counts.extend([
            ("delta.new_failures", Some(c.new_failures)),
            ("delta.resolved", Some(c.resolved)),
            ("delta.persisting", Some(c.persisting)),
            ("delta.excepted", Some(c.excepted)),
            ("delta.not_reassessed", Some(c.not_reassessed)),
        ]);
    }
    // The history is summed over accounts and periods for the trend charts. Only a point
    // that is out of range is put into words.
    for p in &a.history {
        counts.extend([
            ("history.fails.high", Some(p.fails.high)),
            ("history.fails.medium", Some(p.fails.medium)),
            ("history.fails.low", Some(p.fails.low)),
        ]);
    }
    if let Some((name, Some(n))) = counts
        .into_iter()
        .find(|(_, n)| n.is_some_and(|n| n > MAX_COUNT))
    {
        return Err(format!("{name} {n} is beyond any count of evidence"));
    }
    Ok(())
}

/// How many entries the run's exceptions file has, when that can be known now: the file is
/// read again and counted if it is unchanged; a changed or unreadable one is `None` (the
/// merge refuses it when it loads it).
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
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("tests/fixtures/quirks");
        let options = aliaudit_core::pipeline::RunOptions {
            inputs: vec![root],
            keep_resources: true,
            ..Default::default()
        };
        let run = aliaudit_core::pipeline::run_streamed(&options, &|_, _| Ok(()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!run.accounts.is_empty());
        let en = Catalogue::get(Lang::En);
        for a in &run.accounts {
            let text = serde_json::to_string(&AccountForm::of(a, Lang::En)).unwrap_or_default();
            let back: AccountForm = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            // The shard keeps the data-quality notes as the English text summary.json has.
            let mut expected = a.clone();
            for note in &mut expected.evaluation.data_quality {
                *note = Message::from(note.render(en));
            }
            assert_eq!(back.result(), expected);
        }
        for f in &run.files {
            let text = serde_json::to_string(&FileForm::of(f)).unwrap_or_default();
            let back: FileForm = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.record(), *f);
        }
    }

    /// Per account folder: its `summary.json` entry and `findings.csv` rows.
    type FragmentBytes = BTreeMap<String, (Vec<u8>, Vec<u8>)>;

    /// Fragments kept in memory, as a shard's spill would hand them over.
    struct Kept(Mutex<FragmentBytes>);

    impl Kept {
        fn get(&self, folder: &str, csv: bool) -> Result<Vec<u8>, OutputError> {
            let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let (json, rows) = kept.get(folder).ok_or_else(|| OutputError::Render {
                what: "summary.json",
                message: format!("no fragments for {folder}"),
            })?;
            Ok(if csv { rows.clone() } else { json.clone() })
        }
    }

    impl Fragments for Kept {
        fn json(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
            self.get(folder, false)
        }

        fn csv(&self, folder: &str) -> Result<Vec<u8>, OutputError> {
            self.get(folder, true)
        }
    }

    /// The two shards of `samples` below `base`, as `report --shard K/2` writes their
    /// summaries and fragments.
    fn write_shards(base: &Path) -> Vec<PathBuf> {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("samples");
        let as_of = chrono::DateTime::parse_from_rfc3339("2026-09-30T23:59:59Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&chrono::Utc);
        (1..=2)
            .map(|index| {
                let shard = Shard { index, count: 2 };
                let options = aliaudit_core::pipeline::RunOptions {
                    inputs: vec![root.clone()],
                    as_of: Some(as_of),
                    keep_resources: true,
                    shard: Some(shard),
                    ..Default::default()
                };
                let kept = Kept(Mutex::new(BTreeMap::new()));
                let run = aliaudit_core::pipeline::run_streamed(&options, &|a, as_of| {
                    let (json, csv) = crate::output::account_fragments(a, as_of, &[])?;
                    kept.0
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(a.info.folder.clone(), (json, csv));
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
                let spec = RunSpec {
                    manifest: ManifestOptions {
                        inputs: vec!["samples".into()],
                        formats: vec!["json".into(), "csv".into()],
                        lang: "en".into(),
                        ..Default::default()
                    },
                    as_of: "2026-09-30T23:59:59Z".into(),
                    period: None,
                    baseline: None,
                    templates: None,
                    font: None,
                    count: 2,
                    input_ids: ids_digest(run.everyone.iter().flatten().map(|(id, _)| id.as_str())),
                };
                let dir = base.join(format!("shard-{index}"));
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
                write(&run, &kept, &spec, shard, &dir).unwrap_or_else(|e| panic!("{e}"));
                dir
            })
            .collect()
    }

    /// One way a shard file can be damaged.
    #[derive(Debug, Clone)]
    enum Damage {
        /// The file replaced by these bytes.
        Replace(Vec<u8>),
        /// The file cut to this many thousandths of its length.
        Truncate(u64),
        /// Bits flipped: (position in millionths of the length, bit).
        Flip(Vec<(u64, u8)>),
        /// A fragment entry (the n-th) set to these numbers.
        Offsets(usize, [u64; 3]),
        /// The n-th number of `shard.json` set to this.
        Number(usize, serde_json::Value),
        /// The n-th string of `shard.json` set to this.
        Text(usize, String),
        /// The n-th key of an object in `shard.json` renamed to this.
        Key(usize, String),
    }

    /// Which shard, which of its files (for byte damage: the fragments file or not), and how.
    fn damage() -> impl proptest::strategy::Strategy<Value = (usize, bool, Damage)> {
        use proptest::prelude::*;
        let number = prop_oneof![
            any::<u64>(),
            0u64..400_000,
            Just(u64::MAX),
            (u64::MAX - 1_000_000)..=u64::MAX,
            Just(u64::from(u32::MAX) + 1),
        ];
        let text = prop_oneof![
            "\\PC{0,12}",
            "[./a-zA-Z0-9\\\\\u{0}-\u{1f}\u{202e}-]{0,12}",
            Just("../evil".to_string()),
        ];
        let kind = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600).prop_map(Damage::Replace),
            (0u64..1000).prop_map(Damage::Truncate),
            proptest::collection::vec((0u64..1_000_000, 0u8..8), 1..6).prop_map(Damage::Flip),
            (
                any::<usize>(),
                [number.clone(), number.clone(), number.clone()]
            )
                .prop_map(|(n, v)| Damage::Offsets(n, v)),
            (any::<usize>(), number.clone())
                .prop_map(|(n, v)| Damage::Number(n, serde_json::json!(v))),
            (any::<usize>(), any::<i64>())
                .prop_map(|(n, v)| Damage::Number(n, serde_json::json!(v))),
            (any::<usize>(), text.clone()).prop_map(|(n, t)| Damage::Text(n, t)),
            (any::<usize>(), text).prop_map(|(n, t)| Damage::Key(n, t)),
        ];
        (0usize..2, any::<bool>(), kind)
    }

    /// JSON pointers to every number, string or object key (`key`) below `v`.
    fn leaves(v: &serde_json::Value, at: &str, want: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    if want == "key" {
                        out.push(here.clone());
                    }
                    leaves(x, &here, want, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    leaves(x, &format!("{at}/{i}"), want, out);
                }
            }
            serde_json::Value::Number(_) if want == "number" => out.push(at.to_string()),
            serde_json::Value::String(_) if want == "string" => out.push(at.to_string()),
            _ => {}
        }
    }

    /// Applies `damage` to the files of the shard folder `dir`.
    fn apply(dir: &Path, fragments: bool, damage: &Damage) {
        let summary_path = dir.join(SUMMARY_FILE);
        let edit = |n: usize, want: &str, change: &dyn Fn(&mut serde_json::Value, &str)| {
            let text = std::fs::read(&summary_path).unwrap_or_else(|e| panic!("{e}"));
            let mut v: serde_json::Value =
                serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{e}"));
            let mut all = Vec::new();
            leaves(&v, "", want, &mut all);
            if !all.is_empty() {
                change(&mut v, &all[n % all.len()]);
            }
            std::fs::write(&summary_path, v.to_string()).unwrap_or_else(|e| panic!("{e}"));
        };
        let file = dir.join(if fragments {
            FRAGMENTS_FILE
        } else {
            SUMMARY_FILE
        });
        let mut bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{e}"));
        match damage {
            Damage::Replace(with) => bytes.clone_from(with),
            Damage::Truncate(keep) => bytes.truncate((bytes.len() as u64 * keep / 1000) as usize),
            Damage::Flip(at) => {
                for &(pos, bit) in at {
                    if !bytes.is_empty() {
                        let i = (bytes.len() as u64 * pos / 1_000_000) as usize;
                        bytes[i] ^= 1 << bit;
                    }
                }
            }
            Damage::Offsets(n, values) => {
                return edit(*n, "key", &|v, _| {
                    if let Some(map) = v["fragments"].as_object_mut()
                        && let Some(key) = map.keys().nth(n % map.len().max(1)).cloned()
                    {
                        map.insert(key, serde_json::json!(values));
                    }
                });
            }
            Damage::Number(n, value) => {
                return edit(*n, "number", &|v, at| {
                    if let Some(x) = v.pointer_mut(at) {
                        *x = value.clone();
                    }
                });
            }
            Damage::Text(n, text) => {
                return edit(*n, "string", &|v, at| {
                    if let Some(x) = v.pointer_mut(at) {
                        *x = serde_json::json!(text);
                    }
                });
            }
            Damage::Key(n, text) => {
                return edit(*n, "key", &|v, at| {
                    let (parent, key) = at.rsplit_once('/').unwrap_or_default();
                    let key = key.replace("~1", "/").replace("~0", "~");
                    if let Some(map) = v.pointer_mut(parent).and_then(|p| p.as_object_mut())
                        && let Some(x) = map.remove(&key)
                    {
                        map.insert(text.clone(), x);
                    }
                });
            }
        }
        std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn damaged_shard_files_give_a_named_error_or_readable_shards_never_a_panic() {
        use proptest::test_runner::{Config, TestCaseError, TestRunner};
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let shards = write_shards(&tmp.path().join("good"));
        // The undamaged pair reads, and reads back every fragment.
        let merged = read(&shards).unwrap_or_else(|e| panic!("{e}"));
        assert!(merged.accounts.len() >= 4, "{}", merged.accounts.len());
        let mut runner = TestRunner::new(Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        });
        let case = std::sync::atomic::AtomicUsize::new(0);
        let result = runner.run(&damage(), |(which, fragments, damage)| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let base = tmp.path().join(format!("case-{n}"));
            let dirs: Vec<PathBuf> = shards
                .iter()
                .map(|s| {
                    let to = base.join(s.file_name().unwrap_or_default());
                    std::fs::create_dir_all(&to).unwrap_or_else(|e| panic!("{e}"));
                    for f in [SUMMARY_FILE, FRAGMENTS_FILE] {
                        std::fs::copy(s.join(f), to.join(f)).unwrap_or_else(|e| panic!("{e}"));
                    }
                    to
                })
                .collect();
            apply(&dirs[which], fragments, &damage);
            let outcome = read(&dirs);
            let _ = std::fs::remove_dir_all(&base);
            match outcome {
                Ok(merged) => {
                    // What was accepted can be merged: every fragment reads back, every page
                    // name is a plain file stem.
                    for a in &merged.accounts {
                        let folder = &a.info.folder;
                        proptest::prop_assert!(merged.fragments().json(folder).is_ok(), "{folder}");
                        proptest::prop_assert!(merged.fragments().csv(folder).is_ok(), "{folder}");
                    }
                    let stems = merged.pages.values().map(|(_, s)| s);
                    for name in stems.chain(merged.customer_slugs.values()) {
                        proptest::prop_assert!(
                            !name.is_empty()
                                && name.chars().all(|c| c.is_ascii_lowercase()
                                    || c.is_ascii_digit()
                                    || c == '-'),
                            "{name:?}"
                        );
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    let dir = dirs[which].display().to_string();
                    proptest::prop_assert!(text.contains(&dir), "{text}");
                    proptest::prop_assert!(!text.chars().any(char::is_control), "{text:?}");
                }
            }
            Ok::<(), TestCaseError>(())
        });
        result.unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn messages_written_to_a_shard_and_read_back_say_the_same_in_both_languages() {
        let here = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let options = aliaudit_core::pipeline::RunOptions {
            inputs: vec![here.join("samples"), here.join("tests/fixtures/malformed")],
            keep_resources: true,
            lang: Lang::Zh,
            ..Default::default()
        };
        let mut run = aliaudit_core::pipeline::run_streamed(&options, &|_, _| Ok(()))
            .unwrap_or_else(|e| panic!("{e}"));
        // No fixture misses a Security Center page, and a disagreement with Security Center
        // (whose note holds other messages) needs both: give one account of each.
        let a = &mut run.accounts[0];
        a.gap_notes.push(
            Message::key("engine.gap_risk_pages")
                .arg("total", 40)
                .arg("seen", 20)
                .arg("pages", "2")
                .arg("count", 2),
        );
        a.evaluation.data_quality.push(
            Message::key("engine.disagree_sas")
                .arg("control", "root.mfa")
                .nested("ours", Message::key("chart.legend.pass"))
                .nested("detail", Message::key("engine.root_mfa_on"))
                .arg("item", "sas.3")
                .arg("title", "MFA")
                .nested("theirs", Message::key("chart.legend.fail")),
        );
        let (en, zh) = (Catalogue::get(Lang::En), Catalogue::get(Lang::Zh));
        let (mut gaps, mut notes, mut reasons) = (0, 0, 0);
        for a in &run.accounts {
            let text = serde_json::to_string(&AccountForm::of(a, Lang::Zh)).unwrap_or_default();
            let back = serde_json::from_str::<AccountForm>(&text)
                .unwrap_or_else(|e| panic!("{e}"))
                .result();
            for c in [en, zh] {
                assert_eq!(back.gaps_in(c), a.gaps_in(c), "{}", a.info.id);
            }
            // The pages show the report language; summary.json (spliced from the
            // fragments, and for the baseline) English.
            assert_eq!(back.notes_in(zh), a.notes_in(zh), "{}", a.info.id);
            let english = |r: &AccountResult| -> Vec<String> {
                r.evaluation
                    .data_quality
                    .iter()
                    .map(|n| n.render(en))
                    .collect()
            };
            assert_eq!(english(&back), english(a), "{}", a.info.id);
            gaps += a.gap_notes.len();
            notes += a.evaluation.data_quality.len();
        }
        for f in &run.files {
            let text = serde_json::to_string(&FileForm::of(f)).unwrap_or_default();
            let back = serde_json::from_str::<FileForm>(&text)
                .unwrap_or_else(|e| panic!("{e}"))
                .record();
            for c in [en, zh] {
                assert_eq!(back.reason_in(c), f.reason_in(c), "{}", f.path);
            }
            reasons += usize::from(f.reason_note.is_some());
        }
        // The fixture has messages of every kind, so the checks above checked something.
        assert!(
            gaps > 0 && notes > 0 && reasons > 0,
            "{gaps} {notes} {reasons}"
        );
    }

    #[test]
    fn a_message_is_stored_as_a_key_with_its_arguments() {
        let note = Message::key("engine.gap_risk_items")
            .arg("total", 40)
            .arg("seen", 20);
        let text = serde_json::to_string(&note).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"key":"engine.gap_risk_items","args":[["total","40"],["seen","20"]]}"#
        );
        let back: Message = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, note);
        // Keys and names read back are the file's own strings, not leaked ones.
        assert!(matches!(
            back,
            Message::Key {
                key: std::borrow::Cow::Owned(_),
                ..
            }
        ));
        let nested = Message::key("engine.counts_not_enough").nested(
            "why",
            Message::key("engine.source_missing")
                .nested("what", Message::key("engine.what_credential_report")),
        );
        let text = serde_json::to_string(&nested).unwrap_or_default();
        let back: Message = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.render(Catalogue::get(Lang::Zh)),
            nested.render(Catalogue::get(Lang::Zh))
        );
        assert_eq!(back, nested);
        let joined = Message::from("a").then(Message::key("engine.no_as_of"));
        let text = serde_json::to_string(&joined).unwrap_or_default();
        // The separator is a key, written in the language the message is rendered in.
        assert_eq!(
            text,
            r#"["a",{"key":"engine.clause_separator","args":[]},{"key":"engine.no_as_of","args":[]}]"#
        );
        assert_eq!(serde_json::from_str::<Message>(&text).ok(), Some(joined));
    }
}
