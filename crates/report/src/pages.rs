//! Page writing: builds each page view of a run once and renders it to HTML and/or PDF,
//! accounts in parallel, each file written with [`aliaudit_core::atomic::write_atomic`].
//!
//! Above [`crate::view`] and [`crate::render`], below the command line; the evaluating
//! [`aliaudit_core::pipeline`] below it never renders.

use rayon::prelude::*;

use crate::charts::Chart;
use crate::view::{AccountCharts, AccountPage, GroupCharts, GroupTrendView, TrendCharts};
use aliaudit_core::diag::Diagnostic;
use aliaudit_core::pipeline::{Run, RunError, RunOptions};

/// Which pages [`write_pages`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// Every page.
    All,
    /// The accounts' pages only (a shard).
    Accounts,
    /// The portfolio and customer pages only (merging shards).
    RollUps,
}

/// What the PDFs embed besides their pages: the run's `manifest.json` (the bytes written to
/// the output folder) and options, and the accounts' `findings.csv` rows.
pub struct PdfFiles<'a> {
    /// The bytes of `manifest.json` (the portfolio PDF embeds them as they are).
    pub manifest: std::sync::Arc<Vec<u8>>,
    /// The manifest's options (account and customer PDFs embed the manifest of their files).
    pub options: &'a aliaudit_core::summary::ManifestOptions,
    /// Each account's `findings.csv` rows.
    pub fragments: &'a (dyn crate::output::Fragments + Sync),
}

/// Typesets a PDF with the fonts and its embedded files.
type Typeset<'a> = dyn Fn(&crate::render::layout::Fonts, &crate::render::pdf::Embeds) -> Result<Vec<u8>, String>
    + 'a;

/// What [`write_pages`] did.
#[derive(Debug, Default, PartialEq)]
pub struct Written {
    /// Files written.
    pub files: usize,
    /// A warning for each chart that could not be drawn (its page shows no chart there),
    /// naming the chart and the page: portfolio, customers, then accounts in run order.
    pub warnings: Vec<Diagnostic>,
}

/// Writes the HTML pages (`index.html`, `customers/<slug>.html`, `accounts/<slug>.html`)
/// and/or the PDFs (`portfolio.pdf`, `customers/<slug>.pdf`, `accounts/<slug>.pdf`) below
/// `out`. Each page view (with its charts) is built once and feeds both formats; accounts
/// are rendered in parallel, each file written atomically; the bytes do not depend on the
/// thread count. Returns the number of files written and the pages' warnings.
pub fn write_pages(
    run: &Run,
    options: &RunOptions,
    templates: Option<&crate::render::html::Templates>,
    pdf: Option<(&crate::render::layout::Fonts, &PdfFiles)>,
    out: &std::path::Path,
    which: Pages,
) -> Result<Written, RunError> {
    let fonts = pdf.map(|(f, _)| f);
    use crate::render::pdf;
    use aliaudit_core::timing::Stage;
    let charts_before = aliaudit_core::timing::nanos(Stage::Charts);
    let site = {
        let _timer = Timer::new(Stage::Html);
        crate::view::Site::new(run, &options.rules)
    };
    // Each page in the formats asked for; each returns the number of files it wrote.
    let html = |path: std::path::PathBuf, template: &str, view: &dyn erased::Page| {
        let Some(templates) = templates else {
            return Ok(0);
        };
        let bytes = {
            let _timer = Timer::new(Stage::Html);
            let mut bytes = Vec::new();
            view.render(templates, template, &mut bytes)
                .map_err(|e| render_error("html", e.to_string()))?;
            bytes
        };
        write_bytes(&path, &bytes).map(|()| 1)
    };
    // The embedded files of a PDF about the accounts `ids` ((id, folder) of each; `None`: all
    // of them, the portfolio).
    let csv_header = crate::zlib::Piece::of(&crate::output::findings_csv_header(&run.frameworks)?);
    let embeds = |files: &PdfFiles, ids: Option<Vec<(&str, &str)>>| {
        let (manifest, folders): (std::sync::Arc<Vec<u8>>, Vec<&str>) = match ids {
            None => (
                files.manifest.clone(),
                run.accounts
                    .iter()
                    .map(|a| a.info.folder.as_str())
                    .collect(),
            ),
            Some(accounts) => {
                let ids = accounts.iter().map(|(id, _)| *id).collect();
                (
                    std::sync::Arc::new(crate::output::manifest_json_of(run, files.options, &ids)?),
                    accounts.iter().map(|(_, folder)| *folder).collect(),
                )
            }
        };
        use crate::zlib::{Deflated, Joined};
        let io = |what| move |e: std::io::Error| render_error(what, e.to_string());
        // The header, then each account's rows, compressed once for the run.
        let mut findings = Joined::default();
        findings.push(&csv_header);
        for folder in folders {
            findings.push(&files.fragments.csv_piece(folder)?);
        }
        let findings = findings.finish();
        let manifest_file = Deflated::of(
            |w| w.write_all(&manifest).map_err(io("manifest.json")),
            io("manifest.json"),
        )?;
        Ok::<_, aliaudit_core::atomic::OutputError>(pdf::Embeds {
            manifest,
            manifest_file,
            findings,
        })
    };
    let typeset = |path: std::path::PathBuf, ids: Option<Vec<(&str, &str)>>, make: &Typeset| {
        let Some((fonts, files)) = pdf else {
            return Ok(0);
        };
        let bytes = {
            let timer = Timer::new(Stage::Pdf);
            let embeds = embeds(files, ids)?;
            let bytes = make(fonts, &embeds).map_err(|e| render_error("pdf", e))?;
            aliaudit_core::timing::document(timer.1);
            bytes
        };
        write_bytes(&path, &bytes).map(|()| 1)
    };
    let as_of = run.as_of;
    // The files of a page, as a warning names it: `stem.html` and/or `pdf`.
    let page_files = |stem: &str, pdf: &str| {
        let mut names = Vec::new();
        if templates.is_some() {
            names.push(format!("{stem}.html"));
        }
        if fonts.is_some() {
            names.push(pdf.to_string());
        }
        names.join(", ")
    };
    let html_too = templates.is_some();
    // The portfolio and customer pages (files written, warnings). They run beside the
    // accounts' pages: the portfolio PDF is the longest single document of a run, and
    // started first it no longer leaves the other workers idle at the end.
    let roll_ups = || -> Result<(usize, Vec<Diagnostic>), RunError> {
        if which == Pages::Accounts {
            return Ok((0, Vec::new()));
        }
        let (portfolio, customers) = {
            let _timer = Timer::new(Stage::Html);
            (site.portfolio(), site.customers())
        };
        let mut warnings = chart_warnings(
            &page_files("index", "portfolio.pdf"),
            None,
            &group_charts(
                &portfolio.charts,
                portfolio.trend.as_ref(),
                &portfolio.frameworks,
            ),
        );
        let customer_pages = || {
            customers
                .par_iter()
                .map(|(slug, view)| {
                    let warnings = chart_warnings(
                        &page_files(
                            &format!("customers/{slug}"),
                            &format!("customers/{slug}.pdf"),
                        ),
                        None,
                        &group_charts(&view.charts, view.trend.as_ref(), &view.frameworks),
                    );
                    let dir = out.join("customers");
                    let members = run
                        .accounts
                        .iter()
                        .filter(|a| a.info.customer.as_deref() == Some(view.name.as_str()))
                        .map(|a| (a.info.id.as_str(), a.info.folder.as_str()))
                        .collect();
                    Ok((
                        html(dir.join(format!("{slug}.html")), "customer.html", view)?
                            + typeset(dir.join(format!("{slug}.pdf")), Some(members), &|f, e| {
                                pdf::customer(f, view, as_of, e)
                            })?,
                        warnings,
                    ))
                })
                .collect::<Result<Vec<_>, RunError>>()
        };
        let (portfolio_files, customer_pages) = rayon::join(
            || -> Result<usize, RunError> {
                Ok(html(out.join("index.html"), "index.html", &portfolio)?
                    + typeset(out.join("portfolio.pdf"), None, &|f, e| {
                        pdf::portfolio(f, &portfolio, as_of, e)
                    })?)
            },
            customer_pages,
        );
        let mut files = portfolio_files?;
        for (n, w) in customer_pages? {
            files += n;
            warnings.extend(w);
        }
        Ok((files, warnings))
    };
    let account_pages = || -> Result<Vec<(usize, Vec<Diagnostic>)>, RunError> {
        if which == Pages::RollUps {
            return Ok(Vec::new());
        }
        run.accounts
            .par_iter()
            .map(|a| {
                let a = run.with_findings(a, options)?;
                let view = {
                    let _timer = Timer::new(Stage::Html);
                    site.account(&a)
                };
                let dir = out.join("accounts");
                let slug = &site.account_slugs[&a.info.id];
                let page = page_files(&format!("accounts/{slug}"), &format!("accounts/{slug}.pdf"));
                let warnings =
                    chart_warnings(&page, Some(&a.info.id), &account_charts(&view, html_too));
                Ok((
                    html(dir.join(format!("{slug}.html")), "account.html", &view)?
                        + typeset(
                            dir.join(format!("{slug}.pdf")),
                            Some(vec![(a.info.id.as_str(), a.info.folder.as_str())]),
                            &|f, e| pdf::account(f, &view, as_of, e),
                        )?,
                    warnings,
                ))
            })
            .collect()
    };
    // Warnings stay in run order: portfolio, customers, then accounts.
    let (roll_ups, per_account) = rayon::join(roll_ups, account_pages);
    let (mut files, mut warnings) = roll_ups?;
    for (n, w) in per_account? {
        files += n;
        warnings.extend(w);
    }
    // Charts are drawn while the views are built: count them once, as charts.
    aliaudit_core::timing::subtract(
        Stage::Html,
        aliaudit_core::timing::nanos(Stage::Charts).saturating_sub(charts_before),
    );
    Ok(Written { files, warnings })
}

/// The charts of an account page (the score gauge is in the HTML only).
fn account_charts(view: &AccountPage, html: bool) -> Vec<&Chart> {
    // Destructured whole, so that a new chart field cannot be left out here.
    let AccountCharts {
        gauge,
        donut,
        severity,
    } = &view.charts;
    let mut charts = Vec::new();
    if html {
        charts.push(gauge);
    }
    charts.extend([donut, severity]);
    if let Some(trend) = &view.trend {
        let TrendCharts { score, severity } = &trend.charts;
        charts.extend([score, severity]);
    }
    charts.extend(view.frameworks.iter().map(|f| &f.chart));
    charts
}

/// The charts of a portfolio or customer page.
fn group_charts<'v>(
    charts: &'v GroupCharts,
    trend: Option<&'v GroupTrendView>,
    frameworks: &'v [crate::crosswalk::FrameworkView],
) -> Vec<&'v Chart> {
    let GroupCharts {
        histogram,
        top_failures,
        heat_map,
        // The same drawing as `heat_map`, in pages: one warning is enough.
        heat_pages: _,
        heat_note: _,
    } = charts;
    let mut all = vec![histogram, top_failures, heat_map];
    if let Some(trend) = trend {
        let TrendCharts { score, severity } = &trend.charts;
        all.extend([score, severity]);
    }
    all.extend(frameworks.iter().map(|f| &f.chart));
    all
}

/// A warning for each chart of `charts` that could not be drawn, on the page whose files are
/// `page` (of `account`, for an account page).
fn chart_warnings(page: &str, account: Option<&str>, charts: &[&Chart]) -> Vec<Diagnostic> {
    charts
        .iter()
        .filter_map(|chart| chart.error())
        .map(|error| {
            let warning = Diagnostic::warning(
                page,
                format!("{error}; the page shows no chart in its place"),
            );
            match account {
                Some(id) => warning.for_account(id),
                None => warning,
            }
        })
        .collect()
}

fn render_error(what: &'static str, message: String) -> aliaudit_core::atomic::OutputError {
    aliaudit_core::atomic::OutputError::Render { what, message }
}

fn write_bytes(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(), aliaudit_core::atomic::OutputError> {
    aliaudit_core::atomic::write_atomic(path, |w| {
        w.write_all(bytes)
            .map_err(|e| render_error("page", e.to_string()))
    })
}

mod erased {
    //! Lets one closure render any page type.
    pub trait Page: Sync {
        fn render(
            &self,
            templates: &crate::render::html::Templates,
            template: &str,
            out: &mut dyn std::io::Write,
        ) -> Result<(), crate::render::html::HtmlError>;
    }

    impl<T: serde::Serialize + Sync> Page for T {
        fn render(
            &self,
            templates: &crate::render::html::Templates,
            template: &str,
            out: &mut dyn std::io::Write,
        ) -> Result<(), crate::render::html::HtmlError> {
            templates.render(template, self, out)
        }
    }
}

/// Adds its lifetime to a stage.
struct Timer(aliaudit_core::timing::Stage, std::time::Instant);

impl Timer {
    fn new(stage: aliaudit_core::timing::Stage) -> Timer {
        Timer(stage, std::time::Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        aliaudit_core::timing::add(self.0, self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::ChartError;

    #[test]
    fn a_chart_that_failed_is_a_warning_naming_it_and_its_page() {
        let drawn = Chart::from(Ok("<svg/>".to_string()));
        let failed = Chart::from(Err(ChartError {
            chart: "status donut",
            message: "font unavailable".into(),
        }));
        let warnings = chart_warnings(
            "accounts/acme.html, accounts/acme.pdf",
            Some("1234"),
            &[&drawn, &failed],
        );
        assert_eq!(warnings.len(), 1);
        let w = &warnings[0];
        assert_eq!(w.level, aliaudit_core::diag::Level::Warning);
        assert_eq!(w.path, "accounts/acme.html, accounts/acme.pdf");
        assert_eq!(w.account.as_deref(), Some("1234"));
        assert_eq!(
            w.message,
            "the status donut chart could not be drawn (font unavailable); the page shows no chart in its place"
        );
        assert!(chart_warnings("index.html", None, &[&drawn]).is_empty());
    }
}
