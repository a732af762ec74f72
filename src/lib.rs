//! aliaudit: audit-ready compliance reports from evidence saved from Alibaba Cloud accounts.
//!
//! A `report` run is a chain of stages: [`discover`] finds account folders, [`ingest`] reads
//! their files, [`model`] builds a typed account, [`rules`] evaluates the controls,
//! [`exceptions`] applies accepted risks, [`aggregate`] and [`trend`] roll accounts up and
//! compare them with a baseline. [`pipeline`] runs these stages over every account (in
//! parallel, results put back in a fixed order) and holds the run types ([`pipeline::Run`],
//! [`pipeline::AccountResult`]). [`summary`] and [`view`] shape what the outputs show,
//! [`output`] writes summary.json, findings.csv and the manifest, [`pages`] renders the
//! HTML and PDF pages ([`render`], [`charts`]). [`commands`] runs each command from a
//! validated spec, and [`cli`] only turns the flags into that spec.
//!
//! The modules are layered; a module uses modules on its own layer or below, never above,
//! and there is no module cycle. `.ci/module-cycles.py` checks this from the imports in CI.
//!
//! ```text
//! lib, cli                        the command line (clap); nothing uses cli
//! commands                        each command as a function over a validated spec
//! collect | deliver               HTTP (reqwest) | SMTP (lettre); apart from each other
//! pages, sample                   page writing; sample evidence
//! shard, output, outdir           shard files and merge reading; output files; folder swap
//! render, view, charts, fonts     page views, charts, embedded fonts, HTML and PDF
//! summary                         the summary.json views of a run
//! pipeline                        the evaluating pipeline and the run types
//! trend, aggregate, exceptions,   baselines and deltas, roll-ups, accepted risks, the
//! theme                           palette
//! rules, branding                 the controls; branding files
//! model, ingest, discover,        typed accounts, reading evidence, account folders,
//! evidence                        file records
//! i18n, diag, text, timing,       languages and catalogues, diagnostics, text formats,
//! atomic                          timing, atomic file writes
//! ```

pub mod aggregate;
pub mod atomic;
pub mod branding;
pub mod charts;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod deliver;
pub mod diag;
pub mod discover;
pub mod evidence;
pub mod exceptions;
pub mod fonts;
pub mod i18n;
pub mod ingest;
pub mod model;
pub mod outdir;
pub mod output;
pub mod pages;
pub mod pipeline;
pub mod render;
pub mod rules;
pub mod sample;
pub mod shard;
pub mod summary;
pub mod text;
pub mod theme;
pub mod timing;
pub mod trend;
pub mod view;
