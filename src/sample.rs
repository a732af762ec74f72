//! `aliaudit sample`: writes a realistic synthetic evidence tree for demos and benchmarks.
//!
//! Deterministic by seed, and each account depends only on the seed and its own index, so a
//! larger tree starts with the same accounts as a smaller one. The first six accounts cover
//! every evidence shape and quirk that ingest accepts. No clock is read.

use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use quick_xml::escape::escape;
use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleOptions {
    /// Number of accounts.
    pub accounts: usize,
    /// Average RAM users per account.
    pub users: usize,
    /// The seed: the same seed writes the same tree.
    pub seed: u64,
}

/// One generated file: path below the tree root and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SampleFile {
    /// `/`-separated path.
    path: String,
    bytes: Vec<u8>,
}

/// The instant the synthetic evidence is collected around.
fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 28, 2, 0, 0)
        .single()
        .unwrap_or_default()
}

const CUSTOMERS: &[(&str, &str)] = &[
    ("Acme Retail", "acme-retail"),
    ("Blue Harbor Logistics", "blue-harbor"),
    ("陈记食品 Chen's Foods", "chens-foods"),
    ("Northwind Health", "northwind-health"),
    ("金莲旅游 Golden Lotus Travel", "golden-lotus"),
    ("Kestrel Fintech", "kestrel-fintech"),
    ("Red Maple Games", "red-maple"),
    ("Yangtze Solar", "yangtze-solar"),
];

const ENVIRONMENTS: &[&str] = &[
    "prod",
    "staging",
    "shared-services",
    "data",
    "dev",
    "sandbox",
];

const GIVEN: &[&str] = &[
    "wei", "na", "fang", "jun", "lei", "yan", "ming", "hui", "alice", "bob", "carol", "dave",
    "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent",
];
const FAMILY: &[&str] = &[
    "zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "smith", "jones",
    "tan", "lim", "ng", "lee",
];
const SERVICES: &[&str] = &[
    "ci-deploy",
    "backup-agent",
    "log-shipper",
    "terraform",
    "grafana-reader",
    "etl-job",
    "oss-sync",
    "monitor-bot",
    "billing-export",
    "k8s-autoscaler",
];

/// Security Center items: id, English title, Chinese title, category, level.
const SAS_ITEMS: &[(i64, &str, &str, &str, &str)] = &[
    (
        1,
        "ActionTrail - log audit",
        "操作审计-日志审计",
        "Log audit",
        "medium",
    ),
    (
        2,
        "RDS - Database security policies",
        "RDS-数据库安全策略",
        "Data security",
        "medium",
    ),
    (
        3,
        "Alibaba Cloud account security - MFA",
        "主账号安全-双因素认证",
        "Identity authentication and permissions",
        "high",
    ),
    (
        5,
        "RDS - whitelist configurations",
        "RDS-白名单配置",
        "Network access control",
        "high",
    ),
    (
        8,
        "Alibaba Cloud Security - Security Center agent status",
        "云安全中心-客户端状态",
        "Basic security protection",
        "high",
    ),
    (
        12,
        "OSS - bucket permissions",
        "OSS-Bucket权限",
        "Data security",
        "high",
    ),
    (
        13,
        "Security Center - AccessKey leak detection",
        "云安全中心-AK泄露检测配置",
        "Monitoring and alerting",
        "medium",
    ),
    (
        15,
        "RAM - RAM user MFA",
        "RAM-子账号双因素认证",
        "Identity authentication and permissions",
        "medium",
    ),
    (
        16,
        "OSS - log record configurations",
        "OSS-日志记录配置",
        "Data security",
        "medium",
    ),
    (
        18,
        "RDS - backup configurations",
        "RDS-备份配置",
        "Data security",
        "medium",
    ),
    (
        19,
        "ApsaraDB for Redis - whitelist configurations",
        "Redis-白名单配置",
        "Network access control",
        "high",
    ),
    (
        20,
        "ECS - SSH key pairs",
        "ECS-SSH密钥对",
        "Identity authentication and permissions",
        "medium",
    ),
    (
        24,
        "ECS - disk encryption",
        "ECS-磁盘加密",
        "Data security",
        "low",
    ),
    (
        27,
        "ECS - automatic snapshot policies",
        "ECS-自动快照策略",
        "Data security",
        "medium",
    ),
    (
        30,
        "OSS - bucket server-side encryption",
        "OSS-服务端加密",
        "Data security",
        "low",
    ),
    (
        37,
        "ECS - security group policies",
        "ECS-安全组策略",
        "Network access control",
        "medium",
    ),
    (
        42,
        "SLB - access log configurations",
        "SLB-访问日志配置",
        "Log audit",
        "medium",
    ),
    (
        49,
        "Alibaba Cloud account security - AccessKey pair",
        "主账号安全-AK使用",
        "Identity authentication and permissions",
        "medium",
    ),
];

const CR_HEADER: &str = "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used,access_key_2_exist,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used";

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

struct Key {
    active: bool,
    rotated: DateTime<Utc>,
    used: Option<DateTime<Utc>>,
}

struct User {
    name: String,
    created: DateTime<Utc>,
    last_logon: Option<DateTime<Utc>>,
    console: bool,
    login_disabled: bool,
    mfa: bool,
    password_changed: Option<DateTime<Utc>>,
    keys: Vec<Key>,
}

struct Plan {
    generated: DateTime<Utc>,
    root: User,
    users: Vec<User>,
    extra_key_columns: usize,
}

fn make_user(rng: &mut fastrand::Rng, name: String, now: DateTime<Utc>, service: bool) -> User {
    let created = now - Duration::days(rng.i64(20..2000)) - Duration::seconds(rng.i64(0..86_400));
    let console = !service && rng.f32() < 0.85;
    let last_logon = (console && rng.f32() < 0.85).then(|| {
        let days = if rng.f32() < 0.8 {
            rng.i64(0..60)
        } else {
            rng.i64(60..400)
        };
        (now - Duration::days(days) - Duration::seconds(rng.i64(0..86_400))).max(created)
    });
    let key_count = if service {
        if rng.f32() < 0.2 { 2 } else { 1 }
    } else if rng.f32() < 0.25 {
        1
    } else {
        0
    };
    let keys = (0..key_count)
        .map(|_| {
            let rotated = (now - Duration::days(rng.i64(1..900))).max(created);
            let used = (rng.f32() < 0.85).then(|| {
                (now - Duration::days(rng.i64(0..200)) - Duration::seconds(rng.i64(0..86_400)))
                    .max(rotated)
            });
            Key {
                active: rng.f32() < 0.9,
                rotated,
                used,
            }
        })
        .collect();
    User {
        name,
        created,
        last_logon,
        console,
        login_disabled: console && rng.f32() < 0.04,
        mfa: console && rng.f32() < 0.7,
        password_changed: console.then(|| (now - Duration::days(rng.i64(0..500))).max(created)),
        keys,
    }
}

fn plan(rng: &mut fastrand::Rng, users: usize, alias: &str, variant: usize) -> Plan {
    let generated = base_time() - Duration::hours(rng.i64(0..72));
    let now = generated;
    let count = if users == 0 {
        0
    } else {
        (users / 2 + rng.usize(..=users)).max(1)
    };
    let mut names = std::collections::BTreeSet::new();
    let mut list = Vec::new();
    for n in 0..count {
        let service = rng.f32() < 0.25;
        let base = if service {
            pick(rng, SERVICES).to_string()
        } else {
            format!("{}.{}", pick(rng, GIVEN), pick(rng, FAMILY))
        };
        let mut name = base.clone();
        if !names.insert(name.clone()) {
            name = format!("{base}{n}");
            names.insert(name.clone());
        }
        list.push(make_user(
            rng,
            format!("{name}@{alias}.onaliyun.com"),
            now,
            service,
        ));
    }
    let mut root = make_user(rng, "<root>".into(), now, false);
    root.console = true;
    root.mfa = rng.f32() < 0.8;
    root.last_logon = Some(now - Duration::days(rng.i64(0..300)));
    root.keys = if rng.f32() < 0.25 {
        vec![Key {
            active: true,
            rotated: now - Duration::days(rng.i64(100..1500)),
            used: (rng.f32() < 0.5).then(|| now - Duration::days(rng.i64(0..120))),
        }]
    } else {
        Vec::new()
    };
    // Variant 2 is the legacy account with a third key in an additional_access_key column.
    let extra_key_columns = usize::from(variant == 2);
    if variant == 2
        && let Some(u) = list.iter_mut().find(|u| !u.keys.is_empty())
    {
        u.keys.push(Key {
            active: true,
            rotated: now - Duration::days(1200),
            used: None,
        });
    }
    Plan {
        generated,
        root,
        users: list,
        extra_key_columns,
    }
}

fn key_cells(key: Option<&Key>) -> [String; 4] {
    match key {
        None => ["FALSE".into(), "N/A".into(), "N/A".into(), "N/A".into()],
        Some(k) => [
            "TRUE".into(),
            if k.active { "TRUE" } else { "FALSE" }.into(),
            ts(k.rotated),
            k.used.map(ts).unwrap_or_else(|| "-".into()),
        ],
    }
}

fn csv_text(plan: &Plan, line_end: &str) -> String {
    let mut header = CR_HEADER.to_string();
    for n in 1..=plan.extra_key_columns {
        for c in ["exist", "active", "last_rotated", "last_used"] {
            header.push_str(&format!(",additional_access_key_{n}_{c}"));
        }
    }
    let mut out = header + line_end;
    for (i, u) in std::iter::once(&plan.root).chain(&plan.users).enumerate() {
        let root = i == 0;
        let mut cells = vec![
            u.name.clone(),
            ts(u.created),
            u.last_logon.map(ts).unwrap_or_else(|| "-".into()),
        ];
        if root {
            cells.extend(["TRUE".into(), "N/A".into(), "N/A".into(), "N/A".into()]);
            cells.push(if u.mfa { "TRUE" } else { "FALSE" }.into());
        } else if u.login_disabled {
            cells.extend([
                "TRUE".into(),
                "LOGIN_DISABLED".into(),
                u.password_changed.map(ts).unwrap_or_else(|| "N/A".into()),
                "-".into(),
                "LOGIN_DISABLED".into(),
            ]);
        } else if u.console {
            cells.extend([
                "TRUE".into(),
                "TRUE".into(),
                u.password_changed.map(ts).unwrap_or_else(|| "N/A".into()),
                "-".into(),
                if u.mfa { "TRUE" } else { "FALSE" }.into(),
            ]);
        } else {
            cells.extend(["FALSE", "N/A", "N/A", "N/A", "N/A"].map(String::from));
        }
        for slot in 0..2 + plan.extra_key_columns {
            cells.extend(key_cells(u.keys.get(slot)));
        }
        out.push_str(&cells.join(","));
        out.push_str(line_end);
    }
    out
}

fn wrap76(text: &str) -> String {
    text.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn request_id(rng: &mut fastrand::Rng) -> String {
    let hex = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(rng.u32(..16), 16).unwrap_or('0'))
            .collect::<String>()
            .to_uppercase()
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

fn credential_files(rng: &mut fastrand::Rng, plan: &Plan, variant: usize) -> Vec<SampleFile> {
    let generated = ts(plan.generated);
    match variant {
        0 | 4 => vec![SampleFile {
            path: "credential_report.csv".into(),
            bytes: csv_text(plan, "\n").into_bytes(),
        }],
        2 => vec![SampleFile {
            path: "credential-report-console-export.csv".into(),
            bytes: [
                b"\xEF\xBB\xBF".as_slice(),
                csv_text(plan, "\r\n").as_bytes(),
            ]
            .concat(),
        }],
        3 | 5 => {
            // Two pages: page 1 holds the header and the first half; variant 5 repeats the
            // header on page 2, variant 3 does not. IsTruncated as a string, then a bool.
            let text = csv_text(plan, "\n");
            let lines: Vec<&str> = text.lines().collect();
            let split = (lines.len() / 2).max(2).min(lines.len());
            let first = lines[..split].join("\n") + "\n";
            let mut second = lines[split..].join("\n") + "\n";
            if variant == 5 {
                second = format!("{}\n{second}", lines[0]);
            }
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
            vec![
                SampleFile {
                    path: "GetCredentialReport-page1.json".into(),
                    bytes: pretty(&json!({
                        "RequestId": request_id(rng),
                        "GeneratedTime": generated,
                        "Content": wrap76(&b64(&first)),
                        "IsTruncated": "true",
                        "NextToken": format!("tok-{}", rng.u32(..)),
                    })),
                },
                SampleFile {
                    path: "GetCredentialReport-page2.json".into(),
                    bytes: pretty(&json!({
                        "RequestId": request_id(rng),
                        "GeneratedTime": generated,
                        "Content": b64(&second),
                        "IsTruncated": false,
                    })),
                },
            ]
        }
        _ => vec![SampleFile {
            path: "ims-GetCredentialReport.json".into(),
            bytes: pretty(&json!({
                "RequestId": request_id(rng),
                "GeneratedTime": generated,
                "Content": wrap76(&base64::engine::general_purpose::STANDARD.encode(csv_text(plan, "\n"))),
            })),
        }],
    }
}

fn practice_file(rng: &mut fastrand::Rng, plan: &Plan) -> SampleFile {
    let users = plan.users.len() as i64;
    let with_mfa = plan.users.iter().filter(|u| u.mfa).count() as i64;
    let level = *pick(rng, &["low", "mid", "mid", "high"]);
    let old = plan
        .users
        .iter()
        .flat_map(|u| &u.keys)
        .filter(|k| plan.generated - k.rotated > Duration::days(90))
        .count() as i64;
    let score = (100 - (users - with_mfa) * 2 - old * 3 - if plan.root.mfa { 0 } else { 15 })
        .clamp(20, 100);
    SampleFile {
        path: "GetAccountSecurityPracticeReport.json".into(),
        bytes: pretty(&json!({
            "RequestId": request_id(rng),
            "AccountSecurityPracticeInfo": {
                "Score": score,
                "AccountSecurityPracticeUserInfo": {
                    "BindMfa": plan.root.mfa,
                    "RootWithAccessKey": plan.root.keys.len(),
                    "SubUser": users,
                    "SubUserBindMfa": with_mfa,
                    "SubUserPwdLevel": level,
                    "OldAkNum": old,
                    "UnusedAkNum": plan.users.iter().flat_map(|u| &u.keys).filter(|k| k.used.is_none()).count(),
                    "SubUserWithOldAccessKey": plan.users.iter().filter(|u| u.keys.iter().any(|k| plan.generated - k.rotated > Duration::days(90))).count(),
                    "SubUserWithUnusedAccessKey": plan.users.iter().filter(|u| u.keys.iter().any(|k| k.used.is_none())).count(),
                }
            }
        })),
    }
}

fn preference_file(rng: &mut fastrand::Rng, variant: usize) -> SampleFile {
    let masks = if rng.f32() < 0.4 {
        "203.0.113.0/24;198.51.100.16/28"
    } else {
        ""
    };
    let session = *pick(rng, &[1, 4, 6, 6, 8, 12]);
    let manage_keys = rng.f32() < 0.3;
    let save_ticket = rng.f32() < 0.3;
    let mut login = json!({
        "AllowUserToChangePassword": true,
        "EnableSaveMFATicket": save_ticket,
        "LoginNetworkMasks": masks,
        "LoginSessionDuration": session,
    });
    let body = match variant {
        // Ram 2015-05-01 shape: no MFA enforcement, no idle days; has PublicKeyPreference.
        2 => json!({
            "AccessKeyPreference": {"AllowUserToManageAccessKeys": manage_keys},
            "LoginProfilePreference": login,
            "MFAPreference": {"AllowUserToManageMFADevices": true},
            "PublicKeyPreference": {"AllowUserToManagePublicKeys": false},
        }),
        // Older Ims response: legacy EnforceMFAForLogin and the nested VerificationTypes quirk.
        1 => {
            login["EnforceMFAForLogin"] = json!(rng.f32() < 0.5);
            json!({
                "AccessKeyPreference": {"AllowUserToManageAccessKeys": manage_keys},
                "LoginProfilePreference": login,
                "MFAPreference": {"AllowUserToManageMFADevices": true},
                "VerificationPreference": {"VerificationTypes": ["[\"sms\",\"email\"]"]},
            })
        }
        _ => {
            let mode = match variant {
                3 => "adaptive",
                4 => "mandatory",
                _ => *pick(
                    rng,
                    &["mandatory", "adaptive", "independent", "independent"],
                ),
            };
            login["MFAOperationForLogin"] = json!(mode);
            login["OperationForRiskLogin"] = json!("autonomous");
            login["AllowUserToLoginWithPasskey"] = json!(true);
            json!({
                "AccessKeyPreference": {"AllowUserToManageAccessKeys": manage_keys, "AllowUserToManageServiceCredentials": false},
                "LoginProfilePreference": login,
                "MFAPreference": {"AllowUserToManageMFADevices": true},
                "VerificationPreference": {"VerificationTypes": ["sms", "email"]},
                "PersonalInfoPreference": {"AllowUserToManagePersonalDingTalk": true},
                "MaxIdleDays": {
                    "MaxIdleDaysForUsers": *pick(rng, &[90, 180, 730]),
                    "MaxIdleDaysForAccessKeys": *pick(rng, &[90, 365, 730]),
                },
            })
        }
    };
    SampleFile {
        path: "security-preference.json".into(),
        bytes: pretty(&json!({"RequestId": request_id(rng), "SecurityPreference": body})),
    }
}

fn password_file(rng: &mut fastrand::Rng, variant: usize) -> SampleFile {
    let strong = rng.f32() < 0.4;
    let mut policy = json!({
        "MinimumPasswordLength": if strong { 14 } else { *pick(rng, &[8, 10, 12, 16]) },
        "RequireLowercaseCharacters": true,
        "RequireUppercaseCharacters": strong || rng.f32() < 0.6,
        "RequireNumbers": true,
        "RequireSymbols": strong || rng.f32() < 0.4,
        "MaxPasswordAge": *pick(rng, &[0, 0, 90, 180, 365]),
        "PasswordReusePrevention": if strong { *pick(rng, &[5, 10, 24]) } else { *pick(rng, &[0, 3, 5]) },
        "MaxLoginAttemps": *pick(rng, &[0, 3, 5, 5, 10]),
    });
    if variant == 1 {
        policy["HardExpiry"] = json!(false);
    } else {
        policy["HardExpire"] = json!(false);
        policy["MinimumPasswordDifferentCharacter"] = json!(0);
        policy["PasswordNotContainUserName"] = json!(true);
    }
    SampleFile {
        path: "GetPasswordPolicy.json".into(),
        bytes: pretty(&json!({"RequestId": request_id(rng), "PasswordPolicy": policy})),
    }
}

struct SasRow {
    id: i64,
    title: String,
    category: String,
    level: String,
    status: &'static str,
    start: &'static str,
    affected: i64,
    checked: i64,
}

impl SasRow {
    /// The product the check is about, as the known item table names it (else the title's
    /// part before its dash): both APIs report it, so that one check reads as one.
    fn asset(&self) -> String {
        match aliaudit_core::sas_items::known(&self.title) {
            Some(item) => item.asset.clone(),
            None => self
                .title
                .split(['-', '－'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        }
    }
}

fn sas_rows(rng: &mut fastrand::Rng, plan: &Plan, variant: usize) -> Vec<SasRow> {
    let zh = variant % 2 == 1;
    let checked_base = (plan.generated - Duration::hours(rng.i64(1..48))).timestamp_millis();
    let chosen: Vec<_> = SAS_ITEMS
        .iter()
        .filter(|item| matches!(item.0, 3 | 15 | 49) || rng.f32() < 0.9)
        .collect();
    chosen
        .into_iter()
        .map(|&(id, en, zh_title, category, level)| {
            let console_no_mfa = plan.users.iter().any(|u| u.console && !u.mfa);
            let (mut status, mut start) = match id {
                3 => (if plan.root.mfa { "pass" } else { "failed" }, "enabled"),
                15 => (if console_no_mfa { "failed" } else { "pass" }, "enabled"),
                49 => (
                    if plan.root.keys.is_empty() {
                        "pass"
                    } else {
                        "failed"
                    },
                    "enabled",
                ),
                _ => {
                    let r = rng.f32();
                    let s = if r < 0.6 {
                        "pass"
                    } else if r < 0.88 {
                        "failed"
                    } else if r < 0.92 {
                        "ignored"
                    } else if r < 0.95 {
                        "falsePositive"
                    } else {
                        "running"
                    };
                    (s, "enabled")
                }
            };
            if variant == 4 && matches!(id, 8 | 13) {
                status = "pass";
                start = "disable";
            }
            SasRow {
                id,
                title: if zh { zh_title } else { en }.to_string(),
                category: category.to_string(),
                level: level.to_string(),
                status,
                start,
                affected: if status == "failed" {
                    rng.i64(1..12)
                } else {
                    0
                },
                checked: checked_base - rng.i64(0..3_600_000),
            }
        })
        .collect()
}

fn sas_json_item(row: &SasRow, strings: bool, content_as_string: bool) -> Value {
    let num = |n: i64| {
        if strings {
            json!(n.to_string())
        } else {
            json!(n)
        }
    };
    let content = json!({"type": "text", "value": format!("Review the {} setting.", row.title)});
    json!({
        "ItemId": num(row.id),
        "Title": row.title,
        "Type": row.category,
        "RiskLevel": row.level,
        "Status": row.status,
        "StartStatus": row.start,
        "RepairStatus": "disabled",
        "AffectedCount": num(row.affected),
        "RiskAssertType": row.asset(),
        "CheckTime": num(row.checked),
        "RemainingTime": num(0),
        "TaskId": num(row.checked / 1000),
        "Sort": num(row.id),
        "RiskItemResources": [{
            "ResourceName": "suggestion",
            "ContentResource": if content_as_string { json!(content.to_string()) } else { content },
        }],
    })
}

fn sas_files(rng: &mut fastrand::Rng, plan: &Plan, variant: usize) -> Vec<SampleFile> {
    let rows = sas_rows(rng, plan, variant);
    // Variant 3 pages so that the last page holds one item, which the API then spells as a
    // bare object instead of a one-element array.
    let page_size = if variant == 3 && rows.len() > 1 {
        rows.len() - 1
    } else {
        10
    };
    let pages: Vec<&[SasRow]> = rows.chunks(page_size).collect();
    let total = rows.len();
    let mut files = Vec::new();
    let describe = variant != 2;
    if describe {
        for (n, page) in pages.iter().enumerate() {
            let number = n + 1;
            if variant == 1 {
                let mut xml = String::from(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRiskCheckResultResponse>\n",
                );
                xml.push_str(&format!(
                    "  <RequestId>{}</RequestId>\n  <TotalCount>{total}</TotalCount>\n  <PageCount>{}</PageCount>\n  <PageSize>{page_size}</PageSize>\n  <CurrentPage>{number}</CurrentPage>\n  <Count>{}</Count>\n",
                    request_id(rng),
                    pages.len(),
                    page.len()
                ));
                for row in page.iter() {
                    xml.push_str(&format!(
                        "  <List>\n    <ItemId>{}</ItemId>\n    <Title>{}</Title>\n    <Type>{}</Type>\n    <RiskLevel>{}</RiskLevel>\n    <Status>{}</Status>\n    <StartStatus>{}</StartStatus>\n    <AffectedCount>{}</AffectedCount>\n    <CheckTime>{}</CheckTime>\n    <RiskItemResources>\n      <ResourceName>suggestion</ResourceName>\n      <ContentResource>{}</ContentResource>\n    </RiskItemResources>\n  </List>\n",
                        row.id,
                        // quick-xml's full `escape`: the quotes of ContentResource's JSON are
                        // spelt &quot; as the API spells them (titles hold no apostrophe, the
                        // one character our old escaper left as it was).
                        escape(row.title.as_str()),
                        escape(row.category.as_str()),
                        row.level,
                        row.status,
                        row.start,
                        row.affected,
                        row.checked,
                        escape(json!({"type": "text", "value": "See the console."}).to_string()),
                    ));
                }
                xml.push_str("</DescribeRiskCheckResultResponse>\n");
                files.push(SampleFile {
                    path: format!("DescribeRiskCheckResult-{number}.xml"),
                    bytes: xml.into_bytes(),
                });
            } else {
                let strings = variant == 3;
                let list: Value = if variant == 3 && page.len() == 1 {
                    sas_json_item(&page[0], strings, false)
                } else {
                    Value::Array(
                        page.iter()
                            .map(|r| sas_json_item(r, strings, variant == 4))
                            .collect(),
                    )
                };
                let num = |n: usize| {
                    if strings {
                        json!(n.to_string())
                    } else {
                        json!(n)
                    }
                };
                files.push(SampleFile {
                    path: format!("DescribeRiskCheckResult-{number}.json"),
                    bytes: pretty(&json!({
                        "RequestId": request_id(rng),
                        "TotalCount": num(total),
                        "PageCount": num(pages.len()),
                        "PageSize": num(page_size),
                        "CurrentPage": num(number),
                        "Count": num(page.len()),
                        "List": list,
                    })),
                });
            }
        }
    }
    if variant == 2 || variant == 5 {
        let checks: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "CheckId": 100 + r.id,
                    "CheckShowName": r.title,
                    "Vendor": "ALIYUN",
                    "InstanceType": format!("ACS_{}", r.asset().to_uppercase().replace(' ', "_")),
                    "RiskLevel": r.level.to_uppercase(),
                    "Status": match r.status { "pass" => "PASS", "failed" => "NOT_PASS", "ignored" | "falsePositive" => "WHITELIST", _ => "CHECKING" },
                    "TaskId": (r.checked / 1000).to_string(),
                    "LastCheckTime": r.checked,
                    "CheckPolicies": [{"StandardShowName": "Best security practices", "RequirementShowName": "Alibaba Cloud best practices", "SectionShowName": r.category}],
                })
            })
            .collect();
        files.push(SampleFile {
            path: "ListCheckResult.json".into(),
            bytes: pretty(&json!({
                "RequestId": request_id(rng),
                "Checks": checks,
                "PageInfo": {"CurrentPage": 1, "PageSize": 100, "TotalCount": rows.len(), "Count": rows.len()},
            })),
        });
    }
    files
}

fn toml_string(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// The files of account `index` (paths relative to the tree root).
fn account_files(options: &SampleOptions, index: usize) -> Vec<SampleFile> {
    let mut rng = fastrand::Rng::with_seed(
        options
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(index as u64),
    );
    let variant = if index < 6 { index } else { rng.usize(..6) };
    let (customer, customer_slug) = CUSTOMERS[(index / 3 + index % 3 / 2) % CUSTOMERS.len()];
    let round = index / (CUSTOMERS.len() * 3);
    let env = ENVIRONMENTS[index % ENVIRONMENTS.len()];
    let folder = if round == 0 {
        format!("{customer_slug}/{env}")
    } else {
        format!("{customer_slug}-{round}/{env}")
    };
    let uid = format!(
        "{}",
        1_000_000_000_000_000u64 + rng.u64(..8_999_999_999_999_999)
    );
    let alias = format!("{customer_slug}-{env}");
    let plan = plan(&mut rng, options.users, &alias, variant);

    let mut files = Vec::new();
    let mut meta = format!(
        "name = {}\ncustomer = {}\nsite = \"{}\"\ncontacts = [\"security@{customer_slug}.example\"]\n",
        toml_string(&format!("{customer} - {env}")),
        toml_string(customer),
        if index % 4 == 3 {
            "international"
        } else {
            "china"
        },
    );
    if variant != 5 {
        meta = format!("uid = \"{uid}\"\n{meta}");
    }
    meta.push_str(&format!("tags = {{ env = \"{env}\" }}\n"));
    files.push(SampleFile {
        path: "account.toml".into(),
        bytes: meta.into_bytes(),
    });
    if variant == 5 {
        files.push(SampleFile {
            path: "sts-GetCallerIdentity.json".into(),
            bytes: pretty(&json!({
                "RequestId": request_id(&mut rng),
                "AccountId": uid,
                "IdentityType": "AssumedRoleUser",
                "Arn": format!("acs:ram::{uid}:assumed-role/msp-audit/aliaudit"),
            })),
        });
    }
    files.extend(credential_files(&mut rng, &plan, variant));
    files.push(practice_file(&mut rng, &plan));
    files.push(preference_file(&mut rng, variant));
    files.push(password_file(&mut rng, variant));
    files.extend(sas_files(&mut rng, &plan, variant));
    for f in &mut files {
        f.path = format!("{folder}/{}", f.path);
    }
    files
}

/// Writes the tree and returns the number of files written.
pub fn write_tree(out: &Path, options: &SampleOptions) -> Result<usize> {
    let mut count = 0;
    for index in 0..options.accounts {
        for file in account_files(options, index) {
            let path = out.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, &file.bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_pages_read_back_as_the_titles_and_json_they_were_made_from() {
        let options = SampleOptions {
            accounts: 6,
            users: 3,
            seed: 7,
        };
        let titles: Vec<&str> = SAS_ITEMS
            .iter()
            .flat_map(|&(_, en, zh, _, _)| [en, zh])
            .collect();
        let mut pages = 0;
        for file in (0..6).flat_map(|i| account_files(&options, i)) {
            if !file.path.ends_with(".xml") {
                continue;
            }
            pages += 1;
            let text = String::from_utf8(file.bytes).expect("UTF-8");
            // The API's spelling, byte for byte: quotes escaped, apostrophes never present.
            assert!(text.contains("&quot;type&quot;"), "{text}");
            assert!(!text.contains('\''), "{text}");
            let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
            let text_of = |name: &str| -> Vec<String> {
                doc.descendants()
                    .filter(|n| n.has_tag_name(name))
                    .map(|n| n.text().unwrap_or_default().to_string())
                    .collect()
            };
            let read = text_of("Title");
            assert!(!read.is_empty());
            for title in &read {
                assert!(titles.contains(&title.as_str()), "{title}");
            }
            for content in text_of("ContentResource") {
                let value: Value = serde_json::from_str(&content).expect("JSON");
                assert_eq!(value["type"], "text");
            }
        }
        assert!(pages > 0, "no XML page among the first six accounts");
    }
}
