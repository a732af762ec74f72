//! Charts stage: draws the report charts as SVG with plotters, one chart source for the HTML
//! and the PDF.
//!
//! Text is measured with the embedded Noto Sans CJK SC subset (registered once per process),
//! so no system font is needed; colours are opaque (translucency turns into transparency
//! groups in PDF) and come from [`crate::theme`]. Input strings are escaped by plotters' SVG
//! backend. No I/O. A chart that cannot be drawn is a [`ChartError`] naming it; the page
//! writer turns it into a warning, and the page shows no chart there.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform};

use crate::figure::{Anchor, Figure, Label, Recording, Shape, Tee};
use crate::fonts::{FONT_BOLD, FONT_REGULAR};
use crate::theme::{self, Colour};
use aliaudit_core::aggregate::Counts;
use aliaudit_core::frameworks::RequirementStatus;
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

/// plotters picks a description's face when it is created, so every chart style is created
/// after the fonts are registered (one created before measured 0 wide, whichever chart of
/// the run came first). Both create a regular description: [`Advances`] measures with it.
fn font(size: f64) -> TextStyle<'static> {
    register_fonts();
    (FAMILY, size).into_font().color(&INK)
}

fn bold(size: f64) -> TextStyle<'static> {
    register_fonts();
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

/// What [`svg`] gives: the SVG document with the same drawing as shapes (none if it used a
/// shape [`crate::figure`] does not record), or why there is none.
type Sketch = Result<(String, Option<Figure>), ChartError>;

/// A chart as a page view holds it. It serialises as its SVG (nothing when it could not be
/// drawn), so templates place it as they would a string; [`Chart::error`] says why it is
/// missing, and [`Chart::alt`] says in words what it shows (the PDF's figure alt text).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    drawn: Drawn,
    figure: Option<std::sync::Arc<Figure>>,
    alt: String,
}

impl Chart {
    /// A drawn chart and the text that says what it shows, with its figures.
    fn new(sketch: Sketch, alt: String) -> Chart {
        let (drawn, figure) = match sketch {
            Ok((svg, figure)) => (Ok(svg), figure.map(std::sync::Arc::new)),
            Err(e) => (Err(e), None),
        };
        Chart { drawn, figure, alt }
    }

    /// The chart for the HTML only: its shapes are dropped (a PDF never draws it).
    pub(crate) fn html_only(mut self) -> Chart {
        self.figure = None;
        self
    }

    /// The chart as shapes, for drawing straight into a PDF (`None`: use [`Chart::svg`]).
    pub fn figure(&self) -> Option<&std::sync::Arc<Figure>> {
        self.figure.as_ref()
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
        Chart::new(drawn.map(|svg| (svg, None)), String::new())
    }
}

/// `title: label value; label value...`, the text alternative of a chart of `data`.
/// Punctuated in `c`'s language (full-width in Chinese).
fn alt_text<L: std::fmt::Display, V: std::fmt::Display>(
    c: &Catalogue,
    title: &str,
    data: &[(L, V)],
) -> String {
    let colon = c.t("exec.colon");
    let parts: Vec<String> = data.iter().map(|(l, v)| format!("{l}{colon}{v}")).collect();
    format!("{title}{colon}{}", parts.join(c.t("exec.also")))
}

impl serde::Serialize for Chart {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.svg())
    }
}

/// Draws the chart `chart` with `draw` on a `width` x `height` SVG and returns the document.
/// A drawing error (plotters reports text measurement and backend failures) is returned
/// naming the chart, never a panic.
/// The canvas charts draw on: SVG, recorded as shapes too.
type Area<'a> = DrawingArea<Tee<'a>, plotters::coord::Shift>;

fn svg(
    chart: &'static str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<(), String>,
) -> Sketch {
    let started = std::time::Instant::now();
    let out = svg_inner(width, height, draw).map_err(|message| ChartError { chart, message });
    aliaudit_core::timing::add(aliaudit_core::timing::Stage::Charts, started);
    out
}

fn svg_inner(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<(), String>,
) -> Result<(String, Option<Figure>), String> {
    register_fonts();
    let mut out = String::new();
    let recording = std::cell::RefCell::new(Recording::default());
    {
        let root = Tee::new(&mut out, (width, height), &recording).into_drawing_area();
        root.fill(&PAPER).map_err(e)?;
        draw(&root)?;
        root.present().map_err(e)?;
    }
    Ok((out, recording.into_inner().figure((width, height))))
}

fn e<T: std::fmt::Debug>(err: T) -> String {
    format!("{err:?}")
}

/// `style` anchored at the centre of its top edge.
fn centred(style: TextStyle<'static>) -> TextStyle<'static> {
    style.pos(Pos::new(HPos::Center, VPos::Top))
}

/// `style` anchored at the right end of its top edge.
fn right(style: TextStyle<'static>) -> TextStyle<'static> {
    style.pos(Pos::new(HPos::Right, VPos::Top))
}

/// The width of `text` in `style`, in pixels (0 when it cannot be measured: the text is then
/// laid out as if it were short, never a failure).
///
/// Wrapping and fitting measure each label many times, so a chart's own family is measured
/// from the [`Advances`] table; any other style goes through plotters.
fn text_width(text: &str, style: &TextStyle) -> i32 {
    register_fonts();
    if style.font.get_family().as_str() == FAMILY
        && matches!(style.font.get_transform(), FontTransform::None)
        && let Some(advances) = Advances::get()
    {
        return advances.width(text, style.font.get_size());
    }
    style.font.box_size(text).map_or(0, |b| b.0 as i32)
}

/// The advances plotters measures chart text with, read once: the width its `ab_glyph`
/// `estimate_layout` gives, without its cmap search for every character of every measure.
///
/// plotters measures with the face a font description was created with, and keeps it when
/// the style changes: [`font`] and [`bold`] both create a regular description, so all chart
/// text is measured with the regular face (the bold face draws it). plotters adds, character
/// by character, the glyph's advance scaled by `size` over the face's height, then the pair's
/// kerning, and truncates the sum to whole pixels. The advances here are the ones ab_glyph
/// reads, scaled and added in the same order, so the sum is the same number. Kerning comes
/// only from a `kern` table, which the embedded face does not have: a face with one is not
/// tabled, and is measured by plotters.
struct Advances {
    font: ab_glyph::FontRef<'static>,
    /// Unscaled advance of each Basic Multilingual Plane character's glyph, as `f32` bits,
    /// read from the face on the character's first measure ([`Advances::UNREAD`] until then).
    bmp: Box<[AtomicU32]>,
    height: f32,
}

impl Advances {
    /// A NaN no advance is: ab_glyph's advances are whole font units.
    const UNREAD: u32 = u32::MAX;

    fn get() -> Option<&'static Advances> {
        static TABLE: std::sync::OnceLock<Option<Advances>> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| Advances::read(FONT_REGULAR)).as_ref()
    }

    fn read(bytes: &'static [u8]) -> Option<Advances> {
        use ab_glyph::Font;
        let font = ab_glyph::FontRef::try_from_slice(bytes).ok()?;
        let kerned = rustybuzz::ttf_parser::Face::parse(bytes, 0)
            .ok()?
            .tables()
            .kern
            .is_some();
        if kerned {
            return None;
        }
        let bmp = (0..0x10000).map(|_| AtomicU32::new(Self::UNREAD)).collect();
        let height = font.height_unscaled();
        Some(Advances { font, bmp, height })
    }

    /// The unscaled advance of the glyph plotters draws `c` with.
    fn advance(&self, c: char) -> f32 {
        use ab_glyph::Font;
        let read = || self.font.h_advance_unscaled(self.font.glyph_id(c));
        let Some(slot) = self.bmp.get(c as usize) else {
            return read();
        };
        match slot.load(Ordering::Relaxed) {
            Self::UNREAD => {
                let advance = read();
                // Every thread reads the same advance, so whichever store lands is right.
                slot.store(advance.to_bits(), Ordering::Relaxed);
                advance
            }
            bits => f32::from_bits(bits),
        }
    }

    fn width(&self, text: &str, size: f64) -> i32 {
        let scale = size as f32 / self.height;
        let mut pixels = 0f32;
        for c in text.chars() {
            pixels += scale * self.advance(c);
        }
        // plotters gives the box's width unsigned.
        (pixels as i32).unsigned_abs() as i32
    }
}

/// `text` broken into lines no wider than `max` in `style`: between words, and between any
/// two CJK characters; a word wider than a line is broken between characters.
fn wrap(text: &str, style: &TextStyle, max: i32) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    for ch in text.chars() {
        let cjk = ch >= '\u{2E80}';
        if cjk && !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        word.push(ch);
        if cjk || ch.is_whitespace() {
            tokens.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    let mut split: Vec<String> = Vec::new();
    for token in tokens {
        if text_width(token.trim_end(), style) > max {
            split.extend(token.chars().map(String::from));
        } else {
            split.push(token);
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for token in split {
        let candidate = format!("{line}{token}");
        if line.trim().is_empty() || text_width(candidate.trim_end(), style) <= max {
            line = candidate;
        } else {
            lines.push(line.trim_end().to_string());
            line = token.trim_start().to_string();
        }
    }
    if !line.trim().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// `text` cut to fit `max` pixels in `style`, with an ellipsis when cut.
fn fit(text: &str, style: &TextStyle, max: i32) -> String {
    if text_width(text, style) <= max {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() && text_width(&format!("{cut}…"), style) > max {
        cut.pop();
    }
    format!("{cut}…")
}

/// The legend's text style.
fn legend_font() -> TextStyle<'static> {
    font(12.0)
}

/// Where each legend item (swatch and label) goes when the legend starts at `x0` and wraps
/// before `max_x`: `(x, row)` per item.
fn legend_places(items: &[(RGBColor, String)], x0: i32, max_x: i32) -> Vec<(i32, i32)> {
    let (mut x, mut row) = (x0, 0);
    items
        .iter()
        .map(|(_, label)| {
            let w = 16 + text_width(label, &legend_font()) + 14;
            if x > x0 && x + w > max_x {
                x = x0;
                row += 1;
            }
            let place = (x, row);
            x += w;
            place
        })
        .collect()
}

/// Rows a legend takes.
fn legend_rows(items: &[(RGBColor, String)], x0: i32, max_x: i32) -> i32 {
    legend_places(items, x0, max_x)
        .last()
        .map_or(0, |(_, row)| row + 1)
}

/// Height of a legend row.
const LEGEND_ROW: i32 = 18;

/// Draws a legend (a swatch and a label per item) from `(x0, y)`, wrapping before `max_x`.
fn legend(
    area: &Area<'_>,
    items: &[(RGBColor, String)],
    (x0, y): (i32, i32),
    max_x: i32,
) -> Result<(), String> {
    for ((colour, label), (x, row)) in items.iter().zip(legend_places(items, x0, max_x)) {
        let y = y + row * LEGEND_ROW;
        area.draw(&Rectangle::new(
            [(x, y + 2), (x + 11, y + 13)],
            colour.filled(),
        ))
        .map_err(e)?;
        area.draw(&Text::new(label.clone(), (x + 16, y), legend_font()))
            .map_err(e)?;
    }
    Ok(())
}

/// An axis name written bottom to top, centred on `(x, y)`.
fn y_axis_label(area: &Area<'_>, label: &str, (x, y): (i32, i32)) -> Result<(), String> {
    area.draw(&Text::new(
        label.to_string(),
        (x, y),
        centred(font(12.0).color(&MUTED)).transform(FontTransform::Rotate270),
    ))
    .map_err(e)
}

/// The score bands of the score colours, for a legend.
fn score_legend() -> Vec<(RGBColor, String)> {
    [(0.0, "0–59"), (60.0, "60–79"), (80.0, "80–100")]
        .iter()
        .map(|(s, l)| (score_colour(*s), l.to_string()))
        .collect()
}

/// The severity colours named in the report language, for a legend.
fn severity_legend(c: &Catalogue) -> Vec<(RGBColor, String)> {
    ["high", "medium", "low"]
        .iter()
        .zip(SEVERITY)
        .map(|(s, colour)| (colour, c.t(&format!("severity.{s}")).to_string()))
        .collect()
}

/// Our score as a horizontal gauge (0-100) with the vendor's score marked beside it, and a
/// legend of the score colours.
pub(crate) fn score_gauge(c: &Catalogue, score: Option<f64>, vendor: Option<i64>) -> Chart {
    let mut alt = match score {
        Some(s) => c.f("chart.score_of", &[("score", &format!("{s:.1}"))]),
        None => c.t("chart.no_score").to_string(),
    };
    if let Some(v) = vendor {
        alt = format!("{alt}; {}", c.f("chart.vendor_score", &[("score", &v)]));
    }
    let drawn = svg("score gauge", 420, 112, |area| {
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
        legend(area, &score_legend(), (x0, y + 52), x1)
    });
    Chart::new(drawn, alt)
}

/// Results per state as a donut that says in its centre what it counts, with a legend that
/// names each state and its count.
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
        c,
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
            area.draw(&Circle::new(center, 52, PAPER.filled()))
                .map_err(e)?;
        } else {
            let sizes: Vec<f64> = visible.iter().map(|p| p.2 as f64).collect();
            let colours: Vec<RGBColor> = visible.iter().map(|p| status_colour(p.0)).collect();
            let labels: Vec<&str> = visible.iter().map(|_| "").collect();
            let mut pie = Pie::new(&center, &radius, &sizes, &colours, &labels);
            pie.start_angle(-90.0);
            pie.donut_hole(52.0);
            area.draw(&pie).map_err(e)?;
        }
        area.draw(&Text::new(
            total.to_string(),
            (center.0, center.1 - 20),
            centred(bold(22.0)),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            fit(c.t("chart.controls"), &font(12.0), 96),
            (center.0, center.1 + 6),
            centred(font(12.0).color(&MUTED)),
        ))
        .map_err(e)?;
        for (i, (status, name, n)) in parts.iter().enumerate() {
            let y = 22 + i as i32 * 28;
            area.draw(&Rectangle::new(
                [(190, y), (204, y + 14)],
                status_colour(*status).filled(),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                format!("{name}{}{n}", c.t("exec.colon")),
                (212, y - 1),
                font(14.0),
            ))
            .map_err(e)?;
        }
        Ok(())
    });
    Chart::new(drawn, alt)
}

/// Failed controls per severity as vertical bars.
pub(crate) fn severity_bars(c: &Catalogue, high: u64, medium: u64, low: u64) -> Chart {
    bars(
        Bars {
            c,
            chart: "failures by severity",
            title: c.t("chart.failed_by_severity"),
            legend: severity_legend(c),
            x_axis: c.t("chart.axis.severity"),
            y_axis: c.t("chart.axis.failed_controls"),
            pitch: 76,
        },
        &[
            (c.t("severity.high"), high),
            (c.t("severity.medium"), medium),
            (c.t("severity.low"), low),
        ],
        &SEVERITY,
    )
}

/// The label of score band `i` of the histogram: `0–9`... `80–89`, `90–100`.
fn band(i: usize) -> String {
    let hi = if i == 9 { 100 } else { i * 10 + 9 };
    format!("{}–{hi}", i * 10)
}

/// Accounts per score band (0–9, 10–19, ... 90–100).
pub(crate) fn score_histogram(c: &Catalogue, scores: &[f64]) -> Chart {
    let mut bins = [0u64; 10];
    for s in scores {
        bins[((s / 10.0).floor().max(0.0) as usize).min(9)] += 1;
    }
    let labels: Vec<String> = (0..10).map(band).collect();
    let data: Vec<(&str, u64)> = labels.iter().map(|l| l.as_str()).zip(bins).collect();
    let colours: Vec<RGBColor> = (0..10).map(|i| score_colour(i as f64 * 10.0)).collect();
    bars(
        Bars {
            c,
            chart: "accounts by score",
            title: c.t("chart.accounts_by_score"),
            legend: score_legend(),
            x_axis: c.t("chart.axis.score"),
            y_axis: c.t("chart.axis.accounts"),
            pitch: 46,
        },
        &data,
        &colours,
    )
}

/// What a bar chart shows, besides its data.
struct Bars<'a> {
    /// The catalogue of the report language.
    c: &'a Catalogue,
    chart: &'static str,
    title: &'a str,
    legend: Vec<(RGBColor, String)>,
    x_axis: &'a str,
    y_axis: &'a str,
    /// Horizontal distance between two bars.
    pitch: i32,
}

fn bars(spec: Bars, data: &[(&str, u64)], colours: &[RGBColor]) -> Chart {
    let left = 52i32;
    let pitch = spec.pitch;
    let width = (left + data.len() as i32 * pitch + 12).max(320);
    let rows = legend_rows(&spec.legend, left, width - 8);
    let top = 32 + rows * LEGEND_ROW + 20;
    let bottom = top + 130;
    let height = bottom + 48;
    let drawn = svg(spec.chart, width as u32, height as u32, |area| {
        area.draw(&Text::new(spec.title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        legend(area, &spec.legend, (left, 32), width - 8)?;
        y_axis_label(area, spec.y_axis, (8, (top + bottom) / 2))?;
        let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        for (value, y) in [(0, bottom), (max, top)] {
            area.draw(&Text::new(
                value.to_string(),
                (left - 8, y - 7),
                right(font(11.0).color(&MUTED)),
            ))
            .map_err(e)?;
        }
        let bar = pitch - 12;
        for (i, (label, n)) in data.iter().enumerate() {
            let x = left + i as i32 * pitch + 4;
            let h = ((*n as f64 / max as f64) * (bottom - top) as f64).round() as i32;
            area.draw(&Rectangle::new(
                [(x, top), (x + bar, bottom)],
                TRACK.filled(),
            ))
            .map_err(e)?;
            let colour = colours.get(i).copied().unwrap_or(ACCENT);
            if h > 0 {
                area.draw(&Rectangle::new(
                    [(x, bottom - h), (x + bar, bottom)],
                    colour.filled(),
                ))
                .map_err(e)?;
            }
            area.draw(&Text::new(
                n.to_string(),
                (x + bar / 2, (bottom - h).min(bottom - 2) - 17),
                centred(bold(12.0)),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                fit(label, &font(12.0), pitch - 2),
                (x + bar / 2, bottom + 6),
                centred(font(12.0)),
            ))
            .map_err(e)?;
        }
        area.draw(&PathElement::new(
            vec![(left - 4, bottom), (width - 8, bottom)],
            MUTED.stroke_width(1),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            spec.x_axis.to_string(),
            (left + data.len() as i32 * pitch / 2, bottom + 26),
            centred(font(12.0).color(&MUTED)),
        ))
        .map_err(e)
    });
    Chart::new(drawn, alt_text(spec.c, spec.title, data))
}

/// The results of a framework's requirements, in the order of [`REQUIREMENT_STATES`].
pub(crate) const REQUIREMENT_STATES: [RequirementStatus; 6] = [
    RequirementStatus::Pass,
    RequirementStatus::Fail,
    RequirementStatus::Excepted,
    RequirementStatus::NotApplicable,
    RequirementStatus::NotEvaluable,
    RequirementStatus::NotCovered,
];

/// The bar colour of a requirement result: its state's colour, and a light grey for "not
/// covered by this evidence" (apart from "not evaluable" in the chart, which has no label
/// inside the bar).
fn requirement_colour(status: RequirementStatus) -> RGBColor {
    match status {
        RequirementStatus::NotCovered => rgb(Colour::hex(0xADB5BD)),
        s => status_colour(theme::requirement_tone(s)),
    }
}

/// A framework's requirements by result (`counts` in the order of [`REQUIREMENT_STATES`]),
/// as vertical bars with a legend of the results; `title` names the framework.
pub(crate) fn requirement_bars(c: &Catalogue, title: &str, counts: [u64; 6]) -> Chart {
    let names: Vec<&str> = REQUIREMENT_STATES
        .iter()
        .map(|s| c.t(&format!("chart.legend.{}", s.as_str())))
        .collect();
    let legend = REQUIREMENT_STATES
        .iter()
        .zip(&names)
        .map(|(s, n)| (requirement_colour(*s), n.to_string()))
        .collect();
    let colours: Vec<RGBColor> = REQUIREMENT_STATES
        .iter()
        .map(|s| requirement_colour(*s))
        .collect();
    let data: Vec<(&str, u64)> = names.iter().copied().zip(counts).collect();
    bars(
        Bars {
            c,
            chart: "requirements by result",
            title,
            legend,
            x_axis: c.t("chart.axis.result"),
            y_axis: c.t("chart.axis.requirements"),
            pitch: 84,
        },
        &data,
        &colours,
    )
}

/// Severity colours: high, medium, low.
const SEVERITY: [RGBColor; 3] = [
    rgb(theme::severity(Severity::High)),
    rgb(theme::severity(Severity::Medium)),
    rgb(theme::severity(Severity::Low)),
];

/// Width of a trend chart with `n` periods.
fn trend_width(n: usize) -> u32 {
    (100 + n as u32 * 80).max(340)
}

/// Score per period as a line (a period without a score leaves a gap), 0-100 scale.
pub(crate) fn score_trend(c: &Catalogue, title: &str, points: &[(String, Option<f64>)]) -> Chart {
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
    let alt = alt_text(c, title, &shown);
    let drawn = svg("score trend", width, 244, |area| {
        area.draw(&Text::new(title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        let (top, bottom, left) = (44i32, 176i32, 56i32);
        y_axis_label(area, c.t("chart.axis.score"), (6, (top + bottom) / 2))?;
        let y = |score: f64| bottom - ((score / 100.0) * (bottom - top) as f64).round() as i32;
        for level in [0.0, 50.0, 100.0] {
            area.draw(&PathElement::new(
                vec![(left, y(level)), (width as i32 - 14, y(level))],
                TRACK.stroke_width(1),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                format!("{level:.0}"),
                (left - 6, y(level) - 7),
                right(font(11.0)),
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
                    (x(i), y(*s) - 22),
                    centred(bold(12.0)),
                ))
                .map_err(e)?;
            }
            area.draw(&Text::new(
                label.clone(),
                (x(i), bottom + 12),
                centred(font(11.0)),
            ))
            .map_err(e)?;
        }
        area.draw(&Text::new(
            c.t("chart.axis.period").to_string(),
            (left + (width as i32 - left) / 2, bottom + 36),
            centred(font(12.0).color(&MUTED)),
        ))
        .map_err(e)
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
    let alt = alt_text(c, title, &shown);
    let items = severity_legend(c);
    let left = 56i32;
    let rows = legend_rows(&items, left, width as i32 - 8);
    let top = 32 + rows * LEGEND_ROW + 22;
    let bottom = top + 114;
    let height = (bottom + 48) as u32;
    let drawn = svg("severity trend", width, height, |area| {
        area.draw(&Text::new(title.to_string(), (10, 6), bold(15.0)))
            .map_err(e)?;
        legend(area, &items, (left, 32), width as i32 - 8)?;
        y_axis_label(
            area,
            c.t("chart.axis.failed_controls"),
            (6, (top + bottom) / 2),
        )?;
        let max = points
            .iter()
            .map(|(_, f)| f.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        for (value, y) in [(0, bottom), (max, top)] {
            area.draw(&Text::new(
                value.to_string(),
                (left - 6, y - 7),
                right(font(11.0).color(&MUTED)),
            ))
            .map_err(e)?;
        }
        for (i, (label, fails)) in points.iter().enumerate() {
            let x = left + 14 + i as i32 * 80;
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
                (x + 22, base - 18),
                centred(bold(12.0)),
            ))
            .map_err(e)?;
            area.draw(&Text::new(
                label.clone(),
                (x + 22, bottom + 12),
                centred(font(11.0)),
            ))
            .map_err(e)?;
        }
        area.draw(&Text::new(
            c.t("chart.axis.period").to_string(),
            (left + (width as i32 - left) / 2, bottom + 32),
            centred(font(12.0).color(&MUTED)),
        ))
        .map_err(e)
    });
    Chart::new(drawn, alt)
}

/// The most common failures: per control, its name in full (wrapped, never cut) over a
/// horizontal bar of its failing-account count. Narrow enough to read on a phone.
pub(crate) fn top_failures(c: &Catalogue, rows: &[(String, u64)], of: u64) -> Chart {
    const WIDTH: i32 = 520;
    const LINE: i32 = 18;
    let title = c.f("chart.most_common_failures", &[("n", &of)]);
    let alt = alt_text(c, &title, rows);
    let label_font = font(14.0);
    let lines: Vec<Vec<String>> = rows
        .iter()
        // A browser may draw a wider face than the one measured here: leave it room.
        .map(|(label, _)| wrap(label, &label_font, (WIDTH - 20) * 4 / 5))
        .collect();
    let title_lines = wrap(&title, &bold(15.0), WIDTH - 20);
    let items = vec![(
        status_colour(Status::Fail),
        c.t("chart.axis.accounts_failing").to_string(),
    )];
    let head = 8 + title_lines.len() as i32 * 20 + LEGEND_ROW + 10;
    let row_height = |n: usize| n as i32 * LINE + 26;
    let height = head + lines.iter().map(|l| row_height(l.len())).sum::<i32>() + 6;
    let drawn = svg(
        "most common failures",
        WIDTH as u32,
        height as u32,
        |area| {
            for (i, line) in title_lines.iter().enumerate() {
                area.draw(&Text::new(
                    line.clone(),
                    (10, 6 + i as i32 * 20),
                    bold(15.0),
                ))
                .map_err(e)?;
            }
            legend(area, &items, (10, head - LEGEND_ROW - 8), WIDTH - 10)?;
            let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
            let mut y = head;
            for ((_, n), label) in rows.iter().zip(&lines) {
                for (k, line) in label.iter().enumerate() {
                    area.draw(&Text::new(
                        line.clone(),
                        (10, y + k as i32 * LINE),
                        label_font.clone(),
                    ))
                    .map_err(e)?;
                }
                let bar_y = y + label.len() as i32 * LINE + 2;
                let w = ((*n as f64 / max as f64) * 420.0).round() as i32;
                area.draw(&Rectangle::new(
                    [(10, bar_y), (430, bar_y + 14)],
                    TRACK.filled(),
                ))
                .map_err(e)?;
                area.draw(&Rectangle::new(
                    [(10, bar_y), (10 + w, bar_y + 14)],
                    status_colour(Status::Fail).filled(),
                ))
                .map_err(e)?;
                area.draw(&Text::new(n.to_string(), (438, bar_y - 1), bold(13.0)))
                    .map_err(e)?;
                y += row_height(label.len());
            }
            Ok(())
        },
    );
    Chart::new(drawn, alt)
}

/// One row of the heat map: an account and a status per column.
#[derive(Debug, Clone)]
pub(crate) struct HeatRow {
    /// Account name.
    pub name: String,
    /// Account id.
    pub id: String,
    /// The account page, for the HTML (`None`: the row is not a link).
    pub href: Option<String>,
    /// Status per column, `None` when the control was not run for the account.
    pub cells: Vec<Option<Status>>,
}

/// Rows of one heat map in the PDF: 60 accounts make two pages.
pub(crate) const HEAT_ROWS_PER_PAGE: usize = 30;

/// `…` and the last six characters of a long account id.
fn short_id(id: &str) -> String {
    let n = id.chars().count();
    if n <= 8 {
        id.to_string()
    } else {
        format!("…{}", id.chars().skip(n - 6).collect::<String>())
    }
}

/// `text` escaped for SVG text or an attribute value.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Accounts x controls, one coloured cell per result; a letter in each cell names the state
/// so that colour is never the only signal. Rows name each account (name and short id) and
/// link to its page when the row has an `href`; columns are numbered, and a key under the
/// map gives each number's control (`columns` holds the controls' titles).
pub(crate) fn heat_map(c: &Catalogue, columns: &[String], rows: &[HeatRow]) -> Chart {
    // Each account's results by state (the states it has), in the legend's words.
    let states = [
        (Status::Fail, "fail"),
        (Status::Pass, "pass"),
        (Status::Excepted, "excepted"),
        (Status::NotApplicable, "not_applicable"),
        (Status::NotEvaluable, "not_evaluable"),
    ];
    let labels: Vec<String> = rows
        .iter()
        .map(|row| match row.id.is_empty() {
            true => row.name.clone(),
            false => c.f("ui.named", &[("name", &row.name), ("id", &row.id)]),
        })
        .collect();
    let shown: Vec<(&str, String)> = rows
        .iter()
        .zip(&labels)
        .map(|(row, label)| {
            let each: Vec<String> = states
                .iter()
                .filter_map(|(state, key)| {
                    let n = row.cells.iter().filter(|s| **s == Some(*state)).count();
                    (n > 0).then(|| format!("{} {n}", c.t(&format!("chart.legend.{key}"))))
                })
                .collect();
            (label.as_str(), each.join(", "))
        })
        .collect();
    let alt = alt_text(c, c.t("ui.heat_heading"), &shown);
    let cell = 18i32;
    let left = 250i32;
    let top = 56i32;
    let width = (left + columns.len() as i32 * cell + 12).max(520);
    let grid_bottom = top + rows.len() as i32 * cell;
    let items: Vec<(RGBColor, String)> = states
        .iter()
        .map(|(s, key)| {
            (
                status_colour(*s),
                format!("{} {}", letter(*s), c.t(&format!("chart.legend.{key}"))),
            )
        })
        .collect();
    let legend_y = grid_bottom + 10;
    let key_y = legend_y + legend_rows(&items, 6, width - 8) * LEGEND_ROW + 24;
    // The key: two columns of numbered control titles, wrapped.
    let key_font = font(11.0);
    let col_w = (width - 12) / 2;
    let half = columns.len().div_ceil(2);
    let key: Vec<Vec<String>> = columns
        .iter()
        .map(|t| wrap(t, &key_font, col_w - 34))
        .collect();
    let column_height =
        |entries: &[Vec<String>]| -> i32 { entries.iter().map(|l| l.len() as i32 * 14 + 3).sum() };
    let key_height = column_height(&key[..half]).max(column_height(&key[half..]));
    let height = key_y + 18 + key_height + 8;
    let name_font = font(12.0);
    let drawn = svg("heat map", width as u32, height as u32, |area| {
        area.draw(&Text::new(
            c.t("chart.axis.accounts").to_string(),
            (6, top - 20),
            bold(12.0),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            fit(c.t("chart.axis.controls"), &bold(12.0), width - left - 8),
            (left, top - 40),
            bold(12.0),
        ))
        .map_err(e)?;
        for j in 0..columns.len() {
            let x = left + j as i32 * cell + (cell - 2) / 2;
            area.draw(&Text::new(
                (j + 1).to_string(),
                (x, top - 16),
                centred(font(10.0).color(&MUTED)),
            ))
            .map_err(e)?;
        }
        for (i, row) in rows.iter().enumerate() {
            let y = top + i as i32 * cell;
            for (j, status) in row.cells.iter().enumerate() {
                let x = left + j as i32 * cell;
                let (colour, mark) = match status {
                    Some(s) => (status_colour(*s), letter(*s)),
                    None => (TRACK, ""),
                };
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell - 2, y + cell - 2)],
                    colour.filled(),
                ))
                .map_err(e)?;
                if !mark.is_empty() {
                    // Every state colour is chosen to read under white text.
                    area.draw(&Text::new(
                        mark,
                        (x + (cell - 2) / 2, y + 1),
                        centred(font(11.0).color(&PAPER)),
                    ))
                    .map_err(e)?;
                }
            }
        }
        legend(area, &items, (6, legend_y), width - 8)?;
        area.draw(&Text::new(
            c.t("chart.axis.key").to_string(),
            (6, key_y),
            bold(12.0),
        ))
        .map_err(e)?;
        for (half_i, entries) in [&key[..half], &key[half..]].iter().enumerate() {
            let x = 6 + half_i as i32 * col_w;
            let first = if half_i == 0 { 0 } else { half };
            let mut y = key_y + 18;
            for (k, lines) in entries.iter().enumerate() {
                area.draw(&Text::new(
                    (first + k + 1).to_string(),
                    (x + 22, y),
                    right(bold(11.0)),
                ))
                .map_err(e)?;
                for (l, line) in lines.iter().enumerate() {
                    area.draw(&Text::new(
                        line.clone(),
                        (x + 30, y + l as i32 * 14),
                        key_font.clone(),
                    ))
                    .map_err(e)?;
                }
                y += lines.len() as i32 * 14 + 3;
            }
        }
        Ok(())
    });
    // The row labels are written here rather than by plotters, so that a row can be a link.
    let drawn = drawn.map(|(svg, mut figure)| {
        let mut labels = String::new();
        for (i, row) in rows.iter().enumerate() {
            let y = top + i as i32 * cell + 1;
            let id = short_id(&row.id);
            let name = fit(&row.name, &name_font, 168);
            let size = |px: f64| px / 1.24;
            if let Some(figure) = &mut figure {
                // The same two text chunks as shapes. The id's tspan starts where the name's
                // baseline is (usvg carries the name's dy over as its y).
                let dy = 0.76 * size(12.0) as f32;
                let label = |text: &str, x: f32, y: f32, dy: f32, px: f64, colour: Colour| {
                    Shape::Text(Label {
                        text: Label::shown(text),
                        x,
                        y,
                        dy,
                        size: size(px) as f32,
                        bold: false,
                        colour,
                        anchor: Anchor::Start,
                        rotate: 0.0,
                    })
                };
                let y = y as f32;
                figure
                    .shapes
                    .push(label(&name, 6.0, y, dy, 12.0, theme::INK));
                figure
                    .shapes
                    .push(label(&id, 180.0, y + dy, 0.0, 11.0, theme::MUTED));
            }
            let text = format!(
                "<text x=\"6\" y=\"{y}\" dy=\"0.76em\" font-family=\"{FAMILY}\" font-size=\"{}\" fill=\"{}\">{}<tspan x=\"180\" font-size=\"{}\" fill=\"{}\">{}</tspan></text>",
                size(12.0),
                theme::INK.css(),
                xml_escape(&name),
                size(11.0),
                theme::MUTED.css(),
                xml_escape(&id),
            );
            match &row.href {
                Some(href) => {
                    labels += &format!(
                        "<a href=\"{}\"><title>{}</title>{text}</a>\n",
                        xml_escape(href),
                        xml_escape(&c.f("ui.named", &[("name", &row.name), ("id", &row.id)])),
                    )
                }
                None => labels += &format!("{text}\n"),
            }
        }
        let svg = match svg.rfind("</svg>") {
            Some(end) => format!("{}{labels}{}", &svg[..end], &svg[end..]),
            None => svg,
        };
        (svg, figure)
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

#[cfg(test)]
mod tests {
    use super::*;

    impl Chart {
        /// The SVG with each text on the line of its tags (plotters writes it on its own).
        fn flat(&self) -> String {
            self.svg().replace(">\n", ">").replace("\n<", "<")
        }
    }

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
                name: "<b>acct</b>".into(),
                id: "1\"2".into(),
                href: Some("accounts/a\"b.html".into()),
                cells: vec![Some(Status::Fail)],
            }],
        )
        .svg()
        .to_string();
        assert!(!heat.contains("\"onerror"));
        assert!(heat.contains("&lt;b&gt;acct"));
        assert!(heat.contains("<a href=\"accounts/a&quot;b.html\">"));
        assert!(!heat.contains("<b>"));
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
        let chart = Chart::new(drawn, String::new());
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
                name: "Acme".into(),
                id: "123".into(),
                href: None,
                cells: vec![Some(Status::Fail), Some(Status::Pass), Some(Status::Fail)],
            }],
        );
        assert_eq!(
            heat.alt(),
            "Accounts and controls: Acme (123): fail 2, pass 1"
        );
        let trend = score_trend(
            en(),
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

    #[test]
    fn every_chart_with_colour_has_a_legend_and_its_axes_are_named() {
        let histogram = score_histogram(en(), &[55.0, 59.9, 61.0, 100.0, 0.0]);
        let svg = histogram.flat();
        for band in ["0–9", "50–59", "60–69", "90–100"] {
            assert!(svg.contains(&format!(">{band}<")), "{band}");
        }
        for legend in ["0–59", "60–79", "80–100", ">Accounts<", ">Score<"] {
            assert!(svg.contains(legend), "{legend}");
        }
        assert!(histogram.alt().contains("50–59: 2") && histogram.alt().contains("90–100: 1"));
        let severity = severity_bars(en(), 1, 2, 3);
        for text in [
            ">High<",
            ">Medium<",
            ">Low<",
            ">Severity<",
            ">Failed controls<",
        ] {
            assert!(severity.flat().contains(text), "{text}");
        }
        let gauge = score_gauge(en(), Some(50.0), None);
        assert!(gauge.flat().contains(">60–79<"));
        let trend = severity_trend(en(), "Fails", &[("2026-Q3".into(), [1, 0, 2])]);
        for text in [">High<", ">Period<", ">Failed controls<"] {
            assert!(trend.flat().contains(text), "{text}");
        }
        let failures = top_failures(en(), &[("x".into(), 2)], 3);
        assert!(failures.flat().contains(">Accounts failing the control<"));
        let zh = Catalogue::get(aliaudit_core::i18n::Lang::Zh);
        assert!(score_histogram(zh, &[]).flat().contains(">账号<"));
    }

    #[test]
    fn the_donut_says_what_it_counts_in_its_centre() {
        let counts = Counts {
            pass: 30,
            fail: 8,
            excepted: 1,
            not_applicable: 0,
            not_evaluable: 2,
        };
        let svg = status_donut(en(), &counts).flat();
        assert!(svg.contains(">41<") && svg.contains(">controls<"), "{svg}");
        let zh = Catalogue::get(aliaudit_core::i18n::Lang::Zh);
        assert!(status_donut(zh, &counts).flat().contains(">个控制项<"));
    }

    #[test]
    fn long_failure_labels_wrap_and_are_never_cut() {
        let long = "Passwords expire after 365 days or more, or never, and nothing tells the users (pwd.max_age_v2)";
        let zh =
            "RAM 用户密码被阿里云评为强密码且控制台登录只能来自已知网络 (spr.password_strength)";
        let svg = top_failures(en(), &[(long.into(), 4), (zh.into(), 2)], 5).flat();
        assert!(!svg.contains('…'));
        for word in long.split(' ').chain(["(spr.password_strength)"]) {
            assert!(svg.contains(word), "{word}");
        }
        let style = font(14.0);
        let lines = wrap(long, &style, 300);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), long);
        assert!(lines.iter().all(|l| text_width(l, &style) <= 300));
        assert_eq!(
            wrap(zh, &style, 200).concat().replace(' ', ""),
            zh.replace(' ', "")
        );
    }

    fn rows(n: usize, linked: bool) -> Vec<HeatRow> {
        (0..n)
            .map(|i| HeatRow {
                name: format!("Account {i:02}"),
                id: format!("12345678901234{i:02}"),
                href: linked.then(|| format!("accounts/a{i:02}.html")),
                cells: vec![Some(Status::Pass), Some(Status::NotEvaluable), None],
            })
            .collect()
    }

    #[test]
    fn the_heat_map_names_and_links_every_account_and_numbers_its_columns() {
        let columns: Vec<String> = ["Avoid use of the root account", "MFA", "Other"]
            .map(String::from)
            .to_vec();
        let map = heat_map(en(), &columns, &rows(60, true));
        let svg = map.flat();
        for i in 0..60 {
            assert!(svg.contains(&format!(">Account {i:02}<")), "{i}");
            assert!(svg.contains(&format!(">…1234{i:02}<")), "{i}");
            assert!(
                svg.contains(&format!("<a href=\"accounts/a{i:02}.html\">")),
                "{i}"
            );
        }
        assert_eq!(svg.matches("<a href=").count(), 60);
        // Numbered columns and a key giving each number's control in plain words.
        assert!(svg.contains(">Avoid use of the root account<"));
        for legend in [">P pass<", ">? not evaluable<", ">- not applicable<"] {
            assert!(svg.contains(legend), "{legend}");
        }
        assert!(
            map.alt()
                .contains("Account 59 (1234567890123459): pass 1, not evaluable 1")
        );
        // Unlinked (the PDF): no link at all.
        let page = heat_map(en(), &columns, &rows(HEAT_ROWS_PER_PAGE, false));
        assert!(!page.flat().contains("<a "));
        assert!(page.flat().contains(">Account 29<"));
    }

    /// The drawable elements of an SVG in order, as (kind, text): `rect`, `polygon`,
    /// `polyline`, `line`, `circle`, or `text` with its content (a `tspan` is a text of its own).
    fn svg_elements(svg: &str) -> Vec<(String, String)> {
        let unescape = |t: &str| {
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        };
        let mut out = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            rest = &rest[start + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let Some(end) = rest.find('>') else { break };
            let self_closing = rest[..end].ends_with('/');
            rest = &rest[end + 1..];
            match name.as_str() {
                "rect" | "polygon" | "polyline" | "line" | "circle" => {
                    out.push((name, String::new()))
                }
                "text" | "tspan" if !self_closing => {
                    let content = &rest[..rest.find('<').unwrap_or(rest.len())];
                    out.push(("text".into(), Label::shown(&unescape(content))));
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn each_chart_figure_has_the_shapes_of_its_svg_in_order() {
        let zh = Catalogue::get(aliaudit_core::i18n::Lang::Zh);
        let heat_rows = vec![
            HeatRow {
                name: "Acme  <prod>".into(),
                id: "123456789012".into(),
                href: Some("accounts/a.html".into()),
                cells: vec![Some(Status::Fail), None, Some(Status::Pass)],
            },
            HeatRow {
                name: "生产账号".into(),
                id: "42".into(),
                href: None,
                cells: vec![Some(Status::Excepted), Some(Status::NotApplicable), None],
            },
        ];
        let columns: Vec<String> = ["MFA", "密码策略", "Keys & rotation"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let counts = Counts {
            pass: 5,
            fail: 3,
            excepted: 1,
            not_applicable: 2,
            not_evaluable: 1,
        };
        let points = vec![
            ("2026-Q2".to_string(), Some(61.0)),
            ("2026-Q3".to_string(), None),
            ("2026-Q4".to_string(), Some(72.5)),
        ];
        for c in [en(), zh] {
            let charts = [
                status_donut(c, &counts),
                severity_bars(c, 4, 0, 9),
                score_histogram(c, &[12.0, 55.5, 99.0, 100.0]),
                requirement_bars(c, "ISO 27001", [3, 2, 0, 1, 4, 0]),
                score_trend(c, "Score", &points),
                severity_trend(
                    c,
                    "Severity",
                    &[("Q1".into(), [1, 2, 3]), ("Q2".into(), [0, 0, 0])],
                ),
                top_failures(
                    c,
                    &[("ram.console_mfa".into(), 7), ("root.mfa".into(), 2)],
                    9,
                ),
                heat_map(c, &columns, &heat_rows),
            ];
            for chart in &charts {
                let figure = chart.figure().expect("every report chart has a figure");
                let shapes: Vec<(String, String)> = figure
                    .shapes
                    .iter()
                    .map(|s| match s {
                        Shape::Fill { points, .. } if points.len() == 4 => {
                            ("rect|polygon".into(), String::new())
                        }
                        Shape::Fill { .. } => ("polygon".into(), String::new()),
                        Shape::Stroke { closed: true, .. } => ("rect".into(), String::new()),
                        Shape::Stroke { points, .. } if points.len() == 2 => {
                            ("line|polyline".into(), String::new())
                        }
                        Shape::Stroke { .. } => ("polyline".into(), String::new()),
                        Shape::Circle { .. } => ("circle".into(), String::new()),
                        Shape::Text(l) => ("text".into(), l.text.clone()),
                    })
                    .collect();
                let elements = svg_elements(chart.svg());
                assert_eq!(shapes.len(), elements.len(), "{}", chart.svg());
                for ((kind, text), (element, content)) in shapes.iter().zip(&elements) {
                    assert!(
                        kind.split('|').any(|k| k == element),
                        "{kind} for {element}"
                    );
                    assert_eq!(text, content);
                }
                assert!(elements.iter().any(|(k, t)| k == "text" && !t.is_empty()));
            }
        }
    }

    #[test]
    fn an_html_only_chart_keeps_its_svg_and_words_but_no_shapes() {
        let rows = vec![HeatRow {
            name: "Acme".into(),
            id: "1234".into(),
            href: Some("accounts/acme.html".into()),
            cells: vec![Some(Status::Fail)],
        }];
        let chart = heat_map(en(), &["MFA".to_string()], &rows);
        assert!(chart.figure().is_some());
        let html = chart.clone().html_only();
        assert!(html.figure().is_none());
        assert_eq!((html.svg(), html.alt()), (chart.svg(), chart.alt()));
    }

    #[test]
    fn a_figure_keeps_the_canvas_and_text_geometry_of_the_svg() {
        let chart = severity_bars(en(), 4, 0, 9);
        let figure = chart.figure().unwrap();
        let svg = chart.svg();
        assert!(svg.contains(&format!(
            "width=\"{}\" height=\"{}\"",
            figure.width, figure.height
        )));
        // A label's origin, size and anchor are the SVG's x, y, font-size and text-anchor.
        for shape in &figure.shapes {
            let Shape::Text(l) = shape else { continue };
            let anchor = match l.anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let tag = format!(
                "<text x=\"{}\" y=\"{}\" dy=\"{}\" text-anchor=\"{anchor}\"",
                l.x,
                l.y,
                if (l.dy - 0.76 * l.size).abs() < 1e-4 {
                    "0.76em"
                } else if (l.dy - 0.25 * l.size).abs() < 1e-4 {
                    "0.5ex"
                } else {
                    "-0.5ex"
                },
            );
            let at = svg.find(&tag).unwrap_or_else(|| panic!("{tag} in {svg}"));
            let element = &svg[at..at + svg[at..].find('>').unwrap()];
            let size = element.split("font-size=\"").nth(1).unwrap();
            let size: f64 = size[..size.find('"').unwrap()].parse().unwrap();
            assert_eq!(size as f32, l.size, "{element}");
            assert_eq!(
                element.contains("font-weight=\"bold\""),
                l.bold,
                "{element}"
            );
        }
    }

    proptest::proptest! {
        /// A chart's own styles are measured from the advance table to the pixel plotters
        /// measures: text in Latin, CJK, symbols, controls and astral characters, at the sizes
        /// charts use and odd ones, regular and bold.
        #[test]
        fn tabled_widths_are_the_widths_plotters_measures(
            text in "(?s).{0,40}|[a-zA-Z0-9 .,()%\\u{2000}-\\u{206f}-]{0,60}|[\\u{4e00}-\\u{4fff}a-z ]{0,30}",
            size in proptest::sample::select(vec![9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 16.0, 20.0, 28.0, 10.5, 7.3]),
            heavy in proptest::bool::ANY,
        ) {
            let style = if heavy { bold(size) } else { font(size) };
            let plotters = style.font.box_size(&text).map_or(0, |b| b.0 as i32);
            proptest::prop_assert!(Advances::get().is_some());
            proptest::prop_assert_eq!(text_width(&text, &style), plotters);
        }
    }
}
