//! Ingest stage: wire types that mirror the saved API responses field for field.
//!
//! Every field is optional and unknown fields are ignored (the APIs grow several times a
//! year). No meaning is given to any value here; that is the model stage's job.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{OneOrMany, opt_bool, opt_i64, opt_string, req_i64};

/// Ims `GetAccountSecurityPracticeReport`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawPracticeReport {
    /// The report body.
    pub account_security_practice_info: RawPracticeInfo,
}

/// `AccountSecurityPracticeInfo`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawPracticeInfo {
    /// The vendor's security score, 0-100.
    #[serde(deserialize_with = "opt_i64")]
    pub score: Option<i64>,
    /// The counters.
    pub account_security_practice_user_info: Option<RawPracticeUserInfo>,
}

/// `AccountSecurityPracticeInfo.AccountSecurityPracticeUserInfo`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawPracticeUserInfo {
    /// Root account has MFA.
    #[serde(deserialize_with = "opt_bool")]
    pub bind_mfa: Option<bool>,
    /// RAM user password strength: `low`, `mid`, `high`.
    #[serde(deserialize_with = "opt_string")]
    pub sub_user_pwd_level: Option<String>,
    /// AccessKeys owned by the root account.
    #[serde(deserialize_with = "opt_i64")]
    pub root_with_access_key: Option<i64>,
    /// "Old" AccessKeys in the account.
    #[serde(deserialize_with = "opt_i64")]
    pub old_ak_num: Option<i64>,
    /// Unused AccessKeys in the account.
    #[serde(deserialize_with = "opt_i64")]
    pub unused_ak_num: Option<i64>,
    /// RAM users.
    #[serde(deserialize_with = "opt_i64")]
    pub sub_user: Option<i64>,
    /// RAM users with MFA bound.
    #[serde(deserialize_with = "opt_i64")]
    pub sub_user_bind_mfa: Option<i64>,
    /// RAM users holding old keys.
    #[serde(deserialize_with = "opt_i64")]
    pub sub_user_with_old_access_key: Option<i64>,
    /// RAM users holding unused keys.
    #[serde(deserialize_with = "opt_i64")]
    pub sub_user_with_unused_access_key: Option<i64>,
}

/// Ims or Ram `GetSecurityPreference`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawSecurityPreferenceResponse {
    /// The preference body.
    pub security_preference: RawSecurityPreference,
}

/// `SecurityPreference`, the union of the Ims 2019-08-15 and Ram 2015-05-01 shapes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawSecurityPreference {
    /// AccessKey preference.
    pub access_key_preference: Option<RawAccessKeyPreference>,
    /// Console logon preference.
    pub login_profile_preference: Option<RawLoginProfilePreference>,
    /// MFA preference.
    #[serde(rename = "MFAPreference")]
    pub mfa_preference: Option<RawMfaPreference>,
    /// Verification channels (Ims only).
    pub verification_preference: Option<RawVerificationPreference>,
    /// Idle auto-disable (Ims only, late 2024 on).
    pub max_idle_days: Option<RawMaxIdleDays>,
    /// Personal DingTalk (Ims only).
    pub personal_info_preference: Option<Value>,
    /// SSH public keys (Ram only).
    pub public_key_preference: Option<Value>,
}

/// `SecurityPreference.AccessKeyPreference`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawAccessKeyPreference {
    /// RAM users may manage their own AccessKeys.
    #[serde(deserialize_with = "opt_bool")]
    pub allow_user_to_manage_access_keys: Option<bool>,
}

/// `SecurityPreference.LoginProfilePreference`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawLoginProfilePreference {
    /// Remember MFA for seven days.
    #[serde(rename = "EnableSaveMFATicket", deserialize_with = "opt_bool")]
    pub enable_save_mfa_ticket: Option<bool>,
    /// Semicolon-separated console logon allow-list; empty means any network.
    #[serde(deserialize_with = "opt_string")]
    pub login_network_masks: Option<String>,
    /// Console session length in hours.
    #[serde(deserialize_with = "opt_i64")]
    pub login_session_duration: Option<i64>,
    /// `mandatory`, `independent` or `adaptive`.
    #[serde(rename = "MFAOperationForLogin", deserialize_with = "opt_string")]
    pub mfa_operation_for_login: Option<String>,
    /// Legacy predecessor of `MFAOperationForLogin`.
    #[serde(rename = "EnforceMFAForLogin", deserialize_with = "opt_bool")]
    pub enforce_mfa_for_login: Option<bool>,
    /// Users may change their own password.
    #[serde(deserialize_with = "opt_bool")]
    pub allow_user_to_change_password: Option<bool>,
}

/// `SecurityPreference.MFAPreference`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RawMfaPreference {
    /// Users may bind and unbind their own MFA devices.
    #[serde(rename = "AllowUserToManageMFADevices", deserialize_with = "opt_bool")]
    pub allow_user_to_manage_mfa_devices: Option<bool>,
}

/// `SecurityPreference.VerificationPreference`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawVerificationPreference {
    /// `sms`, `email`; an element may itself be a JSON-encoded array.
    pub verification_types: OneOrMany<String>,
}

/// `SecurityPreference.MaxIdleDays`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawMaxIdleDays {
    /// Console logon auto-disabled after this many idle days.
    #[serde(deserialize_with = "opt_i64")]
    pub max_idle_days_for_users: Option<i64>,
    /// AccessKeys auto-disabled after this many idle days.
    #[serde(deserialize_with = "opt_i64")]
    pub max_idle_days_for_access_keys: Option<i64>,
}

/// Ims or Ram `GetPasswordPolicy`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawPasswordPolicyResponse {
    /// The policy.
    pub password_policy: RawPasswordPolicy,
}

/// `PasswordPolicy` in either shape.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawPasswordPolicy {
    /// Minimum length.
    #[serde(deserialize_with = "opt_i64")]
    pub minimum_password_length: Option<i64>,
    /// Requires a lower-case letter.
    #[serde(deserialize_with = "opt_bool")]
    pub require_lowercase_characters: Option<bool>,
    /// Requires an upper-case letter.
    #[serde(deserialize_with = "opt_bool")]
    pub require_uppercase_characters: Option<bool>,
    /// Requires a digit.
    #[serde(deserialize_with = "opt_bool")]
    pub require_numbers: Option<bool>,
    /// Requires a symbol.
    #[serde(deserialize_with = "opt_bool")]
    pub require_symbols: Option<bool>,
    /// Days before a password expires; 0 = never.
    #[serde(deserialize_with = "opt_i64")]
    pub max_password_age: Option<i64>,
    /// Previous passwords that may not be reused; 0 = off.
    #[serde(deserialize_with = "opt_i64")]
    pub password_reuse_prevention: Option<i64>,
    /// Failed logons per hour before a lock; 0 = off. The API spells it without the "t".
    #[serde(
        rename = "MaxLoginAttemps",
        alias = "MaxLoginAttempts",
        deserialize_with = "opt_i64"
    )]
    pub max_login_attempts: Option<i64>,
    /// Block logon after expiry: `HardExpire` (Ims) or `HardExpiry` (Ram).
    #[serde(alias = "HardExpiry", deserialize_with = "opt_bool")]
    pub hard_expire: Option<bool>,
}

/// One page of Sas `DescribeRiskCheckResult` (JSON, or XML converted to the same tree).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawRiskCheckPage {
    /// Page number, from 1.
    #[serde(deserialize_with = "opt_i64")]
    pub current_page: Option<i64>,
    /// Page size asked for.
    #[serde(deserialize_with = "opt_i64")]
    pub page_size: Option<i64>,
    /// Items over all pages.
    #[serde(deserialize_with = "opt_i64")]
    pub total_count: Option<i64>,
    /// Number of pages.
    #[serde(deserialize_with = "opt_i64")]
    pub page_count: Option<i64>,
    /// The items of this page: an array, or one object.
    pub list: OneOrMany<RawRiskCheckItem>,
}

/// One check item of `DescribeRiskCheckResult`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawRiskCheckItem {
    /// Check item id (its meaning changed over the years: match with the title).
    #[serde(deserialize_with = "req_i64")]
    pub item_id: i64,
    /// Check item name, localised.
    #[serde(default, deserialize_with = "opt_string")]
    pub title: Option<String>,
    /// Category, localised.
    #[serde(rename = "Type", default, deserialize_with = "opt_string")]
    pub category: Option<String>,
    /// `high`, `medium`, `low`.
    #[serde(default, deserialize_with = "opt_string")]
    pub risk_level: Option<String>,
    /// `pass`, `failed`, `running`, `waiting`, `ignored`, `falsePositive`.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// `enabled`, or `disable`/`disabled` when the edition does not cover the item.
    #[serde(default, deserialize_with = "opt_string")]
    pub start_status: Option<String>,
    /// Affected assets.
    #[serde(default, deserialize_with = "opt_i64")]
    pub affected_count: Option<i64>,
    /// Affected asset type (sic).
    #[serde(default, deserialize_with = "opt_string")]
    pub risk_assert_type: Option<String>,
    /// Last check, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub check_time: Option<i64>,
    /// Detail blocks (description, impact, suggestion, references).
    #[serde(default)]
    pub risk_item_resources: OneOrMany<RawRiskItemResource>,
}

/// `RiskItemResources[]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawRiskItemResource {
    /// `bestPractice`, `influence`, `suggestion`, `helpResource`.
    #[serde(deserialize_with = "opt_string")]
    pub resource_name: Option<String>,
    /// An object, or a string holding JSON.
    pub content_resource: Option<Value>,
}

/// One page of Sas `ListCheckResult` (the newer CSPM API).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCheckResultPage {
    /// The checks of this page.
    pub checks: OneOrMany<RawCheck>,
    /// The page number, size and total count, when the response has them.
    pub page_info: Option<RawPageInfo>,
}

/// `PageInfo`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawPageInfo {
    /// Page number, from 1.
    #[serde(deserialize_with = "opt_i64")]
    pub current_page: Option<i64>,
    /// Page size.
    #[serde(deserialize_with = "opt_i64")]
    pub page_size: Option<i64>,
    /// Checks over all pages.
    #[serde(deserialize_with = "opt_i64")]
    pub total_count: Option<i64>,
}

/// One check of `ListCheckResult`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawCheck {
    /// Check id.
    #[serde(deserialize_with = "req_i64")]
    pub check_id: i64,
    /// Check name, localised.
    #[serde(default, deserialize_with = "opt_string")]
    pub check_show_name: Option<String>,
    /// `HIGH`, `MEDIUM`, `LOW`.
    #[serde(default, deserialize_with = "opt_string")]
    pub risk_level: Option<String>,
    /// `PASS`, `NOT_PASS`, `FAILED`, `CHECKING`, `NOT_CHECK`, `WHITELIST`.
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    /// Cloud product of the checked instances.
    #[serde(default, deserialize_with = "opt_string")]
    pub instance_type: Option<String>,
    /// Last check, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub last_check_time: Option<i64>,
    /// Standards and sections the check belongs to.
    #[serde(default)]
    pub check_policies: OneOrMany<RawCheckPolicy>,
}

/// `Checks[].CheckPolicies[]`: where the check sits in the vendor's standards (api-formats.md
/// 6.5). The ids are numbers in the SDK models (`int`); they arrive as numbers or numeric text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCheckPolicy {
    /// Standard id.
    #[serde(deserialize_with = "opt_i64")]
    pub standard_id: Option<i64>,
    /// Standard name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub standard_show_name: Option<String>,
    /// Requirement id.
    #[serde(deserialize_with = "opt_i64")]
    pub requirement_id: Option<i64>,
    /// Requirement name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub requirement_show_name: Option<String>,
    /// Section id.
    #[serde(deserialize_with = "opt_i64")]
    pub section_id: Option<i64>,
    /// Section name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub section_show_name: Option<String>,
}

// The two catalogue responses below are not in api-formats.md. Their fields are read from the
// Sas 2018-12-03 SDK models (aliyun/alibabacloud-php-sdk, sas-20181203/src/Models/
// GetCheckStructureResponseBody*.php and ListCheckStandardResponseBody*.php): every level has
// `Id` (int) and `ShowName` (string); GetCheckStructure nests `CheckStructureResponse[]` {
// `StandardType`, `Standards[]` { `Id`, `ShowName`, `Type`, `Requirements[]` { `Id`,
// `ShowName`, `TotalCheckCount`, `Sections[]` { `Id`, `ShowName` } } } }; ListCheckStandard
// answers `Standards[]` { `Id`, `ShowName`, `Type`, `BindVendor`, `ShowPriorityLevel`,
// `Requirements[]` { `Id`, `ShowName`, `RiskCheckCount`, `ShowPriorityLevel` } }. Neither
// has paging fields. We rely on the ids and names only; counts are kept as the vendor's.

/// Sas `GetCheckStructure`: standards, their requirements and sections.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCheckStructure {
    /// One entry per standard type (`RISK`, `COMPLIANCE`, ...).
    pub check_structure_response: OneOrMany<RawStructureGroup>,
}

/// `CheckStructureResponse[]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawStructureGroup {
    /// The type of the standards below.
    #[serde(deserialize_with = "opt_string")]
    pub standard_type: Option<String>,
    /// The standards.
    pub standards: OneOrMany<RawCatalogueStandard>,
}

/// A standard of either catalogue response.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCatalogueStandard {
    /// Standard id.
    #[serde(deserialize_with = "opt_i64")]
    pub id: Option<i64>,
    /// Standard name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub show_name: Option<String>,
    /// Its type (`RISK`, `COMPLIANCE`, ...).
    #[serde(rename = "Type", deserialize_with = "opt_string")]
    pub kind: Option<String>,
    /// Its requirements.
    pub requirements: OneOrMany<RawCatalogueRequirement>,
}

/// A requirement of either catalogue response.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCatalogueRequirement {
    /// Requirement id.
    #[serde(deserialize_with = "opt_i64")]
    pub id: Option<i64>,
    /// Requirement name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub show_name: Option<String>,
    /// Its sections (GetCheckStructure only).
    pub sections: OneOrMany<RawCatalogueSection>,
}

/// A section of `GetCheckStructure`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCatalogueSection {
    /// Section id.
    #[serde(deserialize_with = "opt_i64")]
    pub id: Option<i64>,
    /// Section name, localised.
    #[serde(deserialize_with = "opt_string")]
    pub show_name: Option<String>,
}

/// Sas `ListCheckStandard`: standards and their requirements.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RawCheckStandards {
    /// The standards.
    pub standards: OneOrMany<RawCatalogueStandard>,
}

/// One page of Ims `GetCredentialReport`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawCredentialReportPage {
    /// Base64 of the CSV text (line breaks allowed).
    pub content: String,
    /// When the report was generated, ISO 8601 UTC.
    pub generated_time: String,
    /// More pages follow.
    #[serde(default, deserialize_with = "opt_bool")]
    pub is_truncated: Option<bool>,
    /// Token for the next page.
    #[serde(default, deserialize_with = "opt_string")]
    pub next_token: Option<String>,
}

/// Sts `GetCallerIdentity`, which names the account UID.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RawCallerIdentity {
    /// Account UID.
    #[serde(deserialize_with = "req_string")]
    pub account_id: String,
}

fn req_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    opt_string(deserializer)?.ok_or_else(|| serde::de::Error::custom("expected text, found null"))
}
