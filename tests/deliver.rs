//! `aliaudit deliver` through a real SMTP server on 127.0.0.1 (ours, in tests/support), with
//! every received message parsed back: recipients, subject, both body parts, attachments
//! byte for byte against the PDFs of the report.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "support/smtp.rs"]
mod smtp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

const PASSWORD: &str = "smtp-pa55-Hx7";
const PASSWORD_VAR: &str = "ALIAUDIT_TEST_SMTP_PASSWORD";

/// Runs the binary with the SMTP password in its variable.
fn aliaudit(args: &[&str]) -> common::Output {
    common::run_with(args, |cmd| {
        cmd.env(PASSWORD_VAR, PASSWORD);
    })
}

/// `deliver OUT --config CFG EXTRA...`.
fn deliver(out: &Path, cfg: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "deliver",
        out.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ];
    args.extend(extra);
    aliaudit(&args)
}

/// The Q3 report (with Q2 as baseline, PDFs included), written once for all tests.
fn report() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("aliaudit-deliver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let q = "tests/fixtures/quarters";
        let q2 = base.join("q2");
        let q3 = base.join("q3");
        let r = aliaudit(&[
            "report",
            &format!("{q}/2026-q2"),
            "-o",
            q2.to_str().unwrap(),
            "--as-of",
            "2026-06-30",
            "--format",
            "json",
            "-q",
        ]);
        assert_ne!(r.code, 1, "{}", r.stderr);
        let r = aliaudit(&[
            "report",
            &format!("{q}/2026-q3"),
            "-o",
            q3.to_str().unwrap(),
            "--as-of",
            "2026-09-30",
            "--baseline",
            q2.to_str().unwrap(),
            "--format",
            "json,pdf",
            "-q",
        ]);
        assert_ne!(r.code, 1, "{}", r.stderr);
        q3
    })
}

/// A copy of the report, so each test has its own delivery log.
fn fresh_out(tmp: &Path) -> PathBuf {
    let out = tmp.join("out");
    let status = Command::new("cp")
        .args(["-r", report().to_str().unwrap(), out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    out
}

fn config(tmp: &Path, port: u16, extra: &str) -> PathBuf {
    let text = format!(
        r#"from = "MSP Audit Desk <audit@msp.example>"
management = ["ceo@msp.example"]
management_cc = ["board@msp.example"]
attach_accounts = true
{extra}
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
user = "mailer"
password_env = "{PASSWORD_VAR}"

[customers."Northwind"]
to = ["Northwind CTO <cto@northwind.example>"]
cc = ["audit@northwind.example"]
"#
    );
    let path = tmp.join("deliver.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn log(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("delivery-log.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_rcpt<'a>(received: &'a [smtp::Received], address: &str) -> Vec<&'a smtp::Received> {
    received
        .iter()
        .filter(|r| r.rcpt.iter().any(|a| a == address))
        .collect()
}

#[test]
fn one_message_per_customer_and_one_to_management_with_the_pdfs() {
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = config(tmp.path(), server.port, "");
    let run = deliver(&out, &cfg, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(server.auth_failures(), 0);
    for r in &received {
        assert_eq!(r.from, "audit@msp.example");
        assert_eq!(r.user.as_deref(), Some("mailer"));
    }

    // Eastwind: its two accounts' contacts, the shared address once.
    let eastwind = by_rcpt(&received, "it@eastwind.example");
    assert_eq!(eastwind.len(), 1);
    let mut rcpt = eastwind[0].rcpt.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["ciso@eastwind.example", "it@eastwind.example"]);
    let m = MessageParser::default().parse(&eastwind[0].data).unwrap();
    assert_eq!(
        m.subject(),
        Some("Eastwind: security compliance report 2026-Q3")
    );
    let text = m.body_text(0).unwrap();
    assert!(text.contains("Compliance score: "), "{text}");
    // The customer's change as its report shows it ("What changed since 2026-Q2": -4.5 on
    // CIS v2.0.0, the new account counted in this period's mean), not a mean of account
    // changes.
    assert!(text.contains("Change since 2026-Q2: -4.5"), "{text}");
    let html = m.body_html(0).unwrap();
    assert!(
        html.contains("Fix first") && html.contains("Eastwind analytics"),
        "{html}"
    );
    // Both parts are really there (not one made from the other).
    let types: Vec<String> = m
        .parts
        .iter()
        .filter_map(|p| p.content_type())
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()))
        .collect();
    assert!(types.contains(&"text/plain".to_string()), "{types:?}");
    assert!(types.contains(&"text/html".to_string()), "{types:?}");
    // Attachments: the customer PDF and both account PDFs, byte for byte.
    let attached: Vec<(String, Vec<u8>)> = m
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap().to_string(),
                a.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        attached.len(),
        3,
        "{:?}",
        attached.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    assert_eq!(attached[0].0, "Eastwind 2026-Q3.pdf");
    assert_eq!(
        attached[0].1,
        std::fs::read(out.join("customers/eastwind.pdf")).unwrap()
    );
    assert_eq!(
        attached[1].0,
        "Eastwind analytics (2200000000000002) 2026-Q3.pdf"
    );
    assert_eq!(
        attached[1].1,
        std::fs::read(out.join("accounts/2200000000000002.pdf")).unwrap()
    );
    assert_eq!(
        attached[2].1,
        std::fs::read(out.join("accounts/2200000000000001.pdf")).unwrap()
    );

    // Northwind: the configuration's recipients replace the contacts; cc in the envelope.
    let northwind = by_rcpt(&received, "cto@northwind.example");
    assert_eq!(northwind.len(), 1);
    assert!(
        northwind[0]
            .rcpt
            .contains(&"audit@northwind.example".to_string())
    );
    let m = MessageParser::default().parse(&northwind[0].data).unwrap();
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Northwind CTO"));
    assert_eq!(
        m.cc().unwrap().first().unwrap().address(),
        Some("audit@northwind.example")
    );

    // Management: the portfolio PDF, the portfolio's figures.
    let management = by_rcpt(&received, "ceo@msp.example");
    assert_eq!(management.len(), 1);
    assert!(
        management[0]
            .rcpt
            .contains(&"board@msp.example".to_string())
    );
    let m = MessageParser::default().parse(&management[0].data).unwrap();
    assert_eq!(
        m.subject(),
        Some("Portfolio security compliance report 2026-Q3")
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let mean = format!(
        "{:.1}",
        summary["portfolio"]["score_mean"].as_f64().unwrap()
    );
    assert!(
        m.body_text(0)
            .unwrap()
            .contains(&format!("Compliance score: {mean} of 100"))
    );
    let pdf: Vec<Vec<u8>> = m.attachments().map(|a| a.contents().to_vec()).collect();
    assert_eq!(pdf, vec![std::fs::read(out.join("portfolio.pdf")).unwrap()]);

    // The log: one line per message, its Message-ID as sent, the attachments' SHA-256.
    let lines = log(&out);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["result"], "sent", "{line}");
        assert!(line["detail"].as_str().unwrap().starts_with("250"));
        let id = line["message_id"].as_str().unwrap();
        let sent = received
            .iter()
            .map(|r| MessageParser::default().parse(&r.data).unwrap())
            .any(|m| m.message_id().map(|i| format!("<{i}>")) == Some(id.to_string()));
        assert!(sent, "{id} not received");
        for a in line["attachments"].as_array().unwrap() {
            let bytes = std::fs::read(out.join(a["file"].as_str().unwrap())).unwrap();
            use sha2::Digest;
            assert_eq!(a["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        }
    }
    // The password went to the server and nowhere else.
    for text in [
        run.stdout.as_str(),
        run.stderr.as_str(),
        &std::fs::read_to_string(out.join("delivery-log.jsonl")).unwrap(),
    ] {
        assert!(!text.contains(PASSWORD));
    }
}

#[test]
fn a_refused_recipient_fails_its_message_and_reruns_send_only_the_rest() {
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    server.refuse("ciso@eastwind.example");
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = config(tmp.path(), server.port, "");
    let args = [
        "deliver",
        out.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ];
    let run = aliaudit(&args);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("customer:Eastwind: FAILED") && run.stdout.contains("550"),
        "{}",
        run.stdout
    );
    assert_eq!(server.received().len(), 2);
    let failed: Vec<Value> = log(&out)
        .into_iter()
        .filter(|l| l["result"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["message"], "customer:Eastwind");

    // Again, still refused: nothing is sent twice, Eastwind fails again.
    let run = aliaudit(&args);
    assert_eq!(run.code, 2);
    assert_eq!(server.received().len(), 2);
    assert!(
        run.stdout.contains("customer:Northwind: already sent"),
        "{}",
        run.stdout
    );

    // The address is fixed at the other end: only Eastwind goes.
    server.accept_all();
    let run = aliaudit(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(by_rcpt(&received, "it@eastwind.example").len(), 1);

    // --resend sends everything again, under new Message-IDs.
    let run = aliaudit(&[&args[..], &["--resend"]].concat());
    assert_eq!(run.code, 0, "{}", run.stdout);
    let received = server.received();
    assert_eq!(received.len(), 6);
    let ids: std::collections::BTreeSet<String> = received
        .iter()
        .map(|r| {
            MessageParser::default()
                .parse(&r.data)
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 6);
}

#[test]
fn a_connection_dropped_mid_message_fails_that_message_only() {
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    server.drop_once("ceo@msp.example", 2000);
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = config(tmp.path(), server.port, "");
    let args = [
        "deliver",
        out.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ];
    let run = aliaudit(&args);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("management: FAILED"), "{}", run.stdout);
    assert!(by_rcpt(&server.received(), "ceo@msp.example").is_empty());
    assert_eq!(server.received().len(), 2);
    let run = aliaudit(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(by_rcpt(&received, "ceo@msp.example").len(), 1);
}

#[test]
fn eml_files_and_dry_runs_send_nothing() {
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = config(tmp.path(), server.port, "");
    let dry = deliver(&out, &cfg, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("customer:Eastwind: would be sent"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("to: it@eastwind.example, Eastwind CISO <ciso@eastwind.example>"),
        "{}",
        dry.stdout
    );
    assert!(!out.join("delivery-log.jsonl").exists());

    let eml = tmp.path().join("eml");
    let run = deliver(
        &out,
        &cfg,
        &["--eml", eml.to_str().unwrap(), "--lang", "zh"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.connections(), 0);
    let mut names: Vec<String> = std::fs::read_dir(&eml)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "customer-eastwind.eml",
            "customer-northwind.eml",
            "management.eml"
        ]
    );
    let bytes = std::fs::read(eml.join("customer-northwind.eml")).unwrap();
    let m = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(m.subject(), Some("Northwind：安全合规报告 2026-Q3"));
    assert!(m.body_text(0).unwrap().contains("合规得分"));
    let first = m.attachments().next().unwrap();
    assert_eq!(
        first.contents(),
        std::fs::read(out.join("customers/northwind.pdf")).unwrap()
    );
    // Written, not sent: a later send still sends.
    assert!(log(&out).iter().all(|l| l["result"] == "written"));
    let run = deliver(&out, &cfg, &["--dry-run"]);
    // (A message sent before would read "sent <time>; would not be sent again".)
    assert_eq!(
        run.stdout.matches(": would be sent").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("would not be sent again"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_configurations_and_oversized_attachments_stop_before_anything_is_sent() {
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cases = [
        ("max_attachment_mb = 0.01", "attachments total"),
        (
            "[customers.\"Southwind\"]\nto = [\"x@southwind.example\"]",
            "customers.\"Southwind\", which is not a customer",
        ),
    ];
    for (extra, expected) in cases {
        let cfg = config(tmp.path(), server.port, extra);
        let run = deliver(&out, &cfg, &[]);
        assert_eq!(run.code, 1, "{extra}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
    // The password variable unset.
    let cfg = config(tmp.path(), server.port, "");
    let args = [
        "deliver",
        out.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ];
    let unset = common::run_with(&args, |cmd| {
        cmd.env_remove(PASSWORD_VAR);
    });
    assert_eq!(unset.code, 1);
    assert!(unset.stderr.contains(PASSWORD_VAR));
    // A wrong password: the server refuses, every message fails, nothing is logged as sent.
    let cfg_text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(PASSWORD_VAR, "ALIAUDIT_TEST_WRONG");
    std::fs::write(&cfg, cfg_text).unwrap();
    let wrong = common::run_with(&args, |cmd| {
        cmd.env("ALIAUDIT_TEST_WRONG", "not-the-password");
    });
    assert_eq!(wrong.code, 2);
    assert!(server.auth_failures() > 0);
    assert_eq!(server.received().len(), 0);
    assert!(log(&out).iter().all(|l| l["result"] == "failed"));
    assert!(!wrong.stdout.contains("not-the-password"));
}

#[test]
fn exported_templates_change_the_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let templates = tmp.path().join("templates");
    let run = aliaudit(&["templates", "export", templates.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    for name in ["email.html", "email.txt", "email_subject.txt"] {
        assert!(templates.join(name).is_file(), "{name} not exported");
    }
    std::fs::write(
        templates.join("email_subject.txt"),
        "Quarterly review: {{ page.name }}\n({{ page.period }})",
    )
    .unwrap();
    let cfg = config(tmp.path(), 25, "");
    let eml = tmp.path().join("eml");
    let run = deliver(
        &out,
        &cfg,
        &[
            "--eml",
            eml.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(eml.join("customer-eastwind.eml")).unwrap();
    let m = MessageParser::default().parse(&bytes).unwrap();
    // A subject is one line whatever the template does.
    assert_eq!(m.subject(), Some("Quarterly review: Eastwind (2026-Q3)"));
}

/// The configuration of `config`, over STARTTLS, trusting `ca_file` when given (copied next
/// to the configuration, where a relative `ca_file` is looked for).
fn starttls_config(tmp: &Path, port: u16, ca: bool) -> PathBuf {
    let cfg = config(tmp, port, "");
    let mut smtp = "security = \"starttls\"".to_string();
    if ca {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem"),
            tmp.join("company-ca.pem"),
        )
        .unwrap();
        smtp.push_str("\nca_file = \"company-ca.pem\"");
    }
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("security = \"none\"", &smtp);
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn starttls_is_required_and_checks_the_certificate() {
    // A relay whose certificate a company authority signed: trusted through ca_file, the
    // messages (and the password) go over TLS.
    let server = smtp::Server::start_with(Some(("mailer", PASSWORD)), true);
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = starttls_config(tmp.path(), server.port, true);
    let run = deliver(&out, &cfg, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.tls && r.user.as_deref() == Some("mailer"))
    );

    // Without the authority the certificate is not trusted: nothing is sent, no password.
    let server = smtp::Server::start_with(Some(("mailer", PASSWORD)), true);
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = starttls_config(tmp.path(), server.port, false);
    let run = deliver(&out, &cfg, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("FAILED"), "{}", run.stdout);
    assert!(
        run.stdout.contains("name yours in [smtp] ca_file"),
        "{}",
        run.stdout
    );
    assert!(server.received().is_empty());
    assert_eq!(server.auth_attempts(), 0);

    // A server that does not offer STARTTLS gets nothing either (no plain-text fallback).
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = starttls_config(tmp.path(), server.port, true);
    let run = deliver(&out, &cfg, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(server.received().is_empty());
    assert_eq!(server.auth_attempts(), 0);

    // TLS from the first byte (security = "tls", port 465 style).
    let server = smtp::Server::start_implicit_tls(Some(("mailer", PASSWORD)));
    let tmp2 = tempfile::tempdir().unwrap();
    let out2 = fresh_out(tmp2.path());
    let cfg2 = starttls_config(tmp2.path(), server.port, true);
    let text = std::fs::read_to_string(&cfg2)
        .unwrap()
        .replace("security = \"starttls\"", "security = \"tls\"");
    std::fs::write(&cfg2, text).unwrap();
    let run = deliver(&out2, &cfg2, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.tls));

    // A ca_file that is not a certificate is a configuration error.
    std::fs::write(tmp.path().join("company-ca.pem"), "not a certificate").unwrap();
    let run = deliver(&out, &cfg, &["--dry-run"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("[smtp] ca_file \"company-ca.pem\": no PEM certificate"),
        "{}",
        run.stderr
    );
}

/// The Q3 quarter reported with `branding` into `dir/branded` (JSON and PDF); its path.
fn branded_report(dir: &Path, branding: &Path) -> PathBuf {
    let out = dir.join("branded");
    let r = aliaudit(&[
        "report",
        "tests/fixtures/quarters/2026-q3",
        "-o",
        out.to_str().unwrap(),
        "--as-of",
        "2026-09-30",
        "--format",
        "json,pdf",
        "--branding",
        branding.to_str().unwrap(),
        "-q",
    ]);
    assert_ne!(r.code, 1, "{}", r.stderr);
    out
}

#[test]
fn branded_messages_carry_the_logo_inline_and_escape_the_brand() {
    let tmp = tempfile::tempdir().unwrap();
    let out = branded_report(
        tmp.path(),
        Path::new("tests/fixtures/branding/branding.toml"),
    );
    let cfg = config(tmp.path(), 25, "");
    let eml = tmp.path().join("eml");
    let run = deliver(&out, &cfg, &["--eml", eml.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(eml.join("management.eml")).unwrap();
    let m = MessageParser::default().parse(&bytes).unwrap();
    let logo = m
        .parts
        .iter()
        .find(|p| p.content_id() == Some("logo"))
        .expect("an inline logo part");
    assert_eq!(
        logo.contents(),
        std::fs::read("tests/fixtures/branding/logo.png").unwrap()
    );
    let html = m.body_html(0).unwrap();
    assert!(html.contains("src=\"cid:logo\""), "{html}");
    // The brand is text: escaped in the HTML body.
    assert!(html.contains("Lighthouse Audit &lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn a_branding_file_changed_since_the_report_is_used_as_it_is_now_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("branding.toml"),
        "company = \"Lighthouse Audit\"\n",
    )
    .unwrap();
    // Given by a relative path (the tests run in the checkout), which the manifest keeps.
    let up = Path::new(env!("CARGO_MANIFEST_DIR")).components().count() - 1;
    let branding = Path::new(&"../".repeat(up))
        .join(tmp.path().strip_prefix("/").unwrap())
        .join("branding.toml");
    let out = branded_report(tmp.path(), &branding);
    let cfg = config(tmp.path(), 25, "");
    let changed = format!(
        "{} changed since the report was written; the e-mails use it as it is now",
        branding.display()
    );
    // The manifest's stamp of the file (its path and SHA-256) finds it, unchanged.
    let same = deliver(&out, &cfg, &["--dry-run"]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(!same.stderr.contains(&changed), "{}", same.stderr);
    std::fs::write(&branding, "company = \"Harbour Audit\"\n").unwrap();
    let now = deliver(&out, &cfg, &["--dry-run"]);
    assert_eq!(now.code, 0, "{}", now.stderr);
    assert!(now.stderr.contains(&changed), "{}", now.stderr);
    // Given by an absolute path, the file is named by its name only (no output holds a path
    // of this machine): deliver cannot find it from here, says so, and needs --branding.
    let absolute = branded_report(tmp.path(), &tmp.path().join("branding.toml"));
    let lost = deliver(&absolute, &cfg, &["--dry-run"]);
    assert_eq!(lost.code, 0, "{}", lost.stderr);
    assert!(
        lost.stderr
            .contains("the report's branding file cannot be used (branding.toml: "),
        "{}",
        lost.stderr
    );
    let given = deliver(
        &absolute,
        &cfg,
        &[
            "--dry-run",
            "--branding",
            tmp.path().join("branding.toml").to_str().unwrap(),
        ],
    );
    assert!(!given.stderr.contains("cannot be used"), "{}", given.stderr);
}

/// Every form the SMTP password can take in text: itself, the base64 of the AUTH PLAIN
/// strings, and the characters of its base64 (and the user's) that depend on it alone, at each
/// of the three alignments, which show whatever longer base64 string it is in.
fn secret_forms() -> Vec<String> {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let cores = |secret: &str| -> Vec<String> {
        (0..3)
            .map(|k| {
                let mut data = vec![b'x'; k];
                data.extend_from_slice(secret.as_bytes());
                data.extend_from_slice(b"yz");
                let from = (8 * k).div_ceil(6);
                let to = (8 * (k + secret.len()) - 6) / 6 + 1;
                b64(&data)[from..to].to_string()
            })
            .collect()
    };
    let mut forms = vec![
        PASSWORD.to_string(),
        b64(format!("\0mailer\0{PASSWORD}").as_bytes()),
        b64(format!("admin\0mailer\0{PASSWORD}").as_bytes()),
        b64(PASSWORD.as_bytes()),
        b64(b"mailer"),
    ];
    forms.extend(cores(PASSWORD));
    forms.extend(cores("mailer"));
    forms
}

/// No form of the password in `bytes`.
fn assert_no_secret(what: &str, bytes: &[u8]) {
    for form in secret_forms() {
        assert!(
            !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
            "{what} holds {form}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_server_quoting_the_auth_exchange_gets_no_password_into_the_log_or_the_terminal() {
    use smtp::Echo;
    for (echo, login) in [
        (Echo::Refusal, false),
        (Echo::Refusal, true),
        (Echo::Later, false),
        (Echo::Later, true),
        (Echo::Accepted, false),
        (Echo::Accepted, true),
    ] {
        let case = format!("{echo:?}, AUTH {}", if login { "LOGIN" } else { "PLAIN" });
        let server = smtp::Server::start(Some(("mailer", PASSWORD)));
        server.echo_auth(echo);
        if login {
            server.offer_only_login();
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = fresh_out(tmp.path());
        let cfg = config(tmp.path(), server.port, "");
        let run = deliver(&out, &cfg, &[]);
        let sent = echo == Echo::Accepted;
        assert_eq!(
            run.code,
            if sent { 0 } else { 2 },
            "{case}: {}\n{}",
            run.stdout,
            run.stderr
        );
        // The server did quote the exchange, once per message (else this proves nothing).
        assert_eq!(server.echoed(), 3, "{case}");
        assert_eq!(server.received().len(), if sent { 3 } else { 0 }, "{case}");

        let lines = log(&out);
        assert_eq!(lines.len(), 3, "{case}");
        let (result, words) = match echo {
            Echo::Refusal => ("failed", "(535): 5.7.8 Authentication credentials invalid"),
            Echo::Later => ("failed", "(554): 5.7.1 Sender rejected"),
            Echo::Accepted => ("sent", "250 2.0.0 Ok: queued as Q"),
        };
        for line in &lines {
            assert_eq!(line["result"], result, "{case}: {line}");
            let detail = line["detail"].as_str().unwrap();
            // The server's words stay, the secrets are marked as taken out, and its escape
            // sequence and bidirectional override are written as escapes.
            assert!(detail.contains(words), "{case}: {detail}");
            assert!(detail.contains("you sent [redacted]"), "{case}: {detail}");
            assert!(
                detail.contains("\\x1b[2J\\u{202e}exe.txt"),
                "{case}: {detail}"
            );
        }
        assert!(
            run.stdout.contains("\\x1b[2J\\u{202e}exe.txt"),
            "{case}: {}",
            run.stdout
        );
        for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert_no_secret(&format!("{case}: {what}"), text.as_bytes());
            assert!(
                !text.contains(['\x1b', '\u{202e}']),
                "{case}: {what}: {text}"
            );
        }

        // The same report written as .eml files, the password still in the environment.
        let eml = tmp.path().join("eml");
        let run = deliver(&out, &cfg, &["--eml", eml.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{case}: {}", run.stderr);
        // No file written anywhere (the log, the .eml files, the report) holds the password.
        for file in files_under(tmp.path()) {
            assert_no_secret(
                &format!("{case}: {}", file.display()),
                &std::fs::read(&file).unwrap(),
            );
        }
    }
}

/// Whether `text` holds a control character or a bidirectional control.
fn has_control_or_bidi(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || aliaudit_core::diag::is_bidi_or_separator(c))
}

#[test]
fn names_with_encoded_words_and_bidi_controls_reach_the_headers_as_plain_text() {
    // The Q3 evidence, with names that a mail client would decode ("Hacked", "Evil", "CEO",
    // "Boss") or show reversed (U+202E), for a customer, an account, a contact and the company.
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let status = Command::new("cp")
        .args([
            "-r",
            "tests/fixtures/quarters/2026-q3",
            input.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let customer = "Eastwind =?utf-8?B?SGFja2Vk?= \u{202e}fdp.exe";
    for (account, extra) in [("main", true), ("new", false)] {
        let path = input.join("eastwind").join(account).join("account.toml");
        let mut text = std::fs::read_to_string(&path).unwrap().replace(
            "customer = \"Eastwind\"",
            &format!("customer = \"{customer}\""),
        );
        if extra {
            text = text
                .replace(
                    "name = \"Eastwind main\"",
                    "name = \"Main =?UTF-8?q?Evil?= \u{202e}txt.exe\u{2066}\"",
                )
                .replace("Eastwind CISO <", "=?utf-8?B?Q0VP?= <");
        }
        std::fs::write(&path, text).unwrap();
    }
    let branding = tmp.path().join("branding.toml");
    std::fs::write(
        &branding,
        "company = \"=?utf-8?B?Qm9zcw==?= \u{202e}Audit\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let r = aliaudit(&[
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--as-of",
        "2026-09-30",
        "--format",
        "json,pdf",
        "--branding",
        branding.to_str().unwrap(),
        "-q",
    ]);
    assert_ne!(r.code, 1, "{}", r.stderr);

    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let cfg = config(tmp.path(), server.port, "");
    // The report names its branding file by its name only (it was given by an absolute path).
    let brand = ["--branding", branding.to_str().unwrap()];
    let run = deliver(&out, &cfg, &brand);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The table shows the names as escapes, not as reordered text.
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains('\u{202e}'), "{text}");
    }
    assert!(run.stdout.contains("\\u{202e}fdp.exe"), "{}", run.stdout);

    let eml = tmp.path().join("eml");
    let written = deliver(
        &out,
        &cfg,
        &[&brand[..], &["--eml", eml.to_str().unwrap()]].concat(),
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    let mut messages: Vec<(String, Vec<u8>)> = server
        .received()
        .into_iter()
        .map(|r| ("sent".to_string(), r.data))
        .collect();
    for file in files_under(&eml) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!has_control_or_bidi(&name), "{name:?}");
        messages.push((name, std::fs::read(&file).unwrap()));
    }
    assert_eq!(messages.len(), 6);

    let mut subjects = Vec::new();
    for (source, data) in &messages {
        let m = MessageParser::default().parse(data).unwrap();
        let subject = m.subject().unwrap().to_string();
        // Nothing decodes into the hidden text; what was typed shows, visibly neutralised.
        for hidden in ["Hacked", "Evil", "CEO", "Boss"] {
            assert!(!subject.contains(hidden), "{source}: {subject}");
        }
        assert!(!has_control_or_bidi(&subject), "{source}: {subject:?}");
        for a in m.attachments() {
            let name = a.attachment_name().unwrap_or_default();
            assert!(!has_control_or_bidi(name), "{source}: {name:?}");
            // `?` is not kept in a file name, so no encoded-word can start.
            assert!(!name.contains("=?"), "{source}: {name}");
        }
        for to in m.to().unwrap().iter() {
            let name = to.name().unwrap_or_default();
            assert!(
                !name.contains("CEO") || name.contains("= ?"),
                "{source}: {name}"
            );
            assert!(!has_control_or_bidi(name), "{source}: {name:?}");
        }
        subjects.push(subject);
    }
    subjects.sort();
    subjects.dedup();
    assert_eq!(
        subjects,
        [
            "Eastwind = ?utf-8?B?SGFja2Vk?= \u{fffd}fdp.exe: security compliance report 2026-Q3 (= ?utf-8?B?Qm9zcw== ?= \u{fffd}Audit)",
            "Northwind: security compliance report 2026-Q3 (= ?utf-8?B?Qm9zcw== ?= \u{fffd}Audit)",
            "Portfolio security compliance report 2026-Q3 (= ?utf-8?B?Qm9zcw== ?= \u{fffd}Audit)",
        ]
    );
    // The attachments keep the names' text, with the controls replaced.
    let eastwind_eml = files_under(&eml)
        .into_iter()
        .find(|f| f.to_string_lossy().contains("eastwind"))
        .unwrap();
    let bytes = std::fs::read(eastwind_eml).unwrap();
    let eastwind = MessageParser::default().parse(&bytes).unwrap();
    let names: Vec<String> = eastwind
        .attachments()
        .map(|a| a.attachment_name().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "Eastwind =-utf-8-B-SGFja2Vk-= -fdp.exe 2026-Q3.pdf",
            "Eastwind analytics (2200000000000002) 2026-Q3.pdf",
            "Main =-UTF-8-q-Evil-= -txt.exe- (2200000000000001) 2026-Q3.pdf",
        ]
    );
    let ciso = eastwind
        .to()
        .unwrap()
        .iter()
        .find(|a| a.address() == Some("ciso@eastwind.example"))
        .unwrap();
    assert_eq!(ciso.name(), Some("= ?utf-8?B?Q0VP?="));
}

/// Not a check: with `ALIAUDIT_COMPARE_OUT` set, runs fixed deliveries (a dry run, `.eml` files
/// in Chinese, a send through our SMTP server with one refused recipient, then the rerun) and
/// copies what they wrote, printed and sent there, so that two builds (`ALIAUDIT_BIN`) can be
/// compared byte for byte after their times, ports and message ids are masked.
#[test]
#[ignore = "run by hand to compare two builds"]
fn keep_outputs_for_comparing_builds() {
    let Some(dest) = common::compare_out() else {
        return;
    };
    std::fs::create_dir_all(&dest).unwrap();
    let save = |name: &str, run: &common::Output| {
        std::fs::write(dest.join(format!("{name}.stdout")), &run.stdout).unwrap();
        std::fs::write(dest.join(format!("{name}.stderr")), &run.stderr).unwrap();
        std::fs::write(dest.join(format!("{name}.code")), run.code.to_string()).unwrap();
    };
    let server = smtp::Server::start(Some(("mailer", PASSWORD)));
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let cfg = config(tmp.path(), server.port, "");
    save("dry-run", &deliver(&out, &cfg, &["--dry-run"]));
    let eml = tmp.path().join("eml");
    save(
        "eml",
        &deliver(
            &out,
            &cfg,
            &["--eml", eml.to_str().unwrap(), "--lang", "zh"],
        ),
    );
    common::keep(&eml, &dest.join("eml"));
    server.refuse("ciso@eastwind.example");
    save("send", &deliver(&out, &cfg, &[]));
    server.accept_all();
    save("resend", &deliver(&out, &cfg, &[]));
    common::keep(
        &out.join("delivery-log.jsonl"),
        &dest.join("delivery-log.jsonl"),
    );
    for (n, message) in server.received().iter().enumerate() {
        let text = format!(
            "MAIL FROM {}\nRCPT {:?}\n{}",
            message.from,
            message.rcpt,
            String::from_utf8_lossy(&message.data)
        );
        std::fs::write(dest.join(format!("received-{n:02}.eml")), text).unwrap();
    }
}

#[test]
fn the_project_files_deliver_table_is_the_configuration_when_none_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_out(tmp.path());
    let alone = std::fs::read_to_string(config(tmp.path(), 2525, "")).unwrap();
    let project = format!(
        "[report]\ninputs = [\"evidence\"]\n\n[deliver]\n{}",
        alone
            .replace("[smtp]", "[deliver.smtp]")
            .replace("[customers.", "[deliver.customers.")
    );
    std::fs::write(tmp.path().join("aliaudit.toml"), &project).unwrap();
    // Run in the project's folder without --config: ./aliaudit.toml's [deliver] is used.
    let dry = common::run_with(&["deliver", out.to_str().unwrap(), "--dry-run"], |c| {
        c.current_dir(tmp.path());
    });
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("to: Northwind CTO <cto@northwind.example>"),
        "{}",
        dry.stdout
    );
    // The same text as a file of its own gives the same plan.
    let same = deliver(&out, &tmp.path().join("deliver.toml"), &["--dry-run"]);
    assert_eq!(same.stdout, dry.stdout);
    // A typo in [deliver] names the line of aliaudit.toml.
    std::fs::write(
        tmp.path().join("aliaudit.toml"),
        project.replace("management_cc", "managment_cc"),
    )
    .unwrap();
    let bad = common::run_with(&["deliver", out.to_str().unwrap(), "--dry-run"], |c| {
        c.current_dir(tmp.path());
    });
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("aliaudit.toml: line 7, column 1: unknown field `managment_cc`"),
        "{}",
        bad.stderr
    );
    // Neither a project file nor --config: the error says what to give.
    std::fs::remove_file(tmp.path().join("aliaudit.toml")).unwrap();
    let none = common::run_with(&["deliver", out.to_str().unwrap(), "--dry-run"], |c| {
        c.current_dir(tmp.path());
    });
    assert_eq!(none.code, 1);
    assert!(
        none.stderr.contains("no delivery configuration"),
        "{}",
        none.stderr
    );
}
