//! Render stage, PDF: the same page views as the HTML, typeset on A4 with the layout engine.
//!
//! Account, customer and portfolio reports. The creation date is the as-of instant, so the
//! same evidence gives the same bytes. Returns bytes; writes no file.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::layout::{Cell, Column, Doc, Fonts, INK, MUTED, Rgb};
use crate::view::{
    AccountPage, AccountRow, AccountTrendView, ChangeRow, CustomerPage, GroupTrendView, Meta,
    PortfolioPage, RegisterRow, RegisterView,
};

fn status_colour(status: &str) -> Rgb {
    match status {
        "pass" | "complete" | "used" => (0x2E, 0x7D, 0x32),
        "fail" | "failed" | "rejected" | "error" => (0xC6, 0x28, 0x28),
        "excepted" => (0x6A, 0x1B, 0x9A),
        "not_evaluable" | "partial" | "warning" => (0xA1, 0x5C, 0x00),
        _ => (0x6C, 0x75, 0x7D),
    }
}

fn severity_colour(severity: &str) -> Rgb {
    match severity {
        "high" => (0x8B, 0x1A, 0x1A),
        "medium" => (0xA1, 0x5C, 0x00),
        _ => (0x5C, 0x63, 0x6A),
    }
}

fn label(status: &str) -> &str {
    match status {
        "pass" => "Pass",
        "fail" => "Fail",
        "excepted" => "Excepted",
        "not_applicable" => "N/A",
        "not_evaluable" => "Not evaluable",
        other => other,
    }
}

fn metadata(title: &str, meta: &Meta, as_of: Option<DateTime<Utc>>) -> krilla::metadata::Metadata {
    let period = &meta.period;
    let mut m = krilla::metadata::Metadata::new()
        .title(title.to_string())
        .description(format!(
            "Alibaba Cloud compliance report (CIS Alibaba Cloud Foundations Benchmark v1.0.0 and v2.0.0, account best practice, Security Center), period {}",
            period
        ))
        .authors(vec![meta.brand.company.clone().unwrap_or_else(|| "aliaudit".to_string())])
        .creator(format!("aliaudit {}", crate::summary::TOOL_VERSION))
        .language("en".to_string());
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

fn page_label(page: usize, pages: usize) -> String {
    format!("Page {page} of {pages}")
}

fn accounts_table(doc: &mut Doc, rows: &[AccountRow]) {
    let columns = [
        Column {
            title: "Account",
            share: 3.2,
            right: false,
        },
        Column {
            title: "Customer",
            share: 2.0,
            right: false,
        },
        Column {
            title: "Evidence",
            share: 1.2,
            right: false,
        },
        Column {
            title: "Score",
            share: 0.8,
            right: true,
        },
        Column {
            title: "Vendor",
            share: 0.8,
            right: true,
        },
        Column {
            title: "Failed",
            share: 0.8,
            right: true,
        },
        Column {
            title: "High",
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
                Cell::badge(a.status, status_colour(a.status)),
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
    if let (Some(accent), Some(heading)) = (hex_rgb(&meta.brand.accent), hex_rgb(&meta.brand.link))
    {
        // Headings take the accent only when it reads on white (else the default blue).
        doc.set_colours(accent, heading);
    }
    doc
}

fn hex_rgb(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#')?;
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

/// The footer's left side: the brand's footer text, then the as-of instant.
fn footer(meta: &Meta) -> String {
    match &meta.brand.footer {
        Some(f) => format!("{f} - as of {}", meta.as_of),
        None => format!("aliaudit - as of {}", meta.as_of),
    }
}

fn cover(doc: &mut Doc, meta: &Meta, kind: &str, title: &str, lines: &[String]) {
    let b = &meta.brand;
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
    doc.title(&format!("As of {}", meta.as_of), 10.0, false, MUTED);
    if let Some(p) = &b.prepared_by {
        doc.title(&format!("Prepared by {p}"), 10.0, false, MUTED);
    }
    if let Some(c) = &b.contact {
        doc.title(&format!("Contact: {c}"), 10.0, false, MUTED);
    }
    doc.title(
        "Prepared with aliaudit from saved Alibaba Cloud evidence; no live API was called.",
        9.0,
        false,
        MUTED,
    );
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
    let mut doc = start(
        fonts,
        &page.meta,
        format!("{} - {}", a.name, report_title(&page.meta)),
    );
    let mut cover_lines = vec![
        format!(
            "Customer: {}",
            a.customer.clone().unwrap_or_else(|| "-".into())
        ),
        format!("Account id: {}", a.id),
        format!("UID: {}", page.uid.clone().unwrap_or_else(|| "-".into())),
        format!("Period: {}", page.meta.period),
        String::new(),
        format!("Compliance score: {} / 100", a.score),
        format!("Alibaba Cloud security score: {}", a.vendor_score),
        format!("Evidence: {}", a.status),
    ];
    cover_lines.retain(|l| !l.is_empty());
    cover(
        &mut doc,
        &page.meta,
        "COMPLIANCE REPORT",
        &a.name,
        &cover_lines,
    );

    doc.page_break();
    doc.heading(1, "Executive summary");
    doc.figures(&[
        ("Compliance score".into(), a.score.clone(), "of 100".into()),
        (
            "Alibaba Cloud score".into(),
            a.vendor_score.clone(),
            "shown beside ours, not mixed in".into(),
        ),
        (
            "Failed controls".into(),
            a.counts.fail.to_string(),
            format!("{} of high severity", a.high_fails),
        ),
        (
            "Not evaluable".into(),
            a.counts.not_evaluable.to_string(),
            "evidence missing".into(),
        ),
    ]);
    // The score and the vendor's score are in the boxes above; the gauge is for the HTML.
    doc.chart_row(&[&page.charts.donut, &page.charts.severity]);
    doc.figures(&[
        (
            "RAM users".into(),
            page.identity.ram_users.clone(),
            format!("{} with console access", page.identity.console_users),
        ),
        (
            "Console users without MFA".into(),
            page.identity.console_users_without_mfa.clone(),
            String::new(),
        ),
        (
            "Active AccessKeys".into(),
            page.identity.active_access_keys.clone(),
            format!(
                "{} not rotated in 90 days",
                page.identity.access_keys_not_rotated_90d
            ),
        ),
        (
            "Root account".into(),
            page.identity.root_mfa.clone(),
            format!(
                "{} active root AccessKeys",
                page.identity.root_active_access_keys
            ),
        ),
    ]);
    doc.heading(2, "Fix first");
    if page.top_failing.is_empty() {
        doc.paragraph("No scored control failed.", 9.5, INK);
    } else {
        let rows: Vec<Vec<Cell>> = page
            .top_failing
            .iter()
            .map(|c| {
                vec![
                    Cell::badge(c.severity, severity_colour(c.severity)),
                    Cell::bold(c.title.clone()),
                    Cell::text(c.detail.clone()),
                ]
            })
            .collect();
        doc.table(
            &[
                Column {
                    title: "Severity",
                    share: 1.0,
                    right: false,
                },
                Column {
                    title: "Control",
                    share: 3.0,
                    right: false,
                },
                Column {
                    title: "Finding",
                    share: 3.5,
                    right: false,
                },
            ],
            &rows,
            8.5,
        );
    }
    if !page.data_quality.is_empty() || !page.gaps.is_empty() {
        doc.heading(2, "Data-quality warnings");
        for note in page.gaps.iter().chain(&page.data_quality) {
            doc.paragraph(&format!("- {note}"), 9.0, INK);
        }
    }

    if let Some(t) = &page.trend {
        doc.page_break();
        account_trend(&mut doc, t);
    }

    doc.page_break();
    for section in &page.sections {
        doc.heading(1, section.title);
        doc.paragraph(
            &format!(
                "{} passed, {} failed of {}.",
                section.pass,
                section.fail,
                section.controls.len()
            ),
            9.0,
            MUTED,
        );
        let rows: Vec<Vec<Cell>> = section
            .controls
            .iter()
            .map(|c| {
                let mut finding = c.detail.clone();
                if let Some(comp) = &c.compensating {
                    finding.push('\n');
                    finding.push_str(comp);
                }
                if let Some(d) = &c.duplicates {
                    finding.push_str(&format!("\nSame check as {d}; cross-checked, not scored."));
                }
                vec![
                    Cell::text(format!("{}\n{}", c.title, c.id)),
                    Cell::text(if c.cis.is_empty() {
                        "-".into()
                    } else {
                        c.cis.clone()
                    }),
                    Cell::badge(c.severity, severity_colour(c.severity)),
                    Cell::badge(label(c.status), status_colour(c.status)),
                    Cell::text(finding),
                ]
            })
            .collect();
        doc.table(
            &[
                Column {
                    title: "Control",
                    share: 3.2,
                    right: false,
                },
                Column {
                    title: "Framework",
                    share: 1.2,
                    right: false,
                },
                Column {
                    title: "Severity",
                    share: 1.0,
                    right: false,
                },
                Column {
                    title: "Result",
                    share: 1.3,
                    right: false,
                },
                Column {
                    title: "Finding",
                    share: 3.3,
                    right: false,
                },
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
        doc.heading(1, "Evidence by control");
        doc.paragraph(
            "Every user, AccessKey or setting that did not pass, with the input file and line it came from. Those that passed are counted here and listed one by one in the HTML report and findings.csv.",
            9.0,
            MUTED,
        );
        for c in detailed {
            doc.heading(3, &format!("{} ({})", c.title, c.id));
            let passed = c.resources.iter().filter(|r| r.status == "pass").count();
            let rows: Vec<Vec<Cell>> = c
                .resources
                .iter()
                .filter(|r| r.status != "pass")
                .map(|r| {
                    vec![
                        Cell::text(r.id.clone()),
                        Cell::badge(label(r.status), status_colour(r.status)),
                        Cell::text(r.detail.clone()),
                        Cell::text(r.source.clone()),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                doc.table(
                    &[
                        col("Resource", 3.0, false),
                        col("Result", 1.3, false),
                        col("Detail", 3.0, false),
                        col("Source", 3.0, false),
                    ],
                    &rows,
                    7.5,
                );
            }
            if passed > 0 {
                doc.paragraph(
                    &format!("{passed} of {} passed.", c.resources.len()),
                    8.0,
                    MUTED,
                );
            }
        }
    }

    doc.page_break();
    doc.heading(1, "Evidence");
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
                Cell::badge(f.status, status_colour(f.status)),
                Cell::text(f.reason.clone()),
            ]
        })
        .collect();
    if !not_used.is_empty() {
        doc.heading(2, "Rejected and ignored evidence");
        doc.table(
            &[
                Column {
                    title: "File",
                    share: 3.0,
                    right: false,
                },
                Column {
                    title: "Status",
                    share: 1.1,
                    right: false,
                },
                Column {
                    title: "Reason",
                    share: 4.0,
                    right: false,
                },
            ],
            &not_used,
            8.0,
        );
    }
    if !page.diagnostics.is_empty() {
        doc.heading(2, "Diagnostics");
        for d in &page.diagnostics {
            doc.paragraph(&format!("{}: {}: {}", d.level, d.path, d.message), 8.5, INK);
        }
    }

    if let Some(r) = &page.register {
        doc.page_break();
        register(&mut doc, r);
    }

    doc.page_break();
    doc.heading(1, "Appendix");
    doc.heading(2, "As of and score");
    doc.paragraph(
        &format!("As of {} ({}).", page.meta.as_of, page.meta.as_of_source),
        9.0,
        INK,
    );
    doc.paragraph(&format!("{}.", page.meta.score_formula), 9.0, INK);
    doc.heading(2, "Evidence manifest");
    let manifest: Vec<Vec<Cell>> = page
        .files
        .iter()
        .map(|f| {
            vec![
                Cell::text(f.path.clone()),
                Cell::text(f.kind),
                Cell::text(f.status),
                Cell::text(f.size.to_string()),
                Cell::text(f.sha256.clone()),
            ]
        })
        .collect();
    doc.table(
        &[
            Column {
                title: "File",
                share: 3.2,
                right: false,
            },
            Column {
                title: "Kind",
                share: 1.6,
                right: false,
            },
            Column {
                title: "Status",
                share: 0.9,
                right: false,
            },
            Column {
                title: "Bytes",
                share: 0.8,
                right: true,
            },
            Column {
                title: "SHA-256",
                share: 3.4,
                right: false,
            },
        ],
        &manifest,
        7.0,
    );
    doc.heading(2, "Thresholds");
    let thresholds: Vec<Vec<Cell>> = page
        .thresholds
        .iter()
        .map(|(k, v)| vec![Cell::text(*k), Cell::text(v.to_string())])
        .collect();
    doc.table(
        &[
            Column {
                title: "Name",
                share: 3.0,
                right: false,
            },
            Column {
                title: "Value",
                share: 1.0,
                right: true,
            },
        ],
        &thresholds,
        8.0,
    );
    doc.heading(2, "Control logic");
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
            Column {
                title: "Control",
                share: 2.4,
                right: false,
            },
            Column {
                title: "Logic",
                share: 4.0,
                right: false,
            },
            Column {
                title: "Remediation",
                share: 3.0,
                right: false,
            },
        ],
        &logic,
        7.5,
    );
    doc.finish(
        page_label,
        &footer(&page.meta),
        metadata(&format!("Compliance report: {}", a.name), &page.meta, as_of),
    )
}

fn group_body(
    doc: &mut Doc,
    totals: &crate::view::Totals,
    charts: &crate::view::GroupCharts,
    accounts: &[AccountRow],
    trend: Option<&GroupTrendView>,
) {
    doc.heading(1, "Summary");
    doc.figures(&[
        (
            "Accounts".into(),
            totals.accounts.to_string(),
            format!(
                "{} complete, {} partial, {} failed",
                totals.complete, totals.partial, totals.failed
            ),
        ),
        (
            "Mean score".into(),
            totals.score_mean.clone(),
            format!("median {}", totals.score_median),
        ),
        (
            "Failed controls".into(),
            totals.fails.to_string(),
            format!("{} of high severity", totals.high_fails),
        ),
    ]);
    doc.chart(&charts.histogram, 330.0);
    doc.chart(&charts.top_failures, crate::render::layout::CONTENT_W);
    if let Some(t) = trend {
        doc.page_break();
        group_trend(doc, t);
    }
    doc.page_break();
    doc.heading(1, "Accounts, lowest score first");
    accounts_table(doc, accounts);
    doc.page_break();
    doc.heading(1, "Accounts and controls");
    doc.chart(&charts.heat_map, crate::render::layout::CONTENT_W);
    doc.paragraph(&charts.heat_note, 8.5, MUTED);
}

/// The PDF of one customer.
pub fn customer(
    fonts: &Fonts,
    page: &CustomerPage,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<u8>, String> {
    let mut doc = start(
        fonts,
        &page.meta,
        format!("{} - {}", page.name, report_title(&page.meta)),
    );
    cover(
        &mut doc,
        &page.meta,
        "CUSTOMER COMPLIANCE REPORT",
        &page.name,
        &[
            format!("{} Alibaba Cloud accounts", page.totals.accounts),
            format!("Period: {}", page.meta.period),
            format!("Mean compliance score: {}", page.totals.score_mean),
        ],
    );
    doc.page_break();
    group_body(
        &mut doc,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
    );
    doc.finish(
        page_label,
        &footer(&page.meta),
        metadata(
            &format!("Compliance report: {}", page.name),
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
    let mut doc = start(
        fonts,
        &page.meta,
        format!("Portfolio - {}", report_title(&page.meta)),
    );
    cover(
        &mut doc,
        &page.meta,
        "PORTFOLIO COMPLIANCE REPORT",
        "Alibaba Cloud accounts",
        &[
            format!(
                "{} accounts, {} customers",
                page.totals.accounts,
                page.customers.len()
            ),
            format!("Period: {}", page.meta.period),
            format!("Mean compliance score: {}", page.totals.score_mean),
        ],
    );
    doc.page_break();
    group_body(
        &mut doc,
        &page.totals,
        &page.charts,
        &page.accounts,
        page.trend.as_ref(),
    );
    if !page.customers.is_empty() {
        doc.heading(1, "Customers");
        let rows: Vec<Vec<Cell>> = page
            .customers
            .iter()
            .map(|c| {
                vec![
                    Cell::text(c.name.clone()),
                    Cell::text(c.accounts.to_string()),
                    Cell::text(c.score_mean.clone()),
                    Cell::text(c.fails.to_string()),
                ]
            })
            .collect();
        doc.table(
            &[
                Column {
                    title: "Customer",
                    share: 4.0,
                    right: false,
                },
                Column {
                    title: "Accounts",
                    share: 1.0,
                    right: true,
                },
                Column {
                    title: "Mean score",
                    share: 1.2,
                    right: true,
                },
                Column {
                    title: "Failed controls",
                    share: 1.4,
                    right: true,
                },
            ],
            &rows,
            8.5,
        );
    }
    doc.heading(1, "Data quality and input");
    if page.data_quality.is_empty() {
        doc.paragraph(
            "The sources agree and the evidence is current for every account.",
            9.0,
            INK,
        );
    }
    for q in &page.data_quality {
        for n in &q.notes {
            doc.paragraph(&format!("{}: {n}", q.name), 8.5, INK);
        }
    }
    if page.rejected.is_empty() {
        doc.paragraph("No input file was rejected.", 9.0, INK);
    } else {
        let rows: Vec<Vec<Cell>> = page
            .rejected
            .iter()
            .map(|f| vec![Cell::text(f.path.clone()), Cell::text(f.reason.clone())])
            .collect();
        doc.table(
            &[
                Column {
                    title: "Rejected file",
                    share: 3.0,
                    right: false,
                },
                Column {
                    title: "Error",
                    share: 4.0,
                    right: false,
                },
            ],
            &rows,
            8.0,
        );
    }
    if let Some(r) = &page.register {
        register(&mut doc, r);
    }
    doc.heading(1, "Method");
    doc.paragraph(&format!("{}.", page.meta.score_formula), 9.0, INK);
    doc.finish(
        page_label,
        &footer(&page.meta),
        metadata("Portfolio compliance report", &page.meta, as_of),
    )
}

/// "What changed" of an account.
fn account_trend(doc: &mut Doc, t: &AccountTrendView) {
    doc.heading(1, &format!("What changed since {}", t.baseline_period));
    if t.new_account {
        doc.paragraph(
            &format!(
                "This account was not in the {} report: there is nothing to compare yet.",
                t.baseline_period
            ),
            9.5,
            INK,
        );
    } else {
        doc.figures(&[
            (
                "Score change".into(),
                t.change.clone(),
                format!("from {} in {}", t.previous_score, t.baseline_period),
            ),
            (
                "New failures".into(),
                t.counts.new_failures.to_string(),
                String::new(),
            ),
            (
                "Resolved".into(),
                t.counts.resolved.to_string(),
                String::new(),
            ),
            (
                "Persisting".into(),
                t.counts.persisting.to_string(),
                format!("{} excepted", t.counts.excepted),
            ),
        ]);
    }
    doc.chart_row(&[&t.charts.score, &t.charts.severity]);
    let groups: [(&str, &[ChangeRow], bool); 5] = [
        ("New failures", &t.new_failures, false),
        ("Persisting failures", &t.persisting, true),
        ("Resolved", &t.resolved, false),
        ("Covered by an exception", &t.excepted, true),
        (
            "Not re-assessed (evidence missing now)",
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
                    Cell::badge(r.severity, severity_colour(r.severity)),
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
            col("Control", 3.2, false),
            col("Severity", 1.0, false),
            col("Resource", 3.2, false),
        ];
        if aged {
            columns.push(col("Failing since", 1.3, false));
            columns.push(col("Periods", 0.9, true));
        }
        doc.table(&columns, &cells, 8.0);
    }
    if !t.changed_controls.is_empty() {
        doc.heading(2, "Controls whose result changed");
        for (title, id, from, to) in &t.changed_controls {
            doc.paragraph(&format!("{title} ({id}): {from} -> {to}"), 8.5, INK);
        }
    }
}

/// "What changed" of a customer or the portfolio.
fn group_trend(doc: &mut Doc, t: &GroupTrendView) {
    doc.heading(1, &format!("What changed since {}", t.baseline_period));
    doc.figures(&[
        (
            "Mean score change".into(),
            t.change.clone(),
            format!("since {}", t.baseline_period),
        ),
        (
            "Accounts".into(),
            format!("{} / {} / {}", t.improved, t.worsened, t.unchanged),
            "better / worse / same".into(),
        ),
        (
            "Failures".into(),
            format!("{} new", t.counts.new_failures),
            format!(
                "{} resolved, {} persisting",
                t.counts.resolved, t.counts.persisting
            ),
        ),
        (
            "Accounts in and out".into(),
            format!("{} new", t.new_accounts.len()),
            format!("{} not re-assessed", t.missing.len()),
        ),
    ]);
    doc.chart_row(&[&t.charts.score, &t.charts.severity]);
    doc.paragraph(
        "Mean score and failed controls in each period; accounts not re-assessed count at their last state.",
        8.5,
        MUTED,
    );
    if !t.movers.is_empty() {
        doc.heading(2, "Accounts whose score changed, largest fall first");
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
                col("Account", 4.0, false),
                col(&t.baseline_period, 1.2, true),
                col("Now", 1.0, true),
                col("Change", 1.0, true),
            ],
            &rows,
            8.5,
        );
    }
    if !t.new_accounts.is_empty() {
        doc.heading(2, &format!("New since {}", t.baseline_period));
        for m in &t.new_accounts {
            doc.paragraph(
                &format!("{} ({}): score {}", m.name, m.id, m.score),
                8.5,
                INK,
            );
        }
    }
    if !t.missing.is_empty() {
        doc.heading(2, "Not re-assessed this period");
        doc.paragraph(
            "In an earlier report but not in this run's input; shown at their last state and kept in the trend.",
            8.5,
            MUTED,
        );
        for m in &t.missing {
            doc.paragraph(
                &format!(
                    "{} ({}): last assessed {}, score {}",
                    m.name, m.id, m.last_period, m.previous
                ),
                8.5,
                INK,
            );
        }
    }
}

/// The accepted-risk register.
fn register(doc: &mut Doc, r: &RegisterView) {
    doc.heading(1, "Accepted risks");
    let file = r
        .file
        .as_ref()
        .map(|f| format!("Exceptions file {f}. "))
        .unwrap_or_default();
    doc.paragraph(
        &format!("{file}An unexpired entry turns the failures it covers into \"excepted\", which the score leaves out; expired entries change nothing and their failures stand."),
        8.5,
        MUTED,
    );
    let groups: [(&str, &[RegisterRow]); 3] = [
        ("Active", &r.active),
        ("Expired (failures stand)", &r.expired),
        ("Stale (covers no failure)", &r.stale),
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
                        "{}\nOwner: {}\nApproved by: {}",
                        e.reason, e.owner, e.approved_by
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
                col("#", 0.4, true),
                col("Account, control, resource", 2.6, false),
                col("Reason and approval", 3.0, false),
                col("Expires", 1.1, false),
                col("Covers", 2.8, false),
            ],
            &cells,
            7.5,
        );
    }
    if !r.vendor.is_empty() {
        doc.heading(2, "Accepted in Security Center");
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
                col("Account", 2.0, false),
                col("Item", 4.0, false),
                col("State", 1.4, false),
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
        .unwrap_or_else(|| "compliance report".to_string())
}
