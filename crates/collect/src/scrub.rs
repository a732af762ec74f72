//! The one way server text enters what `collect` logs, writes or prints.
//!
//! A [`Scrubber`] is built per account from its starting credentials and learns every
//! credential an assumed role hands out. [`Text`] (an error code, a `RequestId`, a message, a
//! header we quote, a transport error) can only be made by [`Scrubber::clean`] or from a
//! `&'static str` of our own, so a server's words cannot reach the collection log, the table or
//! stderr without having had every secret and token of the account removed and having been
//! made one printable line. This module never prints a secret: it only removes them.

use serde::Serialize;

use super::credentials::{KeyPair, Secret};

/// What replaces a secret in server text.
pub(crate) const MASK: &str = "***";

/// Longest cleaned text, in characters (the rest is cut, with `…`).
const MAX_CHARS: usize = 300;

/// Text that came from a server (or from us), safe for logs, files and the terminal: no
/// secret or token of the account's identities, one line, no control or bidirectional
/// characters, at most [`MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct Text(String);

impl Text {
    /// Our own fixed words (an error code such as `timeout`).
    pub(crate) fn ours(text: &'static str) -> Text {
        Text(text.to_string())
    }

    /// The cleaned text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every secret and STS token of the identities one account's collection uses: the starting
/// keys and each assumed role's temporary credentials.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    /// Longest first, so that a secret inside a longer one (a token holding the secret) is
    /// never left half replaced.
    secrets: Vec<Secret>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    /// A scrubber knowing the secret and token of `keys`.
    pub(crate) fn new(keys: &KeyPair) -> Scrubber {
        let mut s = Scrubber::default();
        s.learn(keys);
        s
    }

    /// Adds the secret and token of `keys` (an assumed role's temporary credentials).
    pub(crate) fn learn(&mut self, keys: &KeyPair) {
        for secret in [Some(&keys.secret), keys.token.as_ref()]
            .into_iter()
            .flatten()
        {
            if !secret.expose().is_empty() && !self.secrets.contains(secret) {
                self.secrets.push(secret.clone());
            }
        }
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
    }

    /// `text` with every secret replaced by [`MASK`], then made one printable line
    /// ([`aliaudit_core::diag::printable`]) and cut to [`MAX_CHARS`] characters.
    pub(crate) fn clean(&self, text: &str) -> Text {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), MASK);
            }
        }
        let mut out = aliaudit_core::diag::printable(&out).into_owned();
        // Escaping can spell a secret that was not there (`\n` + `ABC` for a secret `nABC`).
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), MASK);
            }
        }
        if out.chars().count() > MAX_CHARS {
            out = out.chars().take(MAX_CHARS - 1).collect::<String>() + "…";
        }
        Text(out)
    }

    /// Whether `text` holds any secret or token, as it is.
    fn holds_secret(&self, text: &str) -> bool {
        self.secrets.iter().any(|s| text.contains(s.expose()))
    }

    /// Whether a response body holds any secret or token: in its bytes as they came, or in
    /// any key or string of its JSON once decoded (`\u0073ecret` is still the secret).
    pub(crate) fn body_holds_secret(&self, body: &[u8], value: Option<&serde_json::Value>) -> bool {
        if self.secrets.is_empty() {
            return false;
        }
        if self.holds_secret(&String::from_utf8_lossy(body)) {
            return true;
        }
        fn walk(s: &Scrubber, v: &serde_json::Value) -> bool {
            match v {
                serde_json::Value::String(t) => s.holds_secret(t),
                serde_json::Value::Array(items) => items.iter().any(|i| walk(s, i)),
                serde_json::Value::Object(map) => {
                    map.iter().any(|(k, v)| s.holds_secret(k) || walk(s, v))
                }
                _ => false,
            }
        }
        value.is_some_and(|v| walk(self, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, token: Option<&str>) -> KeyPair {
        KeyPair {
            id: "LTAIid".into(),
            secret: Secret::new(secret),
            token: token.map(Secret::new),
        }
    }

    #[test]
    fn removes_every_learned_secret_and_makes_one_printable_line() {
        let mut s = Scrubber::new(&keys("topsecret", Some("tok123")));
        s.learn(&keys("stssecret", Some("CAIS-tok123-long")));
        let text = s.clean(
            "a topsecret\r\nerror: forged\x1b[31m tok123 stssecret \u{202e}CAIS-tok123-long",
        );
        assert_eq!(
            text.as_str(),
            "a ***\\r\\nerror: forged\\x1b[31m *** *** \\u{202e}***"
        );
        assert!(!text.as_str().contains('\n'));
        assert_eq!(
            s.clean(&"x".repeat(1000)).as_str().chars().count(),
            MAX_CHARS
        );
        // Escaping cannot spell a secret that the text did not hold: "\n" + "ABC" would
        // print as `\nABC`, which holds the secret "nABC".
        let spelled = Scrubber::new(&keys("nABC", None));
        assert!(!spelled.clean("x\nABC").as_str().contains("nABC"));
        // A secret at the cut is replaced before cutting: no prefix of it is left.
        let long = format!("{}topsecret", "y".repeat(295));
        assert!(!s.clean(&long).as_str().contains("tops"));
    }

    #[test]
    fn finds_secrets_in_bodies_raw_and_decoded() {
        let s = Scrubber::new(&keys("topsecret", None));
        assert!(s.body_holds_secret(br#"{"RequestId":"topsecret"}"#, None));
        let escaped = br#"{"RequestId":"\u0074opsecret"}"#;
        let value: serde_json::Value = serde_json::from_slice(escaped).unwrap_or_default();
        assert!(!s.body_holds_secret(escaped, None));
        assert!(s.body_holds_secret(escaped, Some(&value)));
        let clean = br#"{"RequestId":"REQ-1","List":[{"topsecreT":1}]}"#;
        let value: serde_json::Value = serde_json::from_slice(clean).unwrap_or_default();
        assert!(!s.body_holds_secret(clean, Some(&value)));
        assert!(!Scrubber::default().body_holds_secret(b"topsecret", None));
    }

    #[test]
    fn debug_shows_no_secret() {
        let s = Scrubber::new(&keys("topsecret", Some("tok123")));
        assert_eq!(format!("{s:?}"), "Scrubber(2 secrets)");
    }
}
