//! Ingest stage: the RAM credential report, as a CSV file or as `GetCredentialReport` pages.
//!
//! Columns are found by header name, never by position; `additional_access_key_N_*` columns
//! are open-ended. Cells are checked here (a bad timestamp rejects the file with its line);
//! what the values mean for a control is decided later, in the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The first two header names, which identify a credential report.
pub(crate) const HEADER_PREFIX: &str = "user,user_creation_time";

/// A `TRUE`/`FALSE` cell with the report's sentinels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// `TRUE`.
    True,
    /// `FALSE`.
    False,
    /// `N/A`: no login profile, or no key.
    NotApplicable,
    /// `LOGIN_DISABLED`, seen for disabled users.
    LoginDisabled,
    /// The column is absent or the cell empty.
    Missing,
    /// A value the format does not define; the warning at ingest names it. (No payload: a
    /// model is held per account until the as-of instant is known, so rows stay small.)
    Unknown,
}

impl Flag {
    /// `true` only for `TRUE`.
    pub fn is_true(&self) -> bool {
        matches!(self, Flag::True)
    }
}

/// A timestamp cell with the report's sentinels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stamp {
    /// A point in time.
    At(DateTime<Utc>),
    /// `-`: never (or not since tracking began).
    Never,
    /// `N/A`.
    NotApplicable,
    /// `LOGIN_DISABLED`.
    LoginDisabled,
    /// The column is absent or the cell empty.
    Missing,
}

impl Stamp {
    /// The time, when the cell holds one.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Stamp::At(t) => Some(*t),
            _ => None,
        }
    }
}

/// One AccessKey slot of a row (`access_key_1`, `access_key_2`, `additional_access_key_N`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawKey {
    /// The column prefix, e.g. `additional_access_key_1` (shared by every row).
    pub slot: Arc<str>,
    /// `*_exist`.
    pub exist: Flag,
    /// `*_active`.
    pub active: Flag,
    /// `*_last_rotated`.
    pub last_rotated: Stamp,
    /// `*_last_used`.
    pub last_used: Stamp,
}

/// One row: the root account (`<root>`) or a RAM user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawPrincipal {
    /// Line in the CSV text (1-based, header is line 1).
    pub line: u64,
    /// `<root>` or the user principal name.
    pub user: String,
    /// `user_creation_time`.
    pub created: Stamp,
    /// `user_last_logon`.
    pub last_logon: Stamp,
    /// `password_exist`.
    pub password_exist: Flag,
    /// `password_active`.
    pub password_active: Flag,
    /// `password_last_changed`.
    pub password_last_changed: Stamp,
    /// `password_next_rotation`.
    pub password_next_rotation: Stamp,
    /// `mfa_active`.
    pub mfa_active: Flag,
    /// Every key slot the header names, in column order.
    pub keys: Vec<RawKey>,
}

/// The column layout of a credential report, with the column of every field looked up once.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    index: BTreeMap<String, usize>,
    slots: Vec<SlotColumns>,
    width: usize,
    columns: [Option<usize>; 8],
}

/// The columns of one key slot.
#[derive(Debug, Clone, PartialEq)]
struct SlotColumns {
    slot: Arc<str>,
    names: [String; 4],
    columns: [Option<usize>; 4],
}

/// Indexes into `Header::columns`.
const BASE: [&str; 8] = [
    "user",
    "user_creation_time",
    "user_last_logon",
    "password_exist",
    "password_active",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
];

/// A problem at one line of the CSV text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvError {
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Rows parsed from one CSV text, with warnings about odd but usable cells.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCsv {
    /// The column layout (reused for continuation pages that have no header).
    pub header: Header,
    /// The rows, in file order.
    pub principals: Vec<RawPrincipal>,
    /// Warnings, each naming its line and column.
    pub warnings: Vec<String>,
}

const REQUIRED: [&str; 8] = [
    "user",
    "user_creation_time",
    "user_last_logon",
    "password_exist",
    "password_active",
    "password_last_changed",
    "mfa_active",
    "access_key_1_exist",
];

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether `bytes` begin with a credential-report header (after a BOM and blank space).
pub(crate) fn looks_like_report(bytes: &[u8]) -> bool {
    let bytes = strip_bom(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..]
        .get(..HEADER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(HEADER_PREFIX.as_bytes()))
}

impl Header {
    fn from_names(names: &[String]) -> Result<Header, CsvError> {
        let mut index = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            if index.insert(name.clone(), i).is_some() {
                return Err(CsvError {
                    line: Some(1),
                    message: format!("column \"{name}\" appears twice in the header"),
                });
            }
        }
        if let Some(missing) = REQUIRED.iter().find(|c| !index.contains_key(**c)) {
            return Err(CsvError {
                line: Some(1),
                message: format!("header has no \"{missing}\" column"),
            });
        }
        // Key slots in a stable order: the two standard ones, then additional_N by number.
        let mut additional: Vec<(u64, String)> = index
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix("additional_access_key_")?;
                let n = rest.strip_suffix("_exist")?.parse::<u64>().ok()?;
                Some((n, format!("additional_access_key_{n}")))
            })
            .collect();
        additional.sort();
        let mut slot_names: Vec<String> = ["access_key_1", "access_key_2"]
            .iter()
            .filter(|s| index.contains_key(&format!("{s}_exist")))
            .map(|s| s.to_string())
            .collect();
        slot_names.extend(additional.into_iter().map(|(_, s)| s));
        let slots = slot_names
            .into_iter()
            .map(|slot| {
                let names = ["exist", "active", "last_rotated", "last_used"]
                    .map(|field| format!("{slot}_{field}"));
                let columns = [0, 1, 2, 3].map(|i| index.get(&names[i]).copied());
                SlotColumns {
                    slot: Arc::from(slot.as_str()),
                    names,
                    columns,
                }
            })
            .collect();
        let columns = BASE.map(|name| index.get(name).copied());
        Ok(Header {
            index,
            slots,
            width: names.len(),
            columns,
        })
    }
}

/// One CSV record: its fields and the line it starts on.
struct Record<'a> {
    line: u64,
    fields: &'a [&'a [u8]],
}

thread_local! {
    // Building a CSV parser builds its state machine, which costs more than parsing a small
    // report; each thread keeps one and resets it.
    static CORE: std::cell::RefCell<csv_core::Reader> = std::cell::RefCell::new(csv_core::Reader::new());
}

/// Calls `each` for every record of `bytes` (blank lines are skipped by the parser).
fn for_each_record(
    bytes: &[u8],
    mut each: impl FnMut(Record<'_>) -> Result<(), CsvError>,
) -> Result<(), CsvError> {
    CORE.with(|core| {
        let mut reader = core.borrow_mut();
        reader.reset();
        let mut input = bytes;
        let mut out = vec![0u8; bytes.len().clamp(64, 1 << 16)];
        let mut ends = vec![0usize; 64];
        let (mut out_len, mut ends_len) = (0, 0);
        let mut start_line = 1;
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(64);
        loop {
            let (result, read, written, ended) =
                reader.read_record(input, &mut out[out_len..], &mut ends[ends_len..]);
            input = &input[read..];
            out_len += written;
            ends_len += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let grown = out.len() * 2;
                    out.resize(grown, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let grown = ends.len() * 2;
                    ends.resize(grown, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    spans.clear();
                    let mut from = 0;
                    for &end in &ends[..ends_len] {
                        spans.push((from, end));
                        from = end;
                    }
                    let fields: Vec<&[u8]> = spans.iter().map(|&(a, b)| &out[a..b]).collect();
                    each(Record {
                        line: start_line,
                        fields: &fields,
                    })?;
                    out_len = 0;
                    ends_len = 0;
                    start_line = reader.line();
                }
                csv_core::ReadRecordResult::End => return Ok(()),
            }
        }
    })
}

/// Parses one CSV text. With `header`, the text is a continuation page that has no header
/// row of its own; a text that does start with a header line has it checked and skipped.
pub(crate) fn parse_csv(bytes: &[u8], header: Option<&Header>) -> Result<ParsedCsv, CsvError> {
    let bytes = strip_bom(bytes);
    // Line numbers count '\n'; normalising CRLF keeps them right whatever the line ends.
    let normalised;
    let bytes = if bytes.contains(&b'\r') {
        normalised = normalise_line_ends(bytes);
        &normalised[..]
    } else {
        bytes
    };
    let mut warnings = Vec::new();
    let mut principals = Vec::new();
    let mut own_header: Option<Header> = None;
    let mut first = true;
    let mut width = header.map(|h| h.width);
    for_each_record(bytes, |record| {
        let line = record.line;
        let fields = record.fields;
        // A blank line, or one that is only a line break left by an editor.
        if fields.len() == 1 && fields[0].is_empty() {
            return Ok(());
        }
        if first {
            first = false;
            let is_header = fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case(b"user"))
                && fields
                    .get(1)
                    .is_some_and(|f| f.eq_ignore_ascii_case(b"user_creation_time"));
            if is_header {
                let names = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| utf8(f, line, &format!("header column {}", i + 1)))
                    .collect::<Result<Vec<_>, _>>()?;
                let parsed = Header::from_names(&names)?;
                if let Some(given) = header
                    && given.index != parsed.index
                {
                    return Err(CsvError {
                        line: Some(line),
                        message: "this page's header differs from the first page's".into(),
                    });
                }
                width = Some(parsed.width);
                own_header = Some(parsed);
                return Ok(());
            } else if header.is_none() {
                return Err(CsvError {
                    line: Some(line),
                    message: format!("expected a header starting \"{HEADER_PREFIX}\""),
                });
            }
        }
        if let Some(w) = width
            && fields.len() != w
        {
            return Err(CsvError {
                line: Some(line),
                message: format!(
                    "expected {w} fields like the header, found {}",
                    fields.len()
                ),
            });
        }
        let layout = own_header.as_ref().or(header).ok_or_else(|| CsvError {
            line: Some(line),
            message: "no header".into(),
        })?;
        principals.push(parse_row(layout, fields, line, &mut warnings)?);
        Ok(())
    })?;
    let header = own_header.or_else(|| header.cloned()).ok_or(CsvError {
        line: None,
        message: "the file is empty".into(),
    })?;
    Ok(ParsedCsv {
        header,
        principals,
        warnings,
    })
}

fn normalise_line_ends(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if b == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

fn utf8(field: &[u8], line: u64, column: &str) -> Result<String, CsvError> {
    String::from_utf8(field.to_vec()).map_err(|e| CsvError {
        line: Some(line),
        message: format!(
            "column {column}: not valid UTF-8 (byte {} of the cell)",
            e.utf8_error().valid_up_to() + 1
        ),
    })
}

fn parse_row(
    header: &Header,
    record: &[&[u8]],
    line: u64,
    warnings: &mut Vec<String>,
) -> Result<RawPrincipal, CsvError> {
    let cell = |column: Option<usize>, name: &str| -> Result<Option<&str>, CsvError> {
        match column.and_then(|i| record.get(i).copied()) {
            Some(field) => std::str::from_utf8(field)
                .map(|s| Some(s.trim()))
                .map_err(|e| CsvError {
                    line: Some(line),
                    message: format!(
                        "column {name}: not valid UTF-8 (byte {} of the cell)",
                        e.valid_up_to() + 1
                    ),
                }),
            None => Ok(None),
        }
    };
    let stamp = |column: Option<usize>, name: &str| -> Result<Stamp, CsvError> {
        let Some(value) = cell(column, name)? else {
            return Ok(Stamp::Missing);
        };
        parse_stamp(value).map_err(|message| CsvError {
            line: Some(line),
            message: format!("column {name}: {message}"),
        })
    };
    let mut flag = |column: Option<usize>, name: &str| -> Result<Flag, CsvError> {
        let Some(value) = cell(column, name)? else {
            return Ok(Flag::Missing);
        };
        let parsed = parse_flag(value);
        if parsed == Flag::Unknown {
            warnings.push(format!(
                "line {line}, column {name}: unknown value \"{value}\" (expected TRUE, FALSE, N/A or LOGIN_DISABLED); treated as unknown"
            ));
        }
        Ok(parsed)
    };
    let c = &header.columns;
    let user = cell(c[0], BASE[0])?.unwrap_or_default();
    if user.is_empty() {
        return Err(CsvError {
            line: Some(line),
            message: "column user is empty".into(),
        });
    }
    let user = user.to_string();
    // Most rows have no key at all: allocate only for keys that are there.
    let mut keys = Vec::new();
    for slot in &header.slots {
        let (n, k) = (&slot.names, &slot.columns);
        let exist = flag(k[0], &n[0])?;
        let active = flag(k[1], &n[1])?;
        let last_rotated = stamp(k[2], &n[2])?;
        let last_used = stamp(k[3], &n[3])?;
        // Empty slots are the common case; keep only keys that exist or say something.
        if exist == Flag::False
            && matches!(active, Flag::NotApplicable | Flag::Missing)
            && last_rotated == Stamp::NotApplicable
        {
            continue;
        }
        keys.push(RawKey {
            slot: slot.slot.clone(),
            exist,
            active,
            last_rotated,
            last_used,
        });
    }
    Ok(RawPrincipal {
        line,
        created: stamp(c[1], BASE[1])?,
        last_logon: stamp(c[2], BASE[2])?,
        password_exist: flag(c[3], BASE[3])?,
        password_active: flag(c[4], BASE[4])?,
        password_last_changed: stamp(c[5], BASE[5])?,
        password_next_rotation: stamp(c[6], BASE[6])?,
        mfa_active: flag(c[7], BASE[7])?,
        keys,
        user,
    })
}

/// Parses a flag cell; unknown text is kept as [`Flag::Unknown`].
pub(crate) fn parse_flag(value: &str) -> Flag {
    match value.to_ascii_uppercase().as_str() {
        "TRUE" => Flag::True,
        "FALSE" => Flag::False,
        "N/A" => Flag::NotApplicable,
        "LOGIN_DISABLED" => Flag::LoginDisabled,
        "" => Flag::Missing,
        _ => Flag::Unknown,
    }
}

/// Parses a timestamp cell; anything that is neither a sentinel nor RFC 3339 is an error.
pub(crate) fn parse_stamp(value: &str) -> Result<Stamp, String> {
    match value {
        "" => Ok(Stamp::Missing),
        "-" => Ok(Stamp::Never),
        v if v.eq_ignore_ascii_case("N/A") => Ok(Stamp::NotApplicable),
        v if v.eq_ignore_ascii_case("LOGIN_DISABLED") => Ok(Stamp::LoginDisabled),
        v => parse_time(v).map(Stamp::At),
    }
}

/// Parses an ISO 8601 / RFC 3339 UTC time such as `2024-05-20T08:05:00Z`.
pub(crate) fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("invalid timestamp \"{value}\" (expected YYYY-MM-DDThh:mm:ssZ)"))
}

/// Decodes a `GetCredentialReport` `Content` value: standard Base64, line breaks allowed.
pub(crate) fn decode_content(content: &str) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = content
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .map_err(|e| format!("not valid Base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed,password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used,access_key_2_exist,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used";

    #[test]
    fn parses_by_header_name_with_bom_and_crlf() {
        let text = format!(
            "\u{feff}{HEAD},additional_access_key_2_exist,additional_access_key_2_active,additional_access_key_2_last_rotated,additional_access_key_2_last_used\r\n<root>,2016-03-01T02:11:09Z,-,TRUE,N/A,N/A,N/A,FALSE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A,TRUE,TRUE,2020-01-01T00:00:00Z,-\r\n"
        );
        let parsed = parse_csv(text.as_bytes(), None).unwrap();
        let root = &parsed.principals[0];
        assert_eq!(root.user, "<root>");
        assert_eq!(root.line, 2);
        assert_eq!(root.last_logon, Stamp::Never);
        // Empty slots (FALSE, N/A, N/A) are dropped; the additional key is kept.
        assert_eq!(root.keys.len(), 1);
        assert_eq!(&*root.keys[0].slot, "additional_access_key_2");
        assert_eq!(root.keys[0].active, Flag::True);
    }

    #[test]
    fn rejects_a_row_with_the_wrong_number_of_fields_naming_its_line() {
        let text = format!("{HEAD}\n<root>,2016-03-01T02:11:09Z,-,TRUE\n");
        let err = parse_csv(text.as_bytes(), None).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("expected 16 fields"), "{err}");
    }

    #[test]
    fn rejects_an_invalid_timestamp_naming_line_and_column() {
        let text = format!(
            "{HEAD}\n<root>,2016-03-01T02:11:09Z,-,TRUE,N/A,N/A,N/A,FALSE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A\nbob@a.onaliyun.com,last tuesday,-,TRUE,TRUE,N/A,N/A,FALSE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A\n"
        );
        let err = parse_csv(text.as_bytes(), None).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.message
                .contains("column user_creation_time: invalid timestamp \"last tuesday\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_flag_values_are_warnings_not_errors() {
        let text = format!(
            "{HEAD}\n<root>,2016-03-01T02:11:09Z,-,TRUE,N/A,N/A,N/A,MAYBE,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A\n"
        );
        let parsed = parse_csv(text.as_bytes(), None).unwrap();
        assert_eq!(parsed.principals[0].mfa_active, Flag::Unknown);
        assert!(parsed.warnings[0].contains("line 2, column mfa_active"));
    }

    #[test]
    fn continuation_pages_use_the_first_header() {
        let first = parse_csv(format!("{HEAD}\n").as_bytes(), None).unwrap();
        let page = "alice@a.onaliyun.com,2020-01-01T00:00:00Z,-,FALSE,N/A,N/A,N/A,N/A,FALSE,N/A,N/A,N/A,FALSE,N/A,N/A,N/A\n";
        let parsed = parse_csv(page.as_bytes(), Some(&first.header)).unwrap();
        assert_eq!(parsed.principals[0].user, "alice@a.onaliyun.com");
        assert_eq!(parsed.principals[0].line, 1);
    }

    #[test]
    fn base64_content_may_hold_line_breaks() {
        assert_eq!(decode_content("dXNl\ncixh\r\n").unwrap(), b"user,a");
        assert!(decode_content("OVZWK4RMOVZW****").is_err());
    }
}
