//! Shared vocabulary for input files: their kinds and what became of each one.
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
