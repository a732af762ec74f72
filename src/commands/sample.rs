//! `sample` and `templates export`: files for users to start from.

use std::path::Path;

use anyhow::{Context, Result};

use super::Outcome;

/// Writes a synthetic evidence tree (the same options give the same bytes).
pub(crate) fn run(out: &Path, options: &crate::sample::SampleOptions) -> Result<Outcome> {
    let n = crate::sample::write_tree(out, options)?;
    println!(
        "wrote {n} files for {} accounts to {}",
        options.accounts,
        out.display()
    );
    Ok(Outcome::Complete)
}

/// Writes the built-in templates and static files into `dir`, for `--templates`.
pub(crate) fn export_templates(dir: &Path) -> Result<Outcome> {
    let names = aliaudit_report::render::html::export(dir)
        .with_context(|| format!("cannot write templates to {}", dir.display()))?;
    println!("wrote {} to {}", names.join(", "), dir.display());
    Ok(Outcome::Complete)
}
