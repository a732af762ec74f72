//! aliaudit: audit-ready compliance reports from evidence saved from Alibaba Cloud accounts.
//!
//! The pipeline is a chain of stages, one module each: [`discover`] finds account folders,
//! [`ingest`] reads their files, [`model`] builds a typed account, [`rules`] evaluates the
//! controls, [`aggregate`] rolls accounts up, [`summary`] shapes the output views and
//! [`output`] writes files. [`pipeline`] is the orchestrator and the only place that runs
//! accounts in parallel.

pub mod aggregate;
pub mod branding;
pub mod charts;
pub mod cli;
pub mod collect;
pub mod deliver;
pub mod diag;
pub mod discover;
pub mod evidence;
pub mod exceptions;
pub mod i18n;
pub mod ingest;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod render;
pub mod rules;
pub mod sample;
pub mod shard;
pub mod summary;
pub mod timing;
pub mod trend;
pub mod view;
