//! Calling the RPC-style APIs: endpoints, one signed request, retries with backoff, a rate
//! limit per host, and errors sorted into what to do about them.
//!
//! Every request is signed afresh (new date and nonce), also on retry. The query string sent
//! is exactly the one signed. Error text from a server is cut short and has every secret of
//! the caller removed before it is kept, so nothing this module returns can carry one.

// A failure travels once per network call, which costs far more than moving it.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::accounts::{Endpoints, Site};
use super::credentials::KeyPair;
use super::sign;

/// One API product at one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Product code, for messages (`Ims`, `Sas`, `Sts`).
    pub product: &'static str,
    /// API version.
    pub version: &'static str,
    /// `scheme://host[:port]`, no trailing slash.
    pub base: String,
    /// The `host[:port]` signed and sent as `Host`.
    pub host: String,
}

impl Endpoint {
    /// An endpoint from a base URL (`https://ims.aliyuncs.com`, `http://127.0.0.1:8080/`).
    pub fn new(product: &'static str, version: &'static str, url: &str) -> Endpoint {
        let base = url.trim().trim_end_matches('/').to_string();
        let host = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        Endpoint {
            product,
            version,
            base,
            host,
        }
    }
}

/// The endpoints one account's calls go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apis {
    /// Ims 2019-08-15 (practice report, preference, policy, credential report).
    pub ims: Endpoint,
    /// Sas 2018-12-03 (Security Center checks).
    pub sas: Endpoint,
    /// Sts 2015-04-01 (AssumeRole, GetCallerIdentity).
    pub sts: Endpoint,
}

impl Apis {
    /// The real hosts for `site`, each replaced by the accounts file's `[endpoints]` when it
    /// names one.
    pub fn for_site(overrides: &Endpoints, site: Site) -> Apis {
        let sas_host = match site {
            Site::China => "https://tds.aliyuncs.com",
            Site::International => "https://tds.ap-southeast-1.aliyuncs.com",
        };
        let pick = |o: &Option<String>, real: &str| o.clone().unwrap_or_else(|| real.to_string());
        Apis {
            ims: Endpoint::new(
                "Ims",
                "2019-08-15",
                &pick(&overrides.ims, "https://ims.aliyuncs.com"),
            ),
            sas: Endpoint::new("Sas", "2018-12-03", &pick(&overrides.sas, sas_host)),
            sts: Endpoint::new(
                "Sts",
                "2015-04-01",
                &pick(&overrides.sts, "https://sts.aliyuncs.com"),
            ),
        }
    }
}

/// How calls are made: timeouts, retries, pace.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt (throttling, 5xx, timeouts, dropped connections).
    pub retries: u32,
    /// First retry delay; doubled each retry, with jitter, up to `max_backoff`.
    pub backoff: Duration,
    /// Longest delay between attempts (also caps `x-acs-retry-after`).
    pub max_backoff: Duration,
    /// Requests per second to one host, across all threads.
    pub rate: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timeout: Duration::from_secs(30),
            retries: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            rate: 10.0,
        }
    }
}

/// A successful response.
#[derive(Debug)]
pub struct Reply {
    /// The body, exactly as received.
    pub body: Vec<u8>,
    /// HTTP status.
    pub status: u16,
    /// `RequestId` from the body.
    pub request_id: Option<String>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// Why the earlier attempts were retried (`Throttling.User (HTTP 400)`), in order.
    pub retried: Vec<String>,
}

/// What went wrong, sorted by what it means for the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The identity may not call this action (a RAM permission is missing).
    Permission,
    /// The key or token is wrong, expired or unknown: no call of this account can succeed.
    Auth,
    /// Throttling, 5xx, timeouts or dropped connections that outlasted the retries.
    Unavailable,
    /// Any other refusal (bad parameter, missing resource...).
    Refused,
}

/// A call that did not succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What it means.
    pub kind: FailureKind,
    /// HTTP status, when a response came.
    pub status: Option<u16>,
    /// The API's error code (`Forbidden.RAM`), or `timeout` / `connection` without a response.
    pub code: String,
    /// The API's message or the transport error, short and without secrets.
    pub message: String,
    /// `RequestId`, when a response came.
    pub request_id: Option<String>,
    /// The RAM action the server said was denied (`AccessDeniedDetail.AuthAction`).
    pub denied_action: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Why the earlier attempts were retried, in order.
    pub retried: Vec<String>,
}

impl Failure {
    /// `Code (HTTP n)`, or the code alone without a response.
    pub fn short(&self) -> String {
        match self.status {
            Some(status) => format!("{} (HTTP {status})", self.code),
            None => self.code.clone(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status})", self.code)?,
            None => write!(f, "{}", self.code)?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(alias = "code")]
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(alias = "message")]
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(alias = "requestId")]
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "AccessDeniedDetail")]
    denied: Option<DeniedDetail>,
}

#[derive(Deserialize, Default)]
struct DeniedDetail {
    #[serde(rename = "AuthAction")]
    auth_action: Option<String>,
}

/// The time now, UTC, in whole seconds (`2026-11-23T18:40:00Z`): signatures and logs.
pub fn utc_now() -> String {
    crate::summary::rfc3339(chrono::Utc::now())
}

/// `RequestId` of a JSON body.
fn request_id_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.request_id)
}

/// A transport error with its causes (`error sending request: ... dns error: ...`), without
/// the URL (ours, and long).
fn transport_message(e: reqwest::Error) -> String {
    crate::diag::chain(&e.without_url())
}

/// Whether an error response is worth another attempt.
pub fn retryable(status: u16, code: &str) -> bool {
    status >= 500
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "SignatureNonceUsed"
}

/// What an error response means.
pub fn classify(status: u16, code: &str) -> FailureKind {
    const AUTH: [&str; 8] = [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSecurityToken",
        "InvalidTimeStamp",
        "InvalidAccessKeySecret",
        "Forbidden.AccessKeyDisabled",
        "InvalidAuthorization",
    ];
    const PERMISSION: [&str; 5] = [
        "Forbidden",
        "NoPermission",
        "NotAuthorized",
        "Unauthorized",
        "AccessDenied",
    ];
    if AUTH.iter().any(|p| code.starts_with(p)) {
        FailureKind::Auth
    } else if PERMISSION.iter().any(|p| code.starts_with(p)) || status == 403 {
        FailureKind::Permission
    } else if retryable(status, code) {
        FailureKind::Unavailable
    } else {
        FailureKind::Refused
    }
}

/// `text` with every occurrence of the caller's secrets replaced by `***`, cut to 300
/// characters, on one line.
pub fn scrub(text: &str, keys: &KeyPair) -> String {
    let mut out = text.replace(['\r', '\n'], " ");
    for secret in [Some(&keys.secret), keys.token.as_ref()]
        .into_iter()
        .flatten()
    {
        let s = secret.expose();
        if !s.is_empty() {
            out = out.replace(s, "***");
        }
    }
    if out.chars().count() > 300 {
        out = out.chars().take(299).collect::<String>() + "…";
    }
    out
}

/// The delay before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, with
/// "equal jitter" (between half and all of it) so that threads do not retry in step.
pub fn backoff(settings: &Settings, retry: u32) -> Duration {
    let full = settings
        .backoff
        .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16))
        .min(settings.max_backoff);
    let half = full / 2;
    half + full.mul_f64(fastrand::f64()) / 2
}

/// Makes the calls. Shared by all threads.
pub struct Caller {
    http: reqwest::blocking::Client,
    settings: Settings,
    next_slot: Mutex<HashMap<String, Instant>>,
}

enum Attempt {
    Done(Reply),
    Retry(Failure, Option<Duration>),
    Fail(Failure),
}

impl Caller {
    /// A caller with these settings.
    pub fn new(settings: Settings) -> anyhow::Result<Caller> {
        let http = reqwest::blocking::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("aliaudit/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Caller {
            http,
            settings,
            next_slot: Mutex::new(HashMap::new()),
        })
    }

    /// Books the next free slot of `host` under the rate limit, asked at `now`: the instant
    /// the request may go. Slots of one host are `1 / rate` apart whatever the thread.
    fn reserve(&self, host: &str, now: Instant) -> Instant {
        if self.settings.rate <= 0.0 {
            return now;
        }
        let interval = Duration::from_secs_f64(1.0 / self.settings.rate);
        let mut slots = self
            .next_slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = slots.entry(host.to_string()).or_insert(now);
        let at = (*slot).max(now);
        *slot = at + interval;
        at
    }

    /// Waits for this host's next free slot under the rate limit.
    fn wait_turn(&self, host: &str) {
        let now = Instant::now();
        let at = self.reserve(host, now);
        if at > now {
            std::thread::sleep(at - now);
        }
    }

    /// Calls `action` with `params`, retrying what is worth retrying.
    pub fn call(
        &self,
        endpoint: &Endpoint,
        action: &str,
        params: &[(String, String)],
        keys: &KeyPair,
    ) -> Result<Reply, Failure> {
        let mut attempt = 1;
        let mut retried = Vec::new();
        loop {
            match self.attempt(endpoint, action, params, keys, attempt) {
                Attempt::Done(reply) => return Ok(Reply { retried, ..reply }),
                Attempt::Fail(failure) => return Err(Failure { retried, ..failure }),
                Attempt::Retry(failure, _) if attempt > self.settings.retries => {
                    return Err(Failure { retried, ..failure });
                }
                Attempt::Retry(failure, asked) => {
                    retried.push(failure.short());
                    let delay = asked
                        .map(|d| d.min(self.settings.max_backoff))
                        .unwrap_or_else(|| backoff(&self.settings, attempt));
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(
        &self,
        endpoint: &Endpoint,
        action: &str,
        params: &[(String, String)],
        keys: &KeyPair,
        attempt: u32,
    ) -> Attempt {
        self.wait_turn(&endpoint.host);
        let date = utc_now();
        let nonce = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let request = sign::Request {
            method: "POST",
            host: &endpoint.host,
            action,
            version: endpoint.version,
            query: params,
            body: b"",
            content_type: None,
            date: &date,
            nonce: &nonce,
            security_token: keys.token.as_ref().map(|t| t.expose()),
        };
        let signed = sign::sign(&request, &keys.id, keys.secret.expose());
        let url = if signed.query.is_empty() {
            format!("{}/", endpoint.base)
        } else {
            format!("{}/?{}", endpoint.base, signed.query)
        };
        let mut builder = self.http.post(url);
        for (name, value) in &signed.headers {
            // reqwest sets Host from the URL, which is what was signed.
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        let failure =
            |kind, status, code: &str, message: String, request_id, denied_action| Failure {
                kind,
                status,
                code: code.to_string(),
                message: scrub(&message, keys),
                request_id,
                denied_action,
                attempts: attempt,
                retried: Vec::new(),
            };
        // No answer, or no whole answer: worth another attempt.
        let lost = |e: reqwest::Error, status: Option<u16>| {
            let code = if e.is_timeout() {
                "timeout"
            } else {
                "connection"
            };
            let message = transport_message(e);
            Attempt::Retry(
                failure(FailureKind::Unavailable, status, code, message, None, None),
                None,
            )
        };
        let response = match builder.send() {
            Ok(r) => r,
            Err(e) => return lost(e, None),
        };
        let status = response.status().as_u16();
        let asked = response
            .headers()
            .get("x-acs-retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        let body = match response.bytes() {
            Ok(b) => b.to_vec(),
            Err(e) => return lost(e, Some(status)),
        };
        if (200..300).contains(&status) {
            return Attempt::Done(Reply {
                request_id: request_id_of(&body),
                body,
                status,
                attempts: attempt,
                retried: Vec::new(),
            });
        }
        let parsed: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        let code = parsed.code.unwrap_or_else(|| format!("HTTP{status}"));
        let message = parsed.message.unwrap_or_default();
        let denied = parsed.denied.and_then(|d| d.auth_action);
        let kind = classify(status, &code);
        let f = failure(
            kind,
            Some(status),
            &code,
            message,
            parsed.request_id,
            denied,
        );
        if retryable(status, &code) {
            Attempt::Retry(f, asked)
        } else {
            Attempt::Fail(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::credentials::Secret;

    #[test]
    fn endpoints_by_site_and_overrides() {
        let real = Apis::for_site(&Endpoints::default(), Site::International);
        assert_eq!(real.sas.host, "tds.ap-southeast-1.aliyuncs.com");
        assert_eq!(real.ims.base, "https://ims.aliyuncs.com");
        let china = Apis::for_site(&Endpoints::default(), Site::China);
        assert_eq!(china.sas.host, "tds.aliyuncs.com");
        let local = Apis::for_site(
            &Endpoints {
                ims: Some("http://127.0.0.1:8080/".into()),
                sas: None,
                sts: None,
            },
            Site::China,
        );
        assert_eq!(local.ims.base, "http://127.0.0.1:8080");
        assert_eq!(local.ims.host, "127.0.0.1:8080");
        assert_eq!(local.sts.host, "sts.aliyuncs.com");
    }

    #[test]
    fn errors_sorted_by_meaning() {
        assert_eq!(classify(403, "Forbidden.RAM"), FailureKind::Permission);
        assert_eq!(classify(400, "NoPermission"), FailureKind::Permission);
        assert_eq!(
            classify(404, "InvalidAccessKeyId.NotFound"),
            FailureKind::Auth
        );
        assert_eq!(classify(400, "SignatureDoesNotMatch"), FailureKind::Auth);
        assert_eq!(classify(400, "Throttling.User"), FailureKind::Unavailable);
        assert_eq!(
            classify(503, "ServiceUnavailable"),
            FailureKind::Unavailable
        );
        assert_eq!(
            classify(410, "Expired.CredentialReport"),
            FailureKind::Refused
        );
        assert!(retryable(500, "InternalError"));
        assert!(retryable(400, "Throttling.Api"));
        assert!(!retryable(403, "Forbidden.RAM"));
        assert!(!retryable(404, "InvalidAccessKeyId.NotFound"));
    }

    #[test]
    fn scrub_removes_secrets_and_cuts() {
        let keys = KeyPair {
            id: "LTAI".into(),
            secret: Secret::new("topsecret"),
            token: Some(Secret::new("tok123")),
        };
        let text = scrub("signed with topsecret and\ntok123", &keys);
        assert_eq!(text, "signed with *** and ***");
        assert_eq!(scrub(&"x".repeat(1000), &keys).chars().count(), 300);
    }

    #[test]
    fn the_rate_limit_spaces_requests_per_host() {
        let caller = Caller::new(Settings {
            rate: 4.0,
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let t0 = Instant::now();
        let quarter = Duration::from_millis(250);
        assert_eq!(caller.reserve("ims", t0), t0);
        assert_eq!(caller.reserve("ims", t0), t0 + quarter);
        assert_eq!(caller.reserve("ims", t0), t0 + quarter * 2);
        // Another host has its own slots.
        assert_eq!(caller.reserve("tds", t0), t0);
        // After a quiet spell the next request goes at once.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(caller.reserve("ims", later), later);
        assert_eq!(caller.reserve("ims", later), later + quarter);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let settings = Settings {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..Settings::default()
        };
        for _ in 0..50 {
            let first = backoff(&settings, 1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = backoff(&settings, 3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = backoff(&settings, 12);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_millis(1000));
        }
    }
}
