//! Message catalogues: every built-in string of the HTML and PDF reports, one catalogue per
//! language (`i18n/en.toml`, `i18n/zh.toml`, compiled in), chosen with `--lang`.
//!
//! Keys are dotted (`account.executive_summary`); `{name}` marks a value filled in when the
//! message is used. A test fails when a key, or a placeholder, is in one catalogue and not
//! the other. Evidence text (user names, Security Center titles) is never translated.
//!
//! What the rules, the exceptions register and the model say is kept as a [`Message`] (a key
//! and its arguments) and written in a language only by the outputs, so evaluating an account
//! does not depend on the report language.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A report language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The BCP 47 tag (`en`, `zh-Hans`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-Hans",
        }
    }

    /// The short code (`en`, `zh`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../../i18n/en.toml"),
            Lang::Zh => include_str!("../../../i18n/zh.toml"),
        }
    }
}

/// `template` with each `{name}` replaced by its value, in one pass (values are not searched
/// again; a `{name}` with no value stays as written). `{name|one|other}` is the word for that
/// count: `one` when the value is 1, else `other` ("{n} {n|account|accounts}"); languages
/// without plurals do not use it. The rules call this for every resource.
pub fn fill(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(template.len() + 16 * args.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let inner = &after[..close];
            let (name, forms) = match inner.split_once('|') {
                Some((name, forms)) => (name, forms.split_once('|')),
                None => (inner, None),
            };
            if inner.contains('|') && forms.is_none() {
                return None;
            }
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|a| (close, a.1, forms))
        });
        match value {
            Some((close, value, None)) => {
                let _ = write!(out, "{value}");
                rest = &after[close + 1..];
            }
            Some((close, value, Some((one, other)))) => {
                out.push_str(if value.to_string() == "1" { one } else { other });
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A text kept as what it says, to be written in any language later: the rules, the
/// exceptions register and the model say things this way, and the outputs write them (English
/// in `summary.json`, `findings.csv` and the manifest, the report language on the pages).
///
/// It is a catalogue key with named arguments, each itself a message (usually plain text such
/// as a date, a count or a user name, but a localisable word too, like a status name); text
/// that reads the same in every language; or messages written one after another. Keys and
/// names are `Cow`s, so a message read back from a shard file needs no `'static` strings.
///
/// As JSON (shard files) a catalogue message is `{"key": K, "args": [[name, value], ...]}`,
/// plain text a string and a sequence an array.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Message {
    /// Text written the same in every language: evidence (user names, Security Center titles
    /// and categories), field names and values, numbers and dates.
    Text(Cow<'static, str>),
    /// Messages written one after another, with nothing between them.
    Concat(Vec<Message>),
    /// The catalogue's message `key`, with each `{name}` replaced by its argument.
    Key {
        /// Catalogue key (`engine.root_used`).
        key: Cow<'static, str>,
        /// Named arguments, in the order given.
        args: Vec<(Cow<'static, str>, Message)>,
    },
}

impl Default for Message {
    /// The empty text (what a rule says when explanations are off).
    fn default() -> Message {
        Message::Text(Cow::Borrowed(""))
    }
}

impl From<String> for Message {
    /// Plain text, the same in every language.
    fn from(text: String) -> Message {
        Message::Text(Cow::Owned(text))
    }
}

impl From<&'static str> for Message {
    /// Plain text, the same in every language (not a catalogue key: see [`Message::key`]).
    fn from(text: &'static str) -> Message {
        Message::Text(Cow::Borrowed(text))
    }
}

impl Message {
    /// The catalogue's message `key`, so far without arguments.
    pub fn key(key: impl Into<Cow<'static, str>>) -> Message {
        Message::Key {
            key: key.into(),
            args: Vec::new(),
        }
    }

    /// Plain text, the same in every language.
    pub fn text(text: impl Into<Cow<'static, str>>) -> Message {
        Message::Text(text.into())
    }

    /// This message with the argument `name` set to `value` written as text (numbers and
    /// booleans as `Display` writes them). Only a catalogue message has arguments: on any
    /// other message this does nothing.
    pub fn arg(self, name: &'static str, value: impl std::fmt::Display) -> Message {
        self.nested(name, Message::Text(Cow::Owned(value.to_string())))
    }

    /// This message with the argument `name` set to another message, written in the same
    /// language. Only a catalogue message has arguments: on any other message this does
    /// nothing.
    pub fn nested(mut self, name: &'static str, value: Message) -> Message {
        if let Message::Key { args, .. } = &mut self {
            args.push((Cow::Borrowed(name), value));
        }
        self
    }

    /// This message, then the clause separator of the language it is written in (`; `,
    /// `；`), then `next`; or just `next` when this one is empty.
    pub fn then(self, next: Message) -> Message {
        if self.is_empty() {
            return next;
        }
        let mut parts = match self {
            Message::Concat(parts) => parts,
            other => vec![other],
        };
        parts.push(Message::key("engine.clause_separator"));
        parts.push(next);
        Message::Concat(parts)
    }

    /// Whether the message writes nothing in any language (a catalogue message never does).
    pub fn is_empty(&self) -> bool {
        match self {
            Message::Text(text) => text.is_empty(),
            Message::Concat(parts) => parts.iter().all(Message::is_empty),
            Message::Key { .. } => false,
        }
    }

    /// The message in `c`'s language.
    pub fn render(&self, c: &Catalogue) -> String {
        match self {
            Message::Text(text) => text.to_string(),
            Message::Concat(parts) => parts.iter().map(|p| p.render(c)).collect(),
            Message::Key { key, args } => {
                let values: Vec<Cow<'_, str>> = args
                    .iter()
                    .map(|(_, value)| match value {
                        Message::Text(text) => Cow::Borrowed(&**text),
                        other => Cow::Owned(other.render(c)),
                    })
                    .collect();
                let named: Vec<(&str, &dyn std::fmt::Display)> = args
                    .iter()
                    .zip(&values)
                    .map(|((name, _), value)| (&**name, value as &dyn std::fmt::Display))
                    .collect();
                c.f(key, &named)
            }
        }
    }
}

/// One language's messages.
#[derive(Debug)]
pub struct Catalogue {
    lang: Lang,
    flat: BTreeMap<String, String>,
    nested: serde_json::Value,
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        toml::Value::Integer(n) => {
            out.insert(prefix.to_string(), n.to_string());
        }
        // Catalogues hold strings (and tables); anything else is left out, and the
        // completeness test names the key.
        _ => {}
    }
}

impl Catalogue {
    /// The catalogue of `lang`, parsed once per process.
    pub fn get(lang: Lang) -> &'static Catalogue {
        static EN: OnceLock<Catalogue> = OnceLock::new();
        static ZH: OnceLock<Catalogue> = OnceLock::new();
        let cell = match lang {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        };
        cell.get_or_init(|| Catalogue::parse(lang))
    }

    fn parse(lang: Lang) -> Catalogue {
        // The catalogues are committed files checked by the tests; a broken one would be a
        // build problem, and then every message shows its key.
        let table: toml::Value =
            toml::from_str(lang.source()).unwrap_or(toml::Value::Table(toml::value::Table::new()));
        let mut flat = BTreeMap::new();
        flatten("", &table, &mut flat);
        let nested = serde_json::to_value(&table).unwrap_or(serde_json::Value::Null);
        Catalogue { lang, flat, nested }
    }

    /// The message for `key` (`?` when missing, which the tests rule out).
    pub fn t(&self, key: &str) -> &str {
        self.flat.get(key).map(String::as_str).unwrap_or("?")
    }

    /// The message for `key` with each `{name}` replaced by its value.
    pub fn f(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        fill(self.t(key), args)
    }

    /// The language of these messages.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Every key with its message. The English texts of the built-in controls and the score
    /// formula live with the rules (`rules::control_text`, `rules::score_formula`), so they
    /// are only here for the other languages.
    pub fn entries(&self) -> &BTreeMap<String, String> {
        &self.flat
    }

    /// The catalogue as nested tables, for templates (`{{ t.account.executive_summary }}`).
    pub fn nested(&self) -> &serde_json::Value {
        &self.nested
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The `{placeholder}` names of `text`, sorted (also for the rules' catalogue test).
    pub(crate) fn placeholders(text: &str) -> Vec<&str> {
        let mut out: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            // `{n|account|accounts}` uses `n` (for its word).
            .map(|inner| inner.split('|').next().unwrap_or(inner))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys_and_placeholders() {
        for lang in [Lang::En, Lang::Zh] {
            toml::from_str::<toml::Value>(lang.source())
                .unwrap_or_else(|e| panic!("i18n/{}.toml: {e}", lang.code()));
        }
        let en = Catalogue::get(Lang::En).entries();
        let zh = Catalogue::get(Lang::Zh).entries();
        let only_en: Vec<&String> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        // English control texts and the score formula come from the rules (checked there).
        let from_rules = |k: &str| k.starts_with("control.") || k == "method.score_formula";
        let only_zh: Vec<&String> = zh
            .keys()
            .filter(|k| !en.contains_key(*k) && !from_rules(k))
            .collect();
        assert!(only_en.is_empty(), "keys only in en.toml: {only_en:?}");
        assert!(only_zh.is_empty(), "keys only in zh.toml: {only_zh:?}");
        for (key, text) in en {
            assert!(!from_rules(key), "{key} is in en.toml but the rules own it");
            assert_eq!(
                placeholders(text),
                placeholders(&zh[key]),
                "placeholders of {key} differ"
            );
            assert!(!zh[key].trim().is_empty(), "{key} is empty in zh.toml");
        }
    }

    #[test]
    fn the_chinese_catalogue_is_chinese() {
        let zh = Catalogue::get(Lang::Zh);
        // Every message with letters in it also has Chinese, except names kept as they are
        // (product names, ids, formats).
        let kept = [
            "format.",
            "ui.tool",
            "account.uid",
            "pdf.uid_line",
            "as_of_source.option",
            // Patterns of punctuation around other texts.
            "exec.risk_line",
            "exec.score_line",
            "ui.named",
            "ui.paren",
            "vendor_std.sentence_separator",
            "vendor_std.section_state",
        ];
        for (key, text) in zh.entries() {
            if kept.iter().any(|k| key.starts_with(k)) || !text.chars().any(char::is_alphabetic) {
                continue;
            }
            assert!(
                text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "zh {key} has no Chinese: {text}"
            );
        }
    }

    #[test]
    fn fill_chooses_the_word_for_a_count() {
        let t = "{n} {n|account|accounts}, {m} of them {m|has|have} notes";
        assert_eq!(
            fill(t, &[("n", &1), ("m", &1)]),
            "1 account, 1 of them has notes"
        );
        assert_eq!(
            fill(t, &[("n", &6), ("m", &0)]),
            "6 accounts, 0 of them have notes"
        );
        // Unknown names and malformed forms stay as written.
        assert_eq!(fill("{x|a|b} {n|a}", &[("n", &1)]), "{x|a|b} {n|a}");
    }

    #[test]
    fn fill_replaces_each_placeholder_once_and_keeps_unknown_ones() {
        assert_eq!(
            fill("{a} and {b}", &[("a", &"{b}"), ("b", &2)]),
            "{b} and 2"
        );
        assert_eq!(fill("{x} {a}", &[("a", &1)]), "{x} 1");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[("a", &1)]), "open { only");
        assert_eq!(fill("中{n}文", &[("n", &3)]), "中3文");
    }

    #[test]
    fn a_message_is_written_in_the_language_it_is_rendered_in() {
        let (en, zh) = (Catalogue::get(Lang::En), Catalogue::get(Lang::Zh));
        let page = Message::key("pdf.page_of").arg("page", 3).arg("pages", 12);
        assert_eq!(page.render(en), "Page 3 of 12");
        assert_eq!(page.render(zh), "第 3 页，共 12 页");
        // An argument that is a message is written in the same language; text as it is.
        let missing = Message::key("engine.source_missing")
            .nested("what", Message::key("engine.what_credential_report"));
        assert_eq!(missing.render(en), "no credential report was found");
        assert_eq!(missing.render(zh), "未找到凭证报告");
        let joined = missing.clone().then(Message::text("{what} as is"));
        assert_eq!(
            joined.render(en),
            "no credential report was found; {what} as is"
        );
        // The separator between clauses is the language's own.
        assert_eq!(joined.render(zh), "未找到凭证报告；{what} as is");
        // Nothing is added to an empty message, and text takes no arguments.
        assert_eq!(Message::default().then(missing.clone()), missing);
        assert!(Message::default().is_empty() && !missing.is_empty());
        assert_eq!(Message::from("x").arg("n", 1), Message::from("x"));
        // A value is written as given, never searched for placeholders again.
        let odd = Message::key("engine.source_missing").arg("what", "{what}");
        assert_eq!(odd.render(en), "no {what} was found");
    }

    #[test]
    fn placeholders_are_filled() {
        let en = Catalogue::get(Lang::En);
        assert_eq!(
            en.f("pdf.page_of", &[("page", &3), ("pages", &12)]),
            "Page 3 of 12"
        );
        let zh = Catalogue::get(Lang::Zh);
        assert_eq!(
            zh.f("pdf.page_of", &[("page", &3), ("pages", &12)]),
            "第 3 页，共 12 页"
        );
    }
}
