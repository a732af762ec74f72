//! Text formats shared by every stage: timestamps. Depends on nothing in the crate.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// RFC 3339 with whole seconds and `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses `--as-of`: a date (end of that day, UTC) or an RFC 3339 instant.
pub fn parse_as_of(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = date
            .and_hms_opt(23, 59, 59)
            .context("invalid --as-of date")?;
        return Ok(end.and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| {
            format!("--as-of \"{text}\" is not a date; use YYYY-MM-DD or 2026-09-30T23:59:59Z")
        })
}
