//! `aliaudit collect` against our stand-in cloud on 127.0.0.1 (real HTTP over a real socket,
//! every signature checked by the server's own implementation), then `report` on the result.
#![allow(clippy::unwrap_used)]

#[path = "support/cloud.rs"]
mod cloud;
mod common;

use std::path::{Path, PathBuf};

use cloud::{AccountData, Cloud, Fault, Report};
use serde_json::Value;

const ALPHA: &str = "1100000000000001";
const BETA: &str = "1200000000000002";
const GAMMA: &str = "1300000000000003";
const MSP: &str = "1900000000000009";
const BETA_ROLE: &str = "acs:ram::1200000000000002:role/aliaudit-reader";

const ALPHA_ID: &str = "LTAIalphaEnvKey01";
const ALPHA_SECRET: &str = "alpha-env-s3cret-Zq8";
const MSP_ID: &str = "LTAImspProfile01";
const MSP_SECRET: &str = "msp-profile-s3cret-Wd2";
const GAMMA_ID: &str = "LTAIgammaProfile1";
const GAMMA_SECRET: &str = "gamma-profile-s3cret-Kp5";

/// `summary.json` of `report --format json` over the collected folder `out` (a finished run:
/// exit code 0, or 2 for partial evidence).
fn reported_summary(out: &Path, home: &Path) -> Value {
    let report_out = home.join("report");
    let report = aliaudit(
        &[
            "report",
            out.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            report_out.to_str().unwrap(),
            "--quiet",
        ],
        home,
    );
    assert!(report.code == 0 || report.code == 2, "{}", report.stderr);
    serde_json::from_slice(&std::fs::read(report_out.join("summary.json")).unwrap()).unwrap()
}

/// Runs the binary with alpha's keys in the environment and `home` holding the aliyun CLI
/// configuration.
fn aliaudit(args: &[&str], home: &Path) -> common::Output {
    run_as_alpha(args, home, None)
}

/// Runs the binary with alpha's keys in the environment, and an STS token with them if given.
fn run_as_alpha(args: &[&str], home: &Path, token: Option<&str>) -> common::Output {
    common::run_with(args, |cmd| {
        cmd.env("HOME", home)
            .env("ALIBABA_CLOUD_CONFIG_FILE", home.join("config.json"))
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ALPHA_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALPHA_SECRET);
        match token {
            Some(token) => cmd.env("ALIBABA_CLOUD_SECURITY_TOKEN", token),
            None => cmd.env_remove("ALIBABA_CLOUD_SECURITY_TOKEN"),
        };
    })
}

/// `collect --accounts ACCOUNTS -o OUT EXTRA...`.
fn collect(accounts: &Path, out: &Path, extra: &[&str], home: &Path) -> common::Output {
    collect_args(accounts, out, extra, home, None)
}

fn collect_args(
    accounts: &Path,
    out: &Path,
    extra: &[&str],
    home: &Path,
    token: Option<&str>,
) -> common::Output {
    let mut args = vec![
        "collect",
        "--accounts",
        accounts.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    run_as_alpha(&args, home, token)
}

/// A config.json with the MSP's and gamma's profiles; gamma's secret as given.
fn write_config(home: &Path, gamma_secret: &str) {
    let config = serde_json::json!({
        "current": "msp",
        "profiles": [
            {"name": "msp", "mode": "AK", "access_key_id": MSP_ID, "access_key_secret": MSP_SECRET},
            {"name": "gamma", "mode": "AK", "access_key_id": GAMMA_ID, "access_key_secret": gamma_secret}
        ]
    });
    std::fs::write(home.join("config.json"), config.to_string()).unwrap();
}

fn write_accounts(dir: &Path, cloud: &Cloud) -> PathBuf {
    let text = format!(
        r#"[endpoints]
ims = "{url}"
sas = "{url}"
sts = "{url}/"

[defaults]
site = "china"

[[account]]
folder = "alpha-retail/prod"
name = "Alpha Retail - Production"
customer = "Alpha Retail"
contacts = ["cio@alpha-retail.example"]
credentials = "env"

[[account]]
folder = "beta-logistics/main"
name = "Beta Logistics"
customer = "Beta Logistics"
contacts = ["security@beta-logistics.example", "cfo@beta-logistics.example"]
credentials = {{ assume_role = "{BETA_ROLE}", from = {{ profile = "msp" }}, external_id = "ext-beta-7", session_name = "aliaudit-q4" }}

[[account]]
folder = "gamma-media/intl"
customer = "Gamma Media"
site = "international"
credentials = {{ profile = "gamma" }}
"#,
        url = cloud.url
    );
    let path = dir.join("accounts.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The three accounts with their data; beta's report is expired and paged, its Security
/// Center checks span three pages.
fn world() -> Cloud {
    let cloud = Cloud::start();
    cloud.account(ALPHA, AccountData::fixture("alpha"), Report::Ready);
    let mut beta = AccountData::fixture("beta");
    beta.report_page_rows = 1;
    for n in 0..119 {
        beta.risk.push(serde_json::json!({
            "ItemId": 1000 + n, "Title": format!("Padding check {n}"), "Type": "network",
            "RiskLevel": "low", "Status": "pass", "StartStatus": "enabled", "CheckTime": 1763700000000u64
        }));
    }
    cloud.account(BETA, beta, Report::Expired { polls: 2 });
    cloud.account(GAMMA, AccountData::fixture("gamma"), Report::Ready);
    cloud.key(ALPHA, ALPHA_ID, ALPHA_SECRET);
    cloud.key(MSP, MSP_ID, MSP_SECRET);
    cloud.key(GAMMA, GAMMA_ID, GAMMA_SECRET);
    cloud.role(BETA_ROLE, BETA, MSP, Some("ext-beta-7"));
    cloud
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn log_of(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("collection-log.json")).unwrap()).unwrap()
}

fn calls<'a>(cloud: &'a [cloud::Seen], uid: &str, action: &str) -> Vec<&'a cloud::Seen> {
    cloud
        .iter()
        .filter(|s| s.uid.as_deref() == Some(uid) && s.action == action)
        .collect()
}

#[test]
fn collects_three_accounts_then_reports_on_them() {
    let cloud = world();
    // gamma: throttled twice (the server asks for 700 ms, far more than --backoff-ms), one
    // 500, one answer too slow.
    cloud.fault(
        GAMMA,
        "GetPasswordPolicy",
        Fault::Throttle {
            times: 2,
            retry_after_ms: Some(700),
        },
    );
    cloud.fault(GAMMA, "ListCheckResult", Fault::ServerError { times: 1 });
    cloud.fault(
        GAMMA,
        "GetSecurityPreference",
        Fault::Slow {
            times: 1,
            millis: 2500,
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    write_config(home, GAMMA_SECRET);
    let accounts = write_accounts(home, &cloud);
    let out = home.join("evidence");
    let run = collect(
        &accounts,
        &out,
        &[
            "--backoff-ms",
            "20",
            "--timeout",
            "1",
            "--report-wait",
            "10",
            "--jobs",
            "3",
            "--rate",
            "50",
        ],
        home,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("3 complete, 0 partial, 0 failed"),
        "{}",
        run.stdout
    );
    let seen = cloud.seen();
    // Every request carried a signature the server could verify, and a fresh nonce.
    for s in &seen {
        assert!(
            s.status == 200
                || matches!(
                    s.code.as_deref(),
                    Some("Throttling.User" | "InternalError" | "Expired.CredentialReport")
                ),
            "unexpected answer {s:?}"
        );
    }

    let alpha = out.join("alpha-retail/prod");
    assert_eq!(
        names(&alpha),
        [
            "account.toml",
            "caller-identity.json",
            "check-result-p001.json",
            "check-standards.json",
            "check-structure-p001.json",
            "collection-log.json",
            "credential-report.json",
            "password-policy.json",
            "risk-check-result-p001.json",
            "security-practice-report.json",
            "security-preference.json"
        ]
    );
    let meta = std::fs::read_to_string(alpha.join("account.toml")).unwrap();
    assert!(meta.contains(&format!("uid = \"{ALPHA}\"")), "{meta}");
    assert!(meta.contains("customer = \"Alpha Retail\""), "{meta}");
    assert!(meta.contains("cio@alpha-retail.example"), "{meta}");
    // Saved verbatim: the body is the server's, RequestId included.
    let policy: Value =
        serde_json::from_slice(&std::fs::read(alpha.join("password-policy.json")).unwrap())
            .unwrap();
    assert!(policy["RequestId"].as_str().unwrap().starts_with("REQ-"));
    assert_eq!(policy["PasswordPolicy"]["MinimumPasswordLength"], 14);

    // beta: reached by AssumeRole from the MSP profile, with the external id; the expired
    // report was generated (two polls in progress), read over three pages; three Sas pages.
    let beta = out.join("beta-logistics/main");
    let assume: Vec<_> = seen.iter().filter(|s| s.action == "AssumeRole").collect();
    assert_eq!(assume.len(), 1);
    assert_eq!(assume[0].access_key_id, MSP_ID);
    assert!(
        assume[0].query.contains("ExternalId=ext-beta-7"),
        "{}",
        assume[0].query
    );
    assert!(assume[0].query.contains("RoleSessionName=aliaudit-q4"));
    for s in seen.iter().filter(|s| s.uid.as_deref() == Some(BETA)) {
        assert!(s.access_key_id.starts_with("STS."), "{s:?}");
        assert!(
            s.raw.contains("x-acs-security-token"),
            "token header missing"
        );
    }
    assert_eq!(calls(&seen, BETA, "GenerateCredentialReport").len(), 3);
    assert_eq!(calls(&seen, BETA, "GetCredentialReport").len(), 4);
    assert_eq!(calls(&seen, BETA, "DescribeRiskCheckResult").len(), 3);
    for s in calls(&seen, BETA, "DescribeRiskCheckResult") {
        assert!(s.query.contains("Lang=en") && s.query.contains("PageSize=50"));
    }
    let beta_files = names(&beta);
    for f in [
        "credential-report.json",
        "credential-report-2.json",
        "credential-report-3.json",
        "risk-check-result-p001.json",
        "risk-check-result-p002.json",
        "risk-check-result-p003.json",
        "check-result-p001.json",
    ] {
        assert!(
            beta_files.iter().any(|n| n == f),
            "{f} missing: {beta_files:?}"
        );
    }
    let meta = std::fs::read_to_string(beta.join("account.toml")).unwrap();
    assert!(meta.contains(&format!("uid = \"{BETA}\"")), "{meta}");

    // gamma: the retries, as the server saw them and as the log records them.
    let policy_calls = calls(&seen, GAMMA, "GetPasswordPolicy");
    assert_eq!(policy_calls.len(), 3);
    // x-acs-retry-after was honoured (the backoff alone would wait 10-20 ms).
    for pair in policy_calls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= std::time::Duration::from_millis(700), "{gap:?}");
    }
    assert_eq!(calls(&seen, GAMMA, "ListCheckResult").len(), 2);
    assert_eq!(calls(&seen, GAMMA, "GetSecurityPreference").len(), 2);
    let gamma = out.join("gamma-media/intl");
    let log = log_of(&gamma);
    assert_eq!(log["status"], "complete");
    assert_eq!(log["uid"], GAMMA);
    let policy_call = log["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "GetPasswordPolicy")
        .unwrap();
    assert_eq!(policy_call["attempts"], 3);
    assert_eq!(
        policy_call["retried"],
        serde_json::json!(["Throttling.User (HTTP 400)", "Throttling.User (HTTP 400)"])
    );
    assert_eq!(policy_call["file"], "password-policy.json");
    assert!(
        policy_call["request_id"]
            .as_str()
            .unwrap()
            .starts_with("REQ-")
    );
    let meta = std::fs::read_to_string(gamma.join("account.toml")).unwrap();
    assert!(meta.contains("site = \"international\""), "{meta}");
    // Nothing left in the work folder.
    assert!(!out.join(".aliaudit-collect").exists());

    // report reads what collect wrote.
    let rep = home.join("report");
    let r = aliaudit(
        &[
            "report",
            out.to_str().unwrap(),
            "-o",
            rep.to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            "2026-11-23",
            "--quiet",
        ],
        home,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: Value =
        serde_json::from_slice(&std::fs::read(rep.join("summary.json")).unwrap()).unwrap();
    let accounts = summary["accounts"].as_array().unwrap();
    let ids: Vec<&str> = accounts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    for uid in [ALPHA, BETA, GAMMA] {
        assert!(ids.contains(&uid), "{ids:?}");
    }
    let account = |uid: &str| accounts.iter().find(|a| a["id"] == uid).unwrap();
    let state = |uid: &str, control: &str| {
        account(uid)["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == control)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{control} not in {uid}"))
    };
    assert_eq!(state(BETA, "root.mfa"), "fail");
    assert_eq!(state(ALPHA, "root.mfa"), "pass");
    assert_eq!(state(BETA, "root.no_access_key"), "fail");
    // All three pages of beta's credential report joined: kenji's old key is found.
    let beta_rotation = account(BETA)["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ram.access_key_rotation")
        .unwrap()
        .to_string();
    assert!(
        beta_rotation.contains("kenji@beta-logistics.onaliyun.com"),
        "{beta_rotation}"
    );
    // Every kind of evidence there, all pages (120 Security Center items over three pages).
    for uid in [ALPHA, BETA, GAMMA] {
        assert_eq!(account(uid)["gaps"], serde_json::json!([]), "{uid}");
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(rep.join("manifest.json")).unwrap()).unwrap();
    let log_entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("alpha-retail/prod/collection-log.json")
        })
        .unwrap();
    assert_eq!(log_entry["status"], "ignored");
    assert!(
        log_entry["reason"]
            .as_str()
            .unwrap()
            .contains("collection log")
    );

    // No secret, given or handed out, reached any file or output.
    let mut secrets = vec![
        ALPHA_SECRET.to_string(),
        MSP_SECRET.to_string(),
        GAMMA_SECRET.to_string(),
    ];
    secrets.extend(cloud.issued_secrets());
    assert_eq!(secrets.len(), 5);
    let mut texts = vec![run.stdout, run.stderr, r.stdout, r.stderr];
    for f in files_under(&out).into_iter().chain(files_under(&rep)) {
        texts.push(String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned());
    }
    for secret in &secrets {
        for t in &texts {
            assert!(!t.contains(secret.as_str()), "a secret was written");
        }
    }
}

#[test]
fn permission_and_key_errors_are_reported_per_account_and_resume_redoes_only_the_rest() {
    let cloud = world();
    // alpha may not read Security Center at all; gamma's secret is wrong.
    cloud.fault(ALPHA, "DescribeRiskCheckResult", Fault::Deny);
    cloud.fault(ALPHA, "ListCheckResult", Fault::Deny);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    write_config(home, "not-gamma-s3cret");
    let accounts = write_accounts(home, &cloud);
    let out = home.join("evidence");
    // A folder of the user's own where gamma would go is never replaced...
    std::fs::create_dir_all(out.join("gamma-media/intl")).unwrap();
    std::fs::write(out.join("gamma-media/intl/notes.txt"), "mine").unwrap();
    // ...and a work folder left by an interrupted run is cleared, never read.
    std::fs::create_dir_all(out.join(".aliaudit-collect/alpha-retail/prod")).unwrap();
    std::fs::write(
        out.join(".aliaudit-collect/alpha-retail/prod/half.json"),
        "{}",
    )
    .unwrap();
    let args = [
        "collect",
        "--accounts",
        accounts.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--backoff-ms",
        "20",
        "--report-wait",
        "10",
    ];
    let run = aliaudit(&args, home);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 complete, 1 partial, 1 failed"),
        "{}",
        run.stdout
    );
    let line = |folder: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(folder))
            .unwrap_or_else(|| panic!("no line for {folder}: {}", run.stdout))
            .to_string()
    };
    let alpha_line = line("alpha-retail/prod");
    assert!(alpha_line.contains("partial"), "{alpha_line}");
    assert!(alpha_line.contains("grant yundun-sas:"), "{alpha_line}");
    assert!(line("beta-logistics/main").contains("complete"));
    let gamma_line = line("gamma-media/intl");
    assert!(gamma_line.contains("failed"), "{gamma_line}");
    assert!(
        gamma_line.contains("exists and was not written by aliaudit collect"),
        "{gamma_line}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("gamma-media/intl/notes.txt")).unwrap(),
        "mine"
    );
    // Permission errors are not retried; the log names the missing RAM actions.
    let seen = cloud.seen();
    assert_eq!(calls(&seen, ALPHA, "ListCheckResult").len(), 1);
    let log = log_of(&out.join("alpha-retail/prod"));
    assert_eq!(log["status"], "partial");
    let missing = log["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["evidence"], "Security Center checks");
    assert_eq!(
        missing[0]["ram_actions"],
        serde_json::json!([
            "yundun-sas:DescribeRiskCheckResult",
            "yundun-sas:ListCheckResult"
        ])
    );
    assert!(
        missing[0]["reason"]
            .as_str()
            .unwrap()
            .contains("yundun-sas:DescribeRiskCheckResult")
    );
    assert!(!out.join("alpha-retail/prod/half.json").exists());
    assert!(!out.join(".aliaudit-collect").exists());

    // A log edited by hand to carry terminal controls: --resume shows them escaped.
    let log_path = out.join("beta-logistics/main/collection-log.json");
    let mut log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&log_path).unwrap()).unwrap();
    log["finished"] = serde_json::json!("2026-01-01\nerror: forged\u{1b}[2J");
    std::fs::write(&log_path, serde_json::to_vec(&log).unwrap()).unwrap();
    // With the folder moved away, gamma's wrong secret fails at once: one request, no retry.
    std::fs::remove_dir_all(out.join("gamma-media")).unwrap();
    let before = cloud.seen().len();
    let run = aliaudit(&[&args[..], &["--resume"]].concat(), home);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let seen = cloud.seen();
    let new = &seen[before..];
    let gamma: Vec<_> = new
        .iter()
        .filter(|s| s.code.as_deref() == Some("SignatureDoesNotMatch"))
        .collect();
    assert_eq!(gamma.len(), 1, "{new:?}");
    assert!(!new.iter().any(|s| s.access_key_id == GAMMA_ID));
    let gamma_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("gamma-media/intl"))
        .unwrap();
    assert!(gamma_line.contains("failed"), "{gamma_line}");
    assert!(
        gamma_line.contains("SignatureDoesNotMatch (HTTP 400); the AccessKey secret is wrong"),
        "{gamma_line}"
    );
    assert!(!out.join("gamma-media/intl").exists());
    // --resume: beta was complete and is not asked again; alpha (partial) is.
    assert!(
        !new.iter()
            .any(|s| s.uid.as_deref() == Some(BETA) || s.access_key_id == MSP_ID)
    );
    assert!(new.iter().any(|s| s.uid.as_deref() == Some(ALPHA)));
    assert!(run.stdout.contains("beta-logistics/main"));
    assert!(run.stdout.contains("skipped"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("already complete (2026-01-01\\nerror: forged\\x1b[2J)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'));
    assert!(!run.stdout.lines().any(|l| l.starts_with("error: forged")));
    // The server's echo of its string to sign (no secret in it) is cut and kept one line.
    assert!(!gamma_line.contains("not-gamma-s3cret"));
}

#[test]
fn a_bad_accounts_file_is_fatal_and_names_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let file = home.join("accounts.toml");
    std::fs::write(
        &file,
        "[[account]]\nfolder = \"a\"\ncredentials = \"env\"\n\n[[account]]\nfolder = \"../b\"\ncredentials = \"env\"\n",
    )
    .unwrap();
    let out = home.join("out");
    let run = collect(&file, &out, &[], home);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("account 2 (line 5)") && run.stderr.contains("../b"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
}

#[test]
fn a_contact_delivery_could_not_send_to_is_fatal() {
    // Addresses with an `@` that the e-mail parser still refuses: collect checks contacts with
    // the parser delivery uses.
    for bad in ["bob@", "a b@c.example"] {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        let file = home.join("accounts.toml");
        std::fs::write(
            &file,
            format!(
                "[[account]]\nfolder = \"a\"\ncredentials = \"env\"\ncontacts = [\"Bob <bob@a.example>\"]\n[[account]]\nfolder = \"b\"\ncredentials = \"env\"\ncontacts = [\"ok@b.example\", {bad:?}]\n"
            ),
        )
        .unwrap();
        let out = home.join("out");
        let run = collect(&file, &out, &[], home);
        assert_eq!(run.code, 1, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "account 2 (line 5): contact \"{bad}\" is not an e-mail address"
            )),
            "{}",
            run.stderr
        );
        assert!(!out.exists());
    }
}

#[test]
fn the_readme_and_help_give_the_policy_collect_needs() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(aliaudit_collect::POLICY));
    let tmp = tempfile::tempdir().unwrap();
    let help = aliaudit(&["collect", "--help"], tmp.path());
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains(aliaudit_collect::POLICY),
        "{}",
        help.stdout
    );
    // The policy is valid JSON naming every action collect calls.
    let policy: Value = serde_json::from_str(aliaudit_collect::POLICY).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array().unwrap();
    assert_eq!(actions.len(), 9);
}

#[test]
fn an_unreachable_endpoint_fails_the_account_without_writing_it() {
    // A port with nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let file = home.join("accounts.toml");
    std::fs::write(
        &file,
        format!(
            "[endpoints]\nims = \"http://127.0.0.1:{port}\"\nsas = \"http://127.0.0.1:{port}\"\nsts = \"http://127.0.0.1:{port}\"\n\n[[account]]\nfolder = \"lost\"\ncredentials = \"env\"\n"
        ),
    )
    .unwrap();
    let out = home.join("out");
    let run = collect(&file, &out, &["--retries", "2", "--backoff-ms", "10"], home);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let first = run.stdout.lines().nth(1).unwrap();
    assert!(
        first.starts_with("lost") && first.contains("failed"),
        "{first}"
    );
    assert!(
        first.contains("GetCallerIdentity connection after 3 attempts"),
        "{first}"
    );
    // Later calls to the same endpoint are not retried all over again.
    assert!(
        run.stdout.contains("GetPasswordPolicy not tried"),
        "{}",
        run.stdout
    );
    assert!(!out.join("lost").exists());
    assert!(!out.join(".aliaudit-collect").exists());
}

#[test]
fn security_center_titles_come_in_the_language_asked_for() {
    let cloud = world();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    write_config(home, GAMMA_SECRET);
    // Only alpha: the accounts file's other entries are left out.
    let text = std::fs::read_to_string(write_accounts(home, &cloud)).unwrap();
    let alpha_only = text
        .split("\n[[account]]")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n[[account]]");
    let accounts = home.join("alpha.toml");
    std::fs::write(&accounts, alpha_only).unwrap();
    let out = home.join("evidence");
    let run = collect(&accounts, &out, &["--lang", "zh"], home);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = cloud.seen();
    let sas = calls(&seen, ALPHA, "ListCheckResult");
    assert!(sas.iter().all(|s| s.query.contains("Lang=zh")), "{sas:?}");
    let page =
        std::fs::read_to_string(out.join("alpha-retail/prod/check-result-p001.json")).unwrap();
    assert!(page.contains("【中文】RAM users without MFA"), "{page}");
    assert!(!out.join("beta-logistics").exists());
}

/// An accounts file with alpha only.
fn alpha_only(home: &Path, cloud: &Cloud) -> PathBuf {
    let text = std::fs::read_to_string(write_accounts(home, cloud)).unwrap();
    let alpha = text
        .split("\n[[account]]")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n[[account]]");
    let accounts = home.join("alpha.toml");
    std::fs::write(&accounts, alpha).unwrap();
    accounts
}

#[test]
fn security_center_standards_are_collected_and_their_unchecked_requirements_reported() {
    let cloud = world();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    write_config(home, GAMMA_SECRET);
    let accounts = alpha_only(home, &cloud);
    let out = home.join("evidence");
    let run = collect(&accounts, &out, &["--lang", "zh"], home);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = cloud.seen();
    let folder = out.join("alpha-retail/prod");
    // GetCheckStructure is paged: its one standard on page 1, an empty page 2 ends it.
    for (action, files) in [
        (
            "GetCheckStructure",
            &["check-structure-p001.json", ""] as &[&str],
        ),
        ("ListCheckStandard", &["check-standards.json"]),
    ] {
        let made = calls(&seen, ALPHA, action);
        assert_eq!(made.len(), files.len(), "{action}");
        assert!(made.iter().all(|c| c.query.contains("Lang=zh")), "{made:?}");
        let logged: Vec<Value> = log_of(&folder)["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == action)
            .cloned()
            .collect();
        assert!(logged.iter().all(|c| c["result"] == "ok"), "{logged:?}");
        let logged_files: Vec<&str> = logged
            .iter()
            .map(|c| c["file"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(logged_files, files, "{action}");
    }
    // The report reads them: requirement 612 has no result, so it is not checked.
    let summary = reported_summary(&out, home);
    let standard = &summary["accounts"][0]["vendor_standards"]["standards"][0];
    assert_eq!(standard["name"], "Alpha Cloud Baseline");
    assert_eq!(standard["kind"], "RISK");
    let requirements: Vec<(i64, &str, &str)> = standard["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["name"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        requirements,
        [(611, "Identity", "fail"), (612, "Logging", "not_checked")]
    );

    // Both catalogue calls refused: the catalogue is missing, naming both RAM actions; the
    // checks are still there.
    let cloud = world();
    cloud.fault(ALPHA, "GetCheckStructure", Fault::Deny);
    cloud.fault(ALPHA, "ListCheckStandard", Fault::Deny);
    let accounts = alpha_only(home, &cloud);
    let out = home.join("evidence-denied");
    let run = collect(&accounts, &out, &[], home);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let log = log_of(&out.join("alpha-retail/prod"));
    let missing = log["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{log}");
    assert_eq!(missing[0]["evidence"], "Security Center standards");
    assert_eq!(
        missing[0]["ram_actions"],
        serde_json::json!([
            "yundun-sas:GetCheckStructure",
            "yundun-sas:ListCheckStandard"
        ])
    );
    assert!(
        out.join("alpha-retail/prod/check-result-p001.json")
            .exists()
    );
    assert!(
        !out.join("alpha-retail/prod/check-structure-p001.json")
            .exists()
    );
}

/// Alpha with `count` standards of one requirement each in GetCheckStructure (half `RISK`,
/// half `COMPLIANCE`), and no ListCheckStandard catalogue.
fn alpha_with_standards(count: i64, ignores_paging: bool) -> Cloud {
    let mut alpha = AccountData::fixture("alpha");
    let standard = |n: i64| {
        serde_json::json!({"Id": 7000 + n, "ShowName": format!("Standard {n}"),
            "Requirements": [{"Id": 70000 + n, "ShowName": format!("Requirement {n}"),
                "Sections": [{"Id": 700000 + n, "ShowName": "Section"}]}]})
    };
    let half = count / 2;
    alpha.structure = vec![
        serde_json::json!({"StandardType": "RISK",
            "Standards": (0..half).map(standard).collect::<Vec<_>>()}),
        serde_json::json!({"StandardType": "COMPLIANCE",
            "Standards": (half..count).map(standard).collect::<Vec<_>>()}),
    ];
    alpha.structure_ignores_paging = ignores_paging;
    alpha.standards = Vec::new();
    let cloud = Cloud::start();
    cloud.account(ALPHA, alpha, Report::Ready);
    cloud.key(ALPHA, ALPHA_ID, ALPHA_SECRET);
    cloud
}

#[test]
fn check_structure_is_paged_until_a_page_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    write_config(home, GAMMA_SECRET);

    // 60 standards at 50 a page: two pages, then an empty one.
    let cloud = alpha_with_standards(60, false);
    let accounts = alpha_only(home, &cloud);
    let out = home.join("evidence");
    let run = collect(&accounts, &out, &[], home);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = cloud.seen();
    let made: Vec<&str> = calls(&seen, ALPHA, "GetCheckStructure")
        .iter()
        .map(|c| c.query.as_str())
        .collect();
    assert_eq!(made.len(), 3, "{made:?}");
    for (n, query) in made.iter().enumerate() {
        assert!(
            query.contains(&format!("CurrentPage={}", n + 1))
                && query.contains("PageSize=50")
                && query.contains("Lang=en"),
            "{query}"
        );
    }
    let folder = out.join("alpha-retail/prod");
    let structure: Vec<String> = names(&folder)
        .into_iter()
        .filter(|n| n.starts_with("check-structure"))
        .collect();
    assert_eq!(
        structure,
        ["check-structure-p001.json", "check-structure-p002.json"]
    );
    let logged: Vec<Value> = log_of(&folder)["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "GetCheckStructure")
        .map(|c| c["file"].clone())
        .collect();
    assert_eq!(
        logged,
        [
            Value::from("check-structure-p001.json"),
            Value::from("check-structure-p002.json"),
            Value::Null
        ]
    );
    // Every standard of both pages reaches summary.json, with its type and requirement.
    let summary = reported_summary(&out, home);
    let vendor = &summary["accounts"][0]["vendor_standards"];
    let files: Vec<&str> = vendor["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap())
        .filter(|f| f.starts_with("check-structure"))
        .collect();
    assert_eq!(
        files,
        ["check-structure-p001.json", "check-structure-p002.json"]
    );
    let standards = vendor["standards"].as_array().unwrap();
    for n in 0..60 {
        let standard = standards
            .iter()
            .find(|s| s["id"] == 7000 + n)
            .unwrap_or_else(|| panic!("standard {n} missing: {vendor}"));
        assert_eq!(standard["name"], format!("Standard {n}"));
        assert_eq!(standard["kind"], if n < 30 { "RISK" } else { "COMPLIANCE" });
        assert_eq!(
            standard["requirements"][0]["name"],
            format!("Requirement {n}")
        );
    }

    // A server that ignores paging sends the whole tree again: the second page adds nothing,
    // so two calls, and only the first page is kept.
    let cloud = alpha_with_standards(60, true);
    let accounts = alpha_only(home, &cloud);
    let out = home.join("evidence-unpaged");
    let run = collect(&accounts, &out, &[], home);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&cloud.seen(), ALPHA, "GetCheckStructure").len(), 2);
    let structure: Vec<String> = names(&out.join("alpha-retail/prod"))
        .into_iter()
        .filter(|n| n.starts_with("check-structure"))
        .collect();
    assert_eq!(structure, ["check-structure-p001.json"]);
}

/// The first ```toml block after `marker` in the README.
fn readme_toml(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = &readme[readme.find(marker).unwrap()..];
    let start = after.find("```toml\n").unwrap() + "```toml\n".len();
    after[start..start + after[start..].find("```").unwrap()].to_string()
}

#[test]
fn the_readme_examples_are_valid_files() {
    let accounts = readme_toml("The accounts file (TOML");
    let file = aliaudit_collect::accounts::AccountsFile::from_toml(&accounts, "README.md", |c| {
        aliaudit_deliver::config::mailbox(c).is_ok()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.accounts.len(), 3);
    let deliver = readme_toml("## Delivering the PDFs");
    let config = aliaudit_deliver::config::Config::from_toml(&deliver, "README.md")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.customers.len(), 1);
}

// ---- hostile and broken endpoints ----------------------------------------------------------

const ALPHA_TOKEN: &str = "alpha-env-sts-t0ken-Rb3";

/// Runs collect with alpha's keys and an STS token of theirs in the environment.
fn collect_with_token(accounts: &Path, out: &Path, extra: &[&str], home: &Path) -> common::Output {
    collect_args(accounts, out, extra, home, Some(ALPHA_TOKEN))
}

/// alpha (keys with a token from the environment) and beta (a role assumed from the MSP's
/// profile), with the data of `world`.
fn hostile_world() -> (Cloud, tempfile::TempDir, PathBuf) {
    let cloud = Cloud::start();
    cloud.account(ALPHA, AccountData::fixture("alpha"), Report::Ready);
    cloud.account(BETA, AccountData::fixture("beta"), Report::Ready);
    cloud.account(GAMMA, AccountData::fixture("gamma"), Report::Ready);
    cloud.sts_key(ALPHA, ALPHA_ID, ALPHA_SECRET, ALPHA_TOKEN);
    cloud.key(MSP, MSP_ID, MSP_SECRET);
    cloud.key(GAMMA, GAMMA_ID, GAMMA_SECRET);
    cloud.role(BETA_ROLE, BETA, MSP, Some("ext-beta-7"));
    let tmp = tempfile::tempdir().unwrap();
    write_config(tmp.path(), GAMMA_SECRET);
    let accounts = write_accounts(tmp.path(), &cloud);
    (cloud, tmp, accounts)
}

/// Every secret and token the run could know: given, and handed out by AssumeRole.
fn all_secrets(cloud: &Cloud) -> Vec<String> {
    let mut secrets: Vec<String> = [ALPHA_SECRET, ALPHA_TOKEN, MSP_SECRET, GAMMA_SECRET]
        .iter()
        .map(|s| s.to_string())
        .collect();
    secrets.extend(cloud.issued_secrets());
    secrets
}

/// No secret in any file under `out` (the work folder included) nor in the run's output.
fn assert_no_secret_anywhere(secrets: &[String], out: &Path, run: &common::Output) {
    let mut texts = vec![
        ("stdout".to_string(), run.stdout.clone()),
        ("stderr".to_string(), run.stderr.clone()),
    ];
    for f in files_under(out) {
        texts.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned(),
        ));
    }
    for secret in secrets {
        for (name, text) in &texts {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({} chars) is in {name}",
                secret.len()
            );
        }
    }
}

/// The table line of `folder` and the notes under it.
fn table_block(stdout: &str, folder: &str) -> String {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(folder));
    let mut block = lines.next().unwrap_or_default().to_string();
    for l in lines.take_while(|l| l.starts_with(' ')) {
        block.push('\n');
        block.push_str(l);
    }
    block
}

fn missing_reason(log: &Value, evidence: &str) -> String {
    log["missing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["evidence"] == evidence)
        .unwrap_or_else(|| panic!("{evidence} not missing: {log}"))["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn redirects_are_never_followed_and_their_target_gets_nothing() {
    let (cloud, tmp, accounts) = hostile_world();
    let trap = cloud::Trap::start();
    let to_trap = |status: u16, path: &str| Fault::Redirect {
        status,
        location: format!("{}{path}", trap.url),
    };
    cloud.fault(ALPHA, "GetPasswordPolicy", to_trap(302, "/"));
    cloud.fault(
        ALPHA,
        "GetSecurityPreference",
        to_trap(307, "/x?Action=Get"),
    );
    // beta calls with a role's token: both Security Center lists point away.
    cloud.fault(BETA, "DescribeRiskCheckResult", to_trap(307, "/"));
    cloud.fault(BETA, "ListCheckResult", to_trap(302, "/"));
    let out = tmp.path().join("evidence");
    let run = collect_with_token(&accounts, &out, &["--backoff-ms", "20"], tmp.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 complete, 2 partial, 0 failed"),
        "{}",
        run.stdout
    );
    // Nobody came to the other host: no request, no token.
    assert_eq!(trap.hits(), Vec::<String>::new());
    // Not retried, though retries are on.
    let seen = cloud.seen();
    assert_eq!(calls(&seen, ALPHA, "GetPasswordPolicy").len(), 1);
    assert_eq!(calls(&seen, ALPHA, "GetSecurityPreference").len(), 1);
    assert_eq!(calls(&seen, BETA, "ListCheckResult").len(), 1);

    let alpha = out.join("alpha-retail/prod");
    let log = log_of(&alpha);
    assert_eq!(log["status"], "partial");
    assert_eq!(
        missing_reason(&log, "password policy"),
        format!(
            "GetPasswordPolicy Redirect (HTTP 302): redirect to {} not followed",
            trap.host
        )
    );
    assert_eq!(
        missing_reason(&log, "security preference"),
        format!(
            "GetSecurityPreference Redirect (HTTP 307): redirect to {} not followed",
            trap.host
        )
    );
    for f in ["password-policy.json", "security-preference.json"] {
        assert!(!alpha.join(f).exists(), "{f} was saved");
    }
    let block = table_block(&run.stdout, "alpha-retail/prod");
    assert!(
        block.contains(&format!(
            "no password policy: GetPasswordPolicy Redirect (HTTP 302): redirect to {} not followed",
            trap.host
        )),
        "{block}"
    );
    let beta = out.join("beta-logistics/main");
    let reason = missing_reason(&log_of(&beta), "Security Center checks");
    assert!(
        reason.contains("DescribeRiskCheckResult Redirect (HTTP 307)")
            && reason.contains("ListCheckResult Redirect (HTTP 302)"),
        "{reason}"
    );
    assert!(!beta.join("check-result-p001.json").exists());
    assert!(!beta.join("risk-check-result-p001.json").exists());
    // Nothing of the trap's answer anywhere.
    for f in files_under(&out) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("TRAP"), "{}", f.display());
    }
    assert_no_secret_anywhere(&all_secrets(&cloud), &out, &run);
}

#[test]
fn server_text_echoing_secrets_and_tokens_is_scrubbed_everywhere() {
    let (cloud, tmp, accounts) = hostile_world();
    // alpha (keys and token from the environment): errors echoing them in every field and
    // header, a 200 whose RequestId holds them, a redirect whose Location host is them.
    cloud.fault(ALPHA, "GetPasswordPolicy", Fault::Echo { status: 403 });
    cloud.fault(ALPHA, "GetCredentialReport", Fault::Echo { status: 400 });
    cloud.fault(ALPHA, "GetSecurityPreference", Fault::EchoInReply);
    cloud.fault(ALPHA, "DescribeRiskCheckResult", Fault::RedirectEcho);
    cloud.fault(ALPHA, "ListCheckResult", Fault::Echo { status: 400 });
    // beta: AssumeRole's own RequestId holds the credentials it hands out; later errors
    // echo the role's secret and token and the MSP's secret.
    cloud.fault(MSP, "AssumeRole", Fault::EchoInReply);
    cloud.fault(
        BETA,
        "GetAccountSecurityPracticeReport",
        Fault::Echo { status: 403 },
    );
    cloud.fault(BETA, "GetCredentialReport", Fault::Echo { status: 400 });
    let out = tmp.path().join("evidence");
    let run = collect_with_token(&accounts, &out, &["--backoff-ms", "20"], tmp.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 complete, 2 partial, 0 failed"),
        "{}",
        run.stdout
    );
    let secrets = all_secrets(&cloud);
    assert_eq!(secrets.len(), 6, "beta's role was assumed once");
    assert_no_secret_anywhere(&secrets, &out, &run);

    // The texts are kept, with *** for each secret, on one printable line.
    let alpha = log_of(&out.join("alpha-retail/prod"));
    let call = |log: &Value, action: &str| {
        log["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["action"] == action)
            .unwrap()
            .clone()
    };
    let policy = call(&alpha, "GetPasswordPolicy");
    assert_eq!(policy["error_code"], "Forbidden.RAM.***.***");
    assert_eq!(policy["request_id"], "*** ***");
    let error = policy["error"].as_str().unwrap();
    assert!(
        error.contains("refused *** ***\\r\\nerror: forged line\\x1b[2J\\u{202e}*** ***"),
        "{error}"
    );
    let granted = alpha["missing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["evidence"] == "password policy")
        .unwrap()["ram_actions"]
        .clone();
    assert_eq!(granted, serde_json::json!(["ram:*** ***"]));
    // A 200 holding a secret is not evidence, and its RequestId is logged scrubbed.
    let preference = call(&alpha, "GetSecurityPreference");
    assert_eq!(preference["request_id"], "*** ***");
    assert_eq!(preference["error_code"], "SecretInResponse");
    assert!(
        !out.join("alpha-retail/prod/security-preference.json")
            .exists()
    );
    assert!(
        missing_reason(&alpha, "Security Center checks")
            .contains("DescribeRiskCheckResult Redirect (HTTP 307): redirect to ***.***.invalid:81 not followed"),
        "{alpha}"
    );
    // The table shows the refused calls' messages, scrubbed, and no forged line.
    let block = table_block(&run.stdout, "alpha-retail/prod");
    assert!(
        block.contains("GetCredentialReport InvalidParameter.***.*** (HTTP 400): refused *** ***\\r\\nerror: forged line\\x1b[2J\\u{202e}"),
        "{block}"
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.lines().any(|l| l.starts_with("error: forged")),
            "{text}"
        );
        assert!(!text.contains(['\u{1b}', '\u{202e}', '\r']), "{text}");
    }
    for f in files_under(&out) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains(['\u{1b}', '\u{202e}']), "{}", f.display());
    }
    // beta: the role's credentials were learned before AssumeRole's RequestId was logged.
    let beta = log_of(&out.join("beta-logistics/main"));
    assert_eq!(beta["status"], "partial");
    assert_eq!(call(&beta, "AssumeRole")["request_id"], "*** *** ***");
    assert_eq!(
        call(&beta, "GetAccountSecurityPracticeReport")["error_code"],
        "Forbidden.RAM.***.***.***"
    );
    assert!(
        missing_reason(&beta, "credential report")
            .contains("InvalidParameter.***.***.*** (HTTP 400): refused *** *** ***"),
        "{beta}"
    );
}

#[test]
fn responses_over_the_size_cap_are_cut_off_while_they_stream() {
    let (cloud, tmp, accounts) = hostile_world();
    let mib = 1 << 20;
    cloud.fault(ALPHA, "GetAccountSecurityPracticeReport", Fault::Endless);
    cloud.fault(
        ALPHA,
        "GetPasswordPolicy",
        Fault::Big {
            bytes: 2 * mib,
            content_length: true,
        },
    );
    cloud.fault(
        ALPHA,
        "GetSecurityPreference",
        Fault::Big {
            bytes: 2 * mib,
            content_length: false,
        },
    );
    // Exactly at the cap is still kept.
    cloud.fault(ALPHA, "ListCheckResult", Fault::PadTo(mib));
    let out = tmp.path().join("evidence");
    let started = std::time::Instant::now();
    let run = collect_with_token(
        &accounts,
        &out,
        &[
            "--max-response-mb",
            "1",
            "--timeout",
            "60",
            "--backoff-ms",
            "20",
        ],
        tmp.path(),
    );
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    // The endless body was read no further than the cap: the server could write little more
    // than the cap and the sockets' buffers before the client hung up.
    let streamed = cloud.streamed();
    let endless = streamed
        .iter()
        .find(|(a, _)| a == "GetAccountSecurityPracticeReport")
        .unwrap()
        .1;
    assert!(endless < 32 * mib as u64, "{endless} bytes sent");
    let seen = cloud.seen();
    for action in [
        "GetAccountSecurityPracticeReport",
        "GetPasswordPolicy",
        "GetSecurityPreference",
    ] {
        assert_eq!(calls(&seen, ALPHA, action).len(), 1, "{action} retried");
    }
    let alpha = out.join("alpha-retail/prod");
    let log = log_of(&alpha);
    assert_eq!(
        missing_reason(&log, "practice report"),
        "GetAccountSecurityPracticeReport ResponseTooLarge (HTTP 200): the response is larger than the 1 MiB cap (--max-response-mb)"
    );
    assert_eq!(
        missing_reason(&log, "password policy"),
        "GetPasswordPolicy ResponseTooLarge (HTTP 200): the response announces 2 MiB, more than the 1 MiB cap (--max-response-mb)"
    );
    assert!(
        missing_reason(&log, "security preference").contains("larger than the 1 MiB cap"),
        "{log}"
    );
    assert!(
        table_block(&run.stdout, "alpha-retail/prod")
            .contains("no practice report: GetAccountSecurityPracticeReport ResponseTooLarge"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::metadata(alpha.join("check-result-p001.json"))
            .unwrap()
            .len(),
        mib as u64
    );
    for f in [
        "security-practice-report.json",
        "password-policy.json",
        "security-preference.json",
    ] {
        assert!(!alpha.join(f).exists(), "{f} was saved");
    }
    assert_no_secret_anywhere(&all_secrets(&cloud), &out, &run);

    // The cap has bounds, checked before anything is called.
    for bad in ["0", "4097"] {
        let before = cloud.seen().len();
        let run = collect_with_token(&accounts, &out, &["--max-response-mb", bad], tmp.path());
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "invalid value '{bad}' for '--max-response-mb <MIB>': {bad} is not in 1..=4096"
            )),
            "{}",
            run.stderr
        );
        assert_eq!(cloud.seen().len(), before);
    }
}

#[test]
fn a_200_that_is_not_an_api_response_is_not_evidence() {
    let (cloud, tmp, accounts) = hostile_world();
    let raw = |text: &str| Fault::Raw(text.to_string());
    cloud.fault(
        ALPHA,
        "GetAccountSecurityPracticeReport",
        raw("<html><body>Sign in to continue</body></html>"),
    );
    cloud.fault(ALPHA, "GetPasswordPolicy", raw(r#"{"RequestId":"R-1"}"#));
    cloud.fault(
        ALPHA,
        "DescribeRiskCheckResult",
        raw(r#"{"RequestId":"R-2","TotalCount":0}"#),
    );
    cloud.fault(
        ALPHA,
        "ListCheckResult",
        raw(r#"{"RequestId":"R-3","Checks":"none"}"#),
    );
    cloud.fault(
        GAMMA,
        "GetCredentialReport",
        raw(r#"{"RequestId":"R-4","IsTruncated":false,"GeneratedTime":"2026-11-20T06:00:00Z"}"#),
    );
    cloud.fault(
        GAMMA,
        "GetSecurityPreference",
        raw(r#"{"RequestId":"R-5","Code":"Forbidden.RAM","Message":"User not authorized."}"#),
    );
    let out = tmp.path().join("evidence");
    let run = collect_with_token(&accounts, &out, &["--backoff-ms", "20"], tmp.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 complete, 2 partial, 0 failed"),
        "{}",
        run.stdout
    );
    let alpha = out.join("alpha-retail/prod");
    let log = log_of(&alpha);
    assert_eq!(log["status"], "partial");
    assert_eq!(
        missing_reason(&log, "practice report"),
        "GetAccountSecurityPracticeReport UnreadableResponse (HTTP 200): the GetAccountSecurityPracticeReport response is not JSON, not saved"
    );
    assert_eq!(
        missing_reason(&log, "password policy"),
        "GetPasswordPolicy UnreadableResponse (HTTP 200): the GetPasswordPolicy response has no PasswordPolicy object, not saved"
    );
    let sas = missing_reason(&log, "Security Center checks");
    assert!(
        sas.contains("has no List list") && sas.contains("has no Checks list"),
        "{sas}"
    );
    for f in [
        "security-practice-report.json",
        "password-policy.json",
        "risk-check-result-p001.json",
        "check-result-p001.json",
    ] {
        assert!(!alpha.join(f).exists(), "{f} was saved");
    }
    assert!(alpha.join("security-preference.json").exists());
    // The log records each such call as an error, with its RequestId.
    let policy_call = log["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "GetPasswordPolicy")
        .unwrap();
    assert_eq!(policy_call["result"], "error");
    assert_eq!(policy_call["http_status"], 200);
    assert_eq!(policy_call["request_id"], "R-1");
    assert!(policy_call.get("file").is_none());

    let gamma = out.join("gamma-media/intl");
    let log = log_of(&gamma);
    assert_eq!(
        missing_reason(&log, "credential report"),
        "GetCredentialReport UnreadableResponse (HTTP 200): the GetCredentialReport response has no Content text, not saved"
    );
    // An error envelope sent with 200 is the error it names.
    assert_eq!(
        missing_reason(&log, "security preference"),
        "GetSecurityPreference Forbidden.RAM (HTTP 200); grant ram:GetSecurityPreference"
    );
    assert!(!gamma.join("credential-report.json").exists());
    assert!(!gamma.join("security-preference.json").exists());
    let block = table_block(&run.stdout, "gamma-media/intl");
    assert!(
        block.contains("no security preference: GetSecurityPreference Forbidden.RAM (HTTP 200)"),
        "{block}"
    );
    assert_no_secret_anywhere(&all_secrets(&cloud), &out, &run);
}

#[test]
fn a_folder_report_would_skip_is_refused_with_account_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let out = home.join("out");
    for (folder, problem) in [
        (
            "acme/.prod",
            "has a part starting with \".\", which report skips as hidden",
        ),
        (".aliaudit-collect", "has a part starting with \".\""),
        ("acme\\\\prod", "has a backslash"),
        ("acme/prod/", "has an empty part"),
        (
            "acme/pr\\u001bod",
            "has a control or bidirectional character",
        ),
    ] {
        let file = home.join("accounts.toml");
        std::fs::write(
            &file,
            format!(
                "[[account]]\nfolder = \"a\"\ncredentials = \"env\"\n\n[[account]]\nfolder = \"{folder}\"\ncredentials = \"env\"\n"
            ),
        )
        .unwrap();
        let run = collect(&file, &out, &[], home);
        assert_eq!(run.code, 1, "{folder}: {}", run.stdout);
        assert!(
            run.stderr.contains("account 2 (line 5): folder \"") && run.stderr.contains(problem),
            "{folder}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
        assert!(!out.exists());
    }
}

/// Not a check: with `ALIAUDIT_COMPARE_OUT` set, runs fixed collections (the world of three
/// accounts with a role, paging and an expired report, then a resume; the hostile world) and
/// copies what they wrote and printed there, so that two builds (`ALIAUDIT_BIN`) can be
/// compared byte for byte after their times and ports are masked.
#[test]
#[ignore = "run by hand to compare two builds"]
fn keep_outputs_for_comparing_builds() {
    let Some(dest) = common::compare_out() else {
        return;
    };
    std::fs::create_dir_all(&dest).unwrap();
    let save = |name: &str, out: &Path, run: &common::Output| {
        common::keep(out, &dest.join(name));
        std::fs::write(dest.join(format!("{name}.stdout")), &run.stdout).unwrap();
        std::fs::write(dest.join(format!("{name}.stderr")), &run.stderr).unwrap();
        std::fs::write(dest.join(format!("{name}.code")), run.code.to_string()).unwrap();
    };
    let cloud = world();
    cloud.fault(GAMMA, "GetPasswordPolicy", Fault::Deny);
    cloud.fault(ALPHA, "ListCheckResult", Fault::ServerError { times: 1 });
    let tmp = tempfile::tempdir().unwrap();
    write_config(tmp.path(), GAMMA_SECRET);
    let accounts = write_accounts(tmp.path(), &cloud);
    let out = tmp.path().join("evidence");
    let run = collect(
        &accounts,
        &out,
        &["--backoff-ms", "1", "--jobs", "1"],
        tmp.path(),
    );
    save("world", &out, &run);
    let run = collect(
        &accounts,
        &out,
        &["--backoff-ms", "1", "--jobs", "1", "--resume"],
        tmp.path(),
    );
    save("world-resumed", &out, &run);

    let (_cloud, tmp, accounts) = hostile_world();
    let out = tmp.path().join("evidence");
    let run = collect_with_token(
        &accounts,
        &out,
        &["--backoff-ms", "1", "--jobs", "1"],
        tmp.path(),
    );
    save("hostile", &out, &run);
}
