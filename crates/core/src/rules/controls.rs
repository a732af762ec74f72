//! Rules stage: the built-in control catalog and the logic of each control.
//!
//! Each control is a pure function of the account. Where sources disagree, the per-user,
//! dated credential report decides, then the practice report, then Security Center items;
//! the disagreement itself becomes a data-quality note, never a failure.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::types::{Ctx, Finding, Message, Noun, Outcome, ResourceResult, Section, Status};
use crate::ingest::credential::{Flag, Stamp};
use crate::model::{
    AccessKey, Credentials, MfaForLogin, PasswordPolicy, Preference, Principal, SasItem, SasStatus,
    Severity,
};

/// A built-in control: its stable id, text, mappings and logic.
pub struct ControlDef {
    /// Stable id, used in output and exception files; never renamed casually.
    pub id: &'static str,
    /// The title in English; the report language's comes from the catalogue.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Report section.
    pub section: Section,
    /// CIS Alibaba Cloud Foundations Benchmark v1.0.0 recommendation.
    pub cis_v1: Option<&'static str>,
    /// CIS v2.0.0 recommendation.
    pub cis_v2: Option<&'static str>,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix a failure.
    pub remediation: &'static str,
    /// What its resources are, for counting the failing ones ("2 console users").
    pub noun: Noun,
    /// A compensating control that changes the fix where the account has it.
    pub compensated: Option<Compensated>,
    /// The exact logic, with `{threshold}` placeholders.
    pub logic: &'static str,
    /// Evidence used, in order of precedence.
    pub evidence: &'static str,
    /// The evaluation.
    pub eval: fn(&Ctx) -> Outcome,
}

/// A compensating control that changes a control's fix: when the account has it, part of
/// the remediation is done and the finding calls for the rest
/// ([`Remediation::Compensated`](super::types::Remediation::Compensated)).
pub struct Compensated {
    /// Whether the account has the compensating control.
    pub applies: fn(&Ctx) -> bool,
    /// What remains to do then, in English; other languages:
    /// `control.<id>.remediation_compensated` (see [`super::control_text`]), and where to
    /// do it: `risk.<id>.where_compensated`.
    pub remediation: &'static str,
}

/// Every built-in control, in report order.
pub static CATALOG: &[ControlDef] = &[
    ControlDef {
        id: "root.no_recent_use",
        title: "Avoid use of the root account",
        severity: Severity::High,
        section: Section::CisIdentity,
        cis_v1: Some("1.1"),
        cis_v2: Some("1.1"),
        rationale: "The root account has unrestricted access; everyday work should use RAM identities so that actions are attributable and limited.",
        remediation: "Create RAM users or roles for daily work, stop using the root account's password and AccessKeys, and keep its credentials locked away.",
        noun: Noun::Root,
        compensated: None,
        logic: "Fails when the <root> row shows a console logon, or any root AccessKey used, within {root_use_days} days before the as-of date.",
        evidence: "credential report",
        eval: root_no_recent_use,
    },
    ControlDef {
        id: "root.no_access_key",
        title: "No AccessKey exists for the root account",
        severity: Severity::High,
        section: Section::CisIdentity,
        cis_v1: Some("1.2"),
        cis_v2: Some("1.2"),
        rationale: "A root AccessKey gives unrestricted API access and cannot be limited by policy; a leaked one compromises the whole account.",
        remediation: "Delete every AccessKey of the root account (console: AccessKey management) and use RAM users or roles for API access.",
        noun: Noun::AccessKeys,
        compensated: None,
        logic: "Fails when any key slot of the <root> row (access_key_1, access_key_2 and every additional_access_key_N) exists and is active. Without a credential report: the practice report's RootWithAccessKey count, then Security Center item 49.",
        evidence: "credential report, then practice report, then Security Center item 49",
        eval: root_no_access_key,
    },
    ControlDef {
        id: "root.mfa",
        title: "MFA is enabled for the root account",
        severity: Severity::High,
        section: Section::CisIdentity,
        cis_v1: Some("1.3"),
        cis_v2: Some("1.3"),
        rationale: "A password alone can be phished or guessed; MFA protects the most powerful identity in the account.",
        remediation: "Bind a virtual MFA device or security key to the root account (console: Security Settings).",
        noun: Noun::Root,
        compensated: None,
        logic: "Passes when the <root> row's mfa_active is TRUE; else the practice report's BindMfa; else Security Center item 3.",
        evidence: "credential report, then practice report, then Security Center item 3",
        eval: root_mfa,
    },
    ControlDef {
        id: "ram.console_mfa",
        title: "MFA is enabled for every RAM user with console access",
        severity: Severity::High,
        section: Section::CisIdentity,
        cis_v1: Some("1.4"),
        cis_v2: Some("1.4"),
        rationale: "Console users without MFA can be taken over with a stolen password.",
        remediation: "Bind an MFA device to each listed user, or require MFA at logon for all users (security preference MFAOperationForLogin = mandatory) and have each user bind a device.",
        noun: Noun::ConsoleUsers,
        compensated: Some(Compensated {
            applies: mfa_mandatory,
            remediation: "MFA is already required at every console sign-in: have each listed user bind an MFA device (they are asked to at their next sign-in), or disable console access for users who do not need it.",
        }),
        logic: "Console access means password_exist TRUE and password_active TRUE (FALSE, N/A and LOGIN_DISABLED are not console access). Each console user fails unless mfa_active is TRUE. Users without console access are not applicable. An account-wide MFAOperationForLogin = mandatory is shown as a compensating control, not as a pass.",
        evidence: "credential report, then practice report (pass only), then Security Center item 15",
        eval: ram_console_mfa,
    },
    ControlDef {
        id: "ram.inactive_console_users",
        title: "Console users inactive for {inactive_user_days} days or more are disabled",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.5"),
        cis_v2: Some("1.5"),
        rationale: "Dormant logins are unwatched doors; disabling them removes credentials nobody would miss.",
        remediation: "Disable console logon for the listed users (or delete them), and set MaxIdleDaysForUsers to {max_idle_days} in the security preference.",
        noun: Noun::ConsoleUsers,
        compensated: None,
        logic: "For each console user, inactivity runs from user_last_logon, or from user_creation_time when the user never logged on. A console user inactive for {inactive_user_days} days or more at the as-of date fails.",
        evidence: "credential report",
        eval: ram_inactive_console_users,
    },
    ControlDef {
        id: "ram.access_key_rotation",
        title: "Active AccessKeys are rotated within {access_key_rotation_days} days",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.6"),
        cis_v2: Some("1.6"),
        rationale: "Long-lived keys accumulate exposure in scripts, logs and laptops; rotation limits how long a leaked key works.",
        remediation: "Create a new AccessKey, move its users to it, then disable and delete the old key.",
        noun: Noun::AccessKeys,
        compensated: None,
        logic: "Every active key (exist and active TRUE) in every slot of every row, root included, fails when last rotated more than {access_key_rotation_days} days before the as-of date. Inactive keys are not applicable.",
        evidence: "credential report",
        eval: ram_access_key_rotation,
    },
    ControlDef {
        id: "pwd.require_uppercase",
        title: "Password policy requires at least one upper-case letter",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.7"),
        cis_v2: Some("1.7"),
        rationale: "Character classes make passwords harder to guess.",
        remediation: "Set RequireUppercaseCharacters in the RAM password policy.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when RequireUppercaseCharacters is true.",
        evidence: "password policy",
        eval: pwd_uppercase,
    },
    ControlDef {
        id: "pwd.require_lowercase",
        title: "Password policy requires at least one lower-case letter",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.8"),
        cis_v2: Some("1.8"),
        rationale: "Character classes make passwords harder to guess.",
        remediation: "Set RequireLowercaseCharacters in the RAM password policy.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when RequireLowercaseCharacters is true.",
        evidence: "password policy",
        eval: pwd_lowercase,
    },
    ControlDef {
        id: "pwd.require_symbols",
        title: "Password policy requires at least one symbol",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.9"),
        cis_v2: Some("1.9"),
        rationale: "Character classes make passwords harder to guess.",
        remediation: "Set RequireSymbols in the RAM password policy.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when RequireSymbols is true.",
        evidence: "password policy",
        eval: pwd_symbols,
    },
    ControlDef {
        id: "pwd.require_numbers",
        title: "Password policy requires at least one number",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.10"),
        cis_v2: Some("1.10"),
        rationale: "Character classes make passwords harder to guess.",
        remediation: "Set RequireNumbers in the RAM password policy.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when RequireNumbers is true.",
        evidence: "password policy",
        eval: pwd_numbers,
    },
    ControlDef {
        id: "pwd.min_length",
        title: "Password policy requires a minimum length of {password_min_length} or more",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.11"),
        cis_v2: Some("1.11"),
        rationale: "Length is the strongest defence against guessing.",
        remediation: "Set MinimumPasswordLength to {password_min_length} or more.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MinimumPasswordLength >= {password_min_length}.",
        evidence: "password policy",
        eval: pwd_min_length,
    },
    ControlDef {
        id: "pwd.reuse_prevention",
        title: "Password policy prevents reuse of the last {password_reuse_prevention} passwords or more",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.12"),
        cis_v2: Some("1.12"),
        rationale: "Reuse brings back passwords that may already be known.",
        remediation: "Set PasswordReusePrevention to {password_reuse_prevention} or more.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when PasswordReusePrevention >= {password_reuse_prevention} (more is better, not only exactly {password_reuse_prevention}).",
        evidence: "password policy",
        eval: pwd_reuse,
    },
    ControlDef {
        id: "pwd.max_age_v1",
        title: "Password policy expires passwords within {password_max_age_days_v1} days (CIS v1.0.0)",
        severity: Severity::Low,
        section: Section::CisIdentity,
        cis_v1: Some("1.13"),
        cis_v2: None,
        rationale: "CIS v1.0.0 asks for periodic password changes.",
        remediation: "Set MaxPasswordAge between 1 and {password_max_age_days_v1}.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MaxPasswordAge is between 1 and {password_max_age_days_v1} days; 0 (never expires) fails.",
        evidence: "password policy",
        eval: pwd_max_age_v1,
    },
    ControlDef {
        id: "pwd.max_age_v2",
        title: "Passwords expire after {password_min_age_days_v2} days or more, or never (CIS v2.0.0)",
        severity: Severity::Low,
        section: Section::CisIdentity,
        cis_v1: None,
        cis_v2: Some("1.13"),
        rationale: "CIS v2.0.0 follows current guidance: frequent forced changes lead to weaker passwords.",
        remediation: "Set MaxPasswordAge to 0 (never) or to {password_min_age_days_v2} or more.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MaxPasswordAge is 0 (never expires) or >= {password_min_age_days_v2}; shorter periods fail.",
        evidence: "password policy",
        eval: pwd_max_age_v2,
    },
    ControlDef {
        id: "pwd.lockout",
        title: "Logon is locked after at most {max_login_attempts} failed attempts",
        severity: Severity::Medium,
        section: Section::CisIdentity,
        cis_v1: Some("1.14"),
        cis_v2: Some("1.14"),
        rationale: "Lockout stops online password guessing.",
        remediation: "Set MaxLoginAttemps (the lockout threshold of the RAM password policy: failed sign-ins before the user is locked out for an hour) between 1 and {max_login_attempts}.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MaxLoginAttemps is between 1 and {max_login_attempts}; 0 means lockout is off and fails.",
        evidence: "password policy",
        eval: pwd_lockout,
    },
    ControlDef {
        id: "ram.no_admin_policies",
        title: "No RAM policy grants full administrative privileges (*:*)",
        severity: Severity::High,
        section: Section::CisIdentity,
        cis_v1: Some("1.15"),
        cis_v2: Some("1.15"),
        rationale: "Full-admin custom policies defeat least privilege.",
        remediation: "Replace full-admin policies with policies scoped to the actions and resources needed.",
        noun: Noun::Items,
        compensated: None,
        logic: "Needs the RAM policy documents (ListPolicies, GetPolicyVersion), which the saved evidence does not include: always not evaluable unless a Security Center item covers it.",
        evidence: "none of the supported evidence",
        eval: needs_policy_documents,
    },
    ControlDef {
        id: "ram.policies_on_groups",
        title: "RAM policies are attached only to groups or roles",
        severity: Severity::Low,
        section: Section::CisIdentity,
        cis_v1: Some("1.16"),
        cis_v2: Some("1.16"),
        rationale: "Granting through groups keeps permissions reviewable as people join and leave.",
        remediation: "Move policies attached to users onto groups and add the users to those groups.",
        noun: Noun::Items,
        compensated: None,
        logic: "Needs the policy attachments of each user (ListPoliciesForUser), which the saved evidence does not include: always not evaluable unless a Security Center item covers it.",
        evidence: "none of the supported evidence",
        eval: needs_policy_documents,
    },
    ControlDef {
        id: "ram.unused_access_keys",
        title: "No active AccessKey is unused for {unused_access_key_days} days or more, or never used",
        severity: Severity::Medium,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Unused keys are pure exposure: nobody needs them and nobody watches them.",
        remediation: "Disable, then delete, the listed keys.",
        noun: Noun::AccessKeys,
        compensated: None,
        logic: "Every active key fails when access_key_*_last_used is '-' (never used) or {unused_access_key_days} days or more before the as-of date.",
        evidence: "credential report",
        eval: ram_unused_access_keys,
    },
    ControlDef {
        id: "ram.single_active_key",
        title: "No identity has more than one active AccessKey",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Two active keys are only needed during a rotation; otherwise the second key doubles the exposure.",
        remediation: "Finish the rotation: disable and delete the older key.",
        noun: Noun::Identities,
        compensated: None,
        logic: "Each row with at least one active key fails when it has more than one active key, counting every slot.",
        evidence: "credential report",
        eval: ram_single_active_key,
    },
    ControlDef {
        id: "pref.mfa_enforced",
        title: "MFA is required at every console logon",
        severity: Severity::High,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "An account-wide requirement covers users created tomorrow as well as today.",
        remediation: "Set MFAOperationForLogin to mandatory in the RAM security preference.",
        noun: Noun::Settings,
        compensated: None,
        logic: "MFAOperationForLogin (legacy EnforceMFAForLogin true = mandatory, false = independent): mandatory passes; adaptive (MFA only for risky logons) is a partial measure and fails; independent fails. Absent (Ram 2015-05-01 shape or an older Ims response) is not evaluable.",
        evidence: "security preference (Ims)",
        eval: pref_mfa_enforced,
    },
    ControlDef {
        id: "pref.login_network_restricted",
        title: "Console logon is restricted to known networks",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "A network allow-list makes stolen passwords useless from elsewhere.",
        remediation: "Set LoginNetworkMasks to the office and VPN address ranges.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when LoginNetworkMasks lists at least one network; empty means logon from anywhere and fails.",
        evidence: "security preference",
        eval: pref_login_network,
    },
    ControlDef {
        id: "pref.session_duration",
        title: "Console sessions last at most {session_max_hours} hours",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Short sessions limit the use of an unattended or hijacked browser.",
        remediation: "Set LoginSessionDuration to {session_max_hours} hours or less.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when LoginSessionDuration <= {session_max_hours}.",
        evidence: "security preference",
        eval: pref_session_duration,
    },
    ControlDef {
        id: "pref.users_cannot_manage_keys",
        title: "RAM users cannot manage their own AccessKeys",
        severity: Severity::Medium,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Self-service keys escape central review.",
        remediation: "Set AllowUserToManageAccessKeys to false and issue keys centrally.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when AllowUserToManageAccessKeys is false.",
        evidence: "security preference",
        eval: pref_users_cannot_manage_keys,
    },
    ControlDef {
        id: "pref.idle_users_disabled",
        title: "Idle console users are disabled automatically within {max_idle_days} days",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Automatic disabling enforces CIS 1.5 between audits.",
        remediation: "Set MaxIdleDaysForUsers to {max_idle_days}.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MaxIdleDaysForUsers <= {max_idle_days}. Absent (Ram shape, or Ims before late 2024) is not evaluable.",
        evidence: "security preference (Ims)",
        eval: pref_idle_users,
    },
    ControlDef {
        id: "pref.idle_keys_disabled",
        title: "Idle AccessKeys are disabled automatically within {max_idle_days} days",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "Automatic disabling removes forgotten keys between audits.",
        remediation: "Set MaxIdleDaysForAccessKeys to {max_idle_days}.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when MaxIdleDaysForAccessKeys <= {max_idle_days}. Absent is not evaluable.",
        evidence: "security preference (Ims)",
        eval: pref_idle_keys,
    },
    ControlDef {
        id: "pref.mfa_ticket_saving_off",
        title: "MFA is not remembered for seven days",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "A remembered MFA ticket turns a stolen session or device into a week of access.",
        remediation: "Set EnableSaveMFATicket to false.",
        noun: Noun::Settings,
        compensated: None,
        logic: "Passes when EnableSaveMFATicket is false.",
        evidence: "security preference",
        eval: pref_mfa_ticket,
    },
    ControlDef {
        id: "ram.password_rotation_overdue",
        title: "No console user's password is past its rotation date",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "An overdue password shows the expiry policy is not being followed.",
        remediation: "Have the listed users change their password, or review the expiry policy.",
        noun: Noun::ConsoleUsers,
        compensated: None,
        logic: "Each console user whose password_next_rotation is before the as-of date fails; '-' (the policy never expires passwords) passes.",
        evidence: "credential report",
        eval: ram_password_rotation_overdue,
    },
    ControlDef {
        id: "spr.password_strength",
        title: "RAM user passwords are rated strong by Alibaba Cloud",
        severity: Severity::Low,
        section: Section::BestPractice,
        cis_v1: None,
        cis_v2: None,
        rationale: "The vendor's own rating of the RAM password policy.",
        remediation: "Strengthen the password policy (length, character classes, reuse, lockout) until the rating is high.",
        noun: Noun::Items,
        compensated: None,
        logic: "The practice report's SubUserPwdLevel: high passes; mid and low fail.",
        evidence: "practice report",
        eval: spr_password_strength,
    },
];

// ---------------------------------------------------------------- helpers

fn stamp_text(t: DateTime<Utc>) -> String {
    // NaiveDate's Display is YYYY-MM-DD without parsing a format string on every call.
    t.date_naive().to_string()
}

fn whole_days(d: Duration) -> i64 {
    d.num_days()
}

fn credentials<'a>(ctx: &'a Ctx) -> Result<&'a Credentials, Box<Outcome>> {
    ctx.account.credentials.get().ok_or_else(|| {
        Box::new(Outcome::not_evaluable(absence(
            &ctx.account.credentials,
            "credential_report",
        )))
    })
}

fn as_of(ctx: &Ctx) -> Result<DateTime<Utc>, Box<Outcome>> {
    ctx.as_of
        .ok_or_else(|| Box::new(Outcome::not_evaluable(Message::key("engine.no_as_of"))))
}

fn resource(
    ctx: &Ctx,
    p: &Principal,
    id: String,
    status: Status,
    detail: Message,
    column: &str,
) -> ResourceResult {
    ResourceResult {
        id,
        status,
        detail,
        file: ctx.explain.then(|| p.file.clone()),
        field: ctx.explain.then(|| format!("{}, {column}", p.place())),
    }
}

fn principals(c: &Credentials) -> impl Iterator<Item = &Principal> {
    c.root.iter().chain(c.users.iter())
}

fn console_users(c: &Credentials) -> impl Iterator<Item = &Principal> {
    c.users.iter().filter(|u| u.has_console_access())
}

/// A Security Center verdict as a result state, when it is a pass or a fail.
fn vendor_status(status: &SasStatus) -> Option<Status> {
    match status {
        SasStatus::Pass => Some(Status::Pass),
        SasStatus::Failed => Some(Status::Fail),
        _ => None,
    }
}

/// The Security Center item that stands in for a built-in control, if any.
fn sas_stand_in<'a>(ctx: &'a Ctx, control: &str) -> Option<&'a SasItem> {
    ctx.account
        .sas
        .get()?
        .items
        .iter()
        .find(|i| sas_duplicate_of(i) == Some(control))
}

/// The name of a status as the charts' legend writes it (`chart.legend.<status>`).
fn legend(status: Status) -> Message {
    Message::key(format!("chart.legend.{}", status.as_str()))
}

/// A control decided by the Security Center item standing in for it; `why` is the
/// catalogue key saying why our own evidence could not decide it.
fn from_sas(item: &SasItem, why: &'static str) -> Option<Outcome> {
    let status = vendor_status(&item.decider().status)?;
    let mut outcome = Outcome::of(
        status,
        Message::key("engine.decided_by_sas")
            .nested("why", Message::key(why))
            .arg("id", item.vendor_id)
            .arg("title", &item.title)
            .nested("status", legend(status)),
    );
    // The resources the item names; the root account's controls are about `<root>`.
    if item.resources.is_empty() || status == Status::Pass {
        let root = matches!(sas_duplicate_of(item), Some(id) if id.starts_with("root."));
        outcome.resources.push(ResourceResult {
            id: if root {
                "<root>".to_string()
            } else {
                String::new()
            },
            status,
            detail: Message::from(item.title.clone()),
            file: Some(item.file.clone()),
            field: Some(item.path.clone()),
        });
    } else {
        outcome
            .resources
            .extend(item.resources.iter().map(|r| ResourceResult {
                id: r.name.clone(),
                status,
                detail: Message::from(r.detail.clone()),
                file: Some(item.file.clone()),
                field: Some(r.path.clone()),
            }));
    }
    Some(outcome)
}

fn setting<T: std::fmt::Debug>(
    file: &[String],
    field: &str,
    value: Option<T>,
    what: &str,
    check: impl Fn(&T) -> (bool, Message),
) -> Outcome {
    let Some(value) = value else {
        return Outcome::not_evaluable(
            Message::key("engine.field_missing")
                .arg("field", field)
                .nested("what", Message::key(format!("engine.what_{what}"))),
        );
    };
    let (ok, detail) = check(&value);
    let status = if ok { Status::Pass } else { Status::Fail };
    Outcome {
        status: Some(status),
        detail: detail.clone(),
        compensating: None,
        resources: vec![ResourceResult {
            id: field.to_string(),
            status,
            detail,
            file: file.first().map(|f| Arc::from(f.as_str())),
            field: Some(field.to_string()),
        }],
    }
}

fn policy<'a>(ctx: &'a Ctx) -> Result<(&'a PasswordPolicy, &'a [String]), Box<Outcome>> {
    let source = &ctx.account.password_policy;
    source
        .get()
        .map(|p| (p, source.files()))
        .ok_or_else(|| Box::new(Outcome::not_evaluable(absence(source, "password_policy"))))
}

fn preference<'a>(ctx: &'a Ctx) -> Result<(&'a Preference, &'a [String]), Box<Outcome>> {
    let source = &ctx.account.preference;
    source.get().map(|p| (p, source.files())).ok_or_else(|| {
        Box::new(Outcome::not_evaluable(absence(
            source,
            "security_preference",
        )))
    })
}

/// Text for output: skipped (empty) when the caller does not keep explanations, as
/// `validate` does not, because formatting per-resource text is most of the rules' cost.
macro_rules! text {
    ($ctx:expr, $($arg:tt)*) => {
        if $ctx.explain { format!($($arg)*) } else { String::new() }
    };
}

/// An explanation from the message catalogue (`engine.<key>`) with named values written as
/// text: `say!(ctx, "inactive_summary", failing = n, total = m)`. Skipped (empty) like
/// [`text!`] when explanations are off.
macro_rules! say {
    ($ctx:expr, $key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        if $ctx.explain {
            Message::key(concat!("engine.", $key))$(.arg(stringify!($name), $value))*
        } else {
            Message::default()
        }
    };
}

/// Why evidence is not there: `what` names it (`credential_report`...).
fn absence<T>(source: &crate::model::Source<T>, what: &str) -> Message {
    let name = Message::key(format!("engine.what_{what}"));
    match source {
        crate::model::Source::Present { .. } => {
            Message::key("engine.source_present").nested("what", name)
        }
        crate::model::Source::Rejected(paths) => Message::key("engine.source_rejected")
            .nested("what", name)
            .arg("files", paths.join(", ")),
        crate::model::Source::Missing => Message::key("engine.source_missing").nested("what", name),
    }
}

/// Why neither the credential report nor the practice report could decide a control (empty
/// when explanations are off).
fn absences(ctx: &Ctx) -> Message {
    if !ctx.explain {
        return Message::default();
    }
    absence(&ctx.account.credentials, "credential_report")
        .then(absence(&ctx.account.practice, "practice_report"))
}

/// The value, or the control's answer when it cannot be evaluated (boxed, as the error of a
/// `Result` should be small).
macro_rules! try_or {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(outcome) => return *outcome,
        }
    };
}

/// One resource per active key of every row (root included), judged by `judge`; the field
/// named is the key slot's `<slot>_<column>`.
fn per_active_key(
    ctx: &Ctx,
    c: &Credentials,
    column: &str,
    judge: impl Fn(&AccessKey) -> (Status, Message),
) -> Vec<ResourceResult> {
    let mut resources = Vec::new();
    for p in principals(c) {
        for key in p.active_keys() {
            let (status, detail) = judge(key);
            resources.push(resource(
                ctx,
                p,
                text!(ctx, "{}/{}", p.name, key.slot),
                status,
                detail,
                &text!(ctx, "{}_{column}", key.slot),
            ));
        }
    }
    resources
}

/// A control decided by its resources, with a one-line count: `none` when there is nothing
/// to check, else `summary(failing, total)`.
fn tally(
    ctx: &Ctx,
    resources: Vec<ResourceResult>,
    none: Message,
    summary: impl Fn(usize, usize) -> Message,
) -> Outcome {
    let failing = resources
        .iter()
        .filter(|r| r.status == Status::Fail)
        .count();
    let detail = match (ctx.explain, resources.is_empty()) {
        (false, _) => Message::default(),
        (true, true) => none,
        (true, false) => summary(failing, resources.len()),
    };
    Outcome {
        status: None,
        detail,
        compensating: None,
        resources,
    }
}

// ---------------------------------------------------------------- CIS 1

fn root_no_recent_use(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let as_of = try_or!(as_of(ctx));
    let Some(root) = &c.root else {
        return Outcome::not_evaluable(Message::key("engine.no_root_row"));
    };
    let window = Duration::days(ctx.t.root_use_days);
    let mut resources = Vec::new();
    let recent = |t: DateTime<Utc>| as_of - t <= window && t <= as_of + Duration::days(1);
    let (status, detail) = match root.last_logon {
        Stamp::At(t) if recent(t) => (
            Status::Fail,
            say!(
                ctx,
                "root_logon_recent",
                date = stamp_text(t),
                days = whole_days(as_of - t)
            ),
        ),
        Stamp::At(t) => (Status::Pass, say!(ctx, "last_logon", date = stamp_text(t))),
        Stamp::Never => (Status::Pass, say!(ctx, "never_logged_on")),
        _ => (Status::NotEvaluable, say!(ctx, "no_logon_date")),
    };
    resources.push(resource(
        ctx,
        root,
        "<root>/console".into(),
        status,
        detail,
        "user_last_logon",
    ));
    for key in &root.keys {
        if let Stamp::At(t) = key.last_used {
            let status = if recent(t) {
                Status::Fail
            } else {
                Status::Pass
            };
            resources.push(resource(
                ctx,
                root,
                text!(ctx, "<root>/{}", key.slot),
                status,
                say!(
                    ctx,
                    "key_used_recent",
                    date = stamp_text(t),
                    days = whole_days(as_of - t)
                ),
                &text!(ctx, "{}_last_used", key.slot),
            ));
        }
    }
    let mut outcome = Outcome {
        resources,
        ..Outcome::default()
    };
    outcome.detail = match super::types::roll_up(&outcome.resources) {
        Status::Fail => say!(ctx, "root_used", days = ctx.t.root_use_days),
        _ => say!(ctx, "root_not_used", days = ctx.t.root_use_days),
    };
    outcome
}

fn root_no_access_key(ctx: &Ctx) -> Outcome {
    if let Some(c) = ctx.account.credentials.get() {
        let Some(root) = &c.root else {
            return Outcome::not_evaluable(Message::key("engine.no_root_row"));
        };
        let mut resources = Vec::new();
        for key in &root.keys {
            let status = match (&key.exist, &key.active) {
                (Flag::True, Flag::True) => Status::Fail,
                (Flag::True, Flag::Unknown) | (Flag::Unknown, _) => Status::NotEvaluable,
                _ => continue,
            };
            resources.push(resource(
                ctx,
                root,
                text!(ctx, "<root>/{}", key.slot),
                status,
                match status {
                    Status::Fail => say!(ctx, "root_key_active"),
                    _ => say!(ctx, "root_key_unknown"),
                },
                &text!(ctx, "{}_active", key.slot),
            ));
        }
        let active = resources
            .iter()
            .filter(|r| r.status == Status::Fail)
            .count();
        let status = if active > 0 {
            Status::Fail
        } else if resources.is_empty() {
            Status::Pass
        } else {
            Status::NotEvaluable
        };
        if resources.is_empty() {
            // Evidence of the pass: the row that was checked.
            resources.push(resource(
                ctx,
                root,
                text!(ctx, "<root>"),
                Status::Pass,
                say!(ctx, "no_key_slot_active"),
                "access_key_*_active",
            ));
        }
        return Outcome {
            status: Some(status),
            detail: if active > 0 {
                say!(ctx, "root_keys_active", n = active)
            } else {
                say!(ctx, "no_root_key")
            },
            compensating: None,
            resources,
        };
    }
    if let Some(p) = ctx.account.practice.get()
        && let Some(n) = p.root_access_keys
    {
        let status = if n > 0 { Status::Fail } else { Status::Pass };
        return Outcome {
            status: Some(status),
            detail: say!(ctx, "practice_root_keys", n = n),
            compensating: None,
            resources: vec![ResourceResult {
                id: "<root>".into(),
                status,
                detail: Message::from(text!(ctx, "RootWithAccessKey = {n}")),
                file: ctx
                    .account
                    .practice
                    .files()
                    .first()
                    .map(|f| Arc::from(f.as_str())),
                field: Some(
                    "AccountSecurityPracticeInfo.AccountSecurityPracticeUserInfo.RootWithAccessKey"
                        .into(),
                ),
            }],
        };
    }
    if let Some(outcome) = sas_stand_in(ctx, "root.no_access_key")
        .and_then(|i| from_sas(i, "engine.no_cr_or_practice"))
    {
        return outcome;
    }
    Outcome::not_evaluable(absences(ctx))
}

fn root_mfa(ctx: &Ctx) -> Outcome {
    if let Some(c) = ctx.account.credentials.get()
        && let Some(root) = &c.root
    {
        let status = match root.mfa_active {
            Flag::True => Status::Pass,
            Flag::False => Status::Fail,
            _ => Status::NotEvaluable,
        };
        if status != Status::NotEvaluable || ctx.account.practice.get().is_none() {
            let detail = match status {
                Status::Pass => say!(ctx, "root_mfa_on"),
                Status::Fail => say!(ctx, "root_mfa_off"),
                _ => Message::from(text!(ctx, "mfa_active is {:?}", root.mfa_active)),
            };
            return Outcome {
                status: Some(status),
                detail: detail.clone(),
                compensating: None,
                resources: vec![resource(
                    ctx,
                    root,
                    "<root>".into(),
                    status,
                    detail,
                    "mfa_active",
                )],
            };
        }
    }
    if let Some(p) = ctx.account.practice.get()
        && let Some(bound) = p.root_mfa
    {
        let status = if bound { Status::Pass } else { Status::Fail };
        return Outcome {
            status: Some(status),
            detail: say!(ctx, "practice_bind_mfa", value = bound),
            compensating: None,
            resources: vec![ResourceResult {
                id: "<root>".into(),
                status,
                detail: Message::from(text!(ctx, "BindMfa = {bound}")),
                file: ctx
                    .account
                    .practice
                    .files()
                    .first()
                    .map(|f| Arc::from(f.as_str())),
                field: Some(
                    "AccountSecurityPracticeInfo.AccountSecurityPracticeUserInfo.BindMfa".into(),
                ),
            }],
        };
    }
    if let Some(outcome) =
        sas_stand_in(ctx, "root.mfa").and_then(|i| from_sas(i, "engine.no_cr_or_practice"))
    {
        return outcome;
    }
    Outcome::not_evaluable(absences(ctx))
}

/// Whether the security preference requires MFA at every console sign-in.
fn mfa_mandatory(ctx: &Ctx) -> bool {
    ctx.account
        .preference
        .get()
        .is_some_and(|p| p.mfa_for_login == Some(MfaForLogin::Mandatory))
}

fn mandatory_mfa_note(ctx: &Ctx) -> Option<Message> {
    mfa_mandatory(ctx).then(|| Message::key("engine.compensating_mfa"))
}

fn ram_console_mfa(ctx: &Ctx) -> Outcome {
    if let Some(c) = ctx.account.credentials.get() {
        let resources: Vec<ResourceResult> = console_users(c)
            .map(|u| {
                let (status, detail) = match &u.mfa_active {
                    Flag::True => (Status::Pass, say!(ctx, "console_mfa_on")),
                    Flag::Unknown => (Status::NotEvaluable, say!(ctx, "mfa_unknown")),
                    _ => (Status::Fail, say!(ctx, "console_mfa_off")),
                };
                resource(
                    ctx,
                    u,
                    text!(ctx, "{}", u.name),
                    status,
                    detail,
                    "mfa_active",
                )
            })
            .collect();
        let failing = resources
            .iter()
            .filter(|r| r.status == Status::Fail)
            .count();
        let detail = if resources.is_empty() {
            say!(ctx, "no_console_users")
        } else if failing > 0 {
            say!(
                ctx,
                "console_mfa_summary",
                failing = failing,
                total = resources.len()
            )
        } else {
            say!(ctx, "all_console_mfa", n = resources.len())
        };
        return Outcome {
            status: None,
            detail,
            compensating: if failing > 0 {
                mandatory_mfa_note(ctx)
            } else {
                None
            },
            resources,
        };
    }
    if let Some(p) = ctx.account.practice.get()
        && let (Some(users), Some(with_mfa)) = (p.ram_users, p.ram_users_with_mfa)
    {
        if users == 0 {
            return Outcome::of(Status::NotApplicable, say!(ctx, "practice_no_users"));
        }
        if with_mfa >= users {
            return Outcome::of(Status::Pass, say!(ctx, "practice_all_mfa", n = users));
        }
        // Users without MFA may be API-only, so the counts cannot fail the control.
    }
    if let Some(outcome) =
        sas_stand_in(ctx, "ram.console_mfa").and_then(|i| from_sas(i, "engine.no_cr"))
    {
        return outcome;
    }
    Outcome::not_evaluable(if ctx.explain {
        Message::key("engine.counts_not_enough").nested(
            "why",
            absence(&ctx.account.credentials, "credential_report"),
        )
    } else {
        Message::default()
    })
}

fn ram_inactive_console_users(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let as_of = try_or!(as_of(ctx));
    let limit = Duration::days(ctx.t.inactive_user_days);
    let resources: Vec<ResourceResult> = console_users(c)
        .map(|u| {
            let (since, column, logged_on) = match (u.last_logon, u.created) {
                (Stamp::At(t), _) => (Some(t), "user_last_logon", true),
                (Stamp::Never, Stamp::At(t)) => (Some(t), "user_creation_time", false),
                _ => (None, "user_last_logon", true),
            };
            let (status, detail) = match since {
                Some(t) if as_of - t >= limit => {
                    let (date, days) = (stamp_text(t), whole_days(as_of - t));
                    let detail = if logged_on {
                        say!(ctx, "inactive_logon", date = date, days = days)
                    } else {
                        say!(ctx, "inactive_created", date = date, days = days)
                    };
                    (Status::Fail, detail)
                }
                Some(t) if logged_on => (Status::Pass, say!(ctx, "logon_at", date = stamp_text(t))),
                Some(t) => (Status::Pass, say!(ctx, "created_at", date = stamp_text(t))),
                None => (Status::NotEvaluable, say!(ctx, "no_logon_or_creation")),
            };
            resource(ctx, u, text!(ctx, "{}", u.name), status, detail, column)
        })
        .collect();
    tally(
        ctx,
        resources,
        say!(ctx, "no_console_users"),
        |failing, total| {
            say!(
                ctx,
                "inactive_summary",
                failing = failing,
                total = total,
                days = ctx.t.inactive_user_days
            )
        },
    )
}

fn ram_access_key_rotation(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let as_of = try_or!(as_of(ctx));
    let limit = Duration::days(ctx.t.access_key_rotation_days);
    let resources = per_active_key(ctx, c, "last_rotated", |key| match key.last_rotated {
        Stamp::At(t) if as_of - t > limit => (
            Status::Fail,
            say!(
                ctx,
                "rotated_stale",
                date = stamp_text(t),
                days = whole_days(as_of - t)
            ),
        ),
        Stamp::At(t) => (
            Status::Pass,
            say!(ctx, "last_rotated", date = stamp_text(t)),
        ),
        _ => (Status::NotEvaluable, say!(ctx, "no_rotation_date")),
    });
    tally(
        ctx,
        resources,
        say!(ctx, "no_active_key"),
        |failing, total| {
            say!(
                ctx,
                "rotation_summary",
                failing = failing,
                total = total,
                days = ctx.t.access_key_rotation_days
            )
        },
    )
}

fn bool_setting(
    ctx: &Ctx,
    field: &str,
    get: fn(&PasswordPolicy) -> Option<bool>,
    (required, not_required): (&'static str, &'static str),
) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    setting(files, field, get(p), "password_policy", |v| {
        (*v, Message::key(if *v { required } else { not_required }))
    })
}

fn pwd_uppercase(ctx: &Ctx) -> Outcome {
    bool_setting(
        ctx,
        "RequireUppercaseCharacters",
        |p| p.require_uppercase,
        ("engine.upper_required", "engine.upper_not_required"),
    )
}

fn pwd_lowercase(ctx: &Ctx) -> Outcome {
    bool_setting(
        ctx,
        "RequireLowercaseCharacters",
        |p| p.require_lowercase,
        ("engine.lower_required", "engine.lower_not_required"),
    )
}

fn pwd_symbols(ctx: &Ctx) -> Outcome {
    bool_setting(
        ctx,
        "RequireSymbols",
        |p| p.require_symbols,
        ("engine.symbol_required", "engine.symbol_not_required"),
    )
}

fn pwd_numbers(ctx: &Ctx) -> Outcome {
    bool_setting(
        ctx,
        "RequireNumbers",
        |p| p.require_numbers,
        ("engine.number_required", "engine.number_not_required"),
    )
}

fn pwd_min_length(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    let min = ctx.t.password_min_length;
    setting(
        files,
        "MinimumPasswordLength",
        p.min_length,
        "password_policy",
        |v| {
            (
                *v >= min,
                Message::key("engine.min_length")
                    .arg("value", v)
                    .arg("min", min),
            )
        },
    )
}

fn pwd_reuse(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    let min = ctx.t.password_reuse_prevention;
    setting(
        files,
        "PasswordReusePrevention",
        p.reuse_prevention,
        "password_policy",
        |v| {
            (
                *v >= min,
                Message::key("engine.reuse").arg("value", v).arg("min", min),
            )
        },
    )
}

fn pwd_max_age_v1(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    let max = ctx.t.password_max_age_days_v1;
    setting(
        files,
        "MaxPasswordAge",
        p.max_age_days,
        "password_policy",
        |v| match *v {
            0 => (
                false,
                Message::key("engine.never_expire_v1").arg("max", max),
            ),
            d => (
                (1..=max).contains(&d),
                Message::key("engine.expire_v1")
                    .arg("days", d)
                    .arg("max", max),
            ),
        },
    )
}

fn pwd_max_age_v2(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    let min = ctx.t.password_min_age_days_v2;
    setting(
        files,
        "MaxPasswordAge",
        p.max_age_days,
        "password_policy",
        |v| match *v {
            0 => (true, Message::key("engine.never_expire")),
            d => (
                d >= min,
                Message::key("engine.expire_v2")
                    .arg("days", d)
                    .arg("min", min),
            ),
        },
    )
}

fn pwd_lockout(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(policy(ctx));
    let max = ctx.t.max_login_attempts;
    setting(
        files,
        "MaxLoginAttemps",
        p.max_login_attempts,
        "password_policy",
        |v| match *v {
            0 => (false, Message::key("engine.lockout_off")),
            n => (
                (1..=max).contains(&n),
                Message::key("engine.lockout").arg("n", n).arg("max", max),
            ),
        },
    )
}

fn needs_policy_documents(_: &Ctx) -> Outcome {
    Outcome::not_evaluable(Message::key("engine.needs_policies"))
}

// ---------------------------------------------------------------- best practice

fn ram_unused_access_keys(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let as_of = try_or!(as_of(ctx));
    let limit = Duration::days(ctx.t.unused_access_key_days);
    let resources = per_active_key(ctx, c, "last_used", |key| match key.last_used {
        Stamp::Never => (Status::Fail, say!(ctx, "never_used")),
        Stamp::At(t) if as_of - t >= limit => (
            Status::Fail,
            say!(
                ctx,
                "used_stale",
                date = stamp_text(t),
                days = whole_days(as_of - t)
            ),
        ),
        Stamp::At(t) => (Status::Pass, say!(ctx, "last_used", date = stamp_text(t))),
        _ => (Status::NotEvaluable, say!(ctx, "no_last_used")),
    });
    tally(
        ctx,
        resources,
        say!(ctx, "no_active_key"),
        |failing, total| say!(ctx, "unused_summary", failing = failing, total = total),
    )
}

fn ram_single_active_key(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let resources: Vec<ResourceResult> = principals(c)
        .filter_map(|p| {
            let n = p.active_keys().count();
            (n > 0).then(|| {
                let status = if n > 1 { Status::Fail } else { Status::Pass };
                resource(
                    ctx,
                    p,
                    text!(ctx, "{}", p.name),
                    status,
                    say!(ctx, "keys_active", n = n),
                    "access_key_*_active",
                )
            })
        })
        .collect();
    tally(ctx, resources, say!(ctx, "no_active_key"), |failing, _| {
        say!(ctx, "multi_key_summary", failing = failing)
    })
}

fn pref_mfa_enforced(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    let field = if p.mfa_from_legacy_field {
        "EnforceMFAForLogin"
    } else {
        "MFAOperationForLogin"
    };
    let Some(mode) = &p.mfa_for_login else {
        return Outcome::not_evaluable(Message::key(match p.shape {
            crate::model::PreferenceShape::Ram => "engine.pref_ram_shape",
            _ => "engine.pref_no_mfa_field",
        }));
    };
    let (status, detail) = match mode {
        MfaForLogin::Mandatory => (Status::Pass, Message::key("engine.mfa_mandatory")),
        MfaForLogin::Adaptive => (Status::Fail, Message::key("engine.mfa_adaptive")),
        MfaForLogin::Independent => (Status::Fail, Message::key("engine.mfa_independent")),
        MfaForLogin::Other(v) => (
            Status::NotEvaluable,
            Message::key("engine.unknown_value").arg("value", v),
        ),
    };
    Outcome {
        status: Some(status),
        detail: detail.clone(),
        compensating: None,
        resources: vec![ResourceResult {
            id: field.to_string(),
            status,
            detail,
            file: files.first().map(|f| Arc::from(f.as_str())),
            field: Some(format!("SecurityPreference.LoginProfilePreference.{field}")),
        }],
    }
}

fn pref_login_network(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    setting(
        files,
        "LoginNetworkMasks",
        p.login_network_masks.as_ref(),
        "security_preference",
        |masks| {
            if masks.is_empty() {
                (false, Message::key("engine.any_network"))
            } else {
                (
                    true,
                    Message::key("engine.networks").arg("masks", masks.join("; ")),
                )
            }
        },
    )
}

fn pref_session_duration(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    let max = ctx.t.session_max_hours;
    setting(
        files,
        "LoginSessionDuration",
        p.session_hours,
        "security_preference",
        |h| {
            (
                *h <= max,
                Message::key("engine.session")
                    .arg("hours", h)
                    .arg("max", max),
            )
        },
    )
}

fn pref_users_cannot_manage_keys(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    setting(
        files,
        "AllowUserToManageAccessKeys",
        p.users_manage_access_keys,
        "security_preference",
        |v| {
            (
                !*v,
                if *v {
                    Message::key("engine.users_manage_keys")
                } else {
                    Message::key("engine.admins_manage_keys")
                },
            )
        },
    )
}

fn idle_setting(
    ctx: &Ctx,
    field: &str,
    get: fn(&Preference) -> Option<i64>,
    what: &'static str,
) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    let max = ctx.t.max_idle_days;
    if get(p).is_none() {
        return Outcome::not_evaluable(
            Message::key("engine.pref_field_missing").arg("field", field),
        );
    }
    setting(files, field, get(p), "security_preference", |d| {
        (
            *d <= max,
            Message::key(format!("engine.idle_{what}"))
                .arg("days", d)
                .arg("max", max),
        )
    })
}

fn pref_idle_users(ctx: &Ctx) -> Outcome {
    idle_setting(
        ctx,
        "MaxIdleDaysForUsers",
        |p| p.max_idle_days_users,
        "users",
    )
}

fn pref_idle_keys(ctx: &Ctx) -> Outcome {
    idle_setting(
        ctx,
        "MaxIdleDaysForAccessKeys",
        |p| p.max_idle_days_keys,
        "keys",
    )
}

fn pref_mfa_ticket(ctx: &Ctx) -> Outcome {
    let (p, files) = try_or!(preference(ctx));
    setting(
        files,
        "EnableSaveMFATicket",
        p.save_mfa_ticket,
        "security_preference",
        |v| {
            (
                !*v,
                if *v {
                    Message::key("engine.mfa_remembered")
                } else {
                    Message::key("engine.mfa_every_logon")
                },
            )
        },
    )
}

fn ram_password_rotation_overdue(ctx: &Ctx) -> Outcome {
    let c = try_or!(credentials(ctx));
    let as_of = try_or!(as_of(ctx));
    let resources: Vec<ResourceResult> = console_users(c)
        .filter_map(|u| {
            let (status, detail) = match u.password_next_rotation {
                Stamp::At(t) if t < as_of => (
                    Status::Fail,
                    say!(
                        ctx,
                        "password_overdue",
                        date = stamp_text(t),
                        days = whole_days(as_of - t)
                    ),
                ),
                Stamp::At(t) => (Status::Pass, say!(ctx, "next_change", date = stamp_text(t))),
                Stamp::Never => (Status::Pass, say!(ctx, "policy_no_expiry")),
                _ => return None,
            };
            Some(resource(
                ctx,
                u,
                text!(ctx, "{}", u.name),
                status,
                detail,
                "password_next_rotation",
            ))
        })
        .collect();
    tally(
        ctx,
        resources,
        say!(ctx, "no_rotation_dates"),
        |failing, _| say!(ctx, "overdue_summary", failing = failing),
    )
}

fn spr_password_strength(ctx: &Ctx) -> Outcome {
    let source = &ctx.account.practice;
    let Some(p) = source.get() else {
        return Outcome::not_evaluable(absence(source, "practice_report"));
    };
    let Some(level) = p.password_level.as_deref() else {
        return Outcome::not_evaluable(Message::key("engine.spr_missing"));
    };
    let status = match level.trim().to_ascii_lowercase().as_str() {
        "high" => Status::Pass,
        "mid" | "medium" | "low" => Status::Fail,
        _ => Status::NotEvaluable,
    };
    let detail = match status {
        Status::NotEvaluable => Message::key("engine.spr_unknown").arg("level", level),
        _ => Message::key("engine.spr_rated").arg("level", level),
    };
    Outcome {
        status: Some(status),
        detail: detail.clone(),
        compensating: None,
        resources: vec![ResourceResult {
            id: "SubUserPwdLevel".into(),
            status,
            detail,
            file: source.files().first().map(|f| Arc::from(f.as_str())),
            field: Some(
                "AccountSecurityPracticeInfo.AccountSecurityPracticeUserInfo.SubUserPwdLevel"
                    .into(),
            ),
        }],
    }
}

// ---------------------------------------------------------------- Security Center mapping

/// How a Security Center item is recognised as a duplicate of a built-in control. Item ids
/// changed meaning over the years, so both the id and the title must match.
struct SasMapping {
    item_ids: &'static [i64],
    /// Each group must have at least one keyword in the (lower-cased) title.
    all_of: &'static [&'static [&'static str]],
    none_of: &'static [&'static str],
    control: &'static str,
}

const MFA_WORDS: &[&str] = &["mfa", "multi-factor", "双因素", "多因素", "二次验证"];
const RAM_USER_WORDS: &[&str] = &[
    "ram user",
    "ram-user",
    "子账号",
    "子用户",
    "ram 用户",
    "ram用户",
];

static SAS_MAPPINGS: &[SasMapping] = &[
    SasMapping {
        item_ids: &[3, 5],
        all_of: &[MFA_WORDS],
        none_of: RAM_USER_WORDS,
        control: "root.mfa",
    },
    SasMapping {
        item_ids: &[15],
        all_of: &[MFA_WORDS, &["ram", "子账号", "子用户"]],
        none_of: &[],
        control: "ram.console_mfa",
    },
    SasMapping {
        item_ids: &[49],
        all_of: &[&["accesskey", "access key", "ak"]],
        none_of: &["leak", "泄露"],
        control: "root.no_access_key",
    },
    SasMapping {
        item_ids: &[25],
        all_of: &[&["长时间未使用", "long time", "inactive", "unused", "idle"]],
        none_of: &[],
        control: "ram.inactive_console_users",
    },
];

/// The built-in control a Security Center item duplicates, matched on id and title.
pub(crate) fn sas_duplicate_of(item: &SasItem) -> Option<&'static str> {
    if item.api != crate::model::SasApi::DescribeRiskCheckResult {
        return None;
    }
    let title = item.title.to_lowercase();
    SAS_MAPPINGS
        .iter()
        .find(|m| {
            m.item_ids.contains(&item.vendor_id)
                && m.all_of
                    .iter()
                    .all(|group| group.iter().any(|w| title.contains(w)))
                && !m.none_of.iter().any(|w| title.contains(w))
        })
        .map(|m| m.control)
}

// ---------------------------------------------------------------- data quality

/// Disagreements between sources and stale evidence, as notes (never failures).
pub fn data_quality(ctx: &Ctx, findings: &[Finding]) -> Vec<Message> {
    let mut notes = Vec::new();
    let account = ctx.account;
    if let Some(as_of) = ctx.as_of {
        let stale = Duration::days(ctx.t.stale_evidence_days);
        if let Some(c) = account.credentials.get()
            && let Some(t) = c.dated()
            && as_of - t > stale
        {
            notes.push(
                Message::key("engine.stale_cr")
                    .arg("date", stamp_text(t))
                    .arg("days", whole_days(as_of - t))
                    .arg("as_of", stamp_text(as_of)),
            );
        }
        if let Some(s) = account.sas.get()
            && let Some(t) = s.newest_check
            && as_of - t > stale
        {
            notes.push(
                Message::key("engine.stale_sas")
                    .arg("date", stamp_text(t))
                    .arg("days", whole_days(as_of - t))
                    .arg("as_of", stamp_text(as_of)),
            );
        }
    }
    if let (Some(c), Some(p)) = (account.credentials.get(), account.practice.get()) {
        if let (Some(root), Some(bound)) = (&c.root, p.root_mfa) {
            let cr = root.mfa_active.is_true();
            if matches!(root.mfa_active, Flag::True | Flag::False) && cr != bound {
                notes.push(
                    Message::key("engine.disagree_root_mfa")
                        .arg("cr", if cr { "TRUE" } else { "FALSE" })
                        .arg("bound", bound),
                );
            }
        }
        if let (Some(root), Some(n)) = (&c.root, p.root_access_keys) {
            let existing = root.keys.iter().filter(|k| k.exist.is_true()).count() as i64;
            if existing != n {
                notes.push(
                    Message::key("engine.disagree_root_keys")
                        .arg("cr", existing)
                        .arg("n", n),
                );
            }
        }
        if let Some(n) = p.ram_users
            && n != c.users.len() as i64
        {
            notes.push(
                Message::key("engine.disagree_users")
                    .arg("cr", c.users.len())
                    .arg("n", n),
            );
        }
        if let Some(n) = p.ram_users_with_mfa {
            let with_mfa = c.users.iter().filter(|u| u.mfa_active.is_true()).count() as i64;
            if with_mfa != n {
                notes.push(
                    Message::key("engine.disagree_users_mfa")
                        .arg("cr", with_mfa)
                        .arg("n", n),
                );
            }
        }
    }
    // Security Center items that duplicate a built-in control, against that control, and the
    // two Security Center APIs against each other.
    for item in account.sas.get().map(|s| &s.items[..]).unwrap_or_default() {
        let decider = item.decider();
        if let Some(other) = &item.also {
            let a = vendor_status(&item.status);
            let b = vendor_status(&other.status);
            if let (Some(a), Some(b)) = (a, b)
                && a != b
            {
                notes.push(
                    Message::key("sas.disagree_apis")
                        .arg("title", &item.title)
                        .arg("item", item.vendor_id)
                        .nested("a", legend(a))
                        .arg("check", other.vendor_id)
                        .nested("b", legend(b)),
                );
            }
        }
        let Some(id) = sas_duplicate_of(item) else {
            continue;
        };
        let Some(builtin) = findings.iter().find(|f| f.control_id == id) else {
            continue;
        };
        let decided = matches!(builtin.status, Status::Pass | Status::Fail);
        if let Some(theirs) = vendor_status(&decider.status)
            && decided
            && builtin.status != theirs
        {
            notes.push(
                Message::key("engine.disagree_sas")
                    .arg("control", &builtin.control_id)
                    .nested("ours", legend(builtin.status))
                    .nested("detail", builtin.detail.clone())
                    .arg("item", &item.control_id)
                    .arg("title", &item.title)
                    .nested("theirs", legend(theirs)),
            );
        }
    }
    notes
}
