//! Roll-ups of Security Center's own standards: per account, the vendor's standards, their
//! requirements and sections with the pass and fail counts of the checks under each
//! ([`account`]); across accounts, per standard and requirement, how many accounts pass and
//! fail ([`portfolio`]).
//!
//! A check counts by its `ListCheckResult` status: `PASS` passes, `NOT_PASS`/`FAILED` fails,
//! `WHITELIST` is accepted in Security Center, and `CHECKING`, `NOT_CHECK` or an unknown value
//! is not checked. A requirement fails if any of its checks fails, else is accepted if any is
//! accepted, else passes if any passes, else is not checked; a requirement the catalogue
//! names (`GetCheckStructure`, `ListCheckStandard`) with no result is not checked. Places are
//! matched on the vendor's id together with its name (ids are not documented as stable).
//! Everything is ordered by id then name, so the output is the same whatever the thread
//! count or the page order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Named, SasStatus, VendorCatalogue};

/// What one check says, for these roll-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// `PASS`.
    Pass,
    /// `NOT_PASS` or `FAILED`.
    Fail,
    /// `WHITELIST`: accepted in Security Center.
    Accepted,
    /// `CHECKING`, `NOT_CHECK`, an unknown value, or no result at all.
    NotChecked,
}

impl CheckState {
    /// The state of a `ListCheckResult` status.
    pub fn of(status: &SasStatus) -> CheckState {
        match status {
            SasStatus::Pass => CheckState::Pass,
            SasStatus::Failed => CheckState::Fail,
            SasStatus::Ignored | SasStatus::FalsePositive => CheckState::Accepted,
            _ => CheckState::NotChecked,
        }
    }
}

/// Checks (or accounts, or requirements) per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Passing.
    pub pass: u64,
    /// Failing.
    pub fail: u64,
    /// Accepted in Security Center.
    pub accepted: u64,
    /// Not checked.
    pub not_checked: u64,
}

impl Tally {
    fn add(&mut self, state: CheckState) {
        match state {
            CheckState::Pass => self.pass += 1,
            CheckState::Fail => self.fail += 1,
            CheckState::Accepted => self.accepted += 1,
            CheckState::NotChecked => self.not_checked += 1,
        }
    }

    fn of(states: impl IntoIterator<Item = CheckState>) -> Tally {
        let mut t = Tally::default();
        for s in states {
            t.add(s);
        }
        t
    }

    /// The state of a group with these counts: fail if any fails, else accepted if any is
    /// accepted, else pass if any passes, else not checked.
    pub fn state(&self) -> CheckState {
        if self.fail > 0 {
            CheckState::Fail
        } else if self.accepted > 0 {
            CheckState::Accepted
        } else if self.pass > 0 {
            CheckState::Pass
        } else {
            CheckState::NotChecked
        }
    }

    /// The sum of the counts.
    pub fn total(&self) -> u64 {
        // Saturating: a damaged shard file may hold any counts.
        self.pass
            .saturating_add(self.fail)
            .saturating_add(self.accepted)
            .saturating_add(self.not_checked)
    }
}

/// `vendor_standards` of an account: Security Center's standards as its evidence gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorStandards {
    /// The newest `LastCheckTime` of the checks counted, RFC 3339 (the evidence date).
    pub checked: Option<String>,
    /// The evidence files read: result pages with `CheckPolicies`, catalogue responses.
    pub files: Vec<String>,
    /// Standards, by id then name.
    pub standards: Vec<StandardRollup>,
}

/// One standard of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardRollup {
    /// The vendor's id.
    pub id: Option<i64>,
    /// The vendor's name, as collected.
    pub name: String,
    /// The catalogue's `Type`, when a catalogue names it.
    pub kind: Option<String>,
    /// The state rolled up from its requirements.
    pub status: CheckState,
    /// Its checks per state, each check once.
    pub checks: Tally,
    /// Its requirements per state.
    pub requirements_by_status: Tally,
    /// Requirements, by id then name.
    pub requirements: Vec<RequirementRollup>,
}

/// One requirement of a standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementRollup {
    /// The vendor's id.
    pub id: Option<i64>,
    /// The vendor's name, as collected.
    pub name: String,
    /// The state rolled up from its checks; `not_checked` without any result.
    pub status: CheckState,
    /// Its checks per state.
    pub checks: Tally,
    /// The newest `LastCheckTime` of its checks, RFC 3339.
    pub checked: Option<String>,
    /// The `CheckId`s counted, ascending.
    pub check_ids: Vec<i64>,
    /// Sections, by id then name.
    pub sections: Vec<SectionRollup>,
}

/// One section of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRollup {
    /// The vendor's id.
    pub id: Option<i64>,
    /// The vendor's name, as collected.
    pub name: String,
    /// The state rolled up from its checks.
    pub status: CheckState,
    /// Its checks per state.
    pub checks: Tally,
}

#[derive(Default)]
struct ReqAcc {
    checks: BTreeMap<i64, CheckState>,
    checked: Option<chrono::DateTime<chrono::Utc>>,
    sections: BTreeMap<Named, BTreeMap<i64, CheckState>>,
}

#[derive(Default)]
struct StdAcc {
    kind: Option<String>,
    requirements: BTreeMap<Named, ReqAcc>,
}

/// The roll-up of one account; `None` when its evidence says nothing of the vendor's
/// standards.
pub fn account(catalogue: &VendorCatalogue) -> Option<VendorStandards> {
    if catalogue.is_empty() {
        return None;
    }
    let mut standards: BTreeMap<Named, StdAcc> = BTreeMap::new();
    for (name, standard) in &catalogue.standards {
        let acc = standards.entry(name.clone()).or_default();
        acc.kind.clone_from(&standard.kind);
        for (rname, requirement) in &standard.requirements {
            let r = acc.requirements.entry(rname.clone()).or_default();
            for section in &requirement.sections {
                r.sections.entry(section.clone()).or_default();
            }
        }
    }
    let mut newest = None;
    for check in &catalogue.checks {
        let state = CheckState::of(&check.status);
        newest = newest.max(check.checked);
        for place in &check.places {
            let r = standards
                .entry(place.standard.clone())
                .or_default()
                .requirements
                .entry(place.requirement.clone())
                .or_default();
            r.checks.insert(check.check_id, state);
            r.checked = r.checked.max(check.checked);
            if let Some(section) = &place.section {
                r.sections
                    .entry(section.clone())
                    .or_default()
                    .insert(check.check_id, state);
            }
        }
    }
    let standards = standards
        .into_iter()
        .map(|(name, acc)| {
            let mut all: BTreeMap<i64, CheckState> = BTreeMap::new();
            let requirements: Vec<RequirementRollup> = acc
                .requirements
                .into_iter()
                .map(|(rname, r)| {
                    all.extend(r.checks.iter().map(|(k, v)| (*k, *v)));
                    let checks = Tally::of(r.checks.values().copied());
                    RequirementRollup {
                        id: rname.id,
                        name: rname.name,
                        status: checks.state(),
                        checks,
                        checked: r.checked.map(crate::text::rfc3339),
                        check_ids: r.checks.keys().copied().collect(),
                        sections: r
                            .sections
                            .into_iter()
                            .map(|(sname, s)| {
                                let checks = Tally::of(s.values().copied());
                                SectionRollup {
                                    id: sname.id,
                                    name: sname.name,
                                    status: checks.state(),
                                    checks,
                                }
                            })
                            .collect(),
                    }
                })
                .collect();
            let requirements_by_status = Tally::of(requirements.iter().map(|r| r.status));
            StandardRollup {
                id: name.id,
                name: name.name,
                kind: acc.kind,
                status: requirements_by_status.state(),
                checks: Tally::of(all.values().copied()),
                requirements_by_status,
                requirements,
            }
        })
        .collect();
    Some(VendorStandards {
        checked: newest.map(crate::text::rfc3339),
        files: catalogue.files.clone(),
        standards,
    })
}

/// `portfolio.vendor_standards[]`: one standard across the accounts that have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortfolioStandard {
    /// The vendor's id.
    pub id: Option<i64>,
    /// The vendor's name.
    pub name: String,
    /// Accounts per state of the standard.
    pub accounts: Tally,
    /// Requirements, by id then name.
    pub requirements: Vec<PortfolioRequirement>,
}

/// One requirement across the accounts that have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortfolioRequirement {
    /// The vendor's id.
    pub id: Option<i64>,
    /// The vendor's name.
    pub name: String,
    /// Accounts per state of the requirement.
    pub accounts: Tally,
}

/// The portfolio roll-up over the accounts' roll-ups (in any order: the result is sorted).
pub fn portfolio<'a>(
    accounts: impl IntoIterator<Item = &'a VendorStandards>,
) -> Vec<PortfolioStandard> {
    type Key = (Option<i64>, String);
    let mut standards: BTreeMap<Key, (Tally, BTreeMap<Key, Tally>)> = BTreeMap::new();
    for account in accounts {
        // Each account once per standard, even if its evidence named it twice.
        let mut seen = BTreeSet::new();
        for s in &account.standards {
            let key = (s.id, s.name.clone());
            if !seen.insert(key.clone()) {
                continue;
            }
            let (tally, requirements) = standards.entry(key).or_default();
            tally.add(s.status);
            for r in &s.requirements {
                requirements
                    .entry((r.id, r.name.clone()))
                    .or_default()
                    .add(r.status);
            }
        }
    }
    standards
        .into_iter()
        .map(|((id, name), (accounts, requirements))| PortfolioStandard {
            id,
            name,
            accounts,
            requirements: requirements
                .into_iter()
                .map(|((id, name), accounts)| PortfolioRequirement { id, name, accounts })
                .collect(),
        })
        .collect()
}

/// Why a roll-up read back from a shard file is not one this build writes, if it is not:
/// every count must add up (each requirement's checks are its check ids, each standard's
/// requirement counts are its requirements) and every state must follow from its counts.
pub fn check(v: &VendorStandards) -> Result<(), String> {
    for s in &v.standards {
        let by_status = Tally::of(s.requirements.iter().map(|r| r.status));
        if by_status != s.requirements_by_status || s.status != by_status.state() {
            return Err(format!(
                "standard {:?}: its requirement counts or state do not follow from its requirements",
                s.name
            ));
        }
        let mut ids = BTreeSet::new();
        for r in &s.requirements {
            if r.checks.total() != r.check_ids.len() as u64 || r.status != r.checks.state() {
                return Err(format!(
                    "requirement {:?}: its counts, check ids and state disagree",
                    r.name
                ));
            }
            if r.check_ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!(
                    "requirement {:?}: its check ids are not in ascending order",
                    r.name
                ));
            }
            if r.sections.iter().any(|x| x.status != x.checks.state()) {
                return Err(format!(
                    "requirement {:?}: a section's state does not follow from its counts",
                    r.name
                ));
            }
            ids.extend(r.check_ids.iter().copied());
        }
        if s.checks.total() != ids.len() as u64 {
            return Err(format!(
                "standard {:?}: its check count is not the number of its checks",
                s.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CatalogueRequirement, CatalogueStandard, CheckPlace, PlacedCheck};

    fn named(id: i64, name: &str) -> Named {
        Named {
            id: Some(id),
            name: name.into(),
        }
    }

    fn placed(id: i64, status: SasStatus, places: &[(i64, &str, i64, &str)]) -> PlacedCheck {
        PlacedCheck {
            check_id: id,
            status,
            checked: chrono::DateTime::from_timestamp(1_790_000_000 + id, 0),
            places: places
                .iter()
                .map(|(si, sn, ri, rn)| CheckPlace {
                    standard: named(*si, sn),
                    requirement: named(*ri, rn),
                    section: Some(named(ri * 10, "Sec")),
                })
                .collect(),
        }
    }

    fn sample() -> VendorCatalogue {
        let mut catalogue = VendorCatalogue {
            checks: vec![
                placed(1, SasStatus::Pass, &[(7, "Std", 71, "Keys")]),
                placed(2, SasStatus::Failed, &[(7, "Std", 71, "Keys")]),
                placed(3, SasStatus::Ignored, &[(7, "Std", 72, "MFA")]),
                placed(4, SasStatus::NotChecked, &[(7, "Std", 73, "Logs")]),
                // The same id with another name is another requirement.
                placed(
                    5,
                    SasStatus::Pass,
                    &[(7, "Std", 74, "Net"), (7, "Std", 74, "Net2")],
                ),
            ],
            ..VendorCatalogue::default()
        };
        let mut standard = CatalogueStandard {
            kind: Some("COMPLIANCE".into()),
            ..CatalogueStandard::default()
        };
        standard
            .requirements
            .insert(named(75, "Unused"), CatalogueRequirement::default());
        standard
            .requirements
            .insert(named(71, "Keys"), CatalogueRequirement::default());
        catalogue.standards.insert(named(7, "Std"), standard);
        catalogue
    }

    #[test]
    fn requirements_roll_up_from_their_checks_and_the_catalogue() {
        let v = account(&sample()).expect("a roll-up");
        assert_eq!(v.standards.len(), 1);
        let s = &v.standards[0];
        assert_eq!(s.kind.as_deref(), Some("COMPLIANCE"));
        let got: Vec<(Option<i64>, &str, CheckState, u64, u64)> = s
            .requirements
            .iter()
            .map(|r| {
                (
                    r.id,
                    r.name.as_str(),
                    r.status,
                    r.checks.pass,
                    r.checks.fail,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(71), "Keys", CheckState::Fail, 1, 1),
                (Some(72), "MFA", CheckState::Accepted, 0, 0),
                (Some(73), "Logs", CheckState::NotChecked, 0, 0),
                (Some(74), "Net", CheckState::Pass, 1, 0),
                (Some(74), "Net2", CheckState::Pass, 1, 0),
                (Some(75), "Unused", CheckState::NotChecked, 0, 0),
            ]
        );
        assert!(s.requirements[5].check_ids.is_empty());
        // Check 5 counts once for the standard although it sits in two requirements.
        assert_eq!(
            s.checks,
            Tally {
                pass: 2,
                fail: 1,
                accepted: 1,
                not_checked: 1
            }
        );
        assert_eq!(
            s.requirements_by_status,
            Tally {
                pass: 2,
                fail: 1,
                accepted: 1,
                not_checked: 2
            }
        );
        assert_eq!(s.status, CheckState::Fail);
        assert_eq!(v.checked.as_deref(), Some("2026-09-21T14:13:25Z"));
        assert_eq!(check(&v), Ok(()));
    }

    #[test]
    fn the_portfolio_counts_accounts_per_requirement() {
        let a = account(&sample()).expect("a roll-up");
        let mut passing = sample();
        passing.checks.retain(|c| c.check_id != 2);
        let b = account(&passing).expect("a roll-up");
        let p = portfolio([&a, &b, &a]);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].accounts,
            Tally {
                pass: 0,
                fail: 2,
                accepted: 1,
                not_checked: 0
            }
        );
        let keys = &p[0].requirements[0];
        assert_eq!((keys.id, keys.name.as_str()), (Some(71), "Keys"));
        assert_eq!((keys.accounts.pass, keys.accounts.fail), (1, 2));
    }

    #[test]
    fn nothing_to_say_is_none_and_tampered_counts_are_refused() {
        assert_eq!(account(&VendorCatalogue::default()), None);
        let mut v = account(&sample()).expect("a roll-up");
        v.standards[0].requirements[0].checks.pass += 1;
        assert!(check(&v).is_err());
        let mut v = account(&sample()).expect("a roll-up");
        v.standards[0].status = CheckState::Pass;
        assert!(check(&v).is_err());
    }
}
