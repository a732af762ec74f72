//! Deliver stage (`aliaudit deliver`, README "Delivering the PDFs"): e-mails each customer's PDF to its recipients
//! and the portfolio PDF to management, over SMTP, or writes the messages as `.eml` files.
//!
//! Everything is checked before the first message goes: the configuration, every address,
//! every attachment (present, within the size limit). Each message is recorded in
//! `OUT/delivery-log.jsonl` as it is sent, with a fingerprint of its recipients and
//! attachments; a message whose fingerprint was sent before is not sent again unless
//! `--resend`, so a run that failed half-way is simply run again.
//!
//! Names in the report (customers, accounts, the branding's company) and contacts come from
//! evidence and are untrusted: whatever reaches a header goes through `header_text` (no
//! RFC 2047 encoded-word can start in it, no control or bidirectional character) and
//! attachment names through `shown_name`. Whatever an SMTP server says goes through
//! `scrub::Scrubber` before the log, the table or the terminal.

pub mod config;
mod scrub;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use aliaudit_core::branding::{Brand, Branding};
use aliaudit_core::i18n::{Catalogue, Lang};
use aliaudit_core::stamp::FileStamp;
use config::Config;

/// The delivery log, in the report's output folder.
const LOG_FILE: &str = "delivery-log.jsonl";

/// What to do with the messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Send them over SMTP.
    Send,
    /// Write them as `.eml` files into this folder.
    Eml(PathBuf),
    /// List who would get what.
    DryRun,
}

/// What `deliver` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The report's output folder.
    pub out: PathBuf,
    /// Templates replacing the built-ins.
    pub templates: Option<PathBuf>,
    /// Branding file (default: the one the report used, from its manifest).
    pub branding: Option<PathBuf>,
    /// Language (default: the report's, from its manifest).
    pub lang: Option<Lang>,
    /// Send, write or list.
    pub mode: Mode,
    /// Send again what was sent before.
    pub resend: bool,
}

// ---- what the report wrote -----------------------------------------------------------------

#[derive(Deserialize)]
struct SummaryLite {
    schema: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    baseline_period: Option<String>,
    portfolio: PortfolioLite,
    accounts: Vec<AccountLite>,
    #[serde(default)]
    missing_accounts: Vec<MissingLite>,
}

#[derive(Deserialize)]
struct MissingLite {
    customer: Option<String>,
    score: Option<f64>,
    #[serde(default)]
    history: Vec<aliaudit_core::trend::AccountPoint>,
}

#[derive(Deserialize)]
struct PortfolioLite {
    score_mean: Option<f64>,
    #[serde(default)]
    delta: Option<PortfolioDeltaLite>,
}

#[derive(Deserialize)]
struct PortfolioDeltaLite {
    score_mean: Option<f64>,
}

#[derive(Deserialize)]
struct AccountLite {
    id: String,
    name: String,
    customer: Option<String>,
    #[serde(default)]
    contacts: Vec<String>,
    score: Option<f64>,
    #[serde(default)]
    delta: Option<DeltaLite>,
    #[serde(default)]
    history: Vec<aliaudit_core::trend::AccountPoint>,
    controls: Vec<ControlLite>,
}

#[derive(Deserialize)]
struct DeltaLite {
    score: Option<f64>,
}

#[derive(Deserialize)]
struct ControlLite {
    id: String,
    title: String,
    severity: String,
    status: String,
}

#[derive(Deserialize)]
struct ManifestLite {
    schema: String,
    options: ManifestOptionsLite,
}

#[derive(Deserialize)]
struct ManifestOptionsLite {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    branding_file: Option<FileStamp>,
    #[serde(default)]
    thresholds: serde_json::Value,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot read {} (is this the output folder of `aliaudit report`?)",
            path.display()
        )
    })?;
    serde_json::from_reader(std::io::BufReader::new(file))
        .with_context(|| format!("{}: not a readable aliaudit output", path.display()))
}

// ---- the messages --------------------------------------------------------------------------

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// A customer's report, to its recipients.
    Customer,
    /// The portfolio report, to management.
    Management,
}

/// A PDF to attach.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Attached {
    /// Path relative to the output folder (`customers/acme.pdf`).
    file: String,
    /// Name shown to the recipient.
    name: String,
    /// Size in bytes.
    bytes: u64,
    /// SHA-256 of the content.
    sha256: String,
}

/// One message, ready to be composed.
#[derive(Debug, Clone)]
struct Planned {
    /// `customer:NAME` or `management`.
    key: String,
    /// To.
    to: Vec<Mailbox>,
    /// Cc.
    cc: Vec<Mailbox>,
    /// PDFs.
    attachments: Vec<Attached>,
    /// SHA-256 over the key, recipients and attachments: the same message has the same one.
    fingerprint: String,
    /// File name for `--eml` (`customer-<page name>`, `management`).
    stem: String,
    page: EmailPage,
    brand: Brand,
}

#[derive(Debug, Clone, Serialize)]
struct EmailPage {
    kind: Kind,
    lang: &'static str,
    name: String,
    subject: String,
    period: String,
    as_of: String,
    baseline: Option<String>,
    figures: Figures,
    top: Vec<TopRow>,
    rows: Vec<ScoreRow>,
    attachments: Vec<AttachmentRow>,
    brand: BrandView,
    logo_cid: Option<&'static str>,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    accounts: usize,
    customers: usize,
    score: Option<String>,
    change: Option<String>,
    failed: usize,
    high: usize,
    medium: usize,
    low: usize,
}

#[derive(Debug, Clone, Serialize)]
struct TopRow {
    title: String,
    severity: String,
    severity_label: String,
    /// The severity's colour, the one the reports use (`#rrggbb`).
    colour: String,
    accounts: usize,
}

#[derive(Debug, Clone, Serialize)]
struct ScoreRow {
    name: String,
    score: Option<String>,
    change: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct AttachmentRow {
    name: String,
    size: String,
}

#[derive(Debug, Clone, Serialize)]
struct BrandView {
    company: Option<String>,
    accent: String,
    on_accent: &'static str,
    link: String,
    footer: Option<String>,
    disclaimer: Option<String>,
    prepared_by: Option<String>,
    contact: Option<String>,
}

fn brand_view(b: &Brand) -> BrandView {
    BrandView {
        company: b.company.clone(),
        accent: b.accent.clone(),
        on_accent: b.on_accent(),
        link: b.link().to_string(),
        footer: b.footer.clone(),
        disclaimer: b.disclaimer.clone(),
        prepared_by: b.prepared_by.clone(),
        contact: b.contact.clone(),
    }
}

fn score_text(score: Option<f64>) -> Option<String> {
    score.map(|s| format!("{s:.1}"))
}

fn change_text(change: Option<f64>) -> Option<String> {
    change.map(|c| format!("{:+.1}", (c * 10.0).round() / 10.0))
}

/// Mean score of accounts, in tenths rounded half up, the way the report computes it.
fn mean_score(accounts: &[&AccountLite]) -> Option<f64> {
    aliaudit_core::aggregate::mean_tenths(
        accounts
            .iter()
            .filter_map(|a| a.score)
            .map(|s| (s * 10.0).round() as u64),
    )
    .map(|t| t as f64 / 10.0)
}

/// A customer's change since the baseline, the way its report computes it: accounts not
/// re-assessed count at their last score.
fn customer_change(
    accounts: &[&AccountLite],
    missing: &[&MissingLite],
    period: &str,
) -> Option<f64> {
    aliaudit_core::trend::customer_change(
        accounts
            .iter()
            .map(|a| a.score)
            .chain(missing.iter().map(|m| m.score)),
        accounts
            .iter()
            .map(|a| a.history.as_slice())
            .chain(missing.iter().map(|m| m.history.as_slice())),
        period,
    )
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        _ => 3,
    }
}

/// The reports' colour of a severity as `summary.json` spells it (`high`...), grey for
/// a spelling it does not know.
fn severity_colour(s: &str) -> String {
    use aliaudit_core::model::Severity;
    use aliaudit_core::rules::Status;
    use aliaudit_report::theme;
    match s {
        "high" => theme::severity(Severity::High),
        "medium" => theme::severity(Severity::Medium),
        "low" => theme::severity(Severity::Low),
        _ => theme::status(Status::NotEvaluable),
    }
    .css()
}

/// Failed controls by severity, and the five failing in most accounts (worst first), with
/// built-in controls' titles in the e-mail's language.
fn failures(
    accounts: &[&AccountLite],
    c: &Catalogue,
    thresholds: &aliaudit_core::rules::Thresholds,
) -> (Figures, Vec<TopRow>) {
    let mut figures = Figures::default();
    let mut by_control: BTreeMap<&str, (&str, &str, usize)> = BTreeMap::new();
    for a in accounts {
        for ctl in a.controls.iter().filter(|c| c.status == "fail") {
            figures.failed += 1;
            match ctl.severity.as_str() {
                "high" => figures.high += 1,
                "medium" => figures.medium += 1,
                _ => figures.low += 1,
            }
            by_control
                .entry(&ctl.id)
                .or_insert((&ctl.title, &ctl.severity, 0))
                .2 += 1;
        }
    }
    let mut top: Vec<(String, &str, usize)> = by_control
        .into_iter()
        .map(|(id, (title, severity, n))| {
            let title = aliaudit_core::rules::control_text(c, id, "title", thresholds)
                .unwrap_or_else(|| title.to_string());
            (title, severity, n)
        })
        .collect();
    top.sort_by(|a, b| {
        severity_rank(a.1)
            .cmp(&severity_rank(b.1))
            .then(b.2.cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    let rows = top
        .into_iter()
        .take(5)
        .map(|(title, severity, n)| TopRow {
            title,
            severity: severity.to_string(),
            severity_label: c.t(&format!("severity.{severity}")).to_string(),
            colour: severity_colour(severity),
            accounts: n,
        })
        .collect();
    (figures, rows)
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// A file name a recipient can read: the title with characters file systems refuse, control
/// characters and the bidirectional controls (which can show `exe.pdf` as `fdp.exe`) replaced
/// by `-`. `?` is among them, so no encoded-word (`=?utf-8?B?...?=`) can be read in it either.
fn shown_name(title: &str, period: &str) -> String {
    let clean: String = format!("{} {period}", title.trim())
        .chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c)
                || c.is_control()
                || aliaudit_core::diag::is_bidi_or_separator(c)
            {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!("{}.pdf", clean.trim())
}

/// Untrusted text made safe for a header (the subject, a display name): control and
/// bidirectional characters become U+FFFD, and `=?`, which would start an RFC 2047
/// encoded-word that mail clients decode into other text, becomes `= ?`. Text without any of
/// them is kept as it is; applying it twice changes nothing more.
fn header_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() || aliaudit_core::diag::is_bidi_or_separator(c) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect();
    clean.replace("=?", "= ?")
}

/// The mailbox with its display name made safe for a header (the address is checked by
/// lettre's parser and cannot carry an encoded-word).
fn header_mailbox(m: &Mailbox) -> Mailbox {
    Mailbox::new(m.name.as_deref().map(header_text), m.email.clone())
}

fn attach(out: &Path, file: String, name: String) -> Result<Attached> {
    let path = out.join(&file);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (was the report written with --format pdf?)",
            path.display()
        )
    })?;
    Ok(Attached {
        file,
        name,
        bytes: bytes.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
    })
}

fn fingerprint(key: &str, to: &[Mailbox], cc: &[Mailbox], attachments: &[Attached]) -> String {
    let mut to: Vec<String> = to.iter().map(|m| m.email.to_string()).collect();
    let mut cc: Vec<String> = cc.iter().map(|m| m.email.to_string()).collect();
    to.sort();
    cc.sort();
    let parts: Vec<(&str, &str)> = attachments
        .iter()
        .map(|a| (a.file.as_str(), a.sha256.as_str()))
        .collect();
    let text = serde_json::json!([key, to, cc, parts]).to_string();
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The plan: every message, checked, and what will not be sent and why.
pub struct Plan {
    /// Messages to deliver.
    messages: Vec<Planned>,
    /// Customers that get no message, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Things the user should know (branding changed since the report...).
    pub warnings: Vec<String>,
    /// The e-mail templates, loaded once (a broken one fails the plan, before any sending).
    templates: aliaudit_report::render::html::Templates,
}

/// Reads the report's output and the configuration into messages, checking every address
/// and attachment. Any problem is an error before anything is sent.
pub fn plan(options: &Options, config: &Config) -> Result<Plan> {
    let out = &options.out;
    let (manifest, summary) = read_report(out)?;
    let lang = options
        .lang
        .unwrap_or(match manifest.options.lang.as_deref() {
            Some("zh") => Lang::Zh,
            _ => Lang::En,
        });
    let c = Catalogue::get(lang);
    let thresholds: aliaudit_core::rules::Thresholds =
        serde_json::from_value(manifest.options.thresholds.clone()).unwrap_or_default();
    let mut warnings = Vec::new();
    let branding = branding(options, &manifest, &mut warnings)?;
    let report = Report::new(&summary, config)?;
    let composer = Composer {
        report: &report,
        c,
        lang,
        thresholds: &thresholds,
    };
    let mut messages = Vec::new();
    let mut skipped = Vec::new();
    let mut bad_addresses = Vec::new();
    for (customer, accounts) in &report.by_customer {
        let (to, cc) = match config.customers.get(*customer) {
            Some((to, cc)) => (to.clone(), cc.clone()),
            None => (contacts(customer, accounts, &mut bad_addresses), Vec::new()),
        };
        if to.is_empty() {
            skipped.push((
                format!("customer:{customer}"),
                "no recipients: its accounts have no contacts in account.toml and the configuration has no [customers.\"...\"] table for it".to_string(),
            ));
            continue;
        }
        let attachments = report.customer_attachments(out, customer, accounts, config)?;
        let brand = branding.for_customer(Some(customer)).clone();
        let key = format!("customer:{customer}");
        let page = composer.page(Kind::Customer, customer, accounts, &attachments, &brand);
        messages.push(Planned {
            fingerprint: fingerprint(&key, &to, &cc, &attachments),
            stem: format!("customer-{}", report.customer_slugs[*customer]),
            key,
            to,
            cc,
            attachments,
            page,
            brand,
        });
    }
    if config.management.is_empty() {
        skipped.push((
            "management".to_string(),
            "management is empty in the configuration".to_string(),
        ));
    } else {
        let all: Vec<&AccountLite> = summary.accounts.iter().collect();
        let brand = branding.for_customer(None).clone();
        let label = brand
            .company
            .clone()
            .unwrap_or_else(|| c.t("ui.portfolio").to_string());
        let attachments = vec![attach(
            out,
            "portfolio.pdf".to_string(),
            shown_name(&label, &report.period),
        )?];
        let key = "management".to_string();
        let page = composer.page(Kind::Management, &label, &all, &attachments, &brand);
        messages.push(Planned {
            fingerprint: fingerprint(
                &key,
                &config.management,
                &config.management_cc,
                &attachments,
            ),
            stem: "management".to_string(),
            key,
            to: config.management.clone(),
            cc: config.management_cc.clone(),
            attachments,
            page,
            brand,
        });
    }
    let too_large = too_large(&messages, config.max_attachment_bytes);
    if !bad_addresses.is_empty() || !too_large.is_empty() {
        bail!(
            "nothing was sent:\n  {}",
            bad_addresses
                .into_iter()
                .chain(too_large)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    Ok(Plan {
        messages,
        skipped,
        warnings,
        templates: aliaudit_report::render::html::Templates::load(
            options.templates.as_deref(),
            lang,
        )?,
    })
}

/// Reads the report's manifest.json and summary.json, refusing other schemas.
fn read_report(out: &Path) -> Result<(ManifestLite, SummaryLite)> {
    let manifest: ManifestLite = read_json(&out.join("manifest.json"))?;
    if manifest.schema != aliaudit_core::summary::MANIFEST_SCHEMA {
        bail!(
            "{}: schema {} is not {}",
            out.join("manifest.json").display(),
            manifest.schema,
            aliaudit_core::summary::MANIFEST_SCHEMA
        );
    }
    let summary: SummaryLite = read_json(&out.join("summary.json"))?;
    if summary.schema != aliaudit_core::summary::SUMMARY_SCHEMA {
        bail!(
            "{}: schema {} is not {}",
            out.join("summary.json").display(),
            summary.schema,
            aliaudit_core::summary::SUMMARY_SCHEMA
        );
    }
    Ok((manifest, summary))
}

/// The branding of the e-mails: `--branding`, else the report's own branding file as it is
/// now (a warning when it changed since the report, unbranded when it cannot be read).
fn branding(
    options: &Options,
    manifest: &ManifestLite,
    warnings: &mut Vec<String>,
) -> Result<Branding> {
    Ok(match (&options.branding, &manifest.options.branding_file) {
        (Some(path), _) => Branding::load(path)?,
        (None, Some(FileStamp { path, sha256 })) => match Branding::load(Path::new(path)) {
            Ok(b) => {
                if b.file.as_ref().map(|f| &f.sha256) != Some(sha256) {
                    warnings.push(format!(
                        "{path} changed since the report was written; the e-mails use it as it is now"
                    ));
                }
                b
            }
            Err(e) => {
                warnings.push(format!(
                    "the report's branding file cannot be used ({e}); the e-mails are unbranded (pass --branding)"
                ));
                Branding::default()
            }
        },
        (None, None) => Branding::default(),
    })
}

/// The report as the messages need it: accounts and missing accounts by customer, page
/// names, period and as-of.
struct Report<'a> {
    summary: &'a SummaryLite,
    by_customer: BTreeMap<&'a str, Vec<&'a AccountLite>>,
    missing_by_customer: BTreeMap<&'a str, Vec<&'a MissingLite>>,
    account_slugs: BTreeMap<String, String>,
    customer_slugs: BTreeMap<String, String>,
    period: String,
    as_of: String,
}

impl<'a> Report<'a> {
    /// Groups the summary's accounts by customer; a configuration naming a customer the
    /// report does not have is an error.
    fn new(summary: &'a SummaryLite, config: &Config) -> Result<Report<'a>> {
        let mut by_customer: BTreeMap<&str, Vec<&AccountLite>> = BTreeMap::new();
        for a in &summary.accounts {
            if let Some(customer) = a.customer.as_deref() {
                by_customer.entry(customer).or_default().push(a);
            }
        }
        if let Some(unknown) = config
            .customers
            .keys()
            .find(|k| !by_customer.contains_key(k.as_str()))
        {
            let known: Vec<&str> = by_customer.keys().copied().collect();
            bail!(
                "the configuration names customers.\"{unknown}\", which is not a customer of this report (customers: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        let mut missing_by_customer: BTreeMap<&str, Vec<&MissingLite>> = BTreeMap::new();
        for m in &summary.missing_accounts {
            if let Some(customer) = m.customer.as_deref() {
                missing_by_customer.entry(customer).or_default().push(m);
            }
        }
        Ok(Report {
            summary,
            account_slugs: aliaudit_report::view::slugs(
                summary.accounts.iter().map(|a| a.id.as_str()),
            ),
            customer_slugs: aliaudit_report::view::slugs(by_customer.keys().copied()),
            by_customer,
            missing_by_customer,
            period: summary.period.clone().unwrap_or_default(),
            as_of: summary
                .as_of
                .as_deref()
                .map(|s| s.get(..10).unwrap_or(s).to_string())
                .unwrap_or_default(),
        })
    }

    /// The accounts of `customer` the baseline had and this report does not.
    fn missing_of(&self, customer: &str) -> &[&MissingLite] {
        self.missing_by_customer
            .get(customer)
            .map_or(&[], |v| v.as_slice())
    }

    /// A customer's PDF, and its accounts' PDFs when the configuration asks for them.
    fn customer_attachments(
        &self,
        out: &Path,
        customer: &str,
        accounts: &[&AccountLite],
        config: &Config,
    ) -> Result<Vec<Attached>> {
        let slug = &self.customer_slugs[customer];
        let mut attachments = vec![attach(
            out,
            format!("customers/{slug}.pdf"),
            shown_name(customer, &self.period),
        )?];
        if config.attach_accounts {
            let mut sorted = accounts.to_vec();
            sorted.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            for a in sorted {
                attachments.push(attach(
                    out,
                    format!("accounts/{}.pdf", self.account_slugs[&a.id]),
                    shown_name(&format!("{} ({})", a.name, a.id), &self.period),
                )?);
            }
        }
        Ok(attachments)
    }
}

/// The recipients of a customer without a `[customers."..."]` table: its accounts'
/// contacts, each address once; a bad address is noted in `bad`.
fn contacts(customer: &str, accounts: &[&AccountLite], bad: &mut Vec<String>) -> Vec<Mailbox> {
    let mut seen = BTreeSet::new();
    let mut to = Vec::new();
    for a in accounts {
        for contact in &a.contacts {
            match config::mailbox(contact) {
                Ok(m) => {
                    if seen.insert(m.email.to_string()) {
                        to.push(m);
                    }
                }
                Err(e) => bad.push(format!("account {} ({customer}): contact {e}", a.id)),
            }
        }
    }
    to
}

/// Messages whose attachments together pass the configured limit, each as a sentence.
fn too_large(messages: &[Planned], max_bytes: u64) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| {
            let total: u64 = m.attachments.iter().map(|a| a.bytes).sum();
            (total > max_bytes).then(|| {
                format!(
                    "{}: attachments total {}, more than max_attachment_mb = {} (raise it, or set attach_accounts = false)",
                    m.key,
                    size_text(total),
                    max_bytes as f64 / (1024.0 * 1024.0)
                )
            })
        })
        .collect()
}

/// What every message page is built from: the report, the language and the thresholds.
struct Composer<'a> {
    report: &'a Report<'a>,
    c: &'static Catalogue,
    lang: Lang,
    thresholds: &'a aliaudit_core::rules::Thresholds,
}

impl Composer<'_> {
    /// The page of one message: its figures, top failures, score rows and attachments.
    fn page(
        &self,
        kind: Kind,
        name: &str,
        accounts: &[&AccountLite],
        attachments: &[Attached],
        brand: &Brand,
    ) -> EmailPage {
        let report = self.report;
        let period = &report.period;
        let (mut figures, top) = failures(accounts, self.c, self.thresholds);
        figures.accounts = accounts.len();
        let rows = match kind {
            Kind::Customer => {
                let mut sorted = accounts.to_vec();
                sorted.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
                sorted
                    .iter()
                    .map(|a| ScoreRow {
                        name: a.name.clone(),
                        score: score_text(a.score),
                        change: change_text(a.delta.as_ref().and_then(|d| d.score)),
                    })
                    .collect()
            }
            Kind::Management => report
                .by_customer
                .iter()
                .map(|(customer, members)| ScoreRow {
                    name: customer.to_string(),
                    score: score_text(mean_score(members)),
                    change: change_text(customer_change(
                        members,
                        report.missing_of(customer),
                        period,
                    )),
                })
                .collect(),
        };
        match kind {
            Kind::Customer => {
                figures.customers = 1;
                figures.score = score_text(mean_score(accounts));
                figures.change =
                    change_text(customer_change(accounts, report.missing_of(name), period));
            }
            Kind::Management => {
                let portfolio = &report.summary.portfolio;
                figures.customers = report.by_customer.len();
                figures.score = score_text(portfolio.score_mean);
                figures.change = change_text(portfolio.delta.as_ref().and_then(|d| d.score_mean));
            }
        }
        EmailPage {
            kind,
            lang: self.lang.code(),
            name: name.to_string(),
            subject: String::new(),
            period: period.clone(),
            as_of: report.as_of.clone(),
            baseline: report.summary.baseline_period.clone(),
            figures,
            top,
            rows,
            attachments: attachments
                .iter()
                .map(|a| AttachmentRow {
                    name: a.name.clone(),
                    size: size_text(a.bytes),
                })
                .collect(),
            brand: brand_view(brand),
            logo_cid: brand
                .logo
                .as_ref()
                .filter(|l| l.mime == "image/png")
                .map(|_| "logo"),
        }
    }
}

// ---- composing -----------------------------------------------------------------------------

/// The subject, plain text and HTML of a message.
fn render(plan: &Plan, message: &Planned) -> Result<(String, String, String)> {
    let templates = &plan.templates;
    let mut page = message.page.clone();
    let text = |name: &str, page: &EmailPage| -> Result<String> {
        let mut buf = Vec::new();
        templates.render(name, page, &mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    // One line, whatever the template does, and nothing a mail client would decode into
    // other text: the names in it are untrusted, and so is a template's own text.
    page.subject = header_text(
        &text("email_subject.txt", &page)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    );
    let plain = text("email.txt", &page)?;
    let html = text("email.html", &page)?;
    Ok((page.subject, plain, html))
}

/// The message's `Message-ID`: the fingerprint and how many times it was sent before, at the
/// sender's domain (stable for the same message, new for a resend).
fn message_id(message: &Planned, from: &Mailbox, previous: usize) -> String {
    format!(
        "<aliaudit.{}.{}@{}>",
        &message.fingerprint[..24],
        previous,
        from.email.domain()
    )
}

/// Builds the RFC 5322 message. Attachments are read again and must be what was planned.
fn compose(
    out: &Path,
    plan: &Plan,
    message: &Planned,
    from: &Mailbox,
    id: &str,
) -> Result<lettre::Message> {
    let (subject, plain, html) = render(plan, message)?;
    let mut builder = lettre::Message::builder()
        .from(header_mailbox(from))
        .subject(subject)
        .message_id(Some(id.to_string()));
    for to in &message.to {
        builder = builder.to(header_mailbox(to));
    }
    for cc in &message.cc {
        builder = builder.cc(header_mailbox(cc));
    }
    let html_part = SinglePart::html(html);
    let alternative = match message
        .brand
        .logo
        .as_ref()
        .filter(|l| l.mime == "image/png")
    {
        Some(logo) => MultiPart::alternative()
            .singlepart(SinglePart::plain(plain))
            .multipart(
                MultiPart::related().singlepart(html_part).singlepart(
                    Attachment::new_inline("logo".to_string())
                        .body(logo.bytes.to_vec(), ContentType::parse("image/png")?),
                ),
            ),
        None => MultiPart::alternative()
            .singlepart(SinglePart::plain(plain))
            .singlepart(html_part),
    };
    let mut mixed = MultiPart::mixed().multipart(alternative);
    for a in &message.attachments {
        let bytes = std::fs::read(out.join(&a.file))
            .with_context(|| format!("cannot read {}", out.join(&a.file).display()))?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != a.sha256 {
            bail!(
                "{} changed since the messages were planned; run deliver again",
                out.join(&a.file).display()
            );
        }
        mixed = mixed.singlepart(
            Attachment::new(a.name.clone()).body(bytes, ContentType::parse("application/pdf")?),
        );
    }
    Ok(builder.multipart(mixed)?)
}

// ---- the log -------------------------------------------------------------------------------

/// One line of the delivery log.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogLine {
    /// When (UTC).
    time: String,
    /// `customer:NAME` or `management`.
    message: String,
    /// The message's fingerprint.
    fingerprint: String,
    /// `Message-ID`.
    message_id: String,
    /// To.
    to: Vec<String>,
    /// Cc.
    #[serde(default)]
    cc: Vec<String>,
    /// Attachments with their SHA-256.
    attachments: Vec<Attached>,
    /// `sent`, `failed` or `written` (an .eml file).
    result: String,
    /// The server's answer, the error, or the .eml path.
    detail: String,
}

/// Reads the log (lines that cannot be read are skipped: the log is ours, but people edit).
fn read_log(out: &Path) -> Vec<LogLine> {
    std::fs::read_to_string(out.join(LOG_FILE))
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn append_log(out: &Path, line: &LogLine) -> Result<()> {
    let path = out.join(LOG_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut text = serde_json::to_string(line)?;
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
        .with_context(|| format!("cannot write {}", path.display()))
}

// ---- running -------------------------------------------------------------------------------

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent now (the server's answer).
    Sent(String),
    /// Sent before (when), not sent again.
    AlreadySent(String),
    /// Not sent (why).
    Failed(String),
    /// Written as an .eml file (path).
    Written(String),
    /// `--dry-run`: would be sent.
    WouldSend,
    /// `--dry-run`: was sent before (when).
    WouldSkip(String),
}

/// One message's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `customer:NAME` or `management`.
    pub key: String,
    /// Recipients (to, then cc).
    recipients: Vec<String>,
    /// Attachments (name and size).
    attachments: Vec<String>,
    /// How it ended.
    pub result: Delivery,
}

/// The SMTP transport of the configuration; `password` from the variable it names.
fn transport(config: &Config, password: Option<String>) -> Result<lettre::SmtpTransport> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let Some(smtp) = &config.smtp else {
        bail!("the configuration has no [smtp] table: add one, or use --eml DIR or --dry-run");
    };
    // The public roots, and the configuration's own authority when it names one.
    let tls = || -> Result<TlsParameters> {
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(pem) = &config.ca_pem {
            params = params.add_root_certificate(Certificate::from_pem(pem)?);
        }
        Ok(params.build_rustls()?)
    };
    // "Dangerous" only names a builder without TLS preset; each mode sets its own.
    let plain = lettre::SmtpTransport::builder_dangerous(&smtp.host);
    let mut builder = match smtp.security {
        // STARTTLS is required: a server that does not offer it gets nothing.
        config::Security::Starttls => plain.tls(Tls::Required(tls()?)),
        config::Security::Tls => plain.tls(Tls::Wrapper(tls()?)),
        config::Security::None => plain.tls(Tls::None),
    };
    builder = builder
        .port(smtp.port())
        .timeout(Some(std::time::Duration::from_secs(60)));
    if let (Some(user), Some(var)) = (&smtp.user, &smtp.password_env) {
        let Some(password) = password else {
            bail!("[smtp] password_env names {var}, which is not set");
        };
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Delivers the plan. `password` is the value of `[smtp] password_env`, when set.
pub fn run(
    options: &Options,
    config: &Config,
    plan: &Plan,
    password: Option<String>,
    progress: &dyn Fn(&Outcome),
) -> Result<Vec<Outcome>> {
    let log = read_log(&options.out);
    let sent_before = |fp: &str| {
        log.iter()
            .filter(|l| l.fingerprint == fp && l.result == "sent")
            .map(|l| l.time.clone())
            .next_back()
    };
    // Every word from the server, and every transport error (which may quote one), goes
    // through this before it is logged, shown or printed.
    let scrubber = scrub::Scrubber::new(
        config.smtp.as_ref().and_then(|s| s.user.as_deref()),
        password.as_deref(),
    );
    let transport = match &options.mode {
        Mode::Send
            if plan
                .messages
                .iter()
                .any(|m| options.resend || sent_before(&m.fingerprint).is_none()) =>
        {
            Some(transport(config, password)?)
        }
        _ => None,
    };
    if let Mode::Eml(dir) = &options.mode {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut outcomes = Vec::new();
    for m in &plan.messages {
        let recipients: Vec<String> = m.to.iter().chain(&m.cc).map(|a| a.to_string()).collect();
        let attachments: Vec<String> = m
            .attachments
            .iter()
            .map(|a| format!("{} ({})", a.name, size_text(a.bytes)))
            .collect();
        let before = sent_before(&m.fingerprint);
        let previous = log
            .iter()
            .filter(|l| l.fingerprint == m.fingerprint)
            .count();
        let id = message_id(m, &config.from, previous);
        let line = |result: &str, detail: String| LogLine {
            time: aliaudit_core::text::rfc3339(chrono::Utc::now()),
            message: m.key.clone(),
            fingerprint: m.fingerprint.clone(),
            message_id: id.clone(),
            to: m.to.iter().map(|a| a.email.to_string()).collect(),
            cc: m.cc.iter().map(|a| a.email.to_string()).collect(),
            attachments: m.attachments.clone(),
            result: result.to_string(),
            detail,
        };
        let result = match (&options.mode, before) {
            (Mode::DryRun, Some(when)) if !options.resend => Delivery::WouldSkip(when),
            (Mode::DryRun, _) => {
                // Render now, so a broken template shows in the dry run.
                render(plan, m)?;
                Delivery::WouldSend
            }
            (Mode::Eml(dir), _) => {
                let message = compose(&options.out, plan, m, &config.from, &id)?;
                let path = dir.join(format!("{}.eml", m.stem));
                aliaudit_report::output::write_atomic(&path, |w| {
                    w.write_all(&message.formatted()).map_err(|e| {
                        aliaudit_report::output::OutputError::Write {
                            path: path.clone(),
                            source: e,
                        }
                    })
                })?;
                append_log(&options.out, &line("written", path.display().to_string()))?;
                Delivery::Written(path.display().to_string())
            }
            (Mode::Send, Some(when)) if !options.resend => Delivery::AlreadySent(when),
            (Mode::Send, _) => {
                let message = compose(&options.out, plan, m, &config.from, &id)?;
                let sent = transport
                    .as_ref()
                    .map(|t| lettre::Transport::send(t, &message));
                match sent {
                    Some(Ok(response)) => {
                        let answer = scrubber.line(&format!(
                            "{} {}",
                            response.code(),
                            response.message().collect::<Vec<_>>().join(" ")
                        ));
                        append_log(&options.out, &line("sent", answer.clone()))?;
                        Delivery::Sent(answer)
                    }
                    Some(Err(e)) => {
                        let mut why = scrubber.line(&aliaudit_core::diag::chain(&e));
                        if why.contains("UnknownIssuer") {
                            why.push_str(
                                " (the server's certificate is not signed by a public authority: name yours in [smtp] ca_file)",
                            );
                        }
                        append_log(&options.out, &line("failed", why.clone()))?;
                        Delivery::Failed(why)
                    }
                    None => Delivery::Failed("no SMTP transport".into()),
                }
            }
        };
        let outcome = Outcome {
            key: m.key.clone(),
            recipients,
            attachments,
            result,
        };
        progress(&outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The final table: each message, its recipients and attachments, and what happened, one
/// printable line for each (names and addresses come from evidence; the server's words were
/// made printable by the scrubber).
pub fn table(outcomes: &[Outcome], skipped: &[(String, String)]) -> String {
    use aliaudit_core::diag::printable;
    let mut out = String::new();
    for o in outcomes {
        let status = match &o.result {
            Delivery::Sent(answer) => format!("sent ({answer})"),
            Delivery::AlreadySent(when) => format!(
                "already sent {}, not sent again (--resend to send it again)",
                printable(when)
            ),
            Delivery::Failed(why) => format!("FAILED: {why}"),
            Delivery::Written(path) => format!("written to {}", printable(path)),
            Delivery::WouldSend => "would be sent".to_string(),
            Delivery::WouldSkip(when) => {
                format!("sent {}; would not be sent again", printable(when))
            }
        };
        out.push_str(&format!("{}: {status}\n", printable(&o.key)));
        out.push_str(&format!("  to: {}\n", printable(&o.recipients.join(", "))));
        out.push_str(&format!(
            "  attached: {}\n",
            printable(&o.attachments.join(", "))
        ));
    }
    for (name, why) in skipped {
        out.push_str(&format!(
            "{}: not sent: {}\n",
            printable(name),
            printable(why)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_sizes_read_well() {
        assert_eq!(change_text(Some(2.25)), Some("+2.3".into()));
        assert_eq!(change_text(Some(-1.0)), Some("-1.0".into()));
        assert_eq!(change_text(None), None);
        assert_eq!(size_text(1500), "2 KB");
        assert_eq!(size_text(3 * 1024 * 1024 + 1), "3.0 MB");
        assert_eq!(
            shown_name("Acme/Retail: \"EU\"", "2026-Q4"),
            "Acme-Retail- -EU- 2026-Q4.pdf"
        );
    }

    #[test]
    fn names_in_headers_and_file_names_cannot_hide_other_text() {
        assert_eq!(
            header_text("Acme =?utf-8?B?SGk=?= =?UTF-8?q?x?="),
            "Acme = ?utf-8?B?SGk= ?= = ?UTF-8?q?x?="
        );
        assert_eq!(
            header_text("a\u{202e}b\x1b\u{2066}c"),
            "a\u{fffd}b\u{fffd}\u{fffd}c"
        );
        let once = header_text("==??=?\u{202e}");
        assert_eq!(header_text(&once), once);
        assert!(!once.contains("=?"), "{once}");
        assert_eq!(
            header_text("Northwind：安全合规报告"),
            "Northwind：安全合规报告"
        );
        assert_eq!(
            shown_name("Main \u{202e}fdp.exe\u{2069}\u{200f}", "2026-Q3\u{202d}"),
            "Main -fdp.exe-- 2026-Q3-.pdf"
        );
        let m: Mailbox = "\"=?utf-8?B?Q0VP?=\" <ceo@x.example>"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let safe = header_mailbox(&m);
        assert_eq!(safe.name.as_deref(), Some("= ?utf-8?B?Q0VP?="));
        assert_eq!(safe.email, m.email);
    }

    #[test]
    fn the_fingerprint_ignores_order_and_names_but_not_content() {
        let a = |s: &str| s.parse::<Mailbox>().unwrap_or_else(|e| panic!("{e}"));
        let pdf = |sha: &str| Attached {
            file: "customers/x.pdf".into(),
            name: "x.pdf".into(),
            bytes: 1,
            sha256: sha.into(),
        };
        let one = fingerprint(
            "customer:X",
            &[a("A <a@x.example>"), a("b@x.example")],
            &[],
            &[pdf("1")],
        );
        let same = fingerprint(
            "customer:X",
            &[a("b@x.example"), a("a@x.example")],
            &[],
            &[pdf("1")],
        );
        assert_eq!(one, same);
        assert_ne!(
            one,
            fingerprint("customer:X", &[a("a@x.example")], &[], &[pdf("1")])
        );
        assert_ne!(
            one,
            fingerprint(
                "customer:X",
                &[a("a@x.example"), a("b@x.example")],
                &[],
                &[pdf("2")]
            )
        );
    }
}
