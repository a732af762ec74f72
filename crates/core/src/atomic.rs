//! Atomic file writes, the one way aliaudit writes a file: into a temporary file in the same
//! folder, renamed into place only when complete, so a reader never sees half a file.
//!
//! Below everything that writes (output, shard files, pages, delivery logs); it knows nothing
//! of what the bytes are.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors writing output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A folder or file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Serialising failed.
    #[error("cannot render {what}: {message}")]
    Render {
        /// Which output.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
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
