//! Collect stage (`aliaudit collect`, README "Collecting the evidence"): fetches the evidence from the live APIs and
//! saves it in the layout `report` reads.
//!
//! Per account: credentials are resolved ([`credentials`]), roles assumed, every response
//! fetched ([`fetch`]) through the signing, retrying caller ([`api`]), and saved verbatim
//! with `account.toml` and `collection-log.json` into `OUT/.aliaudit-collect/FOLDER`, which
//! is moved to `OUT/FOLDER` only when the account is done. An interrupted run therefore never
//! leaves half an account where `report` would read it.

pub mod accounts;
pub mod api;
pub mod credentials;
pub mod fetch;
mod scrub;
mod sign;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_width::UnicodeWidthStr;

use accounts::{AccountEntry, AccountsFile, Site};
use api::{Apis, Caller, Settings};
use credentials::{CredentialsError, Vars};
use fetch::{Call, Missing, Waits};

// The policies grant the actions fetch calls, so they are written beside them.
pub use fetch::POLICY;

/// The hidden folder (under the output folder) where accounts are written before they move.
const WORK_DIR: &str = ".aliaudit-collect";
/// The log written into each account folder.
const LOG_FILE: &str = "collection-log.json";
/// The log's schema name.
const LOG_SCHEMA: &str = "aliaudit.collection-log/v1";

/// What `collect` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The output folder (an INPUT of `report`).
    pub out: PathBuf,
    /// Accounts collected at once.
    pub jobs: usize,
    /// Skip accounts whose folder holds a complete collection.
    pub resume: bool,
    /// Security Center language (`en`, `zh`); default from the accounts file, else `en`.
    pub lang: Option<String>,
    /// Timeouts, retries and pace of the calls.
    pub settings: Settings,
    /// Credential report waits.
    pub waits: Waits,
}

/// How an account's collection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every piece of evidence saved.
    Complete,
    /// Saved, but some evidence is missing (the log says which and why).
    Partial,
    /// Nothing saved (no access, or the folder could not be written).
    Failed,
    /// Already complete and `--resume` was given.
    Skipped,
}

impl Status {
    /// The word shown in the final table.
    pub fn word(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// One account's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The account's folder (relative to the output folder).
    pub folder: String,
    /// Its UID, when known.
    uid: Option<String>,
    /// How it ended.
    pub status: Status,
    /// Files saved.
    files: usize,
    /// API calls made.
    calls: usize,
    /// What is missing and why (one line each).
    notes: Vec<String>,
}

/// The collection log written into each account folder.
#[derive(Debug, Serialize)]
struct Log {
    /// [`LOG_SCHEMA`].
    schema: String,
    /// The account folder.
    folder: String,
    /// Account UID.
    uid: Option<String>,
    /// How it ended.
    status: Status,
    /// When the first call started (UTC).
    started: String,
    /// When the account was finished (UTC).
    finished: String,
    /// Evidence not collected.
    missing: Vec<Missing>,
    /// Every call made.
    calls: Vec<Call>,
}

#[derive(Serialize)]
struct AccountToml<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a str>,
    site: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    contacts: &'a [String],
}

/// What `--resume` reads back of a log.
#[derive(Deserialize)]
struct LogHead {
    schema: String,
    uid: Option<String>,
    status: Status,
    finished: String,
}

/// The log of a complete collection in `dir`, if there is one.
fn complete_log(dir: &Path) -> Option<LogHead> {
    std::fs::read(dir.join(LOG_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<LogHead>(&b).ok())
        .filter(|log| log.schema == LOG_SCHEMA && log.status == Status::Complete)
        // The log sits in a folder anyone may edit: what it says reaches the table as text.
        .map(|log| LogHead {
            uid: log
                .uid
                .map(|u| aliaudit_core::diag::printable(&u).into_owned()),
            finished: aliaudit_core::diag::printable(&log.finished).into_owned(),
            ..log
        })
}

/// Collects every account of `file`, `options.jobs` at a time; `progress` is told of each
/// finished account. Results come back in file order.
pub fn run(
    file: &AccountsFile,
    options: &Options,
    vars: &(dyn Vars + Sync),
    progress: &(dyn Fn(&Outcome) + Sync),
) -> Result<Vec<Outcome>> {
    std::fs::create_dir_all(options.out.join(WORK_DIR))
        .with_context(|| format!("cannot create {}", options.out.join(WORK_DIR).display()))?;
    let caller = Caller::new(options.settings.clone()).context("cannot start HTTP client")?;
    let lang = options
        .lang
        .clone()
        .or_else(|| file.defaults.lang.clone())
        .unwrap_or_else(|| "en".into());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start worker threads")?;
    // The aliyun CLI's configuration is read once, when the first profile needs it.
    let config: Mutex<Option<Result<(String, String), CredentialsError>>> = Mutex::new(None);
    let read_config = || -> Result<(String, String), CredentialsError> {
        let mut cached = config.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .get_or_insert_with(|| credentials::read_config(vars))
            .clone()
    };
    let outcomes = pool.install(|| {
        file.accounts
            .par_iter()
            .map(|(_, entry)| {
                let outcome = collect_one(entry, file, options, &caller, &lang, vars, &read_config);
                progress(&outcome);
                outcome
            })
            .collect::<Vec<_>>()
    });
    // Gone when empty; anything left is from an account that could not be moved.
    let _ = std::fs::remove_dir(options.out.join(WORK_DIR));
    Ok(outcomes)
}

fn failed(entry: &AccountEntry, calls: usize, note: String) -> Outcome {
    Outcome {
        folder: entry.folder.clone(),
        uid: None,
        status: Status::Failed,
        files: 0,
        calls,
        notes: vec![note],
    }
}

/// The table's notes for missing evidence.
fn missing_notes(missing: &[Missing]) -> Vec<String> {
    missing
        .iter()
        .map(|m| format!("no {}: {}", m.evidence, m.reason))
        .collect()
}

fn collect_one(
    entry: &AccountEntry,
    file: &AccountsFile,
    options: &Options,
    caller: &Caller,
    lang: &str,
    vars: &(dyn Vars + Sync),
    read_config: &(dyn Fn() -> Result<(String, String), CredentialsError> + Sync),
) -> Outcome {
    let target = options.out.join(&entry.folder);
    if options.resume
        && let Some(log) = complete_log(&target)
    {
        return Outcome {
            folder: entry.folder.clone(),
            uid: log.uid,
            status: Status::Skipped,
            files: 0,
            calls: 0,
            notes: vec![format!("already complete ({})", log.finished)],
        };
    }
    if target.exists() && !target.join(LOG_FILE).is_file() {
        return failed(
            entry,
            0,
            format!(
                "{} exists and was not written by aliaudit collect; move it or choose another folder",
                target.display()
            ),
        );
    }
    let plan = match credentials::plan(&entry.credentials, vars, read_config) {
        Ok(plan) => plan,
        Err(e) => return failed(entry, 0, e.to_string()),
    };
    let site = entry.site.or(file.defaults.site).unwrap_or_default();
    let apis = Apis::for_site(&file.endpoints, site);
    let started = api::utc_now();
    let fetched = fetch::fetch(caller, &apis, plan.keys, &plan.roles, lang, options.waits);
    let calls = fetched.calls.len();
    if let Some(fatal) = fetched.fatal {
        return failed(entry, calls, format!("no access: {}", fatal.reason));
    }
    // Nothing of what reports read came: nothing is written (the table says why).
    if fetch::EVIDENCE
        .iter()
        .all(|e| fetched.missing.iter().any(|m| m.evidence == *e))
    {
        return Outcome {
            notes: missing_notes(&fetched.missing),
            ..failed(entry, calls, String::new())
        };
    }
    let status = if fetched.missing.is_empty() {
        Status::Complete
    } else {
        Status::Partial
    };
    let log = Log {
        schema: LOG_SCHEMA.into(),
        folder: entry.folder.clone(),
        uid: fetched.uid.clone(),
        status,
        started,
        finished: api::utc_now(),
        missing: fetched.missing.clone(),
        calls: fetched.calls,
    };
    let site_word = match site {
        Site::China => "china",
        Site::International => "international",
    };
    let meta = AccountToml {
        name: entry.name.as_deref(),
        uid: fetched.uid.as_deref(),
        customer: entry.customer.as_deref(),
        site: site_word,
        contacts: &entry.contacts,
    };
    let files = fetched.files.len() + 2;
    match place(&options.out, &entry.folder, &fetched.files, &meta, &log) {
        Ok(()) => Outcome {
            folder: entry.folder.clone(),
            uid: fetched.uid,
            status,
            files,
            calls,
            notes: missing_notes(&fetched.missing),
        },
        Err(e) => failed(entry, calls, format!("{e:#}")),
    }
}

/// Writes the account into the work folder, then moves it to `out/folder` (replacing an
/// earlier collection there).
fn place(
    out: &Path,
    folder: &str,
    files: &[(String, Vec<u8>)],
    meta: &AccountToml,
    log: &Log,
) -> Result<()> {
    let work = out.join(WORK_DIR).join(folder);
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(work.join(name), bytes)
            .with_context(|| format!("cannot write {}", work.join(name).display()))
    };
    for (name, body) in files {
        write(name, body)?;
    }
    write(
        "account.toml",
        toml::to_string(meta)
            .context("cannot write account.toml")?
            .as_bytes(),
    )?;
    let mut log_text = serde_json::to_vec_pretty(log).context("cannot write the log")?;
    log_text.push(b'\n');
    write(LOG_FILE, &log_text)?;
    let target = out.join(folder);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if target.exists() {
        let old = out.join(WORK_DIR).join(format!("{folder}.replaced"));
        let _ = std::fs::remove_dir_all(&old);
        if let Some(parent) = old.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&target, &old)
            .with_context(|| format!("cannot move the earlier {} aside", target.display()))?;
        std::fs::rename(&work, &target)
            .with_context(|| format!("cannot move {} into place", work.display()))?;
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove {}", old.display()))?;
    } else {
        std::fs::rename(&work, &target)
            .with_context(|| format!("cannot move {} into place", work.display()))?;
    }
    // Empty parents left in the work folder (nested account folders).
    let mut parent = work.parent();
    while let Some(p) = parent {
        if p == out.join(WORK_DIR) || std::fs::remove_dir(p).is_err() {
            break;
        }
        parent = p.parent();
    }
    Ok(())
}

/// The final table: one line per account, and one more for each further note. Columns are
/// padded by display width, so a folder named in Chinese (two columns a character) or with
/// combining marks (none) still lines up.
pub fn table(outcomes: &[Outcome]) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.folder.width())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut out = format!(
        "{}  {}  {}  {:>5}  {:>5}  note\n",
        padded("folder", width),
        padded("uid", 16),
        padded("status", 8),
        "files",
        "calls"
    );
    for o in outcomes {
        let mut notes = o.notes.iter();
        out.push_str(&format!(
            "{}  {}  {}  {:>5}  {:>5}  {}",
            padded(&o.folder, width),
            padded(o.uid.as_deref().unwrap_or("-"), 16),
            padded(o.status.word(), 8),
            o.files,
            o.calls,
            notes.next().map_or("", String::as_str),
        ));
        out = out.trim_end().to_string();
        out.push('\n');
        for note in notes {
            out.push_str(&format!("{:width$}  {note}\n", "", width = width + 42));
        }
    }
    out
}

/// `text` followed by spaces up to `width` terminal columns (`format!`'s `{:<width$}` counts
/// characters, not columns).
fn padded(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.width());
    format!("{text}{:fill$}", "")
}

/// Reads an accounts file; `is_address` checks the contacts (see [`AccountsFile::from_toml`]).
pub fn load(path: &Path, is_address: fn(&str) -> bool) -> Result<AccountsFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(AccountsFile::from_toml(
        &text,
        &path.display().to_string(),
        is_address,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(folder: &str, uid: Option<&str>, status: Status, notes: &[&str]) -> Outcome {
        Outcome {
            folder: folder.into(),
            uid: uid.map(String::from),
            status,
            files: 9,
            calls: 12,
            notes: notes.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The display column where `needle` starts in `line`.
    fn column(line: &str, needle: &str) -> usize {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
        line[..at].width()
    }

    #[test]
    fn table_lines_up_wide_and_zero_width_folder_names() {
        let rows = [
            ("acme", "1111"),
            ("陈记食品/零售", "2222"),
            ("cafe\u{301}-eu", "3333"),
            ("🚀-team", "4444"),
        ];
        let outcomes: Vec<Outcome> = rows
            .iter()
            .map(|&(f, u)| outcome(f, Some(u), Status::Partial, &["first note", "second note"]))
            .collect();
        let text = table(&outcomes);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2 * rows.len(), "{text}");
        // The widest folder (six CJK characters and a slash: 13 columns) sets the width.
        let uid_at = column(lines[0], "uid");
        let status_at = column(lines[0], "status");
        let note_at = column(lines[0], "note");
        assert_eq!(uid_at, 13 + 2);
        for (i, &(folder, uid)) in rows.iter().enumerate() {
            let row = lines[1 + 2 * i];
            let more = lines[2 + 2 * i];
            assert!(row.starts_with(folder), "{row}");
            assert_eq!(column(row, uid), uid_at, "{text}");
            assert_eq!(column(row, "partial"), status_at, "{text}");
            assert_eq!(column(row, "first note"), note_at, "{text}");
            assert_eq!(column(more, "second note"), note_at, "{text}");
        }
    }

    #[test]
    fn ascii_table_is_unchanged() {
        let outcomes = [
            outcome(
                "acme/retail",
                Some("1234567890123456"),
                Status::Complete,
                &[],
            ),
            outcome("b", None, Status::Failed, &["no access: denied", "again"]),
        ];
        assert_eq!(
            table(&outcomes),
            "folder       uid               status    files  calls  note\n\
             acme/retail  1234567890123456  complete      9     12\n\
             b            -                 failed        9     12  no access: denied\n\
             \x20                                                      again\n"
        );
        assert_eq!(
            table(&[]),
            "folder  uid               status    files  calls  note\n"
        );
    }
}
