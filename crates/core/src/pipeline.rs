//! Orchestrator: runs discover, ingest, model, rules and aggregate over every account.
//!
//! The only place with parallelism (rayon): accounts are independent, and every result is
//! put back in a fixed order, so output does not depend on the thread count.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::aggregate::{self, AccountFigures, AccountStatus, Counts, Identity, PortfolioSummary};
use crate::atomic::OutputError;
use crate::diag::{Diagnostic, Level};
use crate::discover::{self, FolderSource};
use crate::evidence::{EvidenceState, FileRecord, FileStatus, Kind};
use crate::frameworks::RequirementStatus;
use crate::i18n::Message;
use crate::ingest::{self, Limits};
use crate::model::{self, Account, AccountInfo};
use crate::rules::{self, Evaluation, RulePack};

/// What a run needs to know.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Input roots, in the order given.
    pub inputs: Vec<PathBuf>,
    /// Folders never read as evidence, wherever the roots reach them: the output folder
    /// (`-o`), so that a report written inside an input root is not read back as an account.
    pub exclude: Vec<PathBuf>,
    /// `--as-of`; else the newest evidence timestamp.
    pub as_of: Option<DateTime<Utc>>,
    /// The rule pack.
    pub rules: RulePack,
    /// File size limits.
    pub limits: Limits,
    /// Keep findings with per-resource results and their text (reports need them;
    /// `validate` keeps only counts and per-control statuses).
    pub keep_resources: bool,
    /// Told how many folders there are, then once per folder read.
    pub progress: Option<Progress>,
    /// Accepted risks (`--exceptions`).
    pub exceptions: std::sync::Arc<crate::exceptions::Register>,
    /// The previous run (`--baseline`).
    pub baseline: Option<std::sync::Arc<crate::trend::Baseline>>,
    /// `--period`; else derived from the as-of date (`2026-Q3`).
    pub period: Option<String>,
    /// White-label branding (`--branding`).
    pub branding: std::sync::Arc<crate::branding::Branding>,
    /// Report language (`--lang`).
    pub lang: crate::i18n::Lang,
    /// Evaluate only the accounts of this shard (`--shard K/N`).
    pub shard: Option<Shard>,
    /// The frameworks whose requirements are rolled up (`--framework`, `--framework-file`).
    pub frameworks: std::sync::Arc<Vec<crate::frameworks::Framework>>,
}

impl RunOptions {
    /// The period label of a run with this as-of instant.
    pub fn period(&self, as_of: Option<DateTime<Utc>>) -> String {
        self.period
            .clone()
            .unwrap_or_else(|| crate::trend::period_of(as_of))
    }
}

/// One shard of N: accounts whose id hashes to `index - 1` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` (1 <= K <= N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) of `count`.
    pub fn from_job_index(index: &str, count: usize) -> Result<Shard, String> {
        let i: usize = index
            .trim()
            .parse()
            .map_err(|_| format!("JOB_COMPLETION_INDEX={index:?} is not a number"))?;
        if count == 0 || i >= count {
            return Err(format!(
                "JOB_COMPLETION_INDEX={i} is not below --shard-count {count}"
            ));
        }
        Ok(Shard {
            index: i + 1,
            count,
        })
    }

    /// Whether account `id` belongs to this shard: the first 8 bytes of its SHA-256, as a
    /// big-endian number, modulo the shard count (the same on every machine).
    pub fn contains(&self, id: &str) -> bool {
        Shard::of(id, self.count) == self.index
    }

    /// The shard (1-based) of `count` that account `id` belongs to.
    pub fn of(id: &str, count: usize) -> usize {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % count.max(1) as u64) as usize + 1
    }
}

/// A progress callback: `(folders read, folders in all)`. Called from worker threads.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// How the as-of instant was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOfSource {
    /// `--as-of`.
    Option,
    /// The newest evidence timestamp.
    Evidence,
    /// Nothing gave one.
    None,
}

impl AsOfSource {
    /// Words for output.
    pub fn as_str(self) -> &'static str {
        match self {
            AsOfSource::Option => "--as-of",
            AsOfSource::Evidence => "newest evidence timestamp",
            AsOfSource::None => "none",
        }
    }
}

/// One evaluated account: what output needs, without the evidence itself (which is dropped
/// as soon as the account is evaluated, so memory holds one account's evidence per thread).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountResult {
    /// Who the account is.
    pub info: AccountInfo,
    /// The state of each evidence kind, by kind (`credential_report`...).
    pub evidence: BTreeMap<Cow<'static, str>, EvidenceState>,
    /// The practice report's score.
    pub vendor_score: Option<i64>,
    /// Identity figures.
    pub identity: Identity,
    /// Why present evidence is incomplete, in English.
    pub gaps: Vec<String>,
    /// The same, as messages to write in the report language.
    pub gap_notes: Vec<Message>,
    /// The data-quality notes in the report language as a shard file gave them, for an
    /// account read back from a shard that was not written in English (a shard keeps the
    /// notes as text, in English and in the report language); `None` for an account this
    /// run evaluated, whose notes are the evaluation's messages.
    pub notes_shown: Option<Vec<String>>,
    /// Results per state.
    pub counts: Counts,
    /// The status of every control, for the portfolio.
    pub figures: AccountFigures,
    /// Its findings and data-quality notes.
    pub evaluation: Evaluation,
    /// Evidence completeness.
    pub status: AccountStatus,
    /// The compliance score, when anything was evaluated.
    pub score: Option<crate::score::Score>,
    /// The controls it fails, for the roll-ups (which see no findings).
    pub failed: Vec<FailedControl>,
    /// What the exceptions register matched here.
    pub exceptions: Vec<crate::exceptions::Hit>,
    /// Security Center items accepted in the console: (control id, title, state).
    pub vendor_exceptions: Vec<VendorException>,
    /// Failed controls by severity.
    pub fails: crate::trend::Fails,
    /// Score history, this period last.
    pub history: Vec<crate::trend::AccountPoint>,
    /// Change since the baseline; `None` without one or for an account new since it.
    pub delta: Option<crate::trend::Delta>,
    /// Security Center's own standards rolled up; `None` when the evidence says nothing of
    /// them.
    pub vendor_standards: Option<crate::sas_standards::VendorStandards>,
}

/// A Security Center item accepted in the vendor's console.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorException {
    /// Control id (`sas.<ItemId>` or `sas.cspm.<CheckId>`).
    pub control: String,
    /// Title as collected.
    pub title: std::sync::Arc<str>,
    /// How it was accepted.
    pub state: VendorState,
}

/// How a Security Center item was accepted in the vendor's console; written `ignored` or
/// `false positive`, and read back only from those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VendorState {
    /// Ignored: the risk is known and left.
    #[serde(rename = "ignored")]
    Ignored,
    /// Marked a false positive: the check is wrong here.
    #[serde(rename = "false positive")]
    FalsePositive,
}

impl AccountResult {
    /// Why present evidence is incomplete, in `c`'s language.
    pub fn gaps_in(&self, c: &crate::i18n::Catalogue) -> Vec<String> {
        self.gap_notes.iter().map(|n| n.render(c)).collect()
    }

    /// The data-quality notes in `c`'s language, the report language (as a shard wrote
    /// them, for an account read back from one in another language than English).
    pub fn notes_in(&self, c: &crate::i18n::Catalogue) -> Vec<String> {
        match &self.notes_shown {
            Some(shown) => shown.clone(),
            None => self
                .evaluation
                .data_quality
                .iter()
                .map(|n| n.render(c))
                .collect(),
        }
    }
}

impl crate::trend::Member for AccountResult {
    fn id(&self) -> &str {
        &self.info.id
    }
    fn fails(&self) -> crate::trend::Fails {
        self.fails
    }
    fn delta(&self) -> Option<&crate::trend::Delta> {
        self.delta.as_ref()
    }
    fn score(&self) -> Option<crate::score::Score> {
        self.score
    }
    fn history(&self) -> &[crate::trend::AccountPoint] {
        &self.history
    }
}

/// A control an account fails.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FailedControl {
    /// Control id.
    pub id: std::borrow::Cow<'static, str>,
    /// Title.
    pub title: std::sync::Arc<str>,
    /// Severity.
    pub severity: model::Severity,
    /// The fix it calls for (written only when it is not the control's own).
    #[serde(default, skip_serializing_if = "rules::Remediation::is_standard")]
    pub remediation: rules::Remediation,
    /// How many of its resources fail (a summary of the account counts them without its
    /// findings).
    #[serde(default)]
    pub failing: u64,
    /// What those resources are.
    #[serde(default)]
    pub noun: Option<rules::Noun>,
}

/// Receives each account while its findings are still there (the run keeps only what the
/// roll-ups need), with the as-of instant. Called from worker threads.
pub type Sink<'s> =
    &'s (dyn Fn(&AccountResult, Option<DateTime<Utc>>) -> Result<(), OutputError> + Sync);

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The inputs could not be listed.
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    /// The sink could not write.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// An account's evidence changed between two readings in one run.
    #[error(
        "{} changed while the report was being written; run the report again",
        crate::diag::printable(.0)
    )]
    Changed(String),
}

/// Everything a run produced, in output order.
#[derive(Debug, Clone)]
pub struct Run {
    /// The as-of instant.
    pub as_of: Option<DateTime<Utc>>,
    /// Where it came from.
    pub as_of_source: AsOfSource,
    /// Accounts, sorted by id.
    pub accounts: Vec<AccountResult>,
    /// Every input file, sorted by path.
    pub files: Vec<FileRecord>,
    /// Every diagnostic, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The roll-up.
    pub portfolio: PortfolioSummary,
    /// The exceptions register the run applied.
    pub exceptions: std::sync::Arc<crate::exceptions::Register>,
    /// The period label.
    pub period: String,
    /// The baseline compared with.
    pub baseline: Option<std::sync::Arc<crate::trend::Baseline>>,
    /// The branding pages are issued under.
    pub branding: std::sync::Arc<crate::branding::Branding>,
    /// The report language.
    pub lang: crate::i18n::Lang,
    /// The benchmark version scored.
    pub benchmark: crate::rules::Benchmark,
    /// Every account id of the whole input with its customer, when this run is one shard of
    /// it: page names are chosen among all of them, as a single run would.
    pub everyone: Option<Vec<(String, Option<String>)>>,
    /// Where each account was read from, when its findings went to a sink and must be read
    /// again to render its pages.
    sources: BTreeMap<String, FolderSource>,
    /// The frameworks rolled up, in the order selected.
    pub frameworks: std::sync::Arc<Vec<crate::frameworks::Framework>>,
    /// Each account's requirement results (by account id), per framework of
    /// [`Run::frameworks`], in its requirement order.
    pub framework_figures: BTreeMap<String, Vec<Vec<RequirementStatus>>>,
    /// The portfolio's tally of each framework of [`Run::frameworks`].
    pub framework_tallies: Vec<crate::frameworks::FrameworkTally>,
}

impl Run {
    /// A run from its parts (diagnostics are put in output order). Pages of accounts that
    /// went to a sink can be rendered only when the run itself read them.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        as_of: Option<DateTime<Utc>>,
        as_of_source: AsOfSource,
        accounts: Vec<AccountResult>,
        files: Vec<FileRecord>,
        diagnostics: Vec<Diagnostic>,
        options: &RunOptions,
    ) -> Run {
        let mut diagnostics = diagnostics;
        sort_diagnostics(&mut diagnostics);
        let portfolio = accounts
            .par_iter()
            .map(|a| PortfolioSummary::of(&a.figures))
            .reduce(PortfolioSummary::default, PortfolioSummary::merge);
        Run {
            as_of,
            as_of_source,
            accounts,
            files,
            diagnostics,
            portfolio,
            exceptions: options.exceptions.clone(),
            period: options.period(as_of),
            baseline: options.baseline.clone(),
            branding: options.branding.clone(),
            lang: options.lang,
            benchmark: options.rules.benchmark,
            everyone: None,
            sources: BTreeMap::new(),
            frameworks: options.frameworks.clone(),
            framework_figures: BTreeMap::new(),
            framework_tallies: options
                .frameworks
                .iter()
                .map(crate::frameworks::FrameworkTally::new)
                .collect(),
        }
    }

    /// Sets the accounts' requirement results (by account id) and tallies them. Results of
    /// an account the run does not hold, or of another shape than the run's frameworks, are
    /// refused.
    pub fn set_framework_figures(
        &mut self,
        figures: BTreeMap<String, Vec<Vec<RequirementStatus>>>,
    ) -> Result<(), String> {
        let mut tallies: Vec<_> = self
            .frameworks
            .iter()
            .map(crate::frameworks::FrameworkTally::new)
            .collect();
        for (id, per_framework) in &figures {
            if self
                .accounts
                .binary_search_by(|a| a.info.id.as_str().cmp(id))
                .is_err()
            {
                return Err(format!("framework results for an unknown account \"{id}\""));
            }
            let shapes = per_framework.len() == self.frameworks.len()
                && per_framework
                    .iter()
                    .zip(self.frameworks.iter())
                    .all(|(s, f)| s.len() == f.requirements.len());
            if !shapes {
                return Err(format!(
                    "account \"{id}\": framework results do not fit the frameworks selected"
                ));
            }
            for (tally, statuses) in tallies.iter_mut().zip(per_framework) {
                tally.add(statuses);
            }
        }
        if !self.frameworks.is_empty() && figures.len() != self.accounts.len() {
            return Err(format!(
                "framework results cover {} of {} accounts",
                figures.len(),
                self.accounts.len()
            ));
        }
        self.framework_figures = figures;
        self.framework_tallies = tallies;
        Ok(())
    }

    /// Whether anything was rejected, incomplete or an error: exit code 2.
    pub fn has_problems(&self) -> bool {
        self.accounts
            .iter()
            .any(|a| a.status != AccountStatus::Complete)
            || self.files.iter().any(|f| f.status == FileStatus::Rejected)
            || self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}

/// One account after evaluation, with its files and diagnostics.
struct Evaluated {
    result: AccountResult,
    /// Its requirement results, per framework of the run.
    frameworks: Vec<Vec<RequirementStatus>>,
    files: Vec<FileRecord>,
    diagnostics: Vec<Diagnostic>,
}

enum Processed {
    Account(Box<(Evaluated, FolderSource)>),
    /// Its files, and the errors of those rejected.
    NotAccount(Vec<FileRecord>, Vec<Diagnostic>),
}

/// Evaluates one modelled account and keeps only what output needs; the model is dropped.
fn evaluate_one(
    m: model::Modelled,
    as_of: Option<DateTime<Utc>>,
    options: &RunOptions,
) -> Evaluated {
    let started = std::time::Instant::now();
    let evaluated = evaluate_inner(m, as_of, options);
    crate::timing::add(crate::timing::Stage::Evaluate, started);
    evaluated
}

fn evaluate_inner(
    m: model::Modelled,
    as_of: Option<DateTime<Utc>>,
    options: &RunOptions,
) -> Evaluated {
    let mut evaluation =
        rules::evaluate_with(&m.account, as_of, &options.rules, options.keep_resources);
    // Vendor-side acceptances first: the register may then except Security Center items too.
    // Read from the Security Center items themselves, not from the findings' wording.
    let vendor_exceptions = m
        .account
        .sas
        .get()
        .map(|sas| {
            sas.items
                .iter()
                .filter(|i| options.rules.enabled(&i.control_id))
                .filter_map(|i| {
                    let state = match i.status {
                        model::SasStatus::Ignored => VendorState::Ignored,
                        model::SasStatus::FalsePositive => VendorState::FalsePositive,
                        _ => return None,
                    };
                    Some(VendorException {
                        control: i.control_id.clone(),
                        title: std::sync::Arc::from(i.title.as_str()),
                        state,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let exceptions = options
        .exceptions
        .apply(&m.account.info.id, as_of, &mut evaluation.findings);
    let status = account_status(&m.account, &m.files);
    let score = rules::score(&evaluation.findings);
    let fails = crate::trend::Fails::of(&evaluation.findings);
    let period = options.period(as_of);
    let point = crate::trend::AccountPoint {
        period: period.clone(),
        as_of: as_of.map(crate::text::rfc3339),
        score,
        fails,
    };
    let prior = options
        .baseline
        .as_deref()
        .and_then(|b| b.accounts.get(&m.account.info.id).map(|p| (b, p)));
    let history = crate::trend::extend(
        prior.map(|(_, p)| p.history.as_slice()).unwrap_or_default(),
        point,
        |p| &p.period,
    );
    // An account the baseline only carried (not assessed there) has nothing to compare.
    let delta = prior
        .filter(|(_, p)| p.assessed)
        .map(|(b, p)| crate::trend::delta(p, b, &evaluation.findings, score, &period));
    // Informational controls (of the benchmark version not scored) are shown on the pages
    // and in the data files, and count nowhere else.
    let counted: Vec<&rules::Finding> = evaluation
        .findings
        .iter()
        .filter(|f| f.informational.is_none())
        .collect();
    let counts = aggregate::counts(counted.iter().copied());
    let figures = AccountFigures {
        status,
        score,
        controls: counted
            .iter()
            .map(|f| (f.control_id.clone(), f.status))
            .collect(),
    };
    let failed = counted
        .iter()
        .filter(|f| f.status == rules::Status::Fail)
        .map(|f| FailedControl {
            id: f.control_id.clone(),
            title: f.title.clone(),
            severity: f.severity,
            remediation: f.remediation,
            failing: f.failing_count(),
            noun: Some(f.noun),
        })
        .collect();
    let frameworks = options
        .frameworks
        .iter()
        .map(|f| crate::frameworks::evaluate_findings(f, &evaluation.findings).statuses())
        .collect();
    // `validate` needs only the figures: the findings themselves are dropped here, so what
    // is kept per account stays small.
    if !options.keep_resources {
        evaluation.findings = Vec::new();
    }
    // The model's notes (in English) first, then the rules'.
    let mut data_quality: Vec<Message> = m
        .account
        .data_quality
        .iter()
        .cloned()
        .map(Message::from)
        .collect();
    data_quality.append(&mut evaluation.data_quality);
    evaluation.data_quality = data_quality;
    let a = &m.account;
    let evidence = BTreeMap::from([
        (Cow::Borrowed("credential_report"), a.credentials.state()),
        (Cow::Borrowed("practice_report"), a.practice.state()),
        (Cow::Borrowed("security_preference"), a.preference.state()),
        (Cow::Borrowed("password_policy"), a.password_policy.state()),
        (Cow::Borrowed("security_center"), a.sas.state()),
    ]);
    let vendor_standards = crate::sas_standards::account(&a.vendor_catalogue);
    Evaluated {
        result: AccountResult {
            identity: aggregate::identity(a, as_of),
            vendor_score: a.practice.get().and_then(|p| p.score),
            gaps: a.gaps.clone(),
            gap_notes: a.gap_notes.clone(),
            notes_shown: None,
            counts,
            figures,
            evidence,
            info: m.account.info,
            evaluation,
            status,
            score,
            failed,
            exceptions,
            vendor_exceptions,
            fails,
            history,
            delta,
            vendor_standards,
        },
        frameworks,
        files: m.files,
        diagnostics: m.diagnostics,
    }
}

enum FolderOutcome {
    Account(Box<model::Modelled>),
    /// Its files, and the errors of those rejected (a path that cannot be read is an error
    /// wherever it is).
    NotAccount(Vec<FileRecord>, Vec<Diagnostic>),
}

/// Ingests one folder; a folder with neither `account.toml` nor recognised evidence is not
/// an account, and its files are listed as ignored (those that cannot be read, rejected).
fn ingest_folder(folder: &FolderSource, limits: Limits) -> FolderOutcome {
    let mut folder = folder.clone();
    discover::load_meta(&mut folder);
    let folder = &folder;
    let bundle = ingest::ingest_files(&folder.files, limits);
    if !folder.has_meta_file && !bundle.has_evidence() {
        let mut files = bundle.files;
        for f in &mut files {
            if f.status != FileStatus::Rejected {
                let why = f.reason.take().unwrap_or_default();
                f.ignore(format!(
                    "not in an account folder (no account.toml and no recognised evidence beside it){}",
                    if why.is_empty() { String::new() } else { format!("; {why}") }
                ));
            }
        }
        let errors = bundle
            .diagnostics
            .into_iter()
            .filter(|d| d.level == Level::Error)
            .collect();
        return FolderOutcome::NotAccount(files, errors);
    }
    let mut modelled = model::build(folder, bundle);
    if let Some(meta) = &folder.meta_record {
        let mut meta = meta.clone();
        meta.account = Some(modelled.account.info.id.clone());
        modelled.files.push(meta);
    }
    for d in &folder.diagnostics {
        modelled
            .diagnostics
            .push(d.clone().for_account(&modelled.account.info.id));
    }
    FolderOutcome::Account(Box::new(modelled))
}

/// Evidence completeness: complete, partial or failed (README, "summary.json").
pub(crate) fn account_status(account: &Account, files: &[FileRecord]) -> AccountStatus {
    let present = [
        account.credentials.get().is_some(),
        account.practice.get().is_some(),
        account.preference.get().is_some(),
        account.password_policy.get().is_some(),
        account.sas.get().is_some(),
    ];
    if !present.iter().any(|p| *p) {
        return AccountStatus::Failed;
    }
    let evidence_rejected = files.iter().any(|f| {
        f.status == FileStatus::Rejected
            && f.kind.is_some_and(|k| {
                !matches!(k, Kind::AccountMetadata | Kind::ApiError | Kind::SasSummary)
            })
    });
    if present.iter().all(|p| *p) && account.gaps.is_empty() && !evidence_rejected {
        AccountStatus::Complete
    } else {
        AccountStatus::Partial
    }
}

/// Runs the pipeline: every account is ingested and evaluated, and kept with its findings;
/// nothing is written.
pub fn run(options: &RunOptions) -> Result<Run, discover::DiscoverError> {
    match run_inner(options, None) {
        Ok(run) => Ok(run),
        Err(RunError::Discover(e)) => Err(e),
        // Without a sink nothing writes and no evidence is read twice.
        Err(other) => unreachable!("a run without a sink failed: {other}"),
    }
}

/// Runs the pipeline with memory bounded by the accounts in flight: each account's findings
/// go to `sink` and are dropped, so the run keeps only what the roll-ups need. Pages are then
/// rendered by `aliaudit_report::pages::write_pages`, which reads each account again.
pub fn run_streamed(options: &RunOptions, sink: Sink<'_>) -> Result<Run, RunError> {
    run_inner(options, Some(sink))
}

fn run_inner(options: &RunOptions, sink: Option<Sink<'_>>) -> Result<Run, RunError> {
    let discovery = discover::discover(&options.inputs, &options.exclude)?;
    let mut diagnostics = discovery.diagnostics;
    let mut folders = discovery.folders;
    // A shard reads every account.toml (for the ids and customers of all accounts, which
    // page names depend on) and then keeps only the folders whose account id is its own.
    let everyone = options.shard.map(|shard| {
        folders.par_iter_mut().for_each(discover::load_meta);
        let everyone = folders
            .iter()
            .map(|f| (f.id.clone(), f.meta.customer.clone()))
            .collect();
        folders.retain(|f| shard.contains(&f.id));
        everyone
    });
    // Without --as-of the as-of instant is the newest evidence of the whole run. A streamed
    // run reads every folder once to find it (dropping what it read) and again to evaluate,
    // so memory stays bounded; otherwise (`validate`) every model is kept until it is known,
    // which reads each folder once.
    let two_passes = options.as_of.is_none() && sink.is_some();
    let total = folders.len() as u64 * if two_passes { 2 } else { 1 };
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = || {
        if let Some(Progress(report)) = &options.progress {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            report(n, total);
        }
    };
    if let Some(Progress(report)) = &options.progress {
        report(0, total);
    }
    let ingest_folder = |folder: &FolderSource| {
        let started = std::time::Instant::now();
        let outcome = ingest_folder(folder, options.limits);
        crate::timing::add(crate::timing::Stage::Ingest, started);
        tick();
        outcome
    };
    let newest_of = |outcome: &FolderOutcome| match outcome {
        FolderOutcome::Account(m) => m.account.newest_evidence(),
        FolderOutcome::NotAccount(..) => None,
    };
    let from_evidence = |newest: Option<DateTime<Utc>>| {
        let source = if newest.is_some() {
            AsOfSource::Evidence
        } else {
            AsOfSource::None
        };
        (newest, source)
    };
    // Each account is evaluated, handed to the sink and reduced to its result.
    let finish = |outcome: FolderOutcome, folder: FolderSource, as_of| match outcome {
        FolderOutcome::Account(m) => {
            let mut evaluated = evaluate_one(*m, as_of, options);
            if let Some(sink) = sink {
                sink(&evaluated.result, as_of)?;
                evaluated.result.evaluation.findings = Vec::new();
                if let Some(delta) = &mut evaluated.result.delta {
                    delta.shrink();
                }
            }
            Ok(Processed::Account(Box::new((evaluated, folder))))
        }
        FolderOutcome::NotAccount(f, d) => Ok(Processed::NotAccount(f, d)),
    };
    let (processed, as_of, as_of_source): (Vec<Processed>, _, _) = match options.as_of {
        None if !two_passes => {
            let outcomes: Vec<(FolderOutcome, FolderSource)> = folders
                .into_par_iter()
                .map(|folder| (ingest_folder(&folder), folder))
                .collect();
            let (as_of, source) =
                from_evidence(outcomes.iter().filter_map(|(o, _)| newest_of(o)).max());
            let processed = outcomes
                .into_par_iter()
                .map(|(outcome, folder)| finish(outcome, folder, as_of))
                .collect::<Result<_, OutputError>>()?;
            (processed, as_of, source)
        }
        given => {
            let (as_of, source) = match given {
                Some(as_of) => (Some(as_of), AsOfSource::Option),
                None => from_evidence(
                    folders
                        .par_iter()
                        .filter_map(|folder| newest_of(&ingest_folder(folder)))
                        .max(),
                ),
            };
            let processed = folders
                .into_par_iter()
                .map(|folder| finish(ingest_folder(&folder), folder, as_of))
                .collect::<Result<_, OutputError>>()?;
            (processed, as_of, source)
        }
    };
    let mut files = Vec::new();
    let mut sources = BTreeMap::new();

    // Two folders with one account id: the first (in discovery order) is kept.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut accounts = Vec::new();
    let mut framework_figures = BTreeMap::new();
    for item in processed {
        let evaluated = match item {
            Processed::NotAccount(f, d) => {
                files.extend(f);
                diagnostics.extend(d);
                continue;
            }
            Processed::Account(e) => {
                let (evaluated, source) = *e;
                if sink.is_some() {
                    sources
                        .entry(evaluated.result.info.id.clone())
                        .or_insert(source);
                }
                evaluated
            }
        };
        let id = evaluated.result.info.id.clone();
        let folder = evaluated.result.info.folder.clone();
        if let Some(first) = seen.get(&id) {
            let message = format!(
                "two folders resolve to the account id \"{id}\": {first} and {folder}; only {first} is used (give each a distinct uid in account.toml)"
            );
            diagnostics.push(Diagnostic::error(&folder, &message).for_account(&id));
            files.extend(evaluated.files.into_iter().map(|mut f| {
                f.reject(format!("duplicate account id \"{id}\" (also {first})"));
                f
            }));
            continue;
        }
        framework_figures.insert(id.clone(), evaluated.frameworks);
        seen.insert(id, folder);
        files.extend(evaluated.files);
        diagnostics.extend(evaluated.diagnostics);
        accounts.push(evaluated.result);
    }
    accounts.sort_by(|a: &AccountResult, b: &AccountResult| a.info.id.cmp(&b.info.id));

    // A shard cannot tell these: the merge does, over all accounts.
    if options.shard.is_none() {
        diagnostics.extend(run_diagnostics(&accounts, as_of, options));
    }

    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut run = Run::from_parts(as_of, as_of_source, accounts, files, diagnostics, options);
    run.everyone = everyone;
    run.sources = sources;
    // The figures are made for exactly the run's accounts and frameworks, so they fit.
    if let Err(e) = run.set_framework_figures(framework_figures) {
        unreachable!("{e}");
    }
    Ok(run)
}

/// Diagnostics in output order (account, path, level, message), each once.
pub fn sort_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.account, &a.path, a.level, &a.message).cmp(&(&b.account, &b.path, b.level, &b.message))
    });
    diagnostics.dedup();
}

impl Run {
    /// `account` with its findings: as kept, or (after [`run_streamed`]) read and evaluated
    /// again. Evidence that changed since the first reading is an error.
    pub fn with_findings<'r>(
        &'r self,
        account: &'r AccountResult,
        options: &RunOptions,
    ) -> Result<std::borrow::Cow<'r, AccountResult>, RunError> {
        let Some(source) = self.sources.get(&account.info.id) else {
            return Ok(std::borrow::Cow::Borrowed(account));
        };
        let started = std::time::Instant::now();
        let outcome = ingest_folder(source, options.limits);
        crate::timing::add(crate::timing::Stage::Ingest, started);
        let FolderOutcome::Account(m) = outcome else {
            return Err(RunError::Changed(account.info.folder.clone()));
        };
        for f in &m.files {
            let before = self
                .files
                .binary_search_by(|r| r.path.cmp(&f.path))
                .ok()
                .map(|i| &self.files[i]);
            if before.is_none_or(|b| b.sha256 != f.sha256) {
                return Err(RunError::Changed(f.path.clone()));
            }
        }
        Ok(std::borrow::Cow::Owned(
            evaluate_one(*m, self.as_of, options).result,
        ))
    }
}

/// Diagnostics about the run as a whole: no as-of date, exceptions not applied, input roots
/// without accounts.
pub fn run_diagnostics(
    accounts: &[AccountResult],
    as_of: Option<DateTime<Utc>>,
    options: &RunOptions,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if as_of.is_none() && !accounts.is_empty() {
        out.push(Diagnostic::warning(
            "",
            "no evidence carries a timestamp and --as-of was not given: age-based controls are not evaluable",
        ));
    }
    if as_of.is_none() && !options.exceptions.is_empty() {
        out.push(Diagnostic::warning(
            "",
            "without an as-of date no exception can be shown to be unexpired: none was applied (give --as-of)",
        ));
    }
    for (root, count) in discover::root_labels(&options.inputs)
        .into_iter()
        .map(|display| {
            let n = accounts
                .iter()
                .filter(|a| {
                    a.info.folder == display || a.info.folder.starts_with(&format!("{display}/"))
                })
                .count();
            (display, n)
        })
    {
        if count == 0 {
            out.push(Diagnostic::warning(
                &root,
                "no account folder found here (a folder with account.toml or recognised evidence files)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A copy of a fixture tree that a test may change.
    fn copy_of(fixture: &str) -> tempfile::TempDir {
        let from =
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(fixture);
        let to = tempfile::tempdir().unwrap();
        for entry in walkdir::WalkDir::new(&from) {
            let entry = entry.unwrap();
            let target = to.path().join(entry.path().strip_prefix(&from).unwrap());
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
        to
    }

    fn options(root: &std::path::Path) -> RunOptions {
        RunOptions {
            inputs: vec![root.to_path_buf()],
            keep_resources: true,
            ..RunOptions::default()
        }
    }

    #[test]
    fn vendor_acceptances_are_written_as_summary_json_has_them_and_read_only_so() {
        for (state, json) in [
            (VendorState::Ignored, r#""ignored""#),
            (VendorState::FalsePositive, r#""false positive""#),
        ] {
            assert_eq!(serde_json::to_string(&state).unwrap(), json);
            assert_eq!(serde_json::from_str::<VendorState>(json).unwrap(), state);
        }
        for bad in [r#""Ignored""#, r#""false_positive""#, r#""accepted""#, "1"] {
            assert!(serde_json::from_str::<VendorState>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_streamed_run_hands_findings_to_the_sink_and_reads_them_again() {
        let tree = copy_of("tests/fixtures/quirks");
        let options = options(tree.path());
        let kept = run(&options).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |a: &AccountResult, _| {
            seen.lock()
                .unwrap()
                .push((a.info.id.clone(), a.evaluation.findings.len()));
            Ok(())
        };
        let streamed = run_streamed(&options, &sink).unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let expected: Vec<(String, usize)> = kept
            .accounts
            .iter()
            .map(|a| (a.info.id.clone(), a.evaluation.findings.len()))
            .collect();
        assert_eq!(seen, expected);
        assert!(expected.iter().all(|(_, n)| *n > 0));
        for (full, lite) in kept.accounts.iter().zip(&streamed.accounts) {
            assert!(lite.evaluation.findings.is_empty());
            assert_eq!(lite.failed, full.failed);
            assert_eq!(lite.figures, full.figures);
            assert_eq!(*streamed.with_findings(lite, &options).unwrap(), *full);
        }
    }

    #[test]
    fn evidence_changed_between_readings_is_an_error() {
        let tree = copy_of("tests/fixtures/quirks");
        let options = options(tree.path());
        let streamed = run_streamed(&options, &|_, _| Ok(())).unwrap();
        let legacy = streamed
            .accounts
            .iter()
            .find(|a| a.info.folder.ends_with("legacy"))
            .unwrap();
        let policy = tree.path().join("harbour-bank/legacy/pp.json");
        let text = std::fs::read_to_string(&policy).unwrap();
        std::fs::write(&policy, text.replace("true", "false")).unwrap();
        let err = streamed.with_findings(legacy, &options).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "pp.json changed while the report was being written; run the report again"
            ),
            "{err}"
        );
    }
}
