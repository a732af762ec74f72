//! aliaudit's outputs: what a run writes, from the evaluated run of `aliaudit-core`.
//!
//! [`view`] shapes the page views (templates see no domain type but the state enums),
//! [`executive`] derives the executive page (verdict, rating, risks, actions),
//! [`crosswalk`] shapes the "By framework" sections, [`vendor`] the "Security Center
//! standards" sections, [`charts`] draws the charts ([`figure`] keeps them as shapes),
//! [`render`] writes HTML (tera) and PDF (krilla), [`pages`]
//! renders every page of a run, [`output`] writes summary.json, findings.csv and the
//! manifest, [`shard`] writes and reads shard files, and [`outdir`] builds the output set
//! beside OUT and swaps it in.
//!
//! The modules are layered without cycles (`.ci/module-cycles.py` checks it in CI):
//!
//! ```text
//! pages                           page writing
//! shard, output, outdir, ocsf     shard files and merge reading; output files; folder swap;
//!                                 the OCSF findings
//! render, view, executive,       page views, the executive page, the framework and
//! crosswalk, vendor, charts,      Security Center standards sections, charts (and their
//! figure, fonts                   shapes for the PDF), embedded fonts, HTML and PDF
//! theme                           the palette of CSS, charts and PDF
//! ```

pub mod charts;
pub mod crosswalk;
pub mod executive;
pub mod figure;
pub mod fonts;
pub mod ocsf;
pub mod outdir;
pub mod output;
pub mod pages;
pub mod render;
pub mod shard;
pub mod theme;
pub mod vendor;
pub mod view;
pub mod zlib;
