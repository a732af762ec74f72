//! Render stage, PDF layout: our own small layout engine over krilla (krilla draws, it does
//! not lay out). Text is measured with the embedded font's advances and broken where
//! UAX #14 allows (the `unicode-linebreak` crate: spaces, between ideographs and Hangul
//! syllables, never before closing punctuation); tables break across pages with their header
//! repeated, a row taller than a page continuing on the next; headings become the document
//! outline.
//!
//! Layout produces pages of drawing operations first and draws them second, so every footer
//! can say "Page X of Y". Every operation carries its place in the document's structure (a
//! heading, a paragraph, a table cell, a figure...) or marks an artifact (page headers and
//! footers, rules, backgrounds, repeated table headers): the PDF is tagged (PDF/UA-1) and
//! archival (PDF/A-3b), both checked by krilla's validators when the document is written.
//! Pure: bytes out, no files, no clock.

use std::collections::BTreeSet;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};

use ab_glyph::FontRef;
use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, ListNumbering, SpanTag, TableHeaderScope, Tag,
    TagGroup, TagKind, TagTree,
};
use krilla::text::Font;
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::charts::Chart;
use crate::figure::{Anchor, Figure, Label, Shape};
use crate::fonts::{FONT_BOLD, FONT_REGULAR};
use crate::theme::{ACCENT, BACKGROUND, Colour, INK, LINE, MUTED, WHITE};

/// A4 in points.
pub(crate) const PAGE_W: f32 = 595.28;
/// A4 in points.
pub(crate) const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 48.0;
const MARGIN_TOP: f32 = 64.0;
const MARGIN_BOTTOM: f32 = 60.0;
/// Width available to content.
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Type sizes, in points.
pub mod size {
    /// Cover: the report's subject.
    pub const COVER_TITLE: f32 = 26.0;
    /// Cover: the company.
    pub const COVER_COMPANY: f32 = 12.0;
    /// Cover: the kind of report, and the facts lines.
    pub const COVER_LINE: f32 = 11.0;
    /// Cover: as-of, preparer and contact lines.
    pub const COVER_NOTE: f32 = 10.0;
    /// A statement standing alone under a heading.
    pub const LEAD: f32 = 9.5;
    /// Body paragraphs (and the cover's smallest line).
    pub const BODY: f32 = 9.0;
    /// Notes, list lines and captions.
    pub const NOTE: f32 = 8.5;
    /// Small print under a table.
    pub const SMALL: f32 = 8.0;
    /// Tables of few, short columns.
    pub const TABLE_LOOSE: f32 = 8.5;
    /// Most tables.
    pub const TABLE: f32 = 8.0;
    /// Tables of long text (resources, the register, the controls' logic).
    pub const TABLE_DENSE: f32 = 7.5;
    /// The evidence manifest (paths and hashes).
    pub const TABLE_MANIFEST: f32 = 7.0;
}

/// Space between a table cell's edge and its text.
const CELL_PAD: f32 = 4.0;
/// Space between a badge's edge and its text.
const BADGE_PAD: f32 = 4.0;
/// Table line height, in multiples of the type size.
const TABLE_LEADING: f32 = 1.35;
/// Space below a table.
const TABLE_GAP: f32 = 8.0;
/// The smallest a chart is shrunk to fit the rest of a page ([`Doc::chart`]).
const CHART_MIN_SCALE: f32 = 0.8;
/// Between the links of a cell ([`Cell::jump`]).
const JUMP_SEPARATOR: &str = "  |  ";

/// The structure elements of a table cell: its TD, the Link of a linked cell, and the Link
/// of each of its jumps.
struct CellNodes {
    td: usize,
    link: Option<usize>,
    jumps: Vec<usize>,
}

/// What [`Doc::row_part`] draws a row from: each cell's structure elements, lines (text,
/// then links), which links each link line holds, and the columns.
struct RowParts<'p, 'c> {
    cells: &'p [CellNodes],
    wrapped: &'p [Vec<String>],
    jumps: &'p [Vec<Vec<usize>>],
    widths: &'p [f32],
    columns: &'p [Column<'c>],
}

/// Glyph id and advance (in em) of every character a face maps: a dense table for the Basic
/// Multilingual Plane (looked up for every character laid out, so no hashing) and a map for
/// the rest. Glyph 0 (`.notdef`) marks a character the face does not have.
struct Metrics {
    bmp: Vec<(u16, f32)>,
    astral: std::collections::HashMap<char, (u16, f32)>,
}

impl Metrics {
    #[inline]
    fn get(&self, c: char) -> Option<(u16, f32)> {
        let found = match self.bmp.get(c as usize) {
            Some(&m) => m,
            None => *self.astral.get(&c)?,
        };
        (found.0 != 0).then_some(found)
    }
}

/// A glyph as the font lays it out: glyph `id`, for the text in `text_range`, advancing by
/// `x_advance` (in ems), with no offset.
fn plain_glyph(
    id: u32,
    text_range: std::ops::Range<usize>,
    x_advance: f32,
) -> krilla::text::KrillaGlyph {
    krilla::text::KrillaGlyph {
        glyph_id: krilla::text::GlyphId::new(id),
        text_range,
        x_advance,
        x_offset: 0.0,
        y_offset: 0.0,
        y_advance: 0.0,
        location: None,
    }
}

fn metrics_of(font: &impl ab_glyph::Font) -> Metrics {
    let units = font.units_per_em().unwrap_or(1000.0);
    let mut metrics = Metrics {
        bmp: vec![(0, 0.0); 0x10000],
        astral: std::collections::HashMap::new(),
    };
    for (id, c) in font.codepoint_ids() {
        let entry = (id.0, font.h_advance_unscaled(id) / units);
        match metrics.bmp.get_mut(c as usize) {
            Some(slot) => *slot = entry,
            None => {
                metrics.astral.insert(c, entry);
            }
        }
    }
    metrics
}

/// The fonts of a run: parsed once, shared by every thread.
pub struct Fonts {
    regular: Font,
    bold: Font,
    /// Glyph id and advance (in em) of every character the faces map, looked up once.
    metrics_regular: Metrics,
    metrics_bold: Metrics,
    /// `--font`: used for characters the embedded faces lack.
    fallback: Option<(Font, Metrics)>,
    /// The machine's fonts, scanned on the first character that neither face has.
    system: std::sync::OnceLock<Mutex<SystemFonts>>,
    svg: usvg::Options<'static>,
    missing: Mutex<BTreeSet<char>>,
    /// Chart labels' shaper (see [`Shaper`]).
    shaper: Shaper,
}

/// A shaping plan's face (bold or not) and script.
type PlanKey = (bool, rustybuzz::Script);

/// Shapes chart labels with the embedded faces as usvg did when charts went through SVG
/// (rustybuzz, kerning on), so that they sit where they did; a shaping plan is built once
/// per face and script instead of for every label.
struct Shaper {
    /// Regular and bold.
    faces: [rustybuzz::Face<'static>; 2],
    plans: Mutex<Vec<(PlanKey, Arc<rustybuzz::ShapePlan>)>>,
}

impl Shaper {
    fn new() -> Option<Shaper> {
        Some(Shaper {
            faces: [
                rustybuzz::Face::from_slice(FONT_REGULAR, 0)?,
                rustybuzz::Face::from_slice(FONT_BOLD, 0)?,
            ],
            plans: Mutex::new(Vec::new()),
        })
    }

    /// The glyphs of `text` in order, with the face's units per em.
    fn shape(&self, text: &str, bold: bool) -> (Vec<Shaped>, f32) {
        let face = &self.faces[usize::from(bold)];
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        buffer.guess_segment_properties();
        // Guessing sets the script only (rustybuzz leaves the language unset), so a plan
        // is one face and script.
        let key = (bold, buffer.script());
        let plan = {
            let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
            match plans.iter().find(|(k, _)| *k == key) {
                Some((_, plan)) => plan.clone(),
                None => {
                    let plan = Arc::new(rustybuzz::ShapePlan::new(
                        face,
                        rustybuzz::Direction::LeftToRight,
                        Some(key.1),
                        None,
                        &[],
                    ));
                    plans.push((key, plan.clone()));
                    plan
                }
            }
        };
        let output = rustybuzz::shape_with_plan(face, &plan, buffer);
        let infos = output.glyph_infos();
        let glyphs = infos
            .iter()
            .zip(output.glyph_positions())
            .enumerate()
            .map(|(i, (info, pos))| {
                let start = info.cluster as usize;
                let end = infos
                    .get(i + 1)
                    .map_or(text.len(), |next| next.cluster as usize);
                Shaped {
                    id: info.glyph_id,
                    cluster: info.cluster,
                    text: start..end.max(start),
                    advance: pos.x_advance,
                    dx: pos.x_offset,
                    dy: pos.y_offset,
                }
            })
            .collect();
        (glyphs, face.units_per_em() as f32)
    }
}

/// A shaped glyph (font units).
struct Shaped {
    id: u32,
    cluster: u32,
    text: std::ops::Range<usize>,
    advance: i32,
    dx: i32,
    dy: i32,
}

/// Errors setting fonts up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FontError(String);

/// Which face draws a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Main,
    Fallback,
    /// A system font, by its index in [`SystemFonts::candidates`].
    System(usize),
    /// No font has the character: its place is left blank (PDF/A forbids `.notdef`).
    Missing,
}

/// The machine's fonts, as fontdb finds them (fontconfig's folders on Linux, the usual
/// folders elsewhere), searched when neither the embedded font nor `--font` has a character:
/// every face (sorted by file and index in the file, so the choice is stable) and the
/// characters it maps; a face is loaded for drawing only when one of its characters is needed.
struct SystemFonts {
    candidates: Vec<(std::path::PathBuf, u32, std::collections::HashSet<char>)>,
    loaded: std::collections::BTreeMap<usize, (Font, Metrics)>,
}

impl SystemFonts {
    fn scan() -> SystemFonts {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        let mut faces: Vec<(std::path::PathBuf, u32, fontdb::ID)> = db
            .faces()
            .filter_map(|f| match &f.source {
                fontdb::Source::File(path) => Some((path.clone(), f.index, f.id)),
                _ => None,
            })
            .collect();
        faces.sort();
        // A folder fontconfig names twice gives its faces twice.
        faces.dedup_by(|a, b| (&a.0, a.1) == (&b.0, b.1));
        let candidates = faces
            .into_iter()
            .filter_map(|(path, index, id)| {
                let chars = db.with_face_data(id, |data, index| {
                    let font = FontRef::try_from_slice_and_index(data, index).ok()?;
                    Some(
                        ab_glyph::Font::codepoint_ids(&font)
                            .map(|(_, c)| c)
                            .collect(),
                    )
                })??;
                Some((path, index, chars))
            })
            .collect();
        SystemFonts {
            candidates,
            loaded: std::collections::BTreeMap::new(),
        }
    }

    /// The first font that has `c`: its index, glyph id and advance.
    fn find(&mut self, c: char) -> Option<(usize, u16, f32)> {
        let index = self
            .candidates
            .iter()
            .position(|(_, _, chars)| chars.contains(&c))?;
        if !self.loaded.contains_key(&index) {
            let (path, face, _) = &self.candidates[index];
            let bytes = std::fs::read(path).ok()?;
            let metrics = metrics_of(&FontRef::try_from_slice_and_index(&bytes, *face).ok()?);
            let font = Font::new(Arc::new(bytes).into(), *face)?;
            self.loaded.insert(index, (font, metrics));
        }
        let (_, metrics) = self.loaded.get(&index)?;
        let (id, advance) = metrics.get(c)?;
        Some((index, id, advance))
    }
}

impl Fonts {
    /// Loads the embedded Noto Sans CJK SC subset (regular and bold), and `fallback` (a TTF or
    /// OTF file) for characters the subset lacks.
    pub fn load(fallback: Option<&std::path::Path>) -> Result<Fonts, FontError> {
        let embedded = |what: &str| FontError(format!("the embedded {what} font cannot be read"));
        let regular = Font::new(FONT_REGULAR.into(), 0).ok_or_else(|| embedded("regular"))?;
        let bold = Font::new(FONT_BOLD.into(), 0).ok_or_else(|| embedded("bold"))?;
        let metrics_regular =
            metrics_of(&FontRef::try_from_slice(FONT_REGULAR).map_err(|_| embedded("regular"))?);
        let metrics_bold =
            metrics_of(&FontRef::try_from_slice(FONT_BOLD).map_err(|_| embedded("bold"))?);
        let fallback = match fallback {
            None => None,
            Some(path) => {
                let bad = |why: String| FontError(format!("--font {}: {why}", path.display()));
                let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
                let metrics = metrics_of(
                    &ab_glyph::FontRef::try_from_slice(&bytes)
                        .map_err(|_| bad("not a TrueType or OpenType font".into()))?,
                );
                let font = Font::new(Arc::new(bytes).into(), 0)
                    .ok_or_else(|| bad("not a TrueType or OpenType font".into()))?;
                Some((font, metrics))
            }
        };
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT_REGULAR.to_vec());
        db.load_font_data(FONT_BOLD.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|(name, _)| name.clone()))
            .unwrap_or_else(|| "Noto Sans CJK SC".into());
        db.set_sans_serif_family(family.clone());
        // Nothing an SVG (a logo) names is read at render time: no file, only checked
        // `data:` images (see `branding::image_resolver`).
        let svg = usvg::Options {
            font_family: family,
            fontdb: Arc::new(db),
            resources_dir: None,
            image_href_resolver: aliaudit_core::branding::image_resolver(),
            ..usvg::Options::default()
        };
        Ok(Fonts {
            regular,
            bold,
            metrics_regular,
            metrics_bold,
            fallback,
            system: std::sync::OnceLock::new(),
            svg,
            missing: Mutex::new(BTreeSet::new()),
            shaper: Shaper::new().ok_or_else(|| embedded("shaping"))?,
        })
    }

    #[inline]
    fn metrics(&self, bold: bool) -> &Metrics {
        if bold {
            &self.metrics_bold
        } else {
            &self.metrics_regular
        }
    }

    /// The face that draws `c`, and its glyph id and advance.
    ///
    /// Every character drawn or measured comes here, several times: the embedded faces'
    /// table is read inline, and the other faces are searched out of line
    /// ([`Fonts::lookup_other`]), so that the common case needs no call.
    #[inline]
    fn lookup(&self, c: char, bold: bool) -> (Face, u16, f32) {
        match self.metrics(bold).get(c) {
            Some((id, adv)) => (Face::Main, id, adv),
            None => self.lookup_other(c),
        }
    }

    /// [`Fonts::lookup`] of a character the embedded faces lack.
    #[cold]
    #[inline(never)]
    fn lookup_other(&self, c: char) -> (Face, u16, f32) {
        if let Some((_, m)) = &self.fallback
            && let Some((id, adv)) = m.get(c)
        {
            return (Face::Fallback, id, adv);
        }
        if !c.is_control()
            && let Ok(mut system) = self
                .system
                .get_or_init(|| Mutex::new(SystemFonts::scan()))
                .lock()
            && let Some((index, id, adv)) = system.find(c)
        {
            return (Face::System(index), id, adv);
        }
        (Face::Main, 0, 0.5)
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        text.chars().map(|c| self.lookup(c, bold).2).sum::<f32>() * size
    }

    /// Width of one character at `size` points: `width` of it alone, without a string.
    fn char_width(&self, c: char, size: f32, bold: bool) -> f32 {
        self.lookup(c, bold).2 * size
    }

    /// Runs of `text` by face, each with its glyphs (one per character, with the font's
    /// advances). Our text is CJK and Latin sans: no ligatures or kerning are needed, and this
    /// skips shaping (krilla's shaper rebuilds its tables for every call, which made a PDF
    /// take a tenth of a second).
    fn runs<'t>(
        &self,
        text: &'t str,
        bold: bool,
    ) -> Vec<(Font, &'t str, Vec<krilla::text::KrillaGlyph>, f32)> {
        // One lookup per character: a run ends where the face changes.
        let mut runs = Vec::new();
        let mut run: Option<(Face, usize)> = None;
        let mut glyphs: Vec<krilla::text::KrillaGlyph> = Vec::new();
        let mut advance = 0.0f32;
        for (i, c) in text.char_indices() {
            let (face, id, adv) = self.lookup(c, bold);
            let face = if id == 0 { Face::Missing } else { face };
            let start = match run {
                Some((f, start)) if f == face => start,
                _ => {
                    if let Some((f, start)) = run {
                        let glyphs = std::mem::take(&mut glyphs);
                        runs.push(self.run(f, &text[start..i], glyphs, advance, bold));
                    }
                    advance = 0.0;
                    run = Some((face, i));
                    // At most one glyph per byte left: one allocation per run.
                    glyphs.reserve(text.len() - i);
                    i
                }
            };
            if face != Face::Missing {
                let at = i - start;
                glyphs.push(plain_glyph(u32::from(id), at..at + c.len_utf8(), adv));
            }
            advance += adv;
        }
        if let Some((f, start)) = run {
            runs.push(self.run(f, &text[start..], glyphs, advance, bold));
        }
        runs
    }

    /// One run of [`Fonts::runs`], with the font that draws it. A missing run has no glyphs.
    fn run<'t>(
        &self,
        face: Face,
        part: &'t str,
        glyphs: Vec<krilla::text::KrillaGlyph>,
        advance: f32,
        bold: bool,
    ) -> (Font, &'t str, Vec<krilla::text::KrillaGlyph>, f32) {
        let system = |index: usize| {
            self.system
                .get()
                .and_then(|s| s.lock().ok())
                .and_then(|s| s.loaded.get(&index).map(|(f, _)| f.clone()))
        };
        let font = match (face, &self.fallback) {
            (Face::Missing, _) => self.regular.clone(),
            (Face::Fallback, Some((f, _))) => f.clone(),
            (Face::System(index), _) => system(index).unwrap_or_else(|| self.regular.clone()),
            _ if bold => self.bold.clone(),
            _ => self.regular.clone(),
        };
        (font, part, glyphs, advance)
    }

    /// Characters no font could draw, over the whole run.
    pub fn missing(&self) -> BTreeSet<char> {
        self.missing.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn note_missing(&self, text: &str) {
        let absent: Vec<char> = text
            .chars()
            .filter(|c| !c.is_control() && self.lookup(*c, false).1 == 0)
            .collect();
        if !absent.is_empty()
            && let Ok(mut set) = self.missing.lock()
        {
            set.extend(absent);
        }
    }
}

/// One drawing operation on a page.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: Colour,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Colour,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        colour: Colour,
    },
    /// A chart or logo, scaled from its canvas to `w` x `h` at (`x`, `y`).
    Drawing {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        drawing: Drawing,
    },
    /// A clickable area that opens `target`; `alt` says where it leads.
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        target: LinkTo,
        alt: String,
    },
}

/// Where a link leads.
#[derive(Debug, Clone, PartialEq)]
enum LinkTo {
    /// Another report file, relative to this one.
    Uri(String),
    /// A place in this document: a page (from 0) and a height on it.
    Page(usize, f32),
    /// A named place in this document ([`Doc::anchor`]), resolved when the document is
    /// finished.
    Anchor(String),
}

/// Where a drawing operation belongs in the document's structure.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    /// Not content: page furniture, rules, backgrounds, a repeated table header.
    Artifact(ArtifactType),
    /// Content of the structure element with this index in [`Doc::nodes`].
    Node(usize),
}

/// A structure element being built: its tag, and the elements inside it (content drawn with
/// its mark becomes its leaves, in drawing order).
struct Node {
    tag: TagKind,
    children: Vec<usize>,
}

/// A table column: heading, share of the width, right-aligned or not.
#[derive(Debug, Clone, Copy)]
struct Column<'a> {
    title: &'a str,
    /// Share of the table width (the shares are normalised).
    share: f32,
    /// Right-align (numbers).
    right: bool,
}

/// A column of a [`Table`]: how it looks and how a row gives its cell.
struct TableColumn<'a, R> {
    look: Column<'a>,
    cell: Box<dyn Fn(&R) -> Cell + 'a>,
}

/// A table over rows of type `R`, built column by column: each column has its heading, its
/// share of the width and the function that makes its cell from a row, so every row has
/// exactly one cell per column. [`Doc::table`] lays it out.
pub struct Table<'a, R> {
    size: f32,
    columns: Vec<TableColumn<'a, R>>,
    /// Drawn above the header row where the table continues on a new page.
    continued: Option<String>,
}

impl<'a, R> Table<'a, R> {
    /// An empty table whose text is `size` points.
    pub fn new(size: f32) -> Table<'a, R> {
        Table {
            size,
            columns: Vec::new(),
            continued: None,
        }
    }

    /// A caption drawn above the repeated header row wherever the table continues on a new
    /// page ("Root MFA (ram.root_mfa) - continued"), so a reader knows whose rows these are.
    pub fn continued(mut self, caption: impl Into<String>) -> Self {
        self.continued = Some(caption.into());
        self
    }

    fn push(
        mut self,
        title: &'a str,
        share: f32,
        right: bool,
        cell: impl Fn(&R) -> Cell + 'a,
    ) -> Self {
        self.columns.push(TableColumn {
            look: Column {
                title,
                share,
                right,
            },
            cell: Box::new(cell),
        });
        self
    }

    /// Adds a left-aligned column: heading, share of the table width (the shares are
    /// normalised), and the cell of each row.
    pub fn column(self, title: &'a str, share: f32, cell: impl Fn(&R) -> Cell + 'a) -> Self {
        self.push(title, share, false, cell)
    }

    /// Adds a right-aligned column (numbers).
    pub fn number(self, title: &'a str, share: f32, cell: impl Fn(&R) -> Cell + 'a) -> Self {
        self.push(title, share, true, cell)
    }
}

/// A table cell: text, optionally shown as a coloured badge.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The words shown.
    pub text: String,
    /// Badge colour (white text on it), if a badge.
    pub badge: Option<Colour>,
    /// Set in the bold face.
    pub bold: bool,
    /// Opens this file (relative to the PDF) when the cell is clicked.
    pub link: Option<String>,
    /// A place named here (see [`Doc::anchor`]): the row's top.
    pub anchor: Option<String>,
    /// Links to places in the document, drawn on a line of their own below the text:
    /// (label, anchor, alternative text).
    pub jumps: Vec<(String, String, String)>,
}

impl Cell {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            badge: None,
            bold: false,
            link: None,
            anchor: None,
            jumps: Vec::new(),
        }
    }

    /// Adds a link to another report file.
    pub fn linked(mut self, uri: impl Into<String>) -> Cell {
        self.link = Some(uri.into());
        self
    }

    /// Names the row's place in the document: links to `anchor` lead to it.
    pub fn anchored(mut self, anchor: impl Into<String>) -> Cell {
        self.anchor = Some(anchor.into());
        self
    }

    /// Adds a link labelled `label` to the place named `anchor`, described by `alt` (for
    /// screen readers); the links of a cell share a line below its text.
    pub fn jump(
        mut self,
        label: impl Into<String>,
        anchor: impl Into<String>,
        alt: impl Into<String>,
    ) -> Cell {
        self.jumps.push((label.into(), anchor.into(), alt.into()));
        self
    }

    /// Bold text.
    pub fn bold(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            badge: None,
            bold: true,
            link: None,
            anchor: None,
            jumps: Vec::new(),
        }
    }

    /// A badge.
    pub fn badge(text: impl Into<String>, colour: Colour) -> Cell {
        Cell {
            text: text.into(),
            badge: Some(colour),
            bold: false,
            link: None,
            anchor: None,
            jumps: Vec::new(),
        }
    }
}

/// A document being laid out.
pub struct Doc<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    outline: Vec<(u8, String, usize, f32)>,
    header: String,
    /// Whether the current page is a cover (no header or footer).
    covers: Vec<bool>,
    /// Colour of figure-box rules (branding).
    accent: Colour,
    /// Colour of headings (the accent when it reads on white).
    heading: Colour,
    /// Drawing operations of every page, each with its place in the structure.
    marks: Vec<Vec<Mark>>,
    /// The structure elements, by index; `roots` are the top-level ones, in reading order.
    nodes: Vec<Node>,
    roots: Vec<usize>,
    /// Where the operations drawn now belong.
    mark: Mark,
    /// The last heading's level as drawn, and as tagged (tagged levels are never skipped).
    last_heading: (u8, u16),
    /// The contents page, when one was asked for: its page, its structure element and where
    /// its entries start. Filled in by [`Doc::finish`], when every heading's page is known.
    contents: Option<(usize, usize, f32)>,
    /// Named places: page and height ([`Doc::anchor`]).
    anchors: std::collections::BTreeMap<String, (usize, f32)>,
    /// Names waiting for the next drawing operation, which gives their place.
    pending_anchors: Vec<String>,
}

/// A file embedded in the PDF (PDF/A-3 associated file).
#[derive(Debug, Clone)]
pub struct Attachment {
    /// File name, as a reader lists it.
    pub name: String,
    /// MIME type (`application/json`, `text/csv`).
    pub mime: &'static str,
    /// What the file is, in words.
    pub description: String,
    /// The file, compressed.
    pub bytes: crate::zlib::Deflated,
}

/// What [`Doc::finish`] writes besides the pages: the document's metadata (title, language,
/// date), its language tag, and its embedded files.
pub struct Finish {
    /// Title, language, authors, dates.
    pub metadata: krilla::metadata::Metadata,
    /// The BCP 47 language of the text (`en`, `zh-CN`).
    pub lang: String,
    /// The modification date of the embedded files (the as-of).
    pub date: krilla::metadata::DateTime,
    /// Files embedded in the PDF.
    pub attachments: Vec<Attachment>,
}

/// `text` cut before each character that does not attach to the one before it: a base
/// character with the zero-width characters after it (combining marks, joiners, variation
/// selectors) stays whole.
fn clusters(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let mut chars = rest.char_indices();
        chars.next()?;
        let end = chars
            .find(|(_, c)| unicode_width::UnicodeWidthChar::width(*c) != Some(0))
            .map_or(rest.len(), |(i, _)| i);
        let (cluster, tail) = rest.split_at(end);
        rest = tail;
        Some(cluster)
    })
}

/// `paragraph` (no line feed) cut at its UAX #14 break opportunities: each piece ends where
/// a line may end, trailing spaces included.
fn break_pieces(paragraph: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    unicode_linebreak::linebreaks(paragraph).filter_map(move |(end, _)| {
        let piece = &paragraph[start..end];
        start = end;
        (!piece.is_empty()).then_some(piece)
    })
}

impl<'f> Doc<'f> {
    /// A new document whose page header shows `header`.
    pub fn new(fonts: &'f Fonts, header: impl Into<String>) -> Doc<'f> {
        let mut doc = Doc {
            fonts,
            pages: Vec::new(),
            y: 0.0,
            outline: Vec::new(),
            header: header.into(),
            covers: Vec::new(),
            accent: ACCENT,
            heading: ACCENT,
            marks: Vec::new(),
            nodes: Vec::new(),
            roots: Vec::new(),
            mark: Mark::Artifact(ArtifactType::Layout),
            last_heading: (0, 0),
            contents: None,
            anchors: std::collections::BTreeMap::new(),
            pending_anchors: Vec::new(),
        };
        doc.new_page(false);
        doc
    }

    fn new_page(&mut self, cover: bool) {
        self.pages.push(Vec::new());
        self.marks.push(Vec::new());
        self.covers.push(cover);
        self.y = if cover { 80.0 } else { MARGIN_TOP };
    }

    /// Sets the colour of figure-box rules and of headings.
    pub fn set_colours(&mut self, accent: Colour, heading: Colour) {
        self.accent = accent;
        self.heading = heading;
    }

    /// Starts a new page.
    pub fn page_break(&mut self) {
        self.new_page(false);
    }

    /// Starts a new page unless `height` points are left on this one: keeps a short part
    /// (a sign-off form) whole.
    pub fn keep(&mut self, height: f32) {
        self.ensure(height);
    }

    /// A contents page here, titled `title`: a new page listing the chapters (level 1
    /// headings, and level 2 while they fit) after it with their page numbers, each entry a
    /// link to its page; what follows must start a page of its own. The entries are drawn by
    /// [`Doc::finish`], once pages are known.
    pub fn contents(&mut self, title: &str) {
        self.page_break();
        self.heading(1, title);
        let node = self.node(Tag::TOC, None);
        self.contents = Some((self.pages.len() - 1, node, self.y));
    }

    /// Draws the contents page's entries: headings after it, with their page numbers.
    fn fill_contents(&mut self) {
        let Some((page, toc, top)) = self.contents else {
            return;
        };
        let size = size::BODY;
        let line_h = size * 1.9;
        let room = ((PAGE_H - MARGIN_BOTTOM - top) / line_h).floor().max(0.0) as usize;
        let after: Vec<(u8, String, usize, f32)> = self
            .outline
            .iter()
            .filter(|(_, _, p, _)| *p > page)
            .cloned()
            .collect();
        let all_fit = after.len() <= room;
        let entries: Vec<_> = after
            .into_iter()
            .filter(|(level, ..)| all_fit || *level <= 1)
            .take(room)
            .collect();
        let mut y = top;
        for (level, text, on, at) in entries {
            y += line_h;
            let indent = if level <= 1 { 0.0 } else { 16.0 };
            let bold = level <= 1;
            let number = (on + 1).to_string();
            let number_w = self.fonts.width(&number, size, bold);
            let width = CONTENT_W - indent - number_w - 12.0;
            let label = self
                .wrap(&text, size, bold, width)
                .into_iter()
                .next()
                .unwrap_or_default();
            let item = self.node(Tag::TOCI, Some(toc));
            let ops = [
                Op::Text {
                    x: MARGIN_X + indent,
                    y,
                    size,
                    bold,
                    colour: INK,
                    text: label,
                },
                Op::Text {
                    x: MARGIN_X + CONTENT_W - number_w,
                    y,
                    size,
                    bold,
                    colour: INK,
                    text: number,
                },
                Op::Link {
                    x: MARGIN_X,
                    y: y - size,
                    w: CONTENT_W,
                    h: line_h,
                    target: LinkTo::Page(on, (at - 20.0).max(0.0)),
                    alt: text.clone(),
                },
            ];
            for op in ops {
                self.pages[page].push(op);
                self.marks[page].push(Mark::Node(item));
            }
        }
    }

    /// Marks the current (first) page as a cover: no header or footer on it.
    pub fn cover(&mut self) {
        if let Some(last) = self.covers.last_mut() {
            *last = true;
        }
        self.y = 80.0;
    }

    fn room(&self) -> f32 {
        PAGE_H - MARGIN_BOTTOM - self.y
    }

    fn ensure(&mut self, height: f32) {
        if self.room() < height {
            self.new_page(false);
        }
    }

    /// Names the place of what is drawn next `name`: links to it ([`Cell::jump`]) lead there.
    /// The place is taken from the next drawing operation, so a heading that moves to a new
    /// page takes its anchor with it. A name used twice keeps its first place.
    pub fn anchor(&mut self, name: impl Into<String>) {
        self.pending_anchors.push(name.into());
    }

    fn op(&mut self, op: Op) {
        if !self.pending_anchors.is_empty() {
            let top = match &op {
                Op::Text { y, size, .. } => y - size,
                Op::Rect { y, .. } | Op::Drawing { y, .. } | Op::Link { y, .. } => *y,
                Op::Line { y1, y2, .. } => y1.min(*y2),
            };
            let page = self.pages.len().saturating_sub(1);
            for name in std::mem::take(&mut self.pending_anchors) {
                self.anchors.entry(name).or_insert((page, top));
            }
        }
        if let (Some(page), Some(marks)) = (self.pages.last_mut(), self.marks.last_mut()) {
            page.push(op);
            marks.push(self.mark);
        }
    }

    /// A new structure element with `tag`, inside `parent` (or at the top level).
    fn node(&mut self, tag: impl Into<TagKind>, parent: Option<usize>) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            tag: tag.into(),
            children: Vec::new(),
        });
        match parent {
            Some(p) => self.nodes[p].children.push(index),
            None => self.roots.push(index),
        }
        index
    }

    /// Marks what is drawn next as content of `node`.
    fn content(&mut self, node: usize) {
        self.mark = Mark::Node(node);
    }

    /// Marks what is drawn next as a layout artifact (rules, backgrounds).
    fn decoration(&mut self) {
        self.mark = Mark::Artifact(ArtifactType::Layout);
    }

    /// A full-width horizontal rule at the current position (an artifact).
    fn rule(&mut self, colour: Colour) {
        let y = self.y;
        let mark = self.mark;
        self.decoration();
        self.op(Op::Line {
            x1: MARGIN_X,
            y1: y,
            x2: MARGIN_X + CONTENT_W,
            y2: y,
            colour,
        });
        self.mark = mark;
    }

    /// Moves down by `dy` points.
    pub fn space(&mut self, dy: f32) {
        self.y += dy;
    }

    /// Breaks `text` into lines no wider than `width`: at line feeds, and where UAX #14 allows
    /// a break (after spaces, between ideographs or Hangul syllables, after hyphens and
    /// slashes; never before closing punctuation). A piece wider than the line (a hash, a
    /// run of Thai, which has no spaces) is broken between characters, never before a
    /// combining mark.
    pub fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            // Most texts fit: each check of the breaking path measures a prefix of the
            // paragraph (a word with the text before it, spaces included: a piece of spaces
            // alone, as after a no-break space, is checked with the spaces before it), so a
            // paragraph under the width (with a margin far above the rounding of an f32 sum)
            // is one line, found without looking for breaks.
            if self.fonts.width(paragraph, size, bold) <= width * 0.999 {
                lines.push(paragraph.trim_end().to_string());
                continue;
            }
            self.wrap_breaking(paragraph, size, bold, width, &mut lines);
        }
        lines
    }

    /// The lines of `paragraph` (no line feed), pushed to `lines`: `wrap` without its check
    /// for a paragraph that fits.
    fn wrap_breaking(
        &self,
        paragraph: &str,
        size: f32,
        bold: bool,
        width: f32,
        lines: &mut Vec<String>,
    ) {
        let mut line = String::new();
        let mut line_w = 0.0;
        for piece in break_pieces(paragraph) {
            // A piece is a word and the spaces after it; the spaces may hang past the end.
            let word = piece.trim_end_matches(char::is_whitespace);
            let w = self.fonts.width(word, size, bold);
            if line_w + w > width && !line.trim().is_empty() {
                lines.push(line.trim_end().to_string());
                line = String::new();
                line_w = 0.0;
            }
            if w > width {
                for cluster in clusters(word) {
                    let cw = self.fonts.width(cluster, size, bold);
                    if line_w + cw > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push_str(cluster);
                    line_w += cw;
                }
            } else {
                line.push_str(word);
                line_w += w;
            }
            for c in piece[word.len()..].chars() {
                line.push(c);
                line_w += self.fonts.char_width(c, size, bold);
            }
        }
        lines.push(line.trim_end().to_string());
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: Colour, text: &str) {
        self.fonts.note_missing(text);
        self.op(Op::Text {
            x,
            y,
            size,
            bold,
            colour,
            text: text.to_string(),
        });
    }

    /// A heading; levels 1 and 2 enter the outline. Kept with what follows it.
    pub fn heading(&mut self, level: u8, text: &str) {
        let size = match level {
            1 => 20.0,
            2 => 15.0,
            _ => 12.0,
        };
        self.ensure(size * 2.0 + 80.0);
        if self.y > MARGIN_TOP + 1.0 {
            self.y += size * 0.6;
        }
        let page = self.pages.len() - 1;
        if level <= 2 {
            self.outline.push((level, text.to_string(), page, self.y));
        }
        let tagged = tagged_level(self.last_heading, level);
        self.last_heading = (level, tagged);
        let node = self.node(
            Tag::Hn(
                NonZeroU16::new(tagged).unwrap_or(NonZeroU16::MIN),
                Some(text.to_string()),
            ),
            None,
        );
        self.content(node);
        for line in self.wrap(text, size, true, CONTENT_W) {
            self.y += size * 1.25;
            self.text_at(MARGIN_X, self.y, size, true, self.heading, &line);
        }
        self.decoration();
        if level <= 2 {
            self.y += 5.0;
            self.rule(LINE);
        }
        self.y += size * 0.5;
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, size: f32, colour: Colour) {
        let node = self.node(Tag::P, None);
        self.content(node);
        for line in self.wrap(text, size, false, CONTENT_W) {
            self.ensure(size * 1.45);
            self.y += size * 1.45;
            self.text_at(MARGIN_X, self.y, size, false, colour, &line);
        }
        self.decoration();
        self.y += size * 0.4;
    }

    /// A list: each item a wrapped paragraph after its label (`-`, or its number when
    /// `numbered`), drawn as `label item`.
    pub fn list(&mut self, items: &[String], numbered: bool, size: f32, colour: Colour) {
        if items.is_empty() {
            return;
        }
        let numbering = if numbered {
            ListNumbering::Decimal
        } else {
            ListNumbering::None
        };
        let list = self.node(Tag::L(numbering), None);
        for (i, item) in items.iter().enumerate() {
            let label = if numbered {
                format!("{}.", i + 1)
            } else {
                "-".to_string()
            };
            let li = self.node(Tag::LI, Some(list));
            let lbl = self.node(Tag::Lbl, Some(li));
            let body = self.node(Tag::LBody, Some(li));
            let lines = self.wrap(&format!("{label} {item}"), size, false, CONTENT_W);
            for (n, line) in lines.iter().enumerate() {
                self.ensure(size * 1.45);
                self.y += size * 1.45;
                let rest = line.strip_prefix(&format!("{label} "));
                match rest {
                    // The label, then the item's text where it was on the line.
                    Some(rest) if n == 0 => {
                        self.content(lbl);
                        self.text_at(MARGIN_X, self.y, size, false, colour, &label);
                        let x = MARGIN_X + self.fonts.width(&format!("{label} "), size, false);
                        self.content(body);
                        self.text_at(x, self.y, size, false, colour, rest);
                    }
                    _ => {
                        self.content(if n == 0 { lbl } else { body });
                        self.text_at(MARGIN_X, self.y, size, false, colour, line);
                    }
                }
            }
            self.decoration();
            self.y += size * 0.4;
        }
    }

    /// Large text at the left margin (cover pages).
    pub fn title(&mut self, text: &str, size: f32, bold: bool, colour: Colour) {
        let node = self.node(Tag::P, None);
        self.content(node);
        for line in self.wrap(text, size, bold, CONTENT_W) {
            self.y += size * 1.3;
            self.text_at(MARGIN_X, self.y, size, bold, colour, &line);
        }
        self.decoration();
    }

    /// A row of key-figure boxes: (label, value, note).
    pub fn figures(&mut self, boxes: &[(String, String, String)]) {
        self.figures_marked(boxes, &[]);
    }

    /// [`Doc::figures`] whose box `i` has the mark `marks[i]` on its left edge (the accent
    /// for boxes past the end of `marks`).
    pub fn figures_marked(&mut self, boxes: &[(String, String, String)], marks: &[Colour]) {
        if boxes.is_empty() {
            return;
        }
        let gap = 8.0;
        let w = (CONTENT_W - gap * (boxes.len() as f32 - 1.0)) / boxes.len() as f32;
        let h = 62.0;
        self.ensure(h + 8.0);
        let top = self.y + 4.0;
        for (i, (label, value, note)) in boxes.iter().enumerate() {
            let x = MARGIN_X + i as f32 * (w + gap);
            self.decoration();
            self.op(Op::Rect {
                x,
                y: top,
                w,
                h,
                colour: BACKGROUND,
            });
            self.op(Op::Rect {
                x,
                y: top,
                w: 3.0,
                h,
                colour: marks.get(i).copied().unwrap_or(self.accent),
            });
            let fit = |doc: &Doc, t: &str, size: f32| {
                doc.wrap(t, size, false, w - 14.0)
                    .into_iter()
                    .next()
                    .unwrap_or_default()
            };
            let (l, n) = (fit(self, label, 8.0), fit(self, note, 7.5));
            // Each box reads as one paragraph: label, value, note.
            let node = self.node(Tag::P, None);
            self.content(node);
            self.text_at(x + 9.0, top + 13.0, 8.0, false, MUTED, &l);
            self.text_at(x + 9.0, top + 36.0, 18.0, true, INK, value);
            self.text_at(x + 9.0, top + 52.0, 7.5, false, MUTED, &n);
        }
        self.decoration();
        self.y = top + h + 10.0;
    }

    /// A chart, scaled to `width` points or less, a figure whose alternative text is its
    /// `alt`; it is skipped if it was not drawn (its page's warnings say so).
    pub fn chart(&mut self, chart: &Chart, width: f32) -> bool {
        let Some(drawing) = self.drawing(chart) else {
            return false;
        };
        let (cw, ch) = drawing.size();
        let mut scale = (width / cw).min(1.0);
        // A chart a little taller than the room left on the page is shrunk to fit, rather
        // than leave most of the page empty.
        let room = self.room() - 9.0;
        let tall = ch * scale;
        if tall > room && tall * CHART_MIN_SCALE <= room {
            scale *= room / tall;
        }
        let (w, h) = (cw * scale, ch * scale);
        self.ensure(h + 6.0);
        let y = self.y + 3.0;
        self.figure(chart.alt());
        self.op(drawing.op(MARGIN_X, y, w, h));
        self.decoration();
        self.y = y + h + 6.0;
        true
    }

    /// What draws `chart`: its shapes, or (a drawing with shapes the figure module does not
    /// record) its SVG through usvg; `None` if it was not drawn.
    fn drawing(&self, chart: &Chart) -> Option<Drawing> {
        match chart.figure() {
            Some(figure) => Some(Drawing::Figure(figure.clone())),
            None => usvg::Tree::from_str(chart.svg(), &self.fonts.svg)
                .ok()
                .map(|tree| Drawing::Svg(Box::new(tree))),
        }
    }

    /// Starts a figure whose alternative text is `alt` (never empty: PDF/UA wants one).
    fn figure(&mut self, alt: &str) {
        let alt = if alt.trim().is_empty() { "chart" } else { alt };
        let node = self.node(Tag::Figure(Some(alt.to_string())), None);
        self.content(node);
    }

    /// An image given as SVG (a logo), scaled to fit `max_w` x `max_h` points, left-aligned.
    pub fn logo(&mut self, svg: &str, max_w: f32, max_h: f32) -> bool {
        let Ok(tree) = usvg::Tree::from_str(svg, &self.fonts.svg) else {
            return false;
        };
        let size = tree.size();
        let scale = (max_w / size.width()).min(max_h / size.height());
        let (w, h) = (size.width() * scale, size.height() * scale);
        self.ensure(h + 6.0);
        let y = self.y;
        // The brand's logo is decoration: the company is named in words beside it.
        self.decoration();
        self.op(Op::Drawing {
            x: MARGIN_X,
            y,
            w,
            h,
            drawing: Drawing::Svg(Box::new(tree)),
        });
        self.y = y + h + 10.0;
        true
    }

    /// Charts side by side in one row, each scaled to its share of the width.
    pub fn chart_row(&mut self, charts: &[&Chart]) {
        let gap = 12.0;
        let each = (CONTENT_W - gap * (charts.len() as f32 - 1.0)) / charts.len() as f32;
        let drawings: Vec<(Drawing, &str)> = charts
            .iter()
            .filter_map(|c| Some((self.drawing(c)?, c.alt())))
            .collect();
        let heights: Vec<f32> = drawings
            .iter()
            .map(|(d, _)| {
                let (w, h) = d.size();
                h * (each / w).min(1.0)
            })
            .collect();
        let h = heights.iter().copied().fold(0.0, f32::max);
        self.ensure(h + 6.0);
        let y = self.y + 3.0;
        for (i, (drawing, alt)) in drawings.into_iter().enumerate() {
            let (cw, ch) = drawing.size();
            let scale = (each / cw).min(1.0);
            self.figure(alt);
            self.op(drawing.op(
                MARGIN_X + i as f32 * (each + gap),
                y,
                cw * scale,
                ch * scale,
            ));
        }
        self.decoration();
        self.y = y + h + 6.0;
    }

    /// Lays `table` out over `rows`: it breaks across pages, repeating its header row; long
    /// cells wrap, and a row taller than a page continues on the next.
    pub fn table<'r, R: 'r>(&mut self, table: &Table<R>, rows: impl IntoIterator<Item = &'r R>) {
        let columns: Vec<Column> = table.columns.iter().map(|c| c.look).collect();
        let cells: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|row| table.columns.iter().map(|c| (c.cell)(row)).collect())
            .collect();
        self.grid(&columns, &cells, table.size, table.continued.as_deref());
    }

    /// The lines of `cell` in a column whose text is `width` wide: its text wrapped, then
    /// its links ([`Cell::jump`]) on one line, or a line each when they do not fit on one.
    fn cell_lines(&self, cell: &Cell, size: f32, width: f32) -> (Vec<String>, Vec<Vec<usize>>) {
        let mut lines = self.wrap(&cell.text, size, cell.bold, width);
        if cell.text.is_empty() && !cell.jumps.is_empty() {
            lines.clear();
        }
        let labels: Vec<&str> = cell.jumps.iter().map(|j| j.0.as_str()).collect();
        let together = labels.join(JUMP_SEPARATOR);
        let jump_lines: Vec<Vec<usize>> = if labels.is_empty() {
            Vec::new()
        } else if self.fonts.width(&together, size, false) <= width {
            vec![(0..labels.len()).collect()]
        } else {
            (0..labels.len()).map(|i| vec![i]).collect()
        };
        for group in &jump_lines {
            let text: Vec<&str> = group.iter().map(|&i| labels[i]).collect();
            lines.push(text.join(JUMP_SEPARATOR));
        }
        (lines, jump_lines)
    }

    /// The layout of [`Doc::table`]: `rows` hold one cell per column; `continued` is drawn
    /// above the header where the table continues on a new page.
    fn grid(&mut self, columns: &[Column], rows: &[Vec<Cell>], size: f32, continued: Option<&str>) {
        let total: f32 = columns.iter().map(|c| c.share).sum::<f32>().max(0.0001);
        let widths: Vec<f32> = columns
            .iter()
            .map(|c| c.share / total * CONTENT_W)
            .collect();
        let pad = CELL_PAD;
        let line_h = size * TABLE_LEADING;
        let header: Vec<Vec<String>> = columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| self.wrap(c.title, size, true, w - 2.0 * pad))
            .collect();
        let header_h = header.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
        let caption_size = size::NOTE;
        let caption: Vec<String> = continued
            .map(|t| self.wrap(t, caption_size, true, CONTENT_W))
            .unwrap_or_default();
        let caption_h = if caption.is_empty() {
            0.0
        } else {
            caption.len() as f32 * caption_size * 1.35 + 4.0
        };
        // Table > THead > TR > TH (column headers), then TBody > TR > TD.
        let table = self.node(Tag::Table, None);
        let head = self.node(Tag::THead, Some(table));
        let head_row = self.node(Tag::TR, Some(head));
        let head_cells: Vec<usize> = columns
            .iter()
            .map(|_| self.node(Tag::TH(TableHeaderScope::Column), Some(head_row)))
            .collect();
        let body = self.node(Tag::TBody, Some(table));
        // The header is content where the table starts and a pagination artifact where a
        // page repeats it.
        let mut repeated = false;
        let mut draw_header = |doc: &mut Doc| {
            doc.mark = Mark::Artifact(if repeated {
                ArtifactType::PaginationOther
            } else {
                ArtifactType::Layout
            });
            if repeated {
                // Whose rows these are, as a pagination artifact like the repeated header
                // (the table's own heading, earlier, is the content).
                for line in &caption {
                    doc.y += caption_size * 1.35;
                    let colour = doc.heading;
                    doc.text_at(MARGIN_X, doc.y, caption_size, true, colour, line);
                }
                if !caption.is_empty() {
                    doc.y += 4.0;
                }
            }
            let top = doc.y;
            doc.op(Op::Rect {
                x: MARGIN_X,
                y: top,
                w: CONTENT_W,
                h: header_h,
                colour: BACKGROUND,
            });
            let mut x = MARGIN_X;
            for (((lines, w), column), cell) in
                header.iter().zip(&widths).zip(columns).zip(&head_cells)
            {
                if !repeated {
                    doc.content(*cell);
                }
                for (i, line) in lines.iter().enumerate() {
                    let lw = doc.fonts.width(line, size, true);
                    let tx = if column.right {
                        x + w - pad - lw
                    } else {
                        x + pad
                    };
                    doc.text_at(
                        tx,
                        top + pad + (i as f32 + 0.8) * line_h,
                        size,
                        true,
                        INK,
                        line,
                    );
                }
                x += w;
            }
            doc.y = top + header_h;
            doc.rule(MUTED);
            doc.decoration();
            repeated = true;
        };
        // The height a page holds below the table's caption and header.
        let page_room = PAGE_H - MARGIN_BOTTOM - MARGIN_TOP - header_h - caption_h;
        // The header starts a page with the first row whole, unless that row is taller than
        // a page (it is then split, and two of its lines follow the header).
        let first_h = rows.first().map_or(0.0, |row| {
            let lines = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| {
                    let badge = if cell.badge.is_some() {
                        BADGE_PAD * 2.0
                    } else {
                        0.0
                    };
                    self.cell_lines(cell, size, w - 2.0 * pad - badge).0.len()
                })
                .max()
                .unwrap_or(1)
                .max(1);
            lines as f32 * line_h + 2.0 * pad
        });
        let two_lines = line_h * 2.0 + 2.0 * pad;
        self.ensure(
            header_h
                + if first_h <= page_room {
                    first_h.max(two_lines)
                } else {
                    two_lines
                },
        );
        draw_header(self);
        for row in rows {
            let tr = self.node(Tag::TR, Some(body));
            let cells: Vec<CellNodes> = row
                .iter()
                .map(|cell| {
                    let td = self.node(Tag::TD, Some(tr));
                    let link = cell.link.as_ref().map(|_| self.node(Tag::Link, Some(td)));
                    let jumps = cell
                        .jumps
                        .iter()
                        .map(|_| self.node(Tag::Link, Some(td)))
                        .collect();
                    CellNodes { td, link, jumps }
                })
                .collect();
            let mut jump_lines: Vec<Vec<Vec<usize>>> = Vec::new();
            let wrapped: Vec<Vec<String>> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| {
                    let inner = if cell.badge.is_some() {
                        w - 2.0 * pad - BADGE_PAD * 2.0
                    } else {
                        w - 2.0 * pad
                    };
                    let (lines, jumps) = self.cell_lines(cell, size, inner);
                    jump_lines.push(jumps);
                    lines
                })
                .collect();
            for cell in row {
                if let Some(anchor) = &cell.anchor {
                    self.anchor(anchor.clone());
                }
            }
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let row_h = lines as f32 * line_h + 2.0 * pad;
            if row_h <= page_room {
                if self.room() < row_h {
                    self.new_page(false);
                    draw_header(self);
                }
                let parts = RowParts {
                    cells: &cells,
                    wrapped: &wrapped,
                    jumps: &jump_lines,
                    widths: &widths,
                    columns,
                };
                self.row_part(row, &parts, 0..lines, size);
                continue;
            }
            // Taller than a page: as many lines as fit on each page, the header repeated.
            let mut first = 0;
            let mut fresh = false;
            while first < lines {
                let fit = ((self.room() - 2.0 * pad) / line_h).floor().max(0.0) as usize;
                if fit == 0 && !fresh {
                    self.new_page(false);
                    draw_header(self);
                    fresh = true;
                    continue;
                }
                // A header too tall for any line to fit still moves on, one line a page.
                let last = (first + fit.max(1)).min(lines);
                let parts = RowParts {
                    cells: &cells,
                    wrapped: &wrapped,
                    jumps: &jump_lines,
                    widths: &widths,
                    columns,
                };
                self.row_part(row, &parts, first..last, size);
                first = last;
                fresh = false;
                if first < lines {
                    self.new_page(false);
                    draw_header(self);
                    fresh = true;
                }
            }
        }
        self.y += TABLE_GAP;
    }

    /// Draws the lines `part` of a table row (each cell's lines wrapped to its column) at the
    /// current position, its link areas, and the rule below it.
    fn row_part(
        &mut self,
        row: &[Cell],
        parts: &RowParts,
        part: std::ops::Range<usize>,
        size: f32,
    ) {
        let pad = CELL_PAD;
        let line_h = size * TABLE_LEADING;
        let top = self.y;
        let row_h = part.len() as f32 * line_h + 2.0 * pad;
        let mut x = MARGIN_X;
        for ((cell, w), nodes) in row.iter().zip(parts.widths).zip(parts.cells) {
            if let (Some(uri), Some(link)) = (&cell.link, nodes.link) {
                self.content(link);
                self.op(Op::Link {
                    x,
                    y: top,
                    w: *w,
                    h: row_h,
                    target: LinkTo::Uri(uri.clone()),
                    alt: cell.text.replace('\n', " "),
                });
            }
            x += w;
        }
        let mut x = MARGIN_X;
        for (i_cell, (((cell, lines), w), column)) in row
            .iter()
            .zip(parts.wrapped)
            .zip(parts.widths)
            .zip(parts.columns)
            .enumerate()
        {
            let nodes = &parts.cells[i_cell];
            let node = nodes.link.unwrap_or(nodes.td);
            let jump_lines = &parts.jumps[i_cell];
            // The cell's last lines are its links, if it has any.
            let first_jump_line = lines.len() - jump_lines.len();
            // A cell may have fewer lines than the row.
            let end = part.end.min(lines.len());
            let start = part.start.min(end);
            for (i, line) in lines[start..end].iter().enumerate() {
                let baseline = top + pad + (i as f32 + 0.8) * line_h;
                if start + i >= first_jump_line {
                    let group = &jump_lines[start + i - first_jump_line];
                    let mut jx = x + pad;
                    for (n, &j) in group.iter().enumerate() {
                        let (label, anchor, alt) = &cell.jumps[j];
                        if n > 0 {
                            self.decoration();
                            self.text_at(jx, baseline, size, false, MUTED, JUMP_SEPARATOR);
                            jx += self.fonts.width(JUMP_SEPARATOR, size, false);
                        }
                        let lw = self.fonts.width(label, size, false);
                        self.content(nodes.jumps[j]);
                        let colour = self.heading;
                        self.text_at(jx, baseline, size, false, colour, label);
                        self.op(Op::Link {
                            x: jx,
                            y: baseline - size,
                            w: lw,
                            h: size * 1.3,
                            target: LinkTo::Anchor(anchor.clone()),
                            alt: alt.clone(),
                        });
                        jx += lw;
                    }
                    continue;
                }
                let lw = self.fonts.width(line, size, cell.bold);
                match cell.badge {
                    Some(colour) => {
                        self.decoration();
                        self.op(Op::Rect {
                            x: x + pad,
                            y: baseline - size * 0.95,
                            w: lw + BADGE_PAD * 2.0,
                            h: size * 1.3,
                            colour,
                        });
                        self.content(node);
                        self.text_at(x + pad + BADGE_PAD, baseline, size, true, WHITE, line);
                    }
                    None => {
                        let tx = if column.right {
                            x + w - pad - lw
                        } else {
                            x + pad
                        };
                        self.content(node);
                        self.text_at(tx, baseline, size, cell.bold, INK, line);
                    }
                }
            }
            x += w;
        }
        self.decoration();
        self.y = top + row_h;
        self.rule(LINE);
    }

    /// Number of pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// How many times each page draws exactly `text` (for tests of the layout).
    #[cfg(test)]
    fn occurrences(&self, needle: &str) -> Vec<usize> {
        self.pages
            .iter()
            .map(|ops| {
                ops.iter()
                    .filter(|op| matches!(op, Op::Text { text, .. } if text == needle))
                    .count()
            })
            .collect()
    }

    /// Draws every page with krilla and returns the PDF bytes: PDF/A-3b and PDF/UA-1, both
    /// checked by krilla (a violation is an error naming it, never a silent PDF). `page_label`
    /// makes the footer text from (page, pages); `finish` gives the metadata, the language
    /// and the embedded files.
    pub fn finish(
        mut self,
        page_label: impl Fn(usize, usize) -> String,
        footer_left: &str,
        finish: Finish,
    ) -> Result<Vec<u8>, String> {
        self.fill_contents();
        let fonts = self.fonts;
        let configuration = krilla::configure::ConfigurationBuilder::new()
            .with_archival_validator(krilla::configure::Archival::A3_B)
            .with_accessibility_validator(krilla::configure::Accessibility::UA1)
            .finish()
            .map_err(|e| format!("{e:?}"))?;
        let mut document = krilla::Document::new_with(krilla::SerializeSettings {
            configuration,
            enable_tagging: true,
            ..krilla::SerializeSettings::default()
        });
        document.set_metadata(finish.metadata);
        for a in finish.attachments {
            document
                .embed_file(krilla::embed::EmbeddedFile {
                    path: a.name.clone(),
                    mime_type: krilla::embed::MimeType::new(a.mime),
                    description: Some(a.description),
                    association_kind: krilla::embed::AssociationKind::Data,
                    data: a.bytes.zlib.into(),
                    modification_date: Some(finish.date),
                    compress: Some(true),
                    deflated_size: Some(a.bytes.size),
                    location: None,
                })
                .ok_or_else(|| format!("two embedded files are named {}", a.name))?;
        }
        let total = self.pages.len();
        let anchors = std::mem::take(&mut self.anchors);
        let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size");
        // The content identifiers of each structure element, in drawing order.
        let mut leaves: Vec<Vec<Identifier>> = vec![Vec::new(); self.nodes.len()];
        let pages = self.pages.into_iter().zip(self.marks);
        for (index, (ops, marks)) in pages.enumerate() {
            let mut page = document.start_page_with(settings()?);
            let mut surface = page.surface();
            let draw_text = |surface: &mut krilla::surface::Surface,
                             x: f32,
                             y: f32,
                             size: f32,
                             bold: bool,
                             colour: Colour,
                             text: &str| {
                surface.set_fill(Some(fill(colour)));
                let mut x = x;
                for (font, part, glyphs, advance) in fonts.runs(text, bold) {
                    if !glyphs.is_empty() {
                        surface.draw_glyphs(Point::from_xy(x, y), &glyphs, font, part, size, false);
                    }
                    x += advance * size;
                }
            };
            let artifact = |surface: &mut krilla::surface::Surface, kind: ArtifactType| {
                surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
            };
            let cover = self.covers.get(index).copied().unwrap_or(false);
            // Every page, the cover too, says which page of how many it is.
            let label = page_label(index + 1, total);
            let w = fonts.width(&label, 8.0, false);
            artifact(&mut surface, ArtifactType::PageNumber);
            draw_text(
                &mut surface,
                MARGIN_X + CONTENT_W - w,
                PAGE_H - 30.0,
                8.0,
                false,
                MUTED,
                &label,
            );
            surface.end_tagged();
            if !cover {
                artifact(&mut surface, ArtifactType::Header);
                draw_text(
                    &mut surface,
                    MARGIN_X,
                    36.0,
                    8.0,
                    false,
                    MUTED,
                    &self.header,
                );
                surface.end_tagged();
                artifact(&mut surface, ArtifactType::Footer);
                draw_text(
                    &mut surface,
                    MARGIN_X,
                    PAGE_H - 30.0,
                    8.0,
                    false,
                    MUTED,
                    footer_left,
                );
                surface.end_tagged();
                artifact(&mut surface, ArtifactType::Header);
                let mut pb = PathBuilder::new();
                if let Some(r) = Rect::from_xywh(MARGIN_X, 42.0, CONTENT_W, 0.6) {
                    pb.push_rect(r);
                }
                if let Some(path) = pb.finish() {
                    surface.set_fill(Some(fill(LINE)));
                    surface.draw_path(&path);
                }
                surface.end_tagged();
            }
            let mut links = Vec::new();
            // The mark of the marked-content sequence open on the surface: consecutive
            // operations of one element share one.
            let mut open: Option<Mark> = None;
            for (op, mark) in ops.into_iter().zip(marks) {
                if let Op::Link {
                    x,
                    y,
                    w,
                    h,
                    target,
                    alt,
                } = op
                {
                    links.push((x, y, w, h, target, alt, mark));
                    continue;
                }
                if open != Some(mark) {
                    if open.is_some() {
                        surface.end_tagged();
                    }
                    match mark {
                        Mark::Artifact(kind) => artifact(&mut surface, kind),
                        Mark::Node(node) => {
                            let tag = match self.nodes[node].tag {
                                TagKind::Figure(_) => ContentTag::Other,
                                _ => ContentTag::Span(SpanTag::empty()),
                            };
                            let id = surface.start_tagged(tag);
                            leaves[node].push(id);
                        }
                    }
                    open = Some(mark);
                }
                match op {
                    Op::Text {
                        x,
                        y,
                        size,
                        bold,
                        colour,
                        text,
                    } => draw_text(&mut surface, x, y, size, bold, colour, &text),
                    Op::Rect { x, y, w, h, colour } => {
                        let mut pb = PathBuilder::new();
                        if let Some(r) = Rect::from_xywh(x, y, w.max(0.1), h.max(0.1)) {
                            pb.push_rect(r);
                        }
                        if let Some(path) = pb.finish() {
                            surface.set_fill(Some(fill(colour)));
                            surface.set_stroke(None);
                            surface.draw_path(&path);
                        }
                    }
                    Op::Line {
                        x1,
                        y1,
                        x2,
                        y2,
                        colour,
                    } => {
                        let mut pb = PathBuilder::new();
                        pb.move_to(x1, y1);
                        pb.line_to(x2, y2);
                        if let Some(path) = pb.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: paint(colour),
                                width: 0.6,
                                ..Default::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                    Op::Drawing {
                        x,
                        y,
                        w,
                        h,
                        drawing: Drawing::Svg(tree),
                    } => {
                        let Some(size) = Size::from_wh(w, h) else {
                            continue;
                        };
                        surface.push_transform(&krilla::geom::Transform::from_translate(x, y));
                        surface.draw_svg(&tree, size, SvgSettings::default());
                        surface.pop();
                    }
                    Op::Drawing {
                        x,
                        y,
                        w,
                        h,
                        drawing: Drawing::Figure(figure),
                    } => {
                        draw_figure(&mut surface, fonts, &figure, (x, y, w, h));
                    }
                    Op::Link { .. } => {}
                }
            }
            if open.is_some() {
                surface.end_tagged();
            }
            surface.finish();
            for (x, y, w, h, target, alt, mark) in links {
                if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                    let target = match target {
                        LinkTo::Uri(uri) => krilla::annotation::Target::Action(
                            krilla::action::Action::Link(krilla::action::LinkAction::new(uri)),
                        ),
                        LinkTo::Page(page, y) => krilla::annotation::Target::Destination(
                            XyzDestination::new(page, Point::from_xy(MARGIN_X, y)).into(),
                        ),
                        LinkTo::Anchor(name) => match anchors.get(&name) {
                            Some(&(page, y)) => krilla::annotation::Target::Destination(
                                XyzDestination::new(
                                    page,
                                    Point::from_xy(MARGIN_X, (y - 8.0).max(0.0)),
                                )
                                .into(),
                            ),
                            // A place never drawn: the label stays, without a link.
                            None => continue,
                        },
                    };
                    let link = krilla::annotation::LinkAnnotation::new(rect, target);
                    let annotation = krilla::annotation::Annotation::new_link(link, Some(alt));
                    let id = page.add_tagged_annotation(annotation);
                    if let Mark::Node(node) = mark {
                        leaves[node].push(id);
                    }
                }
            }
            page.finish();
        }
        let mut outline = Outline::new();
        let mut current: Option<OutlineNode> = None;
        for (level, text, page, y) in self.outline {
            let node = OutlineNode::new(
                text,
                XyzDestination::new(page, Point::from_xy(MARGIN_X, (y - 20.0).max(0.0))),
            );
            if level <= 1 {
                if let Some(done) = current.take() {
                    outline.push_child(done);
                }
                current = Some(node);
            } else if let Some(parent) = current.as_mut() {
                parent.push_child(node);
            } else {
                outline.push_child(node);
            }
        }
        if let Some(done) = current {
            outline.push_child(done);
        }
        document.set_outline(outline);
        let mut tree = TagTree::new().with_lang(Some(finish.lang));
        let mut nodes: Vec<Option<Node>> = self.nodes.into_iter().map(Some).collect();
        for root in self.roots {
            if let Some(group) = tag_group(root, &mut nodes, &mut leaves) {
                tree.push(group);
            }
        }
        document.set_tag_tree(tree);
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

/// The structure level of a heading drawn at `level` after one drawn at `last.0` and tagged
/// `last.1`: at most one level below the one before (PDF/UA: no level skipped), the same as a
/// sibling drawn at the same level.
fn tagged_level(last: (u8, u16), level: u8) -> u16 {
    let (drawn, tagged) = last;
    let level = u16::from(level).max(1);
    match u16::from(drawn).cmp(&level) {
        std::cmp::Ordering::Less => (tagged + 1).min(level),
        std::cmp::Ordering::Equal => tagged.max(1),
        std::cmp::Ordering::Greater => level.min(tagged).max(1),
    }
}

/// The tag group of structure element `index`: its content, then the elements inside it;
/// `None` for an element with neither (an empty group is not written).
fn tag_group(
    index: usize,
    nodes: &mut [Option<Node>],
    leaves: &mut [Vec<Identifier>],
) -> Option<TagGroup> {
    let node = nodes.get_mut(index)?.take()?;
    let mut group = TagGroup::new(node.tag);
    for id in std::mem::take(&mut leaves[index]) {
        group.push(id);
    }
    for child in node.children {
        if let Some(g) = tag_group(child, nodes, leaves) {
            group.push(g);
        }
    }
    (!group.children.is_empty()).then_some(group)
}

/// `c` as a PDF paint.
fn paint(c: Colour) -> krilla::paint::Paint {
    rgb::Color::new(c.r, c.g, c.b).into()
}

/// An opaque fill of `c` (non-zero rule).
fn fill(c: Colour) -> Fill {
    Fill {
        paint: paint(c),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::NonZero,
    }
}

/// How a chart or logo is drawn on a page: a chart's shapes, or an SVG through usvg (a
/// logo, or a chart with shapes the figure module does not record).
enum Drawing {
    Figure(Arc<Figure>),
    Svg(Box<usvg::Tree>),
}

impl Drawing {
    /// The chart's canvas size.
    fn size(&self) -> (f32, f32) {
        match self {
            Drawing::Figure(f) => (f.width as f32, f.height as f32),
            Drawing::Svg(tree) => (tree.size().width(), tree.size().height()),
        }
    }

    /// The operation that draws it at (`x`, `y`), `w` x `h`.
    fn op(self, x: f32, y: f32, w: f32, h: f32) -> Op {
        Op::Drawing {
            x,
            y,
            w,
            h,
            drawing: self,
        }
    }
}

/// Draws `figure` scaled from its canvas into `(x, y, w, h)`, clipped to it, as krilla-svg
/// drew the same chart's SVG: paths filled or stroked with SVG's defaults, labels shaped as
/// usvg shaped them, the fill and stroke before the chart restored after it.
fn draw_figure(
    surface: &mut krilla::surface::Surface,
    fonts: &Fonts,
    figure: &Figure,
    (x, y, w, h): (f32, f32, f32, f32),
) {
    use krilla::geom::Transform;
    let (cw, ch) = (figure.width as f32, figure.height as f32);
    // The canvas, which krilla-svg clips an SVG to.
    let mut clip = PathBuilder::new();
    let Some(canvas) = Rect::from_xywh(0.0, 0.0, cw, ch) else {
        return;
    };
    clip.push_rect(canvas);
    let Some(clip) = clip.finish() else {
        return;
    };
    let (old_fill, old_stroke) = (surface.get_fill().cloned(), surface.get_stroke().cloned());
    surface.push_transform(&Transform::from_translate(x, y));
    surface.push_transform(&Transform::from_scale(w / cw, h / ch));
    surface.push_clip_path(&clip, &krilla::paint::FillRule::NonZero);
    // SVG's stroke defaults: butt caps, miter joins, miter limit 4.
    let stroke = |c: Colour, width: f32| Stroke {
        paint: paint(c),
        width,
        miter_limit: 4.0,
        line_cap: krilla::paint::LineCap::Butt,
        line_join: krilla::paint::LineJoin::Miter,
        opacity: NormalizedF32::ONE,
        dash: None,
    };
    let path = |points: &[(f32, f32)], closed: bool| {
        let mut builder = PathBuilder::new();
        for (i, (px, py)) in points.iter().enumerate() {
            if i == 0 {
                builder.move_to(*px, *py);
            } else {
                builder.line_to(*px, *py);
            }
        }
        if closed {
            builder.close();
        }
        builder.finish()
    };
    for shape in &figure.shapes {
        match shape {
            Shape::Fill { points, colour } => {
                let Some(p) = path(points, true) else {
                    continue;
                };
                surface.set_fill(Some(fill(*colour)));
                surface.set_stroke(None);
                surface.draw_path(&p);
            }
            Shape::Stroke {
                points,
                closed,
                colour,
                width,
            } => {
                let Some(p) = path(points, *closed) else {
                    continue;
                };
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*colour, *width)));
                surface.draw_path(&p);
            }
            Shape::Circle {
                centre,
                radius,
                colour,
                fill: filled,
                width,
            } => {
                let Some(p) = circle(*centre, *radius) else {
                    continue;
                };
                if *filled {
                    surface.set_fill(Some(fill(*colour)));
                    surface.set_stroke(None);
                } else {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(*colour, *width)));
                }
                surface.draw_path(&p);
            }
            Shape::Text(label) => draw_label(surface, fonts, label),
        }
    }
    surface.pop();
    surface.pop();
    surface.pop();
    surface.set_fill(old_fill);
    surface.set_stroke(old_stroke);
}

/// Draws a chart label glyph by glyph, each under the transform usvg gave it and krilla-svg
/// drew it with (the same arithmetic in the same order, so the glyphs land on the same
/// pixels as when charts went through SVG).
fn draw_label(surface: &mut krilla::surface::Surface, fonts: &Fonts, label: &Label) {
    use usvg::Transform as T;
    if label.text.is_empty() {
        return;
    }
    let (glyphs, upem) = fonts.shaper.shape(&label.text, label.bold);
    let size = label.size;
    let sx = size / upem;
    // Glyphs by cluster, each cluster as wide as its widest glyph.
    let clusters: Vec<(&[Shaped], f32)> = glyphs
        .chunk_by(|a, b| a.cluster == b.cluster)
        .map(|part| {
            let width = part
                .iter()
                .map(|g| g.advance as f32 * sx)
                .fold(0.0, |w: f32, a| if a > w { a } else { w });
            (part, width)
        })
        .collect();
    let total = clusters.iter().fold(0.0, |w, (_, a)| w + a);
    let mut x = match label.anchor {
        Anchor::Start => 0.0,
        Anchor::Middle => -total / 2.0,
        Anchor::End => -total,
    };
    let mut y = 0.0;
    let rotated = label.rotate != 0.0;
    if rotated {
        surface.push_transform(&rotation(label.rotate, label.x, label.y));
    }
    let font = if label.bold {
        fonts.bold.clone()
    } else {
        fonts.regular.clone()
    };
    let unscale = font.units_per_em() / size;
    surface.set_fill(Some(fill(label.colour)));
    surface.set_stroke(None);
    let span = T::default().pre_translate(label.x, label.y);
    for (i, (part, advance)) in clusters.iter().enumerate() {
        if i == 0 {
            y += label.dy;
        }
        let cluster = T::default().post_concat(T::default().pre_translate(x, y));
        let mut gx = 0.0;
        for g in *part {
            let glyph = T::from_translate(gx + g.dx as f32, -(g.dy as f32));
            let t = span
                .pre_concat(cluster)
                .pre_concat(T::from_scale(sx, sx))
                .pre_concat(glyph)
                .pre_concat(T::from_scale(unscale, unscale));
            let text = &label.text[g.text.clone()];
            surface.push_transform(&krilla::geom::Transform::from_row(
                t.sx, t.ky, t.kx, t.sy, t.tx, t.ty,
            ));
            surface.draw_glyphs(
                Point::from_xy(0.0, 0.0),
                &[plain_glyph(g.id, 0..text.len(), 0.0)],
                font.clone(),
                text,
                size,
                false,
            );
            surface.pop();
            gx += g.advance as f32;
        }
        x += advance;
    }
    if rotated {
        surface.pop();
    }
}

/// A circle as usvg makes an SVG `<circle>` a path: four SVG arcs from the rightmost point,
/// clockwise, each turned into cubic Béziers by kurbo with a tolerance of 0.1.
fn circle((cx, cy): (f32, f32), r: f32) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    let mut last = (cx + r, cy);
    builder.move_to(last.0, last.1);
    for to in [(cx, cy + r), (cx - r, cy), (cx, cy - r), (cx + r, cy)] {
        // Each arc starts where the previous one's last Bézier ended (in f32), as usvg's do.
        let arc = kurbo::SvgArc {
            from: kurbo::Point::new(f64::from(last.0), f64::from(last.1)),
            to: kurbo::Point::new(f64::from(to.0), f64::from(to.1)),
            radii: kurbo::Vec2::new(f64::from(r), f64::from(r)),
            x_rotation: 0.0f64.to_radians(),
            large_arc: false,
            sweep: true,
        };
        match kurbo::Arc::from_svg_arc(&arc) {
            Some(arc) => {
                let mut curves = Vec::new();
                arc.to_cubic_beziers(0.1, |p1, p2, p| {
                    let f = |p: kurbo::Point| (p.x as f32, p.y as f32);
                    curves.push((f(p1), f(p2), f(p)));
                });
                for (p1, p2, p) in curves {
                    builder.cubic_to(p1.0, p1.1, p2.0, p2.1, p.0, p.1);
                    last = p;
                }
            }
            None => {
                builder.line_to(to.0, to.1);
                last = to;
            }
        }
    }
    builder.close();
    builder.finish()
}

/// SVG's `rotate(angle, cx, cy)` as usvg reads it (svgtypes multiplies the three steps in
/// f64, then the matrix is narrowed to f32).
fn rotation(angle: f32, cx: f32, cy: f32) -> krilla::geom::Transform {
    type M = [f64; 6];
    let multiply = |a: M, b: M| -> M {
        [
            a[0] * b[0] + a[2] * b[1],
            a[1] * b[0] + a[3] * b[1],
            a[0] * b[2] + a[2] * b[3],
            a[1] * b[2] + a[3] * b[3],
            a[0] * b[4] + a[2] * b[5] + a[4],
            a[1] * b[4] + a[3] * b[5] + a[5],
        ]
    };
    let (cx, cy) = (f64::from(cx), f64::from(cy));
    let v = f64::from(angle).to_radians();
    let (cos, sin) = (v.cos(), v.sin());
    let mut m: M = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    m = multiply(m, [1.0, 0.0, 0.0, 1.0, cx, cy]);
    m = multiply(m, [cos, sin, -sin, cos, 0.0, 0.0]);
    m = multiply(m, [1.0, 0.0, 0.0, 1.0, -cx, -cy]);
    krilla::geom::Transform::from_row(
        m[0] as f32,
        m[1] as f32,
        m[2] as f32,
        m[3] as f32,
        m[4] as f32,
        m[5] as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load(None).unwrap()
    }

    fn test_finish() -> Finish {
        Finish {
            metadata: krilla::metadata::Metadata::new()
                .title("Test".into())
                .language("en".into())
                .creation_date(krilla::metadata::DateTime::new(2026)),
            lang: "en".into(),
            date: krilla::metadata::DateTime::new(2026),
            attachments: vec![Attachment {
                name: "data.csv".into(),
                mime: "text/csv",
                description: "test data".into(),
                bytes: crate::zlib::Deflated::of(|w| w.write_all(b"a,b\r\n1,2\r\n"), |e| e)
                    .unwrap(),
            }],
        }
    }

    /// Every stream of a PDF (inflated if it is compressed), as Latin-1 text.
    fn streams(pdf: &[u8]) -> Vec<String> {
        use std::io::Read;
        let mut streams = Vec::new();
        let mut rest = pdf;
        while let Some(at) = rest.windows(7).position(|w| w == b"stream\n") {
            let body = &rest[at + 7..];
            let end = body
                .windows(9)
                .position(|w| w == b"endstream")
                .unwrap_or(body.len());
            let mut inflated = Vec::new();
            let bytes =
                match flate2::read::ZlibDecoder::new(&body[..end]).read_to_end(&mut inflated) {
                    Ok(_) => &inflated[..],
                    Err(_) => &body[..end],
                };
            streams.push(bytes.iter().map(|&b| char::from(b)).collect());
            rest = body.get(end + 9..).unwrap_or_default();
        }
        streams
    }

    /// The face a font resource of a one-page PDF names (`/f0` -> `NotoSansCJKjp-Bold`).
    fn base_font(pdf: &[u8], resource: &str) -> String {
        let text = String::from_utf8_lossy(pdf);
        let fonts = &text[text.find("/Font<<").unwrap() + 7..];
        let fonts = &fonts[..fonts.find(">>").unwrap()];
        let at = fonts.find(&format!("{resource} ")).unwrap() + resource.len() + 1;
        let object = fonts[at..].split(' ').next().unwrap();
        let object = &text[text.find(&format!("\n{object} 0 obj")).unwrap()..];
        let base = &object[object.find("/BaseFont/").unwrap() + 10..];
        let base = &base[..base.find(['/', '>']).unwrap()];
        // The subset tag (`ABCDEF+`) differs with the glyphs used.
        base.split('+').next_back().unwrap().to_string()
    }

    fn streams_text(pdf: &[u8]) -> String {
        streams(pdf).concat()
    }

    /// The PDF of one 200 x 200 page that `draw` draws on, the fill set to `INK`.
    fn page_pdf(draw: impl FnOnce(&mut krilla::surface::Surface<'_>)) -> Vec<u8> {
        let mut document = krilla::Document::new();
        let mut page = document.start_page_with(PageSettings::from_wh(200.0, 200.0).unwrap());
        let mut surface = page.surface();
        surface.set_fill(Some(fill(INK)));
        draw(&mut surface);
        surface.finish();
        page.finish();
        document.finish().unwrap()
    }

    /// The content stream of [`page_pdf`]'s page.
    fn page_content(draw: impl FnOnce(&mut krilla::surface::Surface<'_>)) -> String {
        streams(&page_pdf(draw))
            .into_iter()
            .find(|s| s.starts_with("q "))
            .unwrap()
    }

    /// The glyphs of `text` in the regular face, one per character, as `Fonts::runs` makes
    /// them.
    fn text_glyphs(f: &Fonts, text: &str) -> Vec<krilla::text::KrillaGlyph> {
        text.char_indices()
            .map(|(at, c)| {
                let (_, id, advance) = f.lookup(c, false);
                plain_glyph(u32::from(id), at..at + c.len_utf8(), advance)
            })
            .collect()
    }

    /// The start of a line at `y`, 10 points in.
    fn at(y: f32) -> Point {
        Point::from_xy(10.0, y)
    }

    /// Where the literal string starting at `start` (its `(`) ends: past its matching `)`,
    /// with escaped bytes and balanced parentheses inside (ISO 32000-1 7.3.4.2).
    fn after_literal(bytes: &[u8], start: usize) -> usize {
        let mut depth = 0;
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 1,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            i += 1;
            if depth == 0 {
                break;
            }
        }
        i
    }

    /// The glyph codes of each string a content stream shows (`Tj`), decoded: a literal
    /// string with its escapes, or a hex string.
    fn shown_codes(content: &str) -> Vec<Vec<u8>> {
        let bytes = content.as_bytes();
        let mut shown = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'(' => {
                    let end = after_literal(bytes, i);
                    let mut codes = Vec::new();
                    let mut j = i + 1;
                    while j + 1 < end {
                        match bytes[j] {
                            b'\\' => {
                                j += 1;
                                codes.push(match bytes[j] {
                                    b'r' => b'\r',
                                    b'n' => b'\n',
                                    escaped => escaped,
                                });
                            }
                            // A reader takes a bare carriage return for a line feed.
                            b'\r' => codes.push(b'\n'),
                            byte => codes.push(byte),
                        }
                        j += 1;
                    }
                    if content[end..].starts_with("Tj") {
                        shown.push(codes);
                    }
                    i = end;
                }
                b'<' if bytes.get(i + 1) != Some(&b'<') => {
                    let end = i + content[i..].find('>').unwrap();
                    let digits = &content[i + 1..end];
                    let codes = (0..digits.len() / 2)
                        .map(|k| u8::from_str_radix(&digits[2 * k..2 * k + 2], 16).unwrap())
                        .collect();
                    if content[end + 1..].starts_with("Tj") {
                        shown.push(codes);
                    }
                    i = end + 1;
                }
                _ => i += 1,
            }
        }
        shown
    }

    /// The state each text and path of a content stream is painted in, one line each: what
    /// is painted, then the fill colour, stroke colour, line width, font and size, and every
    /// `cm` in force. A reader of the operators krilla writes, enough to check that an
    /// operation sees the same state whatever was drawn before it.
    fn painted_states(content: &str, font_name: impl Fn(&str) -> String) -> Vec<String> {
        #[derive(Clone)]
        struct State {
            fill: String,
            stroke: String,
            width: String,
            font: String,
            ctm: String,
        }
        let mut stack = vec![State {
            fill: "0".into(),
            stroke: "0".into(),
            width: "1".into(),
            font: String::new(),
            ctm: String::new(),
        }];
        let mut operands: Vec<String> = Vec::new();
        let mut painted = Vec::new();
        let bytes = content.as_bytes();
        let mut i = 0;
        let delimiter = |b: u8| b.is_ascii_whitespace() || b"/[]<>()".contains(&b);
        while i < bytes.len() {
            let start = i;
            match bytes[i] {
                b if b.is_ascii_whitespace() => {
                    i += 1;
                    continue;
                }
                // A dictionary, array or string operand: skipped to its matching close.
                b'(' => i = after_literal(bytes, i),
                b'<' | b'[' => {
                    let mut depth = 0;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'(' => {
                                i = after_literal(bytes, i);
                                continue;
                            }
                            b'<' | b'[' => depth += 1,
                            b'>' | b']' => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
                _ => {
                    i += 1;
                    while i < bytes.len() && !delimiter(bytes[i]) {
                        i += 1;
                    }
                }
            }
            let token = &content[start..i];
            let first = token.as_bytes()[0];
            if first == b'/'
                || first == b'<'
                || first == b'['
                || first == b'('
                || first == b'-'
                || first == b'.'
                || first.is_ascii_digit()
            {
                operands.push(token.to_string());
                continue;
            }
            let top = stack.last_mut().unwrap();
            let args = operands.join(" ");
            match token {
                "q" => {
                    let copy = top.clone();
                    stack.push(copy);
                }
                "Q" => {
                    stack.pop();
                }
                "cm" => top.ctm = format!("{} [{args}]", top.ctm),
                "scn" | "sc" | "rg" | "g" => top.fill = args,
                "SCN" | "SC" | "RG" | "G" => top.stroke = args,
                "w" => top.width = args,
                "Tf" => top.font = format!("{} {}", font_name(&operands[0]), operands[1]),
                "Tj" | "TJ" => painted.push(format!(
                    "text fill {} font {} cm{}",
                    top.fill, top.font, top.ctm
                )),
                "f" | "f*" => painted.push(format!("fill {} cm{}", top.fill, top.ctm)),
                "S" => painted.push(format!(
                    "stroke {} width {} cm{}",
                    top.stroke, top.width, top.ctm
                )),
                _ => {}
            }
            operands.clear();
        }
        painted
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// The patched krilla draws consecutive texts and solid paths in one shared graphics
        /// state and writes a colour, width or font only when it changes (vendor/README.md,
        /// text regions). Whatever came before, each must be painted in the state it is
        /// painted in when drawn alone.
        #[test]
        fn texts_and_paths_are_painted_in_the_state_they_are_drawn_alone_in(
            ops in proptest::collection::vec((0u8..4, 0usize..4, 0usize..4), 1..40)
        ) {
            let f = fonts();
            let colours = [INK, ACCENT, LINE, WHITE];
            let draw = |surface: &mut krilla::surface::Surface, (kind, colour, variant): (u8, usize, usize), at: f32| {
                let colour = colours[colour];
                match kind {
                    // Text: either face, in two sizes; kind 1 under a transform.
                    0 | 1 => {
                        let bold = variant & 1 == 1;
                        let font = if bold { f.bold.clone() } else { f.regular.clone() };
                        let size = if variant & 2 == 0 { 8.0 } else { 10.0 };
                        let (_, id, advance) = f.lookup('a', bold);
                        let glyph = plain_glyph(u32::from(id), 0..1, advance);
                        if kind == 1 {
                            surface.push_transform(&krilla::geom::Transform::from_translate(5.0, 5.0));
                        }
                        surface.set_fill(Some(fill(colour)));
                        surface.draw_glyphs(Point::from_xy(10.0, at), &[glyph], font, "a", size, false);
                        if kind == 1 {
                            surface.pop();
                        }
                    }
                    // A rule, in one of three widths (1 is the default).
                    2 => {
                        let mut pb = PathBuilder::new();
                        pb.move_to(10.0, at);
                        pb.line_to(90.0, at);
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: paint(colour),
                            width: [0.6, 1.0, 2.0, 1.0][variant],
                            ..Default::default()
                        }));
                        surface.draw_path(&pb.finish().unwrap());
                        surface.set_stroke(None);
                    }
                    // A filled box.
                    _ => {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(Rect::from_xywh(10.0, at, 30.0, 8.0).unwrap());
                        surface.set_fill(Some(fill(colour)));
                        surface.draw_path(&pb.finish().unwrap());
                    }
                }
            };
            let page = |ops: &[(u8, usize, usize)]| {
                let mut document = krilla::Document::new();
                let mut page = document.start_page_with(PageSettings::from_wh(100.0, 900.0).unwrap());
                let mut surface = page.surface();
                for (i, op) in ops.iter().enumerate() {
                    draw(&mut surface, *op, 20.0 * (i as f32 + 1.0));
                }
                surface.finish();
                page.finish();
                // The page's content stream: the first thing drawn is in a `q`.
                let pdf = document.finish().unwrap();
                let content = streams(&pdf).into_iter().find(|s| s.starts_with("q ")).unwrap();
                painted_states(&content, |name| base_font(&pdf, name))
            };
            let together = page(&ops);
            let alone: Vec<String> = ops.iter().flat_map(|op| page(&[*op])).collect();
            proptest::prop_assert_eq!(together, alone);
        }
    }

    #[test]
    fn a_glyph_advanced_past_its_font_advance_is_shown_with_an_adjustment() {
        // Our runs take the font's advances and are shown as one string; a glyph moved
        // further (as a shaper's kerning would) needs krilla's TJ array, with the adjustment
        // in thousandths of an em between the codes it separates.
        let f = fonts();
        let (_, id, advance) = f.lookup('a', false);
        let glyph = |at: usize, x_advance: f32| plain_glyph(u32::from(id), at..at + 1, x_advance);
        let content = |glyphs: &[krilla::text::KrillaGlyph]| {
            page_content(|surface| {
                let text = "a".repeat(glyphs.len());
                surface.draw_glyphs(at(20.0), glyphs, f.regular.clone(), &text, 10.0, false);
            })
        };
        let plain = content(&[glyph(0, advance), glyph(1, advance), glyph(2, advance)]);
        assert!(plain.contains("(\0\u{1}\0\u{1}\0\u{1})Tj"), "{plain:?}");
        let kerned = content(&[
            glyph(0, advance),
            glyph(1, advance + 0.1),
            glyph(2, advance),
        ]);
        let shown = &kerned[kerned.find('[').unwrap()..kerned.find("]TJ").unwrap()];
        // The first two codes, the adjustment (0.1 em, in f32), the third code.
        let rest = shown.strip_prefix("[(\\000\\001\\000\\001)").unwrap();
        let amount = rest.strip_suffix("(\\000\\001)").unwrap();
        let amount: f32 = amount.parse().unwrap();
        assert!((amount + 100.0).abs() < 0.01, "{kerned}");
    }

    #[test]
    fn glyph_codes_are_shown_as_the_bytes_a_reader_decodes() {
        // Codes are written raw in a literal string while every byte is below 128, else in
        // hex. The first 150 glyphs of a subset take the codes 1 to 150, so their bytes
        // include `(`, `)`, `\\`, carriage return and line feed, and bytes above 127: each
        // glyph drawn alone, then all of them in one run, must decode to its code.
        let f = fonts();
        let text: String = (' '..='~').chain('\u{c0}'..='\u{ff}').take(150).collect();
        let glyphs = text_glyphs(&f, &text);
        let content = page_content(|surface| {
            for glyph in &glyphs {
                let alone = krilla::text::KrillaGlyph {
                    text_range: 0..glyph.text_range.len(),
                    ..glyph.clone()
                };
                let shown = &text[glyph.text_range.clone()];
                surface.draw_glyphs(at(20.0), &[alone], f.regular.clone(), shown, 10.0, false);
            }
            surface.draw_glyphs(at(40.0), &glyphs, f.regular.clone(), &text, 10.0, false);
        });
        let codes = |cid: u16| cid.to_be_bytes().to_vec();
        let mut expected: Vec<Vec<u8>> = (1..=150).map(codes).collect();
        expected.push((1..=150).flat_map(codes).collect());
        assert_eq!(shown_codes(&content), expected, "{content:?}");
        // Both forms were written: raw, and hex for the codes past 127.
        assert!(content.contains("(\0\\()Tj") && content.contains("(\0\\r)Tj"));
        assert!(content.contains("<0080>Tj"), "{content:?}");
    }

    #[test]
    fn a_subset_font_is_bounded_by_the_glyphs_it_holds() {
        // The patched krilla finds a subset's /FontBBox from each glyph's bounds in the full
        // font, drawn once per run (vendor/README.md). Each text below, in its own document,
        // must give the union of the outline bounds of its glyphs and `.notdef` (every subset
        // has it), as ab_glyph reads them from the embedded face (whole font units; the font
        // has 1,000 units per em, as PDF's glyph space).
        use ab_glyph::Font as _;
        let f = fonts();
        let face = ab_glyph::FontRef::try_from_slice(crate::fonts::FONT_REGULAR).unwrap();
        assert_eq!(face.units_per_em(), Some(1000.0));
        for text in ["Hg", "\u{4e2d}\u{6587}", "._", "Hg\u{4e2d}\u{6587}._|"] {
            let glyphs = text_glyphs(&f, text);
            let pdf = page_pdf(|surface| {
                surface.draw_glyphs(at(20.0), &glyphs, f.regular.clone(), text, 10.0, false);
            });
            let pdf = String::from_utf8_lossy(&pdf).into_owned();
            let bbox = &pdf[pdf.find("/FontBBox[").unwrap() + 10..];
            let written: Vec<f32> = bbox[..bbox.find(']').unwrap()]
                .split(' ')
                .map(|n| n.parse().unwrap())
                .collect();
            let notdef = std::iter::once(ab_glyph::GlyphId(0));
            let expected = notdef
                .chain(text.chars().map(|c| face.glyph_id(c)))
                .filter_map(|id| face.outline(id).map(|o| o.bounds))
                // ab_glyph's bounds run top down: `min.y` is the top.
                .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, r| {
                    [
                        b[0].min(r.min.x),
                        b[1].min(r.max.y),
                        b[2].max(r.max.x),
                        b[3].max(r.min.y),
                    ]
                });
            assert_eq!(written.len(), 4, "{text}: {written:?}");
            for (w, e) in written.iter().zip(expected) {
                assert!(
                    (w - e).abs() <= 1.0,
                    "{text}: {written:?} against {expected:?}"
                );
            }
        }
    }

    #[test]
    fn a_glyph_drawn_for_two_texts_is_marked_with_the_one_drawn() {
        // The patched krilla draws plain runs on a fast path (vendor/README.md). A glyph
        // registered for one text and drawn again for another must go back to krilla's
        // general path, which marks that run with /ActualText, so that copying it gives the
        // text drawn.
        let f = fonts();
        let (_, id, advance) = f.lookup('a', false);
        let glyph = |at: usize| plain_glyph(u32::from(id), at..at + 1, advance);
        let draw = |runs: &[(&str, usize)]| {
            streams_text(&page_pdf(|surface| {
                for (i, (text, glyphs)) in runs.iter().enumerate() {
                    let glyphs: Vec<_> = (0..*glyphs).map(glyph).collect();
                    let at = Point::from_xy(10.0, 20.0 * (i as f32 + 1.0));
                    surface.draw_glyphs(at, &glyphs, f.regular.clone(), text, 10.0, false);
                }
            }))
        };
        // Plain runs, the glyph always for "a": no marking.
        let plain = draw(&[("aa", 2), ("a", 1)]);
        assert!(
            plain.contains(")Tj") && !plain.contains("/ActualText"),
            "{plain:?}"
        );
        // The same glyph for "b" after "a": that run, and only it, is marked with its text.
        let mixed = draw(&[("aa", 2), ("b", 1)]);
        assert_eq!(mixed.matches("/ActualText").count(), 1, "{mixed}");
        assert!(mixed.contains("/ActualText(b)"), "{mixed}");
    }

    #[test]
    fn heading_levels_are_tagged_without_a_skip_and_siblings_alike() {
        // H1, then two headings drawn at level 3 (sections of it), then H2, H1.
        let mut last = (0, 0);
        let mut tagged = Vec::new();
        for level in [1, 3, 3, 2, 3, 1, 2] {
            let t = tagged_level(last, level);
            last = (level, t);
            tagged.push(t);
        }
        assert_eq!(tagged, [1, 2, 2, 2, 3, 1, 2]);
    }

    #[test]
    fn latin_breaks_at_spaces_and_long_words_by_character() {
        let f = fonts();
        let doc = Doc::new(&f, "t");
        let lines = doc.wrap(
            "the quick brown fox jumps over the lazy dog",
            10.0,
            false,
            80.0,
        );
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with(' ') && !l.ends_with(' '))
        );
        assert_eq!(
            lines.join(" "),
            "the quick brown fox jumps over the lazy dog"
        );
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let lines = doc.wrap(hash, 10.0, false, 80.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), hash);
        assert!(lines.iter().all(|l| f.width(l, 10.0, false) <= 80.0 + 0.01));
    }

    #[test]
    fn cjk_breaks_between_ideographs_never_before_closing_punctuation() {
        let f = fonts();
        let doc = Doc::new(&f, "t");
        let text =
            "云安全中心检查发现主账号未开启多因素认证，存在风险。请尽快为主账号绑定虚拟MFA设备。";
        for width in [40.0, 55.0, 70.0, 90.0, 120.0] {
            let lines = doc.wrap(text, 10.0, false, width);
            assert!(lines.len() > 1, "{width}");
            assert_eq!(lines.concat(), text, "no character lost at {width}");
            for line in &lines[1..] {
                let first = line.chars().next().unwrap();
                assert!(
                    !"，。、；：！？）」』》】".contains(first),
                    "line starts with {first} at width {width}: {lines:?}"
                );
            }
        }
    }

    /// Wraps `text` at `width` and checks that every line fits and no character is lost
    /// (`spaced`: the text has spaces, which breaks drop).
    fn wraps_within(text: &str, width: f32, spaced: bool) -> Vec<String> {
        let f = fonts();
        let doc = Doc::new(&f, "t");
        let lines = doc.wrap(text, 10.0, false, width);
        assert!(lines.len() > 1, "{lines:?}");
        for line in &lines {
            assert!(
                f.width(line, 10.0, false) <= width + 0.01,
                "{line} wider than {width}"
            );
        }
        if spaced {
            // Breaks at spaces drop them; a word wider than the line is cut anywhere.
            let bare = |t: &str| t.replace(' ', "");
            assert_eq!(bare(&lines.concat()), bare(text));
        } else {
            assert_eq!(lines.concat(), text);
        }
        lines
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// A paragraph that fits is one line without looking for breaks: the same lines as
        /// breaking it, whatever the text and width, including widths at the text's own. The
        /// no-break, ideographic and thin spaces and tabs make pieces of spaces alone (a
        /// fast path that measured the paragraph without its trailing spaces failed here).
        #[test]
        fn wrapping_a_paragraph_that_fits_gives_the_lines_breaking_gives(
            text in "([a-zA-Z0-9]{1,12}|[ ]{1,3}|[\u{a0}\t\u{3000}\u{2009}]|-|/|\u{4e00}|\u{6570}\u{636e}|\u{0301}|\n){0,30}",
            size in proptest::sample::select(vec![7.5f32, 9.0, 10.0]),
            bold in proptest::bool::ANY,
            fraction in 0.05f32..1.5,
        ) {
            let f = fonts();
            let doc = Doc::new(&f, "t");
            // The widest paragraph, without and with its trailing spaces (a space before a
            // no-break space ends a piece of its own).
            let widest = |trim: bool| {
                text.split('\n')
                    .map(|p| f.width(if trim { p.trim_end() } else { p }, size, bold))
                    .fold(1.0, f32::max)
            };
            let (natural, full) = (widest(true), widest(false));
            for width in [natural * fraction, natural * 0.995, natural, natural / 0.999, full, full / 0.999] {
                let mut broken = Vec::new();
                for paragraph in text.split('\n') {
                    doc.wrap_breaking(paragraph, size, bold, width, &mut broken);
                }
                proptest::prop_assert_eq!(doc.wrap(&text, size, bold, width), broken);
            }
        }
    }

    #[test]
    fn hangul_extension_b_and_thai_break_within_the_width() {
        // Hangul syllables: break at the spaces between words, or between syllables.
        let hangul =
            "루트 계정에 다단계 인증이 설정되어 있지 않습니다 가상 MFA 장치를 연결하십시오";
        wraps_within(hangul, 90.0, true);
        let syllables = wraps_within("다단계인증이설정되어있지않습니다", 40.0, false);
        assert!(syllables.iter().all(|l| l.chars().count() < 16));
        // CJK extension B ideographs (beyond the Basic Multilingual Plane) break between.
        let ext_b = "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋𠀌𠀍𠀎𠀏";
        let lines = wraps_within(ext_b, 40.0, false);
        assert!(lines.iter().all(|l| l.chars().count() < 16));
        // Thai has no spaces between words: a long run is broken between characters, never
        // before a combining vowel or tone mark.
        let thai = "บัญชีหลักยังไม่ได้เปิดใช้งานการยืนยันตัวตนแบบหลายปัจจัยโปรดผูกอุปกรณ์";
        let lines = wraps_within(thai, 60.0, false);
        for line in &lines {
            let first = line.chars().next().unwrap();
            assert_ne!(
                unicode_width::UnicodeWidthChar::width(first),
                Some(0),
                "a line starts with a combining mark: {lines:?}"
            );
        }
        wraps_within("ผู้ใช้ RAM ไม่มี MFA โปรดเปิดใช้งาน", 50.0, true);
        // Ideographs and syllables may break anywhere: a run that fits a line of its own
        // still starts on the line before, after the word there.
        let f = fonts();
        let doc = Doc::new(&f, "t");
        for run in ["𠀀𠀁𠀂𠀃𠀄𠀅", "다단계인증이설정"] {
            let width = f.width(run, 10.0, false) + 0.1;
            let lines = doc.wrap(&format!("ID {run}"), 10.0, false, width);
            assert!(
                lines[0].starts_with("ID ") && lines[0].len() > 3,
                "{lines:?}"
            );
        }
    }

    #[test]
    fn a_long_table_repeats_its_header_on_every_page() {
        let f = fonts();
        let mut doc = Doc::new(&f, "t");
        let rows: Vec<usize> = (0..200).collect();
        let table = Table::new(8.0)
            .column("Resource", 1.0, |i: &usize| {
                Cell::text(format!("user{i}@x.onaliyun.com"))
            })
            .column("Detail", 1.0, |_| Cell::text("detail"));
        doc.table(&table, &rows);
        let pages = doc.page_count();
        assert!(pages >= 3, "{pages}");
        assert_eq!(
            doc.occurrences("Resource"),
            vec![1; pages],
            "header on every page"
        );
        assert_eq!(
            doc.occurrences("user199@x.onaliyun.com")
                .iter()
                .sum::<usize>(),
            1
        );
        let bytes = doc
            .finish(|p, n| format!("Page {p} of {n}"), "", test_finish())
            .unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_continued_table_names_itself_and_jumps_lead_to_their_anchor() {
        let f = fonts();
        let mut doc = Doc::new(&f, "t");
        let rows: Vec<usize> = (0..200).collect();
        let table = Table::new(8.0)
            .column("Resource", 1.0, |i: &usize| {
                let cell = Cell::text(format!("row {i}"));
                if *i == 150 {
                    cell.anchored("row-150")
                } else {
                    cell
                }
            })
            .column("Detail", 1.0, |i| {
                if *i == 0 {
                    Cell::text("first")
                        .jump("To 150", "row-150", "Row 150")
                        .jump("Nowhere", "absent", "Nowhere")
                } else {
                    Cell::text("detail")
                }
            })
            .continued("Rows (x) - continued");
        doc.table(&table, &rows);
        let pages = doc.page_count();
        assert!(pages >= 3, "{pages}");
        // Not on the first page, where the table starts; on every page after.
        let mut expected = vec![1; pages];
        expected[0] = 0;
        assert_eq!(doc.occurrences("Rows (x) - continued"), expected);
        assert_eq!(doc.occurrences("Resource"), vec![1; pages]);
        let page_of = |text: &str| doc.occurrences(text).iter().position(|n| *n > 0).unwrap();
        let (page, y) = doc.anchors["row-150"];
        assert_eq!(page, page_of("row 150"));
        let row_y = doc.pages[page]
            .iter()
            .find_map(|op| match op {
                Op::Text { text, y, .. } if text == "row 150" => Some(*y),
                _ => None,
            })
            .unwrap();
        assert!(y < row_y && row_y - y < 20.0, "{y} {row_y}");
        // The links' labels share a line, each with its own link area.
        let links: Vec<&LinkTo> = doc.pages[0]
            .iter()
            .filter_map(|op| match op {
                Op::Link { target, .. } => Some(target),
                _ => None,
            })
            .collect();
        assert_eq!(
            links,
            [
                &LinkTo::Anchor("row-150".into()),
                &LinkTo::Anchor("absent".into())
            ]
        );
        assert_eq!(doc.occurrences("To 150")[0], 1);
        // An anchor never drawn leaves its label unlinked; the document still validates.
        let bytes = doc
            .finish(|p, n| format!("Page {p} of {n}"), "", test_finish())
            .unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }

    /// Every drawing operation of every page lies inside the page's content box.
    fn assert_inside_pages(doc: &Doc) {
        let (top, bottom) = (MARGIN_TOP - 0.01, PAGE_H - MARGIN_BOTTOM + 0.01);
        for (page, ops) in doc.pages.iter().enumerate() {
            for op in ops {
                let (y0, y1) = match op {
                    Op::Text { y, size, .. } => (y - size, *y),
                    Op::Rect { y, h, .. } | Op::Drawing { y, h, .. } | Op::Link { y, h, .. } => {
                        (*y, y + h)
                    }
                    Op::Line { y1, y2, .. } => (y1.min(*y2), y1.max(*y2)),
                };
                assert!(
                    y0 >= top && y1 <= bottom,
                    "page {page}: {y0}..{y1} outside {top}..{bottom}"
                );
            }
        }
    }

    #[test]
    fn a_row_taller_than_a_page_continues_on_the_next_pages() {
        let f = fonts();
        let mut doc = Doc::new(&f, "t");
        doc.paragraph("Above the table.", 9.0, INK);
        // 300 lines in one cell: several pages' worth.
        let long: String = (0..300).map(|i| format!("line {i}\n")).collect();
        let rows = [
            ("short", "one"),
            ("tall", long.trim_end()),
            ("after", "two"),
        ];
        let table = Table::new(8.0)
            .column("Name", 1.0, |r: &(&str, &str)| {
                Cell::text(r.0).linked("x.pdf")
            })
            .column("Text", 3.0, |r| Cell::text(r.1));
        doc.table(&table, &rows);
        let pages = doc.page_count();
        assert!(pages >= 4, "{pages}");
        assert_inside_pages(&doc);
        // Every line is drawn once, in order, and the header heads every page.
        for i in [0, 150, 299] {
            assert_eq!(
                doc.occurrences(&format!("line {i}")).iter().sum::<usize>(),
                1
            );
        }
        assert_eq!(doc.occurrences("Text"), vec![1; pages]);
        let page_of = |text: &str| doc.occurrences(text).iter().position(|n| *n > 0).unwrap();
        assert!(page_of("line 0") <= page_of("line 150"));
        assert!(page_of("line 150") < page_of("line 299"));
        assert_eq!(page_of("after"), pages - 1);
        // The row's first line shares its page with the row above.
        assert_eq!(page_of("short"), page_of("line 0"));
    }
}
