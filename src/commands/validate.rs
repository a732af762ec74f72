//! `validate`: ingest and evaluate only; print each account's status and every diagnostic.

use std::io::Write;

use anyhow::Result;

use super::Outcome;
use super::report::EvalSpec;

/// Runs `validate`: writes nothing.
pub(crate) fn run(spec: &EvalSpec) -> Result<Outcome> {
    let mut prepared = super::report::prepare(spec)?;
    // validate writes no manifest and prints no per-resource text: skip both.
    prepared.options.keep_resources = false;
    prepared.options.limits.hash = false;
    let pool = super::thread_pool(spec.jobs)?;
    let run = super::evaluate(&prepared.options, spec.quiet, &pool, None)?;
    super::print_diagnostics(&run, spec.quiet);
    if !spec.quiet {
        let mut out = std::io::stdout().lock();
        for a in &run.accounts {
            let c = &a.counts;
            let score = a.score.map_or_else(|| "-".into(), |s| s.to_string());
            let _ = writeln!(
                out,
                "{:<8}  score {:>5}  pass {:>3}  fail {:>3}  excepted {:>2}  n/a {:>2}  not evaluable {:>2}  {}",
                a.status.as_str(),
                score,
                c.pass,
                c.fail,
                c.excepted,
                c.not_applicable,
                c.not_evaluable,
                aliaudit_core::diag::one_line(&a.info.id)
            );
        }
        let _ = writeln!(out, "{}", super::totals_line(&run));
    }
    Ok(Outcome::from_problems(run.has_problems()))
}
