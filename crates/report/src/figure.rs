//! A chart as shapes: what plotters drew, kept so that the PDF draws it straight onto its
//! page instead of writing SVG text and parsing it back (usvg's text layout parses the CJK
//! font again for every label, and was a fifth of a PDF's time).
//!
//! `Tee` is a plotters backend that hands every call to plotters' SVG backend unchanged (the
//! HTML's SVG is the same bytes) and records it as a [`Shape`] in the SVG's coordinates, with
//! the geometry usvg would give the SVG element: a rectangle is the closed path of its four
//! corners from the top left, a line or polyline an open path, a polygon a closed one, a
//! circle its centre and radius, and a text its origin, baseline offset (`dy`), anchor and
//! size. A drawing that uses anything else (pixels, bitmaps, translucent colours, italics)
//! has no figure, and the PDF keeps the SVG route for it.

use plotters::backend::SVGBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle, FontTransform,
};

use crate::theme::Colour;

/// A chart's shapes on its `width` x `height` canvas, in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Canvas width (SVG user units).
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The shapes, first drawn first.
    pub shapes: Vec<Shape>,
}

/// One drawn element.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled polygon (non-zero rule): the closed path through `points`.
    Fill {
        /// Corners in order.
        points: Vec<(f32, f32)>,
        /// Fill colour.
        colour: Colour,
    },
    /// A stroked path through `points` (butt caps, miter joins with limit 4, as SVG).
    Stroke {
        /// Points in order.
        points: Vec<(f32, f32)>,
        /// Whether the path closes back to its first point.
        closed: bool,
        /// Stroke colour.
        colour: Colour,
        /// Stroke width.
        width: f32,
    },
    /// A circle, filled, or stroked `width` wide.
    Circle {
        /// Centre.
        centre: (f32, f32),
        /// Radius.
        radius: f32,
        /// Colour.
        colour: Colour,
        /// Filled (else stroked).
        fill: bool,
        /// Stroke width (a filled circle is not stroked).
        width: f32,
    },
    /// A line of text.
    Text(Label),
}

/// Where a label's origin is on its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the origin.
    Start,
    /// The text is centred on the origin.
    Middle,
    /// The text ends at the origin.
    End,
}

/// A line of text as an SVG `<text>` element has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The text, with white space as SVG shows it (runs collapsed, ends trimmed).
    pub text: String,
    /// The origin (`x`, `y`).
    pub x: f32,
    /// The origin's y.
    pub y: f32,
    /// The baseline's offset below `y` (`dy`).
    pub dy: f32,
    /// Font size.
    pub size: f32,
    /// Bold face.
    pub bold: bool,
    /// Text colour.
    pub colour: Colour,
    /// Where the origin is on the text.
    pub anchor: Anchor,
    /// Clockwise rotation about the origin, in degrees.
    pub rotate: f32,
}

impl Label {
    /// `text` as SVG's default white-space handling shows it: newlines removed, tabs as
    /// spaces, runs of spaces as one, both ends trimmed.
    pub fn shown(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars().filter(|c| *c != '\n' && *c != '\r') {
            let c = if c == '\t' { ' ' } else { c };
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(c);
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out
    }
}

/// The shapes a [`Tee`] recorded.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    shapes: Vec<Shape>,
    /// Something was drawn that has no shape here (the figure is then not used).
    unsupported: bool,
}

impl Recording {
    /// The figure on a `width` x `height` canvas (`None` if the drawing used a shape this
    /// module does not record).
    pub(crate) fn figure(self, (width, height): (u32, u32)) -> Option<Figure> {
        (!self.unsupported).then_some(Figure {
            width,
            height,
            shapes: self.shapes,
        })
    }
}

/// plotters' SVG backend, recording each call as a shape too.
pub(crate) struct Tee<'a> {
    svg: SVGBackend<'a>,
    recording: &'a std::cell::RefCell<Recording>,
}

impl<'a> Tee<'a> {
    /// A backend writing SVG into `out` on a `size` canvas and its shapes into `recording`.
    pub(crate) fn new(
        out: &'a mut String,
        size: (u32, u32),
        recording: &'a std::cell::RefCell<Recording>,
    ) -> Tee<'a> {
        Tee {
            svg: SVGBackend::with_string(out, size),
            recording,
        }
    }

    fn unsupported(&mut self) {
        self.recording.borrow_mut().unsupported = true;
    }
}

fn colour(c: BackendColor) -> Option<Colour> {
    // Charts are opaque (see crate::charts); anything else keeps the SVG route.
    (c.alpha == 1.0).then_some(Colour {
        r: c.rgb.0,
        g: c.rgb.1,
        b: c.rgb.2,
    })
}

fn point((x, y): BackendCoord) -> (f32, f32) {
    (x as f32, y as f32)
}

impl Tee<'_> {
    /// Records `shape` if `c` is opaque; nothing for a transparent colour (SVG draws
    /// nothing); unsupported otherwise.
    fn record(&mut self, c: BackendColor, shape: impl FnOnce(Colour) -> Option<Shape>) {
        if c.alpha == 0.0 {
            return;
        }
        match colour(c) {
            Some(c) => {
                if let Some(s) = shape(c) {
                    self.recording.borrow_mut().shapes.push(s);
                }
            }
            None => self.unsupported(),
        }
    }

    fn stroke(&mut self, points: Vec<(f32, f32)>, closed: bool, c: BackendColor, width: u32) {
        self.record(c, |colour| {
            // usvg draws no stroke of width 0 and no path of fewer than two points.
            (width > 0 && points.len() >= 2).then_some(Shape::Stroke {
                points,
                closed,
                colour,
                width: width as f32,
            })
        });
    }
}

type Result<E> = std::result::Result<(), DrawingErrorKind<E>>;

impl DrawingBackend for Tee<'_> {
    type ErrorType = <SVGBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.svg.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<Self::ErrorType> {
        self.svg.ensure_prepared()
    }

    fn present(&mut self) -> Result<Self::ErrorType> {
        self.svg.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<Self::ErrorType> {
        if color.alpha != 0.0 {
            self.unsupported();
        }
        self.svg.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<Self::ErrorType> {
        self.stroke(
            vec![point(from), point(to)],
            false,
            style.color(),
            style.stroke_width(),
        );
        self.svg.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<Self::ErrorType> {
        let (x0, y0) = point(upper_left);
        let (x1, y1) = point(bottom_right);
        // usvg skips a rectangle without area.
        if x1 > x0 && y1 > y0 {
            let corners = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            if fill {
                self.record(style.color(), |colour| {
                    Some(Shape::Fill {
                        points: corners,
                        colour,
                    })
                });
            } else {
                // The SVG names no stroke width: 1.
                self.stroke(corners, true, style.color(), 1);
            }
        }
        self.svg.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<Self::ErrorType> {
        let path: Vec<BackendCoord> = path.into_iter().collect();
        self.stroke(
            path.iter().copied().map(point).collect(),
            false,
            style.color(),
            style.stroke_width(),
        );
        self.svg.draw_path(path, style)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<Self::ErrorType> {
        let vert: Vec<BackendCoord> = vert.into_iter().collect();
        let points: Vec<(f32, f32)> = vert.iter().copied().map(point).collect();
        self.record(style.color(), |colour| {
            (points.len() >= 2).then_some(Shape::Fill { points, colour })
        });
        self.svg.fill_polygon(vert, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<Self::ErrorType> {
        let width = style.stroke_width();
        self.record(style.color(), |colour| {
            // usvg skips a circle without radius, and a stroke of width 0.
            (radius > 0 && (fill || width > 0)).then_some(Shape::Circle {
                centre: point(center),
                radius: radius as f32,
                colour,
                fill,
                width: width as f32,
            })
        });
        self.svg.draw_circle(center, radius, style, fill)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<Self::ErrorType> {
        // As plotters' SVG backend writes the element (font-size is the size / 1.24; dy in
        // em or ex, an ex being half the font size in usvg, with usvg's order of operations).
        let size = (style.size() / 1.24) as f32;
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.76 * size,
            VPos::Center => 0.5 * size / 2.0,
            VPos::Bottom => -0.5 * size / 2.0,
        };
        let anchor = match style.anchor().h_pos {
            HPos::Left => Anchor::Start,
            HPos::Center => Anchor::Middle,
            HPos::Right => Anchor::End,
        };
        let rotate = match style.transform() {
            FontTransform::None => 0.0,
            FontTransform::Rotate90 => 90.0,
            FontTransform::Rotate180 => 180.0,
            FontTransform::Rotate270 => 270.0,
        };
        let bold = match style.style() {
            FontStyle::Normal => Some(false),
            FontStyle::Bold => Some(true),
            _ => None,
        };
        match bold {
            Some(bold) => self.record(style.color(), |colour| {
                Some(Shape::Text(Label {
                    text: Label::shown(text),
                    x: pos.0 as f32,
                    y: pos.1 as f32,
                    dy,
                    size,
                    bold,
                    colour,
                    anchor,
                    rotate,
                }))
            }),
            // Italic and oblique: no face of ours draws them.
            None => {
                if style.color().alpha != 0.0 {
                    self.unsupported();
                }
            }
        }
        self.svg.draw_text(text, style, pos)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<Self::ErrorType> {
        self.unsupported();
        self.svg.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_show_white_space_as_svg_does() {
        assert_eq!(Label::shown("  Passed\n"), "Passed");
        assert_eq!(Label::shown("a \t b"), "a b");
        assert_eq!(Label::shown("\n"), "");
        assert_eq!(Label::shown("已通过 12"), "已通过 12");
    }
}
