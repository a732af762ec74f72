//! Text formats shared by every stage (for now, timestamps). Depends on nothing in the crate.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 with whole seconds and `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
