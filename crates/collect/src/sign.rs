//! Alibaba Cloud signature V3 (`ACS3-HMAC-SHA256`) for RPC-style API calls.
//!
//! Pure functions over a request description: the caller sends exactly the query string and
//! headers returned here, so the server sees what was signed. Secrets are only ever inputs
//! to the HMAC; nothing here formats or stores them.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The signature algorithm's name, first in `Authorization`.
const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// RFC 3986 percent-encoding as the signature wants it: unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) stay, every other byte of the UTF-8 form becomes `%XX` in upper
/// case (so a space is `%20`, never `+`).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical query string: names and values percent-encoded, sorted by name (then
/// value), joined as `name=value` with `&`. The same string is sent as the query.
fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One request to sign.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    /// HTTP method (`POST` for our calls).
    pub(crate) method: &'a str,
    /// The `Host` header exactly as sent (with the port when it is not the default).
    pub(crate) host: &'a str,
    /// `x-acs-action`.
    pub(crate) action: &'a str,
    /// `x-acs-version`.
    pub(crate) version: &'a str,
    /// Business parameters, sent in the query.
    pub(crate) query: &'a [(String, String)],
    /// The body (empty for our calls unless a form body is used).
    pub(crate) body: &'a [u8],
    /// `content-type`, only with a body.
    pub(crate) content_type: Option<&'a str>,
    /// `x-acs-date`: UTC `YYYY-MM-DDThh:mm:ssZ`.
    pub(crate) date: &'a str,
    /// `x-acs-signature-nonce`: fresh for every request, retries included.
    pub(crate) nonce: &'a str,
    /// `x-acs-security-token`, with STS credentials.
    pub(crate) security_token: Option<&'a str>,
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    /// The query string to send verbatim.
    pub(crate) query: String,
    /// Headers to send, `Authorization` last.
    pub(crate) headers: Vec<(String, String)>,
    /// The canonical request (for debugging a signature mismatch; holds no secret).
    canonical_request: String,
}

/// The canonical headers block (`name:value\n` each, sorted; repeated names joined with `,`
/// in sorted value order) and the signed-header list, from `(name, value)` pairs: names are
/// lower-cased, values trimmed; only `host`, `content-type` and `x-acs-*` are signed.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut by_name: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if name == "host" || name == "content-type" || name.starts_with("x-acs-") {
            by_name
                .entry(name)
                .or_default()
                .push(value.trim().to_string());
        }
    }
    let mut block = String::new();
    for (name, values) in &mut by_name {
        values.sort();
        block.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let signed = by_name.keys().cloned().collect::<Vec<_>>().join(";");
    (block, signed)
}

/// `Authorization` for a canonical request.
fn authorization(
    canonical_request: &str,
    signed_headers: &str,
    access_key_id: &str,
    secret: &str,
) -> String {
    let string_to_sign = format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
}

/// Signs `request` with an AccessKey pair.
pub(crate) fn sign(request: &Request, access_key_id: &str, secret: &str) -> Signed {
    let payload_hash = sha256_hex(request.body);
    let mut headers: Vec<(&str, &str)> = vec![
        ("host", request.host),
        ("x-acs-action", request.action),
        ("x-acs-version", request.version),
        ("x-acs-date", request.date),
        ("x-acs-signature-nonce", request.nonce),
        ("x-acs-content-sha256", &payload_hash),
    ];
    if let Some(token) = request.security_token {
        headers.push(("x-acs-security-token", token));
    }
    if let Some(ct) = request.content_type {
        headers.push(("content-type", ct));
    }
    let query = canonical_query(request.query);
    let (block, signed) = canonical_headers(&headers);
    let canonical_request = format!(
        "{}\n/\n{query}\n{block}\n{signed}\n{payload_hash}",
        request.method
    );
    let auth = authorization(&canonical_request, &signed, access_key_id, secret);
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.push(("Authorization".to_string(), auth));
    Signed {
        query,
        headers: out,
        canonical_request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn auth_of(signed: &Signed) -> &str {
        signed
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v)
            .map_or("", String::as_str)
    }

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn percent_encoding_follows_rfc_3986() {
        assert_eq!(percent_encode(" ~/*-+"), "%20~%2F%2A-%2B");
        assert_eq!(percent_encode("中 文+~*"), "%E4%B8%AD%20%E6%96%87%2B~%2A");
        assert_eq!(sha256_hex(b""), EMPTY);
    }

    proptest::proptest! {
        #[test]
        fn percent_encoding_is_reversible_and_safe(text in "\\PC{0,40}") {
            let encoded = percent_encode(&text);
            proptest::prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
            let mut bytes = Vec::new();
            let mut rest = encoded.as_bytes();
            while let Some((&b, tail)) = rest.split_first() {
                if b == b'%' {
                    let hex = std::str::from_utf8(&tail[..2]).unwrap_or("");
                    proptest::prop_assert_eq!(hex, hex.to_ascii_uppercase());
                    bytes.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    rest = &tail[2..];
                } else {
                    bytes.push(b);
                    rest = tail;
                }
            }
            proptest::prop_assert_eq!(bytes, text.as_bytes());
        }
    }

    /// The official V3 example ("Fixed parameter values", RunInstances).
    #[test]
    fn the_official_v3_vector() {
        let query = params(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]);
        let request = Request {
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            action: "RunInstances",
            version: "2014-05-26",
            query: &query,
            body: b"",
            content_type: None,
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
            security_token: None,
        };
        let signed = sign(&request, "YourAccessKeyId", "YourAccessKeySecret");
        assert_eq!(
            signed.canonical_request,
            format!(
                "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:{EMPTY}\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{EMPTY}"
            )
        );
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            auth_of(&signed),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    /// The SDK vectors: an empty query value, a header repeated in two cases, a given
    /// payload hash; and the same with an empty method.
    #[test]
    fn the_sdk_vectors() {
        let (block, signed) = canonical_headers(&[("x-acs-test", "http"), ("x-acs-TEST", "https")]);
        assert_eq!(block, "x-acs-test:http,https\n");
        let query = canonical_query(&params(&[("test", "ok"), ("empty", "")]));
        assert_eq!(query, "empty=&test=ok");
        let hash = "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23";
        for (method, signature) in [
            (
                "GET",
                "d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1",
            ),
            (
                "",
                "4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3",
            ),
        ] {
            let canonical = format!("{method}\n/\n{query}\n{block}\n{signed}\n{hash}");
            assert_eq!(
                authorization(&canonical, &signed, "acesskey", "secret"),
                format!(
                    "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature={signature}"
                )
            );
        }
    }

    /// Derived vector D3: our Security Center call with STS credentials; headers that are
    /// not signed (user-agent, accept) do not change the signature.
    #[test]
    fn an_sts_security_center_call() {
        let query = params(&[
            ("Lang", "en"),
            ("CurrentPage", "1"),
            ("PageSize", "100"),
            ("ItemIds.1", "3"),
            ("ItemIds.2", "15"),
        ]);
        let request = Request {
            method: "POST",
            host: "tds.ap-southeast-1.aliyuncs.com",
            action: "DescribeRiskCheckResult",
            version: "2018-12-03",
            query: &query,
            body: b"",
            content_type: None,
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
            security_token: Some("CAIS+token/with=chars"),
        };
        let signed = sign(&request, "STS.YourAccessKeyId", "YourAccessKeySecret");
        assert_eq!(
            signed.query,
            "CurrentPage=1&ItemIds.1=3&ItemIds.2=15&Lang=en&PageSize=100"
        );
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "041dee63c522e454cd6daeaf93c9cbaef6a508f2e4d326296023c3114e7c0f74"
        );
        assert!(auth_of(&signed).ends_with(
            "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature=ebc6812fcd4d19ea6046c2a7cf322838b1a9618121119e115b2bf2d122a01557"
        ));
        assert!(!signed.canonical_request.contains("YourAccessKeySecret"));
    }

    /// Derived vector D4: a form body is hashed and `content-type` is signed.
    #[test]
    fn a_form_body_is_signed() {
        let request = Request {
            method: "POST",
            host: "ims.aliyuncs.com",
            action: "GetCredentialReport",
            version: "2019-08-15",
            query: &[],
            body: b"MaxItems=1000",
            content_type: Some("application/x-www-form-urlencoded"),
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
            security_token: None,
        };
        let signed = sign(&request, "YourAccessKeyId", "YourAccessKeySecret");
        assert!(signed.headers.contains(&(
            "x-acs-content-sha256".to_string(),
            "4cd22ce0242937bc2170bcdf501f3ce32929e4094b2f2feba1949d5abf45e296".to_string()
        )));
        assert!(auth_of(&signed).ends_with(
            "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=43ffb47a733ce663ee0620bff7d7f2fe300ea67a21fcef18ec36a1323c41de0f"
        ));
    }
}
