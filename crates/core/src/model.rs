//! Model stage: turns one folder's [`RawBundle`] into a typed, normalised [`Account`].
//!
//! It chooses between duplicate files, merges Security Center pages, dates the evidence and
//! notes what is missing. No I/O from here on; nothing is evaluated against a control yet.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::discover::{FolderSource, Site};
use crate::evidence::{EvidenceState, FileRecord, FileStatus, Kind};
use crate::ingest::credential::{Flag, RawPrincipal, Stamp};
use crate::ingest::wire::*;
use crate::ingest::{Parsed, RawBundle, RawCredentialReport};

/// A piece of evidence as the account has it: present (with the files it came from), rejected
/// (files were found but could not be read) or missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Source<T> {
    /// Read from these files.
    Present {
        /// The evidence.
        value: T,
        /// Input paths it came from.
        files: Vec<String>,
    },
    /// Files of this kind were found but rejected.
    Rejected(Vec<String>),
    /// No file of this kind was found.
    Missing,
}

impl<T> Source<T> {
    /// The value, when present.
    pub fn get(&self) -> Option<&T> {
        match self {
            Source::Present { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The files the value came from (empty unless present).
    pub fn files(&self) -> &[String] {
        match self {
            Source::Present { files, .. } => files,
            _ => &[],
        }
    }

    /// Its state without the value: the files it was read from, or the rejected ones.
    pub fn state(&self) -> EvidenceState {
        match self {
            Source::Present { files, .. } => EvidenceState::Present(files.clone()),
            Source::Rejected(paths) => EvidenceState::Rejected(paths.clone()),
            Source::Missing => EvidenceState::Missing,
        }
    }

    /// Why the evidence is not there, for a not-evaluable result.
    pub fn absence(&self, what: &str) -> String {
        match self {
            Source::Present { .. } => format!("{what} present"),
            Source::Rejected(paths) => format!("{what} was rejected ({})", paths.join(", ")),
            Source::Missing => format!("no {what} was found"),
        }
    }
}

/// Severity of a control or a vendor check.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must fix.
    High,
    /// Should fix.
    Medium,
    /// Good practice.
    Low,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Parses the vendor's spelling (`high`, `HIGH`, ...).
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "high" => Some(Severity::High),
            "medium" | "mid" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

/// The practice report's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Practice {
    /// The vendor's security score.
    pub score: Option<i64>,
    /// Root MFA bound.
    pub root_mfa: Option<bool>,
    /// Root AccessKeys.
    pub root_access_keys: Option<i64>,
    /// RAM users.
    pub ram_users: Option<i64>,
    /// RAM users with MFA.
    pub ram_users_with_mfa: Option<i64>,
    /// `SubUserPwdLevel` as given (`low`, `mid`, `high`).
    pub password_level: Option<String>,
}

/// The MFA requirement at console logon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaForLogin {
    /// Every console logon needs MFA.
    Mandatory,
    /// Only risky logons need MFA.
    Adaptive,
    /// Each user's own setting decides.
    Independent,
    /// A value this version does not know.
    Other(String),
}

/// Which API a security preference was saved from, judged by its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceShape {
    /// Ims 2019-08-15 (has fields only Ims returns).
    Ims,
    /// Ram 2015-05-01 (has `PublicKeyPreference`).
    Ram,
    /// Only the fields both share (Ram, or Ims before 2022).
    Common,
}

/// Account-wide security preferences for RAM users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preference {
    /// Which API shape the file has.
    pub shape: PreferenceShape,
    /// MFA at console logon (from `MFAOperationForLogin`, else legacy `EnforceMFAForLogin`).
    pub mfa_for_login: Option<MfaForLogin>,
    /// Whether the value came from the legacy field.
    pub mfa_from_legacy_field: bool,
    /// Console logon allow-list; empty = any network.
    pub login_network_masks: Option<Vec<String>>,
    /// Console session hours.
    pub session_hours: Option<i64>,
    /// Users may manage their own AccessKeys.
    pub users_manage_access_keys: Option<bool>,
    /// Remember MFA for seven days.
    pub save_mfa_ticket: Option<bool>,
    /// Idle console users auto-disabled after N days.
    pub max_idle_days_users: Option<i64>,
    /// Idle AccessKeys auto-disabled after N days.
    pub max_idle_days_keys: Option<i64>,
    /// Verification channels, flattened.
    pub verification_types: Vec<String>,
}

/// The password policy for RAM users.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PasswordPolicy {
    /// Minimum length.
    pub min_length: Option<i64>,
    /// Upper-case letter required.
    pub require_uppercase: Option<bool>,
    /// Lower-case letter required.
    pub require_lowercase: Option<bool>,
    /// Digit required.
    pub require_numbers: Option<bool>,
    /// Symbol required.
    pub require_symbols: Option<bool>,
    /// Days to expiry; 0 = never.
    pub max_age_days: Option<i64>,
    /// Previous passwords blocked from reuse.
    pub reuse_prevention: Option<i64>,
    /// Failed logons per hour before a lock; 0 = off.
    pub max_login_attempts: Option<i64>,
    /// Logon blocked after expiry.
    pub hard_expire: Option<bool>,
}

/// One AccessKey slot of a principal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessKey {
    /// Column prefix: `access_key_1`, `additional_access_key_1`, ...
    pub slot: Arc<str>,
    /// The key exists.
    pub exist: Flag,
    /// The key is active.
    pub active: Flag,
    /// Created or last rotated.
    pub last_rotated: Stamp,
    /// Last used.
    pub last_used: Stamp,
}

impl AccessKey {
    /// Exists and is active.
    pub fn is_active(&self) -> bool {
        self.exist.is_true() && self.active.is_true()
    }
}

/// The root account or a RAM user, from the credential report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    /// `<root>` or the user principal name.
    pub name: String,
    /// Input file of the row (shared by every row of that file).
    pub file: Arc<str>,
    /// Line of the row in that file's CSV text.
    pub line: u64,
    /// When the user was created.
    pub created: Stamp,
    /// Last console logon.
    pub last_logon: Stamp,
    /// Has a login profile.
    pub password_exist: Flag,
    /// Login profile enabled.
    pub password_active: Flag,
    /// Password must next be changed by.
    pub password_next_rotation: Stamp,
    /// MFA bound.
    pub mfa_active: Flag,
    /// Every key slot.
    pub keys: Vec<AccessKey>,
}

impl Principal {
    /// Console access as CIS 1.4 defines it: a password that exists and is active.
    /// `FALSE`, `N/A` and `LOGIN_DISABLED` are not console access.
    pub fn has_console_access(&self) -> bool {
        self.password_exist.is_true() && self.password_active.is_true()
    }

    /// The keys that exist and are active.
    pub fn active_keys(&self) -> impl Iterator<Item = &AccessKey> {
        self.keys.iter().filter(|k| k.is_active())
    }

    /// `file, line N` for evidence references.
    pub fn place(&self) -> String {
        format!("line {}", self.line)
    }
}

/// The credential report: the root row and the RAM users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credentials {
    /// `GeneratedTime` when saved from the API.
    pub generated: Option<DateTime<Utc>>,
    /// The newest timestamp in any cell, which dates a CSV that has no `GeneratedTime`.
    pub newest_cell: Option<DateTime<Utc>>,
    /// The `<root>` row.
    pub root: Option<Principal>,
    /// RAM users, in report order.
    pub users: Vec<Principal>,
}

impl Credentials {
    /// When the report was taken: `GeneratedTime`, else its newest cell.
    pub fn dated(&self) -> Option<DateTime<Utc>> {
        self.generated.or(self.newest_cell)
    }
}

/// What a Security Center check says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SasStatus {
    /// `pass` / `PASS`.
    Pass,
    /// `failed` / `NOT_PASS` / `FAILED`.
    Failed,
    /// `ignored` / `WHITELIST`: accepted in the console.
    Ignored,
    /// `falsePositive`.
    FalsePositive,
    /// `running` / `waiting` / `CHECKING`.
    Pending,
    /// `NOT_CHECK`.
    NotChecked,
    /// `StartStatus` disabled: the edition does not cover the item.
    NotCovered,
    /// A value this version does not know.
    Other(String),
}

/// Which Security Center API an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SasApi {
    /// `DescribeRiskCheckResult`.
    DescribeRiskCheckResult,
    /// `ListCheckResult`.
    ListCheckResult,
}

/// One Security Center check item, merged across pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SasItem {
    /// Our control id: `sas.<ItemId>` or `sas.cspm.<CheckId>`.
    pub control_id: String,
    /// The vendor's id.
    pub vendor_id: i64,
    /// Which API.
    pub api: SasApi,
    /// The vendor's title, as collected.
    pub title: String,
    /// The vendor's category.
    pub category: Option<String>,
    /// Risk level.
    pub severity: Option<Severity>,
    /// The vendor's risk level text, when it is not one we know.
    pub severity_text: Option<String>,
    /// The vendor's verdict on the check.
    pub status: SasStatus,
    /// Last checked.
    pub checked: Option<DateTime<Utc>>,
    /// Affected assets.
    pub affected: Option<i64>,
    /// The affected asset type (`RiskAssertType`, or `InstanceType` of `ListCheckResult`).
    pub asset_type: Option<String>,
    /// The affected resources the evidence names (`ContentResource` grid rows).
    pub resources: Vec<SasResource>,
    /// The vendor's status text, as collected.
    pub status_text: String,
    /// Input file.
    pub file: Arc<str>,
    /// JSON path of the item in that file.
    pub path: String,
    /// The same check as reported by the other API, when both were collected.
    pub also: Option<Box<SasItem>>,
    /// Whether `also` holds the newer check, whose verdict decides.
    pub also_decides: bool,
}

impl SasItem {
    /// The record whose verdict decides: this one, or the newer check of the other API.
    pub fn decider(&self) -> &SasItem {
        match &self.also {
            Some(other) if self.also_decides => other,
            _ => self,
        }
    }
}

/// One affected resource of a Security Center check, as the evidence names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SasResource {
    /// Instance id or name.
    pub name: String,
    /// The row's other columns, `title: value; ...`, as collected.
    pub detail: String,
    /// JSON path of the row.
    pub path: String,
}

/// Security Center check results from every page of either API.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SasResults {
    /// Items by control id.
    pub items: Vec<SasItem>,
    /// Newest check time.
    pub newest_check: Option<DateTime<Utc>>,
}

impl SasResults {
    /// The item with this vendor id from `DescribeRiskCheckResult`.
    pub fn item(&self, vendor_id: i64) -> Option<&SasItem> {
        self.items
            .iter()
            .find(|i| i.api == SasApi::DescribeRiskCheckResult && i.vendor_id == vendor_id)
    }
}

/// A place in the vendor's standards: its id and its localised name. Vendor ids are not
/// documented as stable, so a place is matched on both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct Named {
    /// The vendor's id, when given.
    pub id: Option<i64>,
    /// The vendor's name, trimmed; empty when not given.
    pub name: String,
}

impl Named {
    /// The place named by `id` and `name`; `None` when both are missing or blank.
    pub fn of(id: Option<i64>, name: Option<&str>) -> Option<Named> {
        let name = name.map(str::trim).unwrap_or_default().to_string();
        (id.is_some() || !name.is_empty()).then_some(Named { id, name })
    }
}

/// One `CheckPolicies` entry: where a check sits in a standard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckPlace {
    /// The standard.
    pub standard: Named,
    /// The requirement.
    pub requirement: Named,
    /// The section, when given.
    pub section: Option<Named>,
}

/// One `ListCheckResult` check with its places in the vendor's standards (pages merged by
/// `CheckId`, the newest check winning, as for the findings).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedCheck {
    /// `CheckId`.
    pub check_id: i64,
    /// The vendor's verdict.
    pub status: SasStatus,
    /// `LastCheckTime`.
    pub checked: Option<DateTime<Utc>>,
    /// Its places, sorted, without duplicates.
    pub places: Vec<CheckPlace>,
}

/// A requirement of the vendor's catalogue, with its sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogueRequirement {
    /// Its sections (from `GetCheckStructure`).
    pub sections: std::collections::BTreeSet<Named>,
}

/// A standard of the vendor's catalogue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogueStandard {
    /// `Type` (`RISK`, `COMPLIANCE`...), when given.
    pub kind: Option<String>,
    /// Its requirements.
    pub requirements: BTreeMap<Named, CatalogueRequirement>,
}

/// Security Center's own standards as the evidence gives them: the checks' places
/// (`CheckPolicies`) and the catalogue (`GetCheckStructure`, `ListCheckStandard`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VendorCatalogue {
    /// Checks that name at least one place, by `CheckId`.
    pub checks: Vec<PlacedCheck>,
    /// The catalogue's standards, from either response (merged on id and name).
    pub standards: BTreeMap<Named, CatalogueStandard>,
    /// The files read: result pages with places, then catalogue responses.
    pub files: Vec<String>,
}

impl VendorCatalogue {
    /// Whether the evidence says nothing of the vendor's standards.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.standards.is_empty()
    }
}

/// Who an account is: the metadata that every output keeps after the evidence is dropped.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AccountInfo {
    /// Stable id: `uid` from `account.toml`, else the folder path below the root.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Customer, for grouping.
    pub customer: Option<String>,
    /// Account UID (from `account.toml` or `GetCallerIdentity`).
    pub uid: Option<String>,
    /// Account alias, from user principal names.
    pub alias: Option<String>,
    /// Folder as shown in output.
    pub folder: String,
    /// China site or international, from `account.toml`.
    pub site: Option<Site>,
    /// Report recipients.
    pub contacts: Vec<String>,
    /// Free `key = value` tags from `account.toml`.
    pub tags: BTreeMap<String, String>,
}

/// One account, typed and normalised: everything the rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Who it is.
    pub info: AccountInfo,
    /// Practice report.
    pub practice: Source<Practice>,
    /// Security preference.
    pub preference: Source<Preference>,
    /// Password policy.
    pub password_policy: Source<PasswordPolicy>,
    /// Credential report.
    pub credentials: Source<Credentials>,
    /// Security Center results.
    pub sas: Source<SasResults>,
    /// Security Center's own standards: the checks' places and the catalogue.
    pub vendor_catalogue: VendorCatalogue,
    /// Why the evidence is incomplete although present (missing pages, ...), in English.
    pub gaps: Vec<String>,
    /// The same, as messages to be written in the report language.
    pub gap_notes: Vec<crate::i18n::Message>,
    /// Notes about the evidence itself (disagreements are added by the rules).
    pub data_quality: Vec<String>,
}

impl Account {
    /// The newest evidence timestamp of this account (credential report, Sas checks).
    pub fn newest_evidence(&self) -> Option<DateTime<Utc>> {
        let cr = self.credentials.get().and_then(Credentials::dated);
        let sas = self.sas.get().and_then(|s| s.newest_check);
        cr.max(sas)
    }
}

/// Output of the model stage for one folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Modelled {
    /// The account.
    pub account: Account,
    /// The folder's files with their final status.
    pub files: Vec<FileRecord>,
    /// Diagnostics for this account.
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds the account of one folder from its ingested files.
pub fn build(folder: &FolderSource, bundle: RawBundle) -> Modelled {
    let RawBundle {
        mut files,
        items,
        credential_reports,
        mut diagnostics,
    } = bundle;
    let meta = &folder.meta;
    let mut gaps = Vec::new();
    let mut data_quality = Vec::new();

    let mut practice = Vec::new();
    let mut preference = Vec::new();
    let mut password = Vec::new();
    let mut risk_pages = Vec::new();
    let mut check_pages = Vec::new();
    let mut catalogues = Vec::new();
    let mut caller_uid = None;
    for (index, parsed) in items {
        match parsed {
            Parsed::Practice(p) => practice.push((index, p)),
            Parsed::Preference(p) => preference.push((index, p)),
            Parsed::Password(p) => password.push((index, p)),
            Parsed::RiskCheckPage(p) => risk_pages.push((index, p)),
            Parsed::CheckResultPage(p) => check_pages.push((index, p)),
            Parsed::CallerIdentity(c) => caller_uid = caller_uid.or(Some(c.account_id)),
            Parsed::CheckStructure(c) => catalogues.push((
                index,
                c.check_structure_response
                    .0
                    .into_iter()
                    .flat_map(|g| {
                        let kind = g.standard_type;
                        g.standards.0.into_iter().map(move |mut s| {
                            s.kind = s.kind.or_else(|| kind.clone());
                            s
                        })
                    })
                    .collect::<Vec<_>>(),
            )),
            Parsed::CheckStandards(c) => catalogues.push((index, c.standards.0)),
            Parsed::CredentialCsv(_)
            | Parsed::CredentialApiPage { .. }
            | Parsed::CredentialPageRaw(_) => {}
        }
    }

    // Prefer the Ims shape of the security preference: it carries more fields.
    preference.sort_by_key(|(i, p)| (shape_of(p) != PreferenceShape::Ims, *i));
    let practice =
        choose_one(&mut files, practice, "practice report").map(|(p, f)| (practice_of(p), f));
    let preference = choose_one(&mut files, preference, "security preference")
        .map(|(p, f)| (preference_of(p, &mut diagnostics, &f), f));
    let password =
        choose_one(&mut files, password, "password policy").map(|(p, f)| (policy_of(p), f));
    let credentials = choose_credentials(&mut files, credential_reports);
    let vendor_catalogue = vendor_catalogue(&files, &check_pages, catalogues);
    let sas = merge_sas(&files, risk_pages, check_pages, &mut gaps, &mut diagnostics);

    let alias = credentials.as_ref().and_then(|(c, _)| alias_of(c));
    let uid = meta
        .uid
        .clone()
        .filter(|u| !u.trim().is_empty())
        .or(caller_uid);

    let info = AccountInfo {
        id: folder.id.clone(),
        name: meta
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| folder.folder_name.clone()),
        customer: meta.customer.clone().filter(|c| !c.trim().is_empty()),
        uid,
        alias,
        folder: folder.display.clone(),
        site: meta.site,
        contacts: meta.contacts.clone(),
        tags: meta.tags.clone(),
    };
    let account = Account {
        info,
        practice: to_source(&[Kind::PracticeReport], practice, &files),
        preference: to_source(&[Kind::SecurityPreference], preference, &files),
        password_policy: to_source(&[Kind::PasswordPolicy], password, &files),
        credentials: to_source(
            &[Kind::CredentialReportCsv, Kind::CredentialReportApi],
            credentials,
            &files,
        ),
        sas: to_source(
            &[Kind::SasRiskCheckResult, Kind::SasCheckResult],
            sas,
            &files,
        ),
        vendor_catalogue,
        gaps: gaps
            .iter()
            .map(|n| n.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En)))
            .collect(),
        gap_notes: gaps,
        data_quality: std::mem::take(&mut data_quality),
    };
    for file in &mut files {
        file.account = Some(account.info.id.clone());
    }
    for d in &mut diagnostics {
        d.account = Some(account.info.id.clone());
    }
    Modelled {
        account,
        files,
        diagnostics,
    }
}

fn to_source<T>(
    kinds: &[Kind],
    present: Option<(T, Vec<String>)>,
    files: &[FileRecord],
) -> Source<T> {
    match present {
        Some((value, used)) => Source::Present { value, files: used },
        None => {
            let rejected: Vec<String> = files
                .iter()
                .filter(|f| {
                    f.status == FileStatus::Rejected && f.kind.is_some_and(|k| kinds.contains(&k))
                })
                .map(|f| f.path.clone())
                .collect();
            if rejected.is_empty() {
                Source::Missing
            } else {
                Source::Rejected(rejected)
            }
        }
    }
}

/// Keeps the first of several files of one kind and marks the others ignored, saying why.
fn choose_one<T>(
    files: &mut [FileRecord],
    candidates: Vec<(usize, T)>,
    what: &str,
) -> Option<(T, Vec<String>)> {
    let mut iter = candidates.into_iter();
    let (first, value) = iter.next()?;
    let chosen_path = files[first].path.clone();
    let chosen_sha = files[first].sha256.clone();
    for (other, _) in iter {
        let same = files[other].sha256 == chosen_sha;
        files[other].ignore_because(if same {
            crate::i18n::Message::key("file.same_content").arg("path", &chosen_path)
        } else {
            crate::i18n::Message::key(match what {
                "practice report" => "file.another_practice",
                "security preference" => "file.another_preference",
                _ => "file.another_policy",
            })
            .arg("path", &chosen_path)
        });
    }
    Some((value, vec![chosen_path]))
}

fn practice_of(raw: RawPracticeReport) -> Practice {
    let info = raw.account_security_practice_info;
    let user = info.account_security_practice_user_info.unwrap_or_default();
    Practice {
        score: info.score,
        root_mfa: user.bind_mfa,
        root_access_keys: user.root_with_access_key,
        ram_users: user.sub_user,
        ram_users_with_mfa: user.sub_user_bind_mfa,
        password_level: user.sub_user_pwd_level,
    }
}

fn shape_of(raw: &RawSecurityPreference) -> PreferenceShape {
    let login = raw.login_profile_preference.as_ref();
    let ims_only = raw.max_idle_days.is_some()
        || raw.verification_preference.is_some()
        || raw.personal_info_preference.is_some()
        || login.is_some_and(|l| {
            l.mfa_operation_for_login.is_some() || l.enforce_mfa_for_login.is_some()
        });
    if ims_only {
        PreferenceShape::Ims
    } else if raw.public_key_preference.is_some() {
        PreferenceShape::Ram
    } else {
        PreferenceShape::Common
    }
}

fn preference_of(
    raw: RawSecurityPreference,
    diagnostics: &mut Vec<Diagnostic>,
    files: &[String],
) -> Preference {
    let shape = shape_of(&raw);
    let login = raw.login_profile_preference.unwrap_or_default();
    let (mfa_for_login, mfa_from_legacy_field) = match (
        login.mfa_operation_for_login.as_deref(),
        login.enforce_mfa_for_login,
    ) {
        (Some(v), _) => {
            let parsed = match v.trim().to_ascii_lowercase().as_str() {
                "mandatory" => MfaForLogin::Mandatory,
                "adaptive" => MfaForLogin::Adaptive,
                "independent" => MfaForLogin::Independent,
                _ => {
                    diagnostics.push(Diagnostic::warning(
                        files.join(", "),
                        format!(
                            "JSON path SecurityPreference.LoginProfilePreference.MFAOperationForLogin: unknown value \"{v}\" (expected mandatory, adaptive or independent)"
                        ),
                    ));
                    MfaForLogin::Other(v.to_string())
                }
            };
            (Some(parsed), false)
        }
        (None, Some(true)) => (Some(MfaForLogin::Mandatory), true),
        (None, Some(false)) => (Some(MfaForLogin::Independent), true),
        (None, None) => (None, false),
    };
    let verification_types = raw
        .verification_preference
        .map(|v| flatten_types(v.verification_types.0))
        .unwrap_or_default();
    let idle = raw.max_idle_days.unwrap_or_default();
    Preference {
        shape,
        mfa_for_login,
        mfa_from_legacy_field,
        login_network_masks: login.login_network_masks.map(|m| {
            m.split([';', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }),
        session_hours: login.login_session_duration,
        users_manage_access_keys: raw
            .access_key_preference
            .and_then(|a| a.allow_user_to_manage_access_keys),
        save_mfa_ticket: login.enable_save_mfa_ticket,
        max_idle_days_users: idle.max_idle_days_for_users,
        max_idle_days_keys: idle.max_idle_days_for_access_keys,
        verification_types,
    }
}

/// `VerificationTypes` may hold a JSON-encoded array as one element (a documented quirk).
fn flatten_types(items: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        let trimmed = item.trim();
        if trimmed.starts_with('[')
            && let Ok(inner) = serde_json::from_str::<Vec<String>>(trimmed)
        {
            out.extend(inner);
        } else {
            out.push(trimmed.to_string());
        }
    }
    out
}

fn policy_of(raw: RawPasswordPolicy) -> PasswordPolicy {
    PasswordPolicy {
        min_length: raw.minimum_password_length,
        require_uppercase: raw.require_uppercase_characters,
        require_lowercase: raw.require_lowercase_characters,
        require_numbers: raw.require_numbers,
        require_symbols: raw.require_symbols,
        max_age_days: raw.max_password_age,
        reuse_prevention: raw.password_reuse_prevention,
        max_login_attempts: raw.max_login_attempts,
        hard_expire: raw.hard_expire,
    }
}

/// Chooses the credential report: the newest API report (dated by `GeneratedTime`), else the
/// CSV whose newest cell is newest; the others are marked ignored.
fn choose_credentials(
    files: &mut [FileRecord],
    reports: Vec<RawCredentialReport>,
) -> Option<(Credentials, Vec<String>)> {
    let mut built: Vec<(Credentials, Vec<usize>)> = reports
        .into_iter()
        .map(|r| {
            let paths: Vec<String> = r.files.iter().map(|&i| files[i].path.clone()).collect();
            let indexes = r.files.clone();
            (credentials_of(r, &paths), indexes)
        })
        .collect();
    // Newest first: API-dated reports before undated CSVs, then by date, then by path.
    built.sort_by(|(a, ai), (b, bi)| {
        let key = |c: &Credentials| (c.generated.is_some(), c.dated());
        key(b)
            .cmp(&key(a))
            .then_with(|| files[ai[0]].path.cmp(&files[bi[0]].path))
    });
    let mut iter = built.into_iter();
    let (chosen, chosen_files) = iter.next()?;
    let chosen_paths: Vec<String> = chosen_files
        .iter()
        .map(|&i| files[i].path.clone())
        .collect();
    let paths = chosen_paths.join(", ");
    let note = match chosen.generated {
        Some(t) => crate::i18n::Message::key("file.newer_report_at")
            .arg("generated", t.format("%Y-%m-%dT%H:%M:%SZ"))
            .arg("paths", paths),
        None => crate::i18n::Message::key("file.newer_report").arg("paths", paths),
    };
    for (_, other) in iter {
        for i in other {
            files[i].ignore_because(note.clone());
        }
    }
    Some((chosen, chosen_paths))
}

fn credentials_of(report: RawCredentialReport, paths: &[String]) -> Credentials {
    let mut root = None;
    let mut users = Vec::new();
    let mut newest: Option<DateTime<Utc>> = None;
    let shared: Vec<Arc<str>> = paths.iter().map(|p| Arc::from(p.as_str())).collect();
    for (row, page) in report.principals.into_iter().zip(report.row_file) {
        let file = shared.get(page).cloned().unwrap_or_else(|| Arc::from(""));
        let principal = principal_of(row, file);
        for stamp in [principal.created, principal.last_logon].into_iter().chain(
            principal
                .keys
                .iter()
                .flat_map(|k| [k.last_rotated, k.last_used]),
        ) {
            if let Some(t) = stamp.at() {
                newest = newest.max(Some(t));
            }
        }
        if principal.name == "<root>" && root.is_none() {
            root = Some(principal);
        } else {
            users.push(principal);
        }
    }
    // Every account's model is held until the as-of instant is known: keep it tight.
    users.shrink_to_fit();
    Credentials {
        generated: report.generated,
        newest_cell: newest,
        root,
        users,
    }
}

fn principal_of(row: RawPrincipal, file: Arc<str>) -> Principal {
    Principal {
        name: row.user,
        file,
        line: row.line,
        created: row.created,
        last_logon: row.last_logon,
        password_exist: row.password_exist,
        password_active: row.password_active,
        password_next_rotation: row.password_next_rotation,
        mfa_active: row.mfa_active,
        keys: row
            .keys
            .into_iter()
            .map(|k| AccessKey {
                slot: k.slot,
                exist: k.exist,
                active: k.active,
                last_rotated: k.last_rotated,
                last_used: k.last_used,
            })
            .collect(),
    }
}

/// The alias most users' principal names carry (`name@ALIAS.onaliyun.com`).
fn alias_of(credentials: &Credentials) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for user in &credentials.users {
        if let Some((_, domain)) = user.name.rsplit_once('@')
            && let Some(alias) = domain.strip_suffix(".onaliyun.com")
            && !alias.is_empty()
        {
            *counts.entry(alias.to_string()).or_default() += 1;
        }
    }
    // Most users first; ties go to the alphabetically first alias, for determinism.
    counts
        .into_iter()
        .max_by(|(a, n), (b, m)| n.cmp(m).then_with(|| b.cmp(a)))
        .map(|(alias, _)| alias)
}

fn millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

fn sas_status_describe(status: Option<&str>, start: Option<&str>) -> SasStatus {
    if let Some(start) = start {
        let s = start.trim().to_ascii_lowercase();
        if s == "disable" || s == "disabled" {
            return SasStatus::NotCovered;
        }
    }
    match status.map(str::trim) {
        Some("pass") => SasStatus::Pass,
        Some("failed") => SasStatus::Failed,
        Some("ignored") => SasStatus::Ignored,
        Some("falsePositive") => SasStatus::FalsePositive,
        Some("running" | "waiting") => SasStatus::Pending,
        Some(other) => SasStatus::Other(other.to_string()),
        None => SasStatus::Other(String::new()),
    }
}

fn sas_status_list(status: Option<&str>) -> SasStatus {
    match status.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
        Some("PASS") => SasStatus::Pass,
        Some("NOT_PASS" | "FAILED") => SasStatus::Failed,
        Some("WHITELIST") => SasStatus::Ignored,
        Some("CHECKING") => SasStatus::Pending,
        Some("NOT_CHECK") => SasStatus::NotChecked,
        Some(_) => SasStatus::Other(status.unwrap_or_default().to_string()),
        None => SasStatus::Other(String::new()),
    }
}

/// Pairs the checks that both APIs report: a `DescribeRiskCheckResult` item and a
/// `ListCheckResult` check are one check when their titles are the same (normalised, or the
/// English and Chinese titles of one known item, [`crate::sas_items::same_title`]) and their
/// asset types agree ([`crate::sas_items::same_asset`]; a missing type agrees with any).
/// Each item pairs at most once, in id order. The pair keeps the `DescribeRiskCheckResult`
/// item's id (`sas.<ItemId>`) and the verdict of the newer check (the older API's on a tie);
/// the other is kept in `also`, and the affected resources come from whichever names them.
fn pair_apis(items: Vec<SasItem>) -> Vec<SasItem> {
    let (describe, list): (Vec<SasItem>, Vec<SasItem>) = items
        .into_iter()
        .partition(|i| i.api == SasApi::DescribeRiskCheckResult);
    let mut list: Vec<Option<SasItem>> = list.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(describe.len() + list.len());
    for mut item in describe {
        let partner = list.iter_mut().find(|c| {
            c.as_ref().is_some_and(|c| {
                crate::sas_items::same_title(&item.title, &c.title)
                    && crate::sas_items::same_asset(
                        item.asset_type.as_deref(),
                        c.asset_type.as_deref(),
                    )
            })
        });
        if let Some(other) = partner.and_then(Option::take) {
            // The newer verdict decides (the older API's on a tie).
            item.also_decides = other.checked > item.checked;
            item.asset_type = item.asset_type.or_else(|| other.asset_type.clone());
            item.also = Some(Box::new(other));
        }
        out.push(item);
    }
    out.extend(list.into_iter().flatten());
    out
}

/// The affected resources an item's `ContentResource` grids name: one per row of `values`,
/// named by the first column that is not a region or a description (or, without columns, by
/// the first of the usual id keys), deduplicated by name in evidence order.
fn content_resources(raw: &RawRiskCheckItem, item_path: &str) -> Vec<SasResource> {
    const SKIP: &[&str] = &[
        "regionid",
        "region",
        "zoneid",
        "riskdescribe",
        "description",
        "describe",
        "detail",
        "suggestion",
        "status",
    ];
    const NAMES: &[&str] = &[
        "InstanceId",
        "RiskInstance",
        "InstanceName",
        "ResourceId",
        "ResourceName",
        "UserName",
        "BucketName",
        "Name",
    ];
    let text = |v: &serde_json::Value| -> Option<String> {
        match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<SasResource> = Vec::new();
    for (k, block) in raw.risk_item_resources.0.iter().enumerate() {
        let Some(grid) = block.content_resource.as_ref().and_then(decoded_content) else {
            continue;
        };
        let Some(rows) = grid.get("values").and_then(|v| v.as_array()) else {
            continue;
        };
        let columns: Vec<(String, String)> = grid
            .get("columns")
            .and_then(|c| c.as_array())
            .map(|cols| {
                cols.iter()
                    .filter_map(|c| {
                        let key = c.get("key")?.as_str()?.to_string();
                        let title = c
                            .get("title")
                            .and_then(|t| t.as_str())
                            .unwrap_or(&key)
                            .to_string();
                        Some((key, title))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name_key = columns
            .iter()
            .map(|(key, _)| key.as_str())
            .find(|key| !SKIP.contains(&key.to_ascii_lowercase().as_str()));
        for (j, row) in rows.iter().enumerate() {
            let Some(row) = row.as_object() else {
                continue;
            };
            let key = name_key
                .filter(|k| row.get(*k).and_then(text).is_some())
                .or_else(|| {
                    NAMES
                        .iter()
                        .copied()
                        .find(|k| row.get(*k).and_then(text).is_some())
                });
            let Some(key) = key else {
                continue;
            };
            let Some(name) = row.get(key).and_then(text) else {
                continue;
            };
            if out.iter().any(|r| r.name == name) {
                continue;
            }
            let detail: Vec<String> = if columns.is_empty() {
                row.iter()
                    .filter(|(k, _)| k.as_str() != key)
                    .filter_map(|(k, v)| Some(format!("{k}: {}", text(v)?)))
                    .collect()
            } else {
                columns
                    .iter()
                    .filter(|(k, _)| k.as_str() != key)
                    .filter_map(|(k, title)| Some(format!("{title}: {}", text(row.get(k)?)?)))
                    .collect()
            };
            out.push(SasResource {
                name,
                detail: detail.join("; "),
                path: format!("{item_path}.RiskItemResources[{k}].ContentResource.values[{j}]"),
            });
        }
    }
    out
}

/// A `ContentResource` as an object: itself, the JSON a string holds, or the JSON text under
/// the lone `key` of the 2024 metadata's shape.
fn decoded_content(v: &serde_json::Value) -> Option<serde_json::Value> {
    match v {
        serde_json::Value::Object(map) => match (map.len(), map.get("key")) {
            (1, Some(serde_json::Value::String(s))) => serde_json::from_str(s).ok(),
            _ => Some(v.clone()),
        },
        serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .filter(serde_json::Value::is_object),
        _ => None,
    }
}

/// Reads the checks' places in the vendor's standards (pages merged by `CheckId`, the newest
/// check winning, ties to the first page, as [`merge_sas`] does) and the catalogue responses.
fn vendor_catalogue(
    files: &[FileRecord],
    check_pages: &[(usize, RawCheckResultPage)],
    catalogues: Vec<(usize, Vec<RawCatalogueStandard>)>,
) -> VendorCatalogue {
    let mut checks: BTreeMap<i64, PlacedCheck> = BTreeMap::new();
    let mut files_used = std::collections::BTreeSet::new();
    for (index, page) in check_pages {
        for raw in &page.checks.0 {
            let mut places: Vec<CheckPlace> = raw
                .check_policies
                .0
                .iter()
                .filter_map(|p| {
                    Some(CheckPlace {
                        standard: Named::of(p.standard_id, p.standard_show_name.as_deref())?,
                        requirement: Named::of(
                            p.requirement_id,
                            p.requirement_show_name.as_deref(),
                        )?,
                        section: Named::of(p.section_id, p.section_show_name.as_deref()),
                    })
                })
                .collect();
            places.sort();
            places.dedup();
            let check = PlacedCheck {
                check_id: raw.check_id,
                status: sas_status_list(raw.status.as_deref()),
                checked: millis(raw.last_check_time),
                places,
            };
            match checks.get(&raw.check_id) {
                Some(existing) if existing.checked >= check.checked => {}
                _ => {
                    checks.insert(raw.check_id, check);
                }
            }
        }
        if page.checks.0.iter().any(|c| !c.check_policies.0.is_empty()) {
            files_used.insert(*index);
        }
    }
    let mut standards: BTreeMap<Named, CatalogueStandard> = BTreeMap::new();
    for (index, list) in catalogues {
        files_used.insert(index);
        for raw in list {
            let Some(key) = Named::of(raw.id, raw.show_name.as_deref()) else {
                continue;
            };
            let standard = standards.entry(key).or_default();
            if standard.kind.is_none() {
                standard.kind = raw
                    .kind
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty());
            }
            for r in raw.requirements.0 {
                let Some(key) = Named::of(r.id, r.show_name.as_deref()) else {
                    continue;
                };
                let requirement = standard.requirements.entry(key).or_default();
                requirement.sections.extend(
                    r.sections
                        .0
                        .iter()
                        .filter_map(|s| Named::of(s.id, s.show_name.as_deref())),
                );
            }
        }
    }
    VendorCatalogue {
        checks: checks
            .into_values()
            .filter(|c| !c.places.is_empty())
            .collect(),
        standards,
        files: files_used
            .into_iter()
            .map(|i| files[i].path.clone())
            .collect(),
    }
}

/// Merges Security Center pages by item id (the newest check wins) and reports missing pages.
fn merge_sas(
    files: &[FileRecord],
    risk_pages: Vec<(usize, RawRiskCheckPage)>,
    check_pages: Vec<(usize, RawCheckResultPage)>,
    gaps: &mut Vec<crate::i18n::Message>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(SasResults, Vec<String>)> {
    if risk_pages.is_empty() && check_pages.is_empty() {
        return None;
    }
    let mut items: BTreeMap<(u8, i64), SasItem> = BTreeMap::new();
    let mut used = Vec::new();
    // Pages merge by id; the newest check wins (ties keep the first page by path).
    fn keep(items: &mut BTreeMap<(u8, i64), SasItem>, item: SasItem, key: (u8, i64)) {
        match items.get(&key) {
            Some(existing) if existing.checked >= item.checked => {}
            _ => {
                items.insert(key, item);
            }
        }
    }
    fn warn_unknown(diagnostics: &mut Vec<Diagnostic>, file: &str, path: &str, value: &str) {
        diagnostics.push(Diagnostic::warning(
            file,
            format!(
                "JSON path {path}.Status: unknown value \"{value}\"; the item is not evaluable"
            ),
        ));
    }

    if !risk_pages.is_empty() {
        let mut total: Option<i64> = None;
        let mut page_count: Option<i64> = None;
        let mut pages_seen = std::collections::BTreeSet::new();
        for (index, page) in &risk_pages {
            let file: Arc<str> = Arc::from(files[*index].path.as_str());
            used.push(file.to_string());
            total = total.max(page.total_count);
            page_count = page_count.max(page.page_count);
            if let Some(p) = page.current_page {
                pages_seen.insert(p);
            }
            for (n, raw) in page.list.0.iter().enumerate() {
                let path = format!("List[{n}]");
                let status =
                    sas_status_describe(raw.status.as_deref(), raw.start_status.as_deref());
                if let SasStatus::Other(v) = &status {
                    warn_unknown(diagnostics, &file, &path, v);
                }
                let severity = raw.risk_level.as_deref().and_then(Severity::parse);
                let status_text = match (&status, raw.start_status.as_deref()) {
                    (SasStatus::NotCovered, Some(start)) => format!(
                        "{}, StartStatus {}",
                        raw.status.as_deref().unwrap_or("-"),
                        start.trim()
                    ),
                    _ => raw.status.clone().unwrap_or_default(),
                };
                keep(
                    &mut items,
                    SasItem {
                        control_id: format!("sas.{}", raw.item_id),
                        vendor_id: raw.item_id,
                        api: SasApi::DescribeRiskCheckResult,
                        title: raw
                            .title
                            .clone()
                            .unwrap_or_else(|| format!("Security Center check {}", raw.item_id)),
                        category: raw.category.clone(),
                        severity_text: raw.risk_level.clone().filter(|_| severity.is_none()),
                        severity,
                        status,
                        checked: millis(raw.check_time),
                        affected: raw.affected_count,
                        asset_type: raw
                            .risk_assert_type
                            .clone()
                            .filter(|t| !t.trim().is_empty()),
                        resources: content_resources(raw, &path),
                        status_text,
                        file: file.clone(),
                        path,
                        also: None,
                        also_decides: false,
                    },
                    (0, raw.item_id),
                );
            }
        }
        let seen = items.keys().filter(|(api, _)| *api == 0).count() as i64;
        if let Some(total) = total
            && seen < total
        {
            let missing: Vec<String> = page_count
                .map(|pc| {
                    (1..=pc.min(10_000))
                        .filter(|p| !pages_seen.contains(p))
                        .map(|p| p.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let note = match page_count {
                Some(pc) if !missing.is_empty() => {
                    crate::i18n::Message::key("engine.gap_risk_pages")
                        .arg("total", total)
                        .arg("seen", seen)
                        .arg("pages", missing.join(", "))
                        .arg("count", pc)
                }
                _ => crate::i18n::Message::key("engine.gap_risk_items")
                    .arg("total", total)
                    .arg("seen", seen),
            };
            let text = note.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En));
            diagnostics.push(Diagnostic::warning(used.join(", "), text));
            gaps.push(note);
        }
    }

    if !check_pages.is_empty() {
        let mut total: Option<i64> = None;
        for (index, page) in &check_pages {
            let file: Arc<str> = Arc::from(files[*index].path.as_str());
            used.push(file.to_string());
            total = total.max(page.page_info.as_ref().and_then(|p| p.total_count));
            for (n, raw) in page.checks.0.iter().enumerate() {
                let path = format!("Checks[{n}]");
                let status = sas_status_list(raw.status.as_deref());
                if let SasStatus::Other(v) = &status {
                    warn_unknown(diagnostics, &file, &path, v);
                }
                let severity = raw.risk_level.as_deref().and_then(Severity::parse);
                keep(
                    &mut items,
                    SasItem {
                        control_id: format!("sas.cspm.{}", raw.check_id),
                        vendor_id: raw.check_id,
                        api: SasApi::ListCheckResult,
                        title: raw
                            .check_show_name
                            .clone()
                            .unwrap_or_else(|| format!("Security Center check {}", raw.check_id)),
                        category: raw
                            .check_policies
                            .0
                            .first()
                            .and_then(|p| p.section_show_name.clone()),
                        severity_text: raw.risk_level.clone().filter(|_| severity.is_none()),
                        severity,
                        status,
                        checked: millis(raw.last_check_time),
                        affected: None,
                        asset_type: raw.instance_type.clone().filter(|t| !t.trim().is_empty()),
                        resources: Vec::new(),
                        status_text: raw.status.clone().unwrap_or_default(),
                        file: file.clone(),
                        path,
                        also: None,
                        also_decides: false,
                    },
                    (1, raw.check_id),
                );
            }
        }
        let seen = items.keys().filter(|(api, _)| *api == 1).count() as i64;
        if let Some(total) = total
            && seen < total
        {
            let note = crate::i18n::Message::key("engine.gap_check_pages")
                .arg("total", total)
                .arg("seen", seen);
            let text = note.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En));
            diagnostics.push(Diagnostic::warning(used.join(", "), text));
            gaps.push(note);
        }
    }
    let items = pair_apis(items.into_values().collect());
    let newest_check = items
        .iter()
        .flat_map(|i| [i.checked, i.also.as_ref().and_then(|a| a.checked)])
        .flatten()
        .max();
    Some((
        SasResults {
            items,
            newest_check,
        },
        used,
    ))
}

#[cfg(test)]
mod sas_tests {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON, nested a little: objects with the grid's keys among others.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            prop_oneof![
                Just("values"),
                Just("columns"),
                Just("key"),
                Just("InstanceId"),
                Just("RegionId")
            ]
            .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("values".to_string()),
                        Just("columns".to_string()),
                        Just("key".to_string()),
                        Just("title".to_string()),
                        Just("InstanceId".to_string()),
                        Just("RegionId".to_string()),
                        "[a-zA-Z]{1,8}",
                    ],
                    inner.clone(),
                    0..5,
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                // The same, as a JSON string.
                inner.prop_map(|v| serde_json::Value::from(v.to_string())),
            ]
        })
    }

    fn named(id: i64, name: &str) -> Named {
        Named {
            id: Some(id),
            name: name.into(),
        }
    }

    #[test]
    fn check_structure_pages_of_one_account_merge_into_one_catalogue() {
        // Page 2 repeats standard 31 with another requirement and another section of 311,
        // and brings standard 32 of another type.
        let p1 = r#"{"RequestId":"a","CheckStructureResponse":[{"StandardType":"RISK","Standards":[{"Id":31,"ShowName":"Identity","Requirements":[{"Id":311,"ShowName":"Sign-in","Sections":[{"Id":1,"ShowName":"MFA"}]}]}]}]}"#;
        let p2 = r#"{"RequestId":"b","CheckStructureResponse":[{"StandardType":"RISK","Standards":[{"Id":31,"ShowName":"Identity","Requirements":[{"Id":311,"ShowName":"Sign-in","Sections":[{"Id":2,"ShowName":"SSO"}]},{"Id":312,"ShowName":"Keys"}]}]},{"StandardType":"COMPLIANCE","Standards":{"Id":"32","ShowName":"Network","Requirements":[{"Id":321,"ShowName":"Ingress"}]}}]}"#;
        let bundle = crate::ingest::ingest_memory(
            &[
                ("a/check-structure-p001.json", p1.as_bytes()),
                ("a/check-structure-p002.json", p2.as_bytes()),
            ],
            crate::ingest::Limits::default(),
        );
        let folder = FolderSource::bare("a");
        let built = build(&folder, bundle);
        let statuses: Vec<(&str, FileStatus)> = built
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("a/check-structure-p001.json", FileStatus::Used),
                ("a/check-structure-p002.json", FileStatus::Used)
            ]
        );
        let catalogue = built.account.vendor_catalogue;
        assert_eq!(
            catalogue.files,
            ["a/check-structure-p001.json", "a/check-structure-p002.json"]
        );
        let identity = &catalogue.standards[&named(31, "Identity")];
        assert_eq!(identity.kind.as_deref(), Some("RISK"));
        let requirements: Vec<(&Named, Vec<&Named>)> = identity
            .requirements
            .iter()
            .map(|(r, c)| (r, c.sections.iter().collect()))
            .collect();
        assert_eq!(
            requirements,
            [
                (
                    &named(311, "Sign-in"),
                    vec![&named(1, "MFA"), &named(2, "SSO")]
                ),
                (&named(312, "Keys"), vec![])
            ]
        );
        let network = &catalogue.standards[&named(32, "Network")];
        assert_eq!(network.kind.as_deref(), Some("COMPLIANCE"));
        assert_eq!(
            network.requirements.keys().collect::<Vec<_>>(),
            [&named(321, "Ingress")]
        );
        assert_eq!(catalogue.standards.len(), 2);
    }

    proptest! {
        #[test]
        fn content_resources_never_panic_and_name_each_resource_once(
            blocks in proptest::collection::vec(json(), 0..4)
        ) {
            let raw = RawRiskCheckItem {
                item_id: 1,
                risk_item_resources: crate::ingest::lenient::OneOrMany(
                    blocks
                        .into_iter()
                        .map(|v| RawRiskItemResource {
                            resource_name: None,
                            content_resource: Some(v),
                        })
                        .collect(),
                ),
                ..RawRiskCheckItem::default()
            };
            let found = content_resources(&raw, "List[0]");
            let mut names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
            prop_assert!(names.iter().all(|n| !n.is_empty()));
            names.sort_unstable();
            names.dedup();
            prop_assert_eq!(names.len(), found.len());
            prop_assert!(found.iter().all(|r| r.path.starts_with("List[0].RiskItemResources[")));
        }
    }
}
