//! The delivery configuration (TOML, unknown keys rejected): who sends, through which SMTP
//! server, and who receives what. Every address is checked when the file is read.

use std::collections::BTreeMap;

use lettre::message::Mailbox;
use serde::Deserialize;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a server on this machine (127.0.0.1, ::1, localhost).
    None,
}

/// `[smtp]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Server host name.
    pub(crate) host: String,
    /// Port (default 587 for starttls, 465 for tls, 25 for none).
    port: Option<u16>,
    /// Connection security.
    #[serde(default)]
    pub(crate) security: Security,
    /// User name for AUTH, when the server wants one.
    pub(crate) user: Option<String>,
    /// Name of the environment variable that holds the password (never the password).
    pub password_env: Option<String>,
    /// PEM file of a certificate authority to trust besides the public ones (a company's
    /// own mail relay), relative to the configuration file.
    ca_file: Option<String>,
}

impl Smtp {
    /// The port in use.
    pub(crate) fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }
}

/// `[customers."Name"]`: recipients replacing the accounts' contacts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerRecipients {
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    from: String,
    #[serde(default)]
    management: Vec<String>,
    #[serde(default)]
    management_cc: Vec<String>,
    #[serde(default)]
    attach_accounts: bool,
    max_attachment_mb: Option<f64>,
    smtp: Option<Smtp>,
    #[serde(default)]
    customers: BTreeMap<String, CustomerRecipients>,
}

/// A project file (`aliaudit.toml`) seen from `deliver`: only its `[deliver]` table, which
/// holds the keys of a delivery configuration. The other tables are the project's own (it
/// rejects unknown ones).
#[derive(Deserialize)]
struct InProject {
    deliver: Option<Form>,
}

impl Form {
    /// A delivery configuration's text, or a project file's `[deliver]` table (a file with a
    /// top-level `deliver`, `report` or `collect` table is a project file). Errors name the
    /// line in the text as given.
    fn parse(text: &str) -> Result<Form, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| aliaudit_core::diag::toml_error(text, &e))?;
        let project = ["deliver", "report", "collect"]
            .iter()
            .any(|k| table.get(*k).is_some_and(toml::Value::is_table));
        if project {
            let wrapped: InProject =
                toml::from_str(text).map_err(|e| aliaudit_core::diag::toml_error(text, &e))?;
            wrapped
                .deliver
                .ok_or_else(|| "a project file without a [deliver] table".to_string())
        } else {
            toml::from_str(text).map_err(|e| aliaudit_core::diag::toml_error(text, &e))
        }
    }
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The sender of every message (`From`).
    pub(crate) from: Mailbox,
    /// Recipients of the portfolio message.
    pub(crate) management: Vec<Mailbox>,
    /// Cc of the portfolio message.
    pub(crate) management_cc: Vec<Mailbox>,
    /// Attach each account's PDF to its customer's message.
    pub(crate) attach_accounts: bool,
    /// Largest total of attachments in one message, in bytes.
    pub(crate) max_attachment_bytes: u64,
    /// The SMTP server (needed to send, not for `--eml` or `--dry-run`).
    pub smtp: Option<Smtp>,
    /// Per-customer recipients: to, cc.
    pub customers: BTreeMap<String, (Vec<Mailbox>, Vec<Mailbox>)>,
    /// The `ca_file` certificates (PEM), read when the file was loaded.
    pub(crate) ca_pem: Option<Vec<u8>>,
}

/// Errors in the configuration.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    path: String,
    message: String,
}

/// Parses an address the way it will be sent (`Name <a@b.example>` or `a@b.example`).
pub fn mailbox(text: &str) -> Result<Mailbox, String> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|e| format!("\"{text}\" is not an e-mail address ({e})"))
}

/// Whether `host` is this machine.
fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "::1" | "[::1]" | "localhost")
}

impl Config {
    /// Reads a configuration file.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: shown.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let mut config = Config::from_toml(&text, &shown)?;
        if let Some(ca) = config.smtp.as_ref().and_then(|s| s.ca_file.as_deref()) {
            let file = path.parent().unwrap_or(std::path::Path::new(".")).join(ca);
            let err = |message: String| ConfigError {
                path: shown.clone(),
                message: format!("[smtp] ca_file \"{ca}\": {message}"),
            };
            let pem = std::fs::read(&file).map_err(|e| err(format!("cannot read it: {e}")))?;
            if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                return Err(err("no PEM certificate in it".into()));
            }
            lettre::transport::smtp::client::Certificate::from_pem(&pem)
                .map_err(|e| err(format!("not a usable certificate ({e})")))?;
            config.ca_pem = Some(pem);
        }
        Ok(config)
    }

    /// Parses and checks a configuration's text.
    pub fn from_toml(text: &str, shown: &str) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: shown.to_string(),
            message,
        };
        let form = Form::parse(text).map_err(err)?;
        let list = |key: &str, values: &[String]| -> Result<Vec<Mailbox>, ConfigError> {
            values
                .iter()
                .map(|v| mailbox(v).map_err(|m| err(format!("{key}: {m}"))))
                .collect()
        };
        let from = mailbox(&form.from).map_err(|m| err(format!("from: {m}")))?;
        let management = list("management", &form.management)?;
        let management_cc = list("management_cc", &form.management_cc)?;
        let mb = form.max_attachment_mb.unwrap_or(10.0);
        if !(mb.is_finite() && mb > 0.0) {
            return Err(err(format!(
                "max_attachment_mb = {mb}: must be a size in MB above 0"
            )));
        }
        if let Some(smtp) = &form.smtp {
            if smtp.host.trim().is_empty() {
                return Err(err("[smtp] host is empty".into()));
            }
            if smtp.security == Security::None && !is_loopback(&smtp.host) {
                return Err(err(format!(
                    "[smtp] security = \"none\" is allowed only for a server on this machine (127.0.0.1), not {}",
                    smtp.host
                )));
            }
            if smtp.user.is_some() != smtp.password_env.is_some() {
                return Err(err(
                    "[smtp] user and password_env go together (password_env names the environment variable holding the password)".into(),
                ));
            }
        }
        let mut customers = BTreeMap::new();
        for (name, r) in &form.customers {
            let key = format!("customers.\"{name}\"");
            if r.to.is_empty() {
                return Err(err(format!("{key}: to is empty")));
            }
            customers.insert(
                name.clone(),
                (
                    list(&format!("{key}.to"), &r.to)?,
                    list(&format!("{key}.cc"), &r.cc)?,
                ),
            );
        }
        Ok(Config {
            from,
            management,
            management_cc,
            attach_accounts: form.attach_accounts,
            max_attachment_bytes: (mb * 1024.0 * 1024.0) as u64,
            smtp: form.smtp,
            customers,
            ca_pem: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"
from = "Audit Desk <audit@msp.example>"
management = ["ceo@msp.example"]
attach_accounts = true
max_attachment_mb = 5

[smtp]
host = "smtp.msp.example"
user = "audit@msp.example"
password_env = "SMTP_PASSWORD"

[customers."Acme Retail"]
to = ["cto@acme.example"]
cc = ["Audit <audit@acme.example>"]
"#;

    #[test]
    fn a_project_files_deliver_table_reads_like_a_configuration() {
        let project = format!(
            "[report]\ninputs = [\"e\"]\n\n[deliver]\n{}",
            GOOD.trim_start()
                .replace("[smtp]", "[deliver.smtp]")
                .replace("[customers.", "[deliver.customers.")
        );
        let c = Config::from_toml(&project, "aliaudit.toml").unwrap();
        let alone = Config::from_toml(GOOD, "d.toml").unwrap();
        assert_eq!(c.from, alone.from);
        assert_eq!(c.smtp, alone.smtp);
        assert_eq!(c.management, alone.management);
        // Errors name the line of the project file.
        let typo = project.replace("attach_accounts", "attach_acounts");
        let e = Config::from_toml(&typo, "aliaudit.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("aliaudit.toml: line 7, column 1: "), "{e}");
        assert!(e.contains("attach_acounts"), "{e}");
        let e = Config::from_toml("[report]\ninputs = []\n", "aliaudit.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "aliaudit.toml: a project file without a [deliver] table");
    }

    #[test]
    fn a_full_configuration_reads() {
        let c = Config::from_toml(GOOD, "d.toml").unwrap();
        assert_eq!(c.from.email.to_string(), "audit@msp.example");
        assert_eq!(c.from.name.as_deref(), Some("Audit Desk"));
        assert_eq!(c.max_attachment_bytes, 5 * 1024 * 1024);
        let smtp = c.smtp.unwrap();
        assert_eq!(smtp.port(), 587);
        assert_eq!(smtp.security, Security::Starttls);
        let (to, cc) = &c.customers["Acme Retail"];
        assert_eq!(to[0].email.to_string(), "cto@acme.example");
        assert_eq!(cc[0].name.as_deref(), Some("Audit"));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                GOOD.replace("ceo@msp.example", "ceo at msp"),
                "management: \"ceo at msp\" is not an e-mail address",
            ),
            (
                GOOD.replace("attach_accounts", "attach_acounts"),
                "attach_acounts",
            ),
            (
                GOOD.replace("max_attachment_mb = 5", "max_attachment_mb = 0"),
                "max_attachment_mb = 0",
            ),
            (
                GOOD.replace(
                    "host = \"smtp.msp.example\"",
                    "host = \"smtp.msp.example\"\nsecurity = \"none\"",
                ),
                "allowed only for a server on this machine",
            ),
            (
                GOOD.replace("password_env = \"SMTP_PASSWORD\"", ""),
                "user and password_env go together",
            ),
            (GOOD.replace("password_env", "password"), "password"),
            (
                GOOD.replace("cto@acme.example", "cto@"),
                "customers.\"Acme Retail\".to: \"cto@\"",
            ),
        ];
        for (text, expected) in cases {
            let e = Config::from_toml(&text, "d.toml").unwrap_err().to_string();
            assert!(e.starts_with("d.toml: ") && e.contains(expected), "{e}");
        }
    }

    #[test]
    fn plain_smtp_to_this_machine_is_allowed() {
        let text = "from = \"a@b.example\"\n[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"none\"\n";
        let c = Config::from_toml(text, "d.toml").unwrap();
        assert_eq!(c.smtp.unwrap().port(), 2525);
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_a_config_or_a_named_error(text in "\\PC{0,300}") {
            if let Err(e) = Config::from_toml(&text, "d.toml") {
                proptest::prop_assert!(e.to_string().starts_with("d.toml: "));
            }
        }
    }
}
