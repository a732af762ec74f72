//! View stage: shapes a [`Run`] into the documented output contracts (`summary.json` v1,
//! `findings.csv`, `manifest.json`). Serialize-only structs; no I/O and no evaluation. The
//! rules' messages are written in English here, whatever the report language.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aggregate::{AccountStatus, Counts, Identity};
use crate::diag::Diagnostic;
use crate::evidence::{EvidenceState, FileRecord};
use crate::pipeline::{AccountResult, Run};
use crate::rules::{Finding, Section, Status};
use crate::score::Score;
use crate::stamp::FileStamp;
use crate::text::rfc3339;

pub use crate::trend::SUMMARY_SCHEMA;
/// The `manifest.json` schema id.
pub const MANIFEST_SCHEMA: &str = "aliaudit.manifest/v1";
/// This build's version.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `summary.json`. Views borrow from the run. The accounts' entries are shaped one at a time
/// while each account is evaluated ([`account_view`]) and put in place when the document is
/// written, so a large portfolio is never held whole.
#[derive(Serialize)]
pub struct SummaryView<'a> {
    /// `aliaudit.summary/v1`.
    pub schema: &'static str,
    /// Tool version.
    pub tool_version: &'static str,
    /// As-of instant, RFC 3339.
    pub as_of: Option<String>,
    /// How the as-of instant was chosen.
    pub as_of_source: &'static str,
    /// This run's period label.
    pub period: &'a str,
    /// The benchmark version scored.
    pub benchmark: BenchmarkView,
    /// The baseline's as-of, or null without `--baseline`.
    pub baseline: Option<&'a str>,
    /// The baseline's period label.
    pub baseline_period: Option<&'a str>,
    /// Portfolio roll-up.
    pub portfolio: PortfolioView<'a>,
    /// Accounts, by id: left empty here; `output::summary_json` fills it in.
    pub accounts: [AccountView<'a>; 0],
    /// Every diagnostic.
    pub diagnostics: &'a [Diagnostic],
    /// The accepted-risk register: `--exceptions` entries and Security Center acceptances.
    pub exceptions: ExceptionsView<'a>,
    /// Baseline accounts this run did not assess, at their last state.
    pub missing_accounts: Vec<crate::trend::Missing<'a>>,
    /// The frameworks selected (`--framework`, `--framework-file`), each with its
    /// requirements rolled up over the portfolio; absent when none is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<FrameworkView<'a>>,
}

/// `coverage`: how many requirements (of one account, or requirement-account pairs of the
/// portfolio) were evaluable.
#[derive(Debug, Serialize)]
pub struct CoverageView {
    /// Evaluable.
    pub evaluable: u64,
    /// In all.
    pub total: u64,
    /// The percentage, one decimal; null of nothing.
    pub percent: Option<Score>,
}

impl CoverageView {
    fn of(c: crate::frameworks::Coverage) -> CoverageView {
        CoverageView {
            evaluable: c.evaluable,
            total: c.total,
            percent: c
                .percent_tenths()
                .and_then(|t| Score::from_tenths(u32::try_from(t).unwrap_or(u32::MAX))),
        }
    }
}

/// `frameworks[]`: a framework, its sources and judgement, and its requirements over the
/// portfolio.
#[derive(Debug, Serialize)]
pub struct FrameworkView<'a> {
    /// Id (`mlps2-l3`).
    pub id: &'a str,
    /// Name in English.
    pub name: &'a str,
    /// Name in Chinese.
    pub name_zh: &'a str,
    /// Version.
    pub version: &'a str,
    /// The statement that the mapping is our judgement.
    pub judgement: &'a str,
    /// The same in Chinese.
    pub judgement_zh: &'a str,
    /// What the requirements and the mapping are based on.
    pub sources: &'a [String],
    /// Requirement-account pairs evaluable.
    pub coverage: CoverageView,
    /// Requirements, in framework order.
    pub requirements: Vec<RequirementView<'a>>,
}

/// `frameworks[].requirements[]`.
#[derive(Debug, Serialize)]
pub struct RequirementView<'a> {
    /// Id (`8.1.4.1 a)`).
    pub id: &'a str,
    /// Clause or group in English, if any.
    pub group_en: Option<&'a str>,
    /// The same in Chinese.
    pub group_zh: Option<&'a str>,
    /// Title in English.
    pub title_en: &'a str,
    /// Title in Chinese.
    pub title_zh: &'a str,
    /// The built-in controls that evidence it (empty: not covered by this evidence).
    pub controls: &'a [&'static str],
    /// The portfolio's result: fail when any account fails, and so on as for an account;
    /// null without accounts.
    pub status: Option<crate::frameworks::RequirementStatus>,
    /// Accounts passing it.
    pub pass_accounts: u64,
    /// Accounts failing it.
    pub fail_accounts: u64,
    /// Accounts where its only failures are accepted risks.
    pub excepted_accounts: u64,
    /// Accounts where none of its controls applied.
    pub not_applicable_accounts: u64,
    /// Accounts where it could not be evaluated.
    pub not_evaluable_accounts: u64,
    /// Accounts where the evidence cannot evaluate it.
    pub not_covered_accounts: u64,
}

/// `accounts[].frameworks[]`: a framework's requirements on one account.
#[derive(Debug, Serialize)]
pub struct AccountFrameworkView {
    /// Framework id.
    pub id: String,
    /// The account's requirements evaluable.
    pub coverage: CoverageView,
    /// Requirements, in framework order.
    pub requirements: Vec<crate::frameworks::RequirementResult>,
}

/// The `frameworks` block of a run.
pub fn frameworks_view(run: &Run) -> Vec<FrameworkView<'_>> {
    run.frameworks
        .iter()
        .zip(&run.framework_tallies)
        .map(|(f, tally)| FrameworkView {
            id: &f.id,
            name: &f.name,
            name_zh: &f.name_zh,
            version: &f.version,
            judgement: &f.judgement,
            judgement_zh: &f.judgement_zh,
            sources: &f.sources,
            coverage: CoverageView::of(tally.coverage),
            requirements: f
                .requirements
                .iter()
                .zip(&tally.requirements)
                .map(|(r, t)| RequirementView {
                    id: &r.id,
                    group_en: r.group.as_ref().map(|g| g.0.as_str()),
                    group_zh: r.group.as_ref().map(|g| g.1.as_str()),
                    title_en: &r.title_en,
                    title_zh: &r.title_zh,
                    controls: &r.controls,
                    status: t.status(),
                    pass_accounts: t.pass,
                    fail_accounts: t.fail,
                    excepted_accounts: t.excepted,
                    not_applicable_accounts: t.not_applicable,
                    not_evaluable_accounts: t.not_evaluable,
                    not_covered_accounts: t.not_covered,
                })
                .collect(),
        })
        .collect()
}

/// `benchmark`: the benchmark version a run scored.
#[derive(Debug, Serialize)]
pub struct BenchmarkView {
    /// As `--benchmark` spells it: `cis-v2`, `cis-v1`.
    pub id: crate::rules::Benchmark,
    /// `CIS Alibaba Cloud Foundations Benchmark`.
    pub name: &'static str,
    /// `v2.0.0`, `v1.0.0`.
    pub version: &'static str,
}

impl BenchmarkView {
    /// The view of `b`.
    pub fn of(b: crate::rules::Benchmark) -> BenchmarkView {
        BenchmarkView {
            id: b,
            name: crate::rules::Benchmark::NAME,
            version: b.version(),
        }
    }
}

/// `exceptions`: the register of a run.
#[derive(Debug, Serialize)]
pub struct ExceptionsView<'a> {
    /// Active, expired and stale entries of `--exceptions`, with what each covers.
    #[serde(flatten)]
    pub register: crate::exceptions::RegisterView<'a>,
    /// Security Center items accepted in the vendor's console.
    pub vendor: Vec<VendorView<'a>>,
}

/// `exceptions.vendor[]`.
#[derive(Debug, Serialize)]
pub struct VendorView<'a> {
    /// Account id.
    pub account: &'a str,
    /// Control id.
    pub control: &'a str,
    /// Title as collected.
    pub title: &'a str,
    /// How it was accepted (`ignored` or `false positive`).
    pub state: crate::pipeline::VendorState,
    /// Who accepted it.
    pub source: &'static str,
}

/// The register of a run.
pub fn exceptions_view(run: &Run) -> ExceptionsView<'_> {
    exceptions_view_of(run, &run.accounts)
}

/// The register as far as `accounts` go (all of a run's, or one account's).
pub fn exceptions_view_of<'a>(run: &'a Run, accounts: &'a [AccountResult]) -> ExceptionsView<'a> {
    ExceptionsView {
        register: run.exceptions.view(
            run.as_of,
            accounts
                .iter()
                .flat_map(|a| a.exceptions.iter().map(|h| (a.info.id.as_str(), h))),
        ),
        vendor: accounts
            .iter()
            .flat_map(|a| {
                a.vendor_exceptions.iter().map(|v| VendorView {
                    account: &a.info.id,
                    control: &v.control,
                    title: &v.title,
                    state: v.state,
                    source: "Security Center",
                })
            })
            .collect(),
    }
}

/// `portfolio`.
#[derive(Debug, Serialize)]
pub struct PortfolioView<'a> {
    /// Accounts.
    pub accounts: u64,
    /// Complete accounts.
    pub accounts_complete: u64,
    /// Partial accounts.
    pub accounts_partial: u64,
    /// Failed accounts.
    pub accounts_failed: u64,
    /// Mean score.
    pub score_mean: Option<Score>,
    /// Median score.
    pub score_median: Option<Score>,
    /// Per-control account counts.
    pub controls: Vec<PortfolioControlView>,
    /// Score history, this period last.
    pub history: Vec<crate::trend::PortfolioPoint>,
    /// Change since the baseline, or null without one.
    pub delta: Option<crate::trend::GroupDelta<'a>>,
    /// Security Center's own standards across the accounts (left out when no account's
    /// evidence names any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vendor_standards: Vec<crate::sas_standards::PortfolioStandard>,
}

/// `portfolio.controls[]`.
#[derive(Debug, Serialize)]
pub struct PortfolioControlView {
    /// Control id.
    pub id: String,
    /// Accounts failing it.
    pub fail_accounts: u64,
    /// Accounts passing it.
    pub pass_accounts: u64,
    /// Accounts where it was excepted.
    pub excepted_accounts: u64,
    /// Accounts where it did not apply.
    pub not_applicable_accounts: u64,
    /// Accounts where it could not be evaluated.
    pub not_evaluable_accounts: u64,
}

/// `accounts[]`.
#[derive(Debug, Serialize)]
pub struct AccountView<'a> {
    /// Account id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Customer.
    pub customer: Option<&'a str>,
    /// Who receives this customer's reports (`account.toml` contacts).
    pub contacts: &'a [String],
    /// UID.
    pub uid: Option<&'a str>,
    /// Alias.
    pub alias: Option<&'a str>,
    /// complete, partial, failed.
    pub status: AccountStatus,
    /// Our score.
    pub score: Option<Score>,
    /// The vendor's score, never mixed into ours.
    pub vendor_score: Option<i64>,
    /// Results per state.
    pub counts: &'a Counts,
    /// Identity figures.
    pub identity: &'a Identity,
    /// Every control.
    pub controls: Vec<ControlView<'a>>,
    /// Change since the baseline, or null (no baseline, or an account new since it).
    pub delta: Option<&'a crate::trend::Delta>,
    /// Score history, this period last.
    pub history: &'a [crate::trend::AccountPoint],
    /// The folder it was read from.
    pub folder: &'a str,
    /// Which evidence was present, missing or rejected.
    pub evidence: &'a BTreeMap<std::borrow::Cow<'static, str>, EvidenceState>,
    /// Why present evidence is incomplete.
    pub gaps: &'a [String],
    /// Notes about the evidence, in English.
    pub data_quality: Vec<String>,
    /// The requirements of each framework selected on this account; absent when none is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<AccountFrameworkView>,
    /// Security Center's own standards (left out when the evidence names none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_standards: Option<&'a crate::sas_standards::VendorStandards>,
}

/// `controls[]`.
#[derive(Debug, Serialize)]
pub struct ControlView<'a> {
    /// Control id.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Severity (`high`, `medium`, `low`).
    pub severity: crate::model::Severity,
    /// Result.
    pub status: Status,
    /// CIS mappings.
    pub frameworks: Frameworks,
    /// Per-resource results.
    pub resources: Vec<ResourceView<'a>>,
    /// Section.
    pub section: Section,
    /// Why, in English.
    pub detail: String,
    /// Compensating control, in English.
    pub compensating: Option<String>,
    /// Counted in the score.
    pub scored: bool,
    /// The benchmark version a control belongs to when the run scored the other one (then
    /// it counts nowhere): `cis-v1`, `cis-v2`, or null.
    pub informational: Option<crate::rules::Benchmark>,
    /// The built-in control a Sas item duplicates.
    pub duplicates: Option<&'static str>,
    /// Every source that reports the check (both Security Center APIs, or the Security
    /// Center item behind a built-in control).
    pub sources: Vec<SourceView<'a>>,
}

/// `sources[]`.
#[derive(Debug, Serialize)]
pub struct SourceView<'a> {
    /// Input file.
    pub file: &'a str,
    /// Place in that file.
    pub field: &'a str,
    /// What the source is and says, in English.
    pub what: String,
}

/// `frameworks`.
#[derive(Debug, Serialize)]
pub struct Frameworks {
    /// CIS v1.0.0.
    pub cis_v1: Option<&'static str>,
    /// CIS v2.0.0.
    pub cis_v2: Option<&'static str>,
}

/// `resources[]`.
#[derive(Debug, Serialize)]
pub struct ResourceView<'a> {
    /// Resource id.
    pub id: &'a str,
    /// Result.
    pub status: Status,
    /// Why, in English.
    pub detail: String,
    /// Input file.
    pub file: Option<&'a str>,
    /// Place in that file.
    pub field: Option<&'a str>,
}

fn control_view(f: &Finding) -> ControlView<'_> {
    let en = crate::i18n::Catalogue::get(crate::i18n::Lang::En);
    ControlView {
        id: &f.control_id,
        title: &f.title,
        severity: f.severity,
        status: f.status,
        frameworks: Frameworks {
            cis_v1: f.cis_v1,
            cis_v2: f.cis_v2,
        },
        resources: f
            .resources
            .iter()
            .map(|r| ResourceView {
                id: &r.id,
                status: r.status,
                detail: r.detail.render(en),
                file: r.file.as_deref(),
                field: r.field.as_deref(),
            })
            .collect(),
        section: f.section,
        detail: f.detail.render(en),
        compensating: f.compensating.as_ref().map(|m| m.render(en)),
        scored: f.scored,
        informational: f.informational,
        duplicates: f.duplicates,
        sources: f
            .sources
            .iter()
            .map(|c| SourceView {
                file: &c.file,
                field: &c.field,
                what: c.what.render(en),
            })
            .collect(),
    }
}

/// One account's view, with its requirements of `frameworks` (from its findings).
pub fn account_view<'a>(
    result: &'a AccountResult,
    frameworks: &[crate::frameworks::Framework],
) -> AccountView<'a> {
    let a = &result.info;
    AccountView {
        id: &a.id,
        name: &a.name,
        customer: a.customer.as_deref(),
        contacts: &a.contacts,
        uid: a.uid.as_deref(),
        alias: a.alias.as_deref(),
        status: result.status,
        score: result.score,
        vendor_score: result.vendor_score,
        counts: &result.counts,
        identity: &result.identity,
        controls: result
            .evaluation
            .findings
            .iter()
            .map(control_view)
            .collect(),
        delta: result.delta.as_ref(),
        history: &result.history,
        folder: &a.folder,
        evidence: &result.evidence,
        gaps: &result.gaps,
        data_quality: result
            .evaluation
            .data_quality
            .iter()
            .map(|n| n.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En)))
            .collect(),
        frameworks: frameworks
            .iter()
            .map(|f| {
                let r = crate::frameworks::evaluate_findings(f, &result.evaluation.findings);
                AccountFrameworkView {
                    id: r.framework,
                    coverage: CoverageView::of(r.coverage),
                    requirements: r.requirements,
                }
            })
            .collect(),
        vendor_standards: result.vendor_standards.as_ref(),
    }
}

/// The whole `summary.json` view.
pub fn summary_view(run: &Run) -> SummaryView<'_> {
    let p = &run.portfolio;
    let all: Vec<&AccountResult> = run.accounts.iter().collect();
    let trend = crate::trend::group(
        run.baseline.as_deref(),
        &all,
        None,
        &run.period,
        run.as_of.map(rfc3339),
    );
    let mut controls: Vec<_> = p.controls.iter().collect();
    controls.sort_by_key(|(id, _)| crate::rules::order_key(id));
    SummaryView {
        schema: SUMMARY_SCHEMA,
        tool_version: TOOL_VERSION,
        as_of: run.as_of.map(rfc3339),
        as_of_source: run.as_of_source.as_str(),
        period: &run.period,
        benchmark: BenchmarkView::of(run.benchmark),
        baseline: run.baseline.as_ref().and_then(|b| b.as_of.as_deref()),
        baseline_period: run.baseline.as_ref().map(|b| b.period.as_str()),
        portfolio: PortfolioView {
            accounts: p.accounts,
            accounts_complete: p.complete,
            accounts_partial: p.partial,
            accounts_failed: p.failed,
            score_mean: p.mean(),
            score_median: p.median(),
            controls: controls
                .into_iter()
                .map(|(id, t)| PortfolioControlView {
                    id: id.to_string(),
                    fail_accounts: t.fail,
                    pass_accounts: t.pass,
                    excepted_accounts: t.excepted,
                    not_applicable_accounts: t.not_applicable,
                    not_evaluable_accounts: t.not_evaluable,
                })
                .collect(),
            history: trend.history,
            delta: trend.delta,
            vendor_standards: crate::sas_standards::portfolio(
                run.accounts
                    .iter()
                    .filter_map(|a| a.vendor_standards.as_ref()),
            ),
        },
        accounts: [],
        diagnostics: &run.diagnostics,
        exceptions: exceptions_view(run),
        missing_accounts: trend.missing,
        frameworks: frameworks_view(run),
    }
}

/// `manifest.json`.
#[derive(Debug, Serialize)]
pub struct ManifestView<'a> {
    /// `aliaudit.manifest/v1`.
    pub schema: &'static str,
    /// Tool version.
    pub tool_version: &'static str,
    /// As-of instant.
    pub as_of: Option<String>,
    /// How it was chosen.
    pub as_of_source: &'static str,
    /// Options that shape the output (not `--jobs`, which never changes it), with the files
    /// the user gave named as outputs name them (`stamp::shown`).
    pub options: ManifestOptions,
    /// Counts of files by status.
    pub totals: BTreeMap<&'static str, usize>,
    /// Every input file.
    pub files: &'a [FileRecord],
}

/// The options recorded in the manifest.
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default, PartialEq, Eq)]
pub struct ManifestOptions {
    /// Input roots, as outputs name them (`discover::root_labels`).
    pub inputs: Vec<String>,
    /// Output formats.
    pub formats: Vec<String>,
    /// `--strict`.
    pub strict: bool,
    /// The project file (`aliaudit.toml`) and its SHA-256, when the settings came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_file: Option<FileStamp>,
    /// The rules file and its SHA-256, when one was given.
    pub rules_file: Option<FileStamp>,
    /// The exceptions file and its SHA-256, when one was given.
    pub exceptions_file: Option<FileStamp>,
    /// The branding file and its SHA-256, when one was given.
    pub branding_file: Option<FileStamp>,
    /// Language of the HTML and PDF reports (`en`, `zh`).
    pub lang: String,
    /// The benchmark version scored (`cis-v2`, `cis-v1`).
    pub benchmark: crate::rules::Benchmark,
    /// Thresholds in force.
    pub thresholds: BTreeMap<String, i64>,
    /// Largest evidence file read, in bytes.
    pub max_file_bytes: u64,
    /// The built-in frameworks rolled up (`--framework`), in the order given; absent when
    /// none is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<String>,
    /// The user's framework files (`--framework-file`) and their SHA-256; absent when none is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub framework_files: Vec<FileStamp>,
}

/// The manifest view.
pub fn manifest_view<'a>(run: &'a Run, options: &'a ManifestOptions) -> ManifestView<'a> {
    let mut totals = BTreeMap::new();
    for f in &run.files {
        let key = match f.status {
            crate::evidence::FileStatus::Used => "used",
            crate::evidence::FileStatus::Ignored => "ignored",
            crate::evidence::FileStatus::Rejected => "rejected",
        };
        *totals.entry(key).or_insert(0) += 1;
    }
    ManifestView {
        schema: MANIFEST_SCHEMA,
        tool_version: TOOL_VERSION,
        as_of: run.as_of.map(rfc3339),
        as_of_source: run.as_of_source.as_str(),
        options: ManifestOptions {
            project_file: options.project_file.as_ref().map(FileStamp::for_output),
            rules_file: options.rules_file.as_ref().map(FileStamp::for_output),
            exceptions_file: options.exceptions_file.as_ref().map(FileStamp::for_output),
            branding_file: options.branding_file.as_ref().map(FileStamp::for_output),
            framework_files: options
                .framework_files
                .iter()
                .map(FileStamp::for_output)
                .collect(),
            ..options.clone()
        },
        totals,
        files: &run.files,
    }
}
