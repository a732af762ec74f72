//! Aggregate stage: rolls per-account results up into a [`PortfolioSummary`].
//!
//! The merge is associative and commutative on integers only, so the portfolio is the same
//! whatever order or thread count produced the accounts. It reads no evidence.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::Account;
use crate::score::Score;

use crate::rules::Status;

/// Accounts per state of one control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ControlTally {
    /// Accounts where it passed.
    pub pass: u64,
    /// Accounts where it failed.
    pub fail: u64,
    /// Accounts where it was excepted.
    pub excepted: u64,
    /// Accounts where it did not apply.
    pub not_applicable: u64,
    /// Accounts where it could not be evaluated.
    pub not_evaluable: u64,
}

impl ControlTally {
    /// Counts one account's result.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Excepted => self.excepted += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::NotEvaluable => self.not_evaluable += 1,
        }
    }

    fn merge(&mut self, other: &ControlTally) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.excepted += other.excepted;
        self.not_applicable += other.not_applicable;
        self.not_evaluable += other.not_evaluable;
    }
}

/// Completeness of an account's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// All five evidence kinds present and accepted.
    Complete,
    /// Some missing or rejected, something evaluated.
    Partial,
    /// Nothing usable.
    Failed,
}

impl AccountStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Complete => "complete",
            AccountStatus::Partial => "partial",
            AccountStatus::Failed => "failed",
        }
    }
}

/// The small per-account figures the portfolio is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AccountFigures {
    /// Evidence completeness: complete, partial or failed.
    pub status: AccountStatus,
    /// The score, when anything was evaluated (written in tenths, `score_tenths`).
    #[serde(rename = "score_tenths", with = "crate::score::tenths")]
    pub score: Option<Score>,
    /// Status of each control.
    pub controls: Vec<(Cow<'static, str>, Status)>,
}

/// `counts`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Controls that passed.
    pub pass: u64,
    /// Controls that failed (accepted risks not included).
    pub fail: u64,
    /// Controls that failed but every failure is an accepted risk.
    pub excepted: u64,
    /// Not applicable.
    pub not_applicable: u64,
    /// Not evaluable.
    pub not_evaluable: u64,
}

/// Counts of each result state.
pub fn counts<'a>(findings: impl IntoIterator<Item = &'a crate::rules::Finding>) -> Counts {
    let mut c = Counts::default();
    for f in findings {
        match f.status {
            Status::Pass => c.pass += 1,
            Status::Fail => c.fail += 1,
            Status::Excepted => c.excepted += 1,
            Status::NotApplicable => c.not_applicable += 1,
            Status::NotEvaluable => c.not_evaluable += 1,
        }
    }
    c
}

/// The portfolio roll-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioSummary {
    /// Accounts in the portfolio, whatever their completeness.
    pub accounts: u64,
    /// Complete accounts.
    pub complete: u64,
    /// Partial accounts.
    pub partial: u64,
    /// Failed accounts.
    pub failed: u64,
    /// Every account score, kept sorted (for the median).
    pub scores: Vec<Score>,
    /// Per-control tallies.
    pub controls: BTreeMap<Cow<'static, str>, ControlTally>,
}

pub use crate::score::mean_tenths;

impl PortfolioSummary {
    /// The portfolio of one account.
    pub fn of(figures: &AccountFigures) -> PortfolioSummary {
        let mut p = PortfolioSummary {
            accounts: 1,
            ..PortfolioSummary::default()
        };
        match figures.status {
            AccountStatus::Complete => p.complete = 1,
            AccountStatus::Partial => p.partial = 1,
            AccountStatus::Failed => p.failed = 1,
        }
        p.scores.extend(figures.score);
        for (id, status) in &figures.controls {
            p.controls.entry(id.clone()).or_default().add(*status);
        }
        p
    }

    /// Combines two portfolios; associative and commutative.
    pub fn merge(mut self, other: PortfolioSummary) -> PortfolioSummary {
        self.accounts += other.accounts;
        self.complete += other.complete;
        self.partial += other.partial;
        self.failed += other.failed;
        self.scores.extend(other.scores);
        self.scores.sort_unstable();
        for (id, tally) in other.controls {
            self.controls.entry(id).or_default().merge(&tally);
        }
        self
    }

    /// Mean score (rounded half up to a tenth), over scored accounts.
    pub fn mean(&self) -> Option<Score> {
        Score::mean(self.scores.iter().copied())
    }

    /// Median score (the mean of the middle two, rounded half up, when even).
    pub fn median(&self) -> Option<Score> {
        Score::median(&self.scores)
    }
}

/// `identity`: null where the evidence cannot tell.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// RAM users (credential-report rows other than `<root>`).
    pub ram_users: Option<u64>,
    /// RAM users with console access.
    pub console_users: Option<u64>,
    /// Console users whose `mfa_active` is not TRUE.
    pub console_users_without_mfa: Option<u64>,
    /// Active keys in every slot of every row, root included.
    pub active_access_keys: Option<u64>,
    /// Active keys last rotated more than 90 days before as-of.
    pub access_keys_not_rotated_90d: Option<u64>,
    /// Root MFA.
    pub root_mfa: Option<bool>,
    /// Active root keys.
    pub root_active_access_keys: Option<u64>,
}

/// The identity figures of an account (users, console users without MFA, keys, root), from
/// the credential report, else from the security practice report.
pub fn identity(account: &Account, as_of: Option<DateTime<Utc>>) -> Identity {
    let Some(c) = account.credentials.get() else {
        let p = account.practice.get();
        return Identity {
            ram_users: p.and_then(|p| p.ram_users).map(|n| n.max(0) as u64),
            root_mfa: p.and_then(|p| p.root_mfa),
            root_active_access_keys: p.and_then(|p| p.root_access_keys).map(|n| n.max(0) as u64),
            ..Identity::default()
        };
    };
    let console: Vec<_> = c.users.iter().filter(|u| u.has_console_access()).collect();
    let all = c.root.iter().chain(c.users.iter());
    let active: Vec<_> = all.flat_map(|p| p.active_keys()).collect();
    let not_rotated = as_of.and_then(|as_of| {
        let limit = chrono::Duration::days(90);
        let mut n = 0u64;
        for key in &active {
            match key.last_rotated.at() {
                Some(t) if as_of - t > limit => n += 1,
                Some(_) => {}
                None => return None,
            }
        }
        Some(n)
    });
    Identity {
        ram_users: Some(c.users.len() as u64),
        console_users: Some(console.len() as u64),
        console_users_without_mfa: Some(
            console.iter().filter(|u| !u.mfa_active.is_true()).count() as u64
        ),
        active_access_keys: Some(active.len() as u64),
        access_keys_not_rotated_90d: not_rotated,
        root_mfa: match &c.root {
            Some(r) => match r.mfa_active {
                crate::ingest::credential::Flag::True => Some(true),
                crate::ingest::credential::Flag::False => Some(false),
                _ => None,
            },
            None => account.practice.get().and_then(|p| p.root_mfa),
        },
        root_active_access_keys: c.root.as_ref().map(|r| r.active_keys().count() as u64),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn figures() -> impl Strategy<Value = AccountFigures> {
        (
            0u8..3,
            proptest::option::of((0u32..=1000).prop_map(|t| Score::from_tenths(t).unwrap())),
            proptest::collection::vec((0u8..4, 0u8..5), 0..6),
        )
            .prop_map(|(s, score, controls)| AccountFigures {
                status: [
                    AccountStatus::Complete,
                    AccountStatus::Partial,
                    AccountStatus::Failed,
                ][s as usize],
                score,
                controls: controls
                    .into_iter()
                    .map(|(id, st)| {
                        (
                            Cow::Owned(format!("c{id}")),
                            [
                                Status::Pass,
                                Status::Fail,
                                Status::Excepted,
                                Status::NotApplicable,
                                Status::NotEvaluable,
                            ][st as usize],
                        )
                    })
                    .collect(),
            })
    }

    fn fold(items: &[AccountFigures]) -> PortfolioSummary {
        items
            .iter()
            .map(PortfolioSummary::of)
            .fold(PortfolioSummary::default(), PortfolioSummary::merge)
    }

    proptest! {
        #[test]
        fn merge_is_associative(a in figures(), b in figures(), c in figures()) {
            let (pa, pb, pc) = (PortfolioSummary::of(&a), PortfolioSummary::of(&b), PortfolioSummary::of(&c));
            let left = pa.clone().merge(pb.clone()).merge(pc.clone());
            let right = pa.merge(pb.merge(pc));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn totals_equal_the_sum_of_accounts(items in proptest::collection::vec(figures(), 0..30)) {
            let p = fold(&items);
            prop_assert_eq!(p.accounts, items.len() as u64);
            prop_assert_eq!(p.complete + p.partial + p.failed, p.accounts);
            let fails: u64 = items.iter().flat_map(|f| &f.controls).filter(|(_, s)| *s == Status::Fail).count() as u64;
            prop_assert_eq!(p.controls.values().map(|t| t.fail).sum::<u64>(), fails);
            prop_assert_eq!(p.scores.len(), items.iter().filter(|f| f.score.is_some()).count());
        }

        #[test]
        fn order_does_not_matter(mut items in proptest::collection::vec(figures(), 0..20), seed in any::<u64>()) {
            let before = fold(&items);
            fastrand::Rng::with_seed(seed).shuffle(&mut items);
            prop_assert_eq!(before, fold(&items));
        }
    }

    #[test]
    fn median_of_an_even_count_rounds_half_up() {
        let p = PortfolioSummary {
            scores: [700, 705].map(|t| Score::from_tenths(t).unwrap()).to_vec(),
            ..PortfolioSummary::default()
        };
        assert_eq!(p.median(), Score::from_tenths(703));
        assert_eq!(p.mean(), Score::from_tenths(703));
    }
}
