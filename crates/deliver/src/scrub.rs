//! Deliver stage: the one way text from an SMTP server (its replies, and the transport errors
//! that quote them) reaches the delivery log, the final table and the terminal. It must not
//! let the SMTP credentials through, and it must not let the server write terminal lines.
//!
//! A server may quote the AUTH exchange back: the password itself, or base64 that carries it
//! (AUTH PLAIN `\0user\0password` or `authzid\0user\0password`, AUTH LOGIN the user and the
//! password alone, or any of them inside a longer base64 string at any alignment). The scrubber
//! replaces the password wherever it appears as such, and every base64-looking token whose
//! decoding (at each of the four alignments, standard or URL-safe alphabet, tokens split by
//! spaces taken together) contains the password or the user name, by [`REDACTED`]. Then the
//! text is made one printable line ([`aliaudit_core::diag::printable`]).

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// A user name shorter than this is not looked for in base64: a byte or two turns up in the
/// decoding of ordinary words ("Authentication" is base64 too) and would hide them.
const MIN_USER_BYTES: usize = 3;

/// Scrubs server text of the SMTP credentials.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    /// Replaced wherever it appears, as text or inside base64.
    password: Option<Vec<u8>>,
    /// Replaced where it appears inside base64 (the name itself is not a secret).
    user: Option<Vec<u8>>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets, even in a debug print.
        f.write_str("Scrubber")
    }
}

impl Scrubber {
    /// A scrubber for these credentials (either may be missing).
    pub(crate) fn new(user: Option<&str>, password: Option<&str>) -> Scrubber {
        Scrubber {
            password: password
                .filter(|p| !p.is_empty())
                .map(|p| p.as_bytes().to_vec()),
            user: user
                .filter(|u| u.len() >= MIN_USER_BYTES)
                .map(|u| u.as_bytes().to_vec()),
        }
    }

    /// `text` (a server reply, a transport error) without the credentials, on one printable
    /// line.
    pub(crate) fn line(&self, text: &str) -> String {
        let one_line = text.replace(['\r', '\n'], " ");
        let clean = self.scrub(&one_line);
        // Escaping could put together what was apart (a password `x1b[2J` after an escape
        // character becomes `\x1b[2J`): the escaped line is scrubbed again.
        let shown = aliaudit_core::diag::printable(&clean).into_owned();
        self.scrub(&shown)
    }

    /// `text` with the password, and base64 carrying the password or the user, replaced.
    fn scrub(&self, text: &str) -> String {
        let mut spans = Vec::new();
        if let Some(password) = self.password.as_deref() {
            spans.extend(find_all(text.as_bytes(), password).map(|s| (s, s + password.len())));
        }
        let needles: Vec<&[u8]> = [self.password.as_deref(), self.user.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !needles.is_empty() {
            spans.extend(base64_spans(text, &needles));
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            if end <= at {
                continue;
            }
            if start >= at {
                out.push_str(&text[at..start]);
                out.push_str(REDACTED);
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Where `needle` starts in `haystack`, every occurrence (overlapping ones included).
fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// The six bits of a base64 character (standard or URL-safe alphabet).
fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Byte spans of `text` to redact: whole base64 tokens whose decoding contains a needle.
///
/// A group is a run of base64 characters, padding and spaces (a token the server wrapped or
/// that lettre joined from several reply lines). Its base64 characters are decoded from each
/// of the first four, so that whatever the alignment of the secret in the string the server
/// encoded, one decoding holds its bytes; a match is mapped back to the characters that
/// carried it, and the tokens holding those characters are redacted whole.
fn base64_spans(text: &str, needles: &[&[u8]]) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let in_group = |b: u8| sextet(b).is_some() || b == b'=' || b == b' ' || b == b'\t';
    let in_token = |b: u8| sextet(b).is_some() || b == b'=';
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !in_group(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && in_group(bytes[i]) {
            i += 1;
        }
        // (position in text, six bits) of the group's base64 characters.
        let chars: Vec<(usize, u32)> = (start..i)
            .filter_map(|p| sextet(bytes[p]).map(|v| (p, v)))
            .collect();
        for offset in 0..4.min(chars.len()) {
            let (decoded, origin) = decode(&chars[offset..]);
            for needle in needles {
                for s in find_all(&decoded, needle) {
                    let first = chars[offset + origin[s].0].0;
                    let last = chars[offset + origin[s + needle.len() - 1].1].0;
                    // Widen to the whole tokens (a token is never half shown).
                    let mut from = first;
                    while from > start && in_token(bytes[from - 1]) {
                        from -= 1;
                    }
                    let mut to = last + 1;
                    while to < i && in_token(bytes[to]) {
                        to += 1;
                    }
                    spans.push((from, to));
                }
            }
        }
    }
    spans
}

/// Decodes base64 characters (no padding, any length) into bytes, with, for each byte, the
/// indices of its first and last character.
fn decode(chars: &[(usize, u32)]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(chars.len() * 3 / 4);
    let mut origin = Vec::with_capacity(chars.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut first = 0;
    for (i, (_, v)) in chars.iter().enumerate() {
        if bits == 0 {
            first = i;
        }
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            origin.push((first, i));
            acc &= (1 << bits) - 1;
            // The next byte starts in this character when bits are left over.
            first = i;
        }
    }
    (out, origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const USER: &str = "mailer";
    const PASSWORD: &str = "smtp-pa55-Hx7";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn b64url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The characters of base64(`k` bytes, the password, more) that depend on the password
    /// alone, for k = 0, 1, 2: what shows of the password in any longer base64 string.
    fn cores(secret: &[u8]) -> Vec<String> {
        (0..3)
            .map(|k| {
                let mut data = vec![b'x'; k];
                data.extend_from_slice(secret);
                data.extend_from_slice(b"yz");
                let encoded = b64(&data);
                let from = (8 * k).div_ceil(6);
                let to = (8 * (k + secret.len()) - 6) / 6 + 1;
                encoded[from..to].to_string()
            })
            .collect()
    }

    fn assert_clean(shown: &str) {
        assert!(!shown.contains(PASSWORD), "{shown}");
        for core in cores(PASSWORD.as_bytes()) {
            assert!(!shown.contains(&core), "{core} in {shown}");
        }
        for core in cores(USER.as_bytes()) {
            assert!(!shown.contains(&core), "{core} in {shown}");
        }
    }

    #[test]
    fn removes_the_password_and_every_base64_form_of_the_auth_exchange() {
        let s = Scrubber::new(Some(USER), Some(PASSWORD));
        let plain = b64(format!("\0{USER}\0{PASSWORD}").as_bytes());
        let authzid = b64(format!("admin\0{USER}\0{PASSWORD}").as_bytes());
        let login_user = b64(USER.as_bytes());
        let login_password = b64(PASSWORD.as_bytes());
        for k in 0..3 {
            let shifted = b64(format!("{}{PASSWORD}tail", "z".repeat(k)).as_bytes());
            let url = b64url(format!("{}\0{USER}\0{PASSWORD}", "?".repeat(k)).as_bytes());
            let text = format!(
                "535 5.7.8 rejected {plain} ({authzid}) user {login_user} pass {login_password} \
                 in {shifted} url {url} plainly {PASSWORD}, wrapped {} {} done",
                &plain[..7],
                &plain[7..],
            );
            let shown = s.line(&text);
            assert_clean(&shown);
            // The rest of the reply is still there, and says what was taken out.
            assert!(
                shown.starts_with("535 5.7.8 rejected [redacted] ([redacted]) user [redacted]"),
                "{shown}"
            );
            assert!(shown.ends_with(", wrapped [redacted] done"), "{shown}");
        }
    }

    #[test]
    fn leaves_other_text_alone_and_makes_one_printable_line() {
        let s = Scrubber::new(Some(USER), Some(PASSWORD));
        let text = "550 5.1.1 <it@eastwind.example>: Recipient address rejected: User unknown";
        assert_eq!(s.line(text), text);
        assert_eq!(
            s.line("554 bad\r\n250 forged line\x1b[2J \u{202e}txt.exe"),
            "554 bad  250 forged line\\x1b[2J \\u{202e}txt.exe"
        );
        // A password made of what escaping writes is still not shown.
        let odd = Scrubber::new(None, Some("x1b[2J"));
        assert_eq!(odd.line("a\x1b[2Jb"), "a\\[redacted]b");
        // Without credentials there is nothing to take out.
        assert_eq!(Scrubber::default().line("235 ok"), "235 ok");
        assert_eq!(format!("{s:?}"), "Scrubber");
    }

    proptest::proptest! {
        #[test]
        fn no_alignment_or_surrounding_text_lets_the_password_through(
            before in proptest::collection::vec(proptest::num::u8::ANY, 0..12),
            after in proptest::collection::vec(proptest::num::u8::ANY, 0..12),
            prefix in "[ -~]{0,20}",
            password in "[!-~]{4,24}",
        ) {
            let s = Scrubber::new(Some(USER), Some(&password));
            let mut data = before.clone();
            data.extend_from_slice(password.as_bytes());
            data.extend_from_slice(&after);
            for encoded in [b64(&data), b64url(&data), b64(&data).trim_end_matches('=').to_string()] {
                let shown = s.line(&format!("{prefix} {encoded} end"));
                proptest::prop_assert!(!shown.contains(&password), "{}", shown);
                for core in cores(password.as_bytes()) {
                    proptest::prop_assert!(!shown.contains(&core), "{} in {}", core, shown);
                }
            }
        }
    }
}
