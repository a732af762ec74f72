//! aliaudit: audit-ready compliance reports from evidence saved from Alibaba Cloud accounts.
//!
//! This package is the command line and the commands. The work is done by the crates of the
//! workspace, layered so that cargo enforces the arrows (each uses only the crates below it):
//!
//! ```text
//! aliaudit            cli (clap: flags and the project file to a checked spec), project
//!                     (aliaudit.toml), commands (each command as a function over its spec),
//!                     sample (synthetic evidence)
//! aliaudit-collect    the live APIs (reqwest)     | aliaudit-deliver   e-mail (lettre)
//! aliaudit-report     views, charts, HTML, PDF, data files, shard files, the output folder
//! aliaudit-core       evidence, model, controls, exceptions, roll-ups, trends, the pipeline
//! ```
//!
//! Inside each crate the modules are layered without cycles too; `.ci/module-cycles.py`
//! checks both in CI, and ARCHITECTURE.md maps them.

pub mod cli;
pub mod commands;
pub mod project;
pub mod sample;
