//! The executive page's policies: the rating thresholds and the severity -> due-days policy,
//! from a rules file's `[rating]` and `[due_days]` tables or their defaults.
//!
//! Plain data and pure functions: no language, no clock (due dates count from the as-of).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::Severity;
use crate::score::Score;

/// How a score and its failures are rated on the executive page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// At or above the good threshold, no high-severity failure.
    Good,
    /// At or above the fair threshold.
    Fair,
    /// At or above the poor threshold.
    Poor,
    /// Below the poor threshold.
    Critical,
    /// Nothing was assessed, so there is no score to rate.
    NotRated,
}

impl Rating {
    /// Lower-case name (`good`, `fair`, `poor`, `critical`, `not_rated`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Fair => "fair",
            Rating::Poor => "poor",
            Rating::Critical => "critical",
            Rating::NotRated => "not_rated",
        }
    }
}

/// The rating thresholds (`[rating]` in a rules file), in whole score points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatingPolicy {
    /// Good from this score (and no failed high-severity control).
    pub good: u32,
    /// Fair from this score.
    pub fair: u32,
    /// Poor from this score; below it, Critical.
    pub poor: u32,
    /// The best rating a scope with a failed high-severity control can get.
    pub high_failure_cap: Rating,
}

impl Default for RatingPolicy {
    fn default() -> Self {
        RatingPolicy {
            good: 90,
            fair: 75,
            poor: 50,
            high_failure_cap: Rating::Fair,
        }
    }
}

impl RatingPolicy {
    /// Why the policy cannot be used, if it cannot: thresholds above 100, not in the order
    /// good >= fair >= poor, or a cap that is not a rating of a score.
    pub fn check(&self) -> Result<(), String> {
        if self.good > 100 || self.fair > 100 || self.poor > 100 {
            return Err("[rating]: good, fair and poor are scores from 0 to 100".into());
        }
        if !(self.good >= self.fair && self.fair >= self.poor) {
            return Err(format!(
                "[rating]: the thresholds must run good >= fair >= poor (now good = {}, fair = {}, poor = {})",
                self.good, self.fair, self.poor
            ));
        }
        if self.high_failure_cap == Rating::NotRated {
            return Err(
                "[rating]: high_failure_cap must be \"good\", \"fair\", \"poor\" or \"critical\""
                    .into(),
            );
        }
        Ok(())
    }

    /// The rating of `score` where a high-severity control does (`high_failure`) or does not
    /// fail; [`Rating::NotRated`] without a score.
    pub fn rate(&self, score: Option<Score>, high_failure: bool) -> Rating {
        let Some(score) = score else {
            return Rating::NotRated;
        };
        let tenths = score.tenths();
        let by_score = if tenths >= self.good * 10 {
            Rating::Good
        } else if tenths >= self.fair * 10 {
            Rating::Fair
        } else if tenths >= self.poor * 10 {
            Rating::Poor
        } else {
            Rating::Critical
        };
        if high_failure {
            // A later variant is a worse rating.
            by_score.max(self.high_failure_cap)
        } else {
            by_score
        }
    }
}

/// Days to fix a failure by severity (`[due_days]` in a rules file), counted from the as-of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DueDays {
    /// High severity.
    pub high: u32,
    /// Medium severity.
    pub medium: u32,
    /// Low severity.
    pub low: u32,
}

impl Default for DueDays {
    fn default() -> Self {
        DueDays {
            high: 14,
            medium: 30,
            low: 90,
        }
    }
}

/// The longest due period a rules file may set, in days (two years).
pub const MAX_DUE_DAYS: u32 = 730;

impl DueDays {
    /// Why the policy cannot be used, if it cannot: a period of 0 days or over
    /// [`MAX_DUE_DAYS`].
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in [
            ("high", self.high),
            ("medium", self.medium),
            ("low", self.low),
        ] {
            if !(1..=MAX_DUE_DAYS).contains(&days) {
                return Err(format!(
                    "[due_days]: {name} = {days}: a number of days from 1 to {MAX_DUE_DAYS}"
                ));
            }
        }
        Ok(())
    }

    /// Days allowed for a failure of `severity`.
    pub fn days(&self, severity: Severity) -> u32 {
        match severity {
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    /// The date a failure of `severity` is due, counted from the as-of date.
    pub fn due(&self, as_of: NaiveDate, severity: Severity) -> NaiveDate {
        as_of + chrono::Days::new(u64::from(self.days(severity)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(tenths: u32) -> Option<Score> {
        Score::from_tenths(tenths)
    }

    #[test]
    fn ratings_change_exactly_at_their_thresholds() {
        let p = RatingPolicy::default();
        assert_eq!(p.rate(score(1000), false), Rating::Good);
        assert_eq!(p.rate(score(900), false), Rating::Good);
        assert_eq!(p.rate(score(899), false), Rating::Fair);
        assert_eq!(p.rate(score(750), false), Rating::Fair);
        assert_eq!(p.rate(score(749), false), Rating::Poor);
        assert_eq!(p.rate(score(500), false), Rating::Poor);
        assert_eq!(p.rate(score(499), false), Rating::Critical);
        assert_eq!(p.rate(score(0), false), Rating::Critical);
        assert_eq!(p.rate(None, false), Rating::NotRated);
        assert_eq!(p.rate(None, true), Rating::NotRated);
    }

    #[test]
    fn a_high_severity_failure_caps_the_rating() {
        let p = RatingPolicy::default();
        assert_eq!(p.rate(score(1000), true), Rating::Fair);
        assert_eq!(p.rate(score(900), true), Rating::Fair);
        assert_eq!(p.rate(score(749), true), Rating::Poor);
        assert_eq!(p.rate(score(499), true), Rating::Critical);
        let strict = RatingPolicy {
            high_failure_cap: Rating::Critical,
            ..p
        };
        assert_eq!(strict.rate(score(1000), true), Rating::Critical);
    }

    #[test]
    fn due_dates_count_each_severity_from_the_as_of() {
        let d = DueDays::default();
        let as_of = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        assert_eq!(
            d.due(as_of, Severity::High),
            NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()
        );
        assert_eq!(
            d.due(as_of, Severity::Medium),
            NaiveDate::from_ymd_opt(2026, 10, 30).unwrap()
        );
        assert_eq!(
            d.due(as_of, Severity::Low),
            NaiveDate::from_ymd_opt(2026, 12, 29).unwrap()
        );
    }

    #[test]
    fn policies_out_of_bounds_are_refused() {
        assert!(RatingPolicy::default().check().is_ok());
        let p = RatingPolicy {
            good: 101,
            ..Default::default()
        };
        assert!(p.check().unwrap_err().contains("0 to 100"));
        let p = RatingPolicy {
            fair: 95,
            ..Default::default()
        };
        assert!(p.check().unwrap_err().contains("good >= fair >= poor"));
        assert!(DueDays::default().check().is_ok());
        let d = DueDays {
            medium: 0,
            ..Default::default()
        };
        assert!(d.check().unwrap_err().contains("medium = 0"));
        let d = DueDays {
            low: MAX_DUE_DAYS + 1,
            ..Default::default()
        };
        assert!(d.check().is_err());
    }
}
