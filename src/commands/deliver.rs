//! `deliver`: e-mail each customer's PDF to its recipients and the portfolio PDF to
//! management, or write the messages as `.eml` files.

use std::path::PathBuf;

use anyhow::Result;

use super::Outcome;
use aliaudit_deliver::{self as deliver, Delivery};

/// A `deliver` run, validated from the flags.
#[derive(Debug, Clone)]
pub(crate) struct DeliverSpec {
    /// The delivery configuration file (SMTP, recipients).
    pub(crate) config: PathBuf,
    /// The report folder, the mode, the templates...
    pub(crate) options: deliver::Options,
    /// Nothing on the terminal but errors.
    pub(crate) quiet: bool,
}

/// Runs `deliver`: plans every message, checks every address and attachment, then sends
/// (or writes `.eml` files, or only says what it would do).
pub(crate) fn run(spec: &DeliverSpec) -> Result<Outcome> {
    // A report swapping OUT while its PDFs are read, or two deliveries appending to one log,
    // would mix runs: deliver holds OUT's lock too.
    let _lock = aliaudit_report::outdir::Lock::for_reading(&spec.options.out, "deliver")?;
    let config = deliver::config::Config::load(&spec.config)?;
    let plan = deliver::plan(&spec.options, &config)?;
    for w in &plan.warnings {
        eprintln!("warning: {}", aliaudit_core::diag::printable(w));
    }
    let password = config
        .smtp
        .as_ref()
        .and_then(|s| s.password_env.as_deref())
        .and_then(|var| std::env::var(var).ok());
    let outcomes = deliver::run(&spec.options, &config, &plan, password, &|o| {
        if !spec.quiet && matches!(o.result, Delivery::Failed(_)) {
            eprintln!("{}: not sent", aliaudit_core::diag::printable(&o.key));
        }
    })?;
    if !spec.quiet {
        print!("{}", deliver::table(&outcomes, &plan.skipped));
    }
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.result, Delivery::Failed(_)));
    let unreached = plan
        .skipped
        .iter()
        .any(|(key, _)| key.starts_with("customer:"));
    Ok(Outcome::from_problems(failed || unreached))
}
