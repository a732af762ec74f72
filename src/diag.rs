//! Diagnostics shared by every stage: what went wrong or looked odd, and where.
//!
//! Stages push [`Diagnostic`]s instead of failing; only the orchestrator decides the exit code.

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Input was rejected or an account could not be evaluated as given.
    Error,
    /// Input was used, but something in it was odd or incomplete.
    Warning,
    /// Worth knowing; nothing was lost.
    Info,
}

impl Level {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// One message about one input file (or folder), for one account when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Input path as shown in the manifest (root as given, then `/`-separated).
    pub path: String,
    /// Account id, when the file belongs to an account.
    pub account: Option<String>,
    /// Severity.
    pub level: Level,
    /// The message, naming the JSON path or CSV line where there is one.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for `path`, not yet tied to an account.
    pub fn new(level: Level, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            account: None,
            level,
            message: message.into(),
        }
    }

    /// An error about `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Level::Error, path, message)
    }

    /// A warning about `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, path, message)
    }

    /// Ties the diagnostic to an account.
    pub fn for_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_string());
        self
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.level.as_str(),
            self.path,
            self.message
        )
    }
}

/// A TOML error as "line L, column C: message" (the place when the parser knows it).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let place = e
        .span()
        .map(|span| {
            let (line, column) = crate::ingest::xml::line_col(text, span.start);
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    format!("{place}{}", e.message())
}

/// An error with its causes, `outer: inner: innermost`, on one line; a cause already quoted
/// by the one before it is not repeated.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text.replace(['\r', '\n'], " ")
}
