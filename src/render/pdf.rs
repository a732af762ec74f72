//! Render stage, PDF: the same page views as the HTML, typeset on A4 with the layout engine.
//!
//! Account, customer and portfolio reports. The creation date is the as-of instant, so the
//! same evidence gives the same bytes. Returns bytes; writes no file.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::layout::{Cell, Column, Doc, Fonts};
use crate::i18n::Catalogue;
use crate::theme::{self, Colour, INK, MUTED};
use crate::view::{
    AccountPage, AccountRow, AccountTrendView, ChangeRow, CustomerPage, GroupTrendView, Meta,
    PortfolioPage, RegisterRow, RegisterView,
};

/// The domain state behind a state name of a page view. The views carry the names the
/// domain enums serialise to (`pass`, `partial`, `rejected`, `high`...), so they are read
/// back with the enums' own deserialisers: no name is matched here.
fn state<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    use serde::de::IntoDeserializer;
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(name)).ok()
}

/// The palette colour of a view's state name, `tone` mapping its domain state to a result
/// state; an unknown name (none is expected) takes the neutral not-applicable colour.
fn tone<T: serde::de::DeserializeOwned>(name: &str, tone: fn(T) -> crate::rules::Status) -> Colour {
    theme::status(
        state(name)
            .map(tone)
            .unwrap_or(crate::rules::Status::NotApplicable),
    )
}

/// The colour of a result state (`pass`...).
fn status_colour(name: &str) -> Colour {
    tone(name, |s| s)
}

/// The colour of an account's evidence completeness (`complete`...).
fn evidence_colour(name: &str) -> Colour {
    tone(name, theme::evidence_tone)
}

/// The colour of an input file's state (`used`...).
fn file_colour(name: &str) -> Colour {
    tone(name, theme::file_tone)
}

/// The colour of a severity (`high`...); an unknown name takes the low colour.
fn severity_colour(name: &str) -> Colour {
    theme::severity(state(name).unwrap_or(crate::model::Severity::Low))
}

/// A severity (`high`, `medium`, `low`) in the report language.
fn severity_name(c: &'static Catalogue, severity: &str) -> &'static str {
    c.t(&format!("severity.{severity}"))
}

fn metadata(title: &str, meta: &Meta, as_of: Option<DateTime<Utc>>) -> krilla::metadata::Metadata {
    let period = &meta.period;
    let mut m = krilla::metadata::Metadata::new()
        .title(title.to_string())
        .description(cat(meta).f("pdf.description", &[("period", period)]))
        .authors(vec![
            meta.brand
                .company
                .clone()
                .unwrap_or_else(|| "aliaudit".to_string()),
        ])
        .creator(format!("aliaudit {}", crate::summary::TOOL_VERSION))
        .language(meta.lang.to_string());
    if let Some(t) = as_of {
        m = m.creation_date(
            krilla::metadata::DateTime::new(t.year() as u16)
                .month(t.month() as u8)
                .day(t.day() as u8)
                .hour(t.hour() as u8)
                .minute(t.minute() as u8)
                .second(t.second() as u8)
                .utc_offset_hour(0)
                .utc_offset_minute(0),
        );
    }
    m
}

fn col(title: &str, share: f32, right: bool) -> Column<'_> {
    Column {
        title,
        share,
        right,
    }
}

/// The messages of a page's language.
fn cat(meta: &Meta) -> &'static Catalogue {
    Catalogue::get(meta.language)
}

/// "Page X of Y" in the page's language.
fn page_label(c: &'static Catalogue) -> impl Fn(usize, usize) -> String {
    move |page, pages| c.f("pdf.page_of", &[("page", &page), ("pages", &pages)])
}

fn accounts_table(doc: &mut Doc, c: &Catalogue, rows: &[AccountRow]) {
    let columns = [
        Column {
            title: c.t("ui.account"),
            share: 3.2,
            right: false,
        },
        Column {
            title: c.t("ui.customer"),
            share: 1.8,
            right: false,
        },
        Column {
            title: c.t("ui.evidence"),
            share: 1.2,
            right: false,
        },
        Column {
            title: c.t("ui.score"),
            share: 0.8,
            right: true,
        },
        Column {
            title: c.t("ui.vendor"),
            share: 1.0,
            right: true,
        },
        Column {
            title: c.t("ui.failed"),
            share: 0.8,
            right: true,
        },
        Column {
            title: c.t("ui.high"),
            share: 0.7,
            right: true,
        },
    ];
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|a| {
            vec![
                // The HTML rows link relative to their page; the PDFs sit beside the HTML.
                Cell::text(format!("{}\n{}", a.name, a.id)).linked(a.href.replace(".html", ".pdf")),
                Cell::text(a.customer.clone().unwrap_or_else(|| "-".into())),
                Cell::badge(
                    c.t(&format!("evidence_status.{}", a.status)),
                    evidence_colour(a.status),
                ),
                Cell::bold(a.score.clone()),
                Cell::text(a.vendor_score.clone()),
                Cell::text(a.counts.fail.to_string()),
                Cell::text(a.high_fails.to_string()),
            ]
        })
        .collect();
    doc.table(&columns, &cells, 8.0);
}

/// A document with the page's branding: accent colour and header.
fn start<'f>(fonts: &'f Fonts, meta: &Meta, header: String) -> Doc<'f> {
    let mut doc = Doc::new(fonts, header);
    let rgb = |text: &str| crate::branding::parse_colour(text).map(|(r, g, b)| Colour { r, g, b });
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

fn cover(doc: &mut Doc, meta: &Meta, kind: &str, title: &str, lines: &[String]) {
    let b = &meta.brand;
    let c = cat(meta);
    doc.cover();
    if let Some(svg) = &b.logo_svg {
        doc.logo(svg, 180.0, 60.0);
    }
    if let Some(company) = &b.company {
        doc.title(company, 12.0, true, INK);
        doc.space(4.0);
    }
    doc.title(b.title.as_deref().unwrap_or(kind), 11.0, true, MUTED);
    doc.space(8.0);
    doc.title(title, 26.0, true, INK);
    doc.space(14.0);
    for line in lines {
        doc.title(line, 11.0, false, INK);
    }
    doc.space(20.0);
    doc.title(
        &c.f("pdf.as_of_line", &[("as_of", &meta.as_of_text)]),
        10.0,
        false,
        MUTED,
    );
    if let Some(p) = &b.prepared_by {
        doc.title(&c.f("pdf.prepared_by", &[("name", p)]), 10.0, false, MUTED);
    }
    if let Some(contact) = &b.contact {
        doc.title(
            &c.f("pdf.contact", &[("contact", contact)]),
            10.0,
            false,
            MUTED,
        );
    }
    doc.title(c.t("pdf.no_live_api"), 9.0, false, MUTED);
    if let Some(d) = &b.disclaimer {
        doc.space(16.0);
        doc.paragraph(d, 8.5, MUTED);
    }
}

/// The PDF of one account.
pub fn account(
    fonts: &Fonts,
    page: &AccountPage,
    as_of: Option<DateTime<Utc>>,
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
            &[("status", &c.t(&format!("evidence_status.{}", a.status)))],
        ),
    ];
    cover_lines.retain(|l| !l.is_empty());
    cover(
        &mut doc,
        &page.meta,
        c.t("pdf.compliance_report"),
        &a.name,
        &cover_lines,
    );

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
    doc.chart_row(&[page.charts.donut.svg(), page.charts.severity.svg()]);
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
        doc.paragraph(c.t("account.none_failed"), 9.5, INK);
    } else {
        let rows: Vec<Vec<Cell>> = page
            .top_failing
            .iter()
            .map(|f| {
                vec![
                    Cell::badge(severity_name(c, f.severity), severity_colour(f.severity)),
                    Cell::bold(f.title.clone()),
                    Cell::text(f.detail.clone()),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("ui.severity"), 1.0, false),
                col(c.t("ui.control"), 3.0, false),
                col(c.t("ui.finding"), 3.5, false),
            ],
            &rows,
            8.5,
        );
    }
    if !page.data_quality.is_empty() || !page.gaps.is_empty() {
        doc.heading(2, c.t("account.data_quality_warnings"));
        for note in page.gaps.iter().chain(&page.data_quality) {
            doc.paragraph(&format!("- {note}"), 9.0, INK);
        }
    }

    if let Some(t) = &page.trend {
        doc.page_break();
        account_trend(&mut doc, c, t);
    }

    doc.page_break();
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
            9.0,
            MUTED,
        );
        let rows: Vec<Vec<Cell>> = section
            .controls
            .iter()
            .map(|row| {
                let mut finding = row.detail.clone();
                if let Some(comp) = &row.compensating {
                    finding.push('\n');
                    finding.push_str(comp);
                }
                if let Some(d) = &row.duplicates {
                    finding.push('\n');
                    finding.push_str(&c.f("account.same_check", &[("id", d)]));
                }
                vec![
                    Cell::text(format!("{}\n{}", row.title, row.id)),
                    Cell::text(if row.cis.is_empty() {
                        "-".into()
                    } else {
                        row.cis.clone()
                    }),
                    Cell::badge(
                        severity_name(c, row.severity),
                        severity_colour(row.severity),
                    ),
                    Cell::badge(row.status_label, status_colour(row.status)),
                    Cell::text(finding),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("ui.control"), 3.2, false),
                col(c.t("ui.framework"), 1.2, false),
                col(c.t("ui.severity"), 1.0, false),
                col(c.t("ui.result"), 1.3, false),
                col(c.t("ui.finding"), 3.3, false),
            ],
            &rows,
            8.0,
        );
    }

    let detailed: Vec<_> = page
        .sections
        .iter()
        .flat_map(|s| &s.controls)
        .filter(|c| c.failing > 0 || c.resources.len() > 1)
        .collect();
    if !detailed.is_empty() {
        doc.page_break();
        doc.heading(1, c.t("account.evidence_by_control"));
        doc.paragraph(c.t("account.evidence_by_control_note"), 9.0, MUTED);
        for control in detailed {
            doc.heading(3, &format!("{} ({})", control.title, control.id));
            let passed = control
                .resources
                .iter()
                .filter(|r| r.status == "pass")
                .count();
            let rows: Vec<Vec<Cell>> = control
                .resources
                .iter()
                .filter(|r| r.status != "pass")
                .map(|r| {
                    vec![
                        Cell::text(r.id.clone()),
                        Cell::badge(
                            c.t(&format!("status.{}", r.status)),
                            status_colour(r.status),
                        ),
                        Cell::text(r.detail.clone()),
                        Cell::text(r.source.clone()),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                doc.table(
                    &[
                        col(c.t("ui.resource"), 3.0, false),
                        col(c.t("ui.result"), 1.3, false),
                        col(c.t("ui.detail"), 3.0, false),
                        col(c.t("ui.source"), 3.0, false),
                    ],
                    &rows,
                    7.5,
                );
            }
            if passed > 0 {
                doc.paragraph(
                    &c.f(
                        "account.passed_of",
                        &[("passed", &passed), ("n", &control.resources.len())],
                    ),
                    8.0,
                    MUTED,
                );
            }
        }
    }

    doc.page_break();
    doc.heading(1, c.t("ui.evidence"));
    for (kind, state) in &page.evidence {
        doc.paragraph(&format!("{kind}: {state}"), 8.5, INK);
    }
    let not_used: Vec<Vec<Cell>> = page
        .files
        .iter()
        .filter(|f| f.status != "used")
        .map(|f| {
            vec![
                Cell::text(f.path.clone()),
                Cell::badge(
                    c.t(&format!("file_status.{}", f.status)),
                    file_colour(f.status),
                ),
                Cell::text(f.reason.clone()),
            ]
        })
        .collect();
    if !not_used.is_empty() {
        doc.heading(2, c.t("account.rejected_ignored"));
        doc.table(
            &[
                col(c.t("ui.file"), 3.0, false),
                col(c.t("ui.status"), 1.1, false),
                col(c.t("ui.reason"), 4.0, false),
            ],
            &not_used,
            8.0,
        );
    }
    if !page.diagnostics.is_empty() {
        doc.heading(2, c.t("ui.diagnostics"));
        for d in &page.diagnostics {
            let level = c.t(&format!("level.{}", d.level));
            doc.paragraph(&format!("{level}: {}: {}", d.path, d.message), 8.5, INK);
        }
    }

    if let Some(r) = &page.register {
        doc.page_break();
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
        9.0,
        INK,
    );
    doc.paragraph(&format!("{}.", page.meta.score_formula), 9.0, INK);
    doc.heading(2, c.t("account.evidence_manifest"));
    let manifest: Vec<Vec<Cell>> = page
        .files
        .iter()
        .map(|f| {
            vec![
                Cell::text(f.path.clone()),
                Cell::text(f.kind),
                Cell::text(c.t(&format!("file_status.{}", f.status))),
                Cell::text(f.size.to_string()),
                Cell::text(f.sha256.clone()),
            ]
        })
        .collect();
    doc.table(
        &[
            col(c.t("ui.file"), 3.2, false),
            col(c.t("ui.kind"), 1.6, false),
            col(c.t("ui.status"), 0.9, false),
            col(c.t("ui.bytes"), 0.8, true),
            col(c.t("ui.sha256"), 3.4, false),
        ],
        &manifest,
        7.0,
    );
    doc.heading(2, c.t("ui.thresholds"));
    let thresholds: Vec<Vec<Cell>> = page
        .thresholds
        .iter()
        .map(|(k, v)| vec![Cell::text(*k), Cell::text(v.to_string())])
        .collect();
    doc.table(
        &[
            col(c.t("ui.name"), 3.0, false),
            col(c.t("ui.value"), 1.0, true),
        ],
        &thresholds,
        8.0,
    );
    doc.heading(2, c.t("ui.control_logic"));
    let logic: Vec<Vec<Cell>> = page
        .logic
        .iter()
        .map(|l| {
            vec![
                Cell::text(format!("{}\n{}", l.title, l.id)),
                Cell::text(l.logic.clone()),
                Cell::text(l.remediation.clone()),
            ]
        })
        .collect();
    doc.table(
        &[
            col(c.t("ui.control"), 2.4, false),
            col(c.t("ui.logic"), 4.0, false),
            col(c.t("ui.remediation"), 3.0, false),
        ],
        &logic,
        7.5,
    );
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        metadata(
            &c.f("pdf.metadata_title", &[("name", &a.name)]),
            &page.meta,
            as_of,
        ),
    )
}

fn group_body(
    doc: &mut Doc,
    c: &'static Catalogue,
    totals: &crate::view::Totals,
    charts: &crate::view::GroupCharts,
    accounts: &[AccountRow],
    trend: Option<&GroupTrendView>,
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
    doc.chart(charts.histogram.svg(), 330.0);
    doc.chart(charts.top_failures.svg(), crate::render::layout::CONTENT_W);
    if let Some(t) = trend {
        doc.page_break();
        group_trend(doc, c, t);
    }
    doc.page_break();
    doc.heading(1, c.t("portfolio.accounts_heading"));
    accounts_table(doc, c, accounts);
    doc.page_break();
    doc.heading(1, c.t("ui.heat_heading"));
    doc.chart(charts.heat_map.svg(), crate::render::layout::CONTENT_W);
    doc.paragraph(&charts.heat_note, 8.5, MUTED);
}

/// The PDF of one customer.
pub fn customer(
    fonts: &Fonts,
    page: &CustomerPage,
    as_of: Option<DateTime<Utc>>,
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
    );
    doc.page_break();
    group_body(
        &mut doc,
        c,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
    );
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        metadata(
            &c.f("pdf.metadata_title", &[("name", &page.name)]),
            &page.meta,
            as_of,
        ),
    )
}

/// The portfolio PDF.
pub fn portfolio(
    fonts: &Fonts,
    page: &PortfolioPage,
    as_of: Option<DateTime<Utc>>,
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
    );
    doc.page_break();
    group_body(
        &mut doc,
        c,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
    );
    if !page.customers.is_empty() {
        doc.heading(1, c.t("ui.customers"));
        let rows: Vec<Vec<Cell>> = page
            .customers
            .iter()
            .map(|row| {
                vec![
                    Cell::text(row.name.clone()),
                    Cell::text(row.accounts.to_string()),
                    Cell::text(row.score_mean.clone()),
                    Cell::text(row.fails.to_string()),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("ui.customer"), 4.0, false),
                col(c.t("ui.accounts"), 1.0, true),
                col(c.t("ui.mean_score"), 1.2, true),
                col(c.t("ui.failed_controls"), 1.4, true),
            ],
            &rows,
            8.5,
        );
    }
    doc.heading(1, c.t("pdf.data_quality_input"));
    if page.data_quality.is_empty() {
        doc.paragraph(c.t("ui.sources_agree_all"), 9.0, INK);
    }
    for q in &page.data_quality {
        for n in &q.notes {
            doc.paragraph(&format!("{}: {n}", q.name), 8.5, INK);
        }
    }
    if page.rejected.is_empty() {
        doc.paragraph(c.t("portfolio.no_rejected"), 9.0, INK);
    } else {
        let rows: Vec<Vec<Cell>> = page
            .rejected
            .iter()
            .map(|f| vec![Cell::text(f.path.clone()), Cell::text(f.reason.clone())])
            .collect();
        doc.table(
            &[
                col(c.t("pdf.rejected_file"), 3.0, false),
                col(c.t("ui.error"), 4.0, false),
            ],
            &rows,
            8.0,
        );
    }
    if let Some(r) = &page.register {
        register(&mut doc, c, r);
    }
    doc.heading(1, c.t("ui.method"));
    doc.paragraph(&format!("{}.", page.meta.score_formula), 9.0, INK);
    doc.finish(
        page_label(c),
        &footer(&page.meta),
        metadata(c.t("pdf.portfolio_title"), &page.meta, as_of),
    )
}

/// "What changed" of an account.
fn account_trend(doc: &mut Doc, c: &'static Catalogue, t: &AccountTrendView) {
    let period = &t.baseline_period;
    doc.heading(1, &c.f("trend.heading", &[("period", period)]));
    if t.new_account {
        doc.paragraph(&c.f("trend.new_account", &[("period", period)]), 9.5, INK);
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
    doc.chart_row(&[t.charts.score.svg(), t.charts.severity.svg()]);
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
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::text(format!("{}\n{}", r.title, r.control)),
                    Cell::badge(severity_name(c, r.severity), severity_colour(r.severity)),
                    Cell::text(r.resource.clone()),
                ];
                if aged {
                    row.push(Cell::text(r.since.clone()));
                    row.push(Cell::text(r.periods.to_string()));
                }
                row
            })
            .collect();
        let mut columns = vec![
            col(c.t("ui.control"), 3.2, false),
            col(c.t("ui.severity"), 1.0, false),
            col(c.t("ui.resource"), 3.2, false),
        ];
        if aged {
            columns.push(col(c.t("trend.failing_since"), 1.3, false));
            columns.push(col(c.t("trend.periods"), 0.9, true));
        }
        doc.table(&columns, &cells, 8.0);
    }
    if !t.changed_controls.is_empty() {
        doc.heading(2, c.t("trend.changed_controls"));
        for (title, id, from, to) in &t.changed_controls {
            doc.paragraph(&format!("{title} ({id}): {from} -> {to}"), 8.5, INK);
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
    doc.chart_row(&[t.charts.score.svg(), t.charts.severity.svg()]);
    doc.paragraph(c.t("trend.pdf_charts_note"), 8.5, MUTED);
    if !t.movers.is_empty() {
        doc.heading(2, c.t("trend.movers_caption").trim_end_matches(['.', '。']));
        let rows: Vec<Vec<Cell>> = t
            .movers
            .iter()
            .map(|m| {
                vec![
                    Cell::text(m.name.clone()),
                    Cell::text(m.previous.clone()),
                    Cell::text(m.score.clone()),
                    Cell::text(m.change.clone()),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("ui.account"), 4.0, false),
                col(period, 1.2, true),
                col(c.t("trend.now"), 1.0, true),
                col(c.t("trend.change"), 1.0, true),
            ],
            &rows,
            8.5,
        );
    }
    if !t.new_accounts.is_empty() {
        doc.heading(2, &c.f("trend.new_since", &[("period", period)]));
        for m in &t.new_accounts {
            let score = c.f("trend.score_n", &[("score", &m.score)]);
            doc.paragraph(&format!("{} ({}): {score}", m.name, m.id), 8.5, INK);
        }
    }
    if !t.missing.is_empty() {
        doc.heading(2, c.t("trend.missing_heading"));
        doc.paragraph(c.t("trend.missing_note"), 8.5, MUTED);
        for m in &t.missing {
            let last = c.f(
                "trend.last_assessed",
                &[("period", &m.last_period), ("score", &m.previous)],
            );
            doc.paragraph(&format!("{} ({}): {last}", m.name, m.id), 8.5, INK);
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
    doc.paragraph(&format!("{file}{}", c.t("register.intro")), 8.5, MUTED);
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
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|e| {
                vec![
                    Cell::text(e.number.to_string()),
                    Cell::text(format!(
                        "{}\n{}{}",
                        e.account,
                        e.control,
                        if e.resource == "-" {
                            String::new()
                        } else {
                            format!("\n{}", e.resource)
                        }
                    )),
                    Cell::text(format!(
                        "{}\n{}\n{}",
                        e.reason,
                        c.f("register.owner_line", &[("owner", &e.owner)]),
                        c.f("register.approved_line", &[("name", &e.approved_by)])
                    )),
                    Cell::text(e.expires.clone()),
                    Cell::text(if e.covers.is_empty() {
                        "-".into()
                    } else {
                        e.covers.join("\n")
                    }),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("register.number"), 0.5, true),
                col(c.t("register.target"), 2.6, false),
                col(c.t("register.approval"), 3.0, false),
                col(c.t("register.expires"), 1.1, false),
                col(c.t("register.covers"), 2.8, false),
            ],
            &cells,
            7.5,
        );
    }
    if !r.vendor.is_empty() {
        doc.heading(2, c.t("register.vendor_heading"));
        let cells: Vec<Vec<Cell>> = r
            .vendor
            .iter()
            .map(|v| {
                vec![
                    Cell::text(v.account.clone()),
                    Cell::text(format!("{}\n{}", v.title, v.control)),
                    Cell::text(v.state),
                ]
            })
            .collect();
        doc.table(
            &[
                col(c.t("ui.account"), 2.0, false),
                col(c.t("register.item"), 4.0, false),
                col(c.t("register.state"), 1.4, false),
            ],
            &cells,
            8.0,
        );
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
    use crate::aggregate::AccountStatus;
    use crate::evidence::FileStatus;
    use crate::model::Severity;
    use crate::rules::Status;

    #[test]
    fn every_state_name_of_the_views_reads_back_as_its_state() {
        for s in theme::STATUSES {
            assert_eq!(state(s.as_str()), Some(s));
        }
        for s in [
            AccountStatus::Complete,
            AccountStatus::Partial,
            AccountStatus::Failed,
        ] {
            assert_eq!(state(s.as_str()), Some(s));
        }
        for s in [FileStatus::Used, FileStatus::Ignored, FileStatus::Rejected] {
            assert_eq!(state(s.as_str()), Some(s));
        }
        for s in [Severity::High, Severity::Medium, Severity::Low] {
            assert_eq!(state(s.as_str()), Some(s));
        }
        assert_eq!(state::<Severity>("urgent"), None);
        assert_eq!(
            evidence_colour("partial"),
            theme::status(Status::NotEvaluable)
        );
        assert_eq!(file_colour("ignored"), theme::status(Status::NotApplicable));
        assert_eq!(severity_colour("high"), theme::severity(Severity::High));
    }
}
