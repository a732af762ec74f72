//! Unit tests of every control: pass, fail, not applicable, not evaluable and edge values.

use chrono::{DateTime, Utc};

use super::*;
use crate::discover::FolderSource;
use crate::ingest::{self, Limits};
use crate::model::{self, Account};

const HEAD: &str = "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used,access_key_2_exist,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used";
const AS_OF: &str = "2026-09-30T00:00:00Z";
const ROOT_OK: &str = "<root>,2016-01-01T00:00:00Z,2025-01-01T00:00:00Z,TRUE,N/A,N/A,N/A,TRUE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A";
const NO_KEYS: &str = "FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A";

fn account(files: &[(&str, &str)]) -> Account {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_bytes())).collect();
    let bundle = ingest::ingest_memory(&bytes, Limits::default());
    let rejected: Vec<_> = bundle
        .files
        .iter()
        .filter(|f| f.status == crate::evidence::FileStatus::Rejected)
        .map(|f| format!("{}: {:?}", f.path, f.reason))
        .collect();
    assert!(rejected.is_empty(), "fixture rejected: {rejected:?}");
    let folder = FolderSource::bare("test");
    model::build(&folder, bundle).account
}

fn csv(rows: &[&str]) -> String {
    let mut text = format!("{HEAD}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

fn at(t: &str) -> DateTime<Utc> {
    crate::ingest::credential::parse_time(t).unwrap()
}

/// A message as the English outputs write it.
fn en(message: &Message) -> String {
    message.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En))
}

fn finding(a: &Account, id: &str) -> Finding {
    evaluate(a, Some(at(AS_OF)), &RulePack::default())
        .findings
        .into_iter()
        .find(|f| f.control_id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

fn status(a: &Account, id: &str) -> Status {
    finding(a, id).status
}

fn with_root(root: &str, users: &[&str]) -> Account {
    let mut rows = vec![root];
    rows.extend_from_slice(users);
    account(&[("cr.csv", &csv(&rows))])
}

fn user(name: &str, rest: &str) -> String {
    format!("{name}@acme.onaliyun.com,2020-01-01T00:00:00Z,{rest}")
}

// ---- CIS 1.1

#[test]
fn root_logon_exactly_90_days_before_as_of_fails_and_91_passes() {
    let at90 = "<root>,2016-01-01T00:00:00Z,2026-07-02T00:00:00Z,TRUE,N/A,N/A,N/A,TRUE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A";
    assert_eq!(
        status(&with_root(at90, &[]), "root.no_recent_use"),
        Status::Fail
    );
    let at91 = at90.replace("2026-07-02", "2026-07-01");
    assert_eq!(
        status(&with_root(&at91, &[]), "root.no_recent_use"),
        Status::Pass
    );
}

#[test]
fn root_access_key_use_counts_as_root_use() {
    let root = "<root>,2016-01-01T00:00:00Z,-,TRUE,N/A,N/A,N/A,TRUE,TRUE,TRUE,2020-01-01T00:00:00Z,2026-09-20T00:00:00Z,FALSE,N/A,N/A,N/A";
    let f = finding(&with_root(root, &[]), "root.no_recent_use");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.resources
            .iter()
            .any(|r| r.id == "<root>/access_key_1" && r.status == Status::Fail)
    );
}

#[test]
fn root_use_without_credential_report_is_not_evaluable() {
    let a = account(&[(
        "pp.json",
        r#"{"PasswordPolicy":{"MinimumPasswordLength":14}}"#,
    )]);
    let f = finding(&a, "root.no_recent_use");
    assert_eq!(f.status, Status::NotEvaluable);
    assert_eq!(en(&f.detail), "no credential report was found");
}

// ---- CIS 1.2

#[test]
fn root_key_only_in_additional_access_key_1_fails() {
    let text = format!(
        "{HEAD},additional_access_key_1_exist,additional_access_key_1_active,additional_access_key_1_last_rotated,additional_access_key_1_last_used\n{ROOT_OK},TRUE,TRUE,2019-01-01T00:00:00Z,-\n"
    );
    let f = finding(&account(&[("cr.csv", &text)]), "root.no_access_key");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.resources[0].id, "<root>/additional_access_key_1");
    assert_eq!(
        f.resources[0].field.as_deref(),
        Some("line 2, additional_access_key_1_active")
    );
}

#[test]
fn an_inactive_root_key_passes() {
    let root = "<root>,2016-01-01T00:00:00Z,-,TRUE,N/A,N/A,N/A,TRUE,TRUE,FALSE,2019-01-01T00:00:00Z,-,FALSE,N/A,N/A,N/A";
    assert_eq!(
        status(&with_root(root, &[]), "root.no_access_key"),
        Status::Pass
    );
}

#[test]
fn root_key_falls_back_to_the_practice_report_then_security_center() {
    let spr = |n: i64| {
        format!(
            r#"{{"AccountSecurityPracticeInfo":{{"Score":70,"AccountSecurityPracticeUserInfo":{{"RootWithAccessKey":{n},"BindMfa":true}}}}}}"#
        )
    };
    assert_eq!(
        status(&account(&[("spr.json", &spr(1))]), "root.no_access_key"),
        Status::Fail
    );
    assert_eq!(
        status(&account(&[("spr.json", &spr(0))]), "root.no_access_key"),
        Status::Pass
    );
    let sas = r#"{"TotalCount":1,"List":[{"ItemId":49,"Title":"Alibaba Cloud account security - AccessKey pair","Status":"failed","RiskLevel":"medium"}]}"#;
    let f = finding(&account(&[("sas.json", sas)]), "root.no_access_key");
    assert_eq!(f.status, Status::Fail);
    assert!(
        en(&f.detail).contains("Security Center item 49"),
        "{}",
        en(&f.detail)
    );
    let pp = r#"{"PasswordPolicy":{}}"#;
    assert_eq!(
        status(&account(&[("pp.json", pp)]), "root.no_access_key"),
        Status::NotEvaluable
    );
}

#[test]
fn credential_report_and_practice_report_disagreeing_is_a_data_quality_note() {
    let spr = r#"{"AccountSecurityPracticeInfo":{"AccountSecurityPracticeUserInfo":{"RootWithAccessKey":2,"BindMfa":false}}}"#;
    let a = account(&[("cr.csv", &csv(&[ROOT_OK])), ("spr.json", spr)]);
    let e = evaluate(&a, Some(at(AS_OF)), &RulePack::default());
    let root_mfa = e
        .findings
        .iter()
        .find(|f| f.control_id == "root.mfa")
        .unwrap();
    assert_eq!(
        root_mfa.status,
        Status::Pass,
        "the credential report decides"
    );
    let notes: Vec<String> = e.data_quality.iter().map(en).collect();
    assert!(notes.iter().any(|n| n.contains("root MFA")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("root AccessKeys")),
        "{notes:?}"
    );
}

// ---- CIS 1.3

#[test]
fn root_mfa_from_the_report_then_the_practice_report() {
    let no_mfa = ROOT_OK.replace(",N/A,N/A,N/A,TRUE,", ",N/A,N/A,N/A,FALSE,");
    assert_eq!(status(&with_root(&no_mfa, &[]), "root.mfa"), Status::Fail);
    assert_eq!(status(&with_root(ROOT_OK, &[]), "root.mfa"), Status::Pass);
    let spr = r#"{"AccountSecurityPracticeInfo":{"AccountSecurityPracticeUserInfo":{"BindMfa":"false"}}}"#;
    assert_eq!(
        status(&account(&[("spr.json", spr)]), "root.mfa"),
        Status::Fail
    );
}

// ---- CIS 1.4

#[test]
fn only_console_users_need_mfa() {
    let users = [
        user(
            "console-no-mfa",
            &format!("-,TRUE,TRUE,N/A,-,FALSE,{NO_KEYS}"),
        ),
        user("console-mfa", &format!("-,TRUE,TRUE,N/A,-,TRUE,{NO_KEYS}")),
        user("disabled", &format!("-,TRUE,FALSE,N/A,-,FALSE,{NO_KEYS}")),
        user(
            "login-disabled",
            &format!("-,TRUE,LOGIN_DISABLED,N/A,-,LOGIN_DISABLED,{NO_KEYS}"),
        ),
        user("api-only", &format!("-,FALSE,N/A,N/A,N/A,N/A,{NO_KEYS}")),
    ];
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    let f = finding(&with_root(ROOT_OK, &refs), "ram.console_mfa");
    assert_eq!(f.status, Status::Fail);
    let ids: Vec<&str> = f.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "console-no-mfa@acme.onaliyun.com",
            "console-mfa@acme.onaliyun.com"
        ]
    );
}

#[test]
fn api_only_users_make_console_mfa_not_applicable() {
    let u = user("bot", &format!("-,FALSE,N/A,N/A,N/A,N/A,{NO_KEYS}"));
    assert_eq!(
        status(&with_root(ROOT_OK, &[&u]), "ram.console_mfa"),
        Status::NotApplicable
    );
}

#[test]
fn mandatory_mfa_at_logon_is_compensating_not_a_pass() {
    let u = user("carol", &format!("-,TRUE,TRUE,N/A,-,FALSE,{NO_KEYS}"));
    let pref =
        r#"{"SecurityPreference":{"LoginProfilePreference":{"MFAOperationForLogin":"mandatory"}}}"#;
    let a = account(&[("cr.csv", &csv(&[ROOT_OK, &u])), ("sp.json", pref)]);
    let f = finding(&a, "ram.console_mfa");
    assert_eq!(f.status, Status::Fail);
    // The fix left is to bind devices: the finding says so, and the control has its words.
    assert_eq!(f.remediation, Remediation::Compensated);
    assert!(en(&f.compensating.unwrap()).contains("mandatory"));
    let what = control_text(
        crate::i18n::Catalogue::get(crate::i18n::Lang::En),
        "ram.console_mfa",
        "remediation_compensated",
        &Thresholds::default(),
    )
    .unwrap();
    assert!(what.starts_with("MFA is already required at every console sign-in"));
    let zh = control_text(
        crate::i18n::Catalogue::get(crate::i18n::Lang::Zh),
        "ram.console_mfa",
        "remediation_compensated",
        &Thresholds::default(),
    )
    .unwrap();
    assert!(zh.starts_with("每次控制台登录都已要求 MFA"), "{zh}");
    // Without the preference (or with MFA optional) the control's own fix applies.
    let plain = account(&[("cr.csv", &csv(&[ROOT_OK, &u]))]);
    assert_eq!(
        finding(&plain, "ram.console_mfa").remediation,
        Remediation::Standard
    );
    let optional = pref.replace("mandatory", "independent");
    let a = account(&[("cr.csv", &csv(&[ROOT_OK, &u])), ("sp.json", &optional)]);
    assert_eq!(
        finding(&a, "ram.console_mfa").remediation,
        Remediation::Standard
    );
}

#[test]
fn each_finding_names_what_its_resources_are() {
    let u = user("carol", &format!("-,TRUE,TRUE,N/A,-,FALSE,{NO_KEYS}"));
    let a = account(&[("cr.csv", &csv(&[ROOT_OK, &u]))]);
    assert_eq!(finding(&a, "ram.console_mfa").noun, Noun::ConsoleUsers);
    assert_eq!(finding(&a, "root.no_access_key").noun, Noun::AccessKeys);
    assert_eq!(finding(&a, "root.mfa").noun, Noun::Root);
    assert_eq!(finding(&a, "pwd.min_length").noun, Noun::Settings);
    for d in CATALOG {
        if let Some(f) = evaluate(&a, None, &RulePack::default())
            .findings
            .iter()
            .find(|f| f.control_id == d.id)
        {
            assert_eq!(f.noun, d.noun, "{}", d.id);
        }
    }
}

// ---- CIS 1.5

#[test]
fn inactivity_counts_from_creation_when_never_logged_on() {
    let never = "dave@acme.onaliyun.com,2026-06-01T00:00:00Z,-,TRUE,TRUE,N/A,-,TRUE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A";
    let f = finding(&with_root(ROOT_OK, &[never]), "ram.inactive_console_users");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.resources[0].field.as_deref(),
        Some("line 3, user_creation_time")
    );
    let recent = never.replace("2026-06-01", "2026-08-01");
    assert_eq!(
        status(
            &with_root(ROOT_OK, &[&recent]),
            "ram.inactive_console_users"
        ),
        Status::Pass
    );
}

#[test]
fn inactive_for_exactly_90_days_fails_and_89_passes() {
    let u90 = user(
        "erin",
        &format!("2026-07-02T00:00:00Z,TRUE,TRUE,N/A,-,TRUE,{NO_KEYS}"),
    );
    assert_eq!(
        status(&with_root(ROOT_OK, &[&u90]), "ram.inactive_console_users"),
        Status::Fail
    );
    let u89 = u90.replace("2026-07-02", "2026-07-03");
    assert_eq!(
        status(&with_root(ROOT_OK, &[&u89]), "ram.inactive_console_users"),
        Status::Pass
    );
}

// ---- CIS 1.6 and key hygiene

#[test]
fn key_rotated_exactly_90_days_ago_passes_and_91_fails() {
    let key = |rotated: &str| {
        user(
            "ci",
            &format!(
                "-,FALSE,N/A,N/A,N/A,N/A,TRUE,TRUE,{rotated},2026-09-29T00:00:00Z,TRUE,FALSE,2019-01-01T00:00:00Z,-"
            ),
        )
    };
    let f = finding(
        &with_root(ROOT_OK, &[&key("2026-07-02T00:00:00Z")]),
        "ram.access_key_rotation",
    );
    assert_eq!(f.status, Status::Pass);
    assert_eq!(
        f.resources.len(),
        1,
        "the inactive second key is not counted"
    );
    let f = finding(
        &with_root(ROOT_OK, &[&key("2026-07-01T00:00:00Z")]),
        "ram.access_key_rotation",
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.resources[0].id, "ci@acme.onaliyun.com/access_key_1");
}

#[test]
fn never_used_and_idle_keys_fail_and_two_active_keys_fail() {
    let u = user(
        "etl",
        "-,FALSE,N/A,N/A,N/A,N/A,TRUE,TRUE,2026-09-01T00:00:00Z,-,TRUE,TRUE,2026-09-01T00:00:00Z,2026-09-29T00:00:00Z",
    );
    let a = with_root(ROOT_OK, &[&u]);
    let f = finding(&a, "ram.unused_access_keys");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(en(&f.resources[0].detail), "active but never used");
    assert_eq!(f.resources[1].status, Status::Pass);
    assert_eq!(status(&a, "ram.single_active_key"), Status::Fail);
    assert_eq!(
        status(&with_root(ROOT_OK, &[]), "ram.single_active_key"),
        Status::NotApplicable
    );
}

// ---- CIS 1.7 - 1.14

fn policy(fields: &str) -> Account {
    account(&[("pp.json", &format!(r#"{{"PasswordPolicy":{{{fields}}}}}"#))])
}

#[test]
fn lockout_zero_fails_five_passes_six_fails() {
    assert_eq!(
        status(&policy(r#""MaxLoginAttemps":0"#), "pwd.lockout"),
        Status::Fail
    );
    assert_eq!(
        status(&policy(r#""MaxLoginAttemps":5"#), "pwd.lockout"),
        Status::Pass
    );
    assert_eq!(
        status(&policy(r#""MaxLoginAttemps":6"#), "pwd.lockout"),
        Status::Fail
    );
    assert_eq!(
        status(&policy(r#""MinimumPasswordLength":8"#), "pwd.lockout"),
        Status::NotEvaluable
    );
}

#[test]
fn reuse_prevention_of_ten_passes() {
    assert_eq!(
        status(
            &policy(r#""PasswordReusePrevention":10"#),
            "pwd.reuse_prevention"
        ),
        Status::Pass
    );
    assert_eq!(
        status(
            &policy(r#""PasswordReusePrevention":5"#),
            "pwd.reuse_prevention"
        ),
        Status::Pass
    );
    assert_eq!(
        status(
            &policy(r#""PasswordReusePrevention":4"#),
            "pwd.reuse_prevention"
        ),
        Status::Fail
    );
}

#[test]
fn password_expiry_follows_each_cis_version() {
    let p0 = policy(r#""MaxPasswordAge":0"#);
    assert_eq!(status(&p0, "pwd.max_age_v1"), Status::Fail);
    assert_eq!(status(&p0, "pwd.max_age_v2"), Status::Pass);
    let p90 = policy(r#""MaxPasswordAge":90"#);
    assert_eq!(status(&p90, "pwd.max_age_v1"), Status::Pass);
    assert_eq!(status(&p90, "pwd.max_age_v2"), Status::Fail);
    let p365 = policy(r#""MaxPasswordAge":"365""#);
    assert_eq!(status(&p365, "pwd.max_age_v1"), Status::Fail);
    assert_eq!(status(&p365, "pwd.max_age_v2"), Status::Pass);
}

#[test]
fn length_and_character_classes() {
    let p = policy(
        r#""MinimumPasswordLength":14,"RequireSymbols":false,"RequireNumbers":true,"HardExpiry":true"#,
    );
    assert_eq!(status(&p, "pwd.min_length"), Status::Pass);
    assert_eq!(status(&p, "pwd.require_symbols"), Status::Fail);
    assert_eq!(status(&p, "pwd.require_numbers"), Status::Pass);
    assert_eq!(status(&p, "pwd.require_uppercase"), Status::NotEvaluable);
    assert_eq!(
        status(&policy(r#""MinimumPasswordLength":13"#), "pwd.min_length"),
        Status::Fail
    );
}

// ---- preferences

fn pref(login: &str, extra: &str) -> Account {
    account(&[(
        "sp.json",
        &format!(r#"{{"SecurityPreference":{{"LoginProfilePreference":{{{login}}}{extra}}}}}"#),
    )])
}

#[test]
fn mfa_enforcement_modes() {
    assert_eq!(
        status(
            &pref(r#""MFAOperationForLogin":"mandatory""#, ""),
            "pref.mfa_enforced"
        ),
        Status::Pass
    );
    let adaptive = finding(
        &pref(r#""MFAOperationForLogin":"adaptive""#, ""),
        "pref.mfa_enforced",
    );
    assert_eq!(adaptive.status, Status::Fail);
    assert!(en(&adaptive.detail).starts_with("partial"));
    assert_eq!(
        status(
            &pref(r#""EnforceMFAForLogin":true"#, ""),
            "pref.mfa_enforced"
        ),
        Status::Pass
    );
    assert_eq!(
        status(
            &pref(r#""MFAOperationForLogin":"sometimes""#, ""),
            "pref.mfa_enforced"
        ),
        Status::NotEvaluable
    );
}

#[test]
fn ram_shaped_preference_is_not_evaluable_for_mfa_and_idle_days() {
    let a = pref(
        r#""LoginNetworkMasks":"","LoginSessionDuration":6,"EnableSaveMFATicket":false"#,
        r#","PublicKeyPreference":{"AllowUserToManagePublicKeys":false}"#,
    );
    let f = finding(&a, "pref.mfa_enforced");
    assert_eq!(f.status, Status::NotEvaluable);
    assert!(en(&f.detail).contains("Ram API"), "{}", en(&f.detail));
    assert_eq!(status(&a, "pref.idle_users_disabled"), Status::NotEvaluable);
    assert_eq!(status(&a, "pref.login_network_restricted"), Status::Fail);
    assert_eq!(status(&a, "pref.session_duration"), Status::Pass);
    assert_eq!(status(&a, "pref.mfa_ticket_saving_off"), Status::Pass);
}

#[test]
fn idle_days_and_network_masks() {
    let a = pref(
        r#""LoginNetworkMasks":"10.0.0.0/8;192.168.0.0/16","LoginSessionDuration":12"#,
        r#","MaxIdleDays":{"MaxIdleDaysForUsers":90,"MaxIdleDaysForAccessKeys":730}"#,
    );
    assert_eq!(status(&a, "pref.login_network_restricted"), Status::Pass);
    assert_eq!(status(&a, "pref.session_duration"), Status::Fail);
    assert_eq!(status(&a, "pref.idle_users_disabled"), Status::Pass);
    assert_eq!(status(&a, "pref.idle_keys_disabled"), Status::Fail);
}

#[test]
fn nested_verification_types_are_flattened() {
    let a = pref(
        "",
        r#","VerificationPreference":{"VerificationTypes":["[\"sms\",\"email\"]"]}"#,
    );
    assert_eq!(
        a.preference.get().unwrap().verification_types,
        ["sms", "email"]
    );
}

// ---- Security Center

fn sas(items: &str) -> Account {
    account(&[(
        "sas.json",
        &format!(
            r#"{{"TotalCount":"{}","List":{items}}}"#,
            items.matches("ItemId").count()
        ),
    )])
}

#[test]
fn security_center_statuses_map_to_result_states() {
    let a = sas(r#"[
        {"ItemId":1,"Title":"ActionTrail","Status":"pass","RiskLevel":"medium"},
        {"ItemId":2,"Title":"RDS","Status":"failed","RiskLevel":"high","AffectedCount":"3"},
        {"ItemId":12,"Title":"OSS","Status":"ignored","RiskLevel":"high"},
        {"ItemId":16,"Title":"OSS log","Status":"falsePositive","RiskLevel":"low"},
        {"ItemId":18,"Title":"RDS backup","Status":"waiting","RiskLevel":"low"},
        {"ItemId":8,"Title":"Agent","Status":"pass","StartStatus":"disable","RiskLevel":"high"}
    ]"#);
    assert_eq!(status(&a, "sas.1"), Status::Pass);
    let failed = finding(&a, "sas.2");
    assert_eq!(
        (failed.status, failed.severity),
        (Status::Fail, Severity::High)
    );
    assert_eq!(
        en(&failed.detail),
        "Security Center: failed; 3 affected, the evidence names none"
    );
    // Its resources are what Security Center flags.
    assert_eq!(failed.noun, Noun::SasResources);
    // A check that names no resource has one row without a resource, at the item's place.
    assert_eq!(failed.resources.len(), 1);
    assert_eq!(failed.resources[0].id, "");
    // Counted as the evidence counts them, not as the one row.
    assert_eq!(failed.failing_count(), 3);
    assert_eq!(failed.resources[0].field.as_deref(), Some("List[1]"));
    assert_eq!(status(&a, "sas.12"), Status::Excepted);
    assert_eq!(status(&a, "sas.16"), Status::Excepted);
    assert_eq!(status(&a, "sas.18"), Status::NotEvaluable);
    let disabled = finding(&a, "sas.8");
    assert_eq!(disabled.status, Status::NotEvaluable);
    assert!(en(&disabled.detail).contains("not covered by the edition"));
}

#[test]
fn item_ids_are_matched_with_their_titles() {
    let a = sas(r#"[
        {"ItemId":5,"Title":"云平台-主账号双因素认证配置检查","Status":"failed","RiskLevel":"high"},
        {"ItemId":15,"Title":"RAM - RAM user MFA","Status":"pass","RiskLevel":"medium"}
    ]"#);
    // Each is the built-in control's result, not a row of its own, and the control cites it.
    let e = evaluate(&a, None, &RulePack::default());
    assert!(
        e.findings
            .iter()
            .all(|f| f.section != Section::SecurityCenter)
    );
    let root = finding(&a, "root.mfa");
    assert_eq!(root.sources.len(), 1);
    assert_eq!(root.sources[0].field, "List[0]");
    assert_eq!(
        en(&root.sources[0].what),
        "Security Center DescribeRiskCheckResult item 5, status failed"
    );
    assert_eq!(finding(&a, "ram.console_mfa").sources[0].field, "List[1]");
    let rds = sas(r#"{"ItemId":5,"Title":"RDS - whitelist configurations","Status":"failed"}"#);
    let item = finding(&rds, "sas.5");
    assert_eq!(item.duplicates, None, "item 5 changed meaning");
    assert!(item.scored);
    assert!(finding(&rds, "root.mfa").sources.is_empty());
    // With the built-in control disabled, the item is the only row of the check.
    let pack = RulePack::from_toml("[controls.\"root.mfa\"]\nenabled = false\n", "r.toml").unwrap();
    let e = evaluate(&a, None, &pack);
    assert!(
        e.findings
            .iter()
            .any(|f| f.control_id == "sas.5" && f.scored)
    );
}

fn both_apis(risk: &str, checks: &str) -> Account {
    account(&[
        ("risk.json", &format!(r#"{{"List":[{risk}]}}"#)),
        ("checks.json", &format!(r#"{{"Checks":[{checks}]}}"#)),
    ])
}

fn sas_ids(a: &Account) -> Vec<String> {
    evaluate(a, None, &RulePack::default())
        .findings
        .iter()
        .filter(|f| f.section == Section::SecurityCenter)
        .map(|f| f.control_id.to_string())
        .collect()
}

#[test]
fn a_check_in_both_apis_is_one_result_decided_by_the_newer_check() {
    // English and Chinese titles of one known item, asset types in both vocabularies.
    let a = both_apis(
        r#"{"ItemId":25,"Title":"SLB - whitelist configurations","RiskAssertType":"SLB","Status":"pass","RiskLevel":"medium","CheckTime":1000}"#,
        r#"{"CheckId":9,"CheckShowName":"SLB-白名单配置","InstanceType":"ACS_CLB","Status":"NOT_PASS","RiskLevel":"HIGH","LastCheckTime":2000}"#,
    );
    assert_eq!(sas_ids(&a), ["sas.25"]);
    let f = finding(&a, "sas.25");
    assert_eq!((f.status, f.severity), (Status::Fail, Severity::High));
    let places: Vec<(&str, &str)> = f
        .sources
        .iter()
        .map(|c| (&*c.file, c.field.as_str()))
        .collect();
    assert_eq!(
        places,
        [("risk.json", "List[0]"), ("checks.json", "Checks[0]")]
    );
    assert_eq!(
        en(&f.sources[1].what),
        "Security Center ListCheckResult check 9, status NOT_PASS"
    );
    // The two APIs disagree: a data-quality note, never a second result.
    let notes: Vec<String> = evaluate(&a, None, &RulePack::default())
        .data_quality
        .iter()
        .map(en)
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with(
            "Security Center's two APIs disagree on \"SLB - whitelist configurations\""
        )),
        "{notes:?}"
    );
    // Older ListCheckResult: the DescribeRiskCheckResult verdict decides.
    let b = both_apis(
        r#"{"ItemId":25,"Title":"SLB - whitelist configurations","RiskAssertType":"SLB","Status":"pass","CheckTime":3000}"#,
        r#"{"CheckId":9,"CheckShowName":"SLB-白名单配置","InstanceType":"SLB","Status":"NOT_PASS","LastCheckTime":2000}"#,
    );
    assert_eq!(status(&b, "sas.25"), Status::Pass);
}

#[test]
fn checks_of_other_titles_or_asset_types_stay_apart() {
    // Same title, different asset type.
    let a = both_apis(
        r#"{"ItemId":70,"Title":"Custom - whitelist","RiskAssertType":"RDS","Status":"pass"}"#,
        r#"{"CheckId":71,"CheckShowName":"custom whitelist","InstanceType":"ECS","Status":"PASS"}"#,
    );
    assert_eq!(sas_ids(&a), ["sas.70", "sas.cspm.71"]);
    // Same unknown title once normalised, no asset type on one side: one check.
    let b = both_apis(
        r#"{"ItemId":70,"Title":"Custom - whitelist","RiskAssertType":"RDS","Status":"pass"}"#,
        r#"{"CheckId":71,"CheckShowName":"custom whitelist","Status":"PASS"}"#,
    );
    assert_eq!(sas_ids(&b), ["sas.70"]);
    // Different known items.
    let c = both_apis(
        r#"{"ItemId":25,"Title":"SLB - whitelist configurations","Status":"pass"}"#,
        r#"{"CheckId":9,"CheckShowName":"SLB-健康状态","Status":"PASS"}"#,
    );
    assert_eq!(sas_ids(&c), ["sas.25", "sas.cspm.9"]);
}

#[test]
fn affected_resources_come_from_the_content_resource_grids() {
    // A grid as an object, one as a JSON string, one under the lone `key`; rows without a
    // name are skipped and repeated names kept once.
    let grid = r#"{\"type\":\"grid\",\"columns\":[{\"title\":\"Region\",\"key\":\"RegionId\"},{\"title\":\"Instance\",\"key\":\"InstanceId\"}],\"values\":[{\"RegionId\":\"cn-hangzhou\",\"InstanceId\":\"i-one\"},{\"RegionId\":\"cn-hangzhou\"},{\"InstanceId\":\"i-one\"}]}"#;
    let a = sas(&format!(
        r#"{{"ItemId":37,"Title":"ECS - security group policies","Status":"failed","AffectedCount":4,"RiskItemResources":[
            {{"ResourceName":"bestPractice","ContentResource":{{"type":"text","value":"x"}}}},
            {{"ResourceName":"helpResource","ContentResource":"{grid}"}},
            {{"ResourceName":"suggestion","ContentResource":{{"key":"{{\"type\":\"grid\",\"values\":[{{\"UserName\":\"ops\",\"Note\":\"n\"}}]}}"}}}},
            {{"ResourceName":"influence","ContentResource":{{"type":"grid","values":[7,{{"BucketName":"b-1"}}]}}}}
        ]}}"#
    ));
    let f = finding(&a, "sas.37");
    let rows: Vec<(&str, String, &str)> = f
        .resources
        .iter()
        .map(|r| (r.id.as_str(), en(&r.detail), r.field.as_deref().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "i-one",
                "Region: cn-hangzhou".to_string(),
                "List[0].RiskItemResources[1].ContentResource.values[0]"
            ),
            (
                "ops",
                "Note: n".to_string(),
                "List[0].RiskItemResources[2].ContentResource.values[0]"
            ),
            (
                "b-1",
                String::new(),
                "List[0].RiskItemResources[3].ContentResource.values[1]"
            ),
        ]
    );
    assert_eq!(
        en(&f.detail),
        "Security Center: failed; 4 affected, the evidence names 3 (listed below)"
    );
    assert_eq!(f.failing_count(), 4);
}

#[test]
fn security_center_decides_root_mfa_only_without_the_other_sources() {
    let a = sas(
        r#"{"ItemId":3,"Title":"Alibaba Cloud account security - MFA","Status":"failed","RiskLevel":"high"}"#,
    );
    assert_eq!(status(&a, "root.mfa"), Status::Fail);
}

#[test]
fn newest_check_time_wins_when_pages_repeat_an_item() {
    let a = account(&[
        (
            "p1.json",
            r#"{"TotalCount":1,"List":[{"ItemId":1,"Status":"failed","CheckTime":1000}]}"#,
        ),
        (
            "p2.json",
            r#"{"TotalCount":1,"List":[{"ItemId":1,"Status":"pass","CheckTime":2000}]}"#,
        ),
    ]);
    assert_eq!(status(&a, "sas.1"), Status::Pass);
}

#[test]
fn missing_pages_are_a_gap() {
    let a = account(&[(
        "p1.json",
        r#"{"TotalCount":3,"PageCount":2,"CurrentPage":1,"List":[{"ItemId":1,"Status":"pass"},{"ItemId":2,"Status":"pass"}]}"#,
    )]);
    assert_eq!(a.gaps.len(), 1);
    assert!(
        a.gaps[0].contains("page(s) 2 of 2 not found"),
        "{}",
        a.gaps[0]
    );
}

// ---- score and rule packs

#[test]
fn score_weights_severity_and_leaves_out_duplicates() {
    let a = policy(r#""MinimumPasswordLength":14,"MaxLoginAttemps":0,"MaxPasswordAge":0"#);
    let e = evaluate(&a, Some(at(AS_OF)), &RulePack::default());
    // min_length pass (2), lockout fail (2), max_age_v2 pass (1): 3 of 5; max_age_v1 (a
    // fail) is informational under the default benchmark, CIS v2.0.0.
    assert_eq!(score(&e.findings).map(|s| s.tenths()), Some(600));
    let none = account(&[("x.json", r#"{"PasswordPolicy":{}}"#)]);
    assert_eq!(
        score(&evaluate(&none, None, &RulePack::default()).findings),
        None
    );
}

#[test]
fn only_the_chosen_benchmark_version_is_scored() {
    // MaxPasswordAge 90 meets CIS v1.0.0 1.13 (1..=90) and fails CIS v2.0.0 1.13 (0 or 365+).
    let a = policy(r#""MinimumPasswordLength":14,"MaxLoginAttemps":0,"MaxPasswordAge":90"#);
    let find = |e: &Evaluation, id: &str| e.findings.iter().find(|f| f.control_id == id).cloned();
    let v2 = evaluate(&a, Some(at(AS_OF)), &RulePack::default());
    let (v1_control, v2_control) = (
        find(&v2, "pwd.max_age_v1").unwrap(),
        find(&v2, "pwd.max_age_v2").unwrap(),
    );
    assert_eq!(v2_control.status, Status::Fail);
    assert!(v2_control.scored);
    assert_eq!(v2_control.informational, None);
    // Evaluated and kept with its result, but informational and not scored.
    assert_eq!(v1_control.status, Status::Pass);
    assert!(!v1_control.scored);
    assert_eq!(v1_control.informational, Some(Benchmark::CisV1));
    // Controls of both versions and of none stay scored.
    assert!(find(&v2, "pwd.min_length").unwrap().scored);
    assert!(find(&v2, "pref.session_duration").is_none_or(|f| f.scored));
    // min_length pass (2), lockout fail (2), max_age_v2 fail (1): 2 of 5.
    assert_eq!(score(&v2.findings).map(|s| s.tenths()), Some(400));

    let pack = RulePack {
        benchmark: Benchmark::CisV1,
        ..RulePack::default()
    };
    let v1 = evaluate(&a, Some(at(AS_OF)), &pack);
    let (v1_control, v2_control) = (
        find(&v1, "pwd.max_age_v1").unwrap(),
        find(&v1, "pwd.max_age_v2").unwrap(),
    );
    assert_eq!(v1_control.status, Status::Pass);
    assert!(v1_control.scored);
    assert_eq!(v1_control.informational, None);
    assert_eq!(v2_control.status, Status::Fail);
    assert!(!v2_control.scored);
    assert_eq!(v2_control.informational, Some(Benchmark::CisV2));
    // min_length pass (2), lockout fail (2), max_age_v1 pass (1): 3 of 5.
    assert_eq!(score(&v1.findings).map(|s| s.tenths()), Some(600));
}

#[test]
fn a_rules_file_names_the_benchmark_version() {
    assert_eq!(
        RulePack::from_toml("", "rules.toml").unwrap().benchmark,
        Benchmark::CisV2
    );
    let pack = RulePack::from_toml("benchmark = \"cis-v1\"\n", "rules.toml").unwrap();
    assert_eq!(pack.benchmark, Benchmark::CisV1);
    let err = RulePack::from_toml("benchmark = \"cis-v3\"\n", "rules.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cis-v3") && err.contains("`cis-v2`") && err.contains("`cis-v1`"),
        "{err}"
    );
}

#[test]
fn rules_file_overrides_thresholds_and_rejects_unknown_keys() {
    let pack = RulePack::from_toml(
        "[thresholds]\npassword_min_length = 12\n[controls.\"pwd.lockout\"]\nenabled = false\n",
        "rules.toml",
    )
    .unwrap();
    let a = policy(r#""MinimumPasswordLength":12,"MaxLoginAttemps":0"#);
    let e = evaluate(&a, Some(at(AS_OF)), &pack);
    assert_eq!(
        e.findings
            .iter()
            .find(|f| f.control_id == "pwd.min_length")
            .unwrap()
            .status,
        Status::Pass
    );
    assert!(e.findings.iter().all(|f| f.control_id != "pwd.lockout"));
    let err =
        RulePack::from_toml("[thresholds]\npassword_length = 12\n", "rules.toml").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `password_length`"),
        "{err}"
    );
    let err = RulePack::from_toml("[controls.\"pwd.nope\"]\nenabled = false\n", "rules.toml")
        .unwrap_err();
    assert!(err.to_string().contains("pwd.nope"), "{err}");
}

#[test]
fn age_checks_without_an_as_of_are_not_evaluable() {
    let a = with_root(ROOT_OK, &[]);
    let e = evaluate(&a, None, &RulePack::default());
    let f = e
        .findings
        .iter()
        .find(|f| f.control_id == "ram.access_key_rotation")
        .unwrap();
    assert_eq!(f.status, Status::NotEvaluable);
    assert!(en(&f.detail).contains("--as-of"));
}

use crate::i18n::tests::placeholders;

#[test]
fn every_built_in_control_has_its_texts_in_both_languages_with_the_same_placeholders() {
    use crate::i18n::{Catalogue, Lang};
    let (en, zh) = (Catalogue::get(Lang::En), Catalogue::get(Lang::Zh));
    for def in CATALOG {
        for (part, english) in [
            ("title", def.title),
            ("logic", def.logic),
            ("evidence", def.evidence),
            ("remediation", def.remediation),
        ] {
            let key = format!("control.{}.{part}", def.id);
            let chinese = zh
                .entries()
                .get(&key)
                .unwrap_or_else(|| panic!("zh lacks {key}"));
            assert_eq!(placeholders(english), placeholders(chinese), "{key}");
            assert!(!chinese.trim().is_empty(), "{key} is empty in zh.toml");
            let t = Thresholds::default();
            assert_eq!(control_text(en, def.id, part, &t), Some(t.fill(english)));
            assert_eq!(control_text(zh, def.id, part, &t), Some(t.fill(chinese)));
        }
    }
    let t = Thresholds::default();
    assert_eq!(control_text(en, "sas.49", "title", &t), None);
    assert_eq!(control_text(zh, "sas.49", "title", &t), None);
    assert_eq!(score_formula(en), SCORE_FORMULA);
    assert_eq!(score_formula(zh), zh.t("method.score_formula"));
    assert_ne!(score_formula(zh), "?");
}

#[test]
fn one_evaluation_is_written_in_either_language() {
    use crate::i18n::{Catalogue, Lang};
    let (en, zh) = (Catalogue::get(Lang::En), Catalogue::get(Lang::Zh));
    let both = |m: &Message| (m.render(en), m.render(zh));
    let say = |a: &str, b: &str| (a.to_string(), b.to_string());

    // A message naming what is missing, itself a message.
    let f = finding(
        &account(&[(
            "pp.json",
            r#"{"PasswordPolicy":{"MinimumPasswordLength":8}}"#,
        )]),
        "root.no_recent_use",
    );
    assert_eq!(
        both(&f.detail),
        say("no credential report was found", "未找到凭证报告")
    );

    // Values filled into the sentence.
    let f = finding(
        &account(&[(
            "pp.json",
            r#"{"PasswordPolicy":{"MinimumPasswordLength":8}}"#,
        )]),
        "pwd.min_length",
    );
    let expected = say(
        "minimum length 8 (needs 14 or more)",
        "最小长度 8（要求 14 或以上）",
    );
    assert_eq!(both(&f.detail), expected);
    assert_eq!(both(&f.resources[0].detail), expected);

    // Words of the catalogue (why, the status name) and evidence text (the title) together.
    let sas = r#"{"TotalCount":1,"List":[{"ItemId":49,"Title":"Alibaba Cloud account security - AccessKey pair","Status":"failed","RiskLevel":"medium"}]}"#;
    let f = finding(&account(&[("sas.json", sas)]), "root.no_access_key");
    assert_eq!(
        both(&f.detail),
        say(
            "no credential report or practice report: decided by Security Center item 49 \"Alibaba Cloud account security - AccessKey pair\" (fail)",
            "没有凭证报告或安全实践报告：由云安全中心检查项 49“Alibaba Cloud account security - AccessKey pair”判定（未通过）",
        )
    );
    assert_eq!(
        both(&f.resources[0].detail),
        say(
            "Alibaba Cloud account security - AccessKey pair",
            "Alibaba Cloud account security - AccessKey pair"
        )
    );

    // A count, and a compensating control.
    let u = user("carol", &format!("-,TRUE,TRUE,N/A,-,FALSE,{NO_KEYS}"));
    let pref =
        r#"{"SecurityPreference":{"LoginProfilePreference":{"MFAOperationForLogin":"mandatory"}}}"#;
    let f = finding(
        &account(&[("cr.csv", &csv(&[ROOT_OK, &u])), ("sp.json", pref)]),
        "ram.console_mfa",
    );
    assert_eq!(
        both(&f.detail),
        say(
            "1 of 1 console users have no MFA",
            "1 个控制台用户中有 1 个未启用 MFA"
        )
    );
    let compensating = both(f.compensating.as_ref().unwrap());
    assert!(compensating.0.starts_with("compensating control: "));
    assert!(compensating.1.starts_with("补偿性控制："));
}
