//! Diagnostics shared by every stage: what went wrong or looked odd, and where.
//!
//! Stages push [`Diagnostic`]s instead of failing; only the orchestrator decides the exit code.

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Input was rejected or an account could not be evaluated as given.
    Error,
    /// Input was used, but something in it was odd or incomplete.
    Warning,
    /// Worth knowing; nothing was lost.
    Info,
}

impl Level {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// One message about one input file (or folder), for one account when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Input path as shown in the manifest (root as given, then `/`-separated).
    pub path: String,
    /// Account id, when the file belongs to an account.
    pub account: Option<String>,
    /// Error, warning or note.
    pub level: Level,
    /// The message, naming the JSON path or CSV line where there is one.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for `path`, not yet tied to an account.
    pub fn new(level: Level, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            account: None,
            level,
            message: message.into(),
        }
    }

    /// An error about `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Level::Error, path, message)
    }

    /// A warning about `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, path, message)
    }

    /// Ties the diagnostic to an account.
    pub fn for_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_string());
        self
    }
}

/// One terminal or log line: path and message come from the input (a file name can hold a
/// line feed), so both are made [`printable`].
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.level.as_str(),
            printable(&self.path),
            printable(&self.message)
        )
    }
}

/// A file or folder name as text, losslessly: valid UTF-8 is kept as it is, each byte that
/// is not is written `\xNN`, and a backslash is doubled, so two distinct names never show
/// the same (`bad\xff` and `bad\xfe` stay two folders). Every path or name that becomes
/// text (manifest paths, account ids, folder names) goes through here; I/O keeps the
/// `OsStr`. The text may still hold control characters: terminal lines add [`printable`].
pub(crate) fn display_os(name: &std::ffi::OsStr) -> String {
    let bytes = name.as_encoded_bytes();
    if let Some(text) = name.to_str().filter(|t| !t.contains('\\')) {
        return text.to_string();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `display_os` of a whole path.
pub(crate) fn display_path(path: &std::path::Path) -> String {
    display_os(path.as_os_str())
}

/// A path as one terminal line: `display_path` (lossless, invalid bytes as `\xNN`) with
/// control and bidirectional characters escaped by [`one_line`].
pub fn shown_path(path: &std::path::Path) -> String {
    one_line(&display_path(path)).into_owned()
}

/// 1-based line and column of a byte offset (bytes, so a column counts UTF-8 bytes).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, column)
}

/// A TOML error as "line L, column C: message" (the place when the parser knows it).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let place = e
        .span()
        .map(|span| {
            let (line, column) = line_col(text, span.start);
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    format!("{place}{}", e.message())
}

/// An error with its causes, `outer: inner: innermost`, on one line; a cause already quoted
/// by the one before it is not repeated.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text.replace(['\r', '\n'], " ")
}

/// `text` made safe for one terminal or log line: control characters (C0, DEL, C1), the
/// Unicode line and paragraph separators and the bidirectional controls (U+202A-U+202E,
/// U+2066-U+2069, U+200E, U+200F, U+061C) are written as escapes (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`), and so is a backslash that could start one. Text without any of them is
/// returned as it is, so the common case costs a scan and no copy.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, true)
}

/// `text` as one terminal line: like [`printable`], but a backslash stays as it is, so text
/// that was made printable before (a path shown with `\xff`) is not escaped twice. For the
/// last step before a line is printed, where the text may mix our words and escaped input.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, false)
}

/// The escaping of [`printable`] and [`one_line`]; `backslash` says whether a backslash is
/// escaped too.
fn escaped(text: &str, backslash: bool) -> std::borrow::Cow<'_, str> {
    let needs = |c: char| (backslash && c == '\\') || c.is_control() || is_bidi_or_separator(c);
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' if backslash => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_bidi_or_separator(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that reorder or break displayed text: bidirectional embeddings, overrides,
/// isolates and marks, and the line and paragraph separators.
pub fn is_bidi_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

#[cfg(test)]
mod printable_tests {
    use super::{one_line, printable};

    #[cfg(unix)]
    #[test]
    fn display_os_escapes_invalid_bytes_and_backslashes_so_names_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let shown = |b: &[u8]| super::display_os(std::ffi::OsStr::from_bytes(b));
        assert_eq!(shown("张伟 prod.json".as_bytes()), "张伟 prod.json");
        assert_eq!(shown(b"bad\xff"), "bad\\xff");
        assert_eq!(shown(b"bad\xfe"), "bad\\xfe");
        // A literal backslash is doubled: the name `bad\xff` (seven bytes) is not `bad` + 0xff.
        assert_eq!(shown(b"bad\\xff"), "bad\\\\xff");
        assert_eq!(shown(b"a\xe5\xbc\xa0\xe5"), "a张\\xe5");
        assert_eq!(shown(b"x\nerror"), "x\nerror");
    }

    /// The inverse of `display_os`, to show that no two names share a display.
    fn undisplay(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find('\\') {
            out.extend_from_slice(&rest.as_bytes()[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('\\') {
                out.push(b'\\');
                rest = tail;
            } else {
                let hex = after.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.unwrap_or_default());
                rest = &after[3..];
            }
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }

    #[cfg(unix)]
    proptest::proptest! {
        #[test]
        fn display_os_is_lossless(name in proptest::collection::vec(proptest::prop_oneof![
            proptest::num::u8::ANY, proptest::strategy::Just(b'\\'), proptest::strategy::Just(b'x')
        ], 0..16)) {
            use std::os::unix::ffi::OsStrExt;
            let shown = super::display_os(std::ffi::OsStr::from_bytes(&name));
            proptest::prop_assert_eq!(undisplay(&shown), name);
        }
    }

    #[test]
    fn escapes_controls_bidi_and_backslashes_only() {
        assert!(matches!(
            printable("acme/prod 张伟.json"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\r\nerror: forged\x1b[31m\u{202e}gpj.exe\\x"),
            "a\\r\\nerror: forged\\x1b[31m\\u{202e}gpj.exe\\\\x"
        );
        assert_eq!(printable("\u{85}\u{2028}\t"), "\\u{85}\\u{2028}\\t");
        // one_line leaves what was escaped before as it is.
        assert_eq!(one_line("bad\\xff\nerror"), "bad\\xff\\nerror");
    }

    proptest::proptest! {
        #[test]
        fn never_leaves_a_control_character(text in ".*") {
            let shown = printable(&text);
            proptest::prop_assert!(!shown.chars().any(|c| c.is_control() || super::is_bidi_or_separator(c)));
        }
    }
}
