//! Ingest stage: reads the files of one folder, recognises each by content and parses it into
//! wire types ([`RawBundle`]).
//!
//! Every file ends as used, ignored or rejected, with the place of any error. Nothing here
//! interprets a value for a control, and one bad file never stops the others.

pub mod credential;
pub mod lenient;
pub mod wire;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::diag::Diagnostic;
use crate::evidence::{FileRecord, FileStatus, Kind, Special};
use credential::{ParsedCsv, RawPrincipal};
use wire::*;

/// Limits that keep hostile input from exhausting memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are hashed but not parsed, and rejected.
    pub max_file_bytes: u64,
    /// Compute each file's SHA-256 (the manifest needs it; `validate` writes no manifest).
    pub hash: bool,
}

/// The largest evidence file read by default (`--max-file-mb 64`); `collect` caps a response
/// at the same size by default.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            hash: true,
        }
    }
}

/// A path found in a folder: where it is, how the manifest names it, and what discovery
/// found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path on disk.
    pub path: PathBuf,
    /// Root as given, then the `/`-separated path below it (see `crate::diag::display_os`).
    pub display: String,
    /// A file to read, or something listed without being opened.
    pub entry: Entry,
}

/// What discovery found at a path. Only a regular file is ever opened; everything else is
/// still listed in the manifest, so nothing found under a root disappears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file (or a link to one).
    File,
    /// A named pipe, socket or device: ignored, with its type.
    Special(Special),
    /// A link to one of its own parent folders (whose files are read there): ignored.
    LinkLoop,
    /// It could not be read (a dangling link, no permission...): rejected with the OS error.
    Unreadable(String),
}

/// A parsed evidence file, still in wire form.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// `GetAccountSecurityPracticeReport`.
    Practice(RawPracticeReport),
    /// `GetSecurityPreference`.
    Preference(RawSecurityPreference),
    /// `GetPasswordPolicy`.
    Password(RawPasswordPolicy),
    /// A `DescribeRiskCheckResult` page.
    RiskCheckPage(RawRiskCheckPage),
    /// A `ListCheckResult` page.
    CheckResultPage(RawCheckResultPage),
    /// `GetCheckStructure`: the vendor's catalogue of standards.
    CheckStructure(RawCheckStructure),
    /// `ListCheckStandard`: the vendor's catalogue of standards.
    CheckStandards(RawCheckStandards),
    /// A credential report CSV file.
    CredentialCsv(ParsedCsv),
    /// A `GetCredentialReport` page, its Content decoded.
    CredentialApiPage {
        /// When the report was generated.
        generated: DateTime<Utc>,
        /// More pages follow.
        truncated: bool,
        /// The decoded CSV text of this page.
        csv: Vec<u8>,
    },
    /// `GetCallerIdentity`.
    CallerIdentity(RawCallerIdentity),
    /// A `GetCredentialReport` page before its Content is decoded (internal step).
    CredentialPageRaw(RawCredentialReportPage),
}

/// A credential report assembled from one CSV file or from a set of API pages.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCredentialReport {
    /// `GeneratedTime`, when the report came from the API.
    pub generated: Option<DateTime<Utc>>,
    /// Rows over all pages, in page order.
    pub principals: Vec<RawPrincipal>,
    /// Indexes into [`RawBundle::files`] of the files it came from; rows name theirs.
    pub files: Vec<usize>,
    /// For each row, the index into `files` of the page it came from.
    pub row_file: Vec<usize>,
}

/// Everything read from one folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawBundle {
    /// Every file of the folder, with its fate so far.
    pub files: Vec<FileRecord>,
    /// Parsed files other than credential reports: (index into `files`, content).
    pub items: Vec<(usize, Parsed)>,
    /// Credential reports, assembled.
    pub credential_reports: Vec<RawCredentialReport>,
    /// Problems and notes.
    pub diagnostics: Vec<Diagnostic>,
}

impl RawBundle {
    /// Whether any file was recognised as evidence (used or rejected).
    pub fn has_evidence(&self) -> bool {
        self.files.iter().any(|f| {
            f.kind.is_some_and(|k| k != Kind::AccountMetadata) && f.status != FileStatus::Ignored
        })
    }
}

/// Reads and parses every file of a folder, then assembles credential-report pages.
pub(crate) fn ingest_files(files: &[SourceFile], limits: Limits) -> RawBundle {
    collect(files.iter().map(|f| read_file(f, limits)))
}

/// Parses files already in memory, as `(display path, bytes)`: for the unit and property
/// tests, which hold evidence without a folder.
#[cfg(test)]
pub(crate) fn ingest_memory(files: &[(&str, &[u8])], limits: Limits) -> RawBundle {
    collect(files.iter().map(|(display, bytes)| {
        let mut record = FileRecord {
            reason_note: None,
            path: display.to_string(),
            account: None,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            kind: None,
            status: FileStatus::Ignored,
            reason: None,
        };
        if bytes.len() as u64 > limits.max_file_bytes {
            record.reject(format!(
                "the file is {} bytes, over the {}-byte limit for one evidence file",
                bytes.len(),
                limits.max_file_bytes
            ));
            return (record, None, Vec::new());
        }
        let ext = extension(Path::new(display));
        recognise(record, bytes, ext.as_deref())
    }))
}

type FileOutcome = (FileRecord, Option<Parsed>, Vec<String>);

fn collect(outcomes: impl Iterator<Item = FileOutcome>) -> RawBundle {
    let mut bundle = RawBundle::default();
    let mut pages = Vec::new();
    for (record, parsed, warnings) in outcomes {
        let index = bundle.files.len();
        for w in warnings {
            bundle
                .diagnostics
                .push(Diagnostic::warning(&record.path, w));
        }
        if record.status == FileStatus::Rejected {
            bundle.diagnostics.push(Diagnostic::error(
                &record.path,
                record.reason.clone().unwrap_or_default(),
            ));
        }
        bundle.files.push(record);
        match parsed {
            Some(Parsed::CredentialCsv(csv)) => {
                let rows = csv.principals.len();
                bundle.credential_reports.push(RawCredentialReport {
                    generated: None,
                    principals: csv.principals,
                    files: vec![index],
                    row_file: vec![0; rows],
                });
            }
            Some(Parsed::CredentialApiPage {
                generated,
                truncated,
                csv,
            }) => pages.push(Page {
                file: index,
                generated,
                truncated,
                csv,
            }),
            Some(other) => bundle.items.push((index, other)),
            None => {}
        }
    }
    assemble_pages(&mut bundle, pages);
    bundle
}

struct Page {
    file: usize,
    generated: DateTime<Utc>,
    truncated: bool,
    csv: Vec<u8>,
}

/// Groups `GetCredentialReport` pages by `GeneratedTime` and joins each group into one report.
/// A group with a missing or unreadable page is rejected whole: a report short of some users
/// would turn missing evidence into passes.
fn assemble_pages(bundle: &mut RawBundle, mut pages: Vec<Page>) {
    pages.sort_by(|a, b| {
        (a.generated, &bundle.files[a.file].path).cmp(&(b.generated, &bundle.files[b.file].path))
    });
    let mut start = 0;
    while start < pages.len() {
        let end = pages[start..]
            .iter()
            .position(|p| p.generated != pages[start].generated)
            .map_or(pages.len(), |n| start + n);
        let group = &pages[start..end];
        match join_group(group) {
            Ok((principals, row_page, warnings)) => {
                for (i, w) in warnings {
                    let path = &bundle.files[group[i].file].path;
                    bundle.diagnostics.push(Diagnostic::warning(path, w));
                }
                bundle.credential_reports.push(RawCredentialReport {
                    generated: Some(group[0].generated),
                    principals,
                    files: group.iter().map(|p| p.file).collect(),
                    row_file: row_page,
                });
            }
            Err((bad_page, message)) => {
                for (i, page) in group.iter().enumerate() {
                    let record = &mut bundle.files[page.file];
                    let reason = if Some(i) == bad_page {
                        message.clone()
                    } else {
                        format!(
                            "credential report generated {} is incomplete: {message}",
                            page.generated.format("%Y-%m-%dT%H:%M:%SZ")
                        )
                    };
                    record.reject(reason.clone());
                    bundle
                        .diagnostics
                        .push(Diagnostic::error(&record.path, reason));
                }
            }
        }
        start = end;
    }
}

/// Rows, the page index of each row, and warnings as (page index, text).
type JoinedRows = (Vec<RawPrincipal>, Vec<usize>, Vec<(usize, String)>);

fn join_group(group: &[Page]) -> Result<JoinedRows, (Option<usize>, String)> {
    let finals = group.iter().filter(|p| !p.truncated).count();
    if finals == 0 {
        return Err((
            None,
            format!(
                "IsTruncated is true on every one of its {} page(s): the last page is missing",
                group.len()
            ),
        ));
    }
    if finals > 1 {
        return Err((
            None,
            format!(
                "{finals} pages each claim to be the last page (IsTruncated false): pages of different reports, or a page saved twice"
            ),
        ));
    }
    // Any page may carry the header (whether later pages repeat it is undocumented): parse
    // the first page that has one, then the others with its layout.
    let first = group
        .iter()
        .position(|p| credential::looks_like_report(&p.csv))
        .ok_or((
            None,
            "no page holds the CSV header (the first page is missing)".to_string(),
        ))?;
    let head = credential::parse_csv(&group[first].csv, None)
        .map_err(|e| (Some(first), format!("Content (decoded CSV) {e}")))?;
    let header = head.header.clone();
    let mut parsed: Vec<Option<ParsedCsv>> = vec![None; group.len()];
    parsed[first] = Some(head);
    let mut rows = Vec::new();
    let mut row_page = Vec::new();
    let mut warnings = Vec::new();
    for (i, page) in group.iter().enumerate() {
        let csv = match parsed[i].take() {
            Some(csv) => csv,
            None => credential::parse_csv(&page.csv, Some(&header))
                .map_err(|e| (Some(i), format!("Content (decoded CSV) {e}")))?,
        };
        row_page.extend(std::iter::repeat_n(i, csv.principals.len()));
        rows.extend(csv.principals);
        warnings.extend(
            csv.warnings
                .into_iter()
                .map(|w| (i, format!("Content (decoded CSV) {w}"))),
        );
    }
    Ok((rows, row_page, warnings))
}

/// Reads one file: hashes it, recognises it and parses it.
pub(crate) fn read_file(file: &SourceFile, limits: Limits) -> FileOutcome {
    let mut record = FileRecord {
        reason_note: None,
        path: file.display.clone(),
        account: None,
        size: 0,
        sha256: String::new(),
        kind: None,
        status: FileStatus::Ignored,
        reason: None,
    };
    match &file.entry {
        Entry::File => {}
        Entry::Special(special) => {
            record.ignore_because(note(special.note_key()));
            return (record, None, Vec::new());
        }
        Entry::LinkLoop => {
            record.ignore_because(note("file.link_loop"));
            return (record, None, Vec::new());
        }
        Entry::Unreadable(reason) => {
            record.reject(reason.clone());
            return (record, None, Vec::new());
        }
    }
    match read_limited(&file.path, limits, &mut record) {
        Ok(Got::Bytes(bytes)) => recognise(record, &bytes, extension(&file.path).as_deref()),
        Ok(Got::Done) => (record, None, Vec::new()),
        Ok(Got::Special(special)) => {
            record.ignore_because(note(special.note_key()));
            (record, None, Vec::new())
        }
        Err(e) => {
            record.reject(format!("cannot read the file: {e}"));
            (record, None, Vec::new())
        }
    }
}

/// Opens `path` for reading if it is a regular file; anything else is named, not opened.
/// Discovery has already set special files aside; this checks again before opening and on
/// the open file (opened without waiting, on Unix), so a named pipe put in a file's place
/// after discovery cannot block the run.
pub fn open_regular(path: &Path) -> std::io::Result<Result<std::fs::File, Special>> {
    if let Some(special) = Special::of(&std::fs::metadata(path)?.file_type()) {
        return Ok(Err(special));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    match Special::of(&file.metadata()?.file_type()) {
        Some(special) => Ok(Err(special)),
        None => Ok(Ok(file)),
    }
}

/// What [`read_limited`] got.
enum Got {
    /// The whole file.
    Bytes(Vec<u8>),
    /// Nothing to parse: the record says why (too large).
    Done,
    /// Not a regular file after all; not read.
    Special(Special),
}

fn recognise(mut record: FileRecord, bytes: &[u8], ext: Option<&str>) -> FileOutcome {
    let outcome = classify(bytes, ext);
    record.kind = outcome.kind;
    match outcome.result {
        Classified::Parsed(parsed) => {
            record.status = FileStatus::Used;
            (record, Some(*parsed), outcome.warnings)
        }
        Classified::Ignored(reason) => {
            record.ignore_because(reason);
            (record, None, outcome.warnings)
        }
        Classified::Rejected(reason) => {
            record.reject(reason);
            (record, None, outcome.warnings)
        }
    }
}

/// Reads a file whole if it is within `max` bytes; larger files are hashed as a stream and
/// rejected, so a huge file costs time but never memory.
fn read_limited(path: &Path, limits: Limits, record: &mut FileRecord) -> std::io::Result<Got> {
    let max = limits.max_file_bytes;
    let mut file = match open_regular(path)? {
        Ok(file) => file,
        Err(special) => return Ok(Got::Special(special)),
    };
    let size = file.metadata()?.len();
    record.size = size;
    if size > max {
        if limits.hash {
            let mut hasher = Sha256::new();
            std::io::copy(&mut file, &mut hasher)?;
            record.sha256 = hex::encode(hasher.finalize());
        }
        record.reject(format!(
            "the file is {size} bytes, over the {max}-byte limit for one evidence file"
        ));
        return Ok(Got::Done);
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    record.size = bytes.len() as u64;
    if limits.hash {
        record.sha256 = hex::encode(Sha256::digest(&bytes));
    }
    Ok(Got::Bytes(bytes))
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

enum Classified {
    Parsed(Box<Parsed>),
    Ignored(crate::i18n::Message),
    Rejected(String),
}

struct Outcome {
    kind: Option<Kind>,
    result: Classified,
    warnings: Vec<String>,
}

impl Outcome {
    fn parsed(kind: Kind, parsed: Parsed) -> Self {
        Outcome {
            kind: Some(kind),
            result: Classified::Parsed(Box::new(parsed)),
            warnings: Vec::new(),
        }
    }
    fn ignored(kind: Option<Kind>, reason: crate::i18n::Message) -> Self {
        Outcome {
            kind,
            result: Classified::Ignored(reason),
            warnings: Vec::new(),
        }
    }
    fn rejected(kind: Option<Kind>, reason: impl Into<String>) -> Self {
        Outcome {
            kind,
            result: Classified::Rejected(reason.into()),
            warnings: Vec::new(),
        }
    }
}

/// Recognises a file by its content. The extension only decides whether unrecognisable
/// content is a broken evidence file (rejected) or simply not evidence (ignored).
fn classify(bytes: &[u8], ext: Option<&str>) -> Outcome {
    let body = credential::strip_bom(bytes);
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let evidence_ext = matches!(ext, Some("json" | "xml" | "csv"));
    match first {
        None if evidence_ext => Outcome::rejected(None, "the file is empty"),
        None => Outcome::ignored(None, note("file.empty_file")),
        Some(b'{' | b'[') => classify_json_bytes(body),
        Some(b'<') => classify_xml(body),
        Some(_) if credential::looks_like_report(body) => match credential::parse_csv(body, None) {
            Ok(parsed) => {
                let warnings = parsed.warnings.clone();
                let mut outcome =
                    Outcome::parsed(Kind::CredentialReportCsv, Parsed::CredentialCsv(parsed));
                outcome.warnings = warnings;
                outcome
            }
            Err(e) => Outcome::rejected(Some(Kind::CredentialReportCsv), e.to_string()),
        },
        Some(_) => match ext {
            Some("json") => classify_json_bytes(body),
            Some("xml") => classify_xml(body),
            Some("csv") => Outcome::rejected(
                None,
                format!(
                    "not a credential report: line 1 must start with \"{}\"",
                    credential::HEADER_PREFIX
                ),
            ),
            _ => Outcome::ignored(None, note("file.not_evidence_kind")),
        },
    }
}

/// Markers that identify a kind even in a file too broken to parse.
const MARKERS: [(&str, Kind); 10] = [
    ("AccountSecurityPracticeInfo", Kind::PracticeReport),
    ("SecurityPreference", Kind::SecurityPreference),
    ("PasswordPolicy", Kind::PasswordPolicy),
    ("DescribeRiskCheckResultResponse", Kind::SasRiskCheckResult),
    ("\"ItemId\"", Kind::SasRiskCheckResult),
    ("\"Checks\"", Kind::SasCheckResult),
    ("CheckStructureResponse", Kind::SasCheckStructure),
    ("\"Standards\"", Kind::SasCheckStandards),
    ("GeneratedTime", Kind::CredentialReportApi),
    ("<ItemId>", Kind::SasRiskCheckResult),
];

fn guess_kind(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(1 << 20)];
    MARKERS.iter().find_map(|(marker, kind)| {
        head.windows(marker.len())
            .any(|w| w == marker.as_bytes())
            .then_some(*kind)
    })
}

/// The top level of a response, enough to tell its kind without parsing it all.
#[derive(Debug, Default)]
struct Shape {
    keys: BTreeSet<String>,
    /// Keys of the first element of `List`, when `List` is a non-empty array or an object.
    list_first: Option<BTreeSet<String>>,
    code: Option<String>,
    message: Option<String>,
}

impl Shape {
    fn has(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    fn from_raw(map: &BTreeMap<String, &RawValue>) -> Shape {
        let text = |k: &str| {
            map.get(k)
                .map(|raw| match serde_json::from_str::<Value>(raw.get()) {
                    Ok(Value::String(s)) => s,
                    _ => raw.get().to_string(),
                })
        };
        // Only the first item's kind matters; a text search of the list is enough and avoids
        // a second parse of what may be most of the file.
        let list_first = map.get("List").and_then(|raw| {
            let text = raw.get();
            let kinds = ["ItemId", "CheckId", "CheckItem"];
            let found: BTreeSet<String> = kinds
                .iter()
                .filter(|k| text.contains(&format!("\"{k}\"")))
                .map(|k| k.to_string())
                .collect();
            (!found.is_empty()).then_some(found)
        });
        Shape {
            keys: map.keys().cloned().collect(),
            list_first,
            code: text("Code"),
            message: text("Message"),
        }
    }

    fn from_value(map: &serde_json::Map<String, Value>) -> Shape {
        let text = |k: &str| {
            map.get(k).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let list_first = map.get("List").and_then(|list| {
            let first = match list {
                Value::Array(items) => items.first()?,
                other => other,
            };
            first.as_object().map(|o| o.keys().cloned().collect())
        });
        Shape {
            keys: map.keys().cloned().collect(),
            list_first,
            code: text("Code"),
            message: text("Message"),
        }
    }
}

/// What a response was detected as.
/// A catalogue message without values.
fn note(key: &'static str) -> crate::i18n::Message {
    crate::i18n::Message::key(key)
}

enum Detected {
    Wrapped,
    Practice,
    Preference,
    Password,
    RiskPage,
    CheckPage,
    Structure,
    Standards,
    CredentialPage,
    Caller,
    ApiError,
    Ignore(Option<Kind>, &'static str),
}

fn detect(shape: &Shape) -> Detected {
    let has = |k: &str| shape.has(k);
    if shape.keys.len() == 1 && has("DescribeRiskCheckResultResponse") {
        return Detected::Wrapped;
    }
    if has("schema") && has("calls") && has("missing") {
        return Detected::Ignore(None, "file.collection_log");
    }
    if has("AccountSecurityPracticeInfo") {
        return Detected::Practice;
    }
    if has("SecurityPreference") {
        return Detected::Preference;
    }
    if has("PasswordPolicy") {
        return Detected::Password;
    }
    if has("Checks") {
        return Detected::CheckPage;
    }
    if has("CheckStructureResponse") {
        return Detected::Structure;
    }
    if has("Standards") {
        return Detected::Standards;
    }
    if has("List") {
        match &shape.list_first {
            Some(first) if first.contains("ItemId") => return Detected::RiskPage,
            None if has("PageCount") || has("TotalCount") => return Detected::RiskPage,
            Some(first) if first.contains("CheckId") && first.contains("CheckItem") => {
                return Detected::Ignore(Some(Kind::SasHostBaseline), "file.host_baseline");
            }
            _ => {}
        }
    }
    if has("Content") && has("GeneratedTime") {
        return Detected::CredentialPage;
    }
    if has("RiskCheckSummary") || has("Summarys") || has("OverallStatistic") {
        return Detected::Ignore(Some(Kind::SasSummary), "file.sas_summary");
    }
    if has("Credentials") && has("AssumedRoleUser") {
        return Detected::Ignore(Some(Kind::StsCredentials), "file.sts_credentials");
    }
    if has("AccountId") && has("IdentityType") {
        return Detected::Caller;
    }
    if has("State") && shape.keys.len() <= 3 {
        return Detected::Ignore(Some(Kind::CredentialReportState), "file.cr_state");
    }
    if has("Code") && has("Message") {
        return Detected::ApiError;
    }
    Detected::Ignore(None, "file.json_unknown")
}

/// A document to deserialize typed values from: JSON text, or a tree (from XML).
#[derive(Clone, Copy)]
enum Doc<'a> {
    Json(&'a str),
    Tree(&'a Value),
}

/// Deserializes a typed response, naming the path (and for JSON text the line) of any error.
fn typed<T: DeserializeOwned>(doc: Doc, kind: Kind, wrap: impl FnOnce(T) -> Parsed) -> Outcome {
    let result = match doc {
        // Path tracking allocates for every key, so parse without it and only re-parse with
        // it to name the place of an error.
        Doc::Json(text) => serde_json::from_str::<T>(text).map_err(|_| {
            let mut de = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(_) => "the document could not be read".to_string(),
                Err(e) => {
                    let inner = e.inner();
                    format!(
                        "JSON path {} (line {}, column {}): {}",
                        e.path(),
                        inner.line(),
                        inner.column(),
                        json_error_text(inner)
                    )
                }
            }
        }),
        Doc::Tree(value) => serde_path_to_error::deserialize::<_, T>(value)
            .map_err(|e| format!("XML element {}: {}", e.path(), e.inner())),
    };
    match result {
        Ok(parsed) => Outcome::parsed(kind, wrap(parsed)),
        Err(message) => Outcome::rejected(Some(kind), message),
    }
}

fn parse_detected(detected: Detected, doc: Doc, shape: &Shape) -> Outcome {
    match detected {
        Detected::Wrapped => {
            let inner = match doc {
                Doc::Json(text) => serde_json::from_str::<BTreeMap<String, &RawValue>>(text)
                    .ok()
                    .and_then(|m| {
                        m.get("DescribeRiskCheckResultResponse")
                            .map(|r| r.get().to_string())
                    }),
                Doc::Tree(_) => None,
            };
            match (inner, doc) {
                (Some(text), _) => typed(
                    Doc::Json(&text),
                    Kind::SasRiskCheckResult,
                    Parsed::RiskCheckPage,
                ),
                (None, Doc::Tree(v)) => match v.get("DescribeRiskCheckResultResponse") {
                    Some(inner) => typed(
                        Doc::Tree(inner),
                        Kind::SasRiskCheckResult,
                        Parsed::RiskCheckPage,
                    ),
                    None => Outcome::ignored(None, note("file.empty_wrapper")),
                },
                (None, Doc::Json(_)) => Outcome::ignored(None, note("file.empty_wrapper")),
            }
        }
        Detected::Practice => typed(doc, Kind::PracticeReport, Parsed::Practice),
        Detected::Preference => typed(
            doc,
            Kind::SecurityPreference,
            |p: RawSecurityPreferenceResponse| Parsed::Preference(p.security_preference),
        ),
        Detected::Password => typed(doc, Kind::PasswordPolicy, |p: RawPasswordPolicyResponse| {
            Parsed::Password(p.password_policy)
        }),
        Detected::RiskPage => typed(doc, Kind::SasRiskCheckResult, Parsed::RiskCheckPage),
        Detected::CheckPage => typed(doc, Kind::SasCheckResult, Parsed::CheckResultPage),
        Detected::Structure => typed(doc, Kind::SasCheckStructure, Parsed::CheckStructure),
        Detected::Standards => typed(doc, Kind::SasCheckStandards, Parsed::CheckStandards),
        Detected::Caller => typed(doc, Kind::CallerIdentity, Parsed::CallerIdentity),
        Detected::CredentialPage => {
            let page = typed(
                doc,
                Kind::CredentialReportApi,
                |p: RawCredentialReportPage| Parsed::CredentialPageRaw(p),
            );
            credential_page(page, doc)
        }
        Detected::ApiError => Outcome::rejected(
            Some(Kind::ApiError),
            format!(
                "a saved API error, not data: {}: {}",
                shape.code.clone().unwrap_or_default(),
                shape.message.clone().unwrap_or_default()
            ),
        ),
        Detected::Ignore(kind, key) => Outcome::ignored(kind, note(key)),
    }
}

fn classify_json_bytes(bytes: &[u8]) -> Outcome {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            // serde_json names the first problem, syntax or encoding, with its place.
            if let Err(json) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                return Outcome::rejected(
                    guess_kind(bytes),
                    format!(
                        "invalid JSON at line {}, column {}: {}",
                        json.line(),
                        json.column(),
                        json_error_text(&json)
                    ),
                );
            }
            return not_utf8(bytes, &e);
        }
    };
    // Only the top level is parsed here; the detected kind is then read straight from the
    // text into its typed form (no intermediate tree).
    match serde_json::from_str::<BTreeMap<String, &RawValue>>(text) {
        Ok(map) => {
            let shape = Shape::from_raw(&map);
            parse_detected(detect(&shape), Doc::Json(text), &shape)
        }
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            Outcome::ignored(None, note("file.json_not_object"))
        }
        Err(e) => Outcome::rejected(
            guess_kind(bytes),
            format!(
                "invalid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                json_error_text(&e)
            ),
        ),
    }
}

fn not_utf8(bytes: &[u8], e: &std::str::Utf8Error) -> Outcome {
    let (line, column) = crate::diag::line_col(
        &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
        e.valid_up_to(),
    );
    Outcome::rejected(
        guess_kind(bytes),
        format!("not valid UTF-8 at line {line}, column {column}"),
    )
}

/// serde_json appends " at line L column C" to its messages; we print the place ourselves.
fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn classify_xml(bytes: &[u8]) -> Outcome {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return not_utf8(bytes, &e);
        }
    };
    match xml::to_value(text) {
        Ok((root, value)) => {
            if root == "DescribeRiskCheckResultResponse" {
                return typed(
                    Doc::Tree(&value),
                    Kind::SasRiskCheckResult,
                    Parsed::RiskCheckPage,
                );
            }
            if let Value::Object(map) = &value {
                let shape = Shape::from_value(map);
                let detected = detect(&shape);
                if !matches!(detected, Detected::Ignore(None, _)) {
                    return parse_detected(detected, Doc::Tree(&value), &shape);
                }
            }
            Outcome::ignored(
                None,
                crate::i18n::Message::key("file.xml_unknown").arg("root", root),
            )
        }
        Err(e) => Outcome::rejected(guess_kind(bytes), format!("invalid XML at {e}")),
    }
}

/// Checks a `GetCredentialReport` page's time and decodes its Content.
fn credential_page(outcome: Outcome, doc: Doc) -> Outcome {
    let kind = Kind::CredentialReportApi;
    let place = match doc {
        Doc::Json(_) => "JSON path",
        Doc::Tree(_) => "XML element",
    };
    let page = match outcome.result {
        Classified::Parsed(parsed) => match *parsed {
            Parsed::CredentialPageRaw(page) => page,
            other => return Outcome::parsed(kind, other),
        },
        _ => return outcome,
    };
    let generated = match credential::parse_time(page.generated_time.trim()) {
        Ok(t) => t,
        Err(e) => return Outcome::rejected(Some(kind), format!("{place} GeneratedTime: {e}")),
    };
    let csv = match credential::decode_content(&page.content) {
        Ok(c) => c,
        Err(e) => return Outcome::rejected(Some(kind), format!("{place} Content: {e}")),
    };
    Outcome::parsed(
        kind,
        Parsed::CredentialApiPage {
            generated,
            truncated: page.is_truncated.unwrap_or(false),
            csv,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_reason(text: &str, ext: &str) -> (Option<Kind>, String) {
        let outcome = classify(text.as_bytes(), Some(ext));
        let reason = match outcome.result {
            Classified::Parsed(_) => "parsed".to_string(),
            Classified::Ignored(r) => format!(
                "ignored: {}",
                r.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En))
            ),
            Classified::Rejected(r) => format!("rejected: {r}"),
        };
        (outcome.kind, reason)
    }

    #[test]
    fn recognises_by_content_not_name() {
        let (kind, reason) = kind_and_reason(
            r#"{"PasswordPolicy":{"MaxLoginAttemps":"5","HardExpiry":false}}"#,
            "txt",
        );
        assert_eq!(kind, Some(Kind::PasswordPolicy));
        assert_eq!(reason, "parsed");
    }

    #[test]
    fn rejects_truncated_json_with_line_and_column() {
        let (kind, reason) = kind_and_reason(
            "{\n  \"AccountSecurityPracticeInfo\": {\"Score\": 6",
            "json",
        );
        assert_eq!(kind, Some(Kind::PracticeReport));
        assert_eq!(
            reason,
            "rejected: invalid JSON at line 2, column 44: EOF while parsing an object"
        );
    }

    #[test]
    fn rejects_a_wrong_type_naming_the_json_path() {
        let (_, reason) = kind_and_reason(
            r#"{"TotalCount":2,"List":[{"ItemId":3},{"ItemId":4,"CheckTime":"soon"}]}"#,
            "json",
        );
        assert_eq!(
            reason,
            "rejected: JSON path List[1].CheckTime (line 1, column 68): expected a whole number, found \"soon\""
        );
    }

    #[test]
    fn ignores_unrelated_json_and_text() {
        assert!(
            kind_and_reason(r#"{"name":"x"}"#, "json")
                .1
                .starts_with("ignored")
        );
        assert!(kind_and_reason("hello", "md").1.starts_with("ignored"));
        assert!(
            kind_and_reason("hello", "json")
                .1
                .starts_with("rejected: invalid JSON")
        );
    }

    #[test]
    fn saved_api_errors_are_rejected_with_their_code() {
        let (kind, reason) = kind_and_reason(
            r#"{"RequestId":"x","Code":"Forbidden.RAM","Message":"no"}"#,
            "json",
        );
        assert_eq!(kind, Some(Kind::ApiError));
        assert_eq!(
            reason,
            "rejected: a saved API error, not data: Forbidden.RAM: no"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_named_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("page.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap();
        assert!(made.success());
        // Reading it would wait for a writer forever; it is named instead.
        assert!(matches!(open_regular(&pipe), Ok(Err(Special::Fifo))));
        let file = SourceFile {
            path: pipe,
            display: "in/page.json".to_string(),
            entry: Entry::File,
        };
        let (record, parsed, _) = read_file(&file, Limits::default());
        assert_eq!(record.status, FileStatus::Ignored);
        assert_eq!(
            record.reason.as_deref(),
            Some("a named pipe (FIFO), not a file")
        );
        assert!(parsed.is_none());
    }

    #[test]
    fn catalogue_responses_are_recognised_by_content_and_read_leniently() {
        let structure = r#"{"RequestId":"x","CheckStructureResponse":{"StandardType":"RISK","Standards":[{"Id":"4","ShowName":"S","Requirements":{"Id":40,"ShowName":"R","Sections":[{"Id":400,"ShowName":"X"}]}}]}}"#;
        let outcome = classify(structure.as_bytes(), Some("txt"));
        assert_eq!(outcome.kind, Some(Kind::SasCheckStructure));
        let Classified::Parsed(parsed) = outcome.result else {
            panic!("not parsed");
        };
        let Parsed::CheckStructure(c) = *parsed else {
            panic!("not a check structure");
        };
        let group = &c.check_structure_response.0[0];
        assert_eq!(group.standard_type.as_deref(), Some("RISK"));
        let requirement = &group.standards.0[0].requirements.0[0];
        assert_eq!(group.standards.0[0].id, Some(4));
        assert_eq!(requirement.id, Some(40));
        assert_eq!(requirement.sections.0[0].show_name.as_deref(), Some("X"));

        let standards = r#"{"Standards":[{"Id":5,"ShowName":"T","Type":"COMPLIANCE","Requirements":[{"Id":"50","ShowName":"Q","RiskCheckCount":2}]}]}"#;
        let (kind, reason) = kind_and_reason(standards, "json");
        assert_eq!(
            (kind, reason.as_str()),
            (Some(Kind::SasCheckStandards), "parsed")
        );

        let (kind, reason) = kind_and_reason(
            r#"{"Standards":[{"Id":5,"Requirements":[{"Id":"fifty"}]}]}"#,
            "json",
        );
        assert_eq!(kind, Some(Kind::SasCheckStandards));
        assert_eq!(
            reason,
            "rejected: JSON path Standards[0].Requirements[0].Id (line 1, column 52): expected a whole number, found \"fifty\""
        );
    }

    #[test]
    fn check_policies_read_ids_as_numbers_or_text_and_one_object_as_a_list() {
        let page = r#"{"Checks":[{"CheckId":1,"CheckPolicies":{"StandardId":"7","StandardShowName":"S","RequirementId":70,"RequirementShowName":"R","SectionId":"700","SectionShowName":"X"}}]}"#;
        let Classified::Parsed(parsed) = classify(page.as_bytes(), Some("json")).result else {
            panic!("not parsed");
        };
        let Parsed::CheckResultPage(page) = *parsed else {
            panic!("not a check page");
        };
        let policy = &page.checks.0[0].check_policies.0[0];
        assert_eq!(
            (policy.standard_id, policy.requirement_id, policy.section_id),
            (Some(7), Some(70), Some(700))
        );
        assert_eq!(policy.requirement_show_name.as_deref(), Some("R"));
    }

    #[test]
    fn xml_risk_check_page_with_a_single_item() {
        let xml = "<DescribeRiskCheckResultResponse><TotalCount>1</TotalCount><List><ItemId>3</ItemId><Status>failed</Status><RiskItemResources><ContentResource>{}</ContentResource></RiskItemResources></List></DescribeRiskCheckResultResponse>";
        let outcome = classify(xml.as_bytes(), Some("xml"));
        let Classified::Parsed(parsed) = outcome.result else {
            panic!("not parsed");
        };
        let Parsed::RiskCheckPage(page) = *parsed else {
            panic!("not a risk check page");
        };
        assert_eq!(page.list.0.len(), 1);
        assert_eq!(page.list.0[0].item_id, 3);
        assert_eq!(page.total_count, Some(1));
    }
}

#[cfg(test)]
mod properties {
    //! Property tests: whatever the bytes, ingest never panics and accounts for every file.

    use super::*;
    use proptest::prelude::*;

    const PAGE: &str = r#"{"TotalCount":"2","PageCount":1,"CurrentPage":1,"List":[{"ItemId":3,"Title":"MFA","Status":"pass","CheckTime":1790300000000,"RiskItemResources":{"ContentResource":"{\"type\":\"text\"}"}},{"ItemId":"4","Status":"failed","StartStatus":"disable"}]}"#;
    const PREF: &str = r#"{"SecurityPreference":{"LoginProfilePreference":{"MFAOperationForLogin":"adaptive","LoginNetworkMasks":"10.0.0.0/8"},"VerificationPreference":{"VerificationTypes":["[\"sms\"]"]},"MaxIdleDays":{"MaxIdleDaysForUsers":"90"}}}"#;
    const XML: &str = "<DescribeRiskCheckResultResponse><TotalCount>1</TotalCount><List><ItemId>3</ItemId><Status>pass</Status></List></DescribeRiskCheckResultResponse>";
    const CHECKS: &str = r#"{"Checks":[{"CheckId":"9","Status":"PASS","LastCheckTime":1790300000000,"CheckPolicies":[{"StandardId":1,"StandardShowName":"S","RequirementId":"11","RequirementShowName":"R","SectionId":111,"SectionShowName":"X"}]}],"PageInfo":{"TotalCount":1}}"#;
    const STRUCTURE: &str = r#"{"CheckStructureResponse":[{"StandardType":"RISK","Standards":[{"Id":1,"ShowName":"S","Requirements":[{"Id":11,"ShowName":"R","Sections":[{"Id":111,"ShowName":"X"}]}]}]}]}"#;
    const STANDARDS: &str = r#"{"Standards":[{"Id":"1","ShowName":"S","Type":"RISK","Requirements":{"Id":11,"ShowName":"R"}}]}"#;
    const CSV: &str = "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used\n<root>,2016-01-01T00:00:00Z,-,TRUE,N/A,N/A,N/A,TRUE,FALSE,N/A,N/A,N/A\n";

    fn check(name: &str, bytes: &[u8]) {
        let bundle = ingest_memory(&[(name, bytes)], Limits::default());
        assert_eq!(bundle.files.len(), 1);
        let file = &bundle.files[0];
        match file.status {
            FileStatus::Used => assert!(file.kind.is_some()),
            FileStatus::Rejected => {
                assert!(file.reason.as_deref().is_some_and(|r| !r.is_empty()));
                assert!(bundle.diagnostics.iter().any(|d| d.path == name));
            }
            FileStatus::Ignored => assert!(file.reason.is_some()),
        }
    }

    fn ext() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("json"),
            Just("xml"),
            Just("csv"),
            Just("txt"),
            Just("")
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), ext in ext()) {
            check(&format!("f.{ext}"), &bytes);
        }

        #[test]
        fn truncated_documents_are_rejected_or_used_never_panic(
            doc in prop_oneof![Just(PAGE), Just(PREF), Just(XML), Just(CSV), Just(CHECKS), Just(STRUCTURE), Just(STANDARDS)],
            cut in 0usize..400,
        ) {
            let end = cut.min(doc.len());
            check("page.json", &doc.as_bytes()[..end]);
        }

        #[test]
        fn single_byte_corruption_never_panics(
            doc in prop_oneof![Just(PAGE), Just(PREF), Just(XML), Just(CSV), Just(CHECKS), Just(STRUCTURE), Just(STANDARDS)],
            at in 0usize..400,
            byte in any::<u8>(),
        ) {
            let mut bytes = doc.as_bytes().to_vec();
            let i = at % bytes.len();
            bytes[i] = byte;
            check("doc", &bytes);
        }

        #[test]
        fn catalogue_values_of_any_json_type_parse_or_are_rejected_with_a_path(
            id in prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| format!("\"{n}\"")),
                Just("null".to_string()),
                Just("true".to_string()),
                Just("[]".to_string()),
                Just("{}".to_string()),
                "\"[a-z0-9 ]{0,6}\"",
            ],
            structure in any::<bool>(),
        ) {
            let doc = if structure {
                format!(r#"{{"CheckStructureResponse":[{{"Standards":[{{"Id":{id},"Requirements":[{{"Id":{id},"Sections":[{{"Id":{id}}}]}}]}}]}}]}}"#)
            } else {
                format!(r#"{{"Standards":[{{"Id":{id},"Requirements":[{{"Id":{id}}}]}}]}}"#)
            };
            let bundle = ingest_memory(&[("c.json", doc.as_bytes())], Limits::default());
            let file = &bundle.files[0];
            let kind = if structure { Kind::SasCheckStructure } else { Kind::SasCheckStandards };
            prop_assert_eq!(file.kind, Some(kind));
            match file.status {
                FileStatus::Used => prop_assert_eq!(bundle.items.len(), 1),
                FileStatus::Rejected => prop_assert!(file.reason.as_deref().is_some_and(|r| r.starts_with("JSON path "))),
                FileStatus::Ignored => prop_assert!(false, "ignored: {:?}", file.reason),
            }
        }

        #[test]
        fn csv_cells_of_any_text_parse_or_fail_with_a_line(
            cells in proptest::collection::vec("[-A-Za-z0-9/:,\"\n_=+@ 中]{0,12}", 12),
        ) {
            let row = cells.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect::<Vec<_>>().join(",");
            let text = format!("{}{row}\n", CSV.lines().next().map(|h| format!("{h}\n")).unwrap_or_default());
            match credential::parse_csv(text.as_bytes(), None) {
                Ok(parsed) => prop_assert_eq!(parsed.principals.len(), 1),
                Err(e) => prop_assert!(e.line.is_some() || !e.message.is_empty()),
            }
        }

        #[test]
        fn credential_pages_in_any_order_join_to_the_same_rows(swap in any::<bool>()) {
            use base64::Engine;
            let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            let header = CSV.lines().next().unwrap_or_default();
            let p1 = format!(r#"{{"GeneratedTime":"2026-01-01T00:00:00Z","Content":"{}","IsTruncated":"true","NextToken":"t"}}"#, enc(CSV));
            let p2 = format!(r#"{{"GeneratedTime":"2026-01-01T00:00:00Z","Content":"{}","IsTruncated":false}}"#,
                enc(&format!("{header}\na@x.onaliyun.com,2020-01-01T00:00:00Z,-,FALSE,N/A,N/A,N/A,N/A,FALSE,N/A,N/A,N/A\n")));
            let mut files = vec![("a.json", p1.as_bytes()), ("b.json", p2.as_bytes())];
            if swap { files.reverse(); }
            let bundle = ingest_memory(&files, Limits::default());
            prop_assert_eq!(bundle.credential_reports.len(), 1);
            let users: Vec<&str> = bundle.credential_reports[0].principals.iter().map(|p| p.user.as_str()).collect();
            prop_assert_eq!(users, vec!["<root>", "a@x.onaliyun.com"]);
        }
    }
}
