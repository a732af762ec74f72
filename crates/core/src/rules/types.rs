//! The rules' vocabulary, below both the control functions ([`super::controls`]) and the
//! evaluation that runs them ([`super`]): result states, thresholds, findings and what a
//! control function sees and answers.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::i18n::Message;
use crate::model::{Account, Severity};

/// The five result states of a control (README "Controls").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The control is met.
    Pass,
    /// Not compliant.
    Fail,
    /// Failed, but covered by an accepted risk (ours or the vendor's).
    Excepted,
    /// Nothing to check (e.g. no console users).
    NotApplicable,
    /// The evidence needed is missing or rejected.
    NotEvaluable,
}

impl Status {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Excepted => "excepted",
            Status::NotApplicable => "not_applicable",
            Status::NotEvaluable => "not_evaluable",
        }
    }
}

/// The CIS benchmark version a report scores (`--benchmark`, or `benchmark` in a rules file).
/// The versions contradict each other on password expiry (CIS 1.13), so a report scores one
/// of them; a control that only the other version has is evaluated and shown as
/// informational, never scored.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Benchmark {
    /// CIS Alibaba Cloud Foundations Benchmark v2.0.0 (the default).
    #[default]
    #[serde(rename = "cis-v2")]
    CisV2,
    /// CIS Alibaba Cloud Foundations Benchmark v1.0.0.
    #[serde(rename = "cis-v1")]
    CisV1,
}

impl Benchmark {
    /// Every version, default first.
    pub const ALL: [Benchmark; 2] = [Benchmark::CisV2, Benchmark::CisV1];
    /// The benchmark's name, without the version.
    pub const NAME: &'static str = "CIS Alibaba Cloud Foundations Benchmark";

    /// The value as `--benchmark` and rules files spell it (`cis-v2`, `cis-v1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Benchmark::CisV2 => "cis-v2",
            Benchmark::CisV1 => "cis-v1",
        }
    }

    /// The version (`v2.0.0`, `v1.0.0`).
    pub fn version(self) -> &'static str {
        match self {
            Benchmark::CisV2 => "v2.0.0",
            Benchmark::CisV1 => "v1.0.0",
        }
    }

    /// The full name with the version: `CIS Alibaba Cloud Foundations Benchmark v2.0.0`.
    pub fn title(self) -> String {
        format!("{} {}", Self::NAME, self.version())
    }

    /// The other version a control belongs to when it belongs to that version only (it has
    /// a recommendation there and none in this one): such a control is informational in a
    /// report of this version. `None` for a control of this version and for one of no CIS
    /// version (account best practice), which are scored.
    pub fn informational(self, cis_v1: Option<&str>, cis_v2: Option<&str>) -> Option<Benchmark> {
        match (self, cis_v1, cis_v2) {
            (Benchmark::CisV2, Some(_), None) => Some(Benchmark::CisV1),
            (Benchmark::CisV1, None, Some(_)) => Some(Benchmark::CisV2),
            _ => None,
        }
    }
}

/// Thresholds of the built-in controls; a rules file may override any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Root use within this many days fails (CIS 1.1).
    pub root_use_days: i64,
    /// Console users idle this many days or more must be disabled (CIS 1.5).
    pub inactive_user_days: i64,
    /// Active keys must be rotated within this many days (CIS 1.6).
    pub access_key_rotation_days: i64,
    /// Active keys unused this many days or more fail.
    pub unused_access_key_days: i64,
    /// Minimum password length (CIS 1.11).
    pub password_min_length: i64,
    /// Minimum number of previous passwords blocked (CIS 1.12).
    pub password_reuse_prevention: i64,
    /// CIS v1.0.0 1.13: passwords expire within this many days.
    pub password_max_age_days_v1: i64,
    /// CIS v2.0.0 1.13: passwords expire after at least this many days, or never.
    pub password_min_age_days_v2: i64,
    /// Lockout after at most this many failed attempts (CIS 1.14).
    pub max_login_attempts: i64,
    /// Console sessions last at most this many hours.
    pub session_max_hours: i64,
    /// Idle users and keys must be auto-disabled within this many days.
    pub max_idle_days: i64,
    /// Evidence older than this many days at as-of is flagged.
    pub stale_evidence_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            root_use_days: 90,
            inactive_user_days: 90,
            access_key_rotation_days: 90,
            unused_access_key_days: 90,
            password_min_length: 14,
            password_reuse_prevention: 5,
            password_max_age_days_v1: 90,
            password_min_age_days_v2: 365,
            max_login_attempts: 5,
            session_max_hours: 6,
            max_idle_days: 90,
            stale_evidence_days: 30,
        }
    }
}

impl Thresholds {
    /// Pairs of (name, value), for printing and for filling `{name}` in logic texts.
    pub fn entries(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("root_use_days", self.root_use_days),
            ("inactive_user_days", self.inactive_user_days),
            ("access_key_rotation_days", self.access_key_rotation_days),
            ("unused_access_key_days", self.unused_access_key_days),
            ("password_min_length", self.password_min_length),
            ("password_reuse_prevention", self.password_reuse_prevention),
            ("password_max_age_days_v1", self.password_max_age_days_v1),
            ("password_min_age_days_v2", self.password_min_age_days_v2),
            ("max_login_attempts", self.max_login_attempts),
            ("session_max_hours", self.session_max_hours),
            ("max_idle_days", self.max_idle_days),
            ("stale_evidence_days", self.stale_evidence_days),
        ]
    }

    /// Replaces `{name}` placeholders with threshold values.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Most texts have no placeholder; each check below would copy them once per entry.
        if !out.contains('{') {
            return out;
        }
        for (name, value) in self.entries() {
            let placeholder = format!("{{{name}}}");
            if out.contains(&placeholder) {
                out = out.replace(&placeholder, &value.to_string());
            }
        }
        out
    }
}

/// Where a control is shown in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// CIS section 1, Identity and Access Management.
    CisIdentity,
    /// Account best practice beyond CIS.
    BestPractice,
    /// Security Center check items.
    SecurityCenter,
}

impl Section {
    /// The section's heading in the English built-in catalogue.
    pub fn title(self) -> &'static str {
        match self {
            Section::CisIdentity => "CIS 1 - Identity and Access Management",
            Section::BestPractice => "Account best practice",
            Section::SecurityCenter => "Security Center checks",
        }
    }
}

/// What a control's resources are, for counting those that fail ("2 console users"): each
/// built-in control names its own, Security Center items have theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noun {
    /// RAM users with console access.
    ConsoleUsers,
    /// Active AccessKeys.
    AccessKeys,
    /// Identities (users) holding keys.
    Identities,
    /// The root account itself.
    Root,
    /// Settings (password policy, security preference).
    Settings,
    /// Resources a Security Center check flags.
    SasResources,
    /// Anything else: affected items.
    Items,
}

impl Noun {
    /// The catalogue key of the noun, before `_one`/`_other`.
    pub fn key(self) -> &'static str {
        match self {
            Noun::ConsoleUsers => "exec.noun.console_users",
            Noun::AccessKeys => "exec.noun.access_keys",
            Noun::Identities => "exec.noun.identities",
            Noun::Root => "exec.noun.root",
            Noun::Settings => "exec.noun.settings",
            Noun::SasResources => "exec.noun.sas_resources",
            Noun::Items => "exec.resources_affected",
        }
    }
}

/// Which of its control's fixes a failing finding calls for: the control's own remediation,
/// or, where a compensating control already does part of it, what remains (the control's
/// [`Compensated`](super::controls::Compensated) fix).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remediation {
    /// The control's remediation.
    #[default]
    Standard,
    /// A compensating control is in place: the rest of the fix.
    Compensated,
}

impl Remediation {
    /// Whether it is the control's own remediation (the usual case, not written in shard
    /// files).
    pub fn is_standard(&self) -> bool {
        *self == Remediation::Standard
    }
}

/// The result for one resource (a user, a key slot, a setting) under a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceResult {
    /// `<root>`, a user name, `user/access_key_2`, or a setting name.
    pub id: String,
    /// Its state.
    pub status: Status,
    /// Why, in words (written in a language by the outputs).
    pub detail: Message,
    /// Input file the value came from.
    pub file: Option<Arc<str>>,
    /// Field within that file: `line 4, mfa_active` or a JSON path.
    pub field: Option<String>,
}

/// One control evaluated on one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable control id.
    pub control_id: Cow<'static, str>,
    /// Title (built-in titles are filled in once per run and shared by every account).
    pub title: Arc<str>,
    /// Severity after overrides.
    pub severity: Severity,
    /// Report section.
    pub section: Section,
    /// CIS Alibaba Cloud Foundations Benchmark v1.0.0 recommendation.
    pub cis_v1: Option<&'static str>,
    /// CIS v2.0.0 recommendation.
    pub cis_v2: Option<&'static str>,
    /// The control's state on this account.
    pub status: Status,
    /// Why, in one sentence (written in a language by the outputs).
    pub detail: Message,
    /// A compensating control worth showing beside a fail.
    pub compensating: Option<Message>,
    /// The fix a failure calls for, as the control decided from the account.
    #[serde(skip)]
    pub remediation: Remediation,
    /// Counted in the score (built-in controls and Sas items that duplicate none, except
    /// informational ones).
    pub scored: bool,
    /// For a control that belongs only to the benchmark version the report does not score,
    /// that version: the control is evaluated and shown, but counts nowhere (score, result
    /// counts, roll-ups, risks, actions, trends).
    pub informational: Option<Benchmark>,
    /// For a Sas item that duplicates a built-in control, that control's id.
    pub duplicates: Option<&'static str>,
    /// What its resources are, for counting the failing ones.
    #[serde(skip)]
    pub noun: Noun,
    /// How many resources fail by the evidence's own count, when it names fewer (a Security
    /// Center check reports "8 affected" and names none).
    #[serde(skip)]
    pub affected: Option<u64>,
    /// Per-resource results.
    pub resources: Vec<ResourceResult>,
    /// Every source that reports this check, with its place: both Security Center APIs when
    /// both hold it, and the Security Center item that duplicates a built-in control.
    pub sources: Vec<Citation>,
}

impl Finding {
    /// How many of its resources fail: the failing rows, or the evidence's own count when it
    /// is larger (a Security Center check that names fewer than it counts).
    pub fn failing_count(&self) -> u64 {
        let rows = self
            .resources
            .iter()
            .filter(|r| r.status == Status::Fail)
            .count() as u64;
        rows.max(self.affected.unwrap_or(0))
    }
}

/// One source of a result: a file, the place in it, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// Input file.
    pub file: Arc<str>,
    /// Place in that file (a JSON path).
    pub field: String,
    /// What it is and what it says (written in a language by the outputs).
    pub what: Message,
}

/// What every control function sees. It holds no language: a control says why as a
/// [`Message`], and each output writes it in its own language.
pub struct Ctx<'a> {
    /// The account.
    pub account: &'a Account,
    /// The as-of instant, when any evidence or `--as-of` gave one.
    pub as_of: Option<DateTime<Utc>>,
    /// The thresholds of the rule pack (ages, lengths, counts).
    pub t: &'a Thresholds,
    /// Build per-resource text (ids, details, places); off for `validate`.
    pub explain: bool,
}

/// A control function's answer, before catalog data is attached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Result (derived from resources when they decide it).
    pub status: Option<Status>,
    /// Why, in one sentence (written in a language by the outputs).
    pub detail: Message,
    /// Compensating control.
    pub compensating: Option<Message>,
    /// Per-resource results.
    pub resources: Vec<ResourceResult>,
}

impl Outcome {
    /// A result with no per-resource detail.
    pub fn of(status: Status, detail: impl Into<Message>) -> Outcome {
        Outcome {
            status: Some(status),
            detail: detail.into(),
            ..Outcome::default()
        }
    }

    /// Not evaluable, saying what is missing.
    pub fn not_evaluable(detail: impl Into<Message>) -> Outcome {
        Self::of(Status::NotEvaluable, detail)
    }
}

/// Rolls per-resource results into a control result: any fail fails; otherwise any resource
/// that could not be evaluated makes the control not evaluable; all pass passes.
pub fn roll_up(resources: &[ResourceResult]) -> Status {
    if resources.is_empty() {
        Status::NotApplicable
    } else if resources.iter().any(|r| r.status == Status::Fail) {
        Status::Fail
    } else if resources.iter().any(|r| r.status == Status::NotEvaluable) {
        Status::NotEvaluable
    } else if resources.iter().all(|r| r.status == Status::NotApplicable) {
        Status::NotApplicable
    } else {
        Status::Pass
    }
}
