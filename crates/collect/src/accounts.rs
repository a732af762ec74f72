//! The accounts file of `aliaudit collect` (TOML, unknown keys rejected): where each
//! account's evidence goes, who it belongs to, which site it is on and how to reach it.

use serde::Deserialize;

/// Which Alibaba Cloud site an account is on (it picks the Security Center endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Site {
    /// China site: `tds.aliyuncs.com`.
    #[default]
    China,
    /// International site: `tds.ap-southeast-1.aliyuncs.com`.
    International,
}

/// Where a credential comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Source {
    /// `"env"`: the `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `_SECURITY_TOKEN` variables.
    Env(EnvWord),
    /// `{ profile = "NAME" }`: a profile of the aliyun CLI's `config.json`.
    Profile {
        /// Profile name.
        profile: String,
    },
}

/// The word `env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EnvWord {
    /// `env`.
    Env,
}

/// How to reach an account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Credentials {
    /// `{ assume_role = "acs:ram::UID:role/NAME", from = ..., external_id, session_name }`:
    /// the MSP pattern, a role in the customer's account assumed from our own credentials.
    AssumeRole {
        /// The role's ARN.
        assume_role: String,
        /// The credentials that assume it.
        from: Source,
        /// The trust policy's external id.
        #[serde(default)]
        external_id: Option<String>,
        /// The session name (default `aliaudit`).
        #[serde(default)]
        session_name: Option<String>,
    },
    /// Env or a profile, used directly.
    Direct(Source),
}

/// Base URLs that replace the real hosts (tests, private endpoints).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Endpoints {
    /// Ims (identity) API.
    pub(crate) ims: Option<String>,
    /// Security Center API.
    pub(crate) sas: Option<String>,
    /// STS API.
    pub(crate) sts: Option<String>,
}

/// `[defaults]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defaults {
    /// Site of accounts that do not say.
    pub(crate) site: Option<Site>,
    /// Language of Security Center titles (`en` or `zh`).
    pub(crate) lang: Option<String>,
}

/// One `[[account]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    /// Output folder, relative to `-o`.
    pub(crate) folder: String,
    /// Display name.
    pub(crate) name: Option<String>,
    /// The customer the account is reported under.
    pub(crate) customer: Option<String>,
    /// Management contacts (e-mail addresses).
    #[serde(default)]
    pub(crate) contacts: Vec<String>,
    /// Site (default from `[defaults]`, else china).
    pub(crate) site: Option<Site>,
    /// How to reach it.
    pub(crate) credentials: Credentials,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    endpoints: Endpoints,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    account: Vec<toml::Spanned<AccountEntry>>,
}

/// A checked accounts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsFile {
    /// Endpoint overrides.
    pub(crate) endpoints: Endpoints,
    /// What applies to every account that does not say otherwise.
    pub(crate) defaults: Defaults,
    /// Accounts, in file order, each with its line.
    pub accounts: Vec<(usize, AccountEntry)>,
}

/// Errors in an accounts file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct AccountsError {
    path: String,
    message: String,
}

/// Whether `arn` is `acs:ram::<UID>:role/<name>`.
fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("acs:ram::") else {
        return false;
    };
    let Some((uid, role)) = rest.split_once(":role/") else {
        return false;
    };
    !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()) && !role.trim().is_empty()
}

/// Why `folder` cannot be an account folder, if it cannot: it must be a relative path inside
/// the output folder that `report` reads back as the same folder, so `/`-separated parts,
/// none empty, none starting with `.` (report skips hidden parts, and `.`/`..` are not
/// folders), no backslash, no control or bidirectional characters.
fn folder_problem(folder: &str) -> Option<&'static str> {
    let parts = || folder.split('/');
    if folder.is_empty()
        || folder.starts_with(['/', '\\'])
        || folder.contains(':')
        || parts().any(|p| p == "." || p == "..")
    {
        Some("must be a relative path inside the output folder")
    } else if folder.contains('\\') {
        Some("has a backslash: separate folders with /")
    } else if folder
        .chars()
        .any(|c| c.is_control() || aliaudit_core::diag::is_bidi_or_separator(c))
    {
        Some("has a control or bidirectional character")
    } else if parts().any(str::is_empty) {
        Some("has an empty part (a doubled or trailing /)")
    } else if parts().any(|p| p.starts_with('.')) {
        Some("has a part starting with \".\", which report skips as hidden")
    } else {
        None
    }
}

/// Whether the folder `inner` lies inside the folder `outer` (or is it).
fn nested(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl AccountsFile {
    /// Parses and checks an accounts file's text. `is_address` decides whether a contact is
    /// an e-mail address: the caller passes the parser delivery will use, which collect does
    /// not depend on.
    pub fn from_toml(
        text: &str,
        path: &str,
        is_address: fn(&str) -> bool,
    ) -> Result<AccountsFile, AccountsError> {
        let err = |message: String| AccountsError {
            path: path.to_string(),
            message,
        };
        let form: FileForm =
            toml::from_str(text).map_err(|e| err(aliaudit_core::diag::toml_error(text, &e)))?;
        for (key, url) in [
            ("ims", &form.endpoints.ims),
            ("sas", &form.endpoints.sas),
            ("sts", &form.endpoints.sts),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(err(format!(
                    "[endpoints] {key} \"{url}\" is not an http:// or https:// URL"
                )));
            }
        }
        if let Some(lang) = &form.defaults.lang
            && lang != "en"
            && lang != "zh"
        {
            return Err(err(format!("[defaults] lang \"{lang}\" is not en or zh")));
        }
        if form.account.is_empty() {
            return Err(err("no [[account]] entries".into()));
        }
        let mut accounts: Vec<(usize, AccountEntry)> = Vec::new();
        for (n, spanned) in form.account.into_iter().enumerate() {
            let line = aliaudit_core::diag::line_col(text, spanned.span().start).0;
            let entry = spanned.into_inner();
            let at = format!("account {} (line {line})", n + 1);
            let shown = aliaudit_core::diag::printable(&entry.folder);
            if let Some(problem) = folder_problem(&entry.folder) {
                return Err(err(format!("{at}: folder \"{shown}\" {problem}")));
            }
            for (k, (_, earlier)) in accounts.iter().enumerate() {
                let other: &str = &earlier.folder;
                if other == entry.folder {
                    return Err(err(format!(
                        "{at}: folder \"{shown}\" is used by an earlier account"
                    )));
                }
                if nested(other, &entry.folder) || nested(&entry.folder, other) {
                    return Err(err(format!(
                        "{at}: folder \"{shown}\" and the folder \"{other}\" of account {} are nested; each account needs a folder of its own",
                        k + 1
                    )));
                }
            }
            if let Some(bad) = entry.contacts.iter().find(|c| !is_address(c)) {
                return Err(err(format!(
                    "{at}: contact \"{bad}\" is not an e-mail address"
                )));
            }
            if let Credentials::AssumeRole {
                assume_role,
                session_name,
                ..
            } = &entry.credentials
            {
                if !is_role_arn(assume_role) {
                    return Err(err(format!(
                        "{at}: assume_role \"{assume_role}\" is not a role ARN (acs:ram::UID:role/NAME)"
                    )));
                }
                if let Some(name) = session_name
                    && !(2..=64).contains(&name.len())
                {
                    return Err(err(format!(
                        "{at}: session_name must be 2 to 64 characters"
                    )));
                }
            }
            accounts.push((line, entry));
        }
        Ok(AccountsFile {
            endpoints: form.endpoints,
            defaults: form.defaults,
            accounts,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"
[endpoints]
ims = "http://127.0.0.1:8080"

[defaults]
site = "international"
lang = "zh"

[[account]]
folder = "acme/prod"
name = "Acme prod"
customer = "Acme"
contacts = ["cto@acme.example"]
credentials = "env"

[[account]]
folder = "acme/dev"
site = "china"
credentials = { profile = "acme-dev" }

[[account]]
folder = "globex/main"
credentials = { assume_role = "acs:ram::1234567890123456:role/msp-audit", from = "env", external_id = "x-1", session_name = "audit-q3" }

[[account]]
folder = "initech/main"
credentials = { assume_role = "acs:ram::2234567890123456:role/msp-audit", from = { profile = "msp" } }
"#;

    /// A stand-in for delivery's address parser (tests/collect.rs runs the real one).
    fn is_address(text: &str) -> bool {
        text.contains('@')
    }

    fn parse(text: &str) -> Result<AccountsFile, String> {
        AccountsFile::from_toml(text, "accounts.toml", is_address).map_err(|e| e.to_string())
    }

    #[test]
    fn every_credential_shape_parses() {
        let f = parse(GOOD).unwrap();
        assert_eq!(f.endpoints.ims.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(f.defaults.site, Some(Site::International));
        assert_eq!(f.accounts.len(), 4);
        assert_eq!(f.accounts[0].0, 9);
        assert_eq!(
            f.accounts[0].1.credentials,
            Credentials::Direct(Source::Env(EnvWord::Env))
        );
        assert_eq!(
            f.accounts[1].1.credentials,
            Credentials::Direct(Source::Profile {
                profile: "acme-dev".into()
            })
        );
        assert_eq!(f.accounts[1].1.site, Some(Site::China));
        match &f.accounts[2].1.credentials {
            Credentials::AssumeRole {
                assume_role,
                from,
                external_id,
                session_name,
            } => {
                assert_eq!(assume_role, "acs:ram::1234567890123456:role/msp-audit");
                assert_eq!(from, &Source::Env(EnvWord::Env));
                assert_eq!(external_id.as_deref(), Some("x-1"));
                assert_eq!(session_name.as_deref(), Some("audit-q3"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &f.accounts[3].1.credentials,
            Credentials::AssumeRole {
                from: Source::Profile { .. },
                ..
            }
        ));
    }

    #[test]
    fn bad_files_name_the_account_and_the_key() {
        let cases = [
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"../escape\""),
                "account 2 (line 16): folder \"../escape\" must be a relative path",
            ),
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"/etc\""),
                "must be a relative path",
            ),
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"acme/prod\""),
                "account 2 (line 16): folder \"acme/prod\" is used by an earlier account",
            ),
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"acme/.dev\""),
                "account 2 (line 16): folder \"acme/.dev\" has a part starting with \".\", which report skips as hidden",
            ),
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"acme/prod/eu\""),
                "account 2 (line 16): folder \"acme/prod/eu\" and the folder \"acme/prod\" of account 1 are nested",
            ),
            (
                GOOD.replace("folder = \"acme/dev\"", "folder = \"acme\""),
                "account 2 (line 16): folder \"acme\" and the folder \"acme/prod\" of account 1 are nested",
            ),
            (
                GOOD.replace(
                    "role/msp-audit\", from = \"env\"",
                    "user/bob\", from = \"env\"",
                ),
                "is not a role ARN",
            ),
            (
                GOOD.replace("cto@acme.example", "not an address"),
                "contact \"not an address\" is not an e-mail address",
            ),
            (
                GOOD.replace(
                    "ims = \"http://127.0.0.1:8080\"",
                    "ims = \"127.0.0.1:8080\"",
                ),
                "[endpoints] ims \"127.0.0.1:8080\" is not an http:// or https:// URL",
            ),
            (
                GOOD.replace("lang = \"zh\"", "lang = \"fr\""),
                "lang \"fr\" is not en or zh",
            ),
            (
                GOOD.replace("site = \"china\"", "site = \"mars\""),
                "unknown variant `mars`",
            ),
            (
                GOOD.replace("name = \"Acme prod\"", "nmae = \"Acme prod\""),
                "unknown field `nmae`",
            ),
            (
                GOOD.replace("credentials = \"env\"", "credentials = \"environment\""),
                "line",
            ),
            (
                "[defaults]\nsite = \"china\"\n".to_string(),
                "no [[account]] entries",
            ),
        ];
        for (text, expected) in cases {
            let e = parse(&text).unwrap_err();
            assert!(e.starts_with("accounts.toml: "), "{e}");
            assert!(e.contains(expected), "{e} lacks {expected}");
        }
    }

    #[test]
    fn only_folders_report_reads_back_as_themselves_are_accepted() {
        for good in [
            "acme",
            "acme/prod",
            "acme/prod.eu",
            "客户/生产",
            "a b/c-d_e",
        ] {
            assert_eq!(folder_problem(good), None, "{good}");
        }
        for (bad, problem) in [
            ("", "must be a relative path"),
            ("/etc", "must be a relative path"),
            ("\\\\server\\x", "must be a relative path"),
            ("c:/x", "must be a relative path"),
            ("acme/../x", "must be a relative path"),
            ("./acme", "must be a relative path"),
            ("acme\\prod", "backslash"),
            ("acme/pr\u{7}od", "control"),
            ("acme/\u{202e}dorp", "bidirectional"),
            ("acme/prod\n", "control"),
            ("acme/", "empty part"),
            ("acme//prod", "empty part"),
            (".aliaudit-collect/x", "starting with \".\""),
            ("acme/.prod", "starting with \".\""),
            ("acme/...", "starting with \".\""),
        ] {
            let found = folder_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(found.contains(problem), "{bad:?}: {found}");
        }
        assert!(nested("acme", "acme/prod") && nested("acme", "acme"));
        assert!(!nested("acme", "acme-dev") && !nested("acme/prod", "acme"));
    }

    #[test]
    fn role_arns_are_checked() {
        assert!(is_role_arn("acs:ram::1234567890123456:role/msp-audit"));
        assert!(!is_role_arn("acs:ram::12ab:role/x"));
        assert!(!is_role_arn("acs:ram::123:role/"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x"));
    }

    proptest::proptest! {
        /// Any text, and any damage to a good file, gives a file or an error naming the
        /// path: never a panic.
        #[test]
        fn any_text_is_checked_without_panic(text in "\\PC{0,400}") {
            if let Err(e) = AccountsFile::from_toml(&text, "a.toml", is_address) {
                proptest::prop_assert!(e.to_string().starts_with("a.toml: "));
            }
        }

        #[test]
        fn damaged_files_are_checked_without_panic(cut in 0usize..400, insert in "[\\[\\]=\"{}a-z.\n]{0,8}") {
            let mut text = GOOD.to_string();
            let at = cut.min(text.len());
            if text.is_char_boundary(at) {
                text.insert_str(at, &insert);
                let _ = AccountsFile::from_toml(&text, "a.toml", is_address);
            }
        }
    }
}
