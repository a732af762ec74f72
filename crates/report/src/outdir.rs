//! The output folder as a whole: one run at a time, built beside it, swapped in complete.
//!
//! `report`, a shard and `merge` never write into `OUT` itself. They take the folder's lock
//! (`.OUT.aliaudit-lock` beside it, an advisory `flock` that the kernel releases when the
//! process ends, however it ends; the file is removed when the run ends normally), build the new set in a staging folder beside `OUT`
//! (`.OUT.aliaudit-staging-PID`, same file system), and at the end exchange the two folders
//! in one `renameat2(RENAME_EXCHANGE)`. At any moment `OUT` is the complete previous set or
//! the complete new one; files of earlier runs that this run did not write are gone with the
//! old set. A run that dies leaves only a staging folder, which the next run removes. The
//! one file kept from the previous set is `delivery-log.jsonl` (what `deliver` sent), so a
//! rerun of the same report does not mail anyone twice.
//!
//! It writes no report file itself; the writers write into [`Staged::path`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// What `deliver` keeps in `OUT` and a new report carries over.
pub(crate) const DELIVERY_LOG: &str = "delivery-log.jsonl";

/// Errors taking or swapping an output folder.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// Another process holds the folder's lock.
    #[error(
        "{out} is being written by another aliaudit run ({holder}); wait for it to finish, or use another -o"
    )]
    Busy {
        /// The output folder, as shown.
        out: String,
        /// Who holds it: process id, start time and command, as that run wrote them.
        holder: String,
    },
    /// The folder holds files that no aliaudit run wrote: replacing it would lose them.
    #[error(
        "{out} holds files that aliaudit did not write (\"{example}\"); a run replaces the whole folder, so choose a new or empty folder for -o"
    )]
    NotOurs {
        /// The output folder, as shown.
        out: String,
        /// One of the foreign entries.
        example: String,
    },
    /// A file-system operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path, as shown.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The path cannot be an output folder.
    #[error("{0}")]
    Invalid(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> OutDirError + 'a {
    move |source| OutDirError::Io {
        what,
        path: shown(path),
        source,
    }
}

fn shown(path: &Path) -> String {
    aliaudit_core::diag::shown_path(path)
}

/// The lock of one output folder, held until dropped (or the process ends). Dropping it
/// removes the lock file, so a finished run leaves nothing beside OUT.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened the old file before this and locks
        // it after sees that the path no longer names it and starts again (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether `file` is still the file at `path` (not removed or replaced since it was opened).
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Where `out` really is (an existing link is followed) and its parent and name.
fn resolve(out: &Path) -> Result<(PathBuf, PathBuf, std::ffi::OsString), OutDirError> {
    let absolute = match std::fs::canonicalize(out) {
        Ok(real) => real,
        Err(_) => std::path::absolute(out).map_err(io("cannot resolve", out))?,
    };
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(OutDirError::Invalid(format!(
            "{} cannot be an output folder (it has no parent folder to build the new set in)",
            shown(out)
        )));
    };
    Ok((absolute.clone(), parent.to_path_buf(), name.to_os_string()))
}

/// A name beside `out`: `.NAME.aliaudit-SUFFIX`.
fn sibling(parent: &Path, name: &std::ffi::OsStr, suffix: &str) -> PathBuf {
    let mut s = std::ffi::OsString::from(".");
    s.push(name);
    s.push(".aliaudit-");
    s.push(suffix);
    parent.join(s)
}

impl Lock {
    /// Takes the lock of `out` for `command` (`report`, `merge`, `deliver`), or says who
    /// holds it. A lock whose process has ended is free: the kernel dropped it.
    pub fn acquire(out: &Path, command: &str) -> Result<Lock, OutDirError> {
        let (_, parent, name) = resolve(out)?;
        let path = sibling(&parent, &name, "lock");
        // A lock file removed by the run that held it can be opened just before and locked
        // just after: then the path names another file (or none), and we try again.
        let mut tries = 0;
        let mut file = loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io("cannot create the lock", &path))?;
            match file.try_lock() {
                Ok(()) if still_at(&file, &path) => break file,
                Ok(()) if tries < 100 => tries += 1,
                Ok(()) => {
                    return Err(OutDirError::Invalid(format!(
                        "the lock {} keeps being replaced; is another program removing it?",
                        shown(&path)
                    )));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = (&file).read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(OutDirError::Busy {
                        out: shown(out),
                        holder: if holder.is_empty() {
                            "just starting".to_string()
                        } else {
                            aliaudit_core::diag::printable(holder).into_owned()
                        },
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io("cannot lock", &path)(e));
                }
            }
        };
        let started = aliaudit_core::text::rfc3339(chrono::Utc::now());
        let note = format!(
            "process {}, started {started}, aliaudit {command}",
            std::process::id()
        );
        file.set_len(0).map_err(io("cannot write", &path))?;
        file.rewind().map_err(io("cannot write", &path))?;
        file.write_all(note.as_bytes())
            .map_err(io("cannot write", &path))?;
        Ok(Lock { file, path })
    }
}

impl Lock {
    /// The lock of a folder that is only read (a shard folder, a report being delivered):
    /// `None` when no lock file can be made beside it (a read-only volume, a folder that does
    /// not exist, which the reader then reports), an error when another run holds it.
    pub fn for_reading(folder: &Path, command: &str) -> Result<Option<Lock>, OutDirError> {
        match Lock::acquire(folder, command) {
            Ok(lock) => Ok(Some(lock)),
            Err(OutDirError::Io { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A new output set being built beside `OUT`.
#[derive(Debug)]
pub struct Staged {
    out: PathBuf,
    shown: String,
    staging: PathBuf,
    parent: PathBuf,
    name: std::ffi::OsString,
    _lock: Lock,
    done: bool,
    /// What was cleaned up from earlier runs that died, for the caller to report.
    pub cleaned: Vec<String>,
}

/// Whether an entry of an existing `OUT` is something aliaudit writes.
fn ours(name: &str) -> bool {
    matches!(
        name,
        "summary.json"
            | "findings.csv"
            | "findings.ocsf.jsonl"
            | "manifest.json"
            | "index.html"
            | "portfolio.pdf"
            | "customers"
            | "accounts"
            | "shard.json"
            | "shard-fragments.dat"
            | DELIVERY_LOG
    ) || name.starts_with(".aliaudit-")
}

/// The first entry of an existing output folder that aliaudit does not write, if any: at
/// the top, and in `accounts/` and `customers/` (pages only).
fn foreign_entry(out: &Path) -> Result<Option<String>, OutDirError> {
    let entries = std::fs::read_dir(out).map_err(io("cannot read", out))?;
    for entry in entries {
        let entry = entry.map_err(io("cannot read", out))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if !ours(&text) {
            return Ok(Some(aliaudit_core::diag::printable(&text).into_owned()));
        }
        if (text == "accounts" || text == "customers") && entry.path().is_dir() {
            let pages =
                std::fs::read_dir(entry.path()).map_err(io("cannot read", &entry.path()))?;
            for page in pages {
                let page = page.map_err(io("cannot read", &entry.path()))?;
                let page_name = page.file_name();
                let page_text = page_name.to_string_lossy();
                let is_page = page_text.ends_with(".html") || page_text.ends_with(".pdf");
                if !(is_page || page_text.starts_with(".aliaudit-")) {
                    return Ok(Some(format!(
                        "{text}/{}",
                        aliaudit_core::diag::printable(&page_text)
                    )));
                }
            }
        }
    }
    Ok(None)
}

impl Staged {
    /// Locks `out` for `command`, removes what runs that died left beside it, checks that an
    /// existing `out` is an aliaudit output folder (or empty), and creates the staging folder.
    pub fn begin(out: &Path, command: &str) -> Result<Staged, OutDirError> {
        // A writer may make the folders OUT sits in; a reader's lock never makes anything.
        let (_, parent, _) = resolve(out)?;
        std::fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
        let lock = Lock::acquire(out, command)?;
        let (real, parent, name) = resolve(out)?;
        let mut cleaned = Vec::new();
        let staging_prefix = sibling(Path::new(""), &name, "staging-");
        let old_prefix = sibling(Path::new(""), &name, "old-");
        let leftovers = std::fs::read_dir(&parent).map_err(io("cannot read", &parent))?;
        let mut old_sets = Vec::new();
        for entry in leftovers.flatten() {
            let file_name = PathBuf::from(entry.file_name());
            let text = file_name.as_os_str().as_encoded_bytes();
            if text.starts_with(staging_prefix.as_os_str().as_encoded_bytes()) {
                std::fs::remove_dir_all(entry.path())
                    .map_err(io("cannot remove the leftover", &entry.path()))?;
                cleaned.push(shown(&entry.path()));
            } else if text.starts_with(old_prefix.as_os_str().as_encoded_bytes()) {
                old_sets.push(entry.path());
            }
        }
        // Without RENAME_EXCHANGE the swap is two renames; a run that died between them left
        // the previous set under its old-set name and no OUT: put it back.
        for old in old_sets {
            if !real.exists() {
                std::fs::rename(&old, &real).map_err(io("cannot restore", &old))?;
                cleaned.push(format!("{} (restored as {})", shown(&old), shown(&real)));
            } else {
                std::fs::remove_dir_all(&old).map_err(io("cannot remove the leftover", &old))?;
                cleaned.push(shown(&old));
            }
        }
        match std::fs::symlink_metadata(&real) {
            Ok(meta) if !meta.is_dir() => {
                return Err(OutDirError::Invalid(format!(
                    "{} exists and is not a folder",
                    shown(out)
                )));
            }
            Ok(_) => {
                if let Some(example) = foreign_entry(&real)? {
                    return Err(OutDirError::NotOurs {
                        out: shown(out),
                        example,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot read", &real)(e)),
        }
        let staging = sibling(&parent, &name, &format!("staging-{}", std::process::id()));
        std::fs::create_dir(&staging).map_err(io("cannot create", &staging))?;
        Ok(Staged {
            out: real,
            shown: shown(out),
            staging,
            parent,
            name,
            _lock: lock,
            done: false,
            cleaned,
        })
    }

    /// The folder to write the new set into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Puts the new set in place of the old in one step and removes the old set. The
    /// delivery log of the old set is carried over.
    pub fn commit(mut self) -> Result<(), OutDirError> {
        let log = self.out.join(DELIVERY_LOG);
        if log.is_file() {
            std::fs::copy(&log, self.staging.join(DELIVERY_LOG))
                .map_err(io("cannot carry over", &log))?;
        }
        if !self.out.exists() {
            std::fs::rename(&self.staging, &self.out)
                .map_err(io("cannot move into place", &self.out))?;
        } else if exchange(&self.staging, &self.out).is_err() {
            // File systems without RENAME_EXCHANGE: two renames, with the old set kept under
            // a name the next run recognises until the new one is in place.
            let old = sibling(
                &self.parent,
                &self.name,
                &format!("old-{}", std::process::id()),
            );
            std::fs::rename(&self.out, &old).map_err(io("cannot move aside", &self.out))?;
            std::fs::rename(&self.staging, &self.out)
                .map_err(io("cannot move into place", &self.out))?;
            self.staging = old;
        }
        self.done = true;
        // The old set now sits at the staging name (or the old-set name).
        if self.staging.exists() {
            std::fs::remove_dir_all(&self.staging)
                .map_err(io("cannot remove the previous set", &self.staging))?;
        }
        Ok(())
    }

    /// The output folder as the user named it.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            // Nothing of an unfinished run is left; OUT was never touched.
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_commit_replaces_the_whole_set_and_keeps_the_delivery_log() {
        let dir = temp();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("accounts")).unwrap_or_else(|e| panic!("{e}"));
        for (name, text) in [
            ("manifest.json", "old"),
            ("accounts/gone.html", "old"),
            (DELIVERY_LOG, "sent\n"),
        ] {
            std::fs::write(out.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        }
        let staged = Staged::begin(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(staged.path().join("manifest.json"), "new")
            .unwrap_or_else(|e| panic!("{e}"));
        // Until the commit, OUT is the old set.
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json"))
                .ok()
                .as_deref(),
            Some("old")
        );
        staged.commit().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json"))
                .ok()
                .as_deref(),
            Some("new")
        );
        assert!(!out.join("accounts/gone.html").exists());
        assert_eq!(
            std::fs::read_to_string(out.join(DELIVERY_LOG))
                .ok()
                .as_deref(),
            Some("sent\n")
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "out" || n == ".out.aliaudit-lock"),
            "{names:?}"
        );
    }

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_lock() {
        let dir = temp();
        let out = dir.path().join("out");
        let first = Staged::begin(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        let second = Staged::begin(&out, "merge")
            .map(|_| ())
            .map_err(|e| e.to_string());
        let message = second.err().unwrap_or_default();
        assert!(message.contains("another aliaudit run"), "{message}");
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("aliaudit report"), "{message}");
        drop(first);
        // Dropped without a commit: the staging folder is gone and the lock is free.
        let again = Staged::begin(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        assert!(again.cleaned.is_empty());
    }

    #[test]
    fn a_lock_file_is_removed_when_released_and_a_removed_one_is_not_trusted() {
        let dir = temp();
        let out = dir.path().join("out");
        let path = dir.path().join(".out.aliaudit-lock");
        let lock = Lock::acquire(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        // Opened by a second run just before the first one ends...
        let late = File::open(&path).unwrap_or_else(|e| panic!("{e}"));
        drop(lock);
        assert!(!path.exists());
        // ...its file is no longer the lock file, so locking it would prove nothing.
        assert!(!still_at(&late, &path));
        let again = Lock::acquire(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        assert!(still_at(&again.file, &path));
    }

    #[test]
    fn a_folder_of_other_files_is_never_replaced() {
        let dir = temp();
        std::fs::write(dir.path().join("thesis.docx"), "mine").unwrap_or_else(|e| panic!("{e}"));
        let error = Staged::begin(dir.path(), "report")
            .map(|_| ())
            .map_err(|e| e.to_string());
        let message = error.err().unwrap_or_default();
        assert!(message.contains("thesis.docx"), "{message}");
        assert!(dir.path().join("thesis.docx").exists());
    }

    #[test]
    fn leftovers_of_a_run_that_died_are_cleaned_and_a_lost_set_restored() {
        let dir = temp();
        let out = dir.path().join("out");
        let staging = dir.path().join(".out.aliaudit-staging-99999");
        let old = dir.path().join(".out.aliaudit-old-99999");
        std::fs::create_dir_all(&staging).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&old).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(old.join("manifest.json"), "previous").unwrap_or_else(|e| panic!("{e}"));
        let staged = Staged::begin(&out, "report").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(staged.cleaned.len(), 2, "{:?}", staged.cleaned);
        assert!(!staging.exists() && !old.exists());
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json"))
                .ok()
                .as_deref(),
            Some("previous")
        );
    }
}
