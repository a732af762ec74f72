//! Render stage, PDF: the same page views as the HTML, typeset on A4 with the layout engine.
//!
//! Account, customer and portfolio reports, PDF/A-3b and PDF/UA-1 (tagged), each with the
//! run's `manifest.json` and its `findings.csv` rows embedded. The creation date is the
//! as-of instant, so the same evidence gives the same bytes. Returns bytes; writes no file.

use chrono::{DateTime, Datelike, Timelike, Utc};

use std::sync::Arc;

use super::layout::{Attachment, Cell, Doc, Finish, Fonts, Table, size};
use crate::crosswalk::{FrameworkView, RequirementRow};
use crate::executive::{ActionView, ExecutiveView};
use crate::theme::{self, Colour, INK, MUTED};
use crate::vendor::{VendorRequirementRow, VendorView};
use crate::view::{
    AccountPage, AccountRow, AccountSummary, AccountTrendView, ChangeRow, ControlRow, CustomerPage,
    CustomerRow, FileRow, GroupTrendView, LogicRow, Meta, MoverRow, PortfolioPage, QualityNote,
    RegisterRow, RegisterView, ResourceRow, ThresholdRow, VendorRow,
};
use aliaudit_core::aggregate::AccountStatus;
use aliaudit_core::evidence::FileStatus;
use aliaudit_core::i18n::Catalogue;
use aliaudit_core::model::Severity;
use aliaudit_core::rules::Status;

/// The colour of an account's evidence completeness.
fn evidence_colour(state: AccountStatus) -> Colour {
    theme::status(theme::evidence_tone(state))
}

/// The colour of an input file's state.
fn file_colour(state: FileStatus) -> Colour {
    theme::status(theme::file_tone(state))
}

/// A severity in the report language.
fn severity_name(c: &'static Catalogue, severity: Severity) -> &'static str {
    c.t(&format!("severity.{}", severity.as_str()))
}

/// The files a PDF embeds: the run's `manifest.json` and the `findings.csv` rows of what the
/// PDF reports on (the header and the rows of the account, the customer's accounts, or all).
#[derive(Debug, Clone)]
pub struct Embeds {
    /// The bytes of `manifest.json`, as written to the output folder.
    pub manifest: Arc<Vec<u8>>,
    /// The same bytes, compressed to be embedded.
    pub manifest_file: crate::zlib::Deflated,
    /// `findings.csv`: its header and the rows of this report's accounts, compressed as
    /// they were written.
    pub findings: crate::zlib::Deflated,
}

/// The PDF date: the as-of instant, or (with no evidence dated and no `--as-of`) the start
/// of 1970, since PDF/A wants a date and a clock would break reproducible output.
fn pdf_date(as_of: Option<DateTime<Utc>>) -> krilla::metadata::DateTime {
    let t = as_of.unwrap_or_default();
    krilla::metadata::DateTime::new(t.year().clamp(0, 9999) as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// What a PDF writes besides its pages: the metadata (titled `title`), the language, and
/// the embedded files (`findings` says whose rows the findings are).
fn finishing(
    title: &str,
    meta: &Meta,
    as_of: Option<DateTime<Utc>>,
    embeds: &Embeds,
    findings: &str,
) -> Finish {
    let c = cat(meta);
    Finish {
        metadata: metadata(title, meta, as_of, embeds),
        lang: meta.lang.to_string(),
        date: pdf_date(as_of),
        attachments: vec![
            Attachment {
                name: "manifest.json".into(),
                mime: "application/json",
                description: c.t("pdf_files.manifest").into(),
                bytes: embeds.manifest_file.clone(),
            },
            Attachment {
                name: "findings.csv".into(),
                mime: "text/csv",
                description: c.t(findings).into(),
                bytes: embeds.findings.clone(),
            },
        ],
    }
}

fn metadata(
    title: &str,
    meta: &Meta,
    as_of: Option<DateTime<Utc>>,
    embeds: &Embeds,
) -> krilla::metadata::Metadata {
    use sha2::Digest;
    let period = &meta.period;
    // The document id is derived from what the PDF reports on (its title) and the run's
    // manifest, so the same run gives the same id, and another run another id.
    let mut id = sha2::Sha256::new();
    id.update(&embeds.manifest[..]);
    id.update(title.as_bytes());
    let id: String = id.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut m = krilla::metadata::Metadata::new()
        .title(title.to_string())
        .description(cat(meta).f(
            "pdf.description",
            &[("period", period), ("benchmark", &meta.benchmark)],
        ))
        .authors(vec![
            meta.brand
                .company
                .clone()
                .unwrap_or_else(|| "aliaudit".to_string()),
        ])
        .creator(format!("aliaudit {}", aliaudit_core::summary::TOOL_VERSION))
        .language(meta.lang.to_string())
        .document_id(id);
    m = m.creation_date(pdf_date(as_of));
    m
}

/// The report identifier: the first 12 hex digits of the SHA-256 of the embedded
/// `manifest.json`, in groups of four (anyone can recompute it from the attachment), and the
/// whole digest.
fn report_id(embeds: &Embeds) -> (String, String) {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(&embeds.manifest[..]));
    let short = digest.as_bytes()[..12]
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join("-");
    (short, digest)
}

/// The input files of the embedded manifest by status (used, ignored, rejected).
fn manifest_totals(embeds: &Embeds) -> (u64, u64, u64) {
    let value: serde_json::Value = serde_json::from_slice(&embeds.manifest).unwrap_or_default();
    let n = |k: &str| value["totals"][k].as_u64().unwrap_or(0);
    (n("used"), n("ignored"), n("rejected"))
}

/// The last page: what the report covers (scope, evidence, as-of, benchmark, method), its
/// identifier, and lines for who prepared and who reviewed it (their names from the branding
/// file, else blank to sign by hand).
fn signoff(doc: &mut Doc, meta: &Meta, scope: &[String], embeds: &Embeds) {
    let c = cat(meta);
    let (id, digest) = report_id(embeds);
    let (used, ignored, rejected) = manifest_totals(embeds);
    // The form stays whole: on the page before when it fits there.
    doc.keep(SIGNOFF_H + 14.0 * scope.len().min(20) as f32);
    doc.heading(1, c.t("signoff.heading"));
    let rows: Vec<(String, String)> = vec![
        (c.t("signoff.scope").into(), scope.join("\n")),
        (
            c.t("signoff.evidence").into(),
            c.f(
                "signoff.evidence_text",
                &[
                    ("used", &used),
                    ("ignored", &ignored),
                    ("rejected", &rejected),
                    ("period", &meta.period),
                ],
            ),
        ),
        (
            c.t("signoff.as_of").into(),
            c.f(
                "signoff.as_of_text",
                &[("as_of", &meta.as_of_text), ("source", &meta.as_of_source)],
            ),
        ),
        (c.t("signoff.benchmark").into(), meta.benchmark.clone()),
        (
            c.t("signoff.method").into(),
            format!("{}.", meta.score_formula),
        ),
        (
            c.t("signoff.report_id").into(),
            c.f(
                "signoff.report_id_text",
                &[("id", &id), ("digest", &digest)],
            ),
        ),
        (
            c.t("signoff.tool").into(),
            format!("aliaudit {}", meta.tool_version),
        ),
    ];
    let table = Table::new(size::TABLE)
        .column(
            c.t("signoff.item"),
            share::RESULT,
            |r: &(String, String)| Cell::bold(r.0.clone()),
        )
        .column(c.t("signoff.statement"), share::LONG * 2.0, |r| {
            Cell::text(r.1.clone())
        });
    doc.table(&table, &rows);
    doc.space(gap::FACTS);
    let blank = "____________________________";
    let line = |role: &str, name: &Option<String>| {
        c.f(
            "signoff.line",
            &[
                ("role", &c.t(role)),
                ("name", &name.as_deref().unwrap_or(blank)),
                ("blank", &"________________"),
            ],
        )
    };
    doc.paragraph(
        &line("signoff.prepared_by", &meta.brand.prepared_by),
        size::BODY,
        INK,
    );
    doc.space(gap::FACTS);
    doc.paragraph(
        &line("signoff.reviewed_by", &meta.brand.reviewed_by),
        size::BODY,
        INK,
    );
}

/// The height of the sign-off form without its scope lines, in points (measured: heading,
/// seven rows, two signature lines).
const SIGNOFF_H: f32 = 330.0;

/// Actions in the PDF's executive table (the HTML shows up to `executive::MAX_ACTIONS`).
const PDF_ACTIONS: usize = 4;

/// Largest logo on a cover, in points.
const LOGO_W: f32 = 180.0;
/// Largest logo on a cover, in points.
const LOGO_H: f32 = 60.0;
/// Width of the score histogram, in points: about half the line.
const HISTOGRAM_W: f32 = 330.0;
/// Width of a framework's chart of requirements by result (its six bars).
const FRAMEWORK_CHART_W: f32 = 400.0;

/// Vertical space on a cover, in points.
mod gap {
    /// Below the company.
    pub const COMPANY: f32 = 4.0;
    /// Below the kind of report.
    pub const KIND: f32 = 8.0;
    /// Below the subject.
    pub const TITLE: f32 = 14.0;
    /// Below the facts lines.
    pub const FACTS: f32 = 20.0;
    /// Above the disclaimer.
    pub const DISCLAIMER: f32 = 16.0;
}

/// Column shares of a table's width (relative to the other columns of the table).
mod share {
    /// A control's title and id, or an account's name and id.
    pub const CONTROL: f32 = 3.2;
    /// A severity badge.
    pub const SEVERITY: f32 = 1.0;
    /// A result badge, or a date.
    pub const RESULT: f32 = 1.3;
    /// A text column (a resource, a path, a detail).
    pub const TEXT: f32 = 3.0;
    /// A long text column (a reason, a control's logic, a name beside numbers).
    pub const LONG: f32 = 4.0;
    /// A short number or word.
    pub const SHORT: f32 = 1.0;
}

/// The messages of a page's language.
fn cat(meta: &Meta) -> &'static Catalogue {
    Catalogue::get(meta.language)
}

/// "Page X of Y" in the page's language.
fn page_label(c: &'static Catalogue) -> impl Fn(usize, usize) -> String {
    move |page, pages| c.f("pdf.page_of", &[("page", &page), ("pages", &pages)])
}

/// The accounts table; `linked`: each account's row opens its PDF and a column names its
/// customer (the portfolio PDF, which sits beside the account PDFs), else no link (a customer
/// PDF stands alone) and no customer column (they are all the customer's).
fn accounts_table(doc: &mut Doc, c: &Catalogue, rows: &[AccountRow], linked: bool) {
    let mut table =
        Table::new(size::TABLE).column(c.t("ui.account"), share::CONTROL, |a: &AccountRow| {
            let cell = Cell::text(format!("{}\n{}", a.name, a.id));
            if linked {
                // The HTML rows link relative to their page; the PDFs sit beside the HTML.
                cell.linked(a.href.replace(".html", ".pdf"))
            } else {
                cell
            }
        });
    if linked {
        table = table.column(c.t("ui.customer"), 1.6, |a| {
            Cell::text(a.customer.clone().unwrap_or_else(|| "-".into()))
        });
    }
    let table = table
        .column(c.t("ui.evidence"), 1.2, |a| {
            Cell::badge(
                c.t(&format!("evidence_status.{}", a.status.as_str())),
                evidence_colour(a.status),
            )
        })
        .number(c.t("ui.score"), 0.8, |a| Cell::bold(a.score.clone()))
        // The same column names as the HTML's accounts table.
        .number(c.t("ui.vendor_score"), share::SHORT, |a| {
            Cell::text(a.vendor_score.clone())
        })
        .number(c.t("ui.failed"), 0.8, |a| {
            Cell::text(a.counts.fail.to_string())
        })
        .number(c.t("ui.high_failed"), 0.9, |a| {
            Cell::text(a.high_fails.to_string())
        })
        .number(c.t("ui.not_evaluable"), 1.15, |a| {
            Cell::text(a.counts.not_evaluable.to_string())
        });
    doc.table(&table, rows);
    doc.paragraph(c.t("ui.evidence_states"), size::SMALL, MUTED);
}

/// A document with the page's branding: accent colour and header.
fn start<'f>(fonts: &'f Fonts, meta: &Meta, header: String) -> Doc<'f> {
    let mut doc = Doc::new(fonts, header);
    let rgb = |text: &str| {
        aliaudit_core::branding::parse_colour(text).map(|(r, g, b)| Colour { r, g, b })
    };
    if let (Some(accent), Some(heading)) = (rgb(&meta.brand.accent), rgb(&meta.brand.link)) {
        // Headings take the accent only when it reads on white (else the default blue).
        doc.set_colours(accent, heading);
    }
    doc
}

/// The footer's left side: the brand's footer text, then the as-of instant.
fn footer(meta: &Meta) -> String {
    let footer = meta.brand.footer.as_deref().unwrap_or("aliaudit");
    cat(meta).f(
        "pdf.footer",
        &[("footer", &footer), ("as_of", &meta.as_of_text)],
    )
}

fn cover(doc: &mut Doc, meta: &Meta, kind: &str, title: &str, lines: &[String], embeds: &Embeds) {
    let b = &meta.brand;
    let c = cat(meta);
    doc.cover();
    if let Some(svg) = &b.logo_svg {
        doc.logo(svg, LOGO_W, LOGO_H);
    }
    if let Some(company) = &b.company {
        doc.title(company, size::COVER_COMPANY, true, INK);
        doc.space(gap::COMPANY);
    }
    doc.title(
        b.title.as_deref().unwrap_or(kind),
        size::COVER_LINE,
        true,
        MUTED,
    );
    doc.space(gap::KIND);
    doc.title(title, size::COVER_TITLE, true, INK);
    doc.space(gap::TITLE);
    for line in lines {
        doc.title(line, size::COVER_LINE, false, INK);
    }
    doc.space(gap::FACTS);
    doc.title(
        &c.f("pdf.as_of_line", &[("as_of", &meta.as_of_text)]),
        size::COVER_NOTE,
        false,
        MUTED,
    );
    doc.title(
        &c.f("benchmark.line", &[("benchmark", &meta.benchmark)]),
        size::COVER_NOTE,
        false,
        MUTED,
    );
    doc.title(
        &c.f(
            "signoff.cover_id",
            &[
                ("id", &report_id(embeds).0),
                ("version", &meta.tool_version),
            ],
        ),
        size::COVER_NOTE,
        false,
        MUTED,
    );
    if let Some(p) = &b.prepared_by {
        doc.title(
            &c.f("pdf.prepared_by", &[("name", p)]),
            size::COVER_NOTE,
            false,
            MUTED,
        );
    }
    if let Some(contact) = &b.contact {
        doc.title(
            &c.f("pdf.contact", &[("contact", contact)]),
            size::COVER_NOTE,
            false,
            MUTED,
        );
    }
    doc.title(c.t("pdf.no_live_api"), size::BODY, false, MUTED);
    if let Some(d) = &b.disclaimer {
        doc.space(gap::DISCLAIMER);
        doc.paragraph(d, size::NOTE, MUTED);
    }
}

/// The executive page: verdict, rating, score, change, top risks and actions, on a page of
/// its own right after the cover.
fn executive(doc: &mut Doc, c: &'static Catalogue, e: &ExecutiveView) {
    doc.page_break();
    doc.heading(1, c.t("exec.heading"));
    executive_body(doc, c, e, true);
}

/// A customer's accounts, a page each: the account's executive summary (without the
/// definitions, which the customer's own executive page gives).
fn account_summaries(doc: &mut Doc, c: &'static Catalogue, summaries: &[AccountSummary]) {
    for s in summaries {
        doc.page_break();
        doc.heading(
            1,
            &c.f("pdf.account_summary", &[("name", &s.name), ("id", &s.id)]),
        );
        executive_body(doc, c, &s.executive, false);
    }
}

/// What an executive page says; `definitions`: with the score and rating definitions.
fn executive_body(doc: &mut Doc, c: &'static Catalogue, e: &ExecutiveView, definitions: bool) {
    doc.paragraph(
        &format!("{}{}{}", c.t("exec.verdict"), c.t("exec.colon"), e.verdict),
        size::COVER_LINE,
        INK,
    );
    // The rating card takes the rating's colour and the score card a neutral one, never the
    // brand's accent, so that a brand red does not read as a verdict.
    doc.figures_marked(
        &[
            (
                c.t("exec.rating").into(),
                e.rating_name.clone(),
                e.rating_why.clone(),
            ),
            (
                c.t("exec.score").into(),
                e.score_value.clone(),
                String::new(),
            ),
        ],
        &[theme::rating(e.rating), MUTED],
    );
    doc.paragraph(
        &format!(
            "{}{}{}",
            c.t("exec.score"),
            c.t("exec.colon"),
            c.f(
                "exec.score_line",
                &[("score", &e.score), ("rest", &e.score_rest)]
            )
        ),
        size::BODY,
        INK,
    );
    if let Some(change) = &e.change {
        doc.paragraph(
            &format!("{}{}{change}", c.t("exec.change"), c.t("exec.colon")),
            size::BODY,
            INK,
        );
    }
    if definitions {
        doc.paragraph(
            &format!("{} {}", e.score_definition, e.rating_definition),
            size::NOTE,
            MUTED,
        );
    }
    if e.risks.is_empty() {
        doc.paragraph(&e.no_risks, size::LEAD, INK);
        return;
    }
    doc.heading(2, c.t("exec.top_risks"));
    let risks: Vec<String> = e
        .risks
        .iter()
        .map(|r| {
            c.f(
                "exec.risk_line",
                &[
                    ("severity", &severity_name(c, r.severity)),
                    ("problem", &r.problem),
                    ("affected", &r.affected),
                    ("exposes", &r.exposes),
                ],
            )
        })
        .collect();
    doc.list(&risks, true, size::BODY, INK);
    doc.heading(2, c.t("exec.actions"));
    doc.paragraph(&e.actions_note, size::SMALL, MUTED);
    let table = Table::new(size::TABLE_DENSE)
        .column(c.t("exec.risk"), 2.2, |a: &ActionView| {
            Cell::text(format!("{}\n{}", a.problem, a.affected))
        })
        .column(c.t("ui.severity"), 1.3, |a| {
            Cell::badge(severity_name(c, a.severity), theme::severity(a.severity))
        })
        .column(c.t("exec.what"), 2.6, |a| Cell::text(a.what.clone()))
        .column(c.t("exec.where"), 2.8, |a| Cell::text(a.place.clone()))
        .column(c.t("exec.owner"), 1.6, |a| Cell::text(a.owner.clone()))
        .column(c.t("exec.due"), 1.1, |a| Cell::text(a.due.clone()));
    // The PDF's executive page is one page: its first actions; the rest are counted.
    let shown = e.actions.len().min(PDF_ACTIONS);
    doc.table(&table, &e.actions[..shown]);
    let rest = e.more_count + (e.actions.len() - shown) as u64;
    if rest > 0 {
        // An account's summary in its customer's report has no detail below it.
        let key = match (definitions, e.group) {
            (false, _) => "exec.more_elsewhere",
            (true, true) => "exec.more_in_accounts",
            (true, false) => "exec.more_actions",
        };
        let more = crate::executive::plural(c, key, rest, &[]);
        doc.paragraph(&more, size::SMALL, MUTED);
    }
}

/// The PDF of one account.
pub fn account(
    fonts: &Fonts,
    page: &AccountPage,
    as_of: Option<DateTime<Utc>>,
    embeds: &Embeds,
) -> Result<Vec<u8>, String> {
    let a = &page.account;
    let c = cat(&page.meta);
    let mut doc = start(
        fonts,
        &page.meta,
        format!("{} - {}", a.name, report_title(&page.meta)),
    );
    let customer = a.customer.clone().unwrap_or_else(|| "-".into());
    let uid = page.uid.clone().unwrap_or_else(|| "-".into());
    let mut cover_lines = vec![
        c.f("pdf.customer_line", &[("name", &customer)]),
        c.f("pdf.account_id_line", &[("id", &a.id)]),
        c.f("pdf.uid_line", &[("uid", &uid)]),
        c.f("pdf.period_line", &[("period", &page.meta.period)]),
        String::new(),
        c.f("pdf.score_line", &[("score", &a.score)]),
        c.f("pdf.vendor_line", &[("score", &a.vendor_score)]),
        c.f(
            "pdf.evidence_line",
            &[(
                "status",
                &c.t(&format!("evidence_status.{}", a.status.as_str())),
            )],
        ),
    ];
    cover_lines.retain(|l| !l.is_empty());
    let detailed: Vec<&ControlRow> = page
        .sections
        .iter()
        .flat_map(|s| &s.controls)
        .filter(|c| c.failing > 0 || c.resources.len() > 1)
        .collect();
    let places = Places {
        evidence: detailed.iter().map(|c| c.anchor.as_str()).collect(),
        logic: page.logic.iter().map(|l| l.anchor.as_str()).collect(),
    };
    cover(
        &mut doc,
        &page.meta,
        c.t("pdf.compliance_report"),
        &a.name,
        &cover_lines,
        embeds,
    );
    executive(&mut doc, c, &page.executive);
    doc.contents(c.t("pdf.contents"));

    doc.page_break();
    doc.heading(1, c.t("account.executive_summary"));
    doc.figures(&[
        (
            c.t("account.compliance_score").into(),
            a.score.clone(),
            c.t("account.of_100").into(),
        ),
        (
            c.t("ui.vendor_score").into(),
            a.vendor_score.clone(),
            c.t("account.beside").into(),
        ),
        (
            c.t("ui.failed_controls").into(),
            a.counts.fail.to_string(),
            c.f("ui.of_high_severity", &[("n", &a.high_fails)]),
        ),
        (
            c.t("ui.not_evaluable").into(),
            a.counts.not_evaluable.to_string(),
            c.t("account.evidence_missing").into(),
        ),
    ]);
    // The score and the vendor's score are in the boxes above; the gauge is for the HTML.
    doc.chart_row(&[&page.charts.donut, &page.charts.severity]);
    doc.figures(&[
        (
            c.t("account.ram_users").into(),
            page.identity.ram_users.clone(),
            c.f(
                "account.with_console",
                &[("n", &page.identity.console_users)],
            ),
        ),
        (
            c.t("account.console_without_mfa").into(),
            page.identity.console_users_without_mfa.clone(),
            String::new(),
        ),
        (
            c.t("account.active_keys").into(),
            page.identity.active_access_keys.clone(),
            c.f(
                "account.not_rotated",
                &[("n", &page.identity.access_keys_not_rotated_90d)],
            ),
        ),
        (
            c.t("account.root_account").into(),
            page.identity.root_mfa.clone(),
            c.f(
                "account.root_keys",
                &[("n", &page.identity.root_active_access_keys)],
            ),
        ),
    ]);
    doc.heading(2, c.t("account.fix_first"));
    if page.top_failing.is_empty() {
        doc.paragraph(c.t("account.none_failed"), size::LEAD, INK);
    } else {
        let table = Table::new(size::TABLE_LOOSE)
            .column(c.t("ui.severity"), share::SEVERITY, |f: &ControlRow| {
                Cell::badge(severity_name(c, f.severity), theme::severity(f.severity))
            })
            .column(c.t("ui.control"), share::TEXT, |f| {
                places.jumps(c, f, Cell::bold(f.title.clone()))
            })
            .column(c.t("ui.finding"), 3.0, |f| Cell::text(f.detail.clone()))
            .column(c.t("account.fix"), 3.0, |f| Cell::text(f.fix.clone()));
        doc.table(&table, &page.top_failing);
    }
    if !page.data_quality.is_empty() || !page.gaps.is_empty() {
        doc.heading(2, c.t("account.data_quality_warnings"));
        let notes: Vec<String> = page
            .gaps
            .iter()
            .chain(&page.data_quality)
            .cloned()
            .collect();
        doc.list(&notes, false, size::BODY, INK);
    }

    // Sections flow one after the other; a heading moves to a new page only when it and its
    // first lines do not fit (see `Doc::heading`).
    if let Some(t) = &page.trend {
        account_trend(&mut doc, c, t);
    }

    for section in &page.sections {
        doc.heading(1, section.title);
        doc.paragraph(
            &c.f(
                "account.section_counts",
                &[
                    ("pass", &section.pass),
                    ("fail", &section.fail),
                    ("n", &section.controls.len()),
                ],
            ),
            size::BODY,
            MUTED,
        );
        let table = Table::new(size::TABLE)
            .column(c.t("ui.control"), share::CONTROL, |row: &ControlRow| {
                Cell::text(format!("{}\n{}", row.title, row.id))
            })
            .column(c.t("ui.framework"), 1.2, |row| {
                Cell::text(if row.cis.is_empty() {
                    "-".into()
                } else {
                    row.cis.clone()
                })
            })
            .column(c.t("ui.severity"), share::SEVERITY, |row| {
                Cell::badge(
                    severity_name(c, row.severity),
                    theme::severity(row.severity),
                )
            })
            .column(c.t("ui.result"), share::RESULT, |row| {
                Cell::badge(row.status_label, theme::status(row.status))
            })
            .column(c.t("ui.finding"), 3.3, |row| {
                let mut finding = match &row.informational {
                    Some(label) => format!("{label}\n{}", row.detail),
                    None => row.detail.clone(),
                };
                if let Some(comp) = &row.compensating {
                    finding.push('\n');
                    finding.push_str(comp);
                }
                if let Some(d) = &row.duplicates {
                    finding.push('\n');
                    finding.push_str(&c.f("account.same_check", &[("id", d)]));
                }
                places.jumps(c, row, Cell::text(finding))
            })
            .continued(c.f("pdf.continued", &[("title", &section.title)]));
        doc.table(&table, &section.controls);
    }
    frameworks(&mut doc, c, &page.frameworks, 1);
    vendor_standards(&mut doc, c, page.vendor.as_ref());

    if !detailed.is_empty() {
        doc.heading(1, c.t("account.evidence_by_control"));
        doc.paragraph(
            &c.f(
                "account.evidence_by_control_note",
                &[("n", &ROWS_PER_CONTROL)],
            ),
            size::BODY,
            MUTED,
        );
        for control in detailed {
            evidence_table(&mut doc, c, control);
        }
    }

    doc.heading(1, c.t("ui.evidence"));
    for (kind, state) in &page.evidence {
        doc.paragraph(
            &format!("{kind}{}{state}", c.t("exec.colon")),
            size::NOTE,
            INK,
        );
    }
    let not_used: Vec<&FileRow> = page
        .files
        .iter()
        .filter(|f| f.status != FileStatus::Used)
        .collect();
    if !not_used.is_empty() {
        doc.heading(2, c.t("account.rejected_ignored"));
        let table = Table::new(size::TABLE)
            .column(c.t("ui.file"), share::TEXT, |f: &&FileRow| {
                Cell::text(f.path.clone())
            })
            .column(c.t("ui.status"), 1.1, |f| {
                Cell::badge(
                    c.t(&format!("file_status.{}", f.status.as_str())),
                    file_colour(f.status),
                )
            })
            .column(c.t("ui.reason"), share::LONG, |f| {
                Cell::text(f.reason.clone())
            });
        doc.table(&table, &not_used);
    }
    if !page.diagnostics.is_empty() {
        doc.heading(2, c.t("ui.diagnostics"));
        for d in &page.diagnostics {
            let level = c.t(&format!("level.{}", d.level.as_str()));
            let colon = c.t("exec.colon");
            doc.paragraph(
                &format!("{level}{colon}{}{colon}{}", d.path, d.message),
                size::NOTE,
                INK,
            );
        }
    }

    if let Some(r) = &page.register {
        register(&mut doc, c, r);
    }

    doc.page_break();
    doc.heading(1, c.t("ui.appendix"));
    doc.heading(2, c.t("account.as_of_and_score"));
    doc.paragraph(
        &c.f(
            "account.as_of_line",
            &[
                ("as_of", &page.meta.as_of),
                ("source", &page.meta.as_of_source),
            ],
        ),
        size::BODY,
        INK,
    );
    doc.paragraph(&format!("{}.", page.meta.score_formula), size::BODY, INK);
    doc.heading(2, c.t("account.evidence_manifest"));
    let manifest = Table::new(size::TABLE_MANIFEST)
        .column(c.t("ui.file"), share::CONTROL, |f: &FileRow| {
            Cell::text(f.path.clone())
        })
        .column(c.t("ui.kind"), 1.6, |f| Cell::text(f.kind))
        .column(c.t("ui.status"), 0.9, |f| {
            Cell::text(c.t(&format!("file_status.{}", f.status.as_str())))
        })
        .number(c.t("ui.bytes"), 0.8, |f| Cell::text(f.size.to_string()))
        .column(c.t("ui.sha256"), 3.4, |f| Cell::text(f.sha256.clone()));
    doc.table(&manifest, &page.files);
    doc.heading(2, c.t("ui.thresholds"));
    let thresholds = Table::new(size::TABLE)
        .column(c.t("ui.name"), share::LONG, |t: &ThresholdRow| {
            Cell::text(t.label)
        })
        .column(c.t("ui.rules_key"), share::TEXT, |t| Cell::text(t.key))
        .number(c.t("ui.value"), share::SHORT, |t| {
            Cell::text(t.value.to_string())
        });
    doc.table(&thresholds, &page.thresholds);
    doc.heading(2, c.t("ui.control_logic"));
    let logic = Table::new(size::TABLE_DENSE)
        .column(c.t("ui.control"), 2.4, |l: &LogicRow| {
            Cell::text(format!("{}\n{}", l.title, l.id)).anchored(l.anchor.clone())
        })
        .column(c.t("ui.logic"), share::LONG, |l| {
            Cell::text(l.logic.clone())
        })
        .column(c.t("ui.remediation"), share::TEXT, |l| {
            Cell::text(l.remediation.clone())
        });
    doc.table(&logic, &page.logic);
    let scope = [c.f(
        "signoff.scope_account",
        &[
            ("name", &a.name),
            ("id", &a.id),
            ("uid", &uid),
            ("customer", &customer),
        ],
    )];
    signoff(&mut doc, &page.meta, &scope, embeds);
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        finishing(
            &c.f("pdf.metadata_title", &[("name", &a.name)]),
            &page.meta,
            as_of,
            embeds,
            "pdf_files.findings_account",
        ),
    )
}

/// Where a failing control's links lead inside an account PDF: the anchors of the evidence
/// tables and of the control-logic rows the PDF draws.
struct Places<'p> {
    evidence: std::collections::BTreeSet<&'p str>,
    logic: std::collections::BTreeSet<&'p str>,
}

impl Places<'_> {
    /// `cell` with links to the control's evidence table and its control logic, when `row`
    /// failed and those are in the PDF.
    fn jumps(&self, c: &'static Catalogue, row: &ControlRow, cell: Cell) -> Cell {
        if row.status != Status::Fail {
            return cell;
        }
        let control = c.f("ui.named", &[("name", &row.title), ("id", &row.id)]);
        let mut cell = cell;
        if self.evidence.contains(row.anchor.as_str()) {
            cell = cell.jump(
                c.t("pdf.to_evidence"),
                row.anchor.clone(),
                c.f("pdf.to_evidence_alt", &[("control", &control)]),
            );
        }
        if let Some(logic) = row
            .logic_anchor
            .as_deref()
            .filter(|l| self.logic.contains(l))
        {
            cell = cell.jump(
                c.t("pdf.to_logic"),
                logic,
                c.f("pdf.to_logic_alt", &[("control", &control)]),
            );
        }
        cell
    }
}

/// The most resource rows a control's evidence table shows in the PDF; the rest are counted
/// in a closing line that names where they are (the embedded `findings.csv`, the HTML page).
/// A 300-user account would otherwise fill twenty pages with rows nobody reads on paper.
pub(crate) const ROWS_PER_CONTROL: usize = 25;

/// The rows of a control's evidence table: failing (and not evaluable) first, then passing,
/// each group in the view's order, at most [`ROWS_PER_CONTROL`]; and how many rows were left
/// out, with how many of those are failing.
fn capped_rows(resources: &[ResourceRow]) -> (Vec<&ResourceRow>, usize, usize) {
    let (not_passing, passing): (Vec<&ResourceRow>, Vec<&ResourceRow>) =
        resources.iter().partition(|r| r.status != Status::Pass);
    let shown: Vec<&ResourceRow> = not_passing
        .iter()
        .chain(&passing)
        .take(ROWS_PER_CONTROL)
        .copied()
        .collect();
    let more = resources.len() - shown.len();
    let more_failing = not_passing
        .iter()
        .skip(ROWS_PER_CONTROL)
        .filter(|r| r.status == Status::Fail)
        .count();
    (shown, more, more_failing)
}

/// The file every row of `resources` comes from, when they all name the same one.
fn common_file(resources: &[ResourceRow]) -> Option<&str> {
    let first = resources.first()?.file.as_str();
    (!first.is_empty() && resources.iter().all(|r| r.file == first)).then_some(first)
}

/// One control's evidence table: its heading, the file all its rows come from (then each row
/// names only its place in it), at most [`ROWS_PER_CONTROL`] rows, and a closing line counting
/// the rows left out.
fn evidence_table(doc: &mut Doc, c: &'static Catalogue, control: &ControlRow) {
    let name = c.f("ui.named", &[("name", &control.title), ("id", &control.id)]);
    // Findings link here ([`jumps`]).
    doc.anchor(control.anchor.clone());
    doc.heading(3, &name);
    let passed = control
        .resources
        .iter()
        .filter(|r| r.status == Status::Pass)
        .count();
    let file = common_file(&control.resources);
    if let Some(file) = file {
        doc.paragraph(
            &c.f("rows.source_file", &[("file", &file)]),
            size::SMALL,
            MUTED,
        );
    }
    let (shown, more, more_failing) = capped_rows(&control.resources);
    if !shown.is_empty() {
        let table = Table::new(size::TABLE_DENSE)
            .continued(c.f("pdf.continued", &[("title", &name)]))
            // A place alone ("line 12, mfa_active") is short: its width goes to the resource.
            .column(
                c.t("ui.resource"),
                if file.is_some() {
                    share::LONG
                } else {
                    share::TEXT
                },
                |r: &&ResourceRow| Cell::text(r.id.clone()),
            )
            .column(c.t("ui.result"), share::RESULT, |r| {
                Cell::badge(
                    c.t(&format!("status.{}", r.status.as_str())),
                    theme::status(r.status),
                )
            })
            .column(c.t("ui.detail"), share::TEXT, |r| {
                Cell::text(r.detail.clone())
            })
            .column(
                c.t(if file.is_some() {
                    "rows.place"
                } else {
                    "ui.source"
                }),
                if file.is_some() { 2.0 } else { share::TEXT },
                |r| {
                    Cell::text(if file.is_some() {
                        r.place.clone()
                    } else {
                        r.source.clone()
                    })
                },
            );
        doc.table(&table, &shown);
    }
    if more > 0 {
        doc.paragraph(
            &c.f("rows.more", &[("n", &more), ("m", &more_failing)]),
            size::SMALL,
            INK,
        );
    }
    if passed > 0 {
        doc.paragraph(
            &c.f(
                "account.passed_of",
                &[("passed", &passed), ("n", &control.resources.len())],
            ),
            size::SMALL,
            MUTED,
        );
    }
}

/// A data-quality note with the accounts it concerns: "note - A, B, C".
fn quality_line(c: &Catalogue, q: &QualityNote) -> String {
    let names: Vec<&str> = q.accounts.iter().map(|a| a.name.as_str()).collect();
    format!(
        "{}{}{}{}",
        q.note,
        c.t("quality.accounts_dash"),
        names.join(c.t("quality.separator")),
        c.t("quality.accounts_end")
    )
}

/// Grouped data-quality notes, a line each, or a line saying there are none.
fn quality_notes(doc: &mut Doc, c: &'static Catalogue, notes: &[QualityNote]) {
    if notes.is_empty() {
        doc.paragraph(c.t("ui.sources_agree_all"), size::BODY, INK);
    }
    for q in notes {
        doc.paragraph(&quality_line(c, q), size::NOTE, INK);
    }
}

fn group_body(
    doc: &mut Doc,
    c: &'static Catalogue,
    totals: &crate::view::Totals,
    charts: &crate::view::GroupCharts,
    accounts: &[AccountRow],
    trend: Option<&GroupTrendView>,
    linked: bool,
) {
    doc.heading(1, c.t("ui.summary"));
    doc.figures(&[
        (
            c.t("ui.accounts").into(),
            totals.accounts.to_string(),
            c.f(
                "ui.accounts_sub",
                &[
                    ("complete", &totals.complete),
                    ("partial", &totals.partial),
                    ("failed", &totals.failed),
                ],
            ),
        ),
        (
            c.t("ui.mean_score").into(),
            totals.score_mean.clone(),
            c.f("ui.median", &[("median", &totals.score_median)]),
        ),
        (
            c.t("ui.failed_controls").into(),
            totals.fails.to_string(),
            c.f("ui.of_high_severity", &[("n", &totals.high_fails)]),
        ),
    ]);
    doc.chart(&charts.histogram, HISTOGRAM_W);
    doc.chart(&charts.top_failures, crate::render::layout::CONTENT_W);
    if let Some(t) = trend {
        group_trend(doc, c, t);
    }
    doc.heading(1, c.t("portfolio.accounts_heading"));
    accounts_table(doc, c, accounts, linked);
    doc.heading(1, c.t("ui.heat_heading"));
    doc.paragraph(&charts.heat_note, size::NOTE, MUTED);
    // Each part of the heat map moves to a new page when it does not fit below.
    for page in &charts.heat_pages {
        doc.chart(page, crate::render::layout::CONTENT_W);
    }
}

/// The PDF of one customer.
pub fn customer(
    fonts: &Fonts,
    page: &CustomerPage,
    as_of: Option<DateTime<Utc>>,
    embeds: &Embeds,
) -> Result<Vec<u8>, String> {
    let c = cat(&page.meta);
    let mut doc = start(
        fonts,
        &page.meta,
        format!("{} - {}", page.name, report_title(&page.meta)),
    );
    cover(
        &mut doc,
        &page.meta,
        c.t("pdf.customer_report"),
        &page.name,
        &[
            c.f("pdf.n_accounts", &[("n", &page.totals.accounts)]),
            c.f("pdf.period_line", &[("period", &page.meta.period)]),
            c.f("pdf.mean_line", &[("score", &page.totals.score_mean)]),
        ],
        embeds,
    );
    executive(&mut doc, c, &page.executive);
    doc.contents(c.t("pdf.contents"));
    doc.page_break();
    group_body(
        &mut doc,
        c,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
        false,
    );
    frameworks(&mut doc, c, &page.frameworks, page.totals.accounts);
    vendor_standards(&mut doc, c, page.vendor.as_ref());
    account_summaries(&mut doc, c, &page.summaries);
    // The closing part: method, data quality, accepted risks and sign-off.
    doc.page_break();
    doc.heading(1, c.t("ui.method"));
    doc.paragraph(&format!("{}.", page.meta.score_formula), size::BODY, INK);
    // The PDF a customer is mailed stands alone: its evidence's quality is stated here.
    doc.heading(1, c.t("ui.data_quality"));
    quality_notes(&mut doc, c, &page.data_quality);
    if let Some(r) = &page.register {
        register(&mut doc, c, r);
    }
    let mut scope = vec![c.f(
        "signoff.scope_customer",
        &[("n", &page.accounts.len()), ("customer", &page.name)],
    )];
    scope.extend(
        page.accounts
            .iter()
            .map(|a| c.f("ui.named", &[("name", &a.name), ("id", &a.id)])),
    );
    signoff(&mut doc, &page.meta, &scope, embeds);
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        finishing(
            &c.f("pdf.metadata_title", &[("name", &page.name)]),
            &page.meta,
            as_of,
            embeds,
            "pdf_files.findings_customer",
        ),
    )
}

/// The portfolio PDF.
pub fn portfolio(
    fonts: &Fonts,
    page: &PortfolioPage,
    as_of: Option<DateTime<Utc>>,
    embeds: &Embeds,
) -> Result<Vec<u8>, String> {
    let c = cat(&page.meta);
    let mut doc = start(
        fonts,
        &page.meta,
        c.f(
            "pdf.portfolio_header",
            &[("title", &report_title(&page.meta))],
        ),
    );
    cover(
        &mut doc,
        &page.meta,
        c.t("pdf.portfolio_report"),
        c.t("pdf.alibaba_accounts"),
        &[
            c.f(
                "pdf.accounts_customers",
                &[
                    ("n", &page.totals.accounts),
                    ("customers", &page.customers.len()),
                ],
            ),
            c.f("pdf.period_line", &[("period", &page.meta.period)]),
            c.f("pdf.mean_line", &[("score", &page.totals.score_mean)]),
        ],
        embeds,
    );
    executive(&mut doc, c, &page.executive);
    doc.contents(c.t("pdf.contents"));
    doc.page_break();
    group_body(
        &mut doc,
        c,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
        true,
    );
    if !page.customers.is_empty() {
        doc.heading(1, c.t("ui.customers"));
        let table = Table::new(size::TABLE_LOOSE)
            .column(c.t("ui.customer"), share::LONG, |row: &CustomerRow| {
                Cell::text(row.name.clone())
            })
            .number(c.t("ui.accounts"), share::SHORT, |row| {
                Cell::text(row.accounts.to_string())
            })
            .number(c.t("ui.mean_score"), 1.2, |row| {
                Cell::text(row.score_mean.clone())
            })
            .number(c.t("ui.failed_controls"), 1.4, |row| {
                Cell::text(row.fails.to_string())
            });
        doc.table(&table, &page.customers);
    }
    frameworks(&mut doc, c, &page.frameworks, page.totals.accounts);
    vendor_standards(&mut doc, c, page.vendor.as_ref());
    doc.heading(1, c.t("pdf.data_quality_input"));
    quality_notes(&mut doc, c, &page.data_quality);
    if page.rejected.is_empty() {
        doc.paragraph(c.t("portfolio.no_rejected"), size::BODY, INK);
    } else {
        let table = Table::new(size::TABLE)
            .column(c.t("pdf.rejected_file"), share::TEXT, |f: &FileRow| {
                Cell::text(f.path.clone())
            })
            .column(c.t("ui.error"), share::LONG, |f| {
                Cell::text(f.reason.clone())
            });
        doc.table(&table, &page.rejected);
    }
    if let Some(r) = &page.register {
        register(&mut doc, c, r);
    }
    doc.heading(1, c.t("ui.method"));
    doc.paragraph(&format!("{}.", page.meta.score_formula), size::BODY, INK);
    let scope = [c.f(
        "signoff.scope_portfolio",
        &[
            ("n", &page.totals.accounts),
            ("customers", &page.customers.len()),
        ],
    )];
    signoff(&mut doc, &page.meta, &scope, embeds);
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        finishing(
            c.t("pdf.portfolio_title"),
            &page.meta,
            as_of,
            embeds,
            "pdf_files.findings_all",
        ),
    )
}

/// The "By framework" section: per framework its name, version, coverage beside its results,
/// the judgement statement, its chart and the requirement table (continued across pages).
/// Nothing without a framework selected.
fn frameworks(doc: &mut Doc, c: &'static Catalogue, views: &[FrameworkView], accounts: usize) {
    let Some(first) = views.first() else {
        return;
    };
    doc.heading(1, c.t("crosswalk.heading"));
    let lead = if first.per_account {
        c.f("crosswalk.lead_group", &[("n", &accounts)])
    } else {
        c.t("crosswalk.lead").to_string()
    };
    doc.paragraph(&lead, size::BODY, MUTED);
    for f in views {
        doc.heading(2, &f.name);
        doc.paragraph(
            &c.f("crosswalk.version", &[("version", &f.version)]),
            size::BODY,
            INK,
        );
        doc.paragraph(&f.coverage, size::BODY, INK);
        doc.paragraph(&f.results, size::BODY, INK);
        doc.paragraph(&f.judgement, size::NOTE, MUTED);
        doc.chart(&f.chart, FRAMEWORK_CHART_W);
        let last = if f.per_account {
            c.t("crosswalk.accounts")
        } else {
            c.t("crosswalk.controls")
        };
        let per_account = f.per_account;
        let table = Table::new(size::TABLE)
            .column(
                c.t("crosswalk.requirement"),
                share::SHORT * 1.7,
                |r: &RequirementRow| Cell::bold(r.id.clone()),
            )
            .column(c.t("crosswalk.group"), share::SHORT * 1.6, |r| {
                Cell::text(r.group.clone())
            })
            .column(c.t("crosswalk.title"), share::LONG, |r| {
                Cell::text(r.title.clone())
            })
            // Wide enough for "Not covered by this evidence" on two lines.
            .column(c.t("ui.result"), share::RESULT * 1.8, |r| {
                Cell::badge(r.status_label.clone(), theme::status(r.tone))
            })
            .column(last, share::TEXT, move |r| {
                if per_account {
                    Cell::text(r.accounts.clone())
                } else if r.controls.is_empty() {
                    Cell::text(c.t("crosswalk.no_controls"))
                } else {
                    let colon = c.t("exec.colon");
                    let lines: Vec<String> = r
                        .controls
                        .iter()
                        .map(|ctl| format!("{}{colon}{}", ctl.label, ctl.status_label))
                        .collect();
                    Cell::text(lines.join("\n"))
                }
            })
            .continued(c.f("pdf.continued", &[("title", &f.name)]));
        doc.table(&table, &f.requirements);
    }
}

/// The "Security Center standards" section: the lead, the evidence date and source, then per
/// standard its result and counts and the requirement table (continued across pages). Nothing
/// without such evidence.
fn vendor_standards(doc: &mut Doc, c: &'static Catalogue, view: Option<&VendorView>) {
    let Some(v) = view else {
        return;
    };
    // The heading, its lead and the first standard's opening stay together.
    doc.keep(240.0);
    doc.heading(1, c.t("vendor_std.heading"));
    doc.paragraph(&v.lead, size::NOTE, MUTED);
    doc.paragraph(&v.checked, size::BODY, INK);
    doc.paragraph(&v.source, size::NOTE, MUTED);
    for s in &v.standards {
        // A standard's heading and summary start a page with their table's first rows.
        doc.keep(130.0);
        doc.heading(2, &s.name);
        let line = crate::vendor::sentences(
            c,
            &[
                c.f("vendor_std.result", &[("result", &s.status_label)]),
                s.results.clone(),
            ],
        );
        doc.paragraph(&line, size::BODY, INK);
        let mut table = Table::new(size::TABLE)
            .column(
                c.t("vendor_std.id"),
                share::SHORT,
                |r: &VendorRequirementRow| Cell::bold(r.id.clone()),
            )
            .column(c.t("vendor_std.requirement"), share::LONG, move |r| {
                if r.sections.is_empty() {
                    Cell::text(r.name.clone())
                } else {
                    Cell::text(format!(
                        "{}\n{}",
                        r.name,
                        c.f("vendor_std.sections", &[("sections", &r.sections)])
                    ))
                }
            })
            .column(c.t("ui.result"), share::RESULT * 1.3, |r| {
                Cell::badge(r.status_label.clone(), theme::status(r.tone))
            });
        if v.per_account {
            table = table.column(c.t("vendor_std.accounts"), share::TEXT, |r| {
                Cell::text(r.counts.clone())
            });
        } else {
            table = table
                .column(c.t("vendor_std.checks"), share::TEXT * 0.8, |r| {
                    if r.check_ids.is_empty() {
                        Cell::text(r.counts.clone())
                    } else {
                        Cell::text(format!("{}\n{}", r.counts, r.check_ids))
                    }
                })
                .column(c.t("vendor_std.last_checked"), share::SHORT * 2.1, |r| {
                    Cell::text(r.checked.clone())
                });
        }
        let table = table.continued(c.f("vendor_std.continued", &[("name", &s.name)]));
        doc.table(&table, &s.requirements);
    }
}

/// "What changed" of an account.
fn account_trend(doc: &mut Doc, c: &'static Catalogue, t: &AccountTrendView) {
    let period = &t.baseline_period;
    doc.heading(1, &c.f("trend.heading", &[("period", period)]));
    if t.new_account {
        doc.paragraph(
            &c.f("trend.new_account", &[("period", period)]),
            size::LEAD,
            INK,
        );
    } else {
        doc.figures(&[
            (
                c.t("trend.score_change").into(),
                t.change.clone(),
                c.f(
                    "trend.from_then",
                    &[("score", &t.previous_score), ("period", period)],
                ),
            ),
            (
                c.t("trend.new_failures").into(),
                t.counts.new_failures.to_string(),
                String::new(),
            ),
            (
                c.t("trend.resolved").into(),
                t.counts.resolved.to_string(),
                String::new(),
            ),
            (
                c.t("trend.persisting").into(),
                t.counts.persisting.to_string(),
                c.f(
                    "trend.persisting_sub",
                    &[
                        ("excepted", &t.counts.excepted),
                        ("not_reassessed", &t.counts.not_reassessed),
                    ],
                ),
            ),
        ]);
    }
    doc.chart_row(&[&t.charts.score, &t.charts.severity]);
    let groups: [(&str, &[ChangeRow], bool); 5] = [
        (c.t("trend.new_failures"), &t.new_failures, false),
        (c.t("trend.persisting_failures"), &t.persisting, true),
        (c.t("trend.resolved"), &t.resolved, false),
        (c.t("trend.covered"), &t.excepted, true),
        (
            c.t("trend.not_reassessed_failures"),
            &t.not_reassessed,
            false,
        ),
    ];
    for (title, rows, aged) in groups {
        if rows.is_empty() {
            continue;
        }
        doc.heading(2, title);
        let mut table = Table::new(size::TABLE)
            .column(c.t("ui.control"), share::CONTROL, |r: &ChangeRow| {
                Cell::text(format!("{}\n{}", r.title, r.control))
            })
            .column(c.t("ui.severity"), share::SEVERITY, |r| {
                Cell::badge(severity_name(c, r.severity), theme::severity(r.severity))
            })
            .column(c.t("ui.resource"), share::CONTROL, |r| {
                Cell::text(r.resource.clone())
            });
        if aged {
            table = table
                .column(c.t("trend.failing_since"), share::RESULT, |r| {
                    Cell::text(r.since.clone())
                })
                .number(c.t("trend.periods"), 0.9, |r| {
                    Cell::text(r.periods.to_string())
                });
        }
        doc.table(&table, rows);
    }
    if !t.changed_controls.is_empty() {
        doc.heading(2, c.t("trend.changed_controls"));
        for (title, id, from, to) in &t.changed_controls {
            let named = c.f("ui.named", &[("name", title), ("id", id)]);
            let colon = c.t("exec.colon");
            doc.paragraph(&format!("{named}{colon}{from} -> {to}"), size::NOTE, INK);
        }
    }
}

/// "What changed" of a customer or the portfolio.
fn group_trend(doc: &mut Doc, c: &'static Catalogue, t: &GroupTrendView) {
    let period = &t.baseline_period;
    doc.heading(1, &c.f("trend.heading", &[("period", period)]));
    doc.figures(&[
        (
            c.t("trend.mean_change").into(),
            t.change.clone(),
            c.f("trend.since", &[("period", period)]),
        ),
        (
            c.t("ui.accounts").into(),
            format!("{} / {} / {}", t.improved, t.worsened, t.unchanged),
            c.t("trend.better_worse_same").into(),
        ),
        (
            c.t("trend.failures").into(),
            c.f("trend.n_new", &[("n", &t.counts.new_failures)]),
            c.f(
                "trend.resolved_persisting",
                &[
                    ("resolved", &t.counts.resolved),
                    ("persisting", &t.counts.persisting),
                ],
            ),
        ),
        (
            c.t("trend.in_and_out").into(),
            c.f("trend.n_new", &[("n", &t.new_accounts.len())]),
            c.f("trend.not_reassessed_n", &[("n", &t.missing.len())]),
        ),
    ]);
    doc.chart_row(&[&t.charts.score, &t.charts.severity]);
    doc.paragraph(c.t("trend.pdf_charts_note"), size::NOTE, MUTED);
    if !t.movers.is_empty() {
        doc.heading(2, c.t("trend.movers_caption").trim_end_matches(['.', '。']));
        let table = Table::new(size::TABLE_LOOSE)
            .column(c.t("ui.account"), share::LONG, |m: &MoverRow| {
                Cell::text(m.name.clone())
            })
            .number(period, 1.2, |m| Cell::text(m.previous.clone()))
            .number(c.t("trend.now"), share::SHORT, |m| {
                Cell::text(m.score.clone())
            })
            .number(c.t("trend.change"), share::SHORT, |m| {
                Cell::text(m.change.clone())
            });
        doc.table(&table, &t.movers);
    }
    if !t.new_accounts.is_empty() {
        doc.heading(2, &c.f("trend.new_since", &[("period", period)]));
        for m in &t.new_accounts {
            let score = c.f("trend.score_n", &[("score", &m.score)]);
            let named = c.f("ui.named", &[("name", &m.name), ("id", &m.id)]);
            let colon = c.t("exec.colon");
            doc.paragraph(&format!("{named}{colon}{score}"), size::NOTE, INK);
        }
    }
    if !t.missing.is_empty() {
        doc.heading(2, c.t("trend.missing_heading"));
        doc.paragraph(c.t("trend.missing_note"), size::NOTE, MUTED);
        for m in &t.missing {
            let last = c.f(
                "trend.last_assessed",
                &[("period", &m.last_period), ("score", &m.previous)],
            );
            let named = c.f("ui.named", &[("name", &m.name), ("id", &m.id)]);
            let colon = c.t("exec.colon");
            doc.paragraph(&format!("{named}{colon}{last}"), size::NOTE, INK);
        }
    }
}

/// The accepted-risk register.
fn register(doc: &mut Doc, c: &'static Catalogue, r: &RegisterView) {
    doc.heading(1, c.t("register.heading"));
    let file = r
        .file
        .as_ref()
        .map(|f| format!("{} ", c.f("register.file", &[("file", f)])))
        .unwrap_or_default();
    doc.paragraph(
        &format!("{file}{}", c.t("register.intro")),
        size::NOTE,
        MUTED,
    );
    let groups: [(&str, &[RegisterRow]); 3] = [
        (c.t("register.active"), &r.active),
        (c.t("register.expired"), &r.expired),
        (c.t("register.stale"), &r.stale),
    ];
    for (title, rows) in groups {
        if rows.is_empty() {
            continue;
        }
        doc.heading(2, title);
        let table = Table::new(size::TABLE_DENSE)
            .number(c.t("register.number"), 0.5, |e: &RegisterRow| {
                Cell::text(e.number.to_string())
            })
            .column(c.t("register.target"), 2.6, |e| {
                Cell::text(format!(
                    "{}\n{}{}",
                    e.account,
                    c.f("ui.named", &[("name", &e.title), ("id", &e.control)]),
                    if e.resource == "-" {
                        String::new()
                    } else {
                        format!("\n{}", e.resource)
                    }
                ))
            })
            .column(c.t("register.approval"), share::TEXT, |e| {
                Cell::text(format!(
                    "{}\n{}\n{}",
                    e.reason,
                    c.f("register.owner_line", &[("owner", &e.owner)]),
                    c.f("register.approved_line", &[("name", &e.approved_by)])
                ))
            })
            .column(c.t("register.expires"), 1.1, |e| {
                Cell::text(e.expires.clone())
            })
            .column(c.t("register.covers"), 2.8, |e| {
                Cell::text(if e.covers.is_empty() {
                    "-".into()
                } else {
                    e.covers.join("\n")
                })
            });
        doc.table(&table, rows);
    }
    if !r.vendor.is_empty() {
        doc.heading(2, c.t("register.vendor_heading"));
        let table = Table::new(size::TABLE)
            .column(c.t("ui.account"), 2.0, |v: &VendorRow| {
                Cell::text(v.account.clone())
            })
            .column(c.t("register.item"), share::LONG, |v| {
                Cell::text(format!("{}\n{}", v.title, v.control))
            })
            .column(c.t("register.state"), 1.4, |v| Cell::text(v.state));
        doc.table(&table, &r.vendor);
    }
}

/// "compliance report", or the brand's title.
fn report_title(meta: &Meta) -> String {
    meta.brand
        .title
        .clone()
        .unwrap_or_else(|| cat(meta).t("pdf.report_title").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aliaudit_core::i18n::Lang;

    #[test]
    fn evidence_and_file_states_take_the_colour_of_their_result_state() {
        assert_eq!(
            evidence_colour(AccountStatus::Partial),
            theme::status(Status::NotEvaluable)
        );
        assert_eq!(
            file_colour(FileStatus::Ignored),
            theme::status(Status::NotApplicable)
        );
        assert_eq!(
            file_colour(FileStatus::Rejected),
            theme::status(Status::Fail)
        );
    }

    fn row(id: &str, status: Status, file: &str) -> ResourceRow {
        ResourceRow {
            id: id.into(),
            status,
            detail: String::new(),
            source: format!("{file} (line 1, f)"),
            file: file.into(),
            place: "line 1, f".into(),
        }
    }

    #[test]
    fn a_control_shows_failing_rows_first_then_passing_up_to_the_cap_and_counts_the_rest() {
        // 30 failing and 10 passing, interleaved: the 25 shown are all failing, and the 15 left
        // out are 5 failing and 10 passing.
        let rows: Vec<ResourceRow> = (0..40)
            .map(|i| {
                let status = if i % 4 == 3 {
                    Status::Pass
                } else {
                    Status::Fail
                };
                row(&format!("u{i}"), status, "a.csv")
            })
            .collect();
        let (shown, more, more_failing) = capped_rows(&rows);
        assert_eq!(shown.len(), ROWS_PER_CONTROL);
        assert!(shown.iter().all(|r| r.status == Status::Fail));
        assert_eq!((more, more_failing), (15, 5));
        // Few failing: they come first, passing rows fill up to the cap, none failing is left.
        let rows: Vec<ResourceRow> = (0..30)
            .map(|i| {
                let status = if i >= 28 { Status::Fail } else { Status::Pass };
                row(&format!("u{i}"), status, "a.csv")
            })
            .collect();
        let (shown, more, more_failing) = capped_rows(&rows);
        let ids: Vec<&str> = shown.iter().take(3).map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["u28", "u29", "u0"]);
        assert_eq!((shown.len(), more, more_failing), (25, 5, 0));
        let (shown, more, _) = capped_rows(&rows[..3]);
        assert_eq!((shown.len(), more), (3, 0));
    }

    #[test]
    fn the_file_goes_to_the_caption_only_when_every_row_shares_it() {
        let same = [
            row("a", Status::Fail, "x.csv"),
            row("b", Status::Pass, "x.csv"),
        ];
        assert_eq!(common_file(&same), Some("x.csv"));
        let mixed = [
            row("a", Status::Fail, "x.csv"),
            row("b", Status::Pass, "y.json"),
        ];
        assert_eq!(common_file(&mixed), None);
        assert_eq!(common_file(&[row("a", Status::Fail, "")]), None);
        assert_eq!(common_file(&[]), None);
    }

    #[test]
    fn a_grouped_data_quality_note_names_its_accounts_after_it() {
        let q = QualityNote {
            note: "Evidence missing or unreadable: RAM users".into(),
            accounts: ["Northwind prod", "Eastwind main", "Eastwind new"]
                .iter()
                .map(|n| crate::view::QualityAccount {
                    name: n.to_string(),
                    href: String::new(),
                })
                .collect(),
        };
        assert_eq!(
            quality_line(Catalogue::get(Lang::En), &q),
            "Evidence missing or unreadable: RAM users - Northwind prod, Eastwind main, Eastwind new"
        );
        assert_eq!(
            quality_line(Catalogue::get(Lang::Zh), &q),
            "Evidence missing or unreadable: RAM users（Northwind prod、Eastwind main、Eastwind new）"
        );
    }

    #[test]
    fn the_closing_line_counts_rows_in_words_in_both_languages() {
        let en = Catalogue::get(Lang::En);
        assert_eq!(
            en.f("rows.more", &[("n", &1), ("m", &0)]),
            "1 more row (0 failing) is in the attached findings.csv and in the HTML report."
        );
        assert_eq!(
            en.f("rows.more", &[("n", &152), ("m", &29)]),
            "152 more rows (29 failing) are in the attached findings.csv and in the HTML report."
        );
        assert_eq!(
            Catalogue::get(Lang::Zh).f("rows.more", &[("n", &152), ("m", &29)]),
            "另有 152 行（其中 29 行未通过）见附件 findings.csv 和 HTML 报告。"
        );
    }
}
