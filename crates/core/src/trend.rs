//! Quarter over quarter (README "Quarter over quarter"): the baseline (`--baseline PREVIOUS_OUT`), each account's
//! change since it, and the score history carried forward in `summary.json`.
//!
//! Findings match by fingerprint: account id + control id + resource id (an empty resource
//! id stands for a control that failed without naming resources). The baseline is read one
//! account at a time and reduced to what the comparison needs, so a large baseline costs its
//! failures, not its size.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Datelike, Utc};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::Severity;
use crate::rules::{Finding, Status};
use crate::score::{Score, ScoreChange};

/// The `summary.json` schema id: written by [`crate::summary`], read back here from a
/// baseline.
pub const SUMMARY_SCHEMA: &str = "aliaudit.summary/v1";

/// The reporting period of an as-of instant: `2026-Q3` (`undated` without one).
pub(crate) fn period_of(as_of: Option<DateTime<Utc>>) -> String {
    as_of
        .map(|t| format!("{}-Q{}", t.year(), (t.month() - 1) / 3 + 1))
        .unwrap_or_else(|| "undated".into())
}

/// Failures by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fails {
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
}

impl Fails {
    /// Failed controls of `findings` by severity (informational controls are not counted).
    pub fn of(findings: &[Finding]) -> Fails {
        let mut fails = Fails::default();
        for f in findings
            .iter()
            .filter(|f| f.status == Status::Fail && f.informational.is_none())
        {
            fails.add(f.severity, 1);
        }
        fails
    }

    /// Adds `n` failures of `severity`.
    pub fn add(&mut self, severity: Severity, n: u64) {
        match severity {
            Severity::High => self.high += n,
            Severity::Medium => self.medium += n,
            Severity::Low => self.low += n,
        }
    }
}

impl std::ops::AddAssign for Fails {
    fn add_assign(&mut self, other: Fails) {
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
    }
}

/// One point of an account's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPoint {
    /// Period label.
    pub period: String,
    /// As-of instant, RFC 3339.
    pub as_of: Option<String>,
    /// Score.
    pub score: Option<Score>,
    /// Failed controls by severity.
    pub fails: Fails,
}

/// One point of the portfolio's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioPoint {
    /// Period label.
    pub period: String,
    /// As-of instant, RFC 3339.
    pub as_of: Option<String>,
    /// Mean score of the accounts assessed, and of those not re-assessed at their last
    /// score.
    pub score_mean: Option<Score>,
    /// Accounts assessed in that period.
    pub accounts: u64,
    /// Accounts of earlier periods not re-assessed in that one.
    pub accounts_not_reassessed: u64,
    /// Failed controls by severity (accounts not re-assessed at their last state).
    pub fails: Fails,
}

/// Appends `point` to `history`, replacing a point of the same period (re-running a quarter
/// does not add a point).
pub fn extend<T: Clone>(history: &[T], point: T, period: impl Fn(&T) -> &str) -> Vec<T> {
    let mut out: Vec<T> = history
        .iter()
        .filter(|p| period(p) != period(&point))
        .cloned()
        .collect();
    out.push(point);
    out
}

/// How long a failure has lasted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Persist {
    since: String,
    periods: u32,
}

/// What the baseline knew of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Display name.
    pub name: String,
    /// Customer.
    pub customer: Option<String>,
    /// Score.
    pub score: Option<Score>,
    /// Status (`complete`, `partial`, `failed`).
    pub status: String,
    /// Whether the baseline run assessed it (else it was already missing there).
    pub assessed: bool,
    /// The period it was last assessed in.
    pub last_period: String,
    /// Its as-of then.
    pub last_as_of: Option<String>,
    /// Its history up to the baseline.
    pub history: Vec<AccountPoint>,
    controls: BTreeMap<String, (Status, String, Severity)>,
    failing: BTreeMap<(String, String), Persist>,
}

/// The previous run, reduced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// Where it was read from.
    pub path: String,
    /// Its as-of instant, RFC 3339.
    pub as_of: Option<String>,
    /// Its period label.
    pub period: String,
    /// Accounts it knew, assessed or carried, by id.
    pub accounts: BTreeMap<String, Prior>,
    /// The portfolio's history up to it.
    pub history: Vec<PortfolioPoint>,
}

/// Errors reading a baseline.
#[derive(Debug, thiserror::Error)]
#[error("baseline {path}: {message}")]
pub struct BaselineError {
    path: String,
    message: String,
}

// The parts of a summary.json the comparison reads; everything else is skipped.
#[derive(Deserialize)]
struct DocIn {
    schema: String,
    as_of: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    portfolio: PortfolioIn,
    accounts: AccountsIn,
    #[serde(default)]
    missing_accounts: Vec<MissingIn>,
}

#[derive(Deserialize, Default)]
struct PortfolioIn {
    #[serde(default)]
    history: Vec<PortfolioPoint>,
}

#[derive(Deserialize)]
struct AccountIn {
    id: String,
    name: String,
    customer: Option<String>,
    status: String,
    score: Option<Score>,
    controls: Vec<ControlIn>,
    #[serde(default)]
    history: Vec<AccountPoint>,
    #[serde(default)]
    delta: Option<DeltaIn>,
}

#[derive(Deserialize)]
struct ControlIn {
    id: String,
    title: String,
    severity: Severity,
    status: Status,
    /// Set for a control of the benchmark version that run did not score.
    #[serde(default)]
    informational: Option<crate::rules::Benchmark>,
    #[serde(default)]
    resources: Vec<ResourceIn>,
}

#[derive(Deserialize)]
struct ResourceIn {
    id: String,
    status: Status,
}

#[derive(Deserialize)]
struct DeltaIn {
    #[serde(default)]
    persisting: Vec<PersistIn>,
    #[serde(default)]
    excepted: Vec<PersistIn>,
}

#[derive(Deserialize)]
struct PersistIn {
    control: String,
    resource: String,
    since: String,
    periods: u32,
}

#[derive(Deserialize)]
struct MissingIn {
    id: String,
    name: String,
    customer: Option<String>,
    status: String,
    score: Option<Score>,
    last_period: String,
    last_as_of: Option<String>,
    #[serde(default)]
    history: Vec<AccountPoint>,
}

#[derive(Deserialize)]
struct SchemaOnly {
    schema: Option<serde_json::Value>,
}

/// The accounts list, reduced one account at a time.
struct AccountsIn(Vec<(String, AccountIn)>);

impl<'de> Deserialize<'de> for AccountsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq;
        impl<'de> Visitor<'de> for Seq {
            type Value = AccountsIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of accounts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AccountsIn, A::Error> {
                let mut out = Vec::new();
                while let Some(mut a) = seq.next_element_seed(Reduce)? {
                    // Only failures (excepted or not) and control states are kept.
                    for c in &mut a.controls {
                        c.resources
                            .retain(|r| matches!(r.status, Status::Fail | Status::Excepted));
                    }
                    out.push((a.id.clone(), a));
                }
                Ok(AccountsIn(out))
            }
        }
        d.deserialize_seq(Seq)
    }
}

struct Reduce;

impl<'de> DeserializeSeed<'de> for Reduce {
    type Value = AccountIn;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AccountIn, D::Error> {
        AccountIn::deserialize(d)
    }
}

impl Baseline {
    /// Reads `summary.json` from a previous output folder (or the file itself).
    pub fn load(path: &std::path::Path) -> Result<Baseline, BaselineError> {
        let file = if path.is_dir() {
            path.join("summary.json")
        } else {
            path.to_path_buf()
        };
        let shown = file.display().to_string();
        // Streamed from the file (a large portfolio's summary is gigabytes); the file is
        // opened again only to explain an error.
        let open =
            || std::fs::File::open(&file).map(|f| std::io::BufReader::with_capacity(1 << 16, f));
        let mut baseline = Baseline::from_reader(open, &shown)?;
        baseline.path = path.display().to_string();
        Ok(baseline)
    }

    /// Reads a previous `summary.json` from its bytes (`shown` names it in errors).
    pub fn from_bytes(bytes: &[u8], shown: &str) -> Result<Baseline, BaselineError> {
        Baseline::from_reader(|| Ok(bytes), shown)
    }

    /// Reads a previous `summary.json` from a reader that `open` makes (called again only to
    /// explain an error).
    fn from_reader<R: Read>(
        open: impl Fn() -> std::io::Result<R>,
        shown: &str,
    ) -> Result<Baseline, BaselineError> {
        let err = |message: String| BaselineError {
            path: shown.to_string(),
            message,
        };
        let reader = open().map_err(|e| err(format!("cannot read it: {e}")))?;
        let doc: DocIn = match serde_json::from_reader(reader) {
            Ok(doc) => doc,
            Err(e) if e.is_io() => return Err(err(format!("cannot read it: {e}"))),
            Err(e) => {
                // Say "not ours" before "damaged" when valid JSON shows it is not ours.
                let valid = open().ok().is_some_and(|r| {
                    serde_json::from_reader::<_, serde::de::IgnoredAny>(r).is_ok()
                });
                let object = open().ok().and_then(first_byte) == Some(b'{');
                let schema = if object {
                    open()
                        .ok()
                        .and_then(|r| serde_json::from_reader::<_, SchemaOnly>(r).ok())
                        .and_then(|s| s.schema)
                } else {
                    None
                };
                let ours = schema.as_ref().and_then(|s| s.as_str()) == Some(SUMMARY_SCHEMA);
                return Err(err(if valid && !ours {
                    foreign(schema.as_ref())
                } else {
                    format!("not a readable summary.json: {e}")
                }));
            }
        };
        if doc.schema != SUMMARY_SCHEMA {
            return Err(err(foreign(Some(&serde_json::Value::String(doc.schema)))));
        }
        // The figures are summed into trend charts and means: a damaged or hand-made file
        // with 1e308 or u64::MAX in them would overflow there.
        check_figures(&doc).map_err(|e| {
            err(format!(
                "not a readable summary.json: {}",
                crate::diag::printable(&e)
            ))
        })?;
        let period = doc.period.clone().unwrap_or_else(|| {
            period_of(
                doc.as_of
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
            )
        });
        let mut accounts = BTreeMap::new();
        for m in doc.missing_accounts {
            accounts.insert(
                m.id,
                Prior {
                    name: m.name,
                    customer: m.customer,
                    score: m.score,
                    status: m.status,
                    assessed: false,
                    last_period: m.last_period,
                    last_as_of: m.last_as_of,
                    history: m.history,
                    controls: BTreeMap::new(),
                    failing: BTreeMap::new(),
                },
            );
        }
        for (id, a) in doc.accounts.0 {
            let persisting: BTreeMap<(String, String), Persist> = a
                .delta
                .map(|d| {
                    d.persisting
                        .into_iter()
                        .chain(d.excepted)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    (
                        (p.control, p.resource),
                        Persist {
                            since: p.since,
                            periods: p.periods,
                        },
                    )
                })
                .collect();
            let mut failing = BTreeMap::new();
            let mut controls = BTreeMap::new();
            // Informational controls counted nowhere in that run, and count nowhere here.
            for c in a.controls.into_iter().filter(|c| c.informational.is_none()) {
                let mut keys: Vec<String> = c.resources.into_iter().map(|r| r.id).collect();
                if matches!(c.status, Status::Fail | Status::Excepted) && keys.is_empty() {
                    keys.push(String::new());
                }
                for resource in keys {
                    let key = (c.id.clone(), resource);
                    let persist = persisting.get(&key).cloned().unwrap_or(Persist {
                        since: period.clone(),
                        periods: 1,
                    });
                    failing.insert(key, persist);
                }
                controls.insert(c.id, (c.status, c.title, c.severity));
            }
            let history = if a.history.is_empty() {
                // A baseline written before histories existed: its own point.
                vec![AccountPoint {
                    period: period.clone(),
                    as_of: doc.as_of.clone(),
                    score: a.score,
                    fails: fails_of_controls(&controls),
                }]
            } else {
                a.history
            };
            accounts.insert(
                id,
                Prior {
                    name: a.name,
                    customer: a.customer,
                    score: a.score,
                    status: a.status,
                    assessed: true,
                    last_period: period.clone(),
                    last_as_of: doc.as_of.clone(),
                    history,
                    controls,
                    failing,
                },
            );
        }
        Ok(Baseline {
            path: shown.to_string(),
            as_of: doc.as_of,
            period,
            accounts,
            history: doc.portfolio.history,
        })
    }
}

/// Counts that fit 32 bits, everywhere a baseline carries them (its scores are [`Score`]s,
/// refused when read if they are not from 0 to 100). Where a figure is wrong is only put into
/// words when one is.
fn check_figures(doc: &DocIn) -> Result<(), String> {
    const MAX_COUNT: u64 = u32::MAX as u64;
    let bad_fails = |f: &Fails| [f.high, f.medium, f.low].iter().any(|&n| n > MAX_COUNT);
    let check_account = |what: &dyn Fn() -> String, history: &[AccountPoint]| {
        history.iter().try_for_each(|p| {
            if bad_fails(&p.fails) {
                Err(format!(
                    "{}, history {}: a count of failures out of range",
                    what(),
                    p.period
                ))
            } else {
                Ok(())
            }
        })
    };
    for p in &doc.portfolio.history {
        if bad_fails(&p.fails) || p.accounts > MAX_COUNT || p.accounts_not_reassessed > MAX_COUNT {
            return Err(format!(
                "portfolio history {}: a count out of range",
                p.period
            ));
        }
    }
    for (id, a) in &doc.accounts.0 {
        check_account(&|| format!("account \"{id}\""), &a.history)?;
    }
    for m in &doc.missing_accounts {
        check_account(&|| format!("missing account \"{}\"", m.id), &m.history)?;
    }
    Ok(())
}

/// The first byte of `reader` that is not white space.
fn first_byte(mut reader: impl Read) -> Option<u8> {
    let mut buf = [0u8; 512];
    loop {
        let n = reader.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(b) = buf[..n].iter().find(|b| !b.is_ascii_whitespace()) {
            return Some(*b);
        }
    }
}

fn foreign(schema: Option<&serde_json::Value>) -> String {
    match schema {
        Some(s) => format!(
            "schema {s} is not {SUMMARY_SCHEMA}: give the output folder of an earlier aliaudit report"
        ),
        None => format!("no \"schema\" key: not an aliaudit summary.json ({SUMMARY_SCHEMA})"),
    }
}

fn fails_of_controls(controls: &BTreeMap<String, (Status, String, Severity)>) -> Fails {
    let mut fails = Fails::default();
    for (status, _, severity) in controls.values() {
        if *status == Status::Fail {
            fails.add(*severity, 1);
        }
    }
    fails
}

/// A finding that changed, by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    /// Control id.
    pub control: String,
    /// Control title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Resource id (empty: the control as a whole).
    pub resource: String,
}

/// A failure found in the baseline and again now.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Persisting {
    /// What fails.
    #[serde(flatten)]
    pub change: Change,
    /// The period it was first seen failing.
    pub since: String,
    /// Consecutive periods it has failed, this one included.
    pub periods: u32,
}

/// A control whose result changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlChange {
    /// Control id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Before.
    pub from: Status,
    /// Now.
    pub to: Status,
}

/// How many of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaCounts {
    /// Failures not in the baseline.
    pub new_failures: u64,
    /// Baseline failures that now pass or are gone.
    pub resolved: u64,
    /// Baseline failures that still fail.
    pub persisting: u64,
    /// Failures covered by an exception now.
    pub excepted: u64,
    /// Baseline failures whose control could not be evaluated now.
    pub not_reassessed: u64,
}

/// One account's change since the baseline (`accounts[].delta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// The baseline's period.
    pub baseline_period: String,
    /// The baseline's as-of.
    pub baseline_as_of: Option<String>,
    /// The score then.
    pub previous_score: Option<Score>,
    /// Score change (now minus then), when both exist.
    pub score: Option<ScoreChange>,
    /// How many of each.
    pub counts: DeltaCounts,
    /// Failures not in the baseline.
    pub new_failures: Vec<Change>,
    /// Baseline failures that now pass or are gone.
    pub resolved: Vec<Change>,
    /// Baseline failures that still fail, with how long.
    pub persisting: Vec<Persisting>,
    /// Failures covered by an exception now, with how long they have failed.
    pub excepted: Vec<Persisting>,
    /// Baseline failures whose control could not be evaluated now.
    pub not_reassessed: Vec<Change>,
    /// Controls whose result changed.
    pub changed_controls: Vec<ControlChange>,
}

impl Delta {
    /// Drops the lists, keeping the counts (what roll-ups need).
    pub fn shrink(&mut self) {
        self.new_failures = Vec::new();
        self.resolved = Vec::new();
        self.persisting = Vec::new();
        self.excepted = Vec::new();
        self.not_reassessed = Vec::new();
        self.changed_controls = Vec::new();
    }
}

/// The fingerprints `findings` fail on, with their control's title and severity.
fn failing_now(findings: &[Finding]) -> BTreeMap<(String, String), (&Finding, Status)> {
    let mut out = BTreeMap::new();
    for f in findings.iter().filter(|f| f.informational.is_none()) {
        let mut any = false;
        for r in &f.resources {
            if matches!(r.status, Status::Fail | Status::Excepted) {
                out.insert((f.control_id.to_string(), r.id.clone()), (f, r.status));
                any = true;
            }
        }
        if !any && matches!(f.status, Status::Fail | Status::Excepted) {
            out.insert((f.control_id.to_string(), String::new()), (f, f.status));
        }
    }
    out
}

/// One account's change since `prior`, taken in `period`.
pub fn delta(
    prior: &Prior,
    baseline: &Baseline,
    findings: &[Finding],
    score: Option<Score>,
    period: &str,
) -> Delta {
    let now = failing_now(findings);
    let change = |(control, resource): &(String, String), title: &str, severity| Change {
        control: control.clone(),
        title: title.to_string(),
        severity,
        resource: resource.clone(),
    };
    let mut d = Delta {
        baseline_period: baseline.period.clone(),
        baseline_as_of: baseline.as_of.clone(),
        previous_score: prior.score,
        score: score.zip(prior.score).map(|(now, then)| now.since(then)),
        counts: DeltaCounts::default(),
        new_failures: Vec::new(),
        resolved: Vec::new(),
        persisting: Vec::new(),
        excepted: Vec::new(),
        not_reassessed: Vec::new(),
        changed_controls: Vec::new(),
    };
    // A failure found again counts one more period, unless this run is the baseline's period
    // again; excepted periods count too (the risk was there, only accepted).
    let step = u32::from(baseline.period != period);
    for (key, (f, status)) in &now {
        let aged = |p: Option<&Persist>| Persisting {
            change: change(key, &f.title, f.severity),
            since: p.map_or_else(|| period.to_string(), |p| p.since.clone()),
            periods: p.map_or(1, |p| p.periods + step),
        };
        match (status, prior.failing.get(key)) {
            (Status::Excepted, before) => d.excepted.push(aged(before)),
            (_, Some(before)) => d.persisting.push(aged(Some(before))),
            (_, None) => d.new_failures.push(change(key, &f.title, f.severity)),
        }
    }
    let by_id: BTreeMap<&str, &Finding> = findings.iter().map(|f| (&*f.control_id, f)).collect();
    // A control that is informational now (the benchmark version not scored) is neither
    // resolved nor still failing, whatever the baseline scored.
    let informational = |id: &str| by_id.get(id).is_some_and(|f| f.informational.is_some());
    for key in prior.failing.keys().filter(|k| !informational(&k.0)) {
        let (title, severity) = prior
            .controls
            .get(&key.0)
            .map(|(_, t, s)| (t.as_str(), *s))
            .unwrap_or((key.0.as_str(), Severity::Medium));
        match now.get(key) {
            Some(_) => {}
            None => match by_id.get(key.0.as_str()).map(|f| f.status) {
                Some(Status::NotEvaluable) | None => {
                    d.not_reassessed.push(change(key, title, severity))
                }
                Some(_) => d.resolved.push(change(key, title, severity)),
            },
        }
    }
    for f in findings.iter().filter(|f| f.informational.is_none()) {
        if let Some((before, _, _)) = prior.controls.get(&*f.control_id)
            && *before != f.status
        {
            d.changed_controls.push(ControlChange {
                id: f.control_id.to_string(),
                title: f.title.to_string(),
                from: *before,
                to: f.status,
            });
        }
    }
    d.counts = DeltaCounts {
        new_failures: d.new_failures.len() as u64,
        resolved: d.resolved.len() as u64,
        persisting: d.persisting.len() as u64,
        excepted: d.excepted.len() as u64,
        not_reassessed: d.not_reassessed.len() as u64,
    };
    d
}

impl Baseline {
    /// The portfolio's history up to the baseline: as written there, else one point made
    /// from the accounts it assessed.
    pub fn portfolio_history(&self) -> Vec<PortfolioPoint> {
        if !self.history.is_empty() {
            return self.history.clone();
        }
        let assessed: Vec<&Prior> = self.accounts.values().filter(|p| p.assessed).collect();
        let scores: Vec<Score> = assessed.iter().filter_map(|p| p.score).collect();
        let mut fails = Fails::default();
        for p in &assessed {
            if let Some(last) = p.history.last() {
                fails += last.fails;
            }
        }
        vec![PortfolioPoint {
            period: self.period.clone(),
            as_of: self.as_of.clone(),
            score_mean: Score::mean(scores),
            accounts: assessed.len() as u64,
            accounts_not_reassessed: (self.accounts.len() - assessed.len()) as u64,
            fails,
        }]
    }
}

/// An account of the baseline that this run did not assess (`missing_accounts[]`).
#[derive(Debug, Clone, Serialize)]
pub struct Missing<'a> {
    /// Account id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Customer.
    pub customer: Option<&'a str>,
    /// Status when last assessed.
    pub status: &'a str,
    /// Score when last assessed.
    pub score: Option<Score>,
    /// The period it was last assessed in.
    pub last_period: &'a str,
    /// Its as-of then.
    pub last_as_of: Option<&'a str>,
    /// Its history, kept for when it comes back.
    pub history: &'a [AccountPoint],
}

/// The portfolio (or one customer) against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDelta<'a> {
    /// The baseline's period.
    pub baseline_period: &'a str,
    /// Mean score change, when both means exist.
    pub score_mean: Option<ScoreChange>,
    /// Accounts whose score rose.
    pub accounts_improved: u64,
    /// Accounts whose score fell.
    pub accounts_worsened: u64,
    /// Accounts scored the same (both runs scored them).
    pub accounts_unchanged: u64,
    /// Accounts not in the baseline.
    pub accounts_new: Vec<&'a str>,
    /// Baseline accounts not assessed now (shown at their last state).
    pub accounts_missing: Vec<&'a str>,
    /// Summed over accounts.
    pub counts: DeltaCounts,
}

/// The trend of a group of accounts: its change since the baseline and its history.
#[derive(Debug, Clone, Serialize)]
pub struct GroupTrend<'a> {
    /// Change since the baseline, when there is one.
    pub delta: Option<GroupDelta<'a>>,
    /// History, this period last.
    pub history: Vec<PortfolioPoint>,
    /// Baseline accounts not assessed now.
    pub missing: Vec<Missing<'a>>,
}

/// What [`group`] reads of an evaluated account (implemented by
/// [`crate::pipeline::AccountResult`], which sits above this module).
pub trait Member {
    /// Account id.
    fn id(&self) -> &str;
    /// Failed controls by severity.
    fn fails(&self) -> Fails;
    /// Change since the baseline.
    fn delta(&self) -> Option<&Delta>;
    /// Score.
    fn score(&self) -> Option<Score>;
    /// Score history, this period last.
    fn history(&self) -> &[AccountPoint];
}

/// The trend of `accounts` (the portfolio, or one customer's accounts when `customer` is
/// given) against the baseline. The history before this run is the portfolio's from the
/// baseline, or a customer's built from its accounts' histories; without a baseline it is
/// this run's point alone.
pub fn group<'a, A: Member>(
    baseline: Option<&'a Baseline>,
    accounts: &[&'a A],
    customer: Option<&str>,
    period: &str,
    as_of: Option<String>,
) -> GroupTrend<'a> {
    static NONE: std::sync::LazyLock<Baseline> = std::sync::LazyLock::new(Baseline::default);
    let has_baseline = baseline.is_some();
    let baseline = baseline.unwrap_or(&NONE);
    let in_group = |p: &Prior| customer.is_none() || p.customer.as_deref() == customer;
    let ids: std::collections::BTreeSet<&str> = accounts.iter().map(|a| a.id()).collect();
    let missing: Vec<Missing<'a>> = baseline
        .accounts
        .iter()
        .filter(|(id, p)| in_group(p) && !ids.contains(id.as_str()))
        .map(|(id, p)| Missing {
            id,
            name: &p.name,
            customer: p.customer.as_deref(),
            status: &p.status,
            score: p.score,
            last_period: &p.last_period,
            last_as_of: p.last_as_of.as_deref(),
            history: &p.history,
        })
        .collect();
    let mut delta = GroupDelta {
        baseline_period: &baseline.period,
        score_mean: None,
        accounts_improved: 0,
        accounts_worsened: 0,
        accounts_unchanged: 0,
        accounts_new: Vec::new(),
        accounts_missing: missing.iter().map(|m| m.id).collect(),
        counts: DeltaCounts::default(),
    };
    let mut fails = Fails::default();
    for a in accounts {
        fails += a.fails();
        let Some(d) = a.delta() else {
            if !baseline.accounts.get(a.id()).is_some_and(|p| p.assessed) {
                delta.accounts_new.push(a.id());
            }
            continue;
        };
        match d.score.map(|c| c.cmp(&ScoreChange::ZERO)) {
            Some(std::cmp::Ordering::Greater) => delta.accounts_improved += 1,
            Some(std::cmp::Ordering::Less) => delta.accounts_worsened += 1,
            Some(std::cmp::Ordering::Equal) => delta.accounts_unchanged += 1,
            None => {}
        }
        let c = &mut delta.counts;
        c.new_failures += d.counts.new_failures;
        c.resolved += d.counts.resolved;
        c.persisting += d.counts.persisting;
        c.excepted += d.counts.excepted;
        c.not_reassessed += d.counts.not_reassessed;
    }
    // Accounts not re-assessed keep their last state in the trend.
    let mut scores: Vec<Score> = accounts.iter().filter_map(|a| a.score()).collect();
    for m in &missing {
        scores.extend(m.score);
        if let Some(last) = m.history.last() {
            fails += last.fails;
        }
    }
    let point = PortfolioPoint {
        period: period.to_string(),
        as_of,
        score_mean: Score::mean(scores),
        accounts: accounts.len() as u64,
        accounts_not_reassessed: missing.len() as u64,
        fails,
    };
    let before = match customer {
        None if !has_baseline => Vec::new(),
        None => baseline.portfolio_history(),
        Some(_) => customer_history(
            accounts
                .iter()
                .map(|a| a.history())
                .chain(missing.iter().map(|m| m.history)),
            period,
        ),
    };
    delta.score_mean = change_since(point.score_mean, &before, period);
    GroupTrend {
        delta: has_baseline.then_some(delta),
        history: extend(&before, point, |p| &p.period),
        missing,
    }
}

/// The change of a mean score since the last point of `before` from another period.
fn change_since(
    now: Option<Score>,
    before: &[PortfolioPoint],
    period: &str,
) -> Option<ScoreChange> {
    let then = before
        .iter()
        .rev()
        .find(|p| p.period != period)
        .and_then(|p| p.score_mean)?;
    Some(now?.since(then))
}

/// A customer's mean score change since its previous period, as its pages show it, from what
/// `summary.json` holds: the scores of its accounts now and of its accounts not re-assessed
/// (at their last score), and the histories of both. Scores are read as `summary.json` writes
/// them (a number that is not one from 0 to 100 is left out).
pub fn customer_change<'h>(
    scores: impl Iterator<Item = Option<f64>>,
    histories: impl Iterator<Item = &'h [AccountPoint]>,
    period: &str,
) -> Option<f64> {
    let scores = scores.filter_map(|s| s.and_then(Score::from_f64));
    change_since(
        Score::mean(scores),
        &customer_history(histories, period),
        period,
    )
    .map(ScoreChange::as_f64)
}

/// A customer's history before `period`, from its accounts' histories: per period, the mean
/// score and summed failures of its accounts, an account without a point in a period counting
/// at its latest earlier point (not re-assessed), as in the portfolio's history.
fn customer_history<'h>(
    histories: impl Iterator<Item = &'h [AccountPoint]>,
    period: &str,
) -> Vec<PortfolioPoint> {
    let histories: Vec<&[AccountPoint]> = histories.collect();
    // Periods in time order: each placed by its earliest as-of.
    let mut placed: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for p in histories.iter().flat_map(|h| h.iter()) {
        if p.period == period {
            continue;
        }
        let at = placed.entry(&p.period).or_insert(p.as_of.as_deref());
        if p.as_of.is_some() && (at.is_none() || p.as_of.as_deref() < *at) {
            *at = p.as_of.as_deref();
        }
    }
    let mut order: Vec<(Option<&str>, &str)> = placed.iter().map(|(p, a)| (*a, *p)).collect();
    order.sort();
    order
        .into_iter()
        .map(|(as_of, label)| {
            let (mut scores, mut assessed, mut carried, mut fails) =
                (Vec::new(), 0u64, 0u64, Fails::default());
            for h in &histories {
                let rank = |p: &AccountPoint| placed.get(p.period.as_str()).copied().flatten();
                let point = match h.iter().find(|p| p.period == label) {
                    Some(p) => {
                        assessed += 1;
                        p
                    }
                    None => match h.iter().rfind(|p| p.period != period && rank(p) < as_of) {
                        Some(p) => {
                            carried += 1;
                            p
                        }
                        None => continue,
                    },
                };
                scores.extend(point.score);
                fails += point.fails;
            }
            PortfolioPoint {
                period: label.to_string(),
                as_of: as_of.map(str::to_string),
                score_mean: Score::mean(scores),
                accounts: assessed,
                accounts_not_reassessed: carried,
                fails,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn point(period: &str, as_of: &str, score: f64, high: u64) -> AccountPoint {
        AccountPoint {
            period: period.into(),
            as_of: Some(as_of.into()),
            score: Score::from_f64(score),
            fails: Fails {
                high,
                medium: 0,
                low: 0,
            },
        }
    }

    #[test]
    fn a_customer_history_carries_accounts_not_reassessed_at_their_last_point() {
        let a = [
            point("Q2", "2026-06-30", 60.0, 1),
            point("Q3", "2026-09-30", 80.0, 0),
        ];
        let b = [point("Q2", "2026-06-30", 40.0, 3)];
        let c = [point("Q3", "2026-09-30", 90.0, 0)];
        let history = customer_history([&a[..], &b[..], &c[..]].into_iter(), "Q4");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].period, "Q2");
        assert_eq!(
            (history[0].accounts, history[0].accounts_not_reassessed),
            (2, 0)
        );
        assert_eq!(history[0].score_mean, Score::from_f64(50.0));
        assert_eq!(history[1].period, "Q3");
        assert_eq!(
            (history[1].accounts, history[1].accounts_not_reassessed),
            (2, 1)
        );
        // (80 + 90 + 40) / 3 = 70.0; b's three high failures carried.
        assert_eq!(history[1].score_mean, Score::from_f64(70.0));
        assert_eq!(history[1].fails.high, 3);
    }

    #[test]
    fn extending_a_history_replaces_the_same_period() {
        let h = vec![point("Q2", "a", 1.0, 0), point("Q3", "b", 2.0, 0)];
        let out = extend(&h, point("Q3", "c", 3.0, 0), |p| &p.period);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].score, Score::from_f64(3.0));
        assert_eq!(extend(&h, point("Q4", "d", 4.0, 0), |p| &p.period).len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_as_a_baseline_give_a_result_not_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Baseline::from_bytes(&bytes, "b.json");
        }

        #[test]
        fn damaged_summaries_give_a_result_not_a_panic(cut in 0usize..2000, flip in 0usize..2000) {
            let mut bytes = SUMMARY.as_bytes().to_vec();
            if flip < bytes.len() {
                bytes[flip] ^= 0x20;
            }
            bytes.truncate(cut.min(bytes.len()));
            let _ = Baseline::from_bytes(&bytes, "b.json");
        }
    }

    const SUMMARY: &str = r#"{"schema": "aliaudit.summary/v1", "as_of": "2026-09-30T23:59:59Z", "period": "2026-Q3",
      "portfolio": {"history": [{"period": "2026-Q3", "as_of": "2026-09-30T23:59:59Z", "score_mean": 50.0, "accounts": 1, "accounts_not_reassessed": 0, "fails": {"high": 1, "medium": 0, "low": 0}}]},
      "accounts": [{"id": "a1", "name": "A", "customer": null, "status": "partial", "score": 50.0,
        "controls": [{"id": "ram.console_mfa", "title": "MFA", "severity": "high", "status": "fail",
          "resources": [{"id": "bob", "status": "fail"}, {"id": "amy", "status": "pass"}]}],
        "delta": {"persisting": [{"control": "ram.console_mfa", "resource": "bob", "since": "2026-Q1", "periods": 3}]}}],
      "missing_accounts": []}"#;

    #[test]
    fn a_baseline_keeps_failures_with_their_age_and_no_passes() {
        let b = Baseline::from_bytes(SUMMARY.as_bytes(), "b.json").unwrap();
        assert_eq!(b.period, "2026-Q3");
        let a = &b.accounts["a1"];
        assert!(a.assessed);
        assert_eq!(a.score, Score::from_tenths(500));
        assert_eq!(a.failing.len(), 1);
        let bob = &a.failing[&("ram.console_mfa".to_string(), "bob".to_string())];
        assert_eq!((bob.since.as_str(), bob.periods), ("2026-Q1", 3));
        assert_eq!(b.history.len(), 1);
    }

    #[test]
    fn a_baseline_with_figures_no_report_has_is_refused() {
        for (from, to) in [
            ("\"score\": 50.0,", "\"score\": 1e308,"),
            ("\"score_mean\": 50.0", "\"score_mean\": -3"),
            ("\"high\": 1", "\"high\": 18446744073709551615"),
            ("\"accounts\": 1,", "\"accounts\": 99999999999,"),
        ] {
            assert!(SUMMARY.contains(from), "{from}");
            let damaged = SUMMARY.replacen(from, to, 1);
            let e = Baseline::from_bytes(damaged.as_bytes(), "b.json")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("not a readable summary.json"), "{to}: {e}");
            assert!(
                e.contains("range") || e.contains("between 0 and 100"),
                "{to}: {e}"
            );
        }
    }

    #[test]
    fn an_informational_control_is_neither_resolved_nor_failing() {
        // A baseline that scored CIS v1.0.0 1.13 (it failed then), and a run that scores
        // v2.0.0, where that control is informational and still fails.
        let summary = |informational: &str| {
            format!(
                r#"{{"schema": "aliaudit.summary/v1", "as_of": "2026-06-30T23:59:59Z", "period": "2026-Q2",
                  "portfolio": {{"history": []}},
                  "accounts": [{{"id": "a1", "name": "A", "customer": null, "status": "complete", "score": 50.0,
                    "controls": [{{"id": "pwd.max_age_v1", "title": "v1", "severity": "low", "status": "fail"{informational}}},
                                 {{"id": "pwd.max_age_v2", "title": "v2", "severity": "low", "status": "pass"}}]}}],
                  "missing_accounts": []}}"#
            )
        };
        let finding =
            |id: &'static str, status: Status, informational: Option<crate::rules::Benchmark>| {
                Finding {
                    control_id: id.into(),
                    title: id.into(),
                    severity: Severity::Low,
                    section: crate::rules::Section::CisIdentity,
                    cis_v1: None,
                    cis_v2: None,
                    status,
                    detail: crate::rules::Message::default(),
                    compensating: None,
                    remediation: Default::default(),
                    noun: crate::rules::Noun::Items,
                    affected: None,
                    scored: informational.is_none(),
                    informational,
                    duplicates: None,
                    resources: Vec::new(),
                    sources: Vec::new(),
                }
            };
        let now = [
            finding(
                "pwd.max_age_v1",
                Status::Fail,
                Some(crate::rules::Benchmark::CisV1),
            ),
            finding("pwd.max_age_v2", Status::Pass, None),
        ];
        assert_eq!(
            Fails::of(&now),
            Fails::default(),
            "an informational failure is not counted"
        );
        for informational in ["", r#", "informational": "cis-v1""#] {
            let b = Baseline::from_bytes(summary(informational).as_bytes(), "b.json").unwrap();
            let prior = &b.accounts["a1"];
            // A baseline's own informational controls are not failures of it.
            assert_eq!(prior.failing.len(), usize::from(informational.is_empty()));
            let d = delta(prior, &b, &now, Score::from_tenths(1000), "2026-Q3");
            assert_eq!(d.counts, DeltaCounts::default(), "{informational}");
            assert!(d.changed_controls.is_empty());
        }
    }

    #[test]
    fn periods_are_quarters_of_the_as_of_date() {
        let t = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(period_of(t("2026-03-31T23:59:59Z")), "2026-Q1");
        assert_eq!(period_of(t("2026-04-01T00:00:00Z")), "2026-Q2");
        assert_eq!(period_of(t("2026-12-31T23:59:59Z")), "2026-Q4");
        assert_eq!(period_of(None), "undated");
    }
}
