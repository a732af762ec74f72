//! Accepted risks: the `--exceptions FILE` register (README "Accepted risks").
//!
//! Each `[[exception]]` names an account (id or glob), a control, optionally a resource glob,
//! and who accepted the risk until when. An unexpired entry turns the failures it matches into
//! `excepted`; an expired entry changes nothing and is listed as expired (with what it would
//! still cover); an unexpired entry that covers no failure is listed as stale. Expiry is
//! compared with the as-of date, never the clock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::rules::{CATALOG, Finding, Status};

/// One `[[exception]]` as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Account id, or a glob over account ids (`*`, `?`, `[...]`).
    pub account: String,
    /// Control id (see `aliaudit controls`; Security Center items are `sas.<ItemId>`).
    pub control: String,
    /// A glob over resource ids (user names, `user/access_key_1`, setting names); without
    /// it the entry covers the whole control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Who approved it.
    pub approved_by: String,
    /// Last day the acceptance holds, `YYYY-MM-DD`.
    #[serde(with = "date_text")]
    pub expires: String,
}

/// `expires` may be written as a TOML date (`2026-12-31`) or a string (`"2026-12-31"`).
mod date_text {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Date(toml::value::Datetime),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Form::deserialize(d)? {
            Form::Date(date) => date.to_string(),
            Form::Text(text) => text,
        })
    }

    pub fn serialize<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    exception: Vec<toml::Spanned<Entry>>,
}

/// An entry ready to match.
#[derive(Debug, Clone)]
struct Rule {
    entry: Entry,
    line: usize,
    account: glob::Pattern,
    resource: Option<glob::Pattern>,
    expires: NaiveDate,
}

/// The register of a run.
#[derive(Debug, Clone, Default)]
pub struct Register {
    /// The file as given, and its SHA-256.
    pub file: Option<crate::stamp::FileStamp>,
    rules: Vec<Rule>,
}

/// Errors in an exceptions file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ExceptionsError {
    path: String,
    message: String,
}

/// What one entry did to one account: the control and resource (empty for the whole
/// control) it covers, and whether the entry had expired (then nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    /// The entry, by its place in the file (0-based).
    pub entry: usize,
    /// Control id.
    pub control: String,
    /// The control's title as the finding had it (for a Security Center item, as collected),
    /// so the register can name the check.
    #[serde(default)]
    pub title: String,
    /// Resource id, or empty for the whole control.
    pub resource: String,
    /// The entry had expired: the failure stands.
    pub expired: bool,
}

impl Register {
    /// Parses an exceptions file's text. Unknown keys, bad globs, dates that are not
    /// `YYYY-MM-DD` and control ids that no built-in control has are errors.
    pub fn from_toml(text: &str, path: &str, sha256: String) -> Result<Register, ExceptionsError> {
        let err = |message: String| ExceptionsError {
            path: path.to_string(),
            message,
        };
        // Line numbers from one scan of the text: counting from the start for every entry
        // made a file of 100,000 entries take minutes.
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset);
        let form: FileForm =
            toml::from_str(text).map_err(|e| err(crate::diag::toml_error(text, &e)))?;
        let mut rules = Vec::new();
        for (n, spanned) in form.exception.into_iter().enumerate() {
            let line = line_of(spanned.span().start);
            let entry = spanned.into_inner();
            let at = format!("exception {} (line {line})", n + 1);
            let pattern = |key: &str, value: &str| {
                glob::Pattern::new(value)
                    .map_err(|e| err(format!("{at}: {key} \"{value}\" is not a valid glob: {e}")))
            };
            let account = pattern("account", &entry.account)?;
            let resource = entry
                .resource
                .as_deref()
                .map(|r| pattern("resource", r))
                .transpose()?;
            if !CATALOG.iter().any(|c| c.id == entry.control) && !entry.control.starts_with("sas.")
            {
                return Err(err(format!(
                    "{at}: control \"{}\" is not a built-in control id (see `aliaudit controls`; Security Center items are sas.<ItemId>)",
                    entry.control
                )));
            }
            let expires = NaiveDate::parse_from_str(&entry.expires, "%Y-%m-%d")
                .ok()
                .filter(|_| entry.expires.len() == 10)
                .ok_or_else(|| {
                    err(format!(
                        "{at}: expires \"{}\" is not a date (use YYYY-MM-DD)",
                        entry.expires
                    ))
                })?;
            for (key, value) in [
                ("reason", &entry.reason),
                ("owner", &entry.owner),
                ("approved_by", &entry.approved_by),
            ] {
                if value.trim().is_empty() {
                    return Err(err(format!("{at}: {key} is empty")));
                }
            }
            rules.push(Rule {
                entry,
                line,
                account,
                resource,
                expires,
            });
        }
        Ok(Register {
            file: Some(crate::stamp::FileStamp {
                path: path.to_string(),
                sha256,
            }),
            rules,
        })
    }

    /// Whether the register has no entries.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many entries the register has (a [`Hit`]'s `entry` is below this).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether entry `index` had expired at `as_of` (the entry holds through its `expires`
    /// day). Without an as-of date no entry can be shown to hold: all count as expired.
    fn expired(&self, index: usize, as_of: Option<DateTime<Utc>>) -> bool {
        as_of.is_none_or(|t| self.rules[index].expires < t.date_naive())
    }

    /// Applies the register to one account's findings: failures covered by an unexpired
    /// entry become `excepted`, with the entry added to their detail (as a message, written
    /// in a language by the outputs). Returns every match, expired entries included.
    pub fn apply(
        &self,
        account: &str,
        as_of: Option<DateTime<Utc>>,
        findings: &mut [Finding],
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.account.matches(account) {
                continue;
            }
            let expired = self.expired(index, as_of);
            let note = rule.note(index);
            for f in findings
                .iter_mut()
                .filter(|f| f.control_id == rule.entry.control && f.status == Status::Fail)
            {
                let mut covered = 0;
                for r in f.resources.iter_mut().filter(|r| {
                    r.status == Status::Fail
                        && rule.resource.as_ref().is_none_or(|p| p.matches(&r.id))
                }) {
                    covered += 1;
                    hits.push(Hit {
                        entry: index,
                        control: f.control_id.to_string(),
                        title: f.title.to_string(),
                        resource: r.id.clone(),
                        expired,
                    });
                    if !expired {
                        r.status = Status::Excepted;
                        if !r.detail.is_empty() {
                            r.detail = std::mem::take(&mut r.detail).then(note.clone());
                        }
                    }
                }
                let whole = rule.resource.is_none() && f.resources.is_empty();
                if whole {
                    hits.push(Hit {
                        entry: index,
                        control: f.control_id.to_string(),
                        title: f.title.to_string(),
                        resource: String::new(),
                        expired,
                    });
                }
                let still_failing = f.resources.iter().any(|r| r.status == Status::Fail);
                if !expired && (covered > 0 || whole) && !still_failing {
                    f.status = Status::Excepted;
                    f.detail = std::mem::take(&mut f.detail).then(note.clone());
                } else if !expired && covered > 0 {
                    // The finding still fails; its count includes what the entry covers.
                    let part = crate::i18n::Message::key("engine.partly_excepted")
                        .arg("n", covered)
                        .arg("expires", &rule.entry.expires)
                        .arg("entry", index + 1);
                    f.detail = std::mem::take(&mut f.detail).then(part);
                }
            }
        }
        hits
    }

    /// The register as printed: each entry with its matches over the whole run, in three
    /// groups. `hits` are every account's matches, as `(account id, hit)`.
    pub fn view<'a>(
        &'a self,
        as_of: Option<DateTime<Utc>>,
        hits: impl IntoIterator<Item = (&'a str, &'a Hit)>,
    ) -> RegisterView<'a> {
        let mut matches: Vec<Vec<Match<'a>>> = vec![Vec::new(); self.rules.len()];
        for (account, hit) in hits {
            matches[hit.entry].push(Match {
                account,
                control: &hit.control,
                resource: &hit.resource,
            });
        }
        let mut view = RegisterView {
            file: self.file.as_ref().map(|f| crate::stamp::shown(&f.path)),
            sha256: self.file.as_ref().map(|f| f.sha256.as_str()),
            ..RegisterView::default()
        };
        for (index, (rule, mut matches)) in self.rules.iter().zip(matches).enumerate() {
            matches.sort();
            let row = EntryView {
                number: index + 1,
                line: rule.line,
                entry: &rule.entry,
                matches,
            };
            if self.expired(index, as_of) {
                view.expired.push(row);
            } else if row.matches.is_empty() {
                view.stale.push(row);
            } else {
                view.active.push(row);
            }
        }
        view
    }
}

impl Rule {
    /// What an excepted result says of the entry (entry `index`, 0-based).
    fn note(&self, index: usize) -> crate::i18n::Message {
        crate::i18n::Message::key("engine.excepted_note")
            .arg("expires", &self.entry.expires)
            .arg("n", index + 1)
            .arg("reason", &self.entry.reason)
            .arg("owner", &self.entry.owner)
            .arg("approved_by", &self.entry.approved_by)
    }
}

/// The register for output.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterView<'a> {
    /// The exceptions file, when one was given.
    pub file: Option<String>,
    /// Its SHA-256.
    pub sha256: Option<&'a str>,
    /// Unexpired entries that cover at least one failure.
    pub active: Vec<EntryView<'a>>,
    /// Entries past their `expires` date (their matches are failures that stand).
    pub expired: Vec<EntryView<'a>>,
    /// Unexpired entries that cover no failure.
    pub stale: Vec<EntryView<'a>>,
}

/// One entry with what it covers.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView<'a> {
    /// Its place in the file (1-based).
    pub number: usize,
    /// Its line in the file.
    pub line: usize,
    /// The entry as written.
    #[serde(flatten)]
    pub entry: &'a Entry,
    /// What it covers (or, when expired, would cover).
    pub matches: Vec<Match<'a>>,
}

/// One failure an entry covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Match<'a> {
    /// Account id.
    pub account: &'a str,
    /// Control id.
    pub control: &'a str,
    /// Resource id (empty: the whole control).
    pub resource: &'a str,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::Severity;
    use crate::rules::{ResourceResult, Section};

    fn en() -> &'static crate::i18n::Catalogue {
        crate::i18n::Catalogue::get(crate::i18n::Lang::En)
    }

    fn register(text: &str) -> Result<Register, ExceptionsError> {
        Register::from_toml(text, "exceptions.toml", "00".into())
    }

    fn finding(control: &str, resources: &[(&str, Status)]) -> Finding {
        Finding {
            control_id: control.to_string().into(),
            title: "t".into(),
            severity: Severity::High,
            section: Section::CisIdentity,
            cis_v1: None,
            cis_v2: None,
            status: if resources.iter().any(|r| r.1 == Status::Fail) {
                Status::Fail
            } else {
                Status::Pass
            },
            detail: "2 of 3 users".into(),
            compensating: None,
            remediation: Default::default(),
            noun: crate::rules::Noun::Items,
            affected: None,
            scored: true,
            informational: None,
            duplicates: None,
            sources: Vec::new(),
            resources: resources
                .iter()
                .map(|(id, status)| ResourceResult {
                    id: id.to_string(),
                    status: *status,
                    detail: "no MFA".into(),
                    file: None,
                    field: None,
                })
                .collect(),
        }
    }

    fn at(date: &str) -> Option<DateTime<Utc>> {
        Some(
            NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc(),
        )
    }

    const ONE: &str = r#"
[[exception]]
account = "1234*"
control = "ram.console_mfa"
resource = "svc-*"
reason = "break-glass accounts"
owner = "Li Na"
approved_by = "CISO"
expires = 2026-12-31
"#;

    #[test]
    fn a_resource_glob_excepts_only_matching_failures() {
        let r = register(ONE).unwrap();
        let mut f = vec![finding(
            "ram.console_mfa",
            &[
                ("svc-ops", Status::Fail),
                ("alice", Status::Fail),
                ("bob", Status::Pass),
            ],
        )];
        let hits = r.apply("123456", at("2026-09-30"), &mut f);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].resource, "svc-ops");
        assert!(!hits[0].expired);
        assert_eq!(f[0].resources[0].status, Status::Excepted);
        assert!(
            f[0].resources[0]
                .detail
                .render(en())
                .contains("approved by: CISO")
        );
        assert_eq!(f[0].resources[1].status, Status::Fail);
        // alice still fails, so the control does, and says which of its failures is covered.
        assert_eq!(f[0].status, Status::Fail);
        let detail = f[0].detail.render(en());
        assert!(
            detail.ends_with("; 1 of them is an accepted risk until 2026-12-31 (exception 1)"),
            "{detail}"
        );
    }

    #[test]
    fn a_control_is_excepted_when_every_failure_is_covered() {
        let r = register(ONE).unwrap();
        let mut f = vec![finding(
            "ram.console_mfa",
            &[("svc-ops", Status::Fail), ("svc-etl", Status::Fail)],
        )];
        r.apply("1234", at("2026-12-31"), &mut f);
        assert_eq!(f[0].status, Status::Excepted);
        assert!(
            f[0].detail
                .render(en())
                .starts_with("2 of 3 users; excepted until 2026-12-31 by exception 1")
        );
    }

    #[test]
    fn an_expired_entry_changes_nothing_but_reports_what_it_would_cover() {
        let r = register(ONE).unwrap();
        let mut f = vec![finding("ram.console_mfa", &[("svc-ops", Status::Fail)])];
        let before = f.clone();
        let hits = r.apply("1234", at("2027-01-01"), &mut f);
        assert_eq!(f, before);
        assert!(hits[0].expired);
        let view = r.view(at("2027-01-01"), hits.iter().map(|h| ("1234", h)));
        assert_eq!(view.expired.len(), 1);
        assert_eq!(view.expired[0].matches.len(), 1);
        assert!(view.active.is_empty() && view.stale.is_empty());
    }

    #[test]
    fn entries_for_other_accounts_or_passing_controls_are_stale() {
        let r = register(ONE).unwrap();
        let mut f = vec![finding("ram.console_mfa", &[("svc-ops", Status::Fail)])];
        assert!(r.apply("999", at("2026-09-30"), &mut f).is_empty());
        let mut passing = vec![finding("ram.console_mfa", &[("svc-ops", Status::Pass)])];
        assert!(r.apply("1234", at("2026-09-30"), &mut passing).is_empty());
        let view = r.view(at("2026-09-30"), std::iter::empty());
        assert_eq!(view.stale.len(), 1);
        assert_eq!(view.stale[0].line, 2);
    }

    #[test]
    fn without_an_as_of_date_no_entry_holds() {
        let r = register(ONE).unwrap();
        let mut f = vec![finding("ram.console_mfa", &[("svc-ops", Status::Fail)])];
        let hits = r.apply("1234", None, &mut f);
        assert!(hits[0].expired);
        assert_eq!(f[0].status, Status::Fail);
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_a_register_or_an_error_not_a_panic(text in "\\PC{0,300}") {
            let _ = register(&text);
        }

        #[test]
        fn damaged_files_give_a_register_or_an_error_not_a_panic(cut in 0usize..400, at in 0usize..400, c in proptest::prelude::any::<char>()) {
            let mut text: Vec<char> = ONE.chars().collect();
            if at < text.len() {
                text[at] = c;
            }
            text.truncate(cut.min(text.len()));
            let _ = register(&text.into_iter().collect::<String>());
        }
    }

    #[test]
    fn bad_files_name_the_entry_and_the_key() {
        let cases = [
            (ONE.replace("owner", "ownr"), "unknown field `ownr`"),
            (
                ONE.replace("2026-12-31", "\"2026-13-01\""),
                "exception 1 (line 2): expires \"2026-13-01\" is not a date (use YYYY-MM-DD)",
            ),
            (ONE.replace("2026-12-31", "\"31/12/2026\""), "is not a date"),
            (
                ONE.replace("ram.console_mfa", "ram.mfa"),
                "control \"ram.mfa\" is not a built-in control id",
            ),
            (
                ONE.replace("svc-*", "svc-[a"),
                "resource \"svc-[a\" is not a valid glob",
            ),
            (ONE.replace("\"CISO\"", "\" \""), "approved_by is empty"),
            (
                ONE.replace("reason = \"break-glass accounts\"\n", ""),
                "missing field `reason`",
            ),
        ];
        for (text, expected) in cases {
            let e = register(&text).unwrap_err().to_string();
            assert!(e.starts_with("exceptions.toml: "), "{e}");
            assert!(e.contains(expected), "{e} lacks {expected}");
        }
        assert!(register("").unwrap().is_empty());
        assert!(
            register("expires = 1")
                .unwrap_err()
                .to_string()
                .contains("unknown field `expires`")
        );
    }
}
