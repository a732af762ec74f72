//! Discover stage: walks the input roots and lists every folder that directly holds files,
//! in a deterministic order; [`load_meta`] reads a folder's `account.toml`.
//!
//! It opens no evidence file: whether a folder is an account is settled after ingest, when
//! its files have been recognised. Hidden entries are skipped; link loops are reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diag::Diagnostic;
use crate::evidence::{FileRecord, FileStatus, Kind};
use crate::ingest::SourceFile;

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
    /// Where `account.toml` is, until [`load_meta`] has read it.
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
    #[error("input {path}: {source}")]
    Root {
        /// The root as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0
        && entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.'))
}

/// How a root is shown: as given, without trailing separators, with `/`.
pub fn display_root(root: &Path) -> String {
    let text = root.to_string_lossy().replace('\\', "/");
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Walks every root and lists candidate folders.
pub fn discover(roots: &[PathBuf]) -> Result<Discovery, DiscoverError> {
    let mut discovery = Discovery::default();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|source| DiscoverError::Root {
            path: root.display().to_string(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(DiscoverError::Root {
                path: root.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"),
            });
        }
        walk_root(root, &mut discovery);
    }
    Ok(discovery)
}

fn walk_root(root: &Path, discovery: &mut Discovery) {
    let root_display = display_root(root);
    let root_name = std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| root_display.clone());
    // Files grouped by their folder; BTreeMap keeps folders sorted by relative path.
    let mut folders: BTreeMap<String, (PathBuf, Vec<PathBuf>)> = BTreeMap::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(e));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| display_path(&root_display, root, p))
                    .unwrap_or_else(|| root_display.clone());
                let message = if e.loop_ancestor().is_some() {
                    "link loop: this folder links back to one of its parents; skipped".to_string()
                } else {
                    format!("cannot read: {e}")
                };
                discovery
                    .diagnostics
                    .push(Diagnostic::warning(path, message));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(parent) = entry.path().parent() else {
            continue;
        };
        let rel = relative(root, parent);
        folders
            .entry(rel)
            .or_insert_with(|| (parent.to_path_buf(), Vec::new()))
            .1
            .push(entry.path().to_path_buf());
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
                .map(|n| n.to_string_lossy().into_owned())
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

fn folder_source(
    display: &str,
    folder_name: String,
    default_id: String,
    paths: Vec<PathBuf>,
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
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_display = format!("{display}/{name}");
        if name == "account.toml" {
            source.has_meta_file = true;
            source.meta_path = Some(path);
        } else {
            source.files.push(SourceFile {
                path,
                display: file_display,
            });
        }
    }
    source
}

/// Reads the folder's `account.toml`, if any: fills `meta`, `meta_record` and the account id
/// (its `uid`). Called by the orchestrator's workers, so discovery itself opens no file.
pub fn load_meta(source: &mut FolderSource) {
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
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_META_BYTES {
        record.size = size;
        record.reject(format!(
            "the file is {size} bytes, too large for account metadata"
        ));
        return (record, None);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
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

fn relative(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn display_path(root_display: &str, root: &Path, path: &Path) -> String {
    let rel = relative(root, path);
    if rel.is_empty() {
        root_display.to_string()
    } else {
        format!("{root_display}/{rel}")
    }
}
