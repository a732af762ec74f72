//! Compliance scores and score changes, held in tenths of a point.
//!
//! A [`Score`] is 0 to 100 with one decimal, a [`ScoreChange`] the difference of two scores
//! (-100 to 100). Both keep whole tenths, so sums, means, medians and comparisons are exact
//! integer arithmetic and never depend on the order accounts are processed in. Each is written
//! as a JSON number with one decimal's value (`72.5`, `-3.0`) and read back from one, rounded
//! to the nearest tenth; a value out of range, or not finite, is refused when it is read, so
//! a score from a file is a score. [`tenths`] writes an optional score as a whole number of
//! tenths instead (shard files carry it so).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A compliance score, 0 to 100 in tenths of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u32);

impl Score {
    /// 100.0, the highest score.
    pub const MAX: Score = Score(1000);

    /// The score of `tenths` tenths of a point; `None` above 1000 (100.0).
    pub const fn from_tenths(tenths: u32) -> Option<Score> {
        if tenths <= Self::MAX.0 {
            Some(Score(tenths))
        } else {
            None
        }
    }

    /// The score nearest to `value` in tenths; `None` when it is not a number from 0 to 100.
    pub fn from_f64(value: f64) -> Option<Score> {
        (value.is_finite() && (0.0..=100.0).contains(&value))
            .then(|| Score((value * 10.0).round() as u32))
    }

    /// The score in tenths of a point (0 to 1000).
    pub const fn tenths(self) -> u32 {
        self.0
    }

    /// The score as a number from 0.0 to 100.0.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 10.0
    }

    /// The mean of `scores`, rounded half up to a tenth; `None` for no scores.
    pub fn mean(scores: impl IntoIterator<Item = Score>) -> Option<Score> {
        // The mean of scores is a score: it lies between the lowest and the highest.
        mean_tenths(scores.into_iter().map(|s| u64::from(s.0))).map(|m| Score(m as u32))
    }

    /// The median of `sorted` (ascending): the middle score, or the mean of the middle two
    /// rounded half up; `None` for no scores.
    pub fn median(sorted: &[Score]) -> Option<Score> {
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => {
                let (a, b) = (sorted[n / 2 - 1].0, sorted[n / 2].0);
                Some(Score((a + b).div_ceil(2)))
            }
        }
    }

    /// This score's change since `then`: this minus `then`.
    pub fn since(self, then: Score) -> ScoreChange {
        ScoreChange(self.0 as i32 - then.0 as i32)
    }
}

/// The mean of numbers of tenths, rounded half up with integer arithmetic (so the order of
/// the numbers never changes it); `None` for none.
pub fn mean_tenths(tenths: impl Iterator<Item = u64>) -> Option<u64> {
    let (mut sum, mut n) = (0u64, 0u64);
    for t in tenths {
        sum += t;
        n += 1;
    }
    (n > 0).then(|| (sum * 2 + n) / (2 * n))
}

/// One decimal: `72.5`, `100.0`, `0.0`. Width and alignment flags apply to the whole text.
impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&format!("{:.1}", self.as_f64()))
    }
}

impl Serialize for Score {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Score, D::Error> {
        let value = f64::deserialize(d)?;
        Score::from_f64(value).ok_or_else(|| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Float(value),
                &"a score between 0 and 100",
            )
        })
    }
}

/// A change of score, -100 to 100 in tenths of a point: now minus then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScoreChange(i32);

impl ScoreChange {
    /// No change.
    pub const ZERO: ScoreChange = ScoreChange(0);

    /// The change nearest to `value` in tenths; `None` when it is not a number from -100 to
    /// 100.
    pub fn from_f64(value: f64) -> Option<ScoreChange> {
        (value.is_finite() && (-100.0..=100.0).contains(&value))
            .then(|| ScoreChange((value * 10.0).round() as i32))
    }

    /// The change in tenths of a point (-1000 to 1000).
    pub const fn tenths(self) -> i32 {
        self.0
    }

    /// The change as a number from -100.0 to 100.0.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 10.0
    }
}

/// One decimal, a rise signed: `+2.5`, `0.0`, `-1.0`. Width and alignment flags apply to
/// the whole text.
impl std::fmt::Display for ScoreChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 > 0 { "+" } else { "" };
        f.pad(&format!("{sign}{:.1}", self.as_f64()))
    }
}

impl Serialize for ScoreChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for ScoreChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ScoreChange, D::Error> {
        let value = f64::deserialize(d)?;
        ScoreChange::from_f64(value).ok_or_else(|| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Float(value),
                &"a score change between -100 and 100",
            )
        })
    }
}

/// An optional [`Score`] written as a whole number of tenths (`725`, or null), for
/// `#[serde(with = "aliaudit_core::score::tenths")]`; a number above 1000 is refused.
pub mod tenths {
    use super::Score;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the number of tenths, or null.
    pub fn serialize<S: Serializer>(score: &Option<Score>, s: S) -> Result<S::Ok, S::Error> {
        match score {
            Some(score) => s.serialize_some(&score.tenths()),
            None => s.serialize_none(),
        }
    }

    /// Reads a number of tenths from 0 to 1000, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Score>, D::Error> {
        Option::<u32>::deserialize(d)?
            .map(|t| {
                Score::from_tenths(t).ok_or_else(|| {
                    serde::de::Error::invalid_value(
                        serde::de::Unexpected::Unsigned(u64::from(t)),
                        &"a score in tenths, from 0 to 1000",
                    )
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scores_are_written_as_numbers_with_their_tenth() {
        let s = Score::from_tenths(725).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "72.5");
        assert_eq!(serde_json::to_string(&Score::MAX).unwrap(), "100.0");
        assert_eq!(
            serde_json::to_string(&Score::from_tenths(0)).unwrap(),
            "0.0"
        );
        assert_eq!(serde_json::to_string(&None::<Score>).unwrap(), "null");
        assert_eq!(s.to_string(), "72.5");
        assert_eq!(format!("{:>6}|{:<5}|", s, Score::MAX), "  72.5|100.0|");
        assert_eq!(s.as_f64(), 72.5);
    }

    #[test]
    fn every_score_reads_back_as_itself() {
        for t in 0..=1000 {
            let s = Score::from_tenths(t).unwrap();
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Score>(&json).unwrap(), s, "{json}");
            // As the report wrote it before scores were typed.
            assert_eq!(json, serde_json::to_string(&(t as f64 / 10.0)).unwrap());
            assert_eq!(s.to_string(), format!("{:.1}", t as f64 / 10.0));
        }
        assert_eq!(Score::from_tenths(1001), None);
    }

    #[test]
    fn a_score_is_read_to_the_nearest_tenth_and_only_from_0_to_100() {
        let read = |json: &str| serde_json::from_str::<Score>(json).map(Score::tenths);
        assert_eq!(read("50").unwrap(), 500);
        assert_eq!(read("61.14").unwrap(), 611);
        assert_eq!(read("61.16").unwrap(), 612);
        for bad in ["100.1", "-0.5", "1e308", "\"50\""] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let e = read("1e308").unwrap_err().to_string();
        assert!(e.contains("expected a score between 0 and 100"), "{e}");
    }

    #[test]
    fn means_and_medians_round_half_up_in_tenths() {
        let s = |t: u32| Score::from_tenths(t).unwrap();
        assert_eq!(Score::mean([]), None);
        assert_eq!(Score::mean([s(600), s(801)]), Some(s(701)));
        assert_eq!(Score::mean([s(1), s(2)]), Some(s(2)));
        assert_eq!(Score::median(&[]), None);
        assert_eq!(Score::median(&[s(700), s(705)]), Some(s(703)));
        assert_eq!(Score::median(&[s(1), s(5), s(9)]), Some(s(5)));
    }

    #[test]
    fn changes_are_signed_and_read_back_as_themselves() {
        let s = |t: u32| Score::from_tenths(t).unwrap();
        let up = s(725).since(s(700));
        assert_eq!((up.tenths(), up.to_string()), (25, "+2.5".to_string()));
        assert_eq!(s(690).since(s(700)).to_string(), "-1.0");
        assert_eq!(s(700).since(s(700)), ScoreChange::ZERO);
        assert_eq!(ScoreChange::ZERO.to_string(), "0.0");
        for t in -1000..=1000 {
            let c = ScoreChange(t);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, serde_json::to_string(&(t as f64 / 10.0)).unwrap());
            assert_eq!(serde_json::from_str::<ScoreChange>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<ScoreChange>("-100.1").is_err());
        assert!(serde_json::from_str::<ScoreChange>("100.5").is_err());
    }

    #[test]
    fn tenths_are_written_as_whole_numbers() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Form {
            #[serde(with = "tenths")]
            score_tenths: Option<Score>,
        }
        let form = Form {
            score_tenths: Score::from_tenths(725),
        };
        let json = serde_json::to_string(&form).unwrap();
        assert_eq!(json, r#"{"score_tenths":725}"#);
        assert_eq!(serde_json::from_str::<Form>(&json).unwrap(), form);
        let none = r#"{"score_tenths":null}"#;
        assert_eq!(
            serde_json::from_str::<Form>(none).unwrap(),
            Form { score_tenths: None }
        );
        assert!(serde_json::from_str::<Form>(r#"{"score_tenths":1001}"#).is_err());
    }
}
