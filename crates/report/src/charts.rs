//! Charts stage: draws the report charts as SVG with plotters, one chart source for the HTML
//! and the PDF.
//!
//! Text is measured with the embedded Noto Sans CJK SC subset (registered once per process),
//! so no system font is needed; colours are opaque (translucency turns into transparency
//! groups in PDF) and come from [`crate::theme`]. Input strings are escaped by plotters' SVG
//! backend. No I/O. A chart that cannot be drawn is a [`ChartError`] naming it; the page
//! writer turns it into a warning, and the page shows no chart there.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::fonts::{FONT_BOLD, FONT_REGULAR};
use crate::theme::{self, Colour};
use aliaudit_core::aggregate::Counts;
use aliaudit_core::i18n::Catalogue;
use aliaudit_core::model::Severity;
use aliaudit_core::rules::Status;

/// The font family name charts use; the HTML stylesheet maps it to the page font.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

fn register_fonts() {
    REGISTER.call_once(|| {
        // Both faces are committed files; a failure here would be a build problem, and the
        // charts then fall back to drawing no text rather than failing the report.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_REGULAR);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, FONT_BOLD);
    });
}

/// A palette colour as plotters takes it.
const fn rgb(c: Colour) -> RGBColor {
    RGBColor(c.r, c.g, c.b)
}

/// Colour of a result state (opaque; paired with a text label wherever it is shown).
pub(crate) fn status_colour(status: Status) -> RGBColor {
    rgb(theme::status(status))
}

const INK: RGBColor = rgb(theme::INK);
const MUTED: RGBColor = rgb(theme::MUTED);
const TRACK: RGBColor = rgb(theme::TRACK);
const ACCENT: RGBColor = rgb(theme::ACCENT);
const PAPER: RGBColor = rgb(theme::WHITE);

fn score_colour(score: f64) -> RGBColor {
    rgb(theme::score(score))
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&INK)
}

fn bold(size: f64) -> TextStyle<'static> {
    (FAMILY, size)
        .into_font()
        .style(FontStyle::Bold)
        .color(&INK)
}

/// A chart that could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the {chart} chart could not be drawn ({message})")]
pub struct ChartError {
    /// Which chart (`status donut`, `heat map`...).
    pub chart: &'static str,
    /// What plotters said.
    pub message: String,
}

/// What a drawing function gives: the SVG document, or why there is none.
pub(crate) type Drawn = Result<String, ChartError>;

/// A chart as a page view holds it. It serialises as its SVG (nothing when it could not be
/// drawn), so templates place it as they would a string; [`Chart::error`] says why it is
/// missing, and [`Chart::alt`] says in words what it shows (the PDF's figure alt text).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    drawn: Drawn,
    alt: String,
}

impl Chart {
    /// A drawn chart and the text that says what it shows, with its figures.
    fn new(drawn: Drawn, alt: String) -> Chart {
        Chart { drawn, alt }
    }

    /// The SVG document; empty when the chart could not be drawn.
    pub fn svg(&self) -> &str {
        self.drawn.as_deref().unwrap_or_default()
    }

    /// Why the chart could not be drawn, if it could not.
    pub fn error(&self) -> Option<&ChartError> {
        self.drawn.as_ref().err()
    }

    /// What the chart shows and its figures, in the report language (the text alternative
    /// of the chart in the tagged PDF).
    pub fn alt(&self) -> &str {
        &self.alt
    }
}

impl From<Drawn> for Chart {
    fn from(drawn: Drawn) -> Chart {
        Chart::new(drawn, String::new())
    }
}

/// `title: label value; label value...`, the text alternative of a chart of `data`.
fn alt_text<L: std::fmt::Display, V: std::fmt::Display>(title: &str, data: &[(L, V)]) -> String {
    let parts: Vec<String> = data.iter().map(|(l, v)| format!("{l}: {v}")).collect();
    format!("{title}: {}", parts.join("; "))
}

impl serde::Serialize for Chart {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.svg())
    }
}

/// Draws the chart `chart` with `draw` on a `width` x `height` SVG and returns the document.
/// A drawing error (plotters reports text measurement and backend failures) is returned
/// naming the chart, never a panic.
fn svg(
    chart: &'static str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Drawn {
    let started = std::time::Instant::now();
    let out = svg_inner(width, height, draw).map_err(|message| ChartError { chart, message });
    aliaudit_core::timing::add(aliaudit_core::timing::Stage::Charts, started);
    out
}

fn svg_inner(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<String, String> {
    register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&PAPER).map_err(e)?;
        draw(&root)?;
        root.present().map_err(e)?;
    }
    Ok(out)
}

fn e<T: std::fmt::Debug>(err: T) -> String {
    format!("{err:?}")
}

/// Our score as a horizontal gauge (0-100) with the vendor's score marked beside it.
pub(crate) fn score_gauge(c: &Catalogue, score: Option<f64>, vendor: Option<i64>) -> Chart {
    let mut alt = match score {
        Some(s) => c.f("chart.score_of", &[("score", &format!("{s:.1}"))]),
        None => c.t("chart.no_score").to_string(),
    };
    if let Some(v) = vendor {
        alt = format!("{alt}; {}", c.f("chart.vendor_score", &[("score", &v)]));
    }
    let drawn = svg("score gauge", 420, 90, |area| {
        let (x0, x1, y) = (10i32, 410i32, 34i32);
        area.draw(&Rectangle::new([(x0, y), (x1, y + 22)], TRACK.filled()))
            .map_err(e)?;
        match score {
            Some(s) => {
                let w = (s.clamp(0.0, 100.0) / 100.0 * (x1 - x0) as f64) as i32;
                area.draw(&Rectangle::new(
                    [(x0, y), (x0 + w, y + 22)],
                    score_colour(s).filled(),
                ))
                .map_err(e)?;
                area.draw(&Text::new(
                    c.f("chart.score_of", &[("score", &format!("{s:.1}"))]),
                    (x0, 6),
                    bold(18.0),
                ))
                .map_err(e)?;
            }
            None => {
                area.draw(&Text::new(c.t("chart.no_score"), (x0, 6), bold(18.0)))
                    .map_err(e)?;
            }
        }
        if let Some(v) = vendor {
            let x = x0 + (v.clamp(0, 100) as f64 / 100.0 * (x1 - x0) as f64) as i32;
            area.draw(&PathElement::new(
                vec![(x, y - 4), (x, y + 26)],
                INK.stroke_width(2),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                c.f("chart.vendor_score", &[("score", &v)]),
                (x0, y + 30),
                font(13.0).color(&MUTED),
            ))
            .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// Results per state as a donut, with a legend that names each state and its count.
pub(crate) fn status_donut(c: &Catalogue, counts: &Counts) -> Chart {
    let parts = [
        (Status::Pass, c.t("chart.legend.pass"), counts.pass),
        (Status::Fail, c.t("chart.legend.fail"), counts.fail),
        (
            Status::Excepted,
            c.t("chart.legend.excepted"),
            counts.excepted,
        ),
        (
            Status::NotApplicable,
            c.t("chart.legend.not_applicable"),
            counts.not_applicable,
        ),
        (
            Status::NotEvaluable,
            c.t("chart.legend.not_evaluable"),
            counts.not_evaluable,
        ),
    ];
    let total: u64 = parts.iter().map(|p| p.2).sum();
    let legend: Vec<(&str, u64)> = parts.iter().map(|p| (p.1, p.2)).collect();
    let alt = alt_text(
        c.f("account.donut_caption", &[("n", &total)])
            .trim_end_matches(['.', '。']),
        &legend,
    );
    let drawn = svg("status donut", 360, 180, |area| {
        let center = (90i32, 90i32);
        let radius = 80.0;
        let visible: Vec<_> = parts.iter().filter(|p| p.2 > 0).collect();
        if visible.is_empty() {
            area.draw(&Circle::new(center, 80, TRACK.filled()))
                .map_err(e)?;
        } else {
            let sizes: Vec<f64> = visible.iter().map(|p| p.2 as f64).collect();
            let colours: Vec<RGBColor> = visible.iter().map(|p| status_colour(p.0)).collect();
            let labels: Vec<&str> = visible.iter().map(|_| "").collect();
            let mut pie = Pie::new(&center, &radius, &sizes, &colours, &labels);
            pie.start_angle(-90.0);
            pie.donut_hole(48.0);
            area.draw(&pie).map_err(e)?;
        }
        let total: u64 = parts.iter().map(|p| p.2).sum();
        area.draw(&Text::new(
            total.to_string(),
            (center.0, center.1 - 12),
            bold(22.0).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            )),
        ))
        .map_err(e)?;
        for (i, (status, name, n)) in parts.iter().enumerate() {
            let y = 22 + i as i32 * 28;
            area.draw(&Rectangle::new(
                [(190, y), (204, y + 14)],
                status_colour(*status).filled(),
            ))
            .map_err(e)?;
            area.draw(&Text::new(format!("{name}: {n}"), (212, y - 1), font(14.0)))
                .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// Failed controls per severity as vertical bars.
pub(crate) fn severity_bars(c: &Catalogue, high: u64, medium: u64, low: u64) -> Chart {
    bars(
        "failures by severity",
        c.t("chart.failed_by_severity"),
        &[
            (c.t("severity.high"), high),
            (c.t("severity.medium"), medium),
            (c.t("severity.low"), low),
        ],
        &SEVERITY,
    )
}

/// Accounts per score band (0-9, 10-19, ... 90-100).
pub(crate) fn score_histogram(c: &Catalogue, scores: &[f64]) -> Chart {
    let mut bins = [0u64; 10];
    for s in scores {
        bins[((s / 10.0).floor() as usize).min(9)] += 1;
    }
    let labels: Vec<String> = (0..10)
        .map(|i| {
            if i == 9 {
                "90+".to_string()
            } else {
                format!("{}", i * 10)
            }
        })
        .collect();
    let data: Vec<(&str, u64)> = labels.iter().map(|l| l.as_str()).zip(bins).collect();
    let colours: Vec<RGBColor> = (0..10).map(|i| score_colour(i as f64 * 10.0)).collect();
    bars(
        "accounts by score",
        c.t("chart.accounts_by_score"),
        &data,
        &colours,
    )
}

fn bars(chart: &'static str, title: &str, data: &[(&str, u64)], colours: &[RGBColor]) -> Chart {
    let width = (80 + data.len() as u32 * 56).max(300);
    let drawn = svg(chart, width, 220, |area| {
        area.draw(&Text::new(title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let (top, bottom) = (40i32, 180i32);
        for (i, (label, n)) in data.iter().enumerate() {
            let x = 30 + i as i32 * 56;
            let h = ((*n as f64 / max as f64) * (bottom - top) as f64) as i32;
            area.draw(&Rectangle::new(
                [(x, top), (x + 40, bottom)],
                TRACK.filled(),
            ))
            .map_err(e)?;
            let colour = colours.get(i).copied().unwrap_or(ACCENT);
            area.draw(&Rectangle::new(
                [(x, bottom - h), (x + 40, bottom)],
                colour.filled(),
            ))
            .map_err(e)?;
            area.draw(&Text::new(n.to_string(), (x + 4, top - 18), bold(13.0)))
                .map_err(e)?;
            area.draw(&Text::new(label.to_string(), (x, bottom + 8), font(13.0)))
                .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt_text(title, data))
}

/// Severity colours: high, medium, low.
const SEVERITY: [RGBColor; 3] = [
    rgb(theme::severity(Severity::High)),
    rgb(theme::severity(Severity::Medium)),
    rgb(theme::severity(Severity::Low)),
];

/// Width of a trend chart with `n` periods.
fn trend_width(n: usize) -> u32 {
    (90 + n as u32 * 80).max(340)
}

/// Score per period as a line (a period without a score leaves a gap), 0-100 scale.
pub(crate) fn score_trend(title: &str, points: &[(String, Option<f64>)]) -> Chart {
    let width = trend_width(points.len());
    let shown: Vec<(&str, String)> = points
        .iter()
        .map(|(p, s)| {
            (
                p.as_str(),
                s.map_or_else(|| "-".into(), |s| format!("{s:.1}")),
            )
        })
        .collect();
    let alt = alt_text(title, &shown);
    let drawn = svg("score trend", width, 220, |area| {
        area.draw(&Text::new(title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        let (top, bottom, left) = (44i32, 176i32, 46i32);
        let y = |score: f64| bottom - ((score / 100.0) * (bottom - top) as f64).round() as i32;
        for level in [0.0, 50.0, 100.0] {
            area.draw(&PathElement::new(
                vec![(left, y(level)), (width as i32 - 14, y(level))],
                TRACK.stroke_width(1),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                format!("{level:.0}"),
                (10, y(level) - 7),
                font(11.0),
            ))
            .map_err(e)?;
        }
        let x = |i: usize| left + 36 + i as i32 * 80;
        let mut run: Vec<(i32, i32)> = Vec::new();
        let flush = |run: &mut Vec<(i32, i32)>| -> Result<(), String> {
            if run.len() > 1 {
                area.draw(&PathElement::new(run.clone(), ACCENT.stroke_width(2)))
                    .map_err(e)?;
            }
            run.clear();
            Ok(())
        };
        for (i, (_, score)) in points.iter().enumerate() {
            match score {
                Some(s) => run.push((x(i), y(*s))),
                None => flush(&mut run)?,
            }
        }
        flush(&mut run)?;
        for (i, (label, score)) in points.iter().enumerate() {
            if let Some(s) = score {
                area.draw(&Circle::new((x(i), y(*s)), 4, ACCENT.filled()))
                    .map_err(e)?;
                area.draw(&Text::new(
                    format!("{s:.1}"),
                    (x(i) - 12, y(*s) - 22),
                    bold(12.0),
                ))
                .map_err(e)?;
            }
            area.draw(&Text::new(
                label.clone(),
                (x(i) - 24, bottom + 12),
                font(11.0),
            ))
            .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// Failed controls per period, stacked by severity (high at the bottom).
pub(crate) fn severity_trend(c: &Catalogue, title: &str, points: &[(String, [u64; 3])]) -> Chart {
    let width = trend_width(points.len());
    let shown: Vec<(&str, String)> = points
        .iter()
        .map(|(p, fails)| {
            let names = ["high", "medium", "low"].map(|s| c.t(&format!("severity.{s}")));
            let each: Vec<String> = names
                .iter()
                .zip(fails)
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            (p.as_str(), each.join(", "))
        })
        .collect();
    let alt = alt_text(title, &shown);
    let drawn = svg("severity trend", width, 220, |area| {
        area.draw(&Text::new(title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        let names = [
            c.t("severity.high"),
            c.t("severity.medium"),
            c.t("severity.low"),
        ];
        for (i, name) in names.iter().enumerate() {
            let x = width as i32 - 190 + i as i32 * 62;
            area.draw(&Rectangle::new(
                [(x, 30), (x + 10, 40)],
                SEVERITY[i].filled(),
            ))
            .map_err(e)?;
            area.draw(&Text::new(name.to_string(), (x + 14, 28), font(11.0)))
                .map_err(e)?;
        }
        let (top, bottom) = (62i32, 176i32);
        let max = points
            .iter()
            .map(|(_, f)| f.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        for (i, (label, fails)) in points.iter().enumerate() {
            let x = 46 + i as i32 * 80;
            let mut base = bottom;
            for (k, n) in fails.iter().enumerate() {
                let h = ((*n as f64 / max as f64) * (bottom - top) as f64).round() as i32;
                if h > 0 {
                    area.draw(&Rectangle::new(
                        [(x, base - h), (x + 44, base)],
                        SEVERITY[k].filled(),
                    ))
                    .map_err(e)?;
                }
                base -= h;
            }
            let total: u64 = fails.iter().sum();
            area.draw(&Text::new(
                total.to_string(),
                (x + 14, base - 18),
                bold(12.0),
            ))
            .map_err(e)?;
            area.draw(&Text::new(label.clone(), (x - 2, bottom + 12), font(11.0)))
                .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// The most common failures: one horizontal bar per control, with its failing-account count.
pub(crate) fn top_failures(c: &Catalogue, rows: &[(String, u64)], of: u64) -> Chart {
    let height = 40 + rows.len().max(1) as u32 * 30;
    let title = c.f("chart.most_common_failures", &[("n", &of)]);
    let alt = alt_text(&title, rows);
    let drawn = svg("most common failures", 820, height, |area| {
        area.draw(&Text::new(title.clone(), (10, 6), bold(15.0)))
            .map_err(e)?;
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        for (i, (label, n)) in rows.iter().enumerate() {
            let y = 36 + i as i32 * 30;
            let w = ((*n as f64 / max as f64) * 220.0) as i32;
            area.draw(&Rectangle::new([(540, y), (760, y + 20)], TRACK.filled()))
                .map_err(e)?;
            area.draw(&Rectangle::new(
                [(540, y), (540 + w, y + 20)],
                status_colour(Status::Fail).filled(),
            ))
            .map_err(e)?;
            area.draw(&Text::new(shorten(label, 80), (10, y + 2), font(13.0)))
                .map_err(e)?;
            area.draw(&Text::new(n.to_string(), (768, y + 2), bold(13.0)))
                .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// One row of the heat map: an account label and a status per column.
pub(crate) struct HeatRow {
    /// Account label.
    pub label: String,
    /// Status per column, `None` when the control was not run for the account.
    pub cells: Vec<Option<Status>>,
}

/// Accounts x controls, one coloured cell per result; a letter in each cell names the state
/// so that colour is never the only signal.
pub(crate) fn heat_map(c: &Catalogue, columns: &[String], rows: &[HeatRow]) -> Chart {
    // Each account's results by state (the states it has), in the legend's words.
    let states = [
        (Status::Fail, "fail"),
        (Status::Pass, "pass"),
        (Status::Excepted, "excepted"),
        (Status::NotApplicable, "not_applicable"),
        (Status::NotEvaluable, "not_evaluable"),
    ];
    let shown: Vec<(&str, String)> = rows
        .iter()
        .map(|row| {
            let each: Vec<String> = states
                .iter()
                .filter_map(|(state, key)| {
                    let n = row.cells.iter().filter(|s| **s == Some(*state)).count();
                    (n > 0).then(|| format!("{} {n}", c.t(&format!("chart.legend.{key}"))))
                })
                .collect();
            (row.label.as_str(), each.join(", "))
        })
        .collect();
    let alt = alt_text(c.t("ui.heat_heading"), &shown);
    let cell = 18i32;
    let left = 230i32;
    let top = 120i32;
    let width = (left + columns.len() as i32 * cell + 20).max(400) as u32;
    let height = (top + rows.len() as i32 * cell + 20) as u32;
    let drawn = svg("heat map", width, height, |area| {
        for (j, column) in columns.iter().enumerate() {
            let x = left + j as i32 * cell + 4;
            area.draw(&Text::new(
                shorten(column, 20),
                (x, top - 6),
                font(11.0).transform(FontTransform::Rotate270),
            ))
            .map_err(e)?;
        }
        for (i, row) in rows.iter().enumerate() {
            let y = top + i as i32 * cell;
            area.draw(&Text::new(shorten(&row.label, 32), (6, y + 2), font(12.0)))
                .map_err(e)?;
            for (j, status) in row.cells.iter().enumerate() {
                let x = left + j as i32 * cell;
                let (colour, mark) = match status {
                    Some(s) => (status_colour(*s), letter(*s)),
                    None => (PAPER, ""),
                };
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell - 2, y + cell - 2)],
                    colour.filled(),
                ))
                .map_err(e)?;
                if !mark.is_empty() {
                    // Every state colour is chosen to read under white text.
                    area.draw(&Text::new(mark, (x + 4, y + 1), font(11.0).color(&PAPER)))
                        .map_err(e)?;
                }
            }
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// The one-letter code of a state in the heat map.
pub fn letter(status: Status) -> &'static str {
    match status {
        Status::Pass => "P",
        Status::Fail => "F",
        Status::Excepted => "E",
        Status::NotApplicable => "-",
        Status::NotEvaluable => "?",
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> &'static Catalogue {
        Catalogue::get(aliaudit_core::i18n::Lang::En)
    }

    #[test]
    fn charts_are_svg_and_escape_hostile_text() {
        let svg = top_failures(
            en(),
            &[("</svg><script>alert(1)</script>".to_string(), 3)],
            5,
        )
        .svg()
        .to_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;/svg&gt;&lt;script&gt;"));
        let heat = heat_map(
            en(),
            &["\"onerror=x".to_string()],
            &[HeatRow {
                label: "<b>acct</b>".into(),
                cells: vec![Some(Status::Fail)],
            }],
        )
        .svg()
        .to_string();
        assert!(!heat.contains("\"onerror"));
        assert!(heat.contains("&lt;b&gt;acct"));
    }

    #[test]
    fn the_gauge_shows_both_scores_and_the_donut_every_state() {
        let g = score_gauge(en(), Some(72.5), Some(63)).svg().to_string();
        assert!(g.contains("Score 72.5 / 100") && g.contains("Alibaba Cloud score 63"));
        let d = status_donut(
            en(),
            &Counts {
                pass: 3,
                fail: 2,
                excepted: 0,
                not_applicable: 1,
                not_evaluable: 4,
            },
        )
        .svg()
        .to_string();
        for label in ["pass: 3", "fail: 2", "excepted: 0", "not evaluable: 4"] {
            assert!(d.contains(label), "{label}");
        }
    }

    #[test]
    fn chinese_labels_are_drawn() {
        let svg = top_failures(en(), &[("主账号安全-双因素认证".to_string(), 2)], 2)
            .svg()
            .to_string();
        assert!(svg.contains("主账号安全-双因素认证"));
    }

    #[test]
    fn a_chart_that_cannot_be_drawn_is_an_error_naming_it() {
        // Measuring text in a font family that was never registered fails in plotters.
        let drawn = svg("test chart", 100, 40, |area| {
            area.estimate_text_size("x", &("no such family", 10.0).into_font().color(&INK))
                .map(|_| ())
                .map_err(e)
        });
        let error = drawn.clone().unwrap_err();
        assert_eq!(error.chart, "test chart");
        assert!(!error.message.is_empty());
        assert!(
            error
                .to_string()
                .starts_with("the test chart chart could not be drawn (")
        );
        let chart = Chart::from(drawn);
        assert_eq!(chart.svg(), "");
        assert_eq!(chart.error(), Some(&error));
        assert_eq!(serde_json::to_string(&chart).unwrap(), "\"\"");
        let ok = severity_bars(en(), 1, 2, 3);
        assert!(ok.error().is_none());
        assert_eq!(serde_json::to_value(&ok).unwrap(), ok.svg());
    }

    #[test]
    fn every_chart_says_in_words_what_it_shows_with_its_figures() {
        let counts = Counts {
            pass: 3,
            fail: 2,
            excepted: 0,
            not_applicable: 1,
            not_evaluable: 4,
        };
        assert_eq!(
            status_donut(en(), &counts).alt(),
            "Results of 10 controls: pass: 3; fail: 2; excepted: 0; not applicable: 1; not evaluable: 4"
        );
        assert_eq!(
            severity_bars(en(), 1, 2, 3).alt(),
            "Failed controls by severity: High: 1; Medium: 2; Low: 3"
        );
        let heat = heat_map(
            en(),
            &["a".into(), "b".into(), "c".into()],
            &[HeatRow {
                label: "Acme".into(),
                cells: vec![Some(Status::Fail), Some(Status::Pass), Some(Status::Fail)],
            }],
        );
        assert_eq!(heat.alt(), "Accounts and controls: Acme: fail 2, pass 1");
        let trend = score_trend(
            "Score",
            &[("2026-Q3".into(), None), ("2026-Q4".into(), Some(71.25))],
        );
        assert_eq!(trend.alt(), "Score: 2026-Q3: -; 2026-Q4: 71.2");
        let zh = Catalogue::get(aliaudit_core::i18n::Lang::Zh);
        assert!(
            severity_bars(zh, 1, 0, 0)
                .alt()
                .starts_with(zh.t("chart.failed_by_severity"))
        );
    }
}
