//! A stand-in for Alibaba Cloud's Ims, Sas and Sts APIs: real HTTP/1.1 over a real socket on
//! 127.0.0.1, answering from fixture data, checking every request's ACS3-HMAC-SHA256
//! signature with its own implementation (written from the published algorithm, sharing no
//! code with aliaudit's signer), and injecting the faults a collector meets: throttling,
//! 5xx, slow answers, expired credential reports, paging and permission errors; and those a
//! hostile or broken endpoint sends: redirects, echoed secrets, endless or oversized bodies,
//! and 200s that are no API response. [`Trap`] is a second listener a redirect points to.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What one account holds.
#[derive(Clone)]
pub struct AccountData {
    pub practice: Value,
    pub preference: Value,
    pub policy: Value,
    pub csv: String,
    pub risk: Vec<Value>,
    pub checks: Vec<Value>,
    /// Security Center's standards as GetCheckStructure's `CheckStructureResponse`
    /// (`structure.json`, else none), paged by standard (`CurrentPage`, `PageSize`).
    pub structure: Vec<Value>,
    /// GetCheckStructure ignores `CurrentPage` and `PageSize`: every page is the whole tree.
    pub structure_ignores_paging: bool,
    /// Security Center's standards as ListCheckStandard's `Standards` (`standards.json`,
    /// else none).
    pub standards: Vec<Value>,
    /// Credential report rows per GetCredentialReport page (0: all in one).
    pub report_page_rows: usize,
}

impl AccountData {
    /// Reads `tests/fixtures/collect/NAME`.
    pub fn fixture(name: &str) -> AccountData {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/collect")
            .join(name);
        let json = |f: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap()
        };
        let list = |f: &str| match json(f) {
            Value::Array(a) => a,
            _ => panic!("{f} is not an array"),
        };
        AccountData {
            practice: json("practice.json"),
            preference: json("preference.json"),
            policy: json("policy.json"),
            csv: std::fs::read_to_string(dir.join("credentials.csv")).unwrap(),
            risk: list("risk.json"),
            checks: list("checks.json"),
            structure: if dir.join("structure.json").exists() {
                list("structure.json")
            } else {
                Vec::new()
            },
            structure_ignores_paging: false,
            standards: if dir.join("standards.json").exists() {
                list("standards.json")
            } else {
                Vec::new()
            },
            report_page_rows: 0,
        }
    }
}

/// A fault, injected for one account's action.
#[derive(Clone, Debug)]
pub enum Fault {
    /// `Throttling.User` (HTTP 400) the first `times` calls, with `x-acs-retry-after` when set.
    Throttle {
        times: u32,
        retry_after_ms: Option<u64>,
    },
    /// HTTP 500 `InternalError` the first `times` calls.
    ServerError { times: u32 },
    /// The first `times` calls answer after `millis`.
    Slow { times: u32, millis: u64 },
    /// `Forbidden.RAM` (HTTP 403) on every call.
    Deny,
    /// Every call answers `status` (302, 307...) with `Location: location`.
    Redirect { status: u16, location: String },
    /// Every call answers 307 with a `Location` whose host is the caller's secret and token.
    RedirectEcho,
    /// Every call is an error (HTTP `status`: 403 gives `Forbidden.RAM.*`, others
    /// `InvalidParameter.*`) whose Code, RequestId, Message, AccessDeniedDetail and headers
    /// echo every secret and token of the calling identity's chain, with control characters
    /// and a line of its own in the Message.
    Echo { status: u16 },
    /// The normal 200 answer, its RequestId holding every secret and token of the calling
    /// identity's chain (and, for AssumeRole, of the credentials it hands out).
    EchoInReply,
    /// 200 with a chunked body that never ends (stops at 1 GiB, or when the client leaves).
    Endless,
    /// 200 with `bytes` bytes, announced in Content-Length or not (then ended by closing).
    Big { bytes: usize, content_length: bool },
    /// 200 with this body.
    Raw(String),
    /// The normal answer, padded with spaces to exactly `bytes` bytes.
    PadTo(usize),
}

/// The credential report of an account.
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// Ready.
    Ready,
    /// Expired: GetCredentialReport answers 410 until GenerateCredentialReport has answered
    /// `INPROGRESS` this many times and then `COMPLETED`.
    Expired { polls: u32 },
}

struct Key {
    secret: String,
    token: Option<String>,
    uid: String,
    kind: &'static str,
    /// The key that assumed the role this key is of.
    parent: Option<String>,
}

struct Role {
    uid: String,
    trusts: String,
    external_id: Option<String>,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub action: String,
    pub uid: Option<String>,
    pub access_key_id: String,
    pub status: u16,
    pub code: Option<String>,
    pub query: String,
    pub raw: String,
    /// When the request arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Key>,
    roles: HashMap<String, Role>,
    accounts: HashMap<String, AccountData>,
    reports: HashMap<String, Report>,
    faults: HashMap<(String, String), (Fault, u32)>,
    nonces: HashSet<String>,
    issued: u32,
    seen: Vec<Seen>,
    /// Secrets and tokens the server handed out (AssumeRole), for leak checks.
    issued_secrets: Vec<String>,
    /// Bytes written of each streamed body (Endless, Big): action and count.
    streamed: Vec<(String, u64)>,
}

/// The running server.
pub struct Cloud {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Cloud {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> Cloud {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Cloud { url, state }
    }

    /// Adds an account with its data.
    pub fn account(&self, uid: &str, data: AccountData, report: Report) {
        let mut s = self.state.lock().unwrap();
        s.accounts.insert(uid.into(), data);
        s.reports.insert(uid.into(), report);
    }

    /// Adds an AccessKey of `uid` (a RAM user's).
    pub fn key(&self, uid: &str, id: &str, secret: &str) {
        self.state.lock().unwrap().keys.insert(
            id.into(),
            Key {
                secret: secret.into(),
                token: None,
                uid: uid.into(),
                kind: "RAMUser",
                parent: None,
            },
        );
    }

    /// Adds temporary credentials of `uid` (an STS key with its token).
    pub fn sts_key(&self, uid: &str, id: &str, secret: &str, token: &str) {
        self.state.lock().unwrap().keys.insert(
            id.into(),
            Key {
                secret: secret.into(),
                token: Some(token.into()),
                uid: uid.into(),
                kind: "AssumedRoleUser",
                parent: None,
            },
        );
    }

    /// Adds a role in `uid` that principals of `trusts` may assume.
    pub fn role(&self, arn: &str, uid: &str, trusts: &str, external_id: Option<&str>) {
        self.state.lock().unwrap().roles.insert(
            arn.into(),
            Role {
                uid: uid.into(),
                trusts: trusts.into(),
                external_id: external_id.map(str::to_string),
            },
        );
    }

    /// Injects `fault` on `uid`'s `action`.
    pub fn fault(&self, uid: &str, action: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert((uid.into(), action.into()), (fault, 0));
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Secrets and tokens handed out by AssumeRole.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state.lock().unwrap().issued_secrets.clone()
    }

    /// Bytes written of each streamed body, with its action.
    pub fn streamed(&self) -> Vec<(String, u64)> {
        self.state.lock().unwrap().streamed.clone()
    }
}

/// A listener that should never be reached: it records every connection and what came in
/// on it, and answers like an API would, so that following a redirect to it would show.
pub struct Trap {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub host: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let shared = hits.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = vec![0; 64 * 1024];
                let n = stream.read(&mut buf).unwrap_or(0);
                shared
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let body = json!({"RequestId": "TRAP", "PasswordPolicy": {"MinimumPasswordLength": 99},
                    "SecurityPreference": {}, "List": [], "Checks": [], "TotalCount": 0});
                respond(stream, 200, &Body::Json(body), &[]);
            }
        });
        Trap {
            url: format!("http://{host}"),
            host,
            hits,
        }
    }

    /// What each connection sent, in order (empty when nobody came).
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

// ---- HTTP ------------------------------------------------------------------------------

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    raw: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut raw = line.clone();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        raw.push_str(&h);
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    raw.push_str(&String::from_utf8_lossy(&body));
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
        raw,
    })
}

/// A response body.
#[derive(Clone, Debug)]
pub enum Body {
    Json(Value),
    Raw(Vec<u8>),
    /// Chunked, without end (up to 1 GiB).
    Endless,
    /// `bytes` of JSON-ish filler, with Content-Length or ended by closing.
    Big {
        bytes: usize,
        content_length: bool,
    },
}

/// Writes the response; for a streamed body, the bytes of it written before the client left.
fn respond(
    mut stream: TcpStream,
    status: u16,
    body: &Body,
    extra: &[(&str, String)],
) -> Option<u64> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json;charset=utf-8\r\nConnection: close\r\n"
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let whole = |stream: &mut TcpStream, head: &mut String, bytes: &[u8]| {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(bytes);
        let _ = stream.flush();
    };
    let chunk = vec![b' '; 64 * 1024];
    match body {
        Body::Json(v) => {
            whole(&mut stream, &mut head, v.to_string().as_bytes());
            None
        }
        Body::Raw(bytes) => {
            whole(&mut stream, &mut head, bytes);
            None
        }
        Body::Endless => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let mut sent = 0u64;
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while sent < 1 << 30 {
                if stream.write_all(&framed).is_err() {
                    break;
                }
                sent += chunk.len() as u64;
            }
            Some(sent)
        }
        Body::Big {
            bytes,
            content_length,
        } => {
            if *content_length {
                head.push_str(&format!("Content-Length: {bytes}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let mut sent = 0u64;
            while (sent as usize) < *bytes {
                let n = chunk.len().min(bytes - sent as usize);
                if stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
                sent += n as u64;
            }
            let _ = stream.flush();
            Some(sent)
        }
    }
}

// ---- ACS3-HMAC-SHA256, verified independently --------------------------------------------

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded query parameters.
fn query_params(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Checks the signature; `Err((status, code, message))` when it does not hold.
fn verify(
    req: &Request,
    keys: &HashMap<String, Key>,
) -> Result<String, (u16, &'static str, String)> {
    let auth = req.header("authorization").ok_or((
        400,
        "MissingAuthorization",
        "no Authorization header".to_string(),
    ))?;
    let rest = auth.strip_prefix("ACS3-HMAC-SHA256 ").ok_or((
        400,
        "IncompleteSignature",
        "not ACS3-HMAC-SHA256".into(),
    ))?;
    let mut fields = BTreeMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part, ""));
        fields.insert(k.to_string(), v.to_string());
    }
    let id = fields.get("Credential").cloned().unwrap_or_default();
    let key = keys.get(&id).ok_or((
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.".into(),
    ))?;
    let signed: Vec<String> = fields
        .get("SignedHeaders")
        .map(|s| s.split(';').map(str::to_string).collect())
        .unwrap_or_default();
    for needed in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if !signed.iter().any(|s| s == needed) {
            return Err((
                400,
                "IncompleteSignature",
                format!("{needed} is not signed"),
            ));
        }
    }
    let body_hash = hex::encode(Sha256::digest(&req.body));
    if req.header("x-acs-content-sha256") != Some(body_hash.as_str()) {
        return Err((400, "ContentSHA256NotMatch", "payload hash differs".into()));
    }
    let mut pairs: Vec<(String, String)> = query_params(&req.query)
        .into_iter()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut block = String::new();
    for name in &signed {
        let value = req.header(name).unwrap_or_default().trim();
        block.push_str(&format!("{name}:{value}\n"));
    }
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        req.path,
        query,
        block,
        signed.join(";"),
        body_hash
    );
    let to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key.secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    if fields.get("Signature") != Some(&expected) {
        return Err((
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature does not match our calculation. server string to sign is:{to_sign}"
            ),
        ));
    }
    match (&key.token, req.header("x-acs-security-token")) {
        (None, None) => {}
        (Some(t), Some(sent))
            if t == sent && signed.iter().any(|s| s == "x-acs-security-token") => {}
        _ => {
            return Err((
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "token mismatch".into(),
            ));
        }
    }
    let date = req.header("x-acs-date").unwrap_or_default();
    let when = chrono::DateTime::parse_from_rfc3339(date)
        .map_err(|_| (400, "InvalidTimeStamp.Format", "bad x-acs-date".to_string()))?;
    if (chrono::Utc::now() - when.with_timezone(&chrono::Utc))
        .num_seconds()
        .abs()
        > 900
    {
        return Err((
            400,
            "InvalidTimeStamp.Expired",
            "x-acs-date is too far off".into(),
        ));
    }
    Ok(id)
}

// ---- the APIs ----------------------------------------------------------------------------

fn error(code: &str, message: &str) -> Value {
    json!({"RequestId": "ERR-REQ", "HostId": "127.0.0.1", "Code": code, "Message": message,
           "Recommend": "https://api.aliyun.com/troubleshoot?q=" })
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_request(&stream) else {
        return;
    };
    let action = req.header("x-acs-action").unwrap_or_default().to_string();
    let (status, body, extra, delay, uid, id) = answer(&req, &action, state);
    let mut s = state.lock().unwrap();
    s.seen.push(Seen {
        action: action.clone(),
        uid,
        access_key_id: id,
        status,
        code: match &body {
            Body::Json(v) => v.get("Code").and_then(Value::as_str).map(str::to_string),
            _ => None,
        },
        query: req.query.clone(),
        raw: req.raw.clone(),
        at: std::time::Instant::now(),
    });
    drop(s);
    if let Some(d) = delay {
        std::thread::sleep(d);
    }
    if let Some(sent) = respond(stream, status, &body, &extra) {
        state.lock().unwrap().streamed.push((action, sent));
    }
}

/// Every secret and token of `id` and of the keys that assumed its role, in order.
fn chain_secrets(keys: &HashMap<String, Key>, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = keys.get(id);
    while let Some(key) = at {
        out.push(key.secret.clone());
        out.extend(key.token.clone());
        at = key.parent.as_ref().and_then(|p| keys.get(p));
    }
    out
}

type Answer = (
    u16,
    Body,
    Vec<(&'static str, String)>,
    Option<Duration>,
    Option<String>,
    String,
);

/// The answer, then the faults that change a normal answer (EchoInReply, PadTo).
fn answer(req: &Request, action: &str, state: &Mutex<State>) -> Answer {
    let mut a = plain_answer(req, action, state);
    let s = state.lock().unwrap();
    let Some(uid) = &a.4 else {
        return a;
    };
    let fault = s
        .faults
        .get(&(uid.clone(), action.to_string()))
        .map(|(f, _)| f.clone());
    match (fault, &mut a.1) {
        (Some(Fault::EchoInReply), Body::Json(v)) if a.0 == 200 => {
            let mut echo = chain_secrets(&s.keys, &a.5);
            for k in ["AccessKeySecret", "SecurityToken"] {
                if let Some(t) = v["Credentials"][k].as_str() {
                    echo.push(t.to_string());
                }
            }
            v["RequestId"] = json!(echo.join(" "));
        }
        (Some(Fault::PadTo(bytes)), Body::Json(v)) if a.0 == 200 => {
            let mut text = v.to_string().into_bytes();
            assert!(
                text.len() <= bytes,
                "PadTo({bytes}) is smaller than the answer"
            );
            text.resize(bytes, b' ');
            a.1 = Body::Raw(text);
        }
        _ => {}
    }
    a
}

fn plain_answer(req: &Request, action: &str, state: &Mutex<State>) -> Answer {
    let mut s = state.lock().unwrap();
    let id = match verify(req, &s.keys) {
        Ok(id) => id,
        Err((status, code, message)) => {
            return (
                status,
                Body::Json(error(code, &message)),
                vec![],
                None,
                None,
                String::new(),
            );
        }
    };
    let nonce = req
        .header("x-acs-signature-nonce")
        .unwrap_or_default()
        .to_string();
    if !s.nonces.insert(nonce) {
        return (
            400,
            Body::Json(error("SignatureNonceUsed", "nonce used")),
            vec![],
            None,
            None,
            id,
        );
    }
    let (uid, kind) = {
        let k = &s.keys[&id];
        (k.uid.clone(), k.kind)
    };
    let request_id = format!("REQ-{:04}", s.seen.len() + 1);
    let ok = |mut v: Value| {
        v["RequestId"] = json!(request_id);
        v
    };
    let mut delay = None;
    if let Some((fault, count)) = s.faults.get_mut(&(uid.clone(), action.to_string())) {
        *count += 1;
        let n = *count;
        match fault.clone() {
            Fault::Throttle {
                times,
                retry_after_ms,
            } if n <= times => {
                let extra = retry_after_ms
                    .map(|ms| vec![("x-acs-retry-after", ms.to_string())])
                    .unwrap_or_default();
                return (
                    400,
                    Body::Json(error(
                        "Throttling.User",
                        "Request was denied due to user flow control.",
                    )),
                    extra,
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::ServerError { times } if n <= times => {
                return (
                    500,
                    Body::Json(error(
                        "InternalError",
                        "The request processing has failed due to some unknown error.",
                    )),
                    vec![],
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::Slow { times, millis } if n <= times => {
                delay = Some(Duration::from_millis(millis))
            }
            Fault::Deny => {
                let ram = match action {
                    "DescribeRiskCheckResult"
                    | "ListCheckResult"
                    | "GetCheckStructure"
                    | "ListCheckStandard" => format!("yundun-sas:{action}"),
                    _ => format!("ram:{action}"),
                };
                let mut body = error(
                    "Forbidden.RAM",
                    "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
                );
                body["AccessDeniedDetail"] = json!({"PolicyType": "AccountLevelIdentityBasedPolicy",
                    "AuthAction": ram, "NoPermissionType": "ImplicitDeny", "AuthPrincipalType": "SubUser"});
                return (403, Body::Json(body), vec![], None, Some(uid), id);
            }
            Fault::Redirect { status, location } => {
                return (
                    status,
                    Body::Json(json!({})),
                    vec![("Location", location)],
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::RedirectEcho => {
                let echo = chain_secrets(&s.keys, &id).join(".");
                return (
                    307,
                    Body::Json(json!({})),
                    vec![(
                        "Location",
                        format!("http://{echo}.invalid:81/{echo}?t={echo}"),
                    )],
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::Echo { status } => {
                let echo = chain_secrets(&s.keys, &id);
                let all = echo.join(" ");
                let code = if status == 403 {
                    "Forbidden.RAM"
                } else {
                    "InvalidParameter"
                };
                let body = json!({
                    "RequestId": all,
                    "HostId": all,
                    "Code": format!("{code}.{}", echo.join(".")),
                    "Message": format!("refused {all}\r\nerror: forged line\u{1b}[2J\u{202e}{all}"),
                    "AccessDeniedDetail": {"AuthAction": format!("ram:{all}"), "EncodedDiagnosticMessage": all},
                });
                return (
                    status,
                    Body::Json(body),
                    vec![("x-acs-echo", all.clone()), ("x-acs-request-id", all)],
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::Endless => return (200, Body::Endless, vec![], None, Some(uid), id),
            Fault::Big {
                bytes,
                content_length,
            } => {
                return (
                    200,
                    Body::Big {
                        bytes,
                        content_length,
                    },
                    vec![],
                    None,
                    Some(uid),
                    id,
                );
            }
            Fault::Raw(text) => {
                return (
                    200,
                    Body::Raw(text.into_bytes()),
                    vec![],
                    None,
                    Some(uid),
                    id,
                );
            }
            _ => {}
        }
    }
    let params = query_params(&req.query);
    let param = |k: &str| params.get(k).cloned().unwrap_or_default();
    let data = s.accounts.get(&uid).cloned();
    let reply = |status: u16, body: Value| {
        (
            status,
            Body::Json(body),
            vec![],
            delay,
            Some(uid.clone()),
            id.clone(),
        )
    };
    match action {
        "GetCallerIdentity" => reply(
            200,
            ok(json!({
            "AccountId": uid, "UserId": format!("2{}", &uid[1..]), "IdentityType": kind,
            "Arn": format!("acs:ram::{uid}:user/collector"), "PrincipalId": "2000"})),
        ),
        "AssumeRole" => {
            let arn = param("RoleArn");
            let Some(role) = s.roles.get(&arn) else {
                return reply(
                    404,
                    error("EntityNotExist.Role", "The specified Role not exists ."),
                );
            };
            if role.trusts != uid {
                let mut body = error("NoPermission", "You are not authorized to do this action.");
                body["AccessDeniedDetail"] = json!({"AuthAction": "sts:AssumeRole"});
                return reply(403, body);
            }
            if role.external_id.is_some()
                && role.external_id.as_deref() != Some(param("ExternalId").as_str())
            {
                return reply(
                    403,
                    error("NoPermission", "The external id does not match."),
                );
            }
            let target = role.uid.clone();
            s.issued += 1;
            let new_id = format!("STS.NK{:04}", s.issued);
            let secret = format!("stssecret{}x{}", s.issued, uid);
            let token = format!("CAIS-token-{}-{}", s.issued, target);
            s.issued_secrets.push(secret.clone());
            s.issued_secrets.push(token.clone());
            s.keys.insert(
                new_id.clone(),
                Key {
                    secret: secret.clone(),
                    token: Some(token.clone()),
                    uid: target.clone(),
                    kind: "AssumedRoleUser",
                    parent: Some(id.clone()),
                },
            );
            reply(
                200,
                ok(json!({
                "Credentials": {"AccessKeyId": new_id, "AccessKeySecret": secret, "SecurityToken": token,
                                "Expiration": "2099-01-01T00:00:00Z"},
                "AssumedRoleUser": {"Arn": format!("{arn}/{}", param("RoleSessionName")), "AssumedRoleId": "3000:x"}})),
            )
        }
        _ if data.is_none() => reply(404, error("EntityNotExist.Account", "no such account")),
        "GetAccountSecurityPracticeReport" => reply(200, ok(data.unwrap().practice)),
        "GetSecurityPreference" => reply(200, ok(data.unwrap().preference)),
        "GetPasswordPolicy" => reply(200, ok(data.unwrap().policy)),
        "GenerateCredentialReport" => {
            let report = s.reports.get_mut(&uid).unwrap();
            let state = match report {
                Report::Ready => "COMPLETED",
                Report::Expired { polls } if *polls == 0 => {
                    *report = Report::Ready;
                    "COMPLETED"
                }
                Report::Expired { polls } => {
                    *polls -= 1;
                    "INPROGRESS"
                }
            };
            reply(200, ok(json!({"State": state})))
        }
        "GetCredentialReport" => {
            if s.reports.get(&uid) != Some(&Report::Ready) {
                return reply(
                    410,
                    error(
                        "Expired.CredentialReport",
                        "The credential report has been expired.",
                    ),
                );
            }
            let data = data.unwrap();
            let mut lines = data.csv.lines();
            let header = lines.next().unwrap_or_default();
            let rows: Vec<&str> = lines.collect();
            let per = if data.report_page_rows == 0 {
                rows.len().max(1)
            } else {
                data.report_page_rows
            };
            let page: usize = param("NextToken")
                .strip_prefix("page-")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let chunk: Vec<&str> = rows.iter().skip(page * per).take(per).copied().collect();
            let more = (page + 1) * per < rows.len();
            let text = format!("{header}\n{}\n", chunk.join("\n"));
            let mut body = json!({"GeneratedTime": "2026-11-20T06:00:00Z",
                "Content": base64::engine::general_purpose::STANDARD.encode(text),
                "IsTruncated": more});
            if more {
                body["NextToken"] = json!(format!("page-{}", page + 1));
            }
            reply(200, ok(body))
        }
        "DescribeRiskCheckResult" | "ListCheckResult" => {
            let data = data.unwrap();
            let items = if action == "ListCheckResult" {
                &data.checks
            } else {
                &data.risk
            };
            let current: usize = param("CurrentPage").parse().unwrap_or(1).max(1);
            let size: usize = param("PageSize").parse().unwrap_or(20).max(1);
            let total = items.len();
            let slice: Vec<Value> = items
                .iter()
                .skip((current - 1) * size)
                .take(size)
                .cloned()
                .collect();
            let localised: Vec<Value> = slice
                .into_iter()
                .map(|mut v| {
                    if param("Lang") == "zh" {
                        for k in ["Title", "CheckShowName"] {
                            if let Some(t) = v.get(k).and_then(Value::as_str) {
                                v[k] = json!(format!("【中文】{t}"));
                            }
                        }
                    }
                    v
                })
                .collect();
            let body = if action == "ListCheckResult" {
                json!({"Checks": localised, "PageInfo": {"CurrentPage": current, "PageSize": size,
                        "TotalCount": total, "Count": localised.len()}})
            } else {
                json!({"CurrentPage": current, "PageSize": size, "TotalCount": total,
                       "PageCount": total.div_ceil(size), "Count": localised.len(), "List": localised})
            };
            reply(200, ok(body))
        }
        "GetCheckStructure" => {
            let data = data.unwrap();
            if data.structure_ignores_paging {
                return reply(200, ok(json!({"CheckStructureResponse": data.structure})));
            }
            // A page holds `PageSize` standards, each under its own `StandardType` group
            // (groups of consecutive standards of one type are joined again).
            let current: usize = param("CurrentPage").parse().unwrap_or(1).max(1);
            let size: usize = param("PageSize").parse().unwrap_or(20).max(1);
            let mut groups: Vec<Value> = Vec::new();
            let standards = data.structure.iter().flat_map(|group| {
                group["Standards"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |standard| (group["StandardType"].clone(), standard.clone()))
            });
            for (kind, standard) in standards.skip((current - 1) * size).take(size) {
                match groups.last_mut() {
                    Some(last) if last["StandardType"] == kind => {
                        last["Standards"].as_array_mut().unwrap().push(standard)
                    }
                    _ => groups.push(json!({"StandardType": kind, "Standards": [standard]})),
                }
            }
            reply(200, ok(json!({"CheckStructureResponse": groups})))
        }
        "ListCheckStandard" => reply(200, ok(json!({"Standards": data.unwrap().standards}))),
        other => reply(
            400,
            error(
                "InvalidAction.NotFound",
                &format!("{other} is not an action"),
            ),
        ),
    }
}
