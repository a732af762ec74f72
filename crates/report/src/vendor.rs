//! The "Security Center standards" section of the account, customer and portfolio pages (HTML
//! and PDF): Security Center's own checks grouped under the standards and requirements the
//! vendor reports them against ([`aliaudit_core::sas_standards`]), with the evidence date. An
//! account's table counts each requirement's checks; a group's (customer, portfolio) counts the
//! accounts passing and failing it.
//!
//! Names are the vendor's, as collected, whatever the report language. Without such evidence
//! the view is `None` and the pages say nothing of the vendor's standards.

use serde::Serialize;

use aliaudit_core::i18n::Catalogue;
use aliaudit_core::rules::Status;
use aliaudit_core::sas_standards::{
    self, CheckState, PortfolioStandard, StandardRollup, Tally, VendorStandards,
};

/// The whole section.
#[derive(Debug, Clone, Serialize)]
pub struct VendorView {
    /// What the section shows and how it is matched, in the report language.
    pub lead: String,
    /// The evidence date, in words.
    pub checked: String,
    /// The evidence files (an account) or how many accounts have such evidence (a group).
    pub source: String,
    /// Whether the rows count accounts (a customer or the portfolio) rather than checks.
    pub per_account: bool,
    /// The standards, by id then name.
    pub standards: Vec<StandardView>,
}

/// One standard.
#[derive(Debug, Clone, Serialize)]
pub struct StandardView {
    /// The HTML anchor of its heading (`sc-<n>`: names are the vendor's, not ours).
    pub anchor: String,
    /// Its name as collected, with the vendor's id.
    pub name: String,
    /// Its result's label.
    pub status_label: String,
    /// The colour of its badge.
    pub tone: Status,
    /// Its type when a catalogue names it, then its requirements and checks (an account) or
    /// its accounts (a group) per result, in words.
    pub results: String,
    /// Its requirements, by id then name.
    pub requirements: Vec<VendorRequirementRow>,
}

/// One requirement's row.
#[derive(Debug, Clone, Serialize)]
pub struct VendorRequirementRow {
    /// The vendor's id, or `-`.
    pub id: String,
    /// Its name as collected.
    pub name: String,
    /// An account's sections with their results, in words (empty for a group, or none).
    pub sections: String,
    /// Its result's label.
    pub status_label: String,
    /// The colour of its badge.
    pub tone: Status,
    /// An account: its checks per result; a group: its accounts passing and failing it.
    pub counts: String,
    /// An account: the vendor's ids of its checks ("Check ids: 5001, 5002"), which the
    /// account's Security Center findings carry as `sas.cspm.<id>`; empty for a group.
    pub check_ids: String,
    /// An account: when Security Center last checked it; a group: empty.
    pub checked: String,
}

/// The colour of a check state.
fn tone(state: CheckState) -> Status {
    match state {
        CheckState::Pass => Status::Pass,
        CheckState::Fail => Status::Fail,
        CheckState::Accepted => Status::Excepted,
        CheckState::NotChecked => Status::NotEvaluable,
    }
}

fn state_key(state: CheckState) -> &'static str {
    match state {
        CheckState::Pass => "vendor_state.pass",
        CheckState::Fail => "vendor_state.fail",
        CheckState::Accepted => "vendor_state.accepted",
        CheckState::NotChecked => "vendor_state.not_checked",
    }
}

fn label(c: &Catalogue, state: CheckState) -> String {
    c.t(state_key(state)).to_string()
}

/// `2026-09-21 14:13 UTC` of an RFC 3339 time (the text itself if it does not parse).
fn date(c: &Catalogue, rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format(c.t("format.date_time"))
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "-".into(), |i| i.to_string())
}

/// The non-zero counts of `t`, each in words with the key of its state (pass, fail,
/// accepted, not checked), joined as the report language lists.
fn counts(c: &Catalogue, t: &Tally, keys: [&str; 4]) -> String {
    [t.pass, t.fail, t.accepted, t.not_checked]
        .iter()
        .zip(keys)
        .filter(|(n, _)| **n > 0)
        .map(|(n, key)| c.f(key, &[("n", n)]))
        .collect::<Vec<_>>()
        .join(c.t("vendor_std.list_separator"))
}

/// "1 pass, 1 fail, 2 not checked": the non-zero counts, or "no result".
fn tally_text(c: &Catalogue, t: &Tally) -> String {
    let keys = [
        "vendor_std.n_pass",
        "vendor_std.n_fail",
        "vendor_std.n_accepted",
        "vendor_std.n_not_checked",
    ];
    if t.total() == 0 {
        c.t("vendor_std.no_checks").to_string()
    } else {
        counts(c, t, keys)
    }
}

/// "Type: Compliance." of a catalogue's `Type`, or empty without one.
fn kind_text(c: &Catalogue, kind: Option<&str>) -> String {
    let kind = match kind {
        Some(k @ ("RISK" | "IDENTITY_PERMISSION" | "COMPLIANCE")) => c
            .t(&format!("vendor_std.kind_{}", k.to_ascii_lowercase()))
            .to_string(),
        Some(other) => other.to_string(),
        None => return String::new(),
    };
    c.f("vendor_std.kind", &[("kind", &kind)])
}

/// Sentences joined as the report language joins them (a space in English, nothing in
/// Chinese); empty ones are left out.
pub fn sentences(c: &Catalogue, parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .fold(String::new(), |text, next| {
            if text.is_empty() {
                next.clone()
            } else {
                c.f(
                    "vendor_std.sentence_separator",
                    &[("first", &text), ("next", next)],
                )
            }
        })
}

/// "The evidence gives this standard no id", or empty when it has one.
fn no_id(c: &Catalogue, id: Option<i64>) -> String {
    if id.is_some() {
        String::new()
    } else {
        c.t("vendor_std.no_id").to_string()
    }
}

/// The note on requirement ids that appear under more than one name, or empty.
fn same_ids(c: &Catalogue, ids: impl IntoIterator<Item = Option<i64>>) -> String {
    let mut seen = std::collections::BTreeMap::<i64, usize>::new();
    for id in ids.into_iter().flatten() {
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<String> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id.to_string())
        .collect();
    if twice.is_empty() {
        String::new()
    } else {
        c.f(
            "vendor_std.same_id",
            &[
                ("n", &twice.len()),
                ("ids", &twice.join(c.t("vendor_std.list_separator"))),
            ],
        )
    }
}

fn name_with_id(c: &Catalogue, name: &str, id: Option<i64>) -> String {
    match id {
        Some(id) => c.f("vendor_std.name_id", &[("name", &name), ("id", &id)]),
        None => name.to_string(),
    }
}

fn standard(c: &Catalogue, index: usize, s: &StandardRollup) -> StandardView {
    StandardView {
        anchor: format!("sc-{}", index + 1),
        name: name_with_id(c, &s.name, s.id),
        status_label: label(c, s.status),
        tone: tone(s.status),
        results: sentences(
            c,
            &[
                no_id(c, s.id),
                kind_text(c, s.kind.as_deref()),
                c.f(
                    "vendor_std.results",
                    &[
                        ("requirements", &tally_text(c, &s.requirements_by_status)),
                        ("checks", &tally_text(c, &s.checks)),
                    ],
                ),
                same_ids(c, s.requirements.iter().map(|r| r.id)),
            ],
        ),
        requirements: s
            .requirements
            .iter()
            .map(|r| VendorRequirementRow {
                id: id_text(r.id),
                name: r.name.clone(),
                sections: r
                    .sections
                    .iter()
                    .map(|x| {
                        c.f(
                            "vendor_std.section_state",
                            &[("name", &x.name), ("state", &label(c, x.status))],
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(c.t("vendor_std.list_separator")),
                check_ids: if r.check_ids.is_empty() {
                    String::new()
                } else {
                    c.f(
                        "vendor_std.check_ids",
                        &[(
                            "ids",
                            &r.check_ids
                                .iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(c.t("vendor_std.list_separator")),
                        )],
                    )
                },
                status_label: label(c, r.status),
                tone: tone(r.status),
                counts: tally_text(c, &r.checks),
                checked: r
                    .checked
                    .as_deref()
                    .map_or_else(|| "-".into(), |t| date(c, t)),
            })
            .collect(),
    }
}

/// The section of one account; `None` when its evidence says nothing of the vendor's
/// standards.
pub fn account(c: &Catalogue, v: Option<&VendorStandards>) -> Option<VendorView> {
    let v = v?;
    Some(VendorView {
        lead: c.t("vendor_std.lead").to_string(),
        checked: match &v.checked {
            Some(t) => c.f("vendor_std.checked", &[("date", &date(c, t))]),
            None => c.t("vendor_std.checked_none").to_string(),
        },
        source: c.f(
            "vendor_std.files",
            &[("files", &v.files.join(c.t("exec.also")))],
        ),
        per_account: false,
        standards: v
            .standards
            .iter()
            .enumerate()
            .map(|(i, s)| standard(c, i, s))
            .collect(),
    })
}

/// "3 passing, 1 failing, of the 4 accounts reporting it" of a group's tally.
fn accounts_text(c: &Catalogue, t: &Tally) -> String {
    let keys = [
        "vendor_std.accounts_passing",
        "vendor_std.accounts_failing",
        "vendor_std.accounts_accepted",
        "vendor_std.accounts_not_checked",
    ];
    c.f(
        "vendor_std.accounts_of",
        &[("parts", &counts(c, t, keys)), ("n", &t.total())],
    )
}

fn group_standard(c: &Catalogue, index: usize, s: &PortfolioStandard) -> StandardView {
    let status = s.accounts.state();
    StandardView {
        anchor: format!("sc-{}", index + 1),
        name: name_with_id(c, &s.name, s.id),
        status_label: label(c, status),
        tone: tone(status),
        results: sentences(
            c,
            &[
                no_id(c, s.id),
                c.f(
                    "vendor_std.results_group",
                    &[("accounts", &accounts_text(c, &s.accounts))],
                ),
                same_ids(c, s.requirements.iter().map(|r| r.id)),
            ],
        ),
        requirements: s
            .requirements
            .iter()
            .map(|r| {
                let status = r.accounts.state();
                VendorRequirementRow {
                    id: id_text(r.id),
                    name: r.name.clone(),
                    sections: String::new(),
                    check_ids: String::new(),
                    status_label: label(c, status),
                    tone: tone(status),
                    counts: accounts_text(c, &r.accounts),
                    checked: String::new(),
                }
            })
            .collect(),
    }
}

/// The section of a group of `members` accounts, from those of their roll-ups there are;
/// `None` when no account has such evidence.
pub fn group<'a>(
    c: &Catalogue,
    members: usize,
    accounts: impl IntoIterator<Item = &'a VendorStandards>,
) -> Option<VendorView> {
    let accounts: Vec<&VendorStandards> = accounts.into_iter().collect();
    if accounts.is_empty() {
        return None;
    }
    let times = accounts.iter().filter_map(|a| a.checked.as_deref());
    let first = times.clone().min();
    let last = times.max();
    Some(VendorView {
        lead: c.t("vendor_std.lead_group").to_string(),
        checked: match (first, last) {
            (Some(a), Some(b)) if a == b => c.f("vendor_std.checked", &[("date", &date(c, a))]),
            (Some(a), Some(b)) => c.f(
                "vendor_std.checked_range",
                &[("first", &date(c, a)), ("last", &date(c, b))],
            ),
            _ => c.t("vendor_std.checked_none").to_string(),
        },
        source: c.f(
            "vendor_std.accounts_with",
            &[("n", &accounts.len()), ("total", &members)],
        ),
        per_account: true,
        standards: sas_standards::portfolio(accounts.iter().copied())
            .iter()
            .enumerate()
            .map(|(i, s)| group_standard(c, i, s))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aliaudit_core::i18n::Lang;
    use aliaudit_core::sas_standards::{RequirementRollup, SectionRollup};

    fn tally(pass: u64, fail: u64, accepted: u64, not_checked: u64) -> Tally {
        Tally {
            pass,
            fail,
            accepted,
            not_checked,
        }
    }

    fn requirement(id: i64, name: &str, checks: Tally, ids: Vec<i64>) -> RequirementRollup {
        RequirementRollup {
            id: Some(id),
            name: name.into(),
            status: checks.state(),
            checks,
            checked: (!ids.is_empty()).then(|| "2026-09-21T14:13:25Z".to_string()),
            check_ids: ids,
            sections: vec![SectionRollup {
                id: Some(id * 10),
                name: "Keys".into(),
                status: checks.state(),
                checks,
            }],
        }
    }

    fn account_rollup(fail: bool) -> VendorStandards {
        let keys = if fail {
            requirement(71, "Key hygiene", tally(1, 1, 0, 0), vec![1, 2])
        } else {
            requirement(71, "Key hygiene", tally(1, 0, 0, 0), vec![1])
        };
        let audit = requirement(72, "Audit trail", tally(0, 0, 0, 0), vec![]);
        let by_status = Tally {
            pass: u64::from(!fail),
            fail: u64::from(fail),
            accepted: 0,
            not_checked: 1,
        };
        VendorStandards {
            checked: Some(if fail {
                "2026-09-21T14:13:25Z".into()
            } else {
                "2026-08-01T00:00:00Z".into()
            }),
            files: vec!["acme/prod/check-result-p001.json".into()],
            standards: vec![StandardRollup {
                id: Some(7),
                name: "Identity Baseline".into(),
                kind: Some("COMPLIANCE".into()),
                status: by_status.state(),
                checks: keys.checks,
                requirements_by_status: by_status,
                requirements: vec![keys, audit],
            }],
        }
    }

    #[test]
    fn an_account_shows_each_requirement_with_its_checks_and_the_evidence_date() {
        assert!(account(Catalogue::get(Lang::En), None).is_none());
        let rollup = account_rollup(true);
        let c = Catalogue::get(Lang::En);
        let v = account(c, Some(&rollup)).expect("a view");
        assert_eq!(
            v.checked,
            "Evidence date: the newest Security Center check in this evidence ran on 2026-09-21 14:13 UTC; each requirement's last check is in its row."
        );
        assert_eq!(v.source, "From: acme/prod/check-result-p001.json.");
        let s = &v.standards[0];
        assert_eq!(s.name, "Identity Baseline (id 7)");
        assert_eq!(s.status_label, "Fail");
        assert_eq!(
            s.results,
            "Type: Compliance. Requirements: 1 fail, 1 not checked. Checks, each counted once although one can serve several requirements: 1 pass, 1 fail."
        );
        let rows: Vec<(&str, &str, &str, &str)> = s
            .requirements
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.status_label.as_str(),
                    r.counts.as_str(),
                    r.checked.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("71", "Fail", "1 pass, 1 fail", "2026-09-21 14:13 UTC"),
                ("72", "Not checked", "no result", "-"),
            ]
        );
        assert_eq!(s.requirements[0].sections, "Keys (Fail)");
        assert_eq!(s.requirements[0].check_ids, "Check ids: 1, 2");
        assert!(s.requirements[1].check_ids.is_empty());
        let zh = account(Catalogue::get(Lang::Zh), Some(&rollup)).expect("a view");
        assert_eq!(zh.standards[0].requirements[1].status_label, "未检查");
        assert!(
            zh.standards[0]
                .results
                .starts_with("类型：安全合规。要求项："),
            "{}",
            zh.standards[0].results
        );
    }

    #[test]
    fn a_group_counts_accounts_and_gives_the_range_of_evidence_dates() {
        let c = Catalogue::get(Lang::En);
        assert!(group(c, 3, []).is_none());
        let (a, b) = (account_rollup(true), account_rollup(false));
        let v = group(c, 3, [&a, &b]).expect("a view");
        assert_eq!(
            v.checked,
            "Evidence dates: the accounts' newest Security Center checks ran between 2026-08-01 00:00 UTC and 2026-09-21 14:13 UTC."
        );
        assert_eq!(
            v.source,
            "2 of 3 accounts have Security Center standards in their evidence."
        );
        let s = &v.standards[0];
        assert_eq!(s.status_label, "Fail");
        assert_eq!(
            s.requirements[0].counts,
            "1 passing, 1 failing, of the 2 accounts reporting it"
        );
        assert_eq!(
            s.requirements[1].counts,
            "2 not checked, of the 2 accounts reporting it"
        );
        assert!(s.requirements.iter().all(|r| r.checked.is_empty()));
    }
}
