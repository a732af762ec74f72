//! Discover stage: walks the input roots and lists every folder that directly holds files,
//! in a deterministic order; `load_meta` reads a folder's `account.toml`.
//!
//! It opens no evidence file: whether a folder is an account is settled after ingest, when
//! its files have been recognised. Every path found is handed on, so that each one reaches
//! the manifest: regular files to read, what is never opened (named pipes, sockets, devices,
//! links back to a parent folder) and what cannot be read (a dangling link, a folder without
//! permission). Hidden entries and excluded folders (the output folder) are skipped. Paths
//! stay `OsStr` for I/O and become text only through `display_os`, which is one-to-one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, display_os, display_path};
use crate::evidence::{FileRecord, FileStatus, Kind, Special};
use crate::ingest::{Entry, SourceFile};

/// Which Alibaba Cloud site an account lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Site {
    /// The China site (aliyun.com).
    China,
    /// The international site (alibabacloud.com).
    International,
}

/// `account.toml`: optional metadata for an account folder. Unknown keys are an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountMeta {
    /// Display name; default: the folder name.
    pub name: Option<String>,
    /// Account UID; when given it is the account id.
    pub uid: Option<String>,
    /// Customer, for grouping and delivery.
    pub customer: Option<String>,
    /// Which endpoints `collect` uses.
    pub site: Option<Site>,
    /// Who receives this customer's report.
    #[serde(default)]
    pub contacts: Vec<String>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A folder that directly holds at least one file: a candidate account.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderSource {
    /// Account id this folder would have: the `uid` of `account.toml`, else its path below
    /// the root.
    pub id: String,
    /// The folder as shown in output (root as given, then `/`-separated).
    pub display: String,
    /// The folder name, the default display name.
    pub folder_name: String,
    /// Parsed `account.toml`, when present and valid.
    pub meta: AccountMeta,
    /// Whether the folder holds an `account.toml` (valid or not).
    pub has_meta_file: bool,
    /// Where `account.toml` is, until `load_meta` has read it.
    pub meta_path: Option<PathBuf>,
    /// The manifest record for `account.toml`.
    pub meta_record: Option<FileRecord>,
    /// The other files, sorted by name.
    pub files: Vec<SourceFile>,
    /// Problems found while reading `account.toml`.
    pub diagnostics: Vec<Diagnostic>,
}

/// What discovery found under all roots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    /// Candidate folders in a stable order (roots in the order given, then by path).
    pub folders: Vec<FolderSource>,
    /// Problems with the walk itself (unreadable folders, link loops).
    pub diagnostics: Vec<Diagnostic>,
}

/// Errors that stop discovery of a root.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The root does not exist or cannot be read.
    #[error("input {}: {source}", crate::diag::printable(path))]
    Root {
        /// The root as given (see [`display_root`]).
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    // Bytes, not text: a hidden name need not be UTF-8.
    entry.depth() > 0 && entry.file_name().as_encoded_bytes().starts_with(b".")
}

/// How a root is shown: as given (see `display_os`), without trailing separators, with `/`.
pub fn display_root(root: &Path) -> String {
    let text = display_path(root);
    // On Windows a backslash is a separator; elsewhere it is part of a name (and doubled).
    let text = if cfg!(windows) {
        text.replace("\\\\", "/")
    } else {
        text
    };
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// How each root is named in every output, where its files are shown as `<name>/<path below
/// the root>`: the root folder's own name (links resolved), never the path by which it was
/// given. So no output holds a path of the operator's machine, and the same tree gives the
/// same bytes from any working folder and any spelling of the root. Distinct roots that share
/// a name take as many of their parent folders' names as make them distinct (`q1/acme` and
/// `q2/acme`); the file system's root is `/`.
pub fn root_labels(roots: &[PathBuf]) -> Vec<String> {
    let parts: Vec<Vec<String>> = roots
        .iter()
        .map(|root| {
            let full = std::fs::canonicalize(root)
                .or_else(|_| std::path::absolute(root))
                .unwrap_or_else(|_| root.clone());
            full.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(name) => Some(display_os(name)),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let label = |names: &[String], depth: usize| -> String {
        if names.is_empty() {
            "/".to_string()
        } else {
            names[names.len().saturating_sub(depth)..].join("/")
        }
    };
    parts
        .iter()
        .map(|names| {
            // The shortest tail no other distinct root shares (all of it, at worst).
            (1..=names.len().max(1))
                .map(|depth| label(names, depth))
                .find(|mine| {
                    parts
                        .iter()
                        .filter(|other| *other != names)
                        .all(|other| (1..=other.len().max(1)).all(|d| label(other, d) != *mine))
                })
                .unwrap_or_else(|| label(names, names.len()))
        })
        .collect()
}

/// Walks every root and lists candidate folders. Folders in `exclude` (the output folder)
/// and everything below them are not read, wherever a root reaches them.
pub fn discover(roots: &[PathBuf], exclude: &[PathBuf]) -> Result<Discovery, DiscoverError> {
    let mut discovery = Discovery::default();
    let mut excluded: Vec<Excluded> = exclude.iter().map(|p| Excluded::new(p)).collect();
    for (root, label) in roots.iter().zip(root_labels(roots)) {
        let fail = |source| DiscoverError::Root {
            path: display_root(root),
            source,
        };
        let meta = std::fs::metadata(root).map_err(fail)?;
        if !meta.is_dir() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a folder",
            )));
        }
        // A root that cannot be listed is fatal, like a missing one.
        std::fs::read_dir(root).map_err(fail)?;
        let canonical = std::fs::canonicalize(root).ok();
        for ex in &mut excluded {
            if let Some(canonical) = &canonical {
                ex.say_if_inside(&label, canonical, &mut discovery.diagnostics);
            }
        }
        walk_root(root, &label, &mut excluded, &mut discovery);
    }
    Ok(discovery)
}

/// A folder not to read (the output folder), by its canonical path; it may not exist yet.
struct Excluded {
    /// Canonical: the path itself when it exists, else its nearest existing ancestor's
    /// canonical path joined with the rest.
    canonical: Option<PathBuf>,
    /// Whether the diagnostic has been given.
    said: bool,
}

impl Excluded {
    fn new(path: &Path) -> Excluded {
        Excluded {
            canonical: planned_canonical(path),
            said: false,
        }
    }

    /// Whether the walk's folder `entry` is this one. Only a folder of the same name, or a
    /// link, can be: the others are not resolved.
    fn matches(&self, entry: &walkdir::DirEntry) -> bool {
        self.canonical.as_deref().is_some_and(|ex| {
            (entry.path_is_symlink() || ex.file_name() == Some(entry.file_name()))
                && std::fs::canonicalize(entry.path()).is_ok_and(|p| p == ex)
        })
    }

    /// Says once that the folder, found in the walk at `shown` (as an input path: the root's
    /// label, then the path below it), is not read.
    fn say(&mut self, label: &str, shown: String, diagnostics: &mut Vec<Diagnostic>) {
        if !self.said {
            self.said = true;
            diagnostics.push(Diagnostic::warning(
                shown,
                format!(
                    "the output folder is inside the input root {label}; it is not read as evidence"
                ),
            ));
        }
    }

    /// Says so up front when the folder is below `root` (even before its first run), unless
    /// a hidden folder on the way skips it anyway.
    fn say_if_inside(
        &mut self,
        label: &str,
        canonical_root: &Path,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let Some(rest) = self
            .canonical
            .as_deref()
            .and_then(|ex| ex.strip_prefix(canonical_root).ok())
        else {
            return;
        };
        let hidden = rest
            .components()
            .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."));
        if !hidden {
            // Shown below the root, like every input path: never the machine's absolute path.
            let shown = display_below(label, canonical_root, &canonical_root.join(rest));
            self.say(label, shown, diagnostics);
        }
    }
}

/// `path` made absolute with links resolved, also when it does not exist yet: the nearest
/// existing ancestor is resolved and the rest joined to it.
fn planned_canonical(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            return Some(rest.iter().rev().fold(canonical, |p, name| p.join(name)));
        }
        rest.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
}

fn walk_root(root: &Path, label: &str, excluded: &mut [Excluded], discovery: &mut Discovery) {
    let root_display = label.to_string();
    let root_name = std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(display_os))
        .unwrap_or_else(|| root_display.clone());
    // Paths grouped by their folder. The key is the folder's path below the root as text,
    // which keeps folders sorted by relative path; `display_os` is one-to-one, so two
    // folders never share a key.
    let mut folders: BTreeMap<String, (PathBuf, Vec<SourceFile>)> = BTreeMap::new();
    let mut add = |dir: &Path, path: PathBuf, entry: Entry| {
        let display = display_below(&root_display, root, &path);
        folders
            .entry(relative(root, dir))
            .or_insert_with(|| (dir.to_path_buf(), Vec::new()))
            .1
            .push(SourceFile {
                path,
                display,
                entry,
            });
    };
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(e));
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                let dir = match path.parent() {
                    Some(parent) if e.depth() > 0 && path != root => parent.to_path_buf(),
                    _ => root.to_path_buf(),
                };
                let what = if e.loop_ancestor().is_some() {
                    discovery.diagnostics.push(Diagnostic::warning(
                        display_below(&root_display, root, &path),
                        "link loop: this folder links back to one of its parents; skipped",
                    ));
                    Entry::LinkLoop
                } else {
                    Entry::Unreadable(unreadable(&path, &e))
                };
                add(&dir, path, what);
                continue;
            }
        };
        let file_type = entry.file_type();
        if file_type.is_dir() {
            if let Some(ex) = excluded.iter_mut().find(|ex| ex.matches(&entry)) {
                let shown = display_below(label, root, entry.path());
                ex.say(label, shown, &mut discovery.diagnostics);
                walker.skip_current_dir();
            }
            continue;
        }
        let Some(parent) = entry.path().parent() else {
            continue;
        };
        let what = match Special::of(&file_type) {
            None => Entry::File,
            Some(special) => Entry::Special(special),
        };
        add(parent, entry.path().to_path_buf(), what);
    }
    for (rel, (dir, paths)) in folders {
        let display = if rel.is_empty() {
            root_display.clone()
        } else {
            format!("{root_display}/{rel}")
        };
        let folder_name = if rel.is_empty() {
            root_name.clone()
        } else {
            dir.file_name()
                .map(display_os)
                .unwrap_or_else(|| rel.clone())
        };
        let default_id = if rel.is_empty() {
            root_name.clone()
        } else {
            rel.clone()
        };
        discovery
            .folders
            .push(folder_source(&display, folder_name, default_id, paths));
    }
}

/// Why a path the walk found cannot be read: the OS error, and what the path is when that
/// explains it (a link whose target is gone).
fn unreadable(path: &Path, e: &walkdir::Error) -> String {
    let dangling = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err_and(|m| m.kind() == std::io::ErrorKind::NotFound);
    let os = e
        .io_error()
        .map(|io| io.to_string())
        .unwrap_or_else(|| e.to_string());
    if dangling {
        format!("cannot read: a link to a path that does not exist: {os}")
    } else {
        format!("cannot read: {os}")
    }
}

impl FolderSource {
    /// A folder named `name` with no file and no metadata: what tests build accounts from
    /// in-memory evidence with.
    #[cfg(test)]
    pub(crate) fn bare(name: &str) -> FolderSource {
        folder_source(name, name.into(), name.into(), Vec::new())
    }
}

fn folder_source(
    display: &str,
    folder_name: String,
    default_id: String,
    paths: Vec<SourceFile>,
) -> FolderSource {
    let mut source = FolderSource {
        id: default_id,
        display: display.to_string(),
        folder_name,
        meta: AccountMeta::default(),
        has_meta_file: false,
        meta_path: None,
        meta_record: None,
        files: Vec::new(),
        diagnostics: Vec::new(),
    };
    for file in paths {
        // Only a regular file is metadata; an unreadable or special `account.toml` is
        // listed like any other path.
        if file.entry == Entry::File && file.path.file_name() == Some("account.toml".as_ref()) {
            source.has_meta_file = true;
            source.meta_path = Some(file.path);
        } else {
            source.files.push(file);
        }
    }
    source
}

/// Reads the folder's `account.toml`, if any: fills `meta`, `meta_record` and the account id
/// (its `uid`). Called by the orchestrator's workers, so discovery itself opens no file.
pub(crate) fn load_meta(source: &mut FolderSource) {
    let Some(path) = source.meta_path.take() else {
        return;
    };
    let file_display = format!("{}/account.toml", source.display);
    let (record, meta) = read_meta(&path, &file_display);
    if record.status == FileStatus::Rejected {
        source.diagnostics.push(Diagnostic::error(
            &file_display,
            record.reason.clone().unwrap_or_default(),
        ));
    }
    if let Some(meta) = meta {
        source.meta = meta;
    }
    source.meta_record = Some(record);
    if let Some(uid) = source
        .meta
        .uid
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        source.id = uid.to_string();
    }
}

/// Largest `account.toml` read; a bigger one is certainly not metadata.
const MAX_META_BYTES: u64 = 1024 * 1024;

fn read_meta(path: &Path, display: &str) -> (FileRecord, Option<AccountMeta>) {
    let mut record = FileRecord {
        reason_note: None,
        path: display.to_string(),
        account: None,
        size: 0,
        sha256: String::new(),
        kind: Some(Kind::AccountMetadata),
        status: FileStatus::Used,
        reason: None,
    };
    let bytes = match read_small(path, MAX_META_BYTES) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(Small::TooLarge(size))) => {
            record.size = size;
            record.reject(format!(
                "the file is {size} bytes, too large for account metadata"
            ));
            return (record, None);
        }
        Ok(Err(Small::Special(special))) => {
            record.kind = None;
            record.ignore_because(crate::i18n::Message::key(special.note_key()));
            return (record, None);
        }
        Err(e) => {
            record.reject(format!("cannot read the file: {e}"));
            return (record, None);
        }
    };
    record.size = bytes.len() as u64;
    record.sha256 = hex::encode(Sha256::digest(&bytes));
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            record.reject(format!(
                "not valid UTF-8 (byte {}); defaults are used for this account",
                e.valid_up_to() + 1
            ));
            return (record, None);
        }
    };
    match toml::from_str::<AccountMeta>(text) {
        Ok(meta) => (record, Some(meta)),
        Err(e) => {
            record.reject(format!(
                "{}; defaults are used for this account",
                crate::diag::toml_error(text, &e)
            ));
            (record, None)
        }
    }
}

/// Why [`read_small`] read nothing.
enum Small {
    /// The size, over the limit.
    TooLarge(u64),
    /// Not a regular file.
    Special(Special),
}

/// A regular file's bytes when it holds at most `max` (never more is read).
fn read_small(path: &Path, max: u64) -> std::io::Result<Result<Vec<u8>, Small>> {
    use std::io::Read;
    let file = match crate::ingest::open_regular(path)? {
        Ok(file) => file,
        Err(special) => return Ok(Err(Small::Special(special))),
    };
    let size = file.metadata()?.len();
    if size > max {
        return Ok(Err(Small::TooLarge(size)));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(Err(Small::TooLarge(bytes.len() as u64)));
    }
    Ok(Ok(bytes))
}

fn relative(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| display_os(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

fn display_below(root_display: &str, root: &Path, path: &Path) -> String {
    let rel = relative(root, path);
    if rel.is_empty() {
        root_display.to_string()
    } else {
        format!("{root_display}/{rel}")
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const POLICY: &str = r#"{"PasswordPolicy":{"MinimumPasswordLength":14}}"#;

    /// A root with an account `acct`, and `out/old`: evidence too, as a report folder could
    /// hold (a fake account if it were read).
    fn tree() -> tempfile::TempDir {
        let tree = tempfile::tempdir().unwrap();
        for dir in ["root/acct", "root/out/old"] {
            std::fs::create_dir_all(tree.path().join(dir)).unwrap();
            std::fs::write(tree.path().join(dir).join("pp.json"), POLICY).unwrap();
        }
        tree
    }

    fn ids(d: &Discovery) -> Vec<&str> {
        d.folders.iter().map(|f| f.id.as_str()).collect()
    }

    fn said(d: &Discovery) -> Vec<String> {
        d.diagnostics
            .iter()
            .filter(|d| d.message.starts_with("the output folder is inside"))
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect()
    }

    #[test]
    fn roots_are_named_by_their_folder_however_they_were_given_and_stay_distinct() {
        let tree = tempfile::tempdir().unwrap();
        for dir in ["q1/acme", "q2/acme", "other"] {
            std::fs::create_dir_all(tree.path().join(dir)).unwrap();
        }
        let t = tree.path();
        // The same folder spelt three ways has one name, its own: no path of this machine.
        let spelt = [t.join("other"), t.join("q1/../other/"), t.join("./other/.")];
        assert_eq!(root_labels(&spelt), ["other", "other", "other"]);
        // Two folders of one name take their parents' names; a third keeps its short name.
        let roots = [t.join("q1/acme"), t.join("q2/acme"), t.join("other")];
        assert_eq!(root_labels(&roots), ["q1/acme", "q2/acme", "other"]);
        // A link is named by the folder it reaches.
        std::os::unix::fs::symlink(t.join("q2/acme"), t.join("latest")).unwrap();
        assert_eq!(root_labels(&[t.join("latest")]), ["acme"]);
        assert_eq!(root_labels(&[PathBuf::from("/")]), ["/"]);
        // Files are shown below the label.
        std::fs::write(t.join("q1/acme/pp.json"), POLICY).unwrap();
        let d = discover(&[t.join("q1/acme"), t.join("q2/acme")], &[]).unwrap();
        let shown: Vec<&str> = d
            .folders
            .iter()
            .flat_map(|f| f.files.iter().map(|s| s.display.as_str()))
            .collect();
        assert_eq!(shown, ["q1/acme/pp.json"]);
    }

    #[test]
    fn the_output_folder_is_not_walked_even_through_a_link_and_is_named_once() {
        let tree = tree();
        let root = tree.path().join("root");
        std::os::unix::fs::symlink(root.join("out"), root.join("alias")).unwrap();
        let d = discover(std::slice::from_ref(&root), &[root.join("out")]).unwrap();
        assert_eq!(ids(&d), ["acct"]);
        assert_eq!(
            said(&d),
            [
                "root/out: the output folder is inside the input root root; it is not read as evidence"
            ]
        );
        // Without the exclusion, both ways in are read: the test can fail.
        let all = discover(std::slice::from_ref(&root), &[]).unwrap();
        assert_eq!(ids(&all), ["acct", "alias/old", "out/old"]);
    }

    #[test]
    fn an_output_folder_not_made_yet_is_named_when_it_will_be_inside() {
        let tree = tree();
        let root = tree.path().join("root");
        // Given through a path with `..`, below a folder that does not exist yet.
        let out = root.join("acct/../new/report");
        let d = discover(std::slice::from_ref(&root), &[out]).unwrap();
        assert_eq!(ids(&d), ["acct", "out/old"]);
        assert_eq!(said(&d).len(), 1, "{:?}", d.diagnostics);
    }

    #[test]
    fn an_output_folder_elsewhere_or_hidden_is_not_named() {
        let tree = tree();
        let root = tree.path().join("root");
        let elsewhere = discover(std::slice::from_ref(&root), &[tree.path().join("out")]).unwrap();
        assert!(said(&elsewhere).is_empty(), "{:?}", elsewhere.diagnostics);
        let hidden = discover(std::slice::from_ref(&root), &[root.join(".out")]).unwrap();
        assert!(said(&hidden).is_empty(), "{:?}", hidden.diagnostics);
        assert_eq!(ids(&hidden), ["acct", "out/old"]);
    }
}
