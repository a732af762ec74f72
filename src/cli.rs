//! Command line: flags parsed by clap and checked into a spec, which one function of
//! [`crate::commands`] runs. Nothing else happens here.
//!
//! The help text is the manual. Fatal problems (bad flags, unwritable output) exit 1;
//! problems with the evidence are reported and exit 2 after the reports are written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{
    self, collect::CollectSpec, deliver::DeliverSpec, report::EvalSpec, report::ReportSpec,
};
use crate::project::{self, Project};
use aliaudit_core::pipeline::Shard;
use aliaudit_core::text::parse_as_of;

/// Exit code: every account fully evaluated.
pub const EXIT_OK: u8 = 0;
/// Exit code: fatal (bad arguments, unwritable output).
pub const EXIT_FATAL: u8 = 1;
/// Exit code: reports written, but some input was rejected or some account is incomplete.
const EXIT_INCOMPLETE: u8 = 2;

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
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
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
    /// Write a commented project file, DIR/aliaudit.toml (default: the current folder), with
    /// the settings of the quarterly job; an existing file is never replaced.
    Init {
        /// Folder to write into (created if missing).
        dir: Option<PathBuf>,
    },
}

/// `aliaudit templates ...`.
#[derive(Debug, Subcommand)]
enum TemplatesCommand {
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
struct EvalArgs {
    /// Input roots: folders holding one folder per account, at any depth. An account folder
    /// holds account.toml and/or saved API responses and credential reports; file names are
    /// free, the kind is detected from the content.
    /// Default: `inputs` of the project file.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Project file (default: ./aliaudit.toml when there is one): the defaults of every
    /// flag in its [report] table, paths relative to the file. A flag overrides the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Measure age-based checks (90 days...) against this instant: YYYY-MM-DD (the end of that
    /// day, UTC) or RFC 3339. Default: the newest evidence timestamp (credential report
    /// GeneratedTime, Security Center CheckTime), never the clock.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Rules file (TOML) overriding thresholds and per-control severity or enablement;
    /// `aliaudit controls` lists the names.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// The CIS benchmark version to score (overrides `benchmark` in the rules file; default
    /// cis-v2). The versions contradict each other on password expiry (1.13): the controls
    /// of the other version only are shown as informational and never scored.
    #[arg(long, value_enum, value_name = "VERSION")]
    benchmark: Option<BenchmarkArg>,
    /// Also roll the controls up into the requirements of these frameworks (comma-separated
    /// ids): mlps2-l2, mlps2-l3, iso27001-2022, soc2-2017, nist-800-53r5, cis-controls-v8.1.
    /// Default: none (the CIS benchmark only). Adds a `frameworks` block to summary.json.
    #[arg(long = "framework", value_name = "ID,...", value_delimiter = ',')]
    frameworks: Vec<String>,
    /// A framework file of your own (TOML, as crates/core/data/frameworks/*.toml); may be
    /// given more than once. Errors name the entry and line.
    #[arg(long = "framework-file", value_name = "FILE")]
    framework_files: Vec<PathBuf>,
    /// Accepted risks (TOML): `[[exception]]` entries with account (id or glob), control,
    /// optional resource (glob), reason, owner, approved_by and expires (YYYY-MM-DD, compared
    /// with the as-of date). An unexpired entry turns the failures it matches into excepted;
    /// the register (active, expired, stale) is printed in every report.
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores). Output is identical for any value.
    #[arg(long, short = 'j', value_name = "N", value_parser = jobs_range())]
    jobs: Option<usize>,
    /// Treat any rejected input or incomplete account as a failure: exit 2 and write nothing.
    #[arg(long)]
    strict: bool,
    /// No progress bar and no diagnostics on the terminal (they are still in summary.json).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Largest evidence file read, in MiB (1 to 4096; default 64); larger files are hashed
    /// and rejected.
    #[arg(long, value_name = "MIB",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=MAX_FILE_MB))]
    max_file_mb: Option<u64>,
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Format {
    /// summary.json: the whole model (contract aliaudit.summary/v1).
    Json,
    /// findings.csv: one row per control result per resource.
    Csv,
    /// index.html, customers/SLUG.html and accounts/SLUG.html: self-contained pages.
    Html,
    /// portfolio.pdf, customers/SLUG.pdf and accounts/SLUG.pdf: A4 reports with charts.
    Pdf,
    /// findings.ocsf.jsonl: one OCSF Compliance Finding (class 2003) per control result, for
    /// a SIEM.
    Ocsf,
}

impl Format {
    /// The library's format.
    fn format(self) -> commands::Format {
        match self {
            Format::Json => commands::Format::Json,
            Format::Csv => commands::Format::Csv,
            Format::Html => commands::Format::Html,
            Format::Pdf => commands::Format::Pdf,
            Format::Ocsf => commands::Format::Ocsf,
        }
    }
}

/// `--lang`: a report language as the command line names it (the clap side of
/// [`aliaudit_core::i18n::Lang`], which stays free of the argument parser).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum LangArg {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl From<LangArg> for aliaudit_core::i18n::Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::En => aliaudit_core::i18n::Lang::En,
            LangArg::Zh => aliaudit_core::i18n::Lang::Zh,
        }
    }
}

/// `--benchmark`: a CIS benchmark version as the command line names it (the clap side of
/// [`aliaudit_core::rules::Benchmark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchmarkArg {
    /// CIS Alibaba Cloud Foundations Benchmark v2.0.0 (the default).
    #[value(name = "cis-v2")]
    CisV2,
    /// CIS Alibaba Cloud Foundations Benchmark v1.0.0.
    #[value(name = "cis-v1")]
    CisV1,
}

impl From<BenchmarkArg> for aliaudit_core::rules::Benchmark {
    fn from(b: BenchmarkArg) -> Self {
        match b {
            BenchmarkArg::CisV2 => aliaudit_core::rules::Benchmark::CisV2,
            BenchmarkArg::CisV1 => aliaudit_core::rules::Benchmark::CisV1,
        }
    }
}

/// Flags of `report`.
#[derive(Debug, Args)]
struct ReportArgs {
    /// Evaluation flags.
    #[command(flatten)]
    eval: EvalArgs,
    /// Output folder (created if missing; files in it are replaced atomically).
    #[arg(long, short = 'o', value_name = "OUT")]
    out: Option<PathBuf>,
    /// Output formats, comma-separated (default: json,csv,html,pdf). manifest.json is always
    /// written.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    format: Option<Vec<Format>>,
    /// Folder of templates and static files that replace the built-ins of the same name
    /// (see `aliaudit templates export`).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// A TrueType or OpenType font for characters the embedded Noto Sans CJK SC subset
    /// (Latin-1, punctuation, GB2312) lacks, in the PDFs. Characters no font has are reported.
    #[arg(long, value_name = "PATH")]
    font: Option<PathBuf>,
    /// The output folder of the previous run (or its summary.json): adds each account's
    /// change since then (new, resolved and persisting failures, score change), carries the
    /// score history forward and draws the trend charts.
    #[arg(long, value_name = "PREVIOUS_OUT")]
    baseline: Option<PathBuf>,
    /// Language of every built-in string of the HTML and PDF reports (evidence text is shown
    /// as collected). summary.json and findings.csv stay in English for other tools.
    /// Default: en.
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    /// White-label branding (TOML): company, logo (PNG or SVG, relative to the file), accent
    /// (#rrggbb), title, footer, disclaimer, prepared_by, contact; `[customers."Name"]` tables
    /// override any of them for that customer's reports.
    #[arg(long, value_name = "FILE")]
    branding: Option<PathBuf>,
    /// Name of this period in histories and trend charts. Default: the as-of date's quarter,
    /// e.g. 2026-Q3. A run with the period of its baseline replaces that period's point.
    #[arg(long, value_name = "LABEL")]
    period: Option<String>,
    /// Evaluate only shard K of N (accounts by a stable hash of their id) and write their
    /// pages and a shard summary (shard.json) into OUT; `aliaudit merge` then writes the
    /// rest from all N shard folders. Needs --as-of, so that every shard measures against
    /// the same date.
    #[arg(long, value_name = "K/N", conflicts_with = "shard_count")]
    shard: Option<String>,
    /// The shard count of a Kubernetes Indexed Job: this is shard JOB_COMPLETION_INDEX + 1
    /// of N (the job's completions).
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_SHARDS))]
    shard_count: Option<usize>,
}

/// Flags of `merge`.
#[derive(Debug, Args)]
struct MergeArgs {
    /// The output folders of every `report --shard K/N` of one run.
    #[arg(required = true, value_name = "SHARD_OUT")]
    shards: Vec<PathBuf>,
    /// Output folder: the same files as one run over the whole input.
    #[arg(long, short = 'o', value_name = "OUT")]
    out: PathBuf,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = jobs_range())]
    jobs: Option<usize>,
    /// No diagnostics on the terminal.
    #[arg(long, short = 'q')]
    quiet: bool,
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
        .replace("{POLICY}", aliaudit_collect::POLICY)
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
struct DeliverArgs {
    /// The output folder of `aliaudit report` (with summary.json, manifest.json and the PDFs).
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// Delivery configuration (TOML), or a project file with a [deliver] table (default:
    /// ./aliaudit.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write each message as DIR/NAME.eml instead of sending.
    #[arg(long, value_name = "DIR", conflicts_with = "dry_run")]
    eml: Option<PathBuf>,
    /// List who would get what; send and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Send again messages that were sent before.
    #[arg(long)]
    resend: bool,
    /// Templates replacing the built-in e-mail templates (see `templates export`).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Branding (default: the file the report used, as its manifest names it: found from the
    /// current folder when the report was given a relative path; an absolute one is named by
    /// its file name only, so pass it here).
    #[arg(long, value_name = "FILE")]
    branding: Option<PathBuf>,
    /// Language of the e-mails (default: the report's).
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Flags of `collect`.
#[derive(Debug, Args)]
struct CollectArgs {
    /// Accounts file (TOML): where each account's evidence goes and how to reach it.
    /// Default: `accounts` of the project file's [collect] table.
    #[arg(long, value_name = "FILE")]
    accounts: Option<PathBuf>,
    /// Output folder: becomes an INPUT of `report`. Default: `out` of [collect].
    #[arg(long, short = 'o', value_name = "INPUT")]
    out: Option<PathBuf>,
    /// Project file (default: ./aliaudit.toml when there is one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Accounts collected at once (1 to 64).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    jobs: usize,
    /// Skip accounts whose folder already holds a complete collection.
    #[arg(long)]
    resume: bool,
    /// Language of Security Center titles (default: the accounts file's, else en).
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
    /// Timeout of each request, in seconds (1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600))]
    timeout: u64,
    /// Retries of a request after throttling, 5xx, timeouts or dropped connections (0 to 20).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=20))]
    retries: u32,
    /// First retry delay in milliseconds (0 to 60000), doubled each retry (with jitter) up to
    /// 30 s; a server's x-acs-retry-after is used instead when it sends one.
    #[arg(long, value_name = "MS", default_value_t = 500,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(0..=60_000))]
    backoff_ms: u64,
    /// Most requests per second to one endpoint, across all accounts (more than 0, at most
    /// 1000).
    #[arg(long, value_name = "N", default_value_t = 10.0, value_parser = parse_rate)]
    rate: f64,
    /// Longest wait, in seconds, for a credential report being generated (1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600))]
    report_wait: u64,
    /// Largest response read, in MiB (1 to 4096; default: the largest file `report` reads).
    /// A larger response is an error for that call and is not retried.
    #[arg(long, value_name = "MIB", default_value_t = aliaudit_collect::api::DEFAULT_MAX_RESPONSE_BYTES >> 20,
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=MAX_FILE_MB))]
    max_response_mb: u64,
    /// No progress bar and no table on the terminal.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// How `controls` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// Readable text.
    Text,
    /// JSON, for other tools.
    Json,
}

/// Flags of `controls`.
#[derive(Debug, Args)]
struct ControlsArgs {
    /// Show thresholds and severities as a rules file sets them.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ListFormat,
}

/// Flags of `sample`.
#[derive(Debug, Args)]
struct SampleArgs {
    /// Folder to write the tree into (created; existing files of the same name are replaced).
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// Number of accounts (1 to 1,000,000).
    #[arg(long, default_value_t = 6,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    accounts: usize,
    /// RAM users per account (on average; 0 to 100,000).
    #[arg(long, default_value_t = 12,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100_000))]
    users: usize,
    /// Random seed; the same seed gives the same tree, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
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

/// The evaluation flags as a spec (`--as-of` parsed), each flag over the project file's
/// `[report]` value.
fn eval_spec(args: &EvalArgs, project: &Project) -> Result<EvalSpec> {
    let p = &project.report;
    let inputs = if args.inputs.is_empty() {
        p.inputs.clone()
    } else {
        args.inputs.clone()
    };
    if inputs.is_empty() {
        bail!(
            "no INPUT: give the input folders, or `inputs` in the [report] table of {} (see `aliaudit init`)",
            project::FILE_NAME
        );
    }
    Ok(EvalSpec {
        inputs,
        as_of: args
            .as_of
            .as_deref()
            .or(p.as_of.as_deref())
            .map(parse_as_of)
            .transpose()?,
        rules: args.rules.clone().or_else(|| p.rules.clone()),
        benchmark: args.benchmark.map(Into::into).or(p.benchmark),
        exceptions: args.exceptions.clone().or_else(|| p.exceptions.clone()),
        jobs: args.jobs,
        strict: args.strict || p.strict == Some(true),
        quiet: args.quiet,
        max_file_bytes: args
            .max_file_mb
            .or(p.max_file_mb)
            .unwrap_or(aliaudit_core::ingest::DEFAULT_MAX_FILE_BYTES >> 20)
            * 1024
            * 1024,
        project: project.stamp.clone(),
        frameworks: if args.frameworks.is_empty() {
            p.frameworks.clone()
        } else {
            args.frameworks
                .iter()
                .map(|s| s.trim().to_string())
                .collect()
        },
        framework_files: if args.framework_files.is_empty() {
            p.framework_files.clone()
        } else {
            args.framework_files.clone()
        },
    })
}

/// The `report` flags as a checked spec: the period label, the shard (from `--shard` or a
/// Kubernetes Indexed Job) and its as-of date.
fn report_spec(args: &ReportArgs) -> Result<ReportSpec> {
    let project = Project::find(args.eval.config.as_deref())?;
    let p = &project.report;
    let eval = eval_spec(&args.eval, &project)?;
    let period = args.period.clone().or_else(|| p.period.clone());
    if let Some(label) = &period
        && (label.trim().is_empty()
            || label.chars().count() > 40
            || label.chars().any(char::is_control))
    {
        bail!(
            "--period must be a short label such as 2026-Q3 (1 to 40 characters, no control characters)"
        );
    }
    let shard = match (&args.shard, args.shard_count) {
        (Some(text), _) => Some(Shard::parse(text).map_err(anyhow::Error::msg)?),
        (None, Some(count)) => {
            let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                anyhow::anyhow!(
                    "--shard-count needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it); elsewhere give --shard K/N"
                )
            })?;
            Some(Shard::from_job_index(&index, count).map_err(anyhow::Error::msg)?)
        }
        (None, None) => None,
    };
    if shard.is_some() && eval.as_of.is_none() {
        bail!(
            "--shard needs --as-of, so that every shard measures ages against the same date (e.g. --as-of 2026-12-31)"
        );
    }
    let formats: Vec<Format> = match (&args.format, &p.formats) {
        (Some(given), _) => given.clone(),
        (None, Some(names)) => names
            .iter()
            .map(|n| {
                Format::from_str(n, false).map_err(|_| {
                    anyhow::anyhow!("[report] formats: \"{n}\" is not one of json, csv, html, pdf")
                })
            })
            .collect::<Result<_>>()?,
        (None, None) => vec![Format::Json, Format::Csv, Format::Html, Format::Pdf],
    };
    let mut formats: Vec<commands::Format> = formats.iter().map(|f| f.format()).collect();
    formats.sort();
    formats.dedup();
    let lang = match (args.lang, p.lang.as_deref()) {
        (Some(lang), _) => lang,
        (None, Some("zh")) => LangArg::Zh,
        (None, _) => LangArg::En,
    };
    let Some(out) = args.out.clone().or_else(|| p.out.clone()) else {
        bail!(
            "no output folder: give -o OUT, or `out` in the [report] table of {}",
            project::FILE_NAME
        );
    };
    Ok(ReportSpec {
        eval,
        out,
        formats,
        templates: args.templates.clone().or_else(|| p.templates.clone()),
        font: args.font.clone().or_else(|| p.font.clone()),
        baseline: args.baseline.clone().or_else(|| p.baseline.clone()),
        lang: lang.into(),
        branding: args.branding.clone().or_else(|| p.branding.clone()),
        period,
        shard,
    })
}

/// The `collect` flags as a spec, each over the project file's `[collect]` value.
fn collect_spec(args: &CollectArgs) -> Result<CollectSpec> {
    let project = Project::find(args.config.as_deref())?;
    let p = &project.collect;
    let report_wait = std::time::Duration::from_secs(args.report_wait);
    let Some(accounts) = args.accounts.clone().or_else(|| p.accounts.clone()) else {
        bail!(
            "no accounts file: give --accounts FILE, or `accounts` in the [collect] table of {}",
            project::FILE_NAME
        );
    };
    let Some(out) = args.out.clone().or_else(|| p.out.clone()) else {
        bail!(
            "no output folder: give -o INPUT, or `out` in the [collect] table of {}",
            project::FILE_NAME
        );
    };
    Ok(CollectSpec {
        accounts,
        quiet: args.quiet,
        options: aliaudit_collect::Options {
            out,
            jobs: args.jobs,
            resume: args.resume,
            lang: args.lang.clone().or_else(|| p.lang.clone()),
            settings: aliaudit_collect::api::Settings {
                timeout: std::time::Duration::from_secs(args.timeout.max(1)),
                retries: args.retries,
                backoff: std::time::Duration::from_millis(args.backoff_ms),
                max_response_bytes: args.max_response_mb << 20,
                rate: args.rate,
                ..aliaudit_collect::api::Settings::default()
            },
            waits: aliaudit_collect::fetch::Waits {
                report: report_wait,
                poll: (report_wait / 20).clamp(
                    std::time::Duration::from_millis(50),
                    std::time::Duration::from_secs(5),
                ),
            },
        },
    })
}

/// The `deliver` flags as a spec: the configuration is `--config`, else the `[deliver]`
/// table of ./aliaudit.toml.
fn deliver_spec(args: &DeliverArgs) -> Result<DeliverSpec> {
    use aliaudit_deliver::Mode;
    let config = match &args.config {
        Some(path) => path.clone(),
        None if std::path::Path::new(project::FILE_NAME).is_file() => {
            PathBuf::from(project::FILE_NAME)
        }
        None => bail!(
            "no delivery configuration: give --config FILE, or a [deliver] table in {}",
            project::FILE_NAME
        ),
    };
    Ok(DeliverSpec {
        config,
        quiet: args.quiet,
        options: aliaudit_deliver::Options {
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
        },
    })
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    use crate::commands;
    let result = match &cli.command {
        Command::Report(args) => report_spec(args).and_then(|spec| commands::report::run(&spec)),
        Command::Validate(args) => Project::find(args.config.as_deref())
            .and_then(|project| eval_spec(args, &project))
            .and_then(|spec| commands::validate::run(&spec)),
        Command::Collect(args) => collect_spec(args).and_then(|spec| commands::collect::run(&spec)),
        Command::Deliver(args) => deliver_spec(args).and_then(|spec| commands::deliver::run(&spec)),
        Command::Init { dir } => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from("."));
            project::init(&dir).map(|path| {
                println!(
                    "wrote {}: edit it, then run `aliaudit report`",
                    aliaudit_core::diag::shown_path(&path)
                );
                commands::Outcome::Complete
            })
        }
        Command::Merge(args) => commands::merge::run(&commands::merge::MergeSpec {
            shards: args.shards.clone(),
            out: args.out.clone(),
            jobs: args.jobs,
            quiet: args.quiet,
        }),
        Command::Controls(args) => commands::controls::run(&commands::controls::ControlsSpec {
            rules: args.rules.clone(),
            json: args.format == ListFormat::Json,
        }),
        Command::Templates(TemplatesCommand::Export { dir }) => {
            commands::sample::export_templates(dir)
        }
        Command::Sample(args) => commands::sample::run(
            &args.out,
            &crate::sample::SampleOptions {
                accounts: args.accounts,
                users: args.users,
                seed: args.seed,
            },
        ),
    }
    .map(|outcome| match outcome {
        commands::Outcome::Complete => EXIT_OK,
        commands::Outcome::Incomplete => EXIT_INCOMPLETE,
    });
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
            eprintln!(
                "error: {}",
                aliaudit_core::diag::one_line(&format!("{e:#}"))
            );
            ExitCode::from(EXIT_FATAL)
        }
    }
}
