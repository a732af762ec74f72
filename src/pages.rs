//! Page writing: builds each page view of a run once and renders it to HTML and/or PDF,
//! accounts in parallel, each file written with [`crate::atomic::write_atomic`].
//!
//! Above [`crate::view`] and [`crate::render`], below the command line; the evaluating
//! [`crate::pipeline`] below it never renders.

use rayon::prelude::*;

use crate::pipeline::{Run, RunError, RunOptions};

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

/// Writes the HTML pages (`index.html`, `customers/<slug>.html`, `accounts/<slug>.html`)
/// and/or the PDFs (`portfolio.pdf`, `customers/<slug>.pdf`, `accounts/<slug>.pdf`) below
/// `out`. Each page view (with its charts) is built once and feeds both formats; accounts
/// are rendered in parallel, each file written atomically; the bytes do not depend on the
/// thread count. Returns the number of files written.
pub fn write_pages(
    run: &Run,
    options: &RunOptions,
    templates: Option<&crate::render::html::Templates>,
    fonts: Option<&crate::render::layout::Fonts>,
    out: &std::path::Path,
    which: Pages,
) -> Result<usize, RunError> {
    use crate::render::pdf;
    use crate::timing::Stage;
    let charts_before = crate::timing::nanos(Stage::Charts);
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
    let typeset =
        |path: std::path::PathBuf,
         make: &dyn Fn(&crate::render::layout::Fonts) -> Result<Vec<u8>, String>| {
            let Some(fonts) = fonts else {
                return Ok(0);
            };
            let bytes = {
                let _timer = Timer::new(Stage::Pdf);
                make(fonts).map_err(|e| render_error("pdf", e))?
            };
            write_bytes(&path, &bytes).map(|()| 1)
        };
    let as_of = run.as_of;
    let mut files = 0;
    if which != Pages::Accounts {
        let (portfolio, customers) = {
            let _timer = Timer::new(Stage::Html);
            (site.portfolio(), site.customers())
        };
        files += html(out.join("index.html"), "index.html", &portfolio)?;
        files += typeset(out.join("portfolio.pdf"), &|f| {
            pdf::portfolio(f, &portfolio, as_of)
        })?;
        for (slug, view) in &customers {
            let dir = out.join("customers");
            files += html(dir.join(format!("{slug}.html")), "customer.html", view)?;
            files += typeset(dir.join(format!("{slug}.pdf")), &|f| {
                pdf::customer(f, view, as_of)
            })?;
        }
    }
    if which == Pages::RollUps {
        return Ok(files);
    }
    let per_account: Vec<usize> = run
        .accounts
        .par_iter()
        .map(|a| {
            let a = run.with_findings(a, options)?;
            let view = {
                let _timer = Timer::new(Stage::Html);
                site.account(&a)
            };
            let dir = out.join("accounts");
            let slug = &site.account_slugs[&a.info.id];
            Ok(
                html(dir.join(format!("{slug}.html")), "account.html", &view)?
                    + typeset(dir.join(format!("{slug}.pdf")), &|f| {
                        pdf::account(f, &view, as_of)
                    })?,
            )
        })
        .collect::<Result<_, RunError>>()?;
    files += per_account.iter().sum::<usize>();
    // Charts are drawn while the views are built: count them once, as charts.
    crate::timing::subtract(
        Stage::Html,
        crate::timing::nanos(Stage::Charts).saturating_sub(charts_before),
    );
    Ok(files)
}

fn render_error(what: &'static str, message: String) -> crate::atomic::OutputError {
    crate::atomic::OutputError::Render { what, message }
}

fn write_bytes(path: &std::path::Path, bytes: &[u8]) -> Result<(), crate::atomic::OutputError> {
    crate::atomic::write_atomic(path, |w| {
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
struct Timer(crate::timing::Stage, std::time::Instant);

impl Timer {
    fn new(stage: crate::timing::Stage) -> Timer {
        Timer(stage, std::time::Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        crate::timing::add(self.0, self.1);
    }
}
