//! One account's collection: assume the roles, learn the account UID, fetch every kind of
//! evidence (all pages), and keep a log of each call.
//!
//! Each kind of evidence is kept whole or not at all: pages are held until the last one has
//! arrived, so a failure half-way never leaves a set of pages that looks complete.
//!
//! Every 2xx body is judged in one place (`Session::call`) before it is logged or kept: it
//! must be JSON with its action's top-level shape (an error envelope sent with 200, or any
//! other body, is not evidence), and it must hold no secret or token of the account. The
//! account's `Scrubber` learns an assumed role's credentials before anything of that reply
//! is logged.

// A failure travels once per network call, which costs far more than moving it.
#![allow(clippy::result_large_err)]

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::api::{Apis, Caller, Endpoint, Failure, FailureKind, Reply};
use super::credentials::{KeyPair, Role, Secret};
use super::scrub::{Scrubber, Text};

/// The RAM policy a collecting identity needs in each account it reads.
pub const POLICY: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ram:GetAccountSecurityPracticeReport",
        "ram:GetSecurityPreference",
        "ram:GetPasswordPolicy",
        "ram:GenerateCredentialReport",
        "ram:GetCredentialReport",
        "yundun-sas:DescribeRiskCheckResult",
        "yundun-sas:ListCheckResult",
        "yundun-sas:GetCheckStructure",
        "yundun-sas:ListCheckStandard"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// The pieces of evidence an account's collection aims for, in order.
pub(crate) const EVIDENCE: [&str; 5] = [
    "practice report",
    "security preference",
    "password policy",
    "credential report",
    "Security Center checks",
];

/// Security Center's catalogue of its own standards, which names the requirements that have
/// no results. Not one of [`EVIDENCE`]: the checks are usable without it.
pub(crate) const CATALOGUE: &str = "Security Center standards";

/// The RAM action an API action needs.
fn ram_action(action: &str) -> &'static str {
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
        "GetCheckStructure" => "yundun-sas:GetCheckStructure",
        "ListCheckStandard" => "yundun-sas:ListCheckStandard",
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

/// One call, as logged: every text from a server in it is a [`Text`].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Call {
    /// API action.
    action: String,
    /// Product (`Ims`, `Sas`, `Sts`).
    product: String,
    /// When the call finished (UTC).
    time: String,
    /// Attempts made (more than 1 after retries).
    attempts: u32,
    /// Why earlier attempts were retried (`Throttling.User (HTTP 400)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retried: Vec<String>,
    /// HTTP status of the last attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    /// `RequestId` of the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<Text>,
    /// `ok` or `error`.
    result: String,
    /// The API's error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<Text>,
    /// The error, short and without secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The file the response was saved as.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

/// A piece of evidence that could not be collected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Missing {
    /// Which ([`EVIDENCE`]).
    pub(crate) evidence: String,
    /// Why, in one line.
    pub(crate) reason: String,
    /// The RAM actions to grant, when permissions are missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ram_actions: Vec<String>,
}

/// What came of one account.
#[derive(Debug, Default)]
pub(crate) struct Fetched {
    /// Account UID (GetCallerIdentity).
    pub(crate) uid: Option<String>,
    /// Files to write: name and bytes, as received.
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// Every call made.
    pub(crate) calls: Vec<Call>,
    /// Evidence not collected.
    pub(crate) missing: Vec<Missing>,
    /// Why the account could not be collected at all.
    pub(crate) fatal: Option<Missing>,
}

/// A 2xx response that is an API response of its action.
struct Answer {
    body: Vec<u8>,
    /// The body, parsed.
    value: serde_json::Value,
    status: u16,
    request_id: Option<Text>,
    attempts: u32,
    retried: Vec<String>,
}

/// What a field of a response must be.
#[derive(Clone, Copy)]
enum Want {
    Object,
    /// An array (or, as older XML-derived answers have it, an object).
    List,
    Text,
    /// An account UID: digits, as a string or a number.
    Uid,
}

impl Want {
    fn fits(self, value: Option<&serde_json::Value>) -> bool {
        use serde_json::Value;
        match (self, value) {
            (Want::Object, Some(Value::Object(_))) => true,
            (Want::List, Some(Value::Array(_) | Value::Object(_))) => true,
            (Want::Text, Some(Value::String(_))) => true,
            (Want::Uid, Some(v)) => text_of(v).is_some_and(|t| is_uid(&t)),
            _ => false,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Want::Object => "object",
            Want::List => "list",
            Want::Text => "text",
            Want::Uid => "account UID",
        }
    }
}

/// Whether `text` is an account UID (digits only).
fn is_uid(text: &str) -> bool {
    (1..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// The top-level fields a 2xx answer of `action` must have (see the API formats): without
/// them the body is not what the action answers, and `report` would not read it.
fn expected(action: &str) -> &'static [(&'static str, Want)] {
    match action {
        "AssumeRole" => &[("Credentials", Want::Object)],
        "GetCallerIdentity" => &[("AccountId", Want::Uid)],
        "GetAccountSecurityPracticeReport" => &[("AccountSecurityPracticeInfo", Want::Object)],
        "GetSecurityPreference" => &[("SecurityPreference", Want::Object)],
        "GetPasswordPolicy" => &[("PasswordPolicy", Want::Object)],
        "GenerateCredentialReport" => &[("State", Want::Text)],
        "GetCredentialReport" => &[("Content", Want::Text), ("GeneratedTime", Want::Text)],
        "DescribeRiskCheckResult" => &[("List", Want::List)],
        "ListCheckResult" => &[("Checks", Want::List)],
        // Field names from the Sas SDK models (ingest/wire.rs says which).
        "GetCheckStructure" => &[("CheckStructureResponse", Want::List)],
        "ListCheckStandard" => &[("Standards", Want::List)],
        _ => &[],
    }
}

/// Why a parsed 2xx body of `action` is not its API response, if it is not.
fn shape_error(action: &str, value: &serde_json::Value) -> Option<String> {
    if !value.is_object() {
        return Some("is JSON but not an object".into());
    }
    expected(action)
        .iter()
        .find(|(field, want)| !want.fits(value.get(field)))
        .map(|(field, want)| format!("has no {field} {}", want.word()))
}

/// The temporary credentials of an AssumeRole answer.
fn sts_keys(value: &serde_json::Value) -> Option<KeyPair> {
    let parsed: AssumeRoleReply = serde_json::from_value(value.clone()).ok()?;
    Some(KeyPair {
        id: parsed.credentials.id,
        secret: Secret::new(parsed.credentials.secret),
        token: Some(Secret::new(parsed.credentials.token)),
    })
}

struct Session<'a> {
    caller: &'a Caller,
    apis: &'a Apis,
    keys: KeyPair,
    /// Every secret and token of this account's identities so far.
    scrubber: Scrubber,
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
    /// Calls `action`, judges a 2xx body ([`Session::judge`]) and logs the call.
    fn call(
        &mut self,
        endpoint: &Endpoint,
        action: &str,
        query: &[(String, String)],
    ) -> Result<Answer, Failure> {
        let known = self
            .unreachable
            .iter()
            .find(|(host, _)| *host == endpoint.host)
            .map(|(_, f)| f.clone());
        let result = match known {
            Some(f) => Err(Failure { attempts: 0, ..f }),
            None => self
                .caller
                .call(endpoint, action, query, &self.keys, &self.scrubber)
                .and_then(|reply| self.judge(action, reply)),
        };
        if let Err(f) = &result
            && f.status.is_none()
            && f.attempts > 0
        {
            self.unreachable.push((endpoint.host.clone(), f.clone()));
        }
        let call = match &result {
            Ok(answer) => Call {
                action: action.into(),
                product: endpoint.product.into(),
                time: super::api::utc_now(),
                attempts: answer.attempts,
                retried: answer.retried.clone(),
                http_status: Some(answer.status),
                request_id: answer.request_id.clone(),
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

    /// Whether a 2xx reply of `action` is its API response (JSON, with the action's shape,
    /// holding no secret); its RequestId through the scrubber. An AssumeRole reply's
    /// credentials are learned first, so nothing of that reply is logged before the scrubber
    /// knows them.
    fn judge(&mut self, action: &str, reply: Reply) -> Result<Answer, Failure> {
        let value = serde_json::from_slice::<serde_json::Value>(&reply.body).ok();
        if action == "AssumeRole"
            && let Some(keys) = value.as_ref().and_then(sts_keys)
        {
            self.scrubber.learn(&keys);
        }
        let request_id = value
            .as_ref()
            .and_then(|v| v.get("RequestId"))
            .and_then(text_of)
            .map(|r| self.scrubber.clean(&r));
        let refuse = |s: &Session, code: &'static str, message: String| Failure {
            kind: FailureKind::Refused,
            status: Some(reply.status),
            code: Text::ours(code),
            message: s.scrubber.clean(&message),
            request_id: request_id.clone(),
            denied_action: None,
            attempts: reply.attempts,
            retried: reply.retried.clone(),
        };
        let Some(value) = value else {
            return Err(refuse(
                self,
                "UnreadableResponse",
                format!("the {action} response is not JSON, not saved"),
            ));
        };
        if let Some(problem) = shape_error(action, &value) {
            // An error envelope sent with a 2xx status is the error it names.
            if value.get("Code").is_some_and(|c| !c.is_null()) {
                let (f, _) = super::api::error_reply(
                    reply.status,
                    &reply.body,
                    &self.scrubber,
                    reply.attempts,
                );
                return Err(Failure {
                    retried: reply.retried,
                    ..f
                });
            }
            return Err(refuse(
                self,
                "UnreadableResponse",
                format!("the {action} response {problem}, not saved"),
            ));
        }
        // AssumeRole's answer holds the new credentials by design; it is never saved.
        if action != "AssumeRole" && self.scrubber.body_holds_secret(&reply.body, Some(&value)) {
            return Err(refuse(
                self,
                "SecretInResponse",
                format!(
                    "the {action} response holds a secret or token of this account's credentials, not saved"
                ),
            ));
        }
        Ok(Answer {
            body: reply.body,
            value,
            status: reply.status,
            request_id,
            attempts: reply.attempts,
            retried: reply.retried,
        })
    }

    /// A failure of ours about an answer that is no usable end of its pages (no `NextToken`,
    /// too many pages).
    fn unreadable(&self, action: &str, what: &str, attempts: u32) -> Failure {
        Failure {
            kind: FailureKind::Refused,
            status: None,
            code: Text::ours("UnreadableResponse"),
            message: self
                .scrubber
                .clean(&format!("the {action} response has no readable {what}")),
            request_id: None,
            denied_action: None,
            attempts,
            retried: Vec::new(),
        }
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
        if (f.kind == FailureKind::Refused || f.status.is_none()) && !f.message.as_str().is_empty()
        {
            part.push_str(&format!(": {}", f.message));
        }
        parts.push(part);
        match f.kind {
            FailureKind::Permission => ram_actions.push(
                f.denied_action
                    .as_ref()
                    .map_or_else(|| ram_action(action).to_string(), Text::to_string),
            ),
            FailureKind::Auth => hints.push(auth_hint(f.code.as_str())),
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

/// Collects one account with `keys`, assuming `roles` first.
pub(crate) fn fetch(
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
        scrubber: Scrubber::new(&keys),
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
        Ok(answer) => {
            // Checked to be digits when the answer was judged.
            s.out.uid = answer.value.get("AccountId").and_then(text_of);
            s.keep("caller-identity.json".into(), answer.body);
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
            Ok(answer) => s.keep(file.into(), answer.body),
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
    catalogue(&mut s, lang);
    s.out
}

/// Security Center's catalogue of its standards: `GetCheckStructure` (standards, requirements,
/// sections; paged, [`structure_pages`]) and `ListCheckStandard` (standards, requirements; not
/// paged, its SDK model has no paging fields). Either one names the requirements without
/// results, so the catalogue is missing only when both fail.
fn catalogue(s: &mut Session, lang: &str) {
    let mut failures = Vec::new();
    if let Err(f) = structure_pages(s, lang) {
        failures.push(("GetCheckStructure", f));
    }
    let sas = s.apis.sas.clone();
    match s.call(&sas, "ListCheckStandard", &params(&[("Lang", lang)])) {
        Ok(answer) => s.keep("check-standards.json".into(), answer.body),
        Err(f) => failures.push(("ListCheckStandard", f)),
    }
    if failures.len() == 2 {
        let failures: Vec<(&str, &Failure)> = failures.iter().map(|(a, f)| (*a, f)).collect();
        s.out.missing.push(missing_all(CATALOGUE, &failures));
    }
}

/// The query of page `page` of a paged Security Center call: 50 entries in `lang`.
fn sas_page_query(page: usize, lang: &str) -> Vec<(String, String)> {
    params(&[
        ("CurrentPage", &page.to_string()),
        ("PageSize", "50"),
        ("Lang", lang),
    ])
}

/// Every page of `GetCheckStructure`, saved as `check-structure-pNNN.json` once all have
/// arrived. The request takes `CurrentPage` and `PageSize` but the answer says neither how
/// many pages nor how many standards there are, so paging stops at a page that is empty or
/// names no standard or requirement that an earlier page did not: a server that ignores
/// paging sends the whole tree every time, and its second page ends the paging. Only the
/// first page and the pages that added something are kept.
fn structure_pages(s: &mut Session, lang: &str) -> Result<(), Failure> {
    const ACTION: &str = "GetCheckStructure";
    let sas = s.apis.sas.clone();
    let mut seen = std::collections::BTreeSet::new();
    // (the call that fetched it, file name, body)
    let mut pages: Vec<(usize, String, Vec<u8>)> = Vec::new();
    for page in 1..=100 {
        let query = sas_page_query(page, lang);
        let answer = s.call(&sas, ACTION, &query)?;
        let before = seen.len();
        seen.extend(structure_places(&answer.value));
        let added = seen.len() > before;
        if added || page == 1 {
            let call = s.out.calls.len() - 1;
            pages.push((
                call,
                format!("check-structure-p{page:03}.json"),
                answer.body,
            ));
        }
        if !added {
            for (call, name, body) in pages {
                s.out.calls[call].file = Some(name.clone());
                s.out.files.push((name, body));
            }
            return Ok(());
        }
    }
    Err(s.unreadable(ACTION, "end (more than 100 pages)", 1))
}

/// The standards and requirements a `GetCheckStructure` answer names, each as the ids and
/// names that lead to it (`[standard]` or `[standard, requirement]`, each `Id` and
/// `ShowName`). Levels are lists or, as XML-derived answers have them, one object; what is
/// neither names nothing.
fn structure_places(value: &serde_json::Value) -> Vec<Vec<(String, String)>> {
    fn each(value: Option<&serde_json::Value>) -> Vec<&serde_json::Value> {
        match value {
            Some(serde_json::Value::Array(a)) => a.iter().collect(),
            Some(v @ serde_json::Value::Object(_)) => vec![v],
            _ => Vec::new(),
        }
    }
    // `report` skips an entry with neither id nor name, and so does this.
    fn named(v: &serde_json::Value) -> Option<(String, String)> {
        let text = |k: &str| {
            v.get(k)
                .and_then(text_of)
                .map(|t| t.trim().to_string())
                .unwrap_or_default()
        };
        let (id, name) = (text("Id"), text("ShowName"));
        (!id.is_empty() || !name.is_empty()).then_some((id, name))
    }
    let mut places = Vec::new();
    for group in each(value.get("CheckStructureResponse")) {
        for standard in each(group.get("Standards")) {
            let Some(standard_named) = named(standard) else {
                continue;
            };
            for requirement in each(standard.get("Requirements"))
                .into_iter()
                .filter_map(named)
            {
                places.push(vec![standard_named.clone(), requirement]);
            }
            places.push(vec![standard_named]);
        }
    }
    places
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
    let answer = s.call(&sts, "AssumeRole", &query)?;
    // The scrubber learned these keys when the answer was judged.
    s.keys = sts_keys(&answer.value)
        .ok_or_else(|| s.unreadable("AssumeRole", "Credentials", answer.attempts))?;
    Ok(())
}

/// Whether a GetCredentialReport error means "no report yet, or an expired one".
fn report_absent(f: &Failure) -> bool {
    let code = f.code.as_str();
    matches!(f.status, Some(404 | 410))
        || code.starts_with("Expired")
        || code.contains("NotExist")
        || code == "ReportNotGenerated"
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
        let answer = match s.call(&ims, "GenerateCredentialReport", &[]) {
            Ok(answer) => answer,
            Err(f) => return s.missing(EVIDENCE[3], "GenerateCredentialReport", &f),
        };
        let state = answer
            .value
            .get("State")
            .and_then(text_of)
            .unwrap_or_default();
        if state.eq_ignore_ascii_case("COMPLETED") {
            break;
        }
        if Instant::now() + waits.poll > deadline {
            let f = Failure {
                kind: FailureKind::Unavailable,
                status: Some(answer.status),
                code: Text::ours("ReportNotReady"),
                message: s.scrubber.clean(&format!(
                    "the credential report was still {} after {} s",
                    if state.is_empty() {
                        "not ready"
                    } else {
                        &state
                    },
                    waits.report.as_secs()
                )),
                request_id: answer.request_id,
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
        let answer = s.call(ims, "GetCredentialReport", &query)?;
        let value = answer.value;
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
        pages.push((name, answer.body));
        match next {
            Some(next) if truncated && token.as_deref() != Some(next.as_str()) => {
                if pages.len() >= 100 {
                    return Err(s.unreadable(
                        "GetCredentialReport",
                        "end (more than 100 pages)",
                        1,
                    ));
                }
                token = Some(next);
            }
            _ if truncated => {
                return Err(s.unreadable("GetCredentialReport", "NextToken", 1));
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
    let mut pages = Vec::new();
    let mut seen = 0i64;
    for page in 1..=1000 {
        let query = sas_page_query(page, lang);
        let answer = s.call(&sas, action, &query)?;
        let value = answer.value;
        let items = match value.get(list_key) {
            Some(serde_json::Value::Array(a)) => a.len() as i64,
            Some(serde_json::Value::Object(_)) => 1,
            _ => 0,
        };
        let info = value.get("PageInfo").unwrap_or(&value);
        let total = number_of(info.get("TotalCount"));
        let page_count = number_of(value.get("PageCount"));
        seen += items;
        pages.push((format!("{stem}-p{page:03}.json"), answer.body));
        let done = items == 0
            || total.is_none_or(|t| seen >= t)
            || page_count.is_some_and(|pc| page as i64 >= pc);
        if done {
            s.keep_pages(action, pages);
            return Ok(());
        }
    }
    Err(s.unreadable(action, "end (more than 1,000 pages)", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Text {
        Scrubber::default().clean(t)
    }

    fn failure(kind: FailureKind, status: u16, code: &str) -> Failure {
        Failure {
            kind,
            status: Some(status),
            code: text(code),
            message: Text::ours(""),
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
        told.denied_action = Some(text("ram:GetPasswordPolicy2"));
        let m = missing_of(EVIDENCE[2], "GetPasswordPolicy", &told);
        assert_eq!(m.ram_actions, ["ram:GetPasswordPolicy2"]);
        let other = failure(FailureKind::Unavailable, 503, "ServiceUnavailable");
        assert_eq!(
            missing_of(EVIDENCE[2], "GetPasswordPolicy", &other).ram_actions,
            Vec::<String>::new()
        );
        let mut bad = failure(FailureKind::Auth, 400, "SignatureDoesNotMatch");
        bad.message = text("server string to sign is: ...");
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
    fn each_action_answer_needs_its_top_level_shape() {
        let judge = |action: &str, body: &str| {
            let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            shape_error(action, &value)
        };
        assert_eq!(judge("GetPasswordPolicy", r#"{"PasswordPolicy":{}}"#), None);
        assert_eq!(
            judge("GetPasswordPolicy", r#"{"RequestId":"x"}"#).as_deref(),
            Some("has no PasswordPolicy object")
        );
        assert_eq!(
            judge("GetPasswordPolicy", r#"{"PasswordPolicy":"strong"}"#).as_deref(),
            Some("has no PasswordPolicy object")
        );
        assert_eq!(
            judge("GetSecurityPreference", "[1]").as_deref(),
            Some("is JSON but not an object")
        );
        assert_eq!(
            judge("GetCredentialReport", r#"{"GeneratedTime":"t"}"#).as_deref(),
            Some("has no Content text")
        );
        assert_eq!(
            judge(
                "GetCredentialReport",
                r#"{"Content":"", "GeneratedTime":"t"}"#
            ),
            None
        );
        assert_eq!(judge("DescribeRiskCheckResult", r#"{"List":[]}"#), None);
        assert_eq!(
            judge("ListCheckResult", r#"{"List":[]}"#).as_deref(),
            Some("has no Checks list")
        );
        assert_eq!(judge("GetCallerIdentity", r#"{"AccountId":1100}"#), None);
        assert_eq!(
            judge("GetCallerIdentity", r#"{"AccountId":"11\n00"}"#).as_deref(),
            Some("has no AccountId account UID")
        );
        assert_eq!(
            judge("AssumeRole", r#"{"Code":"x","Message":"y"}"#).as_deref(),
            Some("has no Credentials object")
        );
        assert_eq!(
            judge("GenerateCredentialReport", r#"{"State":"COMPLETED"}"#),
            None
        );
        assert_eq!(
            judge("GetCheckStructure", r#"{"CheckStructureResponse":[]}"#),
            None
        );
        assert_eq!(
            judge("GetCheckStructure", r#"{"Standards":[]}"#).as_deref(),
            Some("has no CheckStructureResponse list")
        );
        assert_eq!(judge("ListCheckStandard", r#"{"Standards":{}}"#), None);
        assert_eq!(
            judge("ListCheckStandard", r#"{"Standards":"all"}"#).as_deref(),
            Some("has no Standards list")
        );
    }

    #[test]
    fn structure_places_name_standards_and_requirements_by_id_and_name() {
        let value: serde_json::Value = serde_json::from_str(
            r#"{"CheckStructureResponse":{"StandardType":"RISK","Standards":[
                {"Id":4,"ShowName":" S ","Requirements":{"Id":"40","ShowName":"R"}},
                {"ShowName":"T","Requirements":"none"},
                {"Id":" ","Requirements":[{"Id":50}]}]}}"#,
        )
        .unwrap_or_default();
        let place = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect()
        };
        assert_eq!(
            structure_places(&value),
            [
                place(&[("4", "S"), ("40", "R")]),
                place(&[("4", "S")]),
                place(&[("", "T")])
            ]
        );
        let empty: serde_json::Value =
            serde_json::from_str(r#"{"CheckStructureResponse":[]}"#).unwrap_or_default();
        assert!(structure_places(&empty).is_empty());
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
        assert_eq!(ram_action("AssumeRole"), "sts:AssumeRole");
        for action in [
            "GetAccountSecurityPracticeReport",
            "GetSecurityPreference",
            "GetPasswordPolicy",
            "GenerateCredentialReport",
            "GetCredentialReport",
            "DescribeRiskCheckResult",
            "ListCheckResult",
            "GetCheckStructure",
            "ListCheckStandard",
        ] {
            assert!(POLICY.contains(ram_action(action)), "{action}");
        }
    }
}
