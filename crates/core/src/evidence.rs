//! Shared vocabulary for input files: their kinds, what became of each one, and what an
//! account has of each evidence kind.
//!
//! Every file found under an input root ends up as one [`FileRecord`] in the manifest. This
//! module holds data only; it reads nothing.

use serde::Serialize;

/// What a file was recognised as, from its content.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `account.toml`.
    AccountMetadata,
    /// Ims `GetAccountSecurityPracticeReport`.
    PracticeReport,
    /// Ims or Ram `GetSecurityPreference`.
    SecurityPreference,
    /// Ims or Ram `GetPasswordPolicy`.
    PasswordPolicy,
    /// A page of Sas `DescribeRiskCheckResult` (JSON or XML).
    SasRiskCheckResult,
    /// A page of Sas `ListCheckResult`.
    SasCheckResult,
    /// A credential report saved as CSV.
    CredentialReportCsv,
    /// A page of Ims `GetCredentialReport`.
    CredentialReportApi,
    /// Sts `GetCallerIdentity`, used for the account UID.
    CallerIdentity,
    /// A saved API error body instead of data.
    ApiError,
    /// Sas `DescribeRiskCheckSummary` or `GetCheckSummary`: recognised, not used.
    SasSummary,
    /// Ims `GenerateCredentialReport`: recognised, not used.
    CredentialReportState,
    /// Sts `AssumeRole`: recognised, not used (and it holds a secret).
    StsCredentials,
    /// Sas `ListCheckItemWarningSummary` (host baselines): recognised, not used.
    SasHostBaseline,
    /// Sas `GetCheckStructure`: the vendor's standards, requirements and sections.
    SasCheckStructure,
    /// Sas `ListCheckStandard`: the vendor's standards and requirements.
    SasCheckStandards,
}

impl Kind {
    /// The snake_case name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AccountMetadata => "account_metadata",
            Kind::PracticeReport => "practice_report",
            Kind::SecurityPreference => "security_preference",
            Kind::PasswordPolicy => "password_policy",
            Kind::SasRiskCheckResult => "sas_risk_check_result",
            Kind::SasCheckResult => "sas_check_result",
            Kind::CredentialReportCsv => "credential_report_csv",
            Kind::CredentialReportApi => "credential_report_api",
            Kind::CallerIdentity => "caller_identity",
            Kind::ApiError => "api_error",
            Kind::SasSummary => "sas_summary",
            Kind::CredentialReportState => "credential_report_state",
            Kind::StsCredentials => "sts_credentials",
            Kind::SasHostBaseline => "sas_host_baseline",
            Kind::SasCheckStructure => "sas_check_structure",
            Kind::SasCheckStandards => "sas_check_standards",
        }
    }
}

/// What became of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Read and used as evidence.
    Used,
    /// Not evidence, or not needed; the reason says why.
    Ignored,
    /// Evidence that could not be read; the reason names the place of the error.
    Rejected,
}

impl FileStatus {
    /// Lower-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Used => "used",
            FileStatus::Ignored => "ignored",
            FileStatus::Rejected => "rejected",
        }
    }
}

/// One input file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRecord {
    /// Root as given, then the `/`-separated path below it.
    pub path: String,
    /// Account id, when the file sits in an account folder.
    pub account: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// What the content was recognised as.
    pub kind: Option<Kind>,
    /// Used, ignored or rejected.
    pub status: FileStatus,
    /// Why it was ignored or rejected (or a note on how it was used).
    pub reason: Option<String>,
    /// The reason as a message, when it can be written in another language for the pages.
    #[serde(skip)]
    pub reason_note: Option<crate::i18n::Message>,
}

impl FileRecord {
    /// Marks the file ignored, with a reason.
    pub fn ignore(&mut self, reason: impl Into<String>) {
        self.status = FileStatus::Ignored;
        self.reason = Some(reason.into());
        self.reason_note = None;
    }

    /// Marks the file ignored, with a reason from the message catalogue (English in the
    /// manifest, the report language on the pages).
    pub fn ignore_because(&mut self, note: crate::i18n::Message) {
        self.status = FileStatus::Ignored;
        self.reason = Some(note.render(crate::i18n::Catalogue::get(crate::i18n::Lang::En)));
        self.reason_note = Some(note);
    }

    /// The reason in `c`'s language.
    pub fn reason_in(&self, c: &crate::i18n::Catalogue) -> Option<String> {
        match &self.reason_note {
            Some(note) => Some(note.render(c)),
            None => self.reason.clone(),
        }
    }

    /// Marks the file rejected, with the error.
    pub fn reject(&mut self, reason: impl Into<String>) {
        self.status = FileStatus::Rejected;
        self.reason = Some(reason.into());
        self.reason_note = None;
    }
}

/// What an account has of one evidence kind: the files it was read from, the files of that
/// kind that were rejected, or none.
///
/// `summary.json` and shard files hold it as text: `present: <files>`, `rejected: <files>`
/// (the paths joined with `, `) or `missing`. It is read back only from that text, anything
/// else refused. A path that itself holds `, ` reads back as two paths; every use joins them
/// again, so what is written is the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceState {
    /// Read from these files.
    Present(Vec<String>),
    /// Files of this kind were found, and all of them rejected.
    Rejected(Vec<String>),
    /// No file of this kind was found.
    Missing,
}

impl EvidenceState {
    /// The paths, as written: joined with `, ` (empty for [`EvidenceState::Missing`]).
    pub fn files(&self) -> String {
        match self {
            EvidenceState::Present(files) | EvidenceState::Rejected(files) => files.join(", "),
            EvidenceState::Missing => String::new(),
        }
    }

    /// The state `text` says, in the form [`Display`](std::fmt::Display) writes; `None` for
    /// any other text.
    fn parse(text: &str) -> Option<EvidenceState> {
        let files = |list: &str| -> Vec<String> {
            if list.is_empty() {
                Vec::new()
            } else {
                list.split(", ").map(str::to_string).collect()
            }
        };
        if text == "missing" {
            Some(EvidenceState::Missing)
        } else if let Some(list) = text.strip_prefix("present: ") {
            Some(EvidenceState::Present(files(list)))
        } else {
            text.strip_prefix("rejected: ")
                .map(|list| EvidenceState::Rejected(files(list)))
        }
    }
}

/// `present: <files>`, `rejected: <files>` or `missing`, as `summary.json` writes it.
impl std::fmt::Display for EvidenceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceState::Present(_) => write!(f, "present: {}", self.files()),
            EvidenceState::Rejected(_) => write!(f, "rejected: {}", self.files()),
            EvidenceState::Missing => f.write_str("missing"),
        }
    }
}

impl Serialize for EvidenceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for EvidenceState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EvidenceState, D::Error> {
        let text = String::deserialize(d)?;
        EvidenceState::parse(&text).ok_or_else(|| {
            serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&text),
                &"an evidence state: present: <files>, rejected: <files> or missing",
            )
        })
    }
}

/// What is at a path found under an input root that is neither a regular file nor a folder.
/// Such a path is listed as ignored and never opened: reading a named pipe would wait for a
/// writer forever, and a device is not evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// A named pipe (FIFO).
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A block device.
    BlockDevice,
    /// A character device.
    CharDevice,
    /// Anything else that is not a regular file.
    Other,
}

impl Special {
    /// What `file_type` is, when it is not a regular file (`None` for a regular file).
    pub fn of(file_type: &std::fs::FileType) -> Option<Special> {
        if file_type.is_file() {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if file_type.is_fifo() {
                return Some(Special::Fifo);
            }
            if file_type.is_socket() {
                return Some(Special::Socket);
            }
            if file_type.is_block_device() {
                return Some(Special::BlockDevice);
            }
            if file_type.is_char_device() {
                return Some(Special::CharDevice);
            }
        }
        Some(Special::Other)
    }

    /// The catalogue key of the reason it is ignored (`file.fifo`...).
    pub fn note_key(self) -> &'static str {
        match self {
            Special::Fifo => "file.fifo",
            Special::Socket => "file.socket",
            Special::BlockDevice => "file.block_device",
            Special::CharDevice => "file.char_device",
            Special::Other => "file.not_a_file",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn state(json: &str) -> Result<EvidenceState, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn evidence_states_are_written_as_summary_json_has_them() {
        let files = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        for (s, text) in [
            (
                EvidenceState::Present(files(&["a/cr.csv", "a/cr-2.csv"])),
                "present: a/cr.csv, a/cr-2.csv",
            ),
            (
                EvidenceState::Rejected(files(&["a/pp.json"])),
                "rejected: a/pp.json",
            ),
            (EvidenceState::Missing, "missing"),
            (EvidenceState::Present(Vec::new()), "present: "),
        ] {
            assert_eq!(s.to_string(), text);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            assert_eq!(state(&json).unwrap(), s, "{json}");
        }
    }

    #[test]
    fn a_path_with_a_comma_reads_back_as_the_same_text() {
        let s = EvidenceState::Present(vec!["a/x, y.json".into(), "a/z.json".into()]);
        let back = state(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.to_string(), s.to_string());
        assert_eq!(back.files(), "a/x, y.json, a/z.json");
    }

    #[test]
    fn rejects_an_evidence_state_no_report_writes() {
        for bad in [
            r#""present:a.json""#,
            r#""Missing""#,
            r#""missing ""#,
            r#""""#,
            r#""absent: a.json""#,
            "3",
            "null",
        ] {
            assert!(state(bad).is_err(), "{bad}");
        }
        assert_eq!(
            state(r#""partly\u001b[2J""#).unwrap_err(),
            "invalid value: string \"partly\\u{1b}[2J\", expected an evidence state: present: <files>, rejected: <files> or missing"
        );
    }
}
