//! One account's collection: assume the roles, learn the account UID, fetch every kind of
//! evidence (all pages), and keep a log of each call.
//!
//! Each kind of evidence is kept whole or not at all: pages are held until the last one has
//! arrived, so a failure half-way never leaves a set of pages that looks complete.

// A failure travels once per network call, which costs far more than moving it.
#![allow(clippy::result_large_err)]

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::api::{Apis, Caller, Endpoint, Failure, FailureKind, Reply};
use super::credentials::{KeyPair, Role, Secret};

/// The pieces of evidence an account's collection aims for, in order.
pub const EVIDENCE: [&str; 5] = [
    "practice report",
    "security preference",
    "password policy",
    "credential report",
    "Security Center checks",
];

/// The RAM action an API action needs.
pub fn ram_action(action: &str) -> &'static str {
    match action {
        "AssumeRole" => "sts:AssumeRole",
        "GetCallerIdentity" => "sts:GetCallerIdentity",
        "GetAccountSecurityPracticeReport" => "ram:GetAccountSecurityPracticeReport",
        "GetSecurityPreference" => "ram:GetSecurityPreference",
        "GetPasswordPolicy" => "ram:GetPasswordPolicy",
        "GenerateCredentialReport" => "ram:GenerateCredentialReport",
        "GetCredentialReport" => "ram:GetCredentialReport",
        "DescribeRiskCheckResult" => "yundun-sas:DescribeRiskCheckResult",
        "ListCheckResult" => "yundun-sas:ListCheckResult",
        _ => "",
    }
}

/// How long to wait for a credential report, and how often to ask.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    /// Longest wait for GenerateCredentialReport to reach `COMPLETED`.
    pub report: Duration,
    /// Time between polls.
    pub poll: Duration,
}

/// One call, as logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    /// API action.
    pub action: String,
    /// Product (`Ims`, `Sas`, `Sts`).
    pub product: String,
    /// When the call finished (UTC).
    pub time: String,
    /// Attempts made (more than 1 after retries).
    pub attempts: u32,
    /// Why earlier attempts were retried (`Throttling.User (HTTP 400)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retried: Vec<String>,
    /// HTTP status of the last attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// `RequestId` of the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `ok` or `error`.
    pub result: String,
    /// The API's error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error, short and without secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file the response was saved as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A piece of evidence that could not be collected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Missing {
    /// Which ([`EVIDENCE`]).
    pub evidence: String,
    /// Why, in one line.
    pub reason: String,
    /// The RAM actions to grant, when permissions are missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ram_actions: Vec<String>,
}

/// What came of one account.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Account UID (GetCallerIdentity).
    pub uid: Option<String>,
    /// Files to write: name and bytes, as received.
    pub files: Vec<(String, Vec<u8>)>,
    /// Every call made.
    pub calls: Vec<Call>,
    /// Evidence not collected.
    pub missing: Vec<Missing>,
    /// Why the account could not be collected at all.
    pub fatal: Option<Missing>,
}

struct Session<'a> {
    caller: &'a Caller,
    apis: &'a Apis,
    keys: KeyPair,
    out: Fetched,
    /// Hosts that gave no answer at all after every retry: later calls of this account to
    /// them fail at once with that failure instead of waiting through the retries again.
    unreachable: Vec<(String, Failure)>,
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Session<'_> {
    fn call(
        &mut self,
        endpoint: &Endpoint,
        action: &str,
        query: &[(String, String)],
    ) -> Result<Reply, Failure> {
        let known = self
            .unreachable
            .iter()
            .find(|(host, _)| *host == endpoint.host)
            .map(|(_, f)| f.clone());
        let result = match known {
            Some(f) => Err(Failure { attempts: 0, ..f }),
            None => self.caller.call(endpoint, action, query, &self.keys),
        };
        if let Err(f) = &result
            && f.status.is_none()
            && f.attempts > 0
        {
            self.unreachable.push((endpoint.host.clone(), f.clone()));
        }
        let call = match &result {
            Ok(reply) => Call {
                action: action.into(),
                product: endpoint.product.into(),
                time: super::api::utc_now(),
                attempts: reply.attempts,
                retried: reply.retried.clone(),
                http_status: Some(reply.status),
                request_id: reply.request_id.clone(),
                result: "ok".into(),
                error_code: None,
                error: None,
                file: None,
            },
            Err(f) => Call {
                action: action.into(),
                product: endpoint.product.into(),
                time: super::api::utc_now(),
                attempts: f.attempts,
                retried: f.retried.clone(),
                http_status: f.status,
                request_id: f.request_id.clone(),
                result: "error".into(),
                error_code: Some(f.code.clone()),
                error: Some(f.to_string()),
                file: None,
            },
        };
        self.out.calls.push(call);
        result
    }

    /// Keeps `body` as `name` and notes the file on the last logged call.
    fn keep(&mut self, name: String, body: Vec<u8>) {
        if let Some(last) = self.out.calls.last_mut() {
            last.file = Some(name.clone());
        }
        self.out.files.push((name, body));
    }

    /// Keeps pages, each noted on the call that fetched it (the last `pages.len()` ok calls
    /// of `action`).
    fn keep_pages(&mut self, action: &str, pages: Vec<(String, Vec<u8>)>) {
        let mut calls: Vec<&mut Call> = self
            .out
            .calls
            .iter_mut()
            .rev()
            .filter(|c| c.action == action && c.result == "ok")
            .take(pages.len())
            .collect();
        calls.reverse();
        for (call, (name, _)) in calls.into_iter().zip(&pages) {
            call.file = Some(name.clone());
        }
        self.out.files.extend(pages);
    }

    fn missing(&mut self, evidence: &str, action: &str, failure: &Failure) {
        let entry = missing_of(evidence, action, failure);
        self.out.missing.push(entry);
    }
}

fn missing_of(evidence: &str, action: &str, failure: &Failure) -> Missing {
    missing_all(evidence, &[(action, failure)])
}

/// What to tell the user about an authentication failure.
fn auth_hint(code: &str) -> &'static str {
    if code.starts_with("InvalidAccessKeyId") {
        "the AccessKey ID is unknown or disabled"
    } else if code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("InvalidAccessKeySecret")
    {
        "the AccessKey secret is wrong"
    } else if code.starts_with("InvalidSecurityToken") {
        "the STS token is wrong or expired"
    } else if code.starts_with("InvalidTimeStamp") {
        "this machine's clock is off by more than 15 minutes"
    } else {
        "the credentials were refused"
    }
}

/// One line for failures of several actions, each `Action Code (HTTP n)`, with the RAM
/// actions to grant and, for refused credentials, what is likely wrong. The servers' full
/// messages stay in the calls of the log.
fn missing_all(evidence: &str, failures: &[(&str, &Failure)]) -> Missing {
    let mut parts = Vec::new();
    let mut ram_actions = Vec::new();
    let mut hints = Vec::new();
    for (action, f) in failures {
        if f.attempts == 0 {
            parts.push(format!(
                "{action} not tried (its endpoint gave no answer before)"
            ));
            continue;
        }
        let mut part = format!("{action} {}", f.short());
        if f.attempts > 1 {
            part.push_str(&format!(" after {} attempts", f.attempts));
        }
        if (f.kind == FailureKind::Refused || f.status.is_none()) && !f.message.is_empty() {
            part.push_str(&format!(": {}", f.message));
        }
        parts.push(part);
        match f.kind {
            FailureKind::Permission => ram_actions.push(
                f.denied_action
                    .clone()
                    .unwrap_or_else(|| ram_action(action).to_string()),
            ),
            FailureKind::Auth => hints.push(auth_hint(&f.code)),
            _ => {}
        }
    }
    let mut reason = parts.join(", ");
    if !ram_actions.is_empty() {
        reason.push_str(&format!("; grant {}", ram_actions.join(", ")));
    }
    hints.dedup();
    for hint in hints {
        reason.push_str(&format!("; {hint}"));
    }
    Missing {
        evidence: evidence.into(),
        reason,
        ram_actions,
    }
}

#[derive(Deserialize)]
struct AssumeRoleReply {
    #[serde(rename = "Credentials")]
    credentials: StsCredentials,
}

#[derive(Deserialize)]
struct StsCredentials {
    #[serde(rename = "AccessKeyId")]
    id: String,
    #[serde(rename = "AccessKeySecret")]
    secret: String,
    #[serde(rename = "SecurityToken")]
    token: String,
}

#[derive(Deserialize)]
struct CallerReply {
    #[serde(rename = "AccountId")]
    account_id: Option<serde_json::Value>,
}

/// A JSON value read as text (numbers and strings alike).
fn text_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON value read as a number (numbers and numeric strings alike).
fn number_of(value: Option<&serde_json::Value>) -> Option<i64> {
    value.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn unreadable(action: &str, what: &str, attempts: u32) -> Failure {
    Failure {
        kind: FailureKind::Refused,
        status: None,
        code: "UnreadableResponse".into(),
        message: format!("the {action} response has no readable {what}"),
        request_id: None,
        denied_action: None,
        attempts,
        retried: Vec::new(),
    }
}

/// Collects one account with `keys`, assuming `roles` first.
pub fn fetch(
    caller: &Caller,
    apis: &Apis,
    keys: KeyPair,
    roles: &[Role],
    lang: &str,
    waits: Waits,
) -> Fetched {
    let mut s = Session {
        caller,
        apis,
        keys,
        out: Fetched::default(),
        unreachable: Vec::new(),
    };
    for role in roles {
        if let Err(f) = assume(&mut s, role) {
            s.out.fatal = Some(missing_of("access", "AssumeRole", &f));
            return s.out;
        }
    }
    match s.call(&apis.sts, "GetCallerIdentity", &[]) {
        Ok(reply) => {
            s.out.uid = serde_json::from_slice::<CallerReply>(&reply.body)
                .ok()
                .and_then(|c| c.account_id)
                .as_ref()
                .and_then(text_of);
            s.keep("caller-identity.json".into(), reply.body);
        }
        Err(f) if f.kind == FailureKind::Auth => {
            s.out.fatal = Some(missing_of("access", "GetCallerIdentity", &f));
            return s.out;
        }
        // The UID also comes from the evidence; carry on without it.
        Err(f) => s.missing("account UID", "GetCallerIdentity", &f),
    }
    let single = [
        (
            EVIDENCE[0],
            "GetAccountSecurityPracticeReport",
            "security-practice-report.json",
        ),
        (
            EVIDENCE[1],
            "GetSecurityPreference",
            "security-preference.json",
        ),
        (EVIDENCE[2], "GetPasswordPolicy", "password-policy.json"),
    ];
    for (evidence, action, file) in single {
        match s.call(&apis.ims, action, &[]) {
            Ok(reply) => s.keep(file.into(), reply.body),
            Err(f) if f.kind == FailureKind::Auth => {
                s.out.fatal = Some(missing_of("access", action, &f));
                return s.out;
            }
            Err(f) => s.missing(evidence, action, &f),
        }
    }
    credential_report(&mut s, waits);
    // Either Security Center API gives the checks; both are kept when both answer.
    let risk = sas_pages(&mut s, "DescribeRiskCheckResult", lang);
    let checks = sas_pages(&mut s, "ListCheckResult", lang);
    if let (Err(a), Err(b)) = (risk, checks) {
        s.out.missing.push(missing_all(
            EVIDENCE[4],
            &[("DescribeRiskCheckResult", &a), ("ListCheckResult", &b)],
        ));
    }
    s.out
}

fn assume(s: &mut Session, role: &Role) -> Result<(), Failure> {
    let mut query = params(&[
        ("RoleArn", &role.arn),
        ("RoleSessionName", &role.session_name),
        ("DurationSeconds", "3600"),
    ]);
    if let Some(id) = &role.external_id {
        query.push(("ExternalId".into(), id.clone()));
    }
    let sts = s.apis.sts.clone();
    let reply = s.call(&sts, "AssumeRole", &query)?;
    let parsed: AssumeRoleReply = serde_json::from_slice(&reply.body)
        .map_err(|_| unreadable("AssumeRole", "Credentials", reply.attempts))?;
    s.keys = KeyPair {
        id: parsed.credentials.id,
        secret: Secret::new(parsed.credentials.secret),
        token: Some(Secret::new(parsed.credentials.token)),
    };
    Ok(())
}

/// Whether a GetCredentialReport error means "no report yet, or an expired one".
fn report_absent(f: &Failure) -> bool {
    matches!(f.status, Some(404 | 410))
        || f.code.starts_with("Expired")
        || f.code.contains("NotExist")
        || f.code == "ReportNotGenerated"
}

/// The credential report: read it; when there is none (or it expired), generate one, wait
/// for `COMPLETED` and read it again. What goes wrong is noted as missing evidence.
fn credential_report(s: &mut Session, waits: Waits) {
    let ims = s.apis.ims.clone();
    match report_pages(s, &ims) {
        Ok(pages) => return s.keep_pages("GetCredentialReport", pages),
        Err(f) if report_absent(&f) => {}
        Err(f) => return s.missing(EVIDENCE[3], "GetCredentialReport", &f),
    }
    let deadline = Instant::now() + waits.report;
    loop {
        let reply = match s.call(&ims, "GenerateCredentialReport", &[]) {
            Ok(reply) => reply,
            Err(f) => return s.missing(EVIDENCE[3], "GenerateCredentialReport", &f),
        };
        let state = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("State").and_then(text_of))
            .unwrap_or_default();
        if state.eq_ignore_ascii_case("COMPLETED") {
            break;
        }
        if Instant::now() + waits.poll > deadline {
            let f = Failure {
                kind: FailureKind::Unavailable,
                status: Some(reply.status),
                code: "ReportNotReady".into(),
                message: format!(
                    "the credential report was still {} after {} s",
                    if state.is_empty() {
                        "not ready"
                    } else {
                        &state
                    },
                    waits.report.as_secs()
                ),
                request_id: reply.request_id,
                denied_action: None,
                attempts: 1,
                retried: Vec::new(),
            };
            return s.missing(EVIDENCE[3], "GenerateCredentialReport", &f);
        }
        std::thread::sleep(waits.poll);
    }
    match report_pages(s, &ims) {
        Ok(pages) => s.keep_pages("GetCredentialReport", pages),
        Err(f) => s.missing(EVIDENCE[3], "GetCredentialReport", &f),
    }
}

/// Every page of GetCredentialReport (following `NextToken`), held until the last arrives.
fn report_pages(s: &mut Session, ims: &Endpoint) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(t) => params(&[("NextToken", t)]),
            None => Vec::new(),
        };
        let reply = s.call(ims, "GetCredentialReport", &query)?;
        let value: serde_json::Value = serde_json::from_slice(&reply.body)
            .map_err(|_| unreadable("GetCredentialReport", "JSON", reply.attempts))?;
        if value.get("Content").is_none() {
            return Err(unreadable("GetCredentialReport", "Content", reply.attempts));
        }
        let truncated = value
            .get("IsTruncated")
            .and_then(text_of)
            .is_some_and(|t| t.eq_ignore_ascii_case("true"));
        let next = value.get("NextToken").and_then(text_of);
        let name = if pages.is_empty() {
            "credential-report.json".to_string()
        } else {
            format!("credential-report-{}.json", pages.len() + 1)
        };
        pages.push((name, reply.body));
        match next {
            Some(next) if truncated && token.as_deref() != Some(next.as_str()) => {
                if pages.len() >= 100 {
                    return Err(unreadable(
                        "GetCredentialReport",
                        "end (more than 100 pages)",
                        1,
                    ));
                }
                token = Some(next);
            }
            _ if truncated => {
                return Err(unreadable("GetCredentialReport", "NextToken", 1));
            }
            _ => return Ok(pages),
        }
    }
}

/// Every page of a Security Center list, saved as `<stem>-pNNN.json` once all have arrived.
fn sas_pages(s: &mut Session, action: &'static str, lang: &str) -> Result<(), Failure> {
    let sas = s.apis.sas.clone();
    let (stem, list_key) = match action {
        "DescribeRiskCheckResult" => ("risk-check-result", "List"),
        _ => ("check-result", "Checks"),
    };
    let page_size = 50;
    let mut pages = Vec::new();
    let mut seen = 0i64;
    for page in 1..=1000 {
        let query = params(&[
            ("CurrentPage", &page.to_string()),
            ("PageSize", &page_size.to_string()),
            ("Lang", lang),
        ]);
        let reply = s.call(&sas, action, &query)?;
        let value: serde_json::Value = serde_json::from_slice(&reply.body)
            .map_err(|_| unreadable(action, "JSON", reply.attempts))?;
        let items = match value.get(list_key) {
            Some(serde_json::Value::Array(a)) => a.len() as i64,
            Some(serde_json::Value::Object(_)) => 1,
            _ => 0,
        };
        let info = value.get("PageInfo").unwrap_or(&value);
        let total = number_of(info.get("TotalCount"));
        let page_count = number_of(value.get("PageCount"));
        seen += items;
        pages.push((format!("{stem}-p{page:03}.json"), reply.body));
        let done = items == 0
            || total.is_none_or(|t| seen >= t)
            || page_count.is_some_and(|pc| page as i64 >= pc);
        if done {
            s.keep_pages(action, pages);
            return Ok(());
        }
    }
    Err(unreadable(action, "end (more than 1,000 pages)", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind, status: u16, code: &str) -> Failure {
        Failure {
            kind,
            status: Some(status),
            code: code.into(),
            message: String::new(),
            request_id: None,
            denied_action: None,
            attempts: 1,
            retried: Vec::new(),
        }
    }

    #[test]
    fn permission_errors_name_the_ram_action() {
        let f = failure(FailureKind::Permission, 403, "Forbidden.RAM");
        let m = missing_of(EVIDENCE[2], "GetPasswordPolicy", &f);
        assert_eq!(m.ram_actions, ["ram:GetPasswordPolicy"]);
        assert_eq!(
            m.reason,
            "GetPasswordPolicy Forbidden.RAM (HTTP 403); grant ram:GetPasswordPolicy"
        );
        let mut told = f.clone();
        told.denied_action = Some("ram:GetPasswordPolicy2".into());
        let m = missing_of(EVIDENCE[2], "GetPasswordPolicy", &told);
        assert_eq!(m.ram_actions, ["ram:GetPasswordPolicy2"]);
        let other = failure(FailureKind::Unavailable, 503, "ServiceUnavailable");
        assert_eq!(
            missing_of(EVIDENCE[2], "GetPasswordPolicy", &other).ram_actions,
            Vec::<String>::new()
        );
        let mut bad = failure(FailureKind::Auth, 400, "SignatureDoesNotMatch");
        bad.message = "server string to sign is: ...".into();
        let both = missing_all(
            "access",
            &[("GetCallerIdentity", &bad), ("GetPasswordPolicy", &other)],
        );
        assert_eq!(
            both.reason,
            "GetCallerIdentity SignatureDoesNotMatch (HTTP 400), GetPasswordPolicy ServiceUnavailable (HTTP 503); the AccessKey secret is wrong"
        );
    }

    #[test]
    fn absent_reports_are_recognised() {
        assert!(report_absent(&failure(
            FailureKind::Refused,
            410,
            "Expired.CredentialReport"
        )));
        assert!(report_absent(&failure(
            FailureKind::Refused,
            404,
            "EntityNotExist.Report"
        )));
        assert!(!report_absent(&failure(
            FailureKind::Permission,
            403,
            "Forbidden.RAM"
        )));
    }

    #[test]
    fn every_action_has_a_ram_action() {
        assert!(super::super::ASSUME_POLICY.contains(ram_action("AssumeRole")));
        for action in [
            "GetAccountSecurityPracticeReport",
            "GetSecurityPreference",
            "GetPasswordPolicy",
            "GenerateCredentialReport",
            "GetCredentialReport",
            "DescribeRiskCheckResult",
            "ListCheckResult",
        ] {
            assert!(
                super::super::POLICY.contains(ram_action(action)),
                "{action}"
            );
        }
    }
}
