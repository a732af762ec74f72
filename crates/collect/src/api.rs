//! Calling the RPC-style APIs: endpoints, one signed request, retries with backoff, a rate
//! limit per host, and errors sorted into what to do about them.
//!
//! Every request is signed afresh (new date and nonce), also on retry. The query string sent
//! is exactly the one signed. Redirects are never followed (a 3xx is an error naming where it
//! pointed), and a body is read only up to the size cap, so memory stays bounded whatever a
//! server sends. Every piece of server text in a `Failure` is a `scrub::Text` from the account's
//! `scrub::Scrubber`, so nothing this module returns can carry a secret.

// A failure travels once per network call, which costs far more than moving it.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::accounts::{Endpoints, Site};
use super::credentials::KeyPair;
use super::scrub::{Scrubber, Text};
use super::sign;

/// One API product at one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// Product code, for messages (`Ims`, `Sas`, `Sts`).
    pub(crate) product: &'static str,
    /// API version.
    version: &'static str,
    /// `scheme://host[:port]`, no trailing slash.
    base: String,
    /// The `host[:port]` signed and sent as `Host`.
    pub(crate) host: String,
}

impl Endpoint {
    /// An endpoint from a base URL (`https://ims.aliyuncs.com`, `http://127.0.0.1:8080/`).
    fn new(product: &'static str, version: &'static str, url: &str) -> Endpoint {
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
pub(crate) struct Apis {
    /// Ims 2019-08-15 (practice report, preference, policy, credential report).
    pub(crate) ims: Endpoint,
    /// Sas 2018-12-03 (Security Center checks).
    pub(crate) sas: Endpoint,
    /// Sts 2015-04-01 (AssumeRole, GetCallerIdentity).
    pub(crate) sts: Endpoint,
}

impl Apis {
    /// The real hosts for `site`, each replaced by the accounts file's `[endpoints]` when it
    /// names one.
    pub(crate) fn for_site(overrides: &Endpoints, site: Site) -> Apis {
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

/// The default cap on a response body: the largest file `report` reads by default
/// (`--max-file-mb`), since a larger response could not be used as evidence anyway.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = aliaudit_core::ingest::DEFAULT_MAX_FILE_BYTES;

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
    /// Largest response body read; a larger one is an error for that call (not retried).
    pub max_response_bytes: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            timeout: Duration::from_secs(30),
            retries: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            rate: 10.0,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// A 2xx response (whether its body is an API response is for the caller to judge).
#[derive(Debug)]
pub(crate) struct Reply {
    /// The body, exactly as received.
    pub(crate) body: Vec<u8>,
    /// HTTP status.
    pub(crate) status: u16,
    /// Attempts made (1 = no retry).
    pub(crate) attempts: u32,
    /// Why the earlier attempts were retried (`Throttling.User (HTTP 400)`), in order.
    pub(crate) retried: Vec<String>,
}

/// What went wrong, sorted by what it means for the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureKind {
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
pub(crate) struct Failure {
    /// What it means.
    pub(crate) kind: FailureKind,
    /// HTTP status, when a response came.
    pub(crate) status: Option<u16>,
    /// The API's error code (`Forbidden.RAM`), or `timeout` / `connection` without a response.
    pub(crate) code: Text,
    /// The API's message or the transport error, short and without secrets.
    pub(crate) message: Text,
    /// `RequestId`, when a response came.
    pub(crate) request_id: Option<Text>,
    /// The RAM action the server said was denied (`AccessDeniedDetail.AuthAction`).
    pub(crate) denied_action: Option<Text>,
    /// Attempts made.
    pub(crate) attempts: u32,
    /// Why the earlier attempts were retried, in order.
    pub(crate) retried: Vec<String>,
}

impl Failure {
    /// `Code (HTTP n)`, or the code alone without a response.
    pub(crate) fn short(&self) -> String {
        match self.status {
            Some(status) => format!("{} (HTTP {status})", self.code),
            None => self.code.to_string(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status})", self.code)?,
            None => write!(f, "{}", self.code)?,
        }
        if !self.message.as_str().is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

/// A field of an error body as text, whatever JSON type the server chose (`"RequestId": 123`
/// must not lose the code and message beside it). `keys` are the spellings to try.
fn error_field(body: &serde_json::Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| body.get(k)).and_then(|v| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// The time now, UTC, in whole seconds (`2026-11-23T18:40:00Z`): signatures and logs.
pub(crate) fn utc_now() -> String {
    aliaudit_core::text::rfc3339(chrono::Utc::now())
}

/// A transport error with its causes (`error sending request: ... dns error: ...`), without
/// the URL (ours, and long).
fn transport_message(e: reqwest::Error) -> String {
    aliaudit_core::diag::chain(&e.without_url())
}

/// A body read error: `timeout` or `connection`, and the error with its causes, without the
/// URL.
fn read_error(e: std::io::Error) -> (&'static str, String) {
    let mut timed_out = e.kind() == std::io::ErrorKind::TimedOut;
    let plain = e.to_string();
    let message = match e
        .into_inner()
        .map(|inner| inner.downcast::<reqwest::Error>())
    {
        Some(Ok(re)) => {
            timed_out |= re.is_timeout();
            transport_message(*re)
        }
        Some(Err(other)) => aliaudit_core::diag::chain(other.as_ref()),
        None => plain,
    };
    (if timed_out { "timeout" } else { "connection" }, message)
}

/// A size for messages: `64 MiB`, or bytes when not a whole number of MiB.
fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// `host[:port]` a redirect's `Location` points to, as written there (a relative location
/// points to `host`, the endpoint's), without user info; `None` when it names no host. Read
/// from the text, not through a URL parser, which would lower-case and decode it: what is
/// shown is what the server sent (and goes through the scrubber).
fn redirect_host(host: &str, location: &str) -> Option<String> {
    let location = location.trim();
    let authority = match location.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            rest
        }
        _ => match location.strip_prefix("//") {
            Some(rest) => rest,
            None => return Some(host.to_string()),
        },
    };
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    let named = authority.rsplit('@').next().unwrap_or_default();
    (!named.is_empty()).then(|| named.to_string())
}

/// Whether an error response is worth another attempt.
fn retryable(status: u16, code: &str) -> bool {
    status >= 500
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "SignatureNonceUsed"
}

/// What an error response means.
fn classify(status: u16, code: &str) -> FailureKind {
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

/// The failure an error body (`Code`, `Message`, `RequestId`, `AccessDeniedDetail`) sent with
/// `status` stands for, every text of it through `scrubber`; and whether it is worth another
/// attempt.
pub(crate) fn error_reply(
    status: u16,
    body: &[u8],
    scrubber: &Scrubber,
    attempts: u32,
) -> (Failure, bool) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = error_field(&parsed, &["Code", "code"]).unwrap_or_else(|| format!("HTTP{status}"));
    let denied = parsed
        .get("AccessDeniedDetail")
        .and_then(|d| error_field(d, &["AuthAction"]));
    let failure = Failure {
        kind: classify(status, &code),
        status: Some(status),
        code: scrubber.clean(&code),
        message: scrubber.clean(&error_field(&parsed, &["Message", "message"]).unwrap_or_default()),
        request_id: error_field(&parsed, &["RequestId", "requestId"]).map(|r| scrubber.clean(&r)),
        denied_action: denied.map(|a| scrubber.clean(&a)),
        attempts,
        retried: Vec::new(),
    };
    (failure, retryable(status, &code))
}

/// The delay before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, with
/// "equal jitter" (between half and all of it) so that threads do not retry in step.
fn backoff(settings: &Settings, retry: u32) -> Duration {
    let full = settings
        .backoff
        .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16))
        .min(settings.max_backoff);
    let half = full / 2;
    half + full.mul_f64(fastrand::f64()) / 2
}

/// Makes the calls. Shared by all threads.
pub(crate) struct Caller {
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
    pub(crate) fn new(settings: Settings) -> anyhow::Result<Caller> {
        let http = reqwest::blocking::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("aliaudit/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the signed headers (the STS token among them) to a host
            // the accounts file never named, and its answer would be saved as evidence.
            .redirect(reqwest::redirect::Policy::none())
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

    /// Calls `action` with `params` signed with `keys`, retrying what is worth retrying;
    /// server text in a failure goes through `scrubber`.
    pub(crate) fn call(
        &self,
        endpoint: &Endpoint,
        action: &str,
        params: &[(String, String)],
        keys: &KeyPair,
        scrubber: &Scrubber,
    ) -> Result<Reply, Failure> {
        let mut attempt = 1;
        let mut retried = Vec::new();
        loop {
            match self.attempt(endpoint, action, params, keys, scrubber, attempt) {
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
        scrubber: &Scrubber,
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
        let failure = |kind, status, code: Text, message: Text| Failure {
            kind,
            status,
            code,
            message,
            request_id: None,
            denied_action: None,
            attempts: attempt,
            retried: Vec::new(),
        };
        // No answer, or no whole answer: worth another attempt.
        let lost = |code: &'static str, message: String, status: Option<u16>| {
            Attempt::Retry(
                failure(
                    FailureKind::Unavailable,
                    status,
                    Text::ours(code),
                    scrubber.clean(&message),
                ),
                None,
            )
        };
        let mut response = match builder.send() {
            Ok(r) => r,
            Err(e) => {
                let code = if e.is_timeout() {
                    "timeout"
                } else {
                    "connection"
                };
                return lost(code, transport_message(e), None);
            }
        };
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let message = match location
                .as_deref()
                .map(|l| redirect_host(&endpoint.host, l))
            {
                Some(Some(host)) => format!("redirect to {host} not followed"),
                Some(None) => "redirect to a Location without a host, not followed".to_string(),
                None => "redirect without a Location, not followed".to_string(),
            };
            return Attempt::Fail(failure(
                FailureKind::Refused,
                Some(status),
                Text::ours("Redirect"),
                scrubber.clean(&message),
            ));
        }
        let cap = self.settings.max_response_bytes;
        let too_large = |announced: Option<u64>| {
            let message = match announced {
                Some(len) => format!(
                    "the response announces {}, more than the {} cap (--max-response-mb)",
                    size_text(len),
                    size_text(cap)
                ),
                None => format!(
                    "the response is larger than the {} cap (--max-response-mb)",
                    size_text(cap)
                ),
            };
            Attempt::Fail(failure(
                FailureKind::Refused,
                Some(status),
                Text::ours("ResponseTooLarge"),
                scrubber.clean(&message),
            ))
        };
        let announced = response.content_length();
        if let Some(len) = announced
            && len > cap
        {
            return too_large(Some(len));
        }
        let asked = response
            .headers()
            .get("x-acs-retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        // One byte past the cap tells a body at the cap from a larger one; reading stops there
        // whatever the server keeps sending.
        // The announced length is only a hint, capped so a server cannot make us reserve the
        // whole cap (up to 4 GiB) before it sends a byte.
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(cap).min(1 << 20) as usize);
        if let Err(e) = (&mut response)
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
        {
            let (code, message) = read_error(e);
            return lost(code, message, Some(status));
        }
        if body.len() as u64 > cap {
            return too_large(None);
        }
        if (200..300).contains(&status) {
            return Attempt::Done(Reply {
                body,
                status,
                attempts: attempt,
                retried: Vec::new(),
            });
        }
        let (f, again) = error_reply(status, &body, scrubber, attempt);
        if again {
            Attempt::Retry(f, asked)
        } else {
            Attempt::Fail(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn redirect_targets_are_named_by_host_as_written() {
        let host = "127.0.0.1:8080";
        for (location, expected) in [
            ("http://evil.example:9999/x?y", Some("evil.example:9999")),
            ("https://Other.Example", Some("Other.Example")),
            ("https://user:pw@other.example#x", Some("other.example")),
            ("//cdn.example/a", Some("cdn.example")),
            ("/elsewhere", Some(host)),
            ("elsewhere?x=http://a", Some(host)),
            ("http://", None),
            ("http:///path", None),
        ] {
            assert_eq!(
                redirect_host(host, location).as_deref(),
                expected,
                "{location}"
            );
        }
    }

    #[test]
    fn an_error_body_keeps_its_code_whatever_type_its_other_fields_have() {
        let body = br#"{"RequestId": 123, "Code": "Forbidden.RAM", "Message": "no",
            "AccessDeniedDetail": {"AuthAction": "ram:GetPasswordPolicy"}}"#;
        let (f, again) = error_reply(403, body, &Scrubber::default(), 1);
        assert_eq!(f.code.as_str(), "Forbidden.RAM");
        assert_eq!(f.request_id.as_ref().map(|r| r.as_str()), Some("123"));
        assert_eq!(
            f.denied_action.as_ref().map(|a| a.as_str()),
            Some("ram:GetPasswordPolicy")
        );
        assert_eq!(f.kind, FailureKind::Permission);
        assert!(!again);
        let (f, _) = error_reply(502, b"<html>bad gateway</html>", &Scrubber::default(), 1);
        assert_eq!(f.code.as_str(), "HTTP502");
    }

    #[test]
    fn sizes_read_in_mib_when_whole() {
        assert_eq!(size_text(64 << 20), "64 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
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
