//! Credentials for `collect`: from the environment or an aliyun CLI profile, with the role
//! to assume when the account (or the profile) names one.
//!
//! Secrets live in `Secret`, whose `Debug` prints `***` and which has no `Display`, so a
//! secret cannot reach a log line, an error message or a file by formatting.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::accounts::{Credentials, Source};

/// A secret value (AccessKey secret, STS token): readable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub(crate) fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for signing.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// An AccessKey pair, with an STS token when it is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPair {
    /// AccessKey id (not secret; shown in logs).
    pub(crate) id: String,
    /// AccessKey secret.
    pub(crate) secret: Secret,
    /// STS security token.
    pub(crate) token: Option<Secret>,
}

/// A role to assume with a key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Role {
    /// `acs:ram::UID:role/NAME`.
    pub(crate) arn: String,
    /// Session name.
    pub(crate) session_name: String,
    /// External id of the trust policy.
    pub(crate) external_id: Option<String>,
}

/// How to call an account's APIs: a key pair, and the roles to assume with it in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The starting key pair.
    pub(crate) keys: KeyPair,
    /// Roles to assume, in order (a profile's role, then the account's).
    pub(crate) roles: Vec<Role>,
}

/// Errors finding credentials (never holding a secret).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub(crate) struct CredentialsError(String);

/// Where variables come from (the process environment, or a map in tests).
pub trait Vars {
    /// A variable's value, when set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Vars for std::collections::BTreeMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
    }
}

/// The first of `names` that is set.
fn first(vars: &dyn Vars, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| vars.var(n))
}

/// The key pair of the environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `_SECRET` and
/// `_SECURITY_TOKEN`, or the aliases the aliyun CLI accepts.
fn from_env(vars: &dyn Vars) -> Result<KeyPair, CredentialsError> {
    let id = first(
        vars,
        &[
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABACLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY",
        ],
    );
    let secret = first(
        vars,
        &[
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABACLOUD_ACCESS_KEY_SECRET",
            "ALICLOUD_ACCESS_KEY_SECRET",
            "ALICLOUD_SECRET_KEY",
        ],
    );
    let token = first(
        vars,
        &[
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "ALIBABACLOUD_SECURITY_TOKEN",
            "ALICLOUD_SECURITY_TOKEN",
        ],
    );
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(KeyPair {
            id,
            secret: Secret::new(secret),
            token: token.map(Secret::new),
        }),
        _ => Err(CredentialsError(
            "credentials = \"env\", but ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not both set".into(),
        )),
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    ram_role_arn: String,
    #[serde(default)]
    ram_session_name: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    source_profile: String,
}

/// The aliyun CLI's configuration file: `ALIBABA_CLOUD_CONFIG_FILE`, else
/// `~/.aliyun/config.json`.
fn config_path(vars: &dyn Vars) -> Option<PathBuf> {
    vars.var("ALIBABA_CLOUD_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            vars.var("HOME")
                .map(|h| Path::new(&h).join(".aliyun/config.json"))
        })
}

/// Reads the aliyun CLI's configuration file: its path as shown, and its text.
pub(crate) fn read_config(vars: &dyn Vars) -> Result<(String, String), CredentialsError> {
    let path = config_path(vars).ok_or_else(|| {
        CredentialsError(
            "a profile is named, but neither ALIBABA_CLOUD_CONFIG_FILE nor HOME is set".into(),
        )
    })?;
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((shown, text)),
        Err(e) => Err(CredentialsError(format!("{shown}: cannot read it ({e})"))),
    }
}

/// Resolves a profile of the aliyun CLI's configuration (`text`, read from `shown`) to a
/// plan. Modes `AK`, `StsToken`, `RamRoleArn` and `ChainableRamRoleArn` are supported.
fn from_profile(text: &str, shown: &str, name: &str) -> Result<Plan, CredentialsError> {
    let config: ConfigFile = serde_json::from_str(text).map_err(|e| {
        // Only the place: serde_json's message can quote a value, and values here are secrets.
        CredentialsError(format!(
            "{shown}: not an aliyun CLI configuration (error at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    resolve_profile(&config, shown, name, 0)
}

fn resolve_profile(
    config: &ConfigFile,
    shown: &str,
    name: &str,
    depth: usize,
) -> Result<Plan, CredentialsError> {
    if depth > 4 {
        return Err(CredentialsError(format!(
            "{shown}: profile \"{name}\": source_profile chain is too long (a loop?)"
        )));
    }
    let p = config
        .profiles
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| CredentialsError(format!("{shown}: no profile named \"{name}\"")))?;
    let keys = || -> Result<KeyPair, CredentialsError> {
        if p.access_key_id.is_empty() || p.access_key_secret.is_empty() {
            return Err(CredentialsError(format!(
                "{shown}: profile \"{name}\" (mode {}) has no access_key_id or access_key_secret",
                p.mode
            )));
        }
        Ok(KeyPair {
            id: p.access_key_id.clone(),
            secret: Secret::new(p.access_key_secret.clone()),
            token: None,
        })
    };
    let role = || Role {
        arn: p.ram_role_arn.clone(),
        session_name: if p.ram_session_name.is_empty() {
            "aliaudit".into()
        } else {
            p.ram_session_name.clone()
        },
        external_id: (!p.external_id.is_empty()).then(|| p.external_id.clone()),
    };
    match p.mode.to_ascii_lowercase().as_str() {
        "ak" => Ok(Plan {
            keys: keys()?,
            roles: Vec::new(),
        }),
        "ststoken" => {
            let mut k = keys()?;
            if p.sts_token.is_empty() {
                return Err(CredentialsError(format!(
                    "{shown}: profile \"{name}\" (mode StsToken) has no sts_token"
                )));
            }
            k.token = Some(Secret::new(p.sts_token.clone()));
            Ok(Plan {
                keys: k,
                roles: Vec::new(),
            })
        }
        "ramrolearn" => Ok(Plan {
            keys: keys()?,
            roles: vec![role()],
        }),
        "chainableramrolearn" => {
            let mut plan = resolve_profile(config, shown, &p.source_profile, depth + 1)?;
            plan.roles.push(role());
            Ok(plan)
        }
        other => Err(CredentialsError(format!(
            "{shown}: profile \"{name}\" uses mode {other:?}, which collect does not support (AK, StsToken, RamRoleArn, ChainableRamRoleArn)"
        ))),
    }
}

/// The plan for an account's `credentials`: `read_config` gives the aliyun CLI's
/// configuration (path shown, text) when a profile is named.
pub(crate) fn plan(
    credentials: &Credentials,
    vars: &dyn Vars,
    read_config: &dyn Fn() -> Result<(String, String), CredentialsError>,
) -> Result<Plan, CredentialsError> {
    let source_plan = |source: &Source| -> Result<Plan, CredentialsError> {
        match source {
            Source::Env(_) => Ok(Plan {
                keys: from_env(vars)?,
                roles: Vec::new(),
            }),
            Source::Profile { profile } => {
                let (shown, text) = read_config()?;
                from_profile(&text, &shown, profile)
            }
        }
    };
    match credentials {
        Credentials::Direct(source) => source_plan(source),
        Credentials::AssumeRole {
            assume_role,
            from,
            external_id,
            session_name,
        } => {
            let mut plan = source_plan(from)?;
            plan.roles.push(Role {
                arn: assume_role.clone(),
                session_name: session_name.clone().unwrap_or_else(|| "aliaudit".into()),
                external_id: external_id.clone(),
            });
            Ok(plan)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::accounts::EnvWord;

    const CONFIG: &str = r#"{
  "current": "default",
  "profiles": [
    { "name": "default", "mode": "AK", "access_key_id": "LTAIdefault", "access_key_secret": "s3cret-default" },
    { "name": "temp", "mode": "StsToken", "access_key_id": "STS.temp", "access_key_secret": "s3cret-temp", "sts_token": "tok-temp" },
    { "name": "customer-a", "mode": "RamRoleArn", "access_key_id": "LTAIa", "access_key_secret": "s3cret-a",
      "ram_role_arn": "acs:ram::1234567890123456:role/msp-audit", "ram_session_name": "msp", "external_id": "ext-a" },
    { "name": "customer-b", "mode": "ChainableRamRoleArn", "source_profile": "default",
      "ram_role_arn": "acs:ram::2345678901234567:role/msp-audit" },
    { "name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop", "ram_role_arn": "acs:ram::1:role/x" },
    { "name": "ecs", "mode": "EcsRamRole" }
  ],
  "meta_path": ""
}"#;

    fn vars(pairs: &[(&'static str, &'static str)]) -> BTreeMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn env_credentials_and_their_aliases() {
        let k = from_env(&vars(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cret-env"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok-env"),
        ]))
        .unwrap();
        assert_eq!(k.id, "LTAIenv");
        assert_eq!(k.secret.expose(), "s3cret-env");
        assert_eq!(k.token.unwrap().expose(), "tok-env");
        let alias = from_env(&vars(&[
            ("ALICLOUD_ACCESS_KEY", "LTAItf"),
            ("ALICLOUD_SECRET_KEY", "s3cret-tf"),
        ]))
        .unwrap();
        assert_eq!(alias.id, "LTAItf");
        assert!(alias.token.is_none());
        let e = from_env(&vars(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIx")])).unwrap_err();
        assert!(e.0.contains("are not both set"));
    }

    #[test]
    fn profiles_of_each_supported_mode() {
        let p = from_profile(CONFIG, "config.json", "default").unwrap();
        assert_eq!((p.keys.id.as_str(), p.roles.len()), ("LTAIdefault", 0));
        let p = from_profile(CONFIG, "config.json", "temp").unwrap();
        assert_eq!(p.keys.token.unwrap().expose(), "tok-temp");
        let p = from_profile(CONFIG, "config.json", "customer-a").unwrap();
        assert_eq!(
            p.roles,
            vec![Role {
                arn: "acs:ram::1234567890123456:role/msp-audit".into(),
                session_name: "msp".into(),
                external_id: Some("ext-a".into()),
            }]
        );
        let p = from_profile(CONFIG, "config.json", "customer-b").unwrap();
        assert_eq!(p.keys.id, "LTAIdefault");
        assert_eq!(p.roles[0].session_name, "aliaudit");
        for (name, expected) in [
            ("nobody", "no profile named \"nobody\""),
            (
                "ecs",
                "uses mode \"ecsramrole\", which collect does not support",
            ),
            ("loop", "chain is too long"),
        ] {
            let e = from_profile(CONFIG, "config.json", name).unwrap_err();
            assert!(e.0.contains(expected), "{e}");
        }
    }

    #[test]
    fn an_account_role_is_assumed_after_the_profile_roles() {
        let creds = Credentials::AssumeRole {
            assume_role: "acs:ram::9999999999999999:role/audit".into(),
            from: Source::Profile {
                profile: "customer-a".into(),
            },
            external_id: None,
            session_name: None,
        };
        let read = || Ok(("config.json".to_string(), CONFIG.to_string()));
        let p = plan(&creds, &vars(&[]), &read).unwrap();
        let arns: Vec<&str> = p.roles.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "acs:ram::1234567890123456:role/msp-audit",
                "acs:ram::9999999999999999:role/audit"
            ]
        );
        let env = Credentials::Direct(Source::Env(EnvWord::Env));
        assert!(plan(&env, &vars(&[]), &read).is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output_or_errors() {
        let p = from_profile(CONFIG, "config.json", "temp").unwrap();
        let debug = format!("{p:?}");
        assert!(debug.contains("STS.temp"));
        for secret in ["s3cret-temp", "tok-temp"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        // A wrong type where a secret stands: the error gives the place, not the value.
        let broken = CONFIG.replace("\"s3cret-default\"", "[\"s3cret-default\"]");
        let e = from_profile(&broken, "config.json", "default").unwrap_err();
        assert!(e.0.contains("error at line 4"), "{e}");
        for secret in ["s3cret-default", "s3cret-a", "tok-temp"] {
            assert!(!e.0.contains(secret), "{e}");
        }
    }

    proptest::proptest! {
        /// Any text as a CLI configuration gives a plan or an error that quotes none of it
        /// past the path: never a panic, never a secret.
        #[test]
        fn any_config_text_resolves_without_panic(cut in 0usize..1200, junk in "\\PC{0,12}") {
            let mut text = CONFIG.to_string();
            let at = cut.min(text.len());
            if text.is_char_boundary(at) {
                text.insert_str(at, &junk);
                for name in ["default", "temp", "customer-a", "customer-b", "loop", "ecs"] {
                    if let Err(e) = from_profile(&text, "config.json", name) {
                        for secret in ["s3cret-default", "s3cret-a", "tok-temp"] {
                            proptest::prop_assert!(!e.0.contains(secret));
                        }
                    }
                }
            }
        }
    }
}
