//! aliaudit's core: from account folders to evaluated accounts. No rendering, no network, no
//! command line.
//!
//! [`discover`] finds account folders, [`ingest`] reads their files, [`model`] builds a typed
//! account, [`rules`] evaluates the controls, [`exceptions`] applies accepted risks,
//! [`aggregate`] and [`trend`] roll accounts up and compare them with a baseline;
//! [`frameworks`] rolls control results up into the requirements of compliance frameworks.
//! [`pipeline`] runs these stages over every account (in parallel, results put back in a fixed
//! order) and holds the run types ([`pipeline::Run`], [`pipeline::AccountResult`]);
//! [`summary`] is the summary.json view of a run.
//!
//! The modules are layered; a module uses modules on its own layer or below, never above, and
//! there is no module cycle (`.ci/module-cycles.py` checks it in CI):
//!
//! ```text
//! summary                         the summary.json views of a run
//! pipeline                        the evaluating pipeline and the run types
//! trend, aggregate, exceptions,   baselines and deltas, roll-ups, accepted risks, framework
//! frameworks, sas_standards       crosswalks and their roll-ups, the roll-ups of Security
//!                                 Center's own standards
//! rules, branding                 the controls; branding files
//! model, ingest, discover,        typed accounts, reading evidence, account folders,
//! evidence                        file records
//! i18n, diag, text, timing,       languages and catalogues, diagnostics, text formats,
//! atomic, score, stamp,           timing, atomic file writes, scores in tenths, file stamps,
//! sas_items                       the known Security Center check items
//! ```

pub mod aggregate;
pub mod atomic;
pub mod branding;
pub mod diag;
pub mod discover;
pub mod evidence;
pub mod exceptions;
pub mod frameworks;
pub mod i18n;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod rules;
pub mod sas_items;
pub mod sas_standards;
pub mod score;
pub mod stamp;
pub mod summary;
pub mod text;
pub mod timing;
pub mod trend;
