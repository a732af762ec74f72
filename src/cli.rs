//! Command line: flags parsed by clap, validated into options, then the stages run.
//!
//! The help text is the manual. Fatal problems (bad flags, unwritable output) exit 1;
//! problems with the evidence are reported and exit 2 after the reports are written.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::{Level, shown_path as shown};
use crate::ingest::Limits;
use crate::output;
use crate::pipeline::{self, Run, RunOptions};
use crate::rules::{CATALOG, RulePack};
use crate::summary::ManifestOptions;

/// Exit code: every account fully evaluated.
pub const EXIT_OK: u8 = 0;
/// Exit code: fatal (bad arguments, unwritable output).
pub const EXIT_FATAL: u8 = 1;
/// Exit code: reports written, but some input was rejected or some account is incomplete.
pub const EXIT_INCOMPLETE: u8 = 2;

const EXIT_HELP: &str = "\
Exit codes:
  0  every account fully evaluated, no input rejected
  2  reports written, but some input was rejected or some account is incomplete
     (with --strict: and nothing was written)
  1  fatal: bad arguments, unreadable input root, unwritable output";

/// aliaudit turns evidence saved from Alibaba Cloud accounts into audit-ready compliance
/// reports: one folder per account in, findings per control and per user out.
#[derive(Debug, Parser)]
#[command(name = "aliaudit", version, about, long_about = None, after_help = EXIT_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every account under INPUT and write summary.json, findings.csv and manifest.json.
    #[command(after_help = EXIT_HELP)]
    Report(Box<ReportArgs>),
    /// Ingest and evaluate only: print each account's status and every diagnostic, write nothing.
    #[command(after_help = EXIT_HELP)]
    Validate(EvalArgs),
    /// Call the live Alibaba Cloud APIs and save each account's evidence in the layout
    /// `report` reads (one folder per account, responses saved verbatim).
    #[command(after_help = collect_help())]
    Collect(CollectArgs),
    /// Put the outputs of `report --shard K/N` together: portfolio and customer pages,
    /// summary.json, findings.csv and manifest.json, as one run would write them, without
    /// reading the evidence again.
    #[command(after_help = EXIT_HELP)]
    Merge(MergeArgs),
    /// E-mail each customer's PDF to its recipients and the portfolio PDF to management
    /// (SMTP), or write the messages as .eml files.
    #[command(after_help = DELIVER_HELP)]
    Deliver(DeliverArgs),
    /// List the built-in controls with their logic, thresholds and CIS mappings.
    Controls(ControlsArgs),
    /// Write a realistic synthetic evidence tree (demos, benchmarks), deterministic by seed.
    Sample(SampleArgs),
    /// Work with the report templates.
    #[command(subcommand)]
    Templates(TemplatesCommand),
}

/// `aliaudit templates ...`.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the built-in templates (base.html, index.html, customer.html, account.html and
    /// the parts they include; email.html, email.txt, email_subject.txt for `deliver`) and
    /// static files (report.css, report.js) into DIR for editing; then pass
    /// `--templates DIR` to `report` or `deliver`. Files you delete fall back to the built-ins.
    Export {
        /// Folder to write into (created if missing; files of the same name are replaced).
        dir: PathBuf,
    },
}

/// Flags shared by `report` and `validate`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Input roots: folders holding one folder per account, at any depth. An account folder
    /// holds account.toml and/or saved API responses and credential reports; file names are
    /// free, the kind is detected from the content.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Measure age-based checks (90 days...) against this instant: YYYY-MM-DD (the end of that
    /// day, UTC) or RFC 3339. Default: the newest evidence timestamp (credential report
    /// GeneratedTime, Security Center CheckTime), never the clock.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Rules file (TOML) overriding thresholds and per-control severity or enablement;
    /// `aliaudit controls` lists the names.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Accepted risks (TOML): `[[exception]]` entries with account (id or glob), control,
    /// optional resource (glob), reason, owner, approved_by and expires (YYYY-MM-DD, compared
    /// with the as-of date). An unexpired entry turns the failures it matches into excepted;
    /// the register (active, expired, stale) is printed in every report.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores). Output is identical for any value.
    #[arg(long, short = 'j', value_name = "N", value_parser = jobs_range())]
    pub jobs: Option<usize>,
    /// Treat any rejected input or incomplete account as a failure: exit 2 and write nothing.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar and no diagnostics on the terminal (they are still in summary.json).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Largest evidence file read, in MiB (1 to 4096); larger files are hashed and rejected.
    #[arg(long, value_name = "MIB", default_value_t = crate::ingest::DEFAULT_MAX_FILE_BYTES >> 20,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=MAX_FILE_MB))]
    pub max_file_mb: u64,
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Format {
    /// summary.json: the whole model (contract aliaudit.summary/v1).
    Json,
    /// findings.csv: one row per control result per resource.
    Csv,
    /// index.html, customers/SLUG.html and accounts/SLUG.html: self-contained pages.
    Html,
    /// portfolio.pdf, customers/SLUG.pdf and accounts/SLUG.pdf: A4 reports with charts.
    Pdf,
}

/// `--lang`: a report language as the command line names it (the clap side of
/// [`crate::i18n::Lang`], which stays free of the argument parser).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LangArg {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl From<LangArg> for crate::i18n::Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::En => crate::i18n::Lang::En,
            LangArg::Zh => crate::i18n::Lang::Zh,
        }
    }
}

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Evaluation flags.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output folder (created if missing; files in it are replaced atomically).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub out: PathBuf,
    /// Output formats, comma-separated. manifest.json is always written.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "json,csv,html,pdf",
        value_name = "LIST"
    )]
    pub format: Vec<Format>,
    /// Folder of templates and static files that replace the built-ins of the same name
    /// (see `aliaudit templates export`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// A TrueType or OpenType font for characters the embedded Noto Sans CJK SC subset
    /// (Latin-1, punctuation, GB2312) lacks, in the PDFs. Characters no font has are reported.
    #[arg(long, value_name = "PATH")]
    pub font: Option<PathBuf>,
    /// The output folder of the previous run (or its summary.json): adds each account's
    /// change since then (new, resolved and persisting failures, score change), carries the
    /// score history forward and draws the trend charts.
    #[arg(long, value_name = "PREVIOUS_OUT")]
    pub baseline: Option<PathBuf>,
    /// Language of every built-in string of the HTML and PDF reports (evidence text is shown
    /// as collected). summary.json and findings.csv stay in English for other tools.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// White-label branding (TOML): company, logo (PNG or SVG, relative to the file), accent
    /// (#rrggbb), title, footer, disclaimer, prepared_by, contact; `[customers."Name"]` tables
    /// override any of them for that customer's reports.
    #[arg(long, value_name = "FILE")]
    pub branding: Option<PathBuf>,
    /// Name of this period in histories and trend charts. Default: the as-of date's quarter,
    /// e.g. 2026-Q3. A run with the period of its baseline replaces that period's point.
    #[arg(long, value_name = "LABEL")]
    pub period: Option<String>,
    /// Evaluate only shard K of N (accounts by a stable hash of their id) and write their
    /// pages and a shard summary (shard.json) into OUT; `aliaudit merge` then writes the
    /// rest from all N shard folders. Needs --as-of, so that every shard measures against
    /// the same date.
    #[arg(long, value_name = "K/N", conflicts_with = "shard_count")]
    pub shard: Option<String>,
    /// The shard count of a Kubernetes Indexed Job: this is shard JOB_COMPLETION_INDEX + 1
    /// of N (the job's completions).
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_SHARDS))]
    pub shard_count: Option<usize>,
}

/// Flags of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The output folders of every `report --shard K/N` of one run.
    #[arg(required = true, value_name = "SHARD_OUT")]
    pub shards: Vec<PathBuf>,
    /// Output folder: the same files as one run over the whole input.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub out: PathBuf,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = jobs_range())]
    pub jobs: Option<usize>,
    /// No diagnostics on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn collect_help() -> String {
    "\
Accounts file (TOML):
  [endpoints]            optional: ims, sas, sts base URLs replacing the real hosts
  [defaults]             optional: site = \"china\" | \"international\", lang = \"en\" | \"zh\"
  [[account]]
  folder = \"acme/prod\"   output folder, relative to -o
  name, customer, contacts = [\"cto@acme.example\"], site
  credentials = \"env\"                   ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN
  credentials = { profile = \"NAME\" }    aliyun CLI profile (AK, StsToken, RamRoleArn,
                                          ChainableRamRoleArn) of ~/.aliyun/config.json
                                          (ALIBABA_CLOUD_CONFIG_FILE overrides the path)
  credentials = { assume_role = \"acs:ram::UID:role/NAME\", from = \"env\" | { profile = \"NAME\" },
                  external_id = \"...\", session_name = \"...\" }

RAM permissions the collecting identity needs in each account (a policy to paste):
{POLICY}

For assume_role, the identity that assumes the roles needs sts:AssumeRole
(system policy AliyunSTSAssumeRoleAccess, or a policy naming the role ARNs), and each
customer's role trusts that identity (ideally with an external id condition).

Each account is written to OUT/.aliaudit-collect/FOLDER and moved to OUT/FOLDER when done,
with account.toml (uid from GetCallerIdentity) and collection-log.json (every call: action,
time, RequestId, status, error code; never a secret).

Servers are not trusted: a redirect is never followed (the call fails, naming the status and
the Location host); a response over --max-response-mb is cut off while it streams; a 200 that
is not the action's answer (not JSON, the wrong shape, an error envelope) is not evidence; and
every text a server sends (codes, ids, messages, headers, transport errors) has each secret
and token of the account's identities removed and control characters escaped before it is
logged or printed.

Exit codes:
  0  every account complete (or skipped as complete with --resume)
  2  some account is partial (evidence missing, the log says why) or failed
  1  fatal: unreadable accounts file, unwritable output folder"
        .replace("{POLICY}", crate::collect::POLICY)
}

const DELIVER_HELP: &str = "\
Configuration (TOML; unknown keys are errors):
  from = \"Audit Desk <audit@msp.example>\"
  management = [\"ceo@msp.example\"]      the portfolio message (management_cc too)
  attach_accounts = false               also attach each account's PDF to its customer's message
  max_attachment_mb = 10                per message; larger is an error before anything is sent
  [smtp]
  host = \"smtp.msp.example\"
  port = 587
  security = \"starttls\"                 or \"tls\" (465), or \"none\" (127.0.0.1 only)
  user = \"audit@msp.example\"
  password_env = \"ALIAUDIT_SMTP_PASSWORD\" the variable holding the password (never the password)
  ca_file = \"company-ca.pem\"            optional authority (PEM) to trust besides the public ones
  [customers.\"Acme Retail\"]
  to = [\"cto@acme.example\"]            replaces the contacts of the customer's account.toml files
  cc = [\"audit@acme.example\"]

One message per customer (its customer PDF), one to management (the portfolio PDF); subject and
body from the templates email_subject.txt, email.txt and email.html (see `templates export`),
in the report's language and branding. Every address and attachment is checked before anything
is sent. OUT/delivery-log.jsonl records each message: time, Message-ID, recipients, attachments
with their SHA-256, result. A message sent before (same recipients, same PDFs) is not sent again
unless --resend: run deliver again after a failure and only the rest goes.

Exit codes:
  0  every message sent (or sent before), or written with --eml, or listed with --dry-run
  2  some message failed, or some customer has no recipients
  1  fatal: bad configuration or address, missing PDF, attachments too large, SMTP not set up";

/// Flags of `deliver`.
#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// The output folder of `aliaudit report` (with summary.json, manifest.json and the PDFs).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Delivery configuration (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Write each message as DIR/NAME.eml instead of sending.
    #[arg(long, value_name = "DIR", conflicts_with = "dry_run")]
    pub eml: Option<PathBuf>,
    /// List who would get what; send and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send again messages that were sent before.
    #[arg(long)]
    pub resend: bool,
    /// Templates replacing the built-in e-mail templates (see `templates export`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Branding (default: the file the report used, from its manifest).
    #[arg(long, value_name = "FILE")]
    pub branding: Option<PathBuf>,
    /// Language of the e-mails (default: the report's).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Flags of `collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Accounts file (TOML): where each account's evidence goes and how to reach it.
    #[arg(long, value_name = "FILE")]
    pub accounts: PathBuf,
    /// Output folder: becomes an INPUT of `report`.
    #[arg(long, short = 'o', value_name = "INPUT")]
    pub out: PathBuf,
    /// Accounts collected at once (1 to 64).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub jobs: usize,
    /// Skip accounts whose folder already holds a complete collection.
    #[arg(long)]
    pub resume: bool,
    /// Language of Security Center titles (default: the accounts file's, else en).
    #[arg(long, value_parser = ["en", "zh"])]
    pub lang: Option<String>,
    /// Timeout of each request, in seconds (1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600))]
    pub timeout: u64,
    /// Retries of a request after throttling, 5xx, timeouts or dropped connections (0 to 20).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=20))]
    pub retries: u32,
    /// First retry delay in milliseconds (0 to 60000), doubled each retry (with jitter) up to
    /// 30 s; a server's x-acs-retry-after is used instead when it sends one.
    #[arg(long, value_name = "MS", default_value_t = 500,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(0..=60_000))]
    pub backoff_ms: u64,
    /// Most requests per second to one endpoint, across all accounts (more than 0, at most
    /// 1000).
    #[arg(long, value_name = "N", default_value_t = 10.0, value_parser = parse_rate)]
    pub rate: f64,
    /// Longest wait, in seconds, for a credential report being generated (1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600))]
    pub report_wait: u64,
    /// Largest response read, in MiB (1 to 4096; default: the largest file `report` reads).
    /// A larger response is an error for that call and is not retried.
    #[arg(long, value_name = "MIB", default_value_t = crate::collect::api::DEFAULT_MAX_RESPONSE_BYTES >> 20,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=MAX_FILE_MB))]
    pub max_response_mb: u64,
    /// No progress bar and no table on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How `controls` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Readable text.
    Text,
    /// JSON, for other tools.
    Json,
}

/// Flags of `controls`.
#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Show thresholds and severities as a rules file sets them.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// Flags of `sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Folder to write the tree into (created; existing files of the same name are replaced).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Number of accounts (1 to 1,000,000).
    #[arg(long, default_value_t = 6,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub accounts: usize,
    /// RAM users per account (on average; 0 to 100,000).
    #[arg(long, default_value_t = 12,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100_000))]
    pub users: usize,
    /// Random seed; the same seed gives the same tree, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Most worker threads: far more than any machine's cores, far fewer than a typo's.
const MAX_JOBS: u64 = 1024;
/// Largest `--max-file-mb`: 4 GiB, so that the byte count never overflows.
const MAX_FILE_MB: u64 = 4096;
/// Most shards of one run.
const MAX_SHARDS: u64 = 100_000;

/// `--rate`: a number of requests per second, more than 0 and at most 1000.
fn parse_rate(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1000.0 => Ok(rate),
        _ => Err(format!(
            "{text} is not a rate in requests per second (more than 0, at most 1000)"
        )),
    }
}

fn jobs_range() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_JOBS)
}

/// Parses `--as-of`: a date (end of that day, UTC) or an RFC 3339 instant.
pub fn parse_as_of(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = date
            .and_hms_opt(23, 59, 59)
            .context("invalid --as-of date")?;
        return Ok(end.and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| {
            format!("--as-of \"{text}\" is not a date; use YYYY-MM-DD or 2026-09-30T23:59:59Z")
        })
}

fn load_rules(path: Option<&PathBuf>) -> Result<(RulePack, Option<(String, String)>)> {
    let Some(path) = path else {
        return Ok((RulePack::default(), None));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rules file {}", path.display()))?;
    let shown = path.display().to_string();
    let pack = RulePack::from_toml(&text, &shown)?;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    Ok((pack, Some((shown, sha))))
}

fn load_exceptions(path: Option<&PathBuf>) -> Result<crate::exceptions::Register> {
    let Some(path) = path else {
        return Ok(crate::exceptions::Register::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read exceptions file {}", path.display()))?;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    Ok(crate::exceptions::Register::from_toml(
        &text,
        &path.display().to_string(),
        sha,
    )?)
}

fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")
}

struct Prepared {
    options: RunOptions,
    rules_file: Option<(String, String)>,
}

fn prepare(args: &EvalArgs) -> Result<Prepared> {
    let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let (rules, rules_file) = load_rules(args.rules.as_ref())?;
    let exceptions = load_exceptions(args.exceptions.as_ref())?;
    Ok(Prepared {
        options: RunOptions {
            inputs: args.inputs.clone(),
            exclude: Vec::new(),
            as_of,
            rules,
            limits: Limits {
                max_file_bytes: args.max_file_mb * 1024 * 1024,
                hash: true,
            },
            keep_resources: true,
            progress: None,
            exceptions: std::sync::Arc::new(exceptions),
            baseline: None,
            period: None,
            branding: Default::default(),
            lang: Default::default(),
            shard: None,
        },
        rules_file,
    })
}

/// Runs the pipeline; with a sink, each account's findings go to it and are not kept.
fn evaluate(
    args: &EvalArgs,
    prepared: &Prepared,
    pool: &rayon::ThreadPool,
    sink: Option<pipeline::Sink<'_>>,
) -> Result<Run> {
    // A progress bar only on a terminal (indicatif draws nothing when stderr is piped).
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} reading folders {bar:30} {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let mut options = prepared.options.clone();
    if let Some(bar) = &bar {
        let bar = bar.clone();
        options.progress = Some(pipeline::Progress(std::sync::Arc::new(
            move |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )));
    }
    let run = match sink {
        Some(sink) => pool.install(|| pipeline::run_streamed(&options, sink))?,
        None => pool.install(|| pipeline::run(&options))?,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(run)
}

fn print_diagnostics(run: &Run, quiet: bool) {
    if quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    for d in run.diagnostics.iter().filter(|d| d.level != Level::Info) {
        let _ = writeln!(err, "{d}");
    }
}

fn totals_line(run: &Run) -> String {
    let p = &run.portfolio;
    let score = p
        .mean_tenths()
        .map(|t| format!(", mean score {:.1}", t as f64 / 10.0))
        .unwrap_or_default();
    let rejected = run
        .files
        .iter()
        .filter(|f| f.status == crate::evidence::FileStatus::Rejected)
        .count();
    format!(
        "{} accounts ({} complete, {} partial, {} failed){score}; {} files read, {rejected} rejected; as of {}",
        p.accounts,
        p.complete,
        p.partial,
        p.failed,
        run.files.len(),
        run.as_of
            .map(crate::text::rfc3339)
            .unwrap_or_else(|| "unknown".into())
    )
}

/// `[customers."X"]` branding tables that match no customer of the run: probably typos.
fn branding_warnings(run: &Run) -> Vec<crate::diag::Diagnostic> {
    let branding = &run.branding;
    branding
        .customers()
        .filter(|name| {
            !run.accounts
                .iter()
                .any(|a| a.info.customer.as_deref() == Some(*name))
        })
        .map(|name| {
            let file = branding.file.as_ref();
            crate::diag::Diagnostic::warning(
                file.map(|f| f.0.as_str()).unwrap_or_default(),
                format!("[customers.\"{name}\"] matches no customer of this run"),
            )
        })
        .collect()
}

fn format_names(formats: &[Format]) -> Vec<String> {
    formats
        .iter()
        .map(|f| match f {
            Format::Json => "json".to_string(),
            Format::Csv => "csv".to_string(),
            Format::Html => "html".to_string(),
            Format::Pdf => "pdf".to_string(),
        })
        .collect()
}

/// How pages are rendered: the templates (HTML), the extra font (PDF), whether PDFs are
/// wanted, and whether to stay quiet.
struct Rendering<'a> {
    templates: Option<&'a crate::render::html::Templates>,
    font: Option<&'a std::path::Path>,
    pdf: bool,
    quiet: bool,
}

/// Adds the pages' warnings to the run's diagnostics, in their sorted place (so a merge
/// lists them as a single run does).
fn add_page_warnings(run: &mut Run, warnings: Vec<crate::diag::Diagnostic>) {
    if !warnings.is_empty() {
        run.diagnostics.extend(warnings);
        pipeline::sort_diagnostics(&mut run.diagnostics);
    }
}

/// Writes the pages of `which` in the formats asked for; returns what was written and the
/// pages' warnings (charts that could not be drawn), which it prints unless quiet.
fn pages(
    run: &Run,
    options: &RunOptions,
    rendering: &Rendering,
    pool: &rayon::ThreadPool,
    out: &std::path::Path,
    which: crate::pages::Pages,
) -> Result<(Vec<&'static str>, Vec<crate::diag::Diagnostic>)> {
    let Rendering {
        templates,
        font,
        pdf,
        quiet,
    } = *rendering;
    let hint = "check that the output folder is writable (-o)";
    let mut written = Vec::new();
    let fonts = if pdf {
        Some(crate::render::layout::Fonts::load(font)?)
    } else {
        None
    };
    let mut warnings = Vec::new();
    if templates.is_some() || fonts.is_some() {
        warnings = pool
            .install(|| {
                crate::pages::write_pages(run, options, templates, fonts.as_ref(), out, which)
            })
            .context(hint)?
            .warnings;
        if !quiet {
            let mut err = std::io::stderr().lock();
            for w in &warnings {
                let _ = writeln!(err, "{w}");
            }
        }
        let (html, pdf) = match which {
            crate::pages::Pages::All => (
                "index.html, customers/ and accounts/ pages",
                "portfolio.pdf and the customer and account PDFs",
            ),
            crate::pages::Pages::Accounts => ("accounts/ pages", "account PDFs"),
            crate::pages::Pages::RollUps => (
                "index.html and customers/ pages",
                "portfolio.pdf and the customer PDFs",
            ),
        };
        if templates.is_some() {
            written.push(html);
        }
        if fonts.is_some() {
            written.push(pdf);
        }
    }
    if let Some(fonts) = &fonts {
        let missing = fonts.missing();
        if !missing.is_empty() && !quiet {
            let list: String = missing.iter().take(40).collect();
            eprintln!(
                "warning: {} characters are not in the embedded font (nor in --font or a system font) and show as empty boxes in the PDFs: {list}",
                missing.len()
            );
        }
    }
    Ok((written, warnings))
}

/// summary.json and findings.csv, in the formats asked for, from each account's fragments.
fn data_files(
    run: &Run,
    fragments: &dyn output::Fragments,
    formats: &[Format],
    out: &std::path::Path,
) -> Result<Vec<&'static str>> {
    // The fragments may come from shard files (read here) as well as from our own spill, so
    // the error says what was not written and the cause says why.
    let mut written = Vec::new();
    let data_started = std::time::Instant::now();
    if formats.contains(&Format::Json) {
        output::write_atomic(&out.join("summary.json"), |w| {
            output::summary_json(run, fragments, w)
        })
        .context("summary.json was not written")?;
        written.push("summary.json");
    }
    if formats.contains(&Format::Csv) {
        output::write_atomic(&out.join("findings.csv"), |w| {
            output::findings_csv(run, fragments, w)
        })
        .context("findings.csv was not written")?;
        written.push("findings.csv");
    }
    crate::timing::add(crate::timing::Stage::Data, data_started);
    Ok(written)
}

fn print_timings() {
    // For the benchmarks: CPU seconds per stage, summed over threads.
    if std::env::var_os("ALIAUDIT_TIMINGS").is_some() {
        for (stage, secs) in crate::timing::report() {
            eprintln!("timing {stage} {secs:.3}");
        }
    }
}

fn sha256_of_file(path: &std::path::Path) -> Result<String> {
    use sha2::Digest;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut file, &mut h).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

fn report(args: &ReportArgs) -> Result<u8> {
    let mut prepared = prepare(&args.eval)?;
    if let Some(label) = &args.period
        && (label.trim().is_empty()
            || label.chars().count() > 40
            || label.chars().any(char::is_control))
    {
        bail!(
            "--period must be a short label such as 2026-Q3 (1 to 40 characters, no control characters)"
        );
    }
    let shard = match (&args.shard, args.shard_count) {
        (Some(text), _) => Some(crate::shard::Shard::parse(text).map_err(anyhow::Error::msg)?),
        (None, Some(count)) => {
            let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                anyhow::anyhow!(
                    "--shard-count needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it); elsewhere give --shard K/N"
                )
            })?;
            Some(crate::shard::Shard::from_job_index(&index, count).map_err(anyhow::Error::msg)?)
        }
        (None, None) => None,
    };
    if shard.is_some() && args.eval.as_of.is_none() {
        bail!(
            "--shard needs --as-of, so that every shard measures ages against the same date (e.g. --as-of 2026-12-31)"
        );
    }
    prepared.options.shard = shard;
    prepared.options.period = args.period.clone();
    prepared.options.lang = args.lang.into();
    // Our own pages are never evidence, even when -o is inside an input root.
    prepared.options.exclude = vec![args.out.clone()];
    if let Some(path) = &args.branding {
        prepared.options.branding = std::sync::Arc::new(crate::branding::Branding::load(path)?);
    }
    // The baseline is read before anything is written: a bad one leaves no partial output.
    let mut baseline_file = None;
    if let Some(path) = &args.baseline {
        prepared.options.baseline = Some(std::sync::Arc::new(crate::trend::Baseline::load(path)?));
        if shard.is_some() {
            let file = if path.is_dir() {
                path.join("summary.json")
            } else {
                path.clone()
            };
            baseline_file = Some((file.display().to_string(), sha256_of_file(&file)?));
        }
    }
    // One worker pool for reading, evaluating and rendering.
    let pool = thread_pool(args.eval.jobs)?;
    // Templates are checked before any work, so a broken template fails fast (exit 1).
    let templates = if args.format.contains(&Format::Html) {
        Some(
            crate::render::html::Templates::load(args.templates.as_deref(), args.lang.into())
                .context("the report templates do not load (check --templates)")?,
        )
    } else {
        None
    };
    let mut formats = args.format.clone();
    formats.sort();
    formats.dedup();
    // The new set is built beside OUT and swapped in at the end; OUT stays the previous
    // complete set until then, and a second run into it stops here.
    let staged = crate::outdir::Staged::begin(&args.out, "report")?;
    note_cleaned(&staged, args.eval.quiet);
    let out = staged.path();
    let hint = "check that the output folder is writable (-o)";
    // Each account's summary.json entry and findings.csv rows are kept in a spill while the
    // run goes on, so memory holds the accounts in flight, not the portfolio.
    let spill = output::Spill::new(out).context(hint)?;
    // A shard keeps the fragments of every account for the merge.
    let data = shard.is_some() || formats.contains(&Format::Json) || formats.contains(&Format::Csv);
    let sink = |a: &pipeline::AccountResult, as_of| {
        if !data {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let (json, csv) = output::account_fragments(a, as_of)?;
        crate::timing::add(crate::timing::Stage::Data, started);
        spill.put(&a.info.folder, &json, &csv)
    };
    let mut run = evaluate(&args.eval, &prepared, &pool, Some(&sink))?;
    let spill = spill.finish().context(hint)?;
    let manifest_options = ManifestOptions {
        inputs: args
            .eval
            .inputs
            .iter()
            .map(|p| crate::discover::display_root(p))
            .collect(),
        formats: format_names(&formats),
        strict: args.eval.strict,
        rules_file: prepared.rules_file.clone(),
        exceptions_file: prepared.options.exceptions.file.clone(),
        branding_file: prepared.options.branding.file.clone(),
        lang: crate::i18n::Lang::from(args.lang).code().to_string(),
        thresholds: prepared
            .options
            .rules
            .thresholds
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        max_file_bytes: prepared.options.limits.max_file_bytes,
    };
    if let Some(shard) = shard {
        // A shard writes its accounts' pages and its summary; the merge does the rest.
        print_diagnostics(&run, args.eval.quiet);
        let rendering = Rendering {
            templates: templates.as_ref(),
            font: args.font.as_deref(),
            pdf: formats.contains(&Format::Pdf),
            quiet: args.eval.quiet,
        };
        let (mut written, warnings) = pages(
            &run,
            &prepared.options,
            &rendering,
            &pool,
            out,
            crate::pages::Pages::Accounts,
        )?;
        add_page_warnings(&mut run, warnings);
        let spec = crate::shard::RunSpec {
            manifest: manifest_options,
            as_of: run.as_of.map(crate::text::rfc3339).unwrap_or_default(),
            period: args.period.clone(),
            baseline: baseline_file,
            templates: args.templates.as_ref().map(|p| p.display().to_string()),
            font: args.font.as_ref().map(|p| p.display().to_string()),
            count: shard.count,
            input_ids: crate::shard::ids_digest(
                run.everyone.iter().flatten().map(|(id, _)| id.as_str()),
            ),
        };
        crate::shard::write(&run, &spill, &spec, shard, out).context(hint)?;
        written.push("shard.json and shard-fragments.dat");
        drop(spill);
        staged.commit().context(hint)?;
        if !args.eval.quiet {
            println!(
                "shard {}/{}: {} accounts; wrote {} to {}; when every shard is done: aliaudit merge SHARD_OUT... -o OUT",
                shard.index,
                shard.count,
                run.accounts.len(),
                written.join(", "),
                shown(&args.out)
            );
        }
        print_timings();
        // Problems are the whole run's: the merge's exit code tells them.
        return Ok(EXIT_OK);
    }
    // Branding for a customer this run does not have is probably a typo.
    let warnings = branding_warnings(&run);
    run.diagnostics.extend(warnings);
    print_diagnostics(&run, args.eval.quiet);
    let problems = run.has_problems();
    if args.eval.strict && problems {
        // The staging folder goes with `staged`; OUT keeps the previous set.
        drop(spill);
        drop(staged);
        if !args.eval.quiet {
            eprintln!("{}", totals_line(&run));
            eprintln!(
                "strict: some input was rejected or some account is incomplete; nothing written"
            );
        }
        return Ok(EXIT_INCOMPLETE);
    }
    let rendering = Rendering {
        templates: templates.as_ref(),
        font: args.font.as_deref(),
        pdf: formats.contains(&Format::Pdf),
        quiet: args.eval.quiet,
    };
    // The pages first: their warnings belong in summary.json.
    let (page_files, warnings) = pages(
        &run,
        &prepared.options,
        &rendering,
        &pool,
        out,
        crate::pages::Pages::All,
    )?;
    add_page_warnings(&mut run, warnings);
    let mut written = data_files(&run, &spill, &formats, out)?;
    drop(spill);
    written.extend(page_files);
    output::write_atomic(&out.join("manifest.json"), |w| {
        output::manifest_json(&run, &manifest_options, w)
    })
    .context(hint)?;
    written.push("manifest.json");
    staged.commit().context(hint)?;
    if !args.eval.quiet {
        println!("{}", totals_line(&run));
        println!("wrote {} to {}", written.join(", "), shown(&args.out));
    }
    print_timings();
    Ok(if problems { EXIT_INCOMPLETE } else { EXIT_OK })
}

/// Whether two paths name the same folder (both resolved; a missing one is never the same).
fn same_folder(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Says once what a run that died had left beside the output folder and this run removed.
fn note_cleaned(staged: &crate::outdir::Staged, quiet: bool) {
    if !quiet && !staged.cleaned.is_empty() {
        eprintln!(
            "note: removed what an interrupted run left beside {}: {}",
            staged.shown(),
            staged.cleaned.join(", ")
        );
    }
}

/// Loads a file the shards used, checking it is still the same.
fn same_file(what: &str, recorded: &Option<(String, String)>, now: Option<&str>) -> Result<()> {
    match (recorded, now) {
        (Some((path, sha)), Some(now)) if sha != now => bail!(
            "{path} ({what}) changed since the shards ran; run the shards again or restore it"
        ),
        _ => Ok(()),
    }
}

fn merge(args: &MergeArgs) -> Result<u8> {
    for folder in &args.shards {
        if same_folder(folder, &args.out) {
            bail!(
                "-o {} is one of the shard folders; the merge replaces its output folder as a whole, so give a new one",
                shown(&args.out)
            );
        }
    }
    // A second run into OUT stops here, before any shard is read.
    let staged = crate::outdir::Staged::begin(&args.out, "merge")?;
    note_cleaned(&staged, args.quiet);
    // No shard folder may change while it is read.
    let mut shard_locks = Vec::new();
    let mut locked = std::collections::BTreeSet::new();
    for folder in &args.shards {
        // A folder named twice is refused by the reader, with a better message.
        if !locked.insert(std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone())) {
            continue;
        }
        // Shards on a read-only volume cannot be rewritten while we read them either.
        shard_locks.extend(crate::outdir::Lock::for_reading(
            folder,
            "merge (reading this shard)",
        )?);
    }
    let merged = crate::shard::read(&args.shards)?;
    let spec = merged.spec.clone();
    let m = &spec.manifest;
    let path_of = |f: &Option<(String, String)>| f.as_ref().map(|(p, _)| PathBuf::from(p));
    let (rules, rules_file) = load_rules(path_of(&m.rules_file).as_ref())?;
    same_file(
        "--rules",
        &m.rules_file,
        rules_file.as_ref().map(|f| f.1.as_str()),
    )?;
    let exceptions = load_exceptions(path_of(&m.exceptions_file).as_ref())?;
    same_file(
        "--exceptions",
        &m.exceptions_file,
        exceptions.file.as_ref().map(|f| f.1.as_str()),
    )?;
    merged.check_exception_hits(&exceptions)?;
    let branding = match path_of(&m.branding_file) {
        Some(path) => crate::branding::Branding::load(&path)?,
        None => Default::default(),
    };
    same_file(
        "--branding",
        &m.branding_file,
        branding.file.as_ref().map(|f| f.1.as_str()),
    )?;
    let baseline = match &spec.baseline {
        Some((path, _)) => {
            let path = PathBuf::from(path);
            let now = sha256_of_file(&path)?;
            same_file("--baseline", &spec.baseline, Some(&now))?;
            Some(std::sync::Arc::new(crate::trend::Baseline::load(&path)?))
        }
        None => None,
    };
    let lang = if m.lang == "zh" {
        crate::i18n::Lang::Zh
    } else {
        crate::i18n::Lang::En
    };
    let as_of = parse_as_of(&spec.as_of)?;
    let options = RunOptions {
        inputs: m.inputs.iter().map(PathBuf::from).collect(),
        exclude: Vec::new(),
        as_of: Some(as_of),
        rules,
        limits: Limits {
            max_file_bytes: m.max_file_bytes,
            hash: true,
        },
        keep_resources: true,
        progress: None,
        exceptions: std::sync::Arc::new(exceptions),
        baseline,
        period: spec.period.clone(),
        branding: std::sync::Arc::new(branding),
        lang,
        shard: None,
    };
    let formats: Vec<Format> = m
        .formats
        .iter()
        .filter_map(|f| Format::from_str(f, true).ok())
        .collect();
    let templates = if formats.contains(&Format::Html) {
        Some(
            crate::render::html::Templates::load(
                spec.templates.as_deref().map(std::path::Path::new),
                lang,
            )
            .context("the report templates do not load (the shards' --templates)")?,
        )
    } else {
        None
    };
    let mut diagnostics = merged.diagnostics.clone();
    diagnostics.extend(pipeline::run_diagnostics(
        &merged.accounts,
        Some(as_of),
        &options,
    ));
    let crate::shard::Merged {
        accounts,
        files,
        pages: shard_pages,
        customer_slugs,
        ..
    } = &merged;
    let mut run = Run::from_parts(
        Some(as_of),
        pipeline::AsOfSource::Option,
        accounts.clone(),
        files.clone(),
        diagnostics,
        &options,
    );
    let warnings = branding_warnings(&run);
    run.diagnostics.extend(warnings);
    // The shards named pages among every account of the input; a single run names them
    // among the accounts it found. They differ only when a folder without evidence takes
    // an account's name.
    let (account_slugs, final_customers) = crate::view::page_names(&run);
    if final_customers != *customer_slugs
        || run
            .accounts
            .iter()
            .any(|a| shard_pages.get(&a.info.id).map(|p| &p.1) != account_slugs.get(&a.info.id))
    {
        bail!(
            "the shards named some pages differently from a single run (a folder without evidence has the same page name as an account); run the report unsharded"
        );
    }
    print_diagnostics(&run, args.quiet);
    let problems = run.has_problems();
    if m.strict && problems {
        if !args.quiet {
            eprintln!("{}", totals_line(&run));
            eprintln!(
                "strict: some input was rejected or some account is incomplete; nothing written"
            );
        }
        return Ok(EXIT_INCOMPLETE);
    }
    let out = staged.path();
    let hint = "check that the output folder is writable (-o)";
    let pool = thread_pool(args.jobs)?;
    let rendering = Rendering {
        templates: templates.as_ref(),
        font: spec.font.as_deref().map(std::path::Path::new),
        pdf: formats.contains(&Format::Pdf),
        quiet: args.quiet,
    };
    // The pages first: their warnings belong in summary.json.
    let (page_files, warnings) = pages(
        &run,
        &options,
        &rendering,
        &pool,
        out,
        crate::pages::Pages::RollUps,
    )?;
    add_page_warnings(&mut run, warnings);
    let mut written = data_files(&run, merged.fragments(), &formats, out)?;
    written.extend(page_files);
    // The accounts' pages, as the shards wrote them.
    let exts: Vec<&str> = [(Format::Html, "html"), (Format::Pdf, "pdf")]
        .iter()
        .filter(|(f, _)| formats.contains(f))
        .map(|(_, e)| *e)
        .collect();
    if !exts.is_empty() {
        std::fs::create_dir_all(out.join("accounts")).context(hint)?;
        pool.install(|| {
            use rayon::prelude::*;
            run.accounts.par_iter().try_for_each(|a| -> Result<()> {
                let (dir, slug) = &shard_pages[&a.info.id];
                for ext in &exts {
                    let from = dir.join("accounts").join(format!("{slug}.{ext}"));
                    let bytes = std::fs::read(&from)
                        .with_context(|| format!("cannot read {}", from.display()))?;
                    let to = out.join("accounts").join(format!("{slug}.{ext}"));
                    output::write_atomic(&to, |w| {
                        w.write_all(&bytes).map_err(|e| output::OutputError::Write {
                            path: to.clone(),
                            source: e,
                        })
                    })
                    .context(hint)?;
                }
                Ok(())
            })
        })?;
        written.push("accounts/ pages (from the shards)");
    }
    output::write_atomic(&out.join("manifest.json"), |w| {
        output::manifest_json(&run, m, w)
    })
    .context(hint)?;
    written.push("manifest.json");
    staged.commit().context(hint)?;
    drop(shard_locks);
    if !args.quiet {
        println!("{}", totals_line(&run));
        println!(
            "merged {} shards; wrote {} to {}",
            args.shards.len(),
            written.join(", "),
            shown(&args.out)
        );
    }
    Ok(if problems { EXIT_INCOMPLETE } else { EXIT_OK })
}

fn validate(args: &EvalArgs) -> Result<u8> {
    let mut prepared = prepare(args)?;
    // validate writes no manifest and prints no per-resource text: skip both.
    prepared.options.keep_resources = false;
    prepared.options.limits.hash = false;
    let run = evaluate(args, &prepared, &thread_pool(args.jobs)?, None)?;
    print_diagnostics(&run, args.quiet);
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        for a in &run.accounts {
            let c = &a.counts;
            let score = a
                .score_tenths
                .map(|t| format!("{:.1}", t as f64 / 10.0))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<8}  score {:>5}  pass {:>3}  fail {:>3}  excepted {:>2}  n/a {:>2}  not evaluable {:>2}  {}",
                a.status.as_str(),
                score,
                c.pass,
                c.fail,
                c.excepted,
                c.not_applicable,
                c.not_evaluable,
                crate::diag::one_line(&a.info.id)
            );
        }
        let _ = writeln!(out, "{}", totals_line(&run));
    }
    Ok(if run.has_problems() {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    })
}

fn controls(args: &ControlsArgs) -> Result<u8> {
    let (pack, _) = load_rules(args.rules.as_ref())?;
    let t = &pack.thresholds;
    match args.format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = CATALOG
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id,
                        "title": t.fill(c.title),
                        "severity": pack.severity(c.id, c.severity).as_str(),
                        "enabled": pack.enabled(c.id),
                        "section": c.section,
                        "frameworks": { "cis_v1": c.cis_v1, "cis_v2": c.cis_v2 },
                        "logic": t.fill(c.logic),
                        "evidence": c.evidence,
                        "rationale": c.rationale,
                        "remediation": t.fill(c.remediation),
                    })
                })
                .collect();
            let thresholds: serde_json::Map<String, serde_json::Value> = t
                .entries()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into()))
                .collect();
            let doc = serde_json::json!({
                "controls": list,
                "thresholds": thresholds,
                "security_center": "every Security Center check item becomes a control sas.<ItemId> (DescribeRiskCheckResult) or sas.cspm.<CheckId> (ListCheckResult)",
                "score": crate::rules::SCORE_FORMULA,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ListFormat::Text => {
            let mut out = std::io::stdout().lock();
            let mut section = None;
            for c in CATALOG {
                if section != Some(c.section) {
                    section = Some(c.section);
                    writeln!(out, "\n== {}\n", c.section.title())?;
                }
                let cis = match (c.cis_v1, c.cis_v2) {
                    (Some(a), Some(b)) if a == b => format!("CIS v1.0.0 {a}, v2.0.0 {b}"),
                    (Some(a), Some(b)) => format!("CIS v1.0.0 {a}, v2.0.0 {b}"),
                    (Some(a), None) => format!("CIS v1.0.0 {a} (not in v2.0.0 in this form)"),
                    (None, Some(b)) => format!("CIS v2.0.0 {b} (v1.0.0 asks otherwise)"),
                    (None, None) => "not a CIS recommendation".to_string(),
                };
                let enabled = if pack.enabled(c.id) {
                    ""
                } else {
                    "  (disabled)"
                };
                writeln!(
                    out,
                    "{}  [{}]  {cis}{enabled}\n  {}\n  logic:       {}\n  evidence:    {}\n  remediation: {}\n",
                    c.id,
                    pack.severity(c.id, c.severity).as_str(),
                    t.fill(c.title),
                    t.fill(c.logic),
                    c.evidence,
                    t.fill(c.remediation)
                )?;
            }
            writeln!(
                out,
                "== Security Center checks\n\n  Every check item becomes a control sas.<ItemId> (DescribeRiskCheckResult) or\n  sas.cspm.<CheckId> (ListCheckResult) with the vendor's title and risk level: pass -> pass,\n  failed -> fail, ignored/falsePositive -> excepted (vendor), running/waiting -> not evaluable,\n  StartStatus disabled -> not evaluable (not covered by the edition). Items 3, 15, 49 and 25\n  (matched on id and title) duplicate built-in controls: they are cross-checked and not scored.\n\n== Thresholds (override in a rules file under [thresholds])\n"
            )?;
            for (k, v) in t.entries() {
                writeln!(out, "  {k:<28} {v}")?;
            }
            writeln!(out, "\n== Score\n\n  {}", crate::rules::SCORE_FORMULA)?;
        }
    }
    Ok(EXIT_OK)
}

fn collect(args: &CollectArgs) -> Result<u8> {
    use crate::collect::{self, Status};
    // Contacts are checked with the parser delivery sends with.
    let file = collect::load(&args.accounts, |c| {
        crate::deliver::config::mailbox(c).is_ok()
    })?;
    let backoff = std::time::Duration::from_millis(args.backoff_ms);
    let report_wait = std::time::Duration::from_secs(args.report_wait);
    let options = collect::Options {
        out: args.out.clone(),
        jobs: args.jobs,
        resume: args.resume,
        lang: args.lang.clone(),
        settings: collect::api::Settings {
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
            retries: args.retries,
            backoff,
            max_response_bytes: args.max_response_mb << 20,
            // `--rate` was parsed but never passed on before: every run went at 10/s.
            rate: args.rate,
            ..collect::api::Settings::default()
        },
        waits: collect::fetch::Waits {
            report: report_wait,
            poll: (report_wait / 20).clamp(
                std::time::Duration::from_millis(50),
                std::time::Duration::from_secs(5),
            ),
        },
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(file.accounts.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "collecting {pos}/{len} accounts {wide_bar} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |o: &collect::Outcome| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} {}", o.folder, o.status.word()));
            bar.inc(1);
        }
    };
    let outcomes = collect::run(
        &file,
        &options,
        &crate::collect::credentials::ProcessEnv,
        &progress,
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    if !args.quiet {
        print!("{}", collect::table(&outcomes));
        println!(
            "{} complete, {} partial, {} failed, {} skipped; evidence in {}",
            count(Status::Complete),
            count(Status::Partial),
            count(Status::Failed),
            count(Status::Skipped),
            args.out.display()
        );
    }
    Ok(if count(Status::Partial) + count(Status::Failed) == 0 {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    })
}

fn deliver(args: &DeliverArgs) -> Result<u8> {
    use crate::deliver::{self, Delivery, Mode};
    // A report swapping OUT while its PDFs are read, or two deliveries appending to one log,
    // would mix runs: deliver holds OUT's lock too.
    let _lock = crate::outdir::Lock::for_reading(&args.out, "deliver")?;
    let config = deliver::config::Config::load(&args.config)?;
    let options = deliver::Options {
        out: args.out.clone(),
        templates: args.templates.clone(),
        branding: args.branding.clone(),
        lang: args.lang.map(Into::into),
        mode: match (&args.eml, args.dry_run) {
            (Some(dir), _) => Mode::Eml(dir.clone()),
            (None, true) => Mode::DryRun,
            (None, false) => Mode::Send,
        },
        resend: args.resend,
    };
    let plan = deliver::plan(&options, &config)?;
    for w in &plan.warnings {
        eprintln!("warning: {}", crate::diag::printable(w));
    }
    let password = config
        .smtp
        .as_ref()
        .and_then(|s| s.password_env.as_deref())
        .and_then(|var| std::env::var(var).ok());
    let outcomes = deliver::run(&options, &config, &plan, password, &|o| {
        if !args.quiet && matches!(o.result, Delivery::Failed(_)) {
            eprintln!("{}: not sent", crate::diag::printable(&o.key));
        }
    })?;
    if !args.quiet {
        print!("{}", deliver::table(&outcomes, &plan.skipped));
    }
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.result, Delivery::Failed(_)));
    let unreached = plan
        .skipped
        .iter()
        .any(|(key, _)| key.starts_with("customer:"));
    Ok(if failed || unreached {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    })
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match &cli.command {
        Command::Report(args) => report(args),
        Command::Validate(args) => validate(args),
        Command::Collect(args) => collect(args),
        Command::Deliver(args) => deliver(args),
        Command::Merge(args) => merge(args),
        Command::Controls(args) => controls(args),
        Command::Templates(TemplatesCommand::Export { dir }) => crate::render::html::export(dir)
            .with_context(|| format!("cannot write templates to {}", dir.display()))
            .map(|names| {
                println!("wrote {} to {}", names.join(", "), dir.display());
                EXIT_OK
            }),
        Command::Sample(args) => crate::sample::write_tree(
            &args.out,
            &crate::sample::SampleOptions {
                accounts: args.accounts,
                users: args.users,
                seed: args.seed,
            },
        )
        .map(|n| {
            println!(
                "wrote {n} files for {} accounts to {}",
                args.accounts,
                args.out.display()
            );
            EXIT_OK
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`aliaudit controls | head`) is the reader's choice, not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            // Errors quote paths and names from the input: one line, nothing that moves the
            // cursor or reorders text (what is escaped already stays as it is).
            eprintln!("error: {}", crate::diag::one_line(&format!("{e:#}")));
            ExitCode::from(EXIT_FATAL)
        }
    }
}
