//! `collect`: call the live APIs and save each account's evidence in the layout `report`
//! reads.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;

use super::Outcome;
use aliaudit_collect::{self as collect, Status};

/// A `collect` run, validated from the flags.
#[derive(Debug, Clone)]
pub(crate) struct CollectSpec {
    /// The accounts file.
    pub(crate) accounts: PathBuf,
    /// Where to save, how fast, how long to wait.
    pub(crate) options: collect::Options,
    /// No progress bar or table on the terminal.
    pub(crate) quiet: bool,
}

/// Runs `collect`: every account of the accounts file, with a progress bar on a terminal
/// and a table at the end.
pub(crate) fn run(spec: &CollectSpec) -> Result<Outcome> {
    // Contacts are checked with the parser delivery sends with.
    let file = collect::load(&spec.accounts, |c| {
        aliaudit_deliver::config::mailbox(c).is_ok()
    })?;
    let bar = (!spec.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(file.accounts.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "collecting {pos}/{len} accounts {wide_bar} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |o: &collect::Outcome| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} {}", o.folder, o.status.word()));
            bar.inc(1);
        }
    };
    let outcomes = collect::run(
        &file,
        &spec.options,
        &collect::credentials::ProcessEnv,
        &progress,
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    if !spec.quiet {
        print!("{}", collect::table(&outcomes));
        println!(
            "{} complete, {} partial, {} failed, {} skipped; evidence in {}",
            count(Status::Complete),
            count(Status::Partial),
            count(Status::Failed),
            count(Status::Skipped),
            spec.options.out.display()
        );
    }
    Ok(Outcome::from_problems(
        count(Status::Partial) + count(Status::Failed) > 0,
    ))
}
