//! View stage: the page models the HTML templates (and later the PDF) see.
//!
//! Serialize-only structs built from a [`Run`]; templates never see domain types. States are
//! the exception: rows carry the enums themselves (result, severity, evidence completeness,
//! file state, diagnostic level), which templates see as their snake_case names and the PDF
//! matches on. Charts are drawn here once per page, as SVG strings. No I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::charts::{self, Chart, HeatRow};
use crate::crosswalk::{self, FrameworkView};
use crate::executive::{self, Change, ExecutiveView, ScopeKind};
use crate::vendor::{self, VendorView};
use aliaudit_core::aggregate::{AccountStatus, Counts, Identity};
use aliaudit_core::diag::Level;
use aliaudit_core::evidence::{EvidenceState, FileRecord, FileStatus};
use aliaudit_core::i18n::Catalogue;
use aliaudit_core::model::Severity;
use aliaudit_core::pipeline::{AccountResult, Run, VendorState};
use aliaudit_core::rules::{self, CATALOG, Finding, RulePack, Section, Status};
use aliaudit_core::score::{Score, ScoreChange};
use aliaudit_core::summary::TOOL_VERSION;
use aliaudit_core::text::rfc3339;

/// What every page shows in its header and appendix.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// Tool version.
    pub tool_version: &'static str,
    /// As-of instant (RFC 3339) or "unknown".
    pub as_of: String,
    /// The as-of instant for reading, in the report language's date format.
    pub as_of_text: String,
    /// How it was chosen.
    pub as_of_source: &'static str,
    /// How the score is made: the benchmark version scored, then the formula.
    pub score_formula: String,
    /// The benchmark and version scored, in the report language.
    pub benchmark: String,
    /// The period label (`--period`, else the as-of date's quarter).
    pub period: String,
    /// The branding of this page.
    pub brand: BrandView,
    /// The report language's tag (`en`, `zh-Hans`).
    pub lang: &'static str,
    /// The report language.
    #[serde(skip)]
    pub language: aliaudit_core::i18n::Lang,
}

/// Branding as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct BrandView {
    /// Company the report is issued under.
    pub company: Option<String>,
    /// Logo as a `data:` URI.
    pub logo: Option<String>,
    /// Logo as SVG (a PNG wrapped in one), for the PDF.
    #[serde(skip)]
    pub logo_svg: Option<String>,
    /// Accent colour, `#rrggbb` (validated).
    pub accent: String,
    /// Text colour on the accent.
    pub on_accent: &'static str,
    /// Link colour on white.
    pub link: String,
    /// Report title.
    pub title: Option<String>,
    /// Footer text.
    pub footer: Option<String>,
    /// Disclaimer.
    pub disclaimer: Option<String>,
    /// Who prepared it.
    pub prepared_by: Option<String>,
    /// Who reviews it.
    pub reviewed_by: Option<String>,
    /// Whom to contact.
    pub contact: Option<String>,
}

/// The benchmark and version in `c`'s language.
fn benchmark_title(c: &Catalogue, b: rules::Benchmark) -> String {
    c.f("benchmark.title", &[("version", &b.version())])
}

/// One account in a list.
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    /// Account id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Customer.
    pub customer: Option<String>,
    /// Link from the portfolio page (`accounts/<slug>.html`).
    pub href: String,
    /// Evidence completeness (`complete`, `partial`, `failed`).
    pub status: AccountStatus,
    /// Score, one decimal, or "-".
    pub score: String,
    /// Score for sorting (-1 when none).
    pub score_sort: f64,
    /// The vendor's score or "-".
    pub vendor_score: String,
    /// Results per state.
    pub counts: Counts,
    /// Failed high-severity controls.
    pub high_fails: u64,
}

/// One customer in the portfolio.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRow {
    /// Customer name.
    pub name: String,
    /// Link from the portfolio page.
    pub href: String,
    /// Its accounts.
    pub accounts: usize,
    /// Mean score.
    pub score_mean: String,
    /// Failed controls over its accounts.
    pub fails: u64,
}

/// The data-quality notes of one account.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// Account name.
    pub name: String,
    /// Link to its page.
    pub href: String,
    /// Gaps, then notes.
    pub notes: Vec<String>,
}

/// One data-quality note and the accounts it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityNote {
    /// The note, as every one of its accounts has it.
    pub note: String,
    /// The accounts, in the order of the report's account list.
    pub accounts: Vec<QualityAccount>,
}

/// An account named by a data-quality note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityAccount {
    /// Account name.
    pub name: String,
    /// Link to its page.
    pub href: String,
}

/// The notes of `rows`, each once: a note that several accounts share word for word names
/// them all, in the order the accounts come; notes that differ stay apart. Notes keep the
/// order in which they first appear.
pub(crate) fn group_notes(rows: &[QualityRow]) -> Vec<QualityNote> {
    let mut out: Vec<QualityNote> = Vec::new();
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        for note in &row.notes {
            let account = QualityAccount {
                name: row.name.clone(),
                href: row.href.clone(),
            };
            match seen.get(note.as_str()) {
                Some(&i) => {
                    // An account repeating one note lists itself once.
                    if out[i].accounts.last() != Some(&account) {
                        out[i].accounts.push(account);
                    }
                }
                None => {
                    seen.insert(note, out.len());
                    out.push(QualityNote {
                        note: note.clone(),
                        accounts: vec![account],
                    });
                }
            }
        }
    }
    out
}

/// A diagnostic line.
#[derive(Debug, Clone, Serialize)]
pub struct DiagRow {
    /// How serious (`error`, `warning`, `info`).
    pub level: Level,
    /// File or folder.
    pub path: String,
    /// Account, if any.
    pub account: String,
    /// Message.
    pub message: String,
}

/// An input file in the evidence manifest.
#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    /// Path.
    pub path: String,
    /// Kind, or "-".
    pub kind: &'static str,
    /// What became of it (`used`, `ignored`, `rejected`).
    pub status: FileStatus,
    /// Reason.
    pub reason: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256.
    pub sha256: String,
}

/// Headline figures of a set of accounts.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Accounts.
    pub accounts: usize,
    /// Complete.
    pub complete: usize,
    /// Partial.
    pub partial: usize,
    /// Failed.
    pub failed: usize,
    /// Mean score.
    pub score_mean: String,
    /// Median score.
    pub score_median: String,
    /// Failed controls.
    pub fails: u64,
    /// Failed high-severity controls.
    pub high_fails: u64,
}

/// Charts of a portfolio or customer page (SVG).
#[derive(Debug, Clone, Serialize)]
pub struct GroupCharts {
    /// Accounts by score band.
    pub histogram: Chart,
    /// Most common failures.
    pub top_failures: Chart,
    /// Accounts x controls, every account, each row a link to the account page (the HTML).
    pub heat_map: Chart,
    /// The same map without links, in pages of 30 accounts (`HEAT_ROWS_PER_PAGE` in the charts; the
    /// PDF); not in the page data.
    #[serde(skip)]
    pub heat_pages: Vec<Chart>,
    /// The legend of the heat map's letters.
    pub heat_note: String,
}

/// `index.html`.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioPage {
    /// Header data.
    pub meta: Meta,
    /// The executive page.
    pub executive: ExecutiveView,
    /// Headline figures.
    pub totals: Totals,
    /// Charts.
    pub charts: GroupCharts,
    /// Accounts, lowest score first.
    pub accounts: Vec<AccountRow>,
    /// Customers.
    pub customers: Vec<CustomerRow>,
    /// Errors and warnings.
    pub problems: Vec<DiagRow>,
    /// Rejected input files.
    pub rejected: Vec<FileRow>,
    /// Data-quality notes and evidence gaps, each once with the accounts it concerns (a note
    /// several accounts share word for word is one entry).
    pub data_quality: Vec<QualityNote>,
    /// How many accounts have a data-quality note.
    pub quality_accounts: usize,
    /// Files used / ignored / rejected.
    pub files: BTreeMap<&'static str, usize>,
    /// Change since the baseline (absent without one).
    pub trend: Option<GroupTrendView>,
    /// The accepted-risk register (absent when there is none).
    pub register: Option<RegisterView>,
    /// The "By framework" section (empty without `--framework`).
    pub frameworks: Vec<FrameworkView>,
    /// The "Security Center standards" section (absent without such evidence).
    pub vendor: Option<VendorView>,
}

/// `customers/<slug>.html`.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerPage {
    /// Header data.
    pub meta: Meta,
    /// The executive page.
    pub executive: ExecutiveView,
    /// Customer name.
    pub name: String,
    /// Headline figures.
    pub totals: Totals,
    /// Charts.
    pub charts: GroupCharts,
    /// Its accounts, lowest score first (links relative to this page).
    pub accounts: Vec<AccountRow>,
    /// Change since the baseline (absent without one).
    pub trend: Option<GroupTrendView>,
    /// The accepted-risk register's entries touching its accounts (absent when none do).
    pub register: Option<RegisterView>,
    /// Each account's executive summary, lowest score first (the PDF's page per account; the
    /// HTML links to the account pages instead).
    #[serde(skip)]
    pub summaries: Vec<AccountSummary>,
    /// Its accounts' data-quality notes and evidence gaps, each once with the accounts it
    /// concerns (as the portfolio groups them).
    pub data_quality: Vec<QualityNote>,
    /// How many of its accounts have a data-quality note.
    pub quality_accounts: usize,
    /// The "By framework" section over its accounts (empty without `--framework`).
    pub frameworks: Vec<FrameworkView>,
    /// The "Security Center standards" section over its accounts (absent when none has such
    /// evidence).
    pub vendor: Option<VendorView>,
}

/// One account's executive summary inside a customer's report.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    /// Account name.
    pub name: String,
    /// Account id.
    pub id: String,
    /// Its executive page.
    pub executive: ExecutiveView,
}

/// One resource row.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceRow {
    /// Resource id.
    pub id: String,
    /// Its result (`pass`, `fail`...).
    pub status: Status,
    /// Why.
    pub detail: String,
    /// File and place.
    pub source: String,
    /// The input file alone (empty when the result names none).
    pub file: String,
    /// The place in that file alone (`line 12, mfa_active`, a JSON path; may be empty).
    pub place: String,
}

/// One source of a control's result on an account page.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    /// What the source is and says, in the report language.
    pub what: String,
    /// `file (place)`.
    pub place: String,
}

/// One control on an account page.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    /// Control id.
    pub id: String,
    /// HTML anchor.
    pub anchor: String,
    /// Title.
    pub title: String,
    /// Severity (`high`, `medium`, `low`).
    pub severity: Severity,
    /// The control's result (`pass`, `fail`...).
    pub status: Status,
    /// The result in words, in the report language.
    pub status_label: &'static str,
    /// CIS v1.0.0 / v2.0.0.
    pub cis: String,
    /// Why.
    pub detail: String,
    /// How to fix a failure, in the report language (built-in controls; empty otherwise).
    pub fix: String,
    /// Compensating control.
    pub compensating: Option<String>,
    /// Sas item duplicating a built-in control.
    pub duplicates: Option<String>,
    /// Every source reporting the check: `what` with its file and place.
    pub sources: Vec<SourceRow>,
    /// Counted in the score.
    pub scored: bool,
    /// For a control of the benchmark version not scored, the label that says so.
    pub informational: Option<String>,
    /// Per-resource rows.
    pub resources: Vec<ResourceRow>,
    /// Failing resources.
    pub failing: usize,
    /// The anchor of its row in the appendix's control logic, for a built-in control.
    pub logic_anchor: Option<String>,
}

/// A report section.
#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    /// Heading.
    pub title: &'static str,
    /// HTML anchor.
    pub anchor: &'static str,
    /// Its controls.
    pub controls: Vec<ControlRow>,
    /// Passed / failed / other.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
}

/// The anchor of a built-in control's row in the appendix's control logic.
fn logic_anchor(id: &str) -> String {
    format!("l-{}", id.replace('.', "-"))
}

/// A control's logic for the appendix.
#[derive(Debug, Clone, Serialize)]
pub struct LogicRow {
    /// Control id.
    pub id: &'static str,
    /// Its anchor.
    pub anchor: String,
    /// Title.
    pub title: String,
    /// Logic.
    pub logic: String,
    /// Evidence.
    pub evidence: String,
    /// Remediation.
    pub remediation: String,
}

/// Identity figures as text: 0 is a count, "-" means unknown.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityText {
    /// RAM users.
    pub ram_users: String,
    /// Console users.
    pub console_users: String,
    /// Console users without MFA.
    pub console_users_without_mfa: String,
    /// Active AccessKeys.
    pub active_access_keys: String,
    /// Active keys not rotated in 90 days.
    pub access_keys_not_rotated_90d: String,
    /// "MFA on", "no MFA" or "-".
    pub root_mfa: String,
    /// Active root keys.
    pub root_active_access_keys: String,
}

impl IdentityText {
    fn new(c: &'static Catalogue, i: &Identity) -> Self {
        let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        IdentityText {
            ram_users: n(i.ram_users),
            console_users: n(i.console_users),
            console_users_without_mfa: n(i.console_users_without_mfa),
            active_access_keys: n(i.active_access_keys),
            access_keys_not_rotated_90d: n(i.access_keys_not_rotated_90d),
            root_mfa: match i.root_mfa {
                Some(true) => c.t("identity.mfa_on").into(),
                Some(false) => c.t("identity.mfa_off").into(),
                None => "-".into(),
            },
            root_active_access_keys: n(i.root_active_access_keys),
        }
    }
}

/// The charts of an account page.
#[derive(Debug, Clone, Serialize)]
pub struct AccountCharts {
    /// Score gauge.
    pub gauge: Chart,
    /// Status donut.
    pub donut: Chart,
    /// Failures by severity.
    pub severity: Chart,
}

/// `accounts/<slug>.html`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountPage {
    /// Header data.
    pub meta: Meta,
    /// The executive page.
    pub executive: ExecutiveView,
    /// The account.
    pub account: AccountRow,
    /// Account UID.
    pub uid: Option<String>,
    /// Alias.
    pub alias: Option<String>,
    /// Folder read.
    pub folder: String,
    /// Link to the customer page, if any.
    pub customer_href: Option<String>,
    /// Identity figures as shown: a count, or "-" when the evidence cannot tell.
    pub identity: IdentityText,
    /// Charts.
    pub charts: AccountCharts,
    /// Failed controls, high severity first (executive summary).
    pub top_failing: Vec<ControlRow>,
    /// Controls by section.
    pub sections: Vec<SectionView>,
    /// Evidence kinds: (kind, state).
    pub evidence: Vec<(&'static str, String)>,
    /// Gaps in present evidence.
    pub gaps: Vec<String>,
    /// Data-quality notes.
    pub data_quality: Vec<String>,
    /// Diagnostics of this account.
    pub diagnostics: Vec<DiagRow>,
    /// The account's files (manifest).
    pub files: Vec<FileRow>,
    /// Logic of every built-in control.
    pub logic: Vec<LogicRow>,
    /// Thresholds in force.
    pub thresholds: Vec<ThresholdRow>,
    /// Change since the baseline (absent without one).
    pub trend: Option<AccountTrendView>,
    /// The register entries that touch this account (absent when there are none).
    pub register: Option<RegisterView>,
    /// The "By framework" section (empty without `--framework`).
    pub frameworks: Vec<FrameworkView>,
    /// The "Security Center standards" section (absent without such evidence).
    pub vendor: Option<VendorView>,
}

/// A threshold in force, as the account appendix lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdRow {
    /// What it sets, in the report language.
    pub label: &'static str,
    /// Its key, as a rules file names it (`password_min_length`).
    pub key: &'static str,
    /// Its value.
    pub value: i64,
}

/// Trend charts (SVG).
#[derive(Debug, Clone, Serialize)]
pub struct TrendCharts {
    /// Score per period.
    pub score: Chart,
    /// Failed controls per period, by severity.
    pub severity: Chart,
}

/// One changed finding.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// Control id.
    pub control: String,
    /// Control title.
    pub title: String,
    /// Severity (`high`, `medium`, `low`).
    pub severity: Severity,
    /// Resource id ("-" for the control as a whole).
    pub resource: String,
    /// First period seen failing (persisting and excepted only).
    pub since: String,
    /// Consecutive periods failing (persisting and excepted only).
    pub periods: u32,
}

/// "What changed" on an account page.
#[derive(Debug, Clone, Serialize)]
pub struct AccountTrendView {
    /// The baseline's period.
    pub baseline_period: String,
    /// Not in the baseline.
    pub new_account: bool,
    /// Score then.
    pub previous_score: String,
    /// Score change, signed ("+2.5", "-1.0", "0.0") or "-".
    pub change: String,
    /// How many of each.
    pub counts: aliaudit_core::trend::DeltaCounts,
    /// Failures not in the baseline.
    pub new_failures: Vec<ChangeRow>,
    /// Baseline failures fixed or gone.
    pub resolved: Vec<ChangeRow>,
    /// Baseline failures still failing.
    pub persisting: Vec<ChangeRow>,
    /// Failures covered by an exception.
    pub excepted: Vec<ChangeRow>,
    /// Baseline failures whose control could not be evaluated now.
    pub not_reassessed: Vec<ChangeRow>,
    /// Controls whose result changed: (title, id, from, to).
    pub changed_controls: Vec<(String, String, &'static str, &'static str)>,
    /// Charts.
    pub charts: TrendCharts,
}

/// An account whose score moved, or that is missing.
#[derive(Debug, Clone, Serialize)]
pub struct MoverRow {
    /// Name.
    pub name: String,
    /// Account id.
    pub id: String,
    /// Link (empty for a missing account).
    pub href: String,
    /// Score then.
    pub previous: String,
    /// Score now.
    pub score: String,
    /// Signed change.
    pub change: String,
    /// Period last assessed (missing accounts).
    pub last_period: String,
}

/// "What changed" on a portfolio or customer page.
#[derive(Debug, Clone, Serialize)]
pub struct GroupTrendView {
    /// The baseline's period.
    pub baseline_period: String,
    /// Mean score change, signed, or "-".
    pub change: String,
    /// Accounts whose score rose.
    pub improved: u64,
    /// Accounts whose score fell.
    pub worsened: u64,
    /// Accounts scored the same.
    pub unchanged: u64,
    /// Failures summed over accounts.
    pub counts: aliaudit_core::trend::DeltaCounts,
    /// Accounts by score change, largest fall first.
    pub movers: Vec<MoverRow>,
    /// Accounts new since the baseline.
    pub new_accounts: Vec<MoverRow>,
    /// Baseline accounts not assessed now, at their last state.
    pub missing: Vec<MoverRow>,
    /// Charts.
    pub charts: TrendCharts,
    /// Why the figures of the baseline's period are restated, when this run has its period
    /// (its point replaces the one published before).
    pub restated: Option<String>,
}

/// One register entry as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterRow {
    /// Entry number in the file.
    pub number: usize,
    /// Account id or glob; a glob is followed by the names of the accounts it matched.
    pub account: String,
    /// Control id.
    pub control: String,
    /// The check's title, in the report language.
    pub title: String,
    /// Resource glob, or "-".
    pub resource: String,
    /// Why.
    pub reason: String,
    /// Owner.
    pub owner: String,
    /// Approver.
    pub approved_by: String,
    /// Expiry date.
    pub expires: String,
    /// What it covers, one line per match.
    pub covers: Vec<String>,
}

/// A Security Center acceptance as shown.
#[derive(Debug, Clone, Serialize)]
pub struct VendorRow {
    /// Account id.
    pub account: String,
    /// Control id.
    pub control: String,
    /// Title.
    pub title: String,
    /// How it was accepted, in the report language.
    pub state: &'static str,
}

/// The accepted-risk register as shown.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RegisterView {
    /// The exceptions file, if given.
    pub file: Option<String>,
    /// Unexpired entries covering failures.
    pub active: Vec<RegisterRow>,
    /// Expired entries (their failures stand).
    pub expired: Vec<RegisterRow>,
    /// Unexpired entries covering nothing.
    pub stale: Vec<RegisterRow>,
    /// Security Center acceptances.
    pub vendor: Vec<VendorRow>,
}

impl RegisterView {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.vendor.is_empty()
    }
}

/// A score change signed (`+2.5`, `-1.0`, `0.0`), or `-` without one.
fn signed(change: Option<ScoreChange>) -> String {
    change.map_or_else(|| "-".into(), |c| c.to_string())
}

fn change_row(c: &aliaudit_core::trend::Change, since: &str, periods: u32) -> ChangeRow {
    ChangeRow {
        control: c.control.clone(),
        title: c.title.clone(),
        severity: c.severity,
        resource: if c.resource.is_empty() {
            "-".into()
        } else {
            c.resource.clone()
        },
        since: since.to_string(),
        periods,
    }
}

fn trend_charts(
    c: &'static Catalogue,
    history: &[(String, Option<Score>, aliaudit_core::trend::Fails)],
    title: &str,
) -> TrendCharts {
    let scores: Vec<(String, Option<f64>)> = history
        .iter()
        .map(|(p, s, _)| (p.clone(), s.map(Score::as_f64)))
        .collect();
    let fails: Vec<(String, [u64; 3])> = history
        .iter()
        .map(|(p, _, f)| (p.clone(), [f.high, f.medium, f.low]))
        .collect();
    TrendCharts {
        score: charts::score_trend(c, title, &scores),
        severity: charts::severity_trend(c, c.t("trend.fails_by_period"), &fails),
    }
}

/// Everything needed to shape pages: the run, the rule pack and the file names.
pub struct Site<'a> {
    /// The run.
    pub run: &'a Run,
    /// The rule pack (thresholds, logic).
    pub rules: &'a RulePack,
    /// Account id -> slug.
    pub account_slugs: BTreeMap<String, String>,
    /// Customer name -> slug.
    pub customer_slugs: BTreeMap<String, String>,
    files_by_account: BTreeMap<&'a str, Vec<&'a FileRecord>>,
    diagnostics_by_account: BTreeMap<&'a str, Vec<&'a aliaudit_core::diag::Diagnostic>>,
    members: BTreeMap<&'a str, Vec<&'a AccountResult>>,
    /// The messages of the report language.
    c: &'static Catalogue,
}

fn high_fails(a: &AccountResult) -> u64 {
    a.failed
        .iter()
        .filter(|f| f.severity == Severity::High)
        .count() as u64
}

/// Failing resources by failing control (scored controls only), for the executive page.
fn failing_resources(findings: &[Finding]) -> BTreeMap<String, executive::Affected> {
    findings
        .iter()
        .filter(|f| f.status == Status::Fail && f.informational.is_none())
        .map(|f| {
            let count = usize::try_from(f.failing_count()).unwrap_or(usize::MAX);
            (
                f.control_id.to_string(),
                executive::Affected {
                    count,
                    noun: f.noun,
                },
            )
        })
        .collect()
}

/// A score to one decimal, or `-` without one.
fn score_text(score: Option<Score>) -> String {
    score.map_or_else(|| "-".into(), |s| s.to_string())
}

fn status_label(c: &'static Catalogue, s: Status) -> &'static str {
    c.t(&format!("status.{}", s.as_str()))
}

fn section_title(c: &'static Catalogue, s: Section) -> &'static str {
    c.t(match s {
        Section::CisIdentity => "section.cis_identity",
        Section::BestPractice => "section.best_practice",
        Section::SecurityCenter => "section.security_center",
    })
}

/// An evidence kind's state in words, in the report language.
fn evidence_state(c: &'static Catalogue, state: &EvidenceState) -> String {
    match state {
        EvidenceState::Present(_) => c.f("evidence_state.present", &[("files", &state.files())]),
        EvidenceState::Rejected(_) => c.f("evidence_state.rejected", &[("files", &state.files())]),
        EvidenceState::Missing => c.t("evidence_state.missing").to_string(),
    }
}

fn file_row(c: &'static Catalogue, f: &FileRecord) -> FileRow {
    FileRow {
        path: f.path.clone(),
        kind: f.kind.map(|k| k.as_str()).unwrap_or("-"),
        status: f.status,
        reason: f.reason_in(c).unwrap_or_default(),
        size: f.size,
        sha256: f.sha256.clone(),
    }
}

fn diag_row(d: &aliaudit_core::diag::Diagnostic) -> DiagRow {
    DiagRow {
        level: d.level,
        path: d.path.clone(),
        account: d.account.clone().unwrap_or_default(),
        message: d.message.clone(),
    }
}

/// The page names of accounts and customers (`accounts/<name>.html`...), chosen among all
/// accounts of the input: a shard knows them all, so its names are a single run's.
pub fn page_names(run: &Run) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    match &run.everyone {
        Some(all) => (
            slugs(all.iter().map(|(id, _)| id.as_str())),
            slugs(all.iter().filter_map(|(_, c)| c.as_deref())),
        ),
        None => (
            slugs(run.accounts.iter().map(|a| a.info.id.as_str())),
            slugs(
                run.accounts
                    .iter()
                    .filter_map(|a| a.info.customer.as_deref()),
            ),
        ),
    }
}

impl<'a> Site<'a> {
    /// Prepares slugs and indexes for a run.
    pub fn new(run: &'a Run, rules: &'a RulePack) -> Site<'a> {
        let (account_slugs, customer_slugs) = page_names(run);
        let mut files_by_account: BTreeMap<&str, Vec<&FileRecord>> = BTreeMap::new();
        for f in &run.files {
            if let Some(a) = f.account.as_deref() {
                files_by_account.entry(a).or_default().push(f);
            }
        }
        let mut diagnostics_by_account: BTreeMap<&str, Vec<&aliaudit_core::diag::Diagnostic>> =
            BTreeMap::new();
        for d in &run.diagnostics {
            if let Some(a) = d.account.as_deref() {
                diagnostics_by_account.entry(a).or_default().push(d);
            }
        }
        let mut members: BTreeMap<&str, Vec<&AccountResult>> = BTreeMap::new();
        for a in &run.accounts {
            if let Some(c) = a.info.customer.as_deref() {
                members.entry(c).or_default().push(a);
            }
        }
        Site {
            run,
            rules,
            account_slugs,
            customer_slugs,
            files_by_account,
            diagnostics_by_account,
            members,
            c: Catalogue::get(run.lang),
        }
    }

    /// Header data.
    pub fn meta(&self, customer: Option<&str>) -> Meta {
        let b = self.run.branding.for_customer(customer);
        Meta {
            tool_version: TOOL_VERSION,
            as_of: self
                .run
                .as_of
                .map(rfc3339)
                .unwrap_or_else(|| "unknown".into()),
            as_of_text: self
                .run
                .as_of
                .map(|t| t.format(self.c.t("format.date_time")).to_string())
                .unwrap_or_else(|| "-".into()),
            as_of_source: self.c.t(match self.run.as_of_source {
                aliaudit_core::pipeline::AsOfSource::Option => "as_of_source.option",
                aliaudit_core::pipeline::AsOfSource::Evidence => "as_of_source.evidence",
                aliaudit_core::pipeline::AsOfSource::None => "as_of_source.none",
            }),
            score_formula: {
                let b = self.run.benchmark;
                let other = rules::Benchmark::ALL
                    .into_iter()
                    .find(|o| *o != b)
                    .unwrap_or(b);
                format!(
                    "{} {}",
                    self.c.f(
                        "benchmark.method",
                        &[
                            ("benchmark", &benchmark_title(self.c, b)),
                            ("other", &other.version()),
                        ],
                    ),
                    aliaudit_core::rules::score_formula(self.c)
                )
            },
            benchmark: benchmark_title(self.c, self.run.benchmark),
            period: self.run.period.clone(),
            brand: BrandView {
                company: b.company.clone(),
                logo: b.logo.as_ref().map(|l| l.data_uri()),
                logo_svg: b.logo.as_ref().map(|l| l.svg()),
                accent: b.accent.clone(),
                on_accent: b.on_accent(),
                link: b.link().to_string(),
                title: b.title.clone(),
                footer: b.footer.clone(),
                disclaimer: b.disclaimer.clone(),
                prepared_by: b.prepared_by.clone(),
                reviewed_by: b.reviewed_by.clone(),
                contact: b.contact.clone(),
            },
            lang: self.run.lang.tag(),
            language: self.run.lang,
        }
    }

    fn account_row(&self, a: &AccountResult, prefix: &str) -> AccountRow {
        let slug = self
            .account_slugs
            .get(&a.info.id)
            .cloned()
            .unwrap_or_default();
        AccountRow {
            id: a.info.id.clone(),
            name: a.info.name.clone(),
            customer: a.info.customer.clone(),
            href: format!("{prefix}accounts/{slug}.html"),
            status: a.status,
            score: score_text(a.score),
            score_sort: a.score.map_or(-1.0, Score::as_f64),
            vendor_score: a
                .vendor_score
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".into()),
            counts: a.counts.clone(),
            high_fails: high_fails(a),
        }
    }

    fn totals(&self, accounts: &[&AccountResult]) -> Totals {
        let mut scores: Vec<Score> = accounts.iter().filter_map(|a| a.score).collect();
        scores.sort_unstable();
        let portfolio = aliaudit_core::aggregate::PortfolioSummary {
            scores,
            ..Default::default()
        };
        Totals {
            accounts: accounts.len(),
            complete: accounts
                .iter()
                .filter(|a| a.status == AccountStatus::Complete)
                .count(),
            partial: accounts
                .iter()
                .filter(|a| a.status == AccountStatus::Partial)
                .count(),
            failed: accounts
                .iter()
                .filter(|a| a.status == AccountStatus::Failed)
                .count(),
            score_mean: score_text(portfolio.mean()),
            score_median: score_text(portfolio.median()),
            fails: accounts.iter().map(|a| a.counts.fail).sum(),
            high_fails: accounts.iter().map(|a| high_fails(a)).sum(),
        }
    }

    /// Most failed controls over `accounts`: (title, accounts failing), most first.
    fn failure_counts(accounts: &[&AccountResult]) -> Vec<(String, String, u64)> {
        let mut by_id: BTreeMap<&str, (String, u64)> = BTreeMap::new();
        for a in accounts {
            for f in &a.failed {
                let entry = by_id
                    .entry(&f.id)
                    .or_insert_with(|| (f.title.to_string(), 0));
                entry.1 += 1;
            }
        }
        let mut rows: Vec<(String, String, u64)> = by_id
            .into_iter()
            .map(|(id, (title, n))| (id.to_string(), title, n))
            .collect();
        rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        rows
    }

    fn group_charts(&self, accounts: &[&AccountResult], prefix: &str) -> GroupCharts {
        let scores: Vec<f64> = accounts
            .iter()
            .filter_map(|a| a.score)
            .map(Score::as_f64)
            .collect();
        let failures = Self::failure_counts(accounts);
        let top: Vec<(String, u64)> = failures
            .iter()
            .take(10)
            .map(|(id, title, n)| {
                let title = self.control_title(id, title);
                (self.c.f("ui.named", &[("name", &title), ("id", id)]), *n)
            })
            .collect();
        // The heat map shows the built-in controls the report scores for every account, lowest
        // score first (a control of the other benchmark version only is not scored: no column).
        let b = self.run.benchmark;
        let scored: Vec<_> = CATALOG
            .iter()
            .filter(|c| b.informational(c.cis_v1, c.cis_v2).is_none())
            .collect();
        let columns: Vec<&str> = scored.iter().map(|c| c.id).collect();
        let mut ranked: Vec<&&AccountResult> = accounts.iter().collect();
        ranked.sort_by(|a, b| {
            // Unscored accounts last.
            (a.score.is_none(), a.score)
                .cmp(&(b.score.is_none(), b.score))
                .then_with(|| a.info.id.cmp(&b.info.id))
        });
        let rows: Vec<HeatRow> = ranked
            .iter()
            .map(|a| {
                let by_id: BTreeMap<&str, Status> = a
                    .figures
                    .controls
                    .iter()
                    .map(|(id, status)| (&**id, *status))
                    .collect();
                HeatRow {
                    name: a.info.name.clone(),
                    id: a.info.id.clone(),
                    href: Some(self.account_row(a, prefix).href),
                    cells: columns.iter().map(|c| by_id.get(c).copied()).collect(),
                }
            })
            .collect();
        let titles: Vec<String> = scored
            .iter()
            .map(|c| self.control_title(c.id, c.title))
            .collect();
        // The PDF pages the map, and its rows are not links.
        let heat_pages: Vec<Chart> = rows
            .chunks(charts::HEAT_ROWS_PER_PAGE)
            .map(|page| {
                let page: Vec<HeatRow> = page
                    .iter()
                    .map(|r| HeatRow {
                        href: None,
                        ..r.clone()
                    })
                    .collect();
                charts::heat_map(self.c, &titles, &page)
            })
            .collect();
        GroupCharts {
            histogram: charts::score_histogram(self.c, &scores),
            top_failures: charts::top_failures(self.c, &top, accounts.len() as u64),
            // The HTML's map: the PDF draws `heat_pages`, so its shapes are not kept.
            heat_map: charts::heat_map(self.c, &titles, &rows).html_only(),
            heat_pages,
            heat_note: self.c.t("ui.heat_note_all").to_string(),
        }
    }

    /// The portfolio page.
    pub fn portfolio(&self) -> PortfolioPage {
        let all: Vec<&AccountResult> = self.run.accounts.iter().collect();
        let mut accounts: Vec<AccountRow> = all.iter().map(|a| self.account_row(a, "")).collect();
        accounts.sort_by(|a, b| {
            a.score_sort
                .total_cmp(&b.score_sort)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut customers = Vec::new();
        for (name, slug) in &self.customer_slugs {
            let members = self.members.get(name.as_str()).cloned().unwrap_or_default();
            let totals = self.totals(&members);
            customers.push(CustomerRow {
                name: name.clone(),
                href: format!("customers/{slug}.html"),
                accounts: members.len(),
                score_mean: totals.score_mean,
                fails: totals.fails,
            });
        }
        let mut files = BTreeMap::new();
        for f in &self.run.files {
            *files.entry(f.status.as_str()).or_insert(0) += 1;
        }
        let trend = self.group_trend_of(&all, None);
        let quality = self.quality_rows(&all, "");
        PortfolioPage {
            meta: self.meta(None),
            executive: self.executive(
                &all,
                ScopeKind::Portfolio,
                "",
                BTreeMap::new(),
                self.group_change(trend.as_ref(), &all),
            ),
            totals: self.totals(&all),
            charts: self.group_charts(&all, ""),
            accounts,
            customers,
            problems: self
                .run
                .diagnostics
                .iter()
                .filter(|d| d.level != Level::Info)
                .map(diag_row)
                .collect(),
            rejected: self
                .run
                .files
                .iter()
                .filter(|f| f.status == FileStatus::Rejected)
                .map(|f| file_row(self.c, f))
                .collect(),
            data_quality: group_notes(&quality),
            quality_accounts: quality.len(),
            files,
            trend: self.group_trend(trend.as_ref(), &all, ""),
            register: self.register(None),
            frameworks: crosswalk::group(
                self.c,
                self.run.lang,
                &self.run.frameworks,
                &self.run.framework_tallies,
            ),
            vendor: vendor::group(
                self.c,
                all.len(),
                all.iter().filter_map(|a| a.vendor_standards.as_ref()),
            ),
        }
    }

    /// The data-quality notes of each of `accounts` that has any (links relative to a page
    /// `prefix` below the output folder's top).
    fn quality_rows(&self, accounts: &[&AccountResult], prefix: &str) -> Vec<QualityRow> {
        accounts
            .iter()
            .filter_map(|a| {
                let mut notes: Vec<String> = self.missing_evidence(a).into_iter().collect();
                notes.extend(a.gaps_in(self.c));
                notes.extend(a.notes_in(self.c));
                (!notes.is_empty()).then(|| QualityRow {
                    name: a.info.name.clone(),
                    href: self.account_row(a, prefix).href,
                    notes,
                })
            })
            .collect()
    }

    /// What an incomplete account lacks, as a data-quality note: the evidence kinds missing or
    /// rejected and how many controls could not be assessed for want of them.
    fn missing_evidence(&self, a: &AccountResult) -> Option<String> {
        let kinds: Vec<&str> = a
            .evidence
            .iter()
            .filter(|(_, state)| !matches!(state, EvidenceState::Present(_)))
            .map(|(kind, _)| self.c.t(&format!("exec.evidence.{kind}")))
            .collect();
        (a.status != AccountStatus::Complete && !kinds.is_empty()).then(|| {
            self.c.f(
                "ui.evidence_missing",
                &[("kinds", &kinds.join(", ")), ("n", &a.counts.not_evaluable)],
            )
        })
    }

    /// The executive page of `accounts`, in the report language.
    fn executive(
        &self,
        accounts: &[&AccountResult],
        scope: ScopeKind,
        name: &str,
        resources: BTreeMap<String, executive::Affected>,
        change: Option<Change>,
    ) -> ExecutiveView {
        executive::derive(
            accounts,
            executive::Inputs {
                scope,
                name,
                resources,
                change,
                as_of: self.run.as_of.map(|t| t.date_naive()),
                rules: self.rules,
            },
        )
        .view(self.c, self.rules)
    }

    /// A group's trend against the baseline, when there is one: computed once per page, for
    /// the executive page's change line and for "what changed".
    fn group_trend_of<'r>(
        &'r self,
        members: &[&'r AccountResult],
        customer: Option<&str>,
    ) -> Option<aliaudit_core::trend::GroupTrend<'r>> {
        let baseline = self.run.baseline.as_deref()?;
        Some(aliaudit_core::trend::group(
            Some(baseline),
            members,
            customer,
            &self.run.period,
            self.run.as_of.map(rfc3339),
        ))
    }

    /// A group's change since the baseline, from its trend.
    fn group_change(
        &self,
        t: Option<&aliaudit_core::trend::GroupTrend>,
        members: &[&AccountResult],
    ) -> Option<Change> {
        let baseline = self.run.baseline.as_deref()?;
        let t = t?;
        let d = t.delta.as_ref()?;
        // The change is the trend's: accounts not re-assessed count at their last score, and
        // the text says so, since the headline score covers only the accounts assessed now.
        let now = t.history.last();
        let previous = t
            .history
            .iter()
            .rev()
            .find(|p| Some(&p.period) != now.map(|n| &n.period))
            .and_then(|p| p.score_mean);
        let carried = now.map_or(0, |p| p.accounts_not_reassessed);
        Some(Change::Group {
            compared: executive::Compared {
                period: baseline.period.clone(),
                previous,
                score: d.score_mean,
                new_failures: d.counts.new_failures,
                resolved: d.counts.resolved,
            },
            carried: (carried > 0).then(|| executive::Carried {
                accounts: carried,
                mean: now.and_then(|p| p.score_mean),
            }),
            added: members.iter().filter(|a| a.delta.is_none()).count() as u64,
        })
    }

    /// "What changed" for a group of accounts, when there is a baseline.
    fn group_trend(
        &self,
        t: Option<&aliaudit_core::trend::GroupTrend>,
        members: &[&AccountResult],
        prefix: &str,
    ) -> Option<GroupTrendView> {
        let baseline = self.run.baseline.as_deref()?;
        let t = t?;
        let d = t.delta.as_ref()?;
        let history: Vec<_> = t
            .history
            .iter()
            .map(|p| (p.period.clone(), p.score_mean, p.fails))
            .collect();
        let mut movers: Vec<(ScoreChange, MoverRow)> = members
            .iter()
            .filter_map(|a| {
                let delta = a.delta.as_ref()?;
                let change = delta.score?;
                Some((
                    change,
                    MoverRow {
                        name: a.info.name.clone(),
                        id: a.info.id.clone(),
                        href: self.account_row(a, prefix).href,
                        previous: score_text(delta.previous_score),
                        score: score_text(a.score),
                        change: signed(delta.score),
                        last_period: self.run.period.clone(),
                    },
                ))
            })
            .filter(|(change, _)| *change != ScoreChange::ZERO)
            .collect();
        movers.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let new_accounts = members
            .iter()
            .filter(|a| d.accounts_new.contains(&a.info.id.as_str()))
            .map(|a| MoverRow {
                name: a.info.name.clone(),
                id: a.info.id.clone(),
                href: self.account_row(a, prefix).href,
                previous: "-".into(),
                score: score_text(a.score),
                change: "-".into(),
                last_period: self.run.period.clone(),
            })
            .collect();
        let missing = t
            .missing
            .iter()
            .map(|m| MoverRow {
                name: m.name.to_string(),
                id: m.id.to_string(),
                href: String::new(),
                previous: score_text(m.score),
                score: "-".into(),
                change: "-".into(),
                last_period: m.last_period.to_string(),
            })
            .collect();
        let restated = (baseline.period == self.run.period)
            .then(|| self.c.f("trend.restated", &[("period", &baseline.period)]));
        Some(GroupTrendView {
            restated,
            baseline_period: baseline.period.clone(),
            change: signed(d.score_mean),
            improved: d.accounts_improved,
            worsened: d.accounts_worsened,
            unchanged: d.accounts_unchanged,
            counts: d.counts,
            movers: movers.into_iter().map(|(_, m)| m).collect(),
            new_accounts,
            missing,
            // One population per line: with accounts carried forward the title says so.
            charts: trend_charts(
                self.c,
                &history,
                if t.history.iter().any(|p| p.accounts_not_reassessed > 0) {
                    self.c.t("trend.mean_by_period_carried")
                } else {
                    self.c.t("trend.mean_by_period")
                },
            ),
        })
    }

    /// The register, for the whole run or the entries touching one account.
    fn register(&self, account: Option<&AccountResult>) -> Option<RegisterView> {
        self.register_of(account, None)
    }

    /// The register entries touching a customer's accounts.
    fn customer_register(&self, members: &[&AccountResult]) -> Option<RegisterView> {
        let ids: BTreeSet<&str> = members.iter().map(|a| a.info.id.as_str()).collect();
        self.register_of(None, Some(&ids))
    }

    /// The register of the whole run (neither `account` nor `members`), of one account, or of
    /// the accounts of `members` (ids).
    fn register_of(
        &self,
        account: Option<&AccountResult>,
        members: Option<&BTreeSet<&str>>,
    ) -> Option<RegisterView> {
        let whole = account.is_none() && members.is_none();
        // An account page looks at that account's matches only.
        let all = match account {
            None => aliaudit_core::summary::exceptions_view(self.run),
            Some(a) => {
                aliaudit_core::summary::exceptions_view_of(self.run, std::slice::from_ref(a))
            }
        };
        let touches = |a: &str| {
            account.is_none_or(|x| x.info.id == a) && members.is_none_or(|m| m.contains(a))
        };
        let name_of = |id: &str| -> String {
            self.run
                .accounts
                .iter()
                .find(|a| a.info.id == id)
                .map_or_else(|| id.to_string(), |a| a.info.name.clone())
        };
        // A glob names the accounts it matched, so a reader need not work them out.
        let target = |e: &aliaudit_core::exceptions::EntryView| -> String {
            let pattern = &e.entry.account;
            let names: std::collections::BTreeSet<String> = e
                .matches
                .iter()
                .filter(|m| touches(m.account))
                .map(|m| name_of(m.account))
                .collect();
            if pattern.contains(['*', '?', '[']) && !names.is_empty() {
                let names: Vec<String> = names.into_iter().collect();
                self.c.f(
                    "register.glob_matched",
                    &[("pattern", pattern), ("names", &names.join(", "))],
                )
            } else {
                pattern.clone()
            }
        };
        let title_of = |control: &str| -> String {
            let collected = self
                .run
                .accounts
                .iter()
                .flat_map(|a| &a.exceptions)
                .find(|h| h.control == control && !h.title.is_empty())
                .map(|h| h.title.clone())
                .or_else(|| {
                    all.vendor
                        .iter()
                        .find(|v| v.control == control)
                        .map(|v| v.title.to_string())
                })
                .unwrap_or_else(|| control.to_string());
            self.control_title(control, &collected)
        };
        let rows = |entries: &[aliaudit_core::exceptions::EntryView]| -> Vec<RegisterRow> {
            entries
                .iter()
                .filter(|e| whole || e.matches.iter().any(|m| touches(m.account)))
                .map(|e| RegisterRow {
                    number: e.number,
                    account: target(e),
                    control: e.entry.control.clone(),
                    title: title_of(&e.entry.control),
                    resource: e.entry.resource.clone().unwrap_or_else(|| "-".into()),
                    reason: e.entry.reason.clone(),
                    owner: e.entry.owner.clone(),
                    approved_by: e.entry.approved_by.clone(),
                    expires: e.entry.expires.clone(),
                    covers: e
                        .matches
                        .iter()
                        .filter(|m| touches(m.account))
                        .map(|m| {
                            let what = if m.resource.is_empty() {
                                m.control.to_string()
                            } else {
                                format!("{} {}", m.control, m.resource)
                            };
                            if account.is_some() {
                                what
                            } else {
                                format!("{}: {what}", m.account)
                            }
                        })
                        .collect(),
                })
                .collect()
        };
        let view = RegisterView {
            file: all.register.file,
            active: rows(&all.register.active),
            expired: rows(&all.register.expired),
            stale: if whole {
                rows(&all.register.stale)
            } else {
                Vec::new()
            },
            vendor: all
                .vendor
                .iter()
                .filter(|v| touches(v.account))
                .map(|v| VendorRow {
                    account: self.c.f(
                        "ui.named",
                        &[("name", &name_of(v.account)), ("id", &v.account)],
                    ),
                    control: v.control.to_string(),
                    title: v.title.to_string(),
                    state: self.c.t(match v.state {
                        VendorState::Ignored => "register.ignored",
                        VendorState::FalsePositive => "register.false_positive",
                    }),
                })
                .collect(),
        };
        let empty = match whole {
            true => view.is_empty(),
            false => view.active.is_empty() && view.expired.is_empty() && view.vendor.is_empty(),
        };
        (!empty).then_some(view)
    }

    /// "What changed" on an account page, when there is a baseline.
    fn account_trend(&self, a: &AccountResult) -> Option<AccountTrendView> {
        let baseline = self.run.baseline.as_deref()?;
        let history: Vec<_> = a
            .history
            .iter()
            .map(|p| (p.period.clone(), p.score, p.fails))
            .collect();
        let charts = trend_charts(self.c, &history, self.c.t("trend.score_by_period"));
        let Some(d) = &a.delta else {
            return Some(AccountTrendView {
                baseline_period: baseline.period.clone(),
                new_account: true,
                previous_score: "-".into(),
                change: "-".into(),
                counts: Default::default(),
                new_failures: Vec::new(),
                resolved: Vec::new(),
                persisting: Vec::new(),
                excepted: Vec::new(),
                not_reassessed: Vec::new(),
                changed_controls: Vec::new(),
                charts,
            });
        };
        let localise = |mut row: ChangeRow| {
            row.title = self.control_title(&row.control, &row.title);
            row
        };
        let plain = |list: &[aliaudit_core::trend::Change]| -> Vec<ChangeRow> {
            list.iter()
                .map(|c| localise(change_row(c, "", 0)))
                .collect()
        };
        let aged = |list: &[aliaudit_core::trend::Persisting]| -> Vec<ChangeRow> {
            let mut rows: Vec<ChangeRow> = list
                .iter()
                .map(|p| localise(change_row(&p.change, &p.since, p.periods)))
                .collect();
            rows.sort_by(|a, b| {
                b.periods
                    .cmp(&a.periods)
                    .then_with(|| a.control.cmp(&b.control))
            });
            rows
        };
        Some(AccountTrendView {
            baseline_period: baseline.period.clone(),
            new_account: false,
            previous_score: score_text(d.previous_score),
            change: signed(d.score),
            counts: d.counts,
            new_failures: plain(&d.new_failures),
            resolved: plain(&d.resolved),
            persisting: aged(&d.persisting),
            excepted: aged(&d.excepted),
            not_reassessed: plain(&d.not_reassessed),
            changed_controls: d
                .changed_controls
                .iter()
                .map(|c| {
                    (
                        self.control_title(&c.id, &c.title),
                        c.id.clone(),
                        status_label(self.c, c.from),
                        status_label(self.c, c.to),
                    )
                })
                .collect(),
            charts,
        })
    }

    /// One page per customer: (slug, page).
    pub fn customers(&self) -> Vec<(String, CustomerPage)> {
        self.customer_slugs
            .iter()
            .map(|(name, slug)| {
                let members = self.members.get(name.as_str()).cloned().unwrap_or_default();
                let trend = self.group_trend_of(&members, Some(name));
                let mut accounts: Vec<AccountRow> =
                    members.iter().map(|a| self.account_row(a, "../")).collect();
                accounts.sort_by(|a, b| {
                    a.score_sort
                        .total_cmp(&b.score_sort)
                        .then_with(|| a.id.cmp(&b.id))
                });
                // In the order of the accounts table, lowest score first.
                let ordered: Vec<&AccountResult> = accounts
                    .iter()
                    .filter_map(|row| members.iter().find(|a| a.info.id == row.id).copied())
                    .collect();
                let quality = self.quality_rows(&ordered, "../");
                (
                    slug.clone(),
                    CustomerPage {
                        meta: self.meta(Some(name)),
                        executive: self.executive(
                            &members,
                            ScopeKind::Customer,
                            name,
                            BTreeMap::new(),
                            self.group_change(trend.as_ref(), &members),
                        ),
                        name: name.clone(),
                        totals: self.totals(&members),
                        charts: self.group_charts(&members, "../"),
                        register: self.customer_register(&members),
                        summaries: accounts
                            .iter()
                            .filter_map(|row| members.iter().find(|a| a.info.id == row.id))
                            .map(|a| self.summary(a))
                            .collect(),
                        accounts,
                        trend: self.group_trend(trend.as_ref(), &members, "../"),
                        data_quality: group_notes(&quality),
                        quality_accounts: quality.len(),
                        frameworks: crosswalk::group(
                            self.c,
                            self.run.lang,
                            &self.run.frameworks,
                            &crosswalk::tallies(
                                &self.run.frameworks,
                                members
                                    .iter()
                                    .filter_map(|a| self.run.framework_figures.get(&a.info.id)),
                            ),
                        ),
                        vendor: vendor::group(
                            self.c,
                            members.len(),
                            members.iter().filter_map(|a| a.vendor_standards.as_ref()),
                        ),
                    },
                )
            })
            .collect()
    }

    /// A control's title in the report language: built-in controls from the catalogue,
    /// Security Center items from the table of known items, else as collected and marked
    /// with their language ([`aliaudit_core::sas_items::title_in`]).
    fn control_title(&self, id: &str, collected: &str) -> String {
        aliaudit_core::rules::control_text(self.c, id, "title", &self.rules.thresholds)
            .unwrap_or_else(|| {
                if id.starts_with("sas.") {
                    aliaudit_core::sas_items::title_in(self.c, collected)
                } else {
                    collected.to_string()
                }
            })
    }

    fn control_row(&self, f: &Finding) -> ControlRow {
        let cis = match (f.cis_v1, f.cis_v2) {
            (Some(a), Some(b)) if a == b => format!("CIS {a}"),
            (Some(a), Some(b)) => format!("CIS v1 {a} / v2 {b}"),
            (Some(a), None) => format!("CIS v1.0.0 {a}"),
            (None, Some(b)) => format!("CIS v2.0.0 {b}"),
            (None, None) => String::new(),
        };
        ControlRow {
            id: f.control_id.to_string(),
            anchor: format!("c-{}", f.control_id.replace('.', "-")),
            logic_anchor: CATALOG
                .iter()
                .any(|d| d.id == f.control_id.as_ref())
                .then(|| logic_anchor(&f.control_id)),
            title: self.control_title(&f.control_id, &f.title),
            severity: f.severity,
            status: f.status,
            status_label: status_label(self.c, f.status),
            cis,
            detail: f.detail.render(self.c),
            fix: aliaudit_core::rules::control_text(
                self.c,
                &f.control_id,
                "remediation",
                &self.rules.thresholds,
            )
            .unwrap_or_else(|| match f.section {
                // A Security Center check: the vendor's console holds its fix.
                Section::SecurityCenter => self
                    .c
                    .f("account.sas_fix", &[("where", &self.c.t("exec.sas_where"))]),
                _ => String::new(),
            }),
            compensating: f.compensating.as_ref().map(|m| m.render(self.c)),
            duplicates: f.duplicates.map(String::from),
            sources: f
                .sources
                .iter()
                .map(|s| SourceRow {
                    what: s.what.render(self.c),
                    place: format!("{} ({})", s.file, s.field),
                })
                .collect(),
            scored: f.scored,
            informational: f.informational.map(|b| {
                self.c
                    .f("benchmark.informational", &[("version", &b.version())])
            }),
            failing: f
                .resources
                .iter()
                .filter(|r| r.status == Status::Fail)
                .count(),
            // What does not pass first (an engineer starts there), each group in evidence order.
            resources: f
                .resources
                .iter()
                .filter(|r| r.status != Status::Pass)
                .chain(f.resources.iter().filter(|r| r.status == Status::Pass))
                .map(|r| ResourceRow {
                    id: r.id.clone(),
                    status: r.status,
                    detail: r.detail.render(self.c),
                    source: match (&r.file, &r.field) {
                        (Some(file), Some(field)) => format!("{file} ({field})"),
                        (Some(file), None) => file.to_string(),
                        (None, Some(field)) => field.clone(),
                        (None, None) => String::new(),
                    },
                    file: r.file.as_deref().unwrap_or_default().to_string(),
                    place: r.field.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// An account's executive summary, for its customer's report.
    fn summary(&self, a: &AccountResult) -> AccountSummary {
        AccountSummary {
            name: a.info.name.clone(),
            id: a.info.id.clone(),
            executive: self.executive(
                &[a],
                ScopeKind::Account,
                &a.info.name,
                // The findings are no longer at hand: what the run kept of its failures.
                a.failed
                    .iter()
                    .filter_map(|f| {
                        let noun = f.noun?;
                        let count = usize::try_from(f.failing).ok()?;
                        Some((f.id.to_string(), executive::Affected { count, noun }))
                    })
                    .collect(),
                self.account_change(a),
            ),
        }
    }

    /// An account's change since the baseline, when there is one.
    fn account_change(&self, a: &AccountResult) -> Option<Change> {
        self.run.baseline.as_deref().map(|b| match &a.delta {
            Some(d) => Change::Account(executive::Compared {
                period: d.baseline_period.clone(),
                previous: d.previous_score,
                score: d.score,
                new_failures: d.counts.new_failures,
                resolved: d.counts.resolved,
            }),
            None => Change::NewAccount {
                period: b.period.clone(),
            },
        })
    }

    /// The page of one account.
    pub fn account(&self, a: &AccountResult) -> AccountPage {
        let findings = &a.evaluation.findings;
        let sections = [
            (Section::CisIdentity, "cis"),
            (Section::BestPractice, "best-practice"),
            (Section::SecurityCenter, "security-center"),
        ]
        .into_iter()
        .filter_map(|(section, anchor)| {
            let controls: Vec<ControlRow> = findings
                .iter()
                .filter(|f| f.section == section)
                .map(|f| self.control_row(f))
                .collect();
            // Informational controls are listed but not counted.
            let counted = |status: Status| {
                controls
                    .iter()
                    .filter(|c| c.status == status && c.informational.is_none())
                    .count()
            };
            let (pass, fail) = (counted(Status::Pass), counted(Status::Fail));
            (!controls.is_empty()).then(|| SectionView {
                title: section_title(self.c, section),
                anchor,
                pass,
                fail,
                controls,
            })
        })
        .collect();
        let mut failing: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.status == Status::Fail && f.scored)
            .collect();
        failing.sort_by_key(|f| (f.severity, rules::order_key(&f.control_id)));
        let sev = |s: Severity| {
            findings
                .iter()
                .filter(|f| f.status == Status::Fail && f.severity == s)
                .filter(|f| f.informational.is_none())
                .count() as u64
        };
        let t = &self.rules.thresholds;
        let resources = failing_resources(findings);
        let change = self.account_change(a);
        AccountPage {
            meta: self.meta(a.info.customer.as_deref()),
            executive: self.executive(&[a], ScopeKind::Account, &a.info.name, resources, change),
            account: self.account_row(a, "../"),
            uid: a.info.uid.clone(),
            alias: a.info.alias.clone(),
            folder: a.info.folder.clone(),
            customer_href: a
                .info
                .customer
                .as_ref()
                .and_then(|c| self.customer_slugs.get(c))
                .map(|s| format!("../customers/{s}.html")),
            identity: IdentityText::new(self.c, &a.identity),
            charts: AccountCharts {
                gauge: charts::score_gauge(self.c, a.score.map(Score::as_f64), a.vendor_score),
                donut: charts::status_donut(self.c, &a.counts),
                severity: charts::severity_bars(
                    self.c,
                    sev(Severity::High),
                    sev(Severity::Medium),
                    sev(Severity::Low),
                ),
            },
            top_failing: failing
                .iter()
                .take(8)
                .map(|f| self.control_row(f))
                .collect(),
            sections,
            evidence: a
                .evidence
                .iter()
                .map(|(k, v)| {
                    (
                        self.c.t(&format!("evidence_kind.{k}")),
                        evidence_state(self.c, v),
                    )
                })
                .collect(),
            gaps: self
                .missing_evidence(a)
                .into_iter()
                .chain(a.gaps_in(self.c))
                .collect(),
            data_quality: a
                .evaluation
                .data_quality
                .iter()
                .map(|n| n.render(self.c))
                .collect(),
            diagnostics: self
                .diagnostics_by_account
                .get(a.info.id.as_str())
                .map(|ds| ds.iter().map(|d| diag_row(d)).collect())
                .unwrap_or_default(),
            files: self
                .files_by_account
                .get(a.info.id.as_str())
                .map(|fs| fs.iter().map(|f| file_row(self.c, f)).collect())
                .unwrap_or_default(),
            logic: CATALOG
                .iter()
                .map(|c| {
                    let part = |p: &str| {
                        aliaudit_core::rules::control_text(self.c, c.id, p, t).unwrap_or_default()
                    };
                    LogicRow {
                        id: c.id,
                        anchor: logic_anchor(c.id),
                        title: part("title"),
                        logic: part("logic"),
                        evidence: part("evidence"),
                        remediation: part("remediation"),
                    }
                })
                .collect(),
            thresholds: t
                .entries()
                .into_iter()
                .map(|(key, value)| ThresholdRow {
                    label: self.c.t(&format!("threshold.{key}")),
                    key,
                    value,
                })
                .collect(),
            trend: self.account_trend(a),
            register: self.register(Some(a)),
            frameworks: crosswalk::account(self.c, self.run.lang, &self.run.frameworks, findings),
            vendor: vendor::account(self.c, a.vendor_standards.as_ref()),
        }
    }
}

/// Safe, unique file names for account ids: lower-case ASCII letters, digits and `-`, at most
/// 80 characters (a name with no ASCII letter or digit gets `x` and a hash of it); collisions
/// get `-2`, `-3`... in id order, so names are stable.
pub fn slugs<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut sorted: Vec<&str> = ids.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut used = std::collections::BTreeSet::new();
    let mut out = BTreeMap::new();
    for id in sorted {
        let mut base = String::new();
        for c in id.chars() {
            if c.is_ascii_alphanumeric() {
                base.push(c.to_ascii_lowercase());
            } else if !base.ends_with('-') && !base.is_empty() {
                base.push('-');
            }
        }
        let mut base: String = base.trim_matches('-').chars().take(80).collect();
        base = base.trim_end_matches('-').to_string();
        if base.is_empty() {
            // Nothing ASCII to keep (a Chinese name): a short hash keeps it stable and distinct.
            use sha2::Digest;
            base = format!(
                "x{}",
                &hex::encode(sha2::Sha256::digest(id.as_bytes()))[..10]
            );
        }
        let mut slug = base.clone();
        let mut n = 2;
        while !used.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        out.insert(id.to_string(), slug);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_several_accounts_share_word_for_word_is_listed_once_with_its_accounts() {
        let missing = "Evidence missing or unreadable: RAM users; 4 controls not assessed";
        let row = |name: &str, notes: &[&str]| QualityRow {
            name: name.into(),
            href: format!("accounts/{name}.html"),
            notes: notes.iter().map(|n| n.to_string()).collect(),
        };
        let rows = [
            row("Northwind prod", &[missing, "Clock skew of 3 days"]),
            row("Eastwind main", &[missing]),
            row("Eastwind new", &[missing, "Clock skew of 5 days", missing]),
        ];
        let notes = group_notes(&rows);
        let text: Vec<(String, Vec<String>)> = notes
            .iter()
            .map(|q| {
                (
                    q.note.clone(),
                    q.accounts.iter().map(|a| a.name.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            text,
            [
                (
                    missing.to_string(),
                    vec![
                        "Northwind prod".to_string(),
                        "Eastwind main".into(),
                        "Eastwind new".into()
                    ]
                ),
                (
                    "Clock skew of 3 days".into(),
                    vec!["Northwind prod".to_string()]
                ),
                (
                    "Clock skew of 5 days".into(),
                    vec!["Eastwind new".to_string()]
                ),
            ]
        );
        assert_eq!(notes[0].accounts[1].href, "accounts/Eastwind main.html");
    }

    /// The text a template sees for `state`.
    fn name(state: impl Serialize) -> String {
        serde_json::to_value(state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn the_states_in_page_views_reach_templates_as_their_names() {
        for s in crate::theme::STATUSES {
            assert_eq!(name(s), s.as_str());
        }
        for s in [
            AccountStatus::Complete,
            AccountStatus::Partial,
            AccountStatus::Failed,
        ] {
            assert_eq!(name(s), s.as_str());
        }
        for s in [FileStatus::Used, FileStatus::Ignored, FileStatus::Rejected] {
            assert_eq!(name(s), s.as_str());
        }
        for s in [Severity::High, Severity::Medium, Severity::Low] {
            assert_eq!(name(s), s.as_str());
        }
        for s in [Level::Error, Level::Warning, Level::Info] {
            assert_eq!(name(s), s.as_str());
        }
    }

    #[test]
    fn slugs_are_safe_and_unique() {
        let s = slugs(["acme/prod", "Acme/Prod", "../../etc", "<script>", "中文"]);
        assert_eq!(s["Acme/Prod"], "acme-prod");
        assert_eq!(s["acme/prod"], "acme-prod-2");
        assert_eq!(s["../../etc"], "etc");
        assert_eq!(s["<script>"], "script");
        assert_eq!(s["中文"], slugs(["中文"])["中文"]);
        assert!(s["中文"].starts_with('x') && s["中文"].len() == 11);
    }
}
