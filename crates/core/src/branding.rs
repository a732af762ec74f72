//! White-label branding (`--branding FILE`, README "Branding"): the company the reports are issued
//! under, its logo and accent colour, title, footer, disclaimer, who prepared them and whom
//! to contact, with per-customer overrides so one run brands each customer differently.
//!
//! Every value is checked when the file is read: a missing or oversized logo, a logo that is
//! neither PNG nor SVG, or a colour that is not `#rrggbb` is an error naming the key. An SVG
//! logo must be self-contained: it may refer only to itself (`#fragment`) and embed images as
//! `data:` URIs, each measured from its header against the limits of a PNG logo before
//! anything decodes it; usvg is never let read a file (see [`image_resolver`]). Values are
//! data: templates escape them, and the logo reaches HTML only as a data URI in `<img>`
//! (where an SVG cannot run scripts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;

/// Largest logo accepted, in bytes (also of each image embedded in an SVG logo).
pub(crate) const MAX_LOGO_BYTES: u64 = 1024 * 1024;

/// Most pixels each way of a PNG logo and of each image embedded in an SVG logo.
pub(crate) const MAX_LOGO_SIDE: u64 = 10_000;

/// Most pixels of a PNG logo, and of all the images embedded in an SVG logo together: a
/// 10000 x 10000 PNG of 400 KB took 1.7 GB to put into PDFs.
pub(crate) const MAX_LOGO_PIXELS: u64 = 8_000_000;

/// The default accent colour (the neutral look).
pub(crate) const DEFAULT_ACCENT: &str = "#16324f";

/// The keys of a branding table, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    company: Option<String>,
    logo: Option<String>,
    accent: Option<String>,
    title: Option<String>,
    footer: Option<String>,
    disclaimer: Option<String>,
    prepared_by: Option<String>,
    reviewed_by: Option<String>,
    contact: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(flatten)]
    base: Fields,
    #[serde(default)]
    customers: BTreeMap<String, Fields>,
}

/// A logo, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Logo {
    /// `image/png` or `image/svg+xml`.
    pub mime: &'static str,
    /// The file's bytes.
    pub bytes: Arc<Vec<u8>>,
    /// Width and height in pixels (PNG) or user units (SVG).
    pub size: (f32, f32),
}

impl Logo {
    /// A `data:` URI for an `<img src>`.
    pub fn data_uri(&self) -> String {
        format!(
            "data:{};base64,{}",
            self.mime,
            base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice())
        )
    }

    /// The logo as an SVG document (a PNG is wrapped in one), for the PDF.
    pub fn svg(&self) -> String {
        match self.mime {
            "image/png" => format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><image width="{w}" height="{h}" xlink:href="{uri}"/></svg>"#,
                w = self.size.0,
                h = self.size.1,
                uri = self.data_uri()
            ),
            _ => String::from_utf8_lossy(&self.bytes).into_owned(),
        }
    }
}

/// The branding of one report.
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    /// Company the reports are issued under.
    pub company: Option<String>,
    /// Its logo.
    pub logo: Option<Logo>,
    /// Accent colour, `#rrggbb`.
    pub accent: String,
    /// Report title (replaces "Compliance report").
    pub title: Option<String>,
    /// Footer text on every page.
    pub footer: Option<String>,
    /// Disclaimer (cover and page foot).
    pub disclaimer: Option<String>,
    /// Who prepared the report (the cover, and the sign-off page's "Prepared by").
    pub prepared_by: Option<String>,
    /// Who reviews it (the sign-off page's "Reviewed by"; a blank line to sign without it).
    pub reviewed_by: Option<String>,
    /// Whom to contact.
    pub contact: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Brand {
            company: None,
            logo: None,
            accent: DEFAULT_ACCENT.to_string(),
            title: None,
            footer: None,
            disclaimer: None,
            prepared_by: None,
            reviewed_by: None,
            contact: None,
        }
    }
}

impl Brand {
    /// Colour of links on white: the accent when it has a 4.5:1 contrast with white, else
    /// the default blue.
    pub fn link(&self) -> &str {
        if 1.05 / (self.luminance() + 0.05) >= 4.5 {
            &self.accent
        } else {
            "#1f5fa8"
        }
    }

    /// Text colour that reads on the accent: white on dark accents, near-black on light ones.
    pub fn on_accent(&self) -> &'static str {
        let l = self.luminance();
        // Contrast with white is (1.05) / (l + 0.05), with #212529 about (l + 0.05) / 0.065.
        if 1.05 / (l + 0.05) >= (l + 0.05) / 0.065 {
            "#ffffff"
        } else {
            "#212529"
        }
    }

    /// WCAG relative luminance of the accent.
    fn luminance(&self) -> f64 {
        let (r, g, b) = self.accent_rgb();
        let lin = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// The accent colour as RGB.
    pub fn accent_rgb(&self) -> (u8, u8, u8) {
        parse_colour(&self.accent).unwrap_or((0x16, 0x32, 0x4F))
    }
}

/// The branding of a run: the base, and the base with each customer's overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Branding {
    /// The file as given, and its SHA-256.
    pub file: Option<crate::stamp::FileStamp>,
    base: Brand,
    customers: BTreeMap<String, Brand>,
}

/// Errors in a branding file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BrandingError {
    path: String,
    message: String,
}

/// `#rrggbb` as RGB.
pub fn parse_colour(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

/// Reads and checks a logo file.
fn read_logo(path: &Path) -> Result<Logo, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "{} bytes is larger than the {MAX_LOGO_BYTES} bytes a logo may have",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.starts_with(PNG_MAGIC) {
        let (w, h) = check_png(&bytes, &mut 0)?;
        return Ok(Logo {
            mime: "image/png",
            bytes: Arc::new(bytes),
            size: (w as f32, h as f32),
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| "neither PNG nor SVG".to_string())?;
    if !text.contains("<svg") {
        return Err("neither PNG nor SVG".into());
    }
    check_svg(text, &mut Budget::default())?;
    let tree = usvg::Tree::from_str(
        text,
        &usvg::Options {
            resources_dir: None,
            image_href_resolver: image_resolver(),
            ..usvg::Options::default()
        },
    )
    .map_err(|e| format!("not a valid SVG: {e}"))?;
    Ok(Logo {
        mime: "image/svg+xml",
        bytes: Arc::new(bytes),
        size: (tree.size().width(), tree.size().height()),
    })
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// How deep SVG images may nest in an SVG logo (`data:image/svg+xml` inside one another).
const MAX_NESTING: u32 = 4;

/// What the images of one logo have used so far: pixels in all, and how deep SVGs nest.
#[derive(Default)]
struct Budget {
    pixels: u64,
    depth: u32,
}

/// The one size check of every raster a logo brings (a PNG logo, each image embedded in an
/// SVG logo), from the dimensions its header declares, before anything is decoded: at most
/// [`MAX_LOGO_SIDE`] pixels each way, and [`MAX_LOGO_PIXELS`] for all of a logo's images.
fn check_pixels(format: &str, (w, h): (u64, u64), used: &mut u64) -> Result<(), String> {
    let total = used.saturating_add(w.saturating_mul(h));
    if w > MAX_LOGO_SIDE || h > MAX_LOGO_SIDE || total > MAX_LOGO_PIXELS {
        return Err(format!(
            "a {format} of {w} x {h} pixels (a logo's images may have at most {MAX_LOGO_SIDE} \
             pixels each way and {MAX_LOGO_PIXELS} in all)"
        ));
    }
    *used = total;
    Ok(())
}

/// A PNG's dimensions as its header declares them, checked by [`check_pixels`]; nothing is
/// decoded.
fn png_size(bytes: &[u8], used: &mut u64) -> Result<(u32, u32), String> {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    check_pixels("PNG", (w.into(), h.into()), used)?;
    Ok((w, h))
}

/// Checks a PNG (a logo file or an embedded image): its size first, from the header, then
/// decoded whole once, so a damaged PNG is an error here, not a blank in a PDF.
fn check_png(bytes: &[u8], used: &mut u64) -> Result<(u32, u32), String> {
    let size = png_size(bytes, used)?;
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let mut pixels = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or("a PNG too large to decode")?
    ];
    reader
        .next_frame(&mut pixels)
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    Ok(size)
}

/// The kinds of image an SVG logo may embed.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Embedded {
    Png,
    Jpeg,
    Gif,
    WebP,
    Svg,
}

/// What an embedded image is, by its first bytes (its declared type only tells an SVG apart,
/// as usvg does): PNG, JPEG, GIF, WebP or uncompressed SVG; anything else is refused.
fn embedded_kind(mime: &str, bytes: &[u8]) -> Result<Embedded, String> {
    if bytes.len() as u64 > MAX_LOGO_BYTES {
        return Err(format!(
            "{} bytes is larger than the {MAX_LOGO_BYTES} bytes a logo may have",
            bytes.len()
        ));
    }
    match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => return Ok(Embedded::Png),
        Ok(imagesize::ImageType::Jpeg) => return Ok(Embedded::Jpeg),
        Ok(imagesize::ImageType::Gif) => return Ok(Embedded::Gif),
        Ok(imagesize::ImageType::Webp) => return Ok(Embedded::WebP),
        _ => {}
    }
    // A compressed SVG is refused: its size is only known once inflated.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err("a compressed SVG (SVGZ); embed it uncompressed".into());
    }
    match mime {
        "image/svg+xml" | "text/plain" => Ok(Embedded::Svg),
        _ => Err(format!(
            "type \"{}\" is none of PNG, JPEG, GIF, WebP and SVG",
            shown(mime)
        )),
    }
}

/// Checks the header size of an embedded JPEG, GIF or WebP (PNGs go through [`png_size`]).
fn raster_size(kind: Embedded, bytes: &[u8], used: &mut u64) -> Result<(), String> {
    let format = match kind {
        Embedded::Jpeg => "JPEG",
        Embedded::Gif => "GIF",
        _ => "WebP",
    };
    let size = imagesize::blob_size(bytes).map_err(|e| format!("not a readable {format}: {e}"))?;
    check_pixels(format, (size.width as u64, size.height as u64), used)
}

/// The resolver of `<image>` and `<feImage>` references for usvg, wherever it parses a logo:
/// a file name or URL resolves to nothing (usvg would otherwise read any file the SVG names,
/// relative to the working directory), and a `data:` image must pass the limits a logo's
/// images pass when the branding file is read.
pub fn image_resolver() -> usvg::ImageHrefResolver<'static> {
    usvg::ImageHrefResolver {
        resolve_data: Box::new(|mime, data, options| {
            let kind = embedded_kind(mime, &data).ok()?;
            let mut used = 0;
            match kind {
                Embedded::Png => png_size(&data, &mut used)
                    .ok()
                    .map(|_| usvg::ImageKind::PNG(data)),
                Embedded::Jpeg => raster_size(kind, &data, &mut used)
                    .ok()
                    .map(|_| usvg::ImageKind::JPEG(data)),
                Embedded::Gif => raster_size(kind, &data, &mut used)
                    .ok()
                    .map(|_| usvg::ImageKind::GIF(data)),
                Embedded::WebP => raster_size(kind, &data, &mut used)
                    .ok()
                    .map(|_| usvg::ImageKind::WEBP(data)),
                Embedded::Svg => usvg::Tree::from_data_nested(&data, options)
                    .ok()
                    .map(usvg::ImageKind::SVG),
            }
        }),
        resolve_string: Box::new(|_, _| None),
    }
}

/// An untrusted value as it may appear in a message: printable, and cut at 80 characters.
fn shown(value: &str) -> String {
    let mut cut: String = value.chars().take(80).collect();
    if cut.len() < value.len() {
        cut.push_str("...");
    }
    crate::diag::printable(&cut).into_owned()
}

fn outside(target: &str) -> String {
    format!(
        "refers to an outside file (\"{}\"); a logo must be self-contained",
        shown(target)
    )
}

/// Checks that an SVG logo (or an SVG embedded in one) is self-contained: every reference
/// (`href` and `src` in any namespace, CSS `url(...)` in any attribute or `<style>`) is a
/// `#fragment` or a `data:` image that passes a logo's limits; no `@import`, no
/// `<?xml-stylesheet?>`, no external entity. The document is parsed as usvg parses it
/// (roxmltree, DTD allowed), so entities are expanded before the references are read.
fn check_svg(text: &str, budget: &mut Budget) -> Result<(), String> {
    fn refuse_entity<'a>(_: Option<&str>, uri: &str) -> Result<Option<&'a str>, String> {
        Err(outside(uri))
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        entity_resolver: Some(&refuse_entity),
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::EntityResolver(_, message) => message,
        e => format!("not a valid SVG: {e}"),
    })?;
    for node in doc.descendants() {
        if let Some(pi) = node.pi()
            && pi.target.eq_ignore_ascii_case("xml-stylesheet")
        {
            return Err(format!(
                "links a style sheet (<?xml-stylesheet {}?>); a logo must be self-contained",
                shown(pi.value.unwrap_or_default())
            ));
        }
        if !node.is_element() {
            continue;
        }
        for attr in node.attributes() {
            // A reference is checked whole (a data: URI of a nested SVG is checked as an SVG);
            // reading it again as CSS would refuse the nested document's own `url(#id)` and
            // count its images twice.
            if matches!(attr.name(), "href" | "src") {
                check_reference(attr.value(), budget)?;
            } else {
                check_css(attr.value(), budget)?;
            }
        }
        if node.tag_name().name() == "style" {
            for child in node.children().filter(|c| c.is_text()) {
                check_css(child.text().unwrap_or_default(), budget)?;
            }
        }
    }
    Ok(())
}

/// Checks the `url(...)` references and refuses the `@import`s of CSS text.
fn check_css(text: &str, budget: &mut Budget) -> Result<(), String> {
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.find("@import") {
        let rest = &text[at + "@import".len()..];
        let target = rest.split(';').next().unwrap_or_default().trim();
        return Err(format!(
            "imports a style sheet ({}); a logo must be self-contained",
            shown(target)
        ));
    }
    let mut from = 0;
    while let Some(found) = lower[from..].find("url(") {
        let start = from + found + "url(".len();
        let rest = text[start..].trim_start();
        let (target, end) = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &rest[1..];
                let len = inner.find(quote).unwrap_or(inner.len());
                (&inner[..len], len + 2)
            }
            _ => {
                let len = rest.find(')').unwrap_or(rest.len());
                (&rest[..len], len)
            }
        };
        check_reference(target, budget)?;
        from = (text.len() - rest.len() + end).min(text.len());
    }
    Ok(())
}

/// Checks one reference: a `#fragment` (or nothing) stays in the document; a `data:` URI
/// must hold an image a logo may embed; anything else is an outside file.
fn check_reference(value: &str, budget: &mut Budget) -> Result<(), String> {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    if value.is_empty() || value.starts_with('#') {
        return Ok(());
    }
    if !value
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
    {
        return Err(outside(value));
    }
    let (mime, bytes) =
        decode_data_uri(value).ok_or("an embedded image: not a readable data URI")?;
    check_embedded(&mime, &bytes, budget).map_err(|e| format!("an embedded image: {e}"))
}

/// Checks an image embedded in an SVG logo as a logo file is checked: its kind, its bytes,
/// a raster's pixels (from its header, before decoding; a PNG is then decoded once), an SVG's
/// own references.
fn check_embedded(mime: &str, bytes: &[u8], budget: &mut Budget) -> Result<(), String> {
    let kind = embedded_kind(mime, bytes)?;
    match kind {
        Embedded::Png => check_png(bytes, &mut budget.pixels).map(|_| ()),
        Embedded::Jpeg | Embedded::Gif | Embedded::WebP => {
            raster_size(kind, bytes, &mut budget.pixels)
        }
        Embedded::Svg => {
            if budget.depth >= MAX_NESTING {
                return Err(format!("SVG images nested more than {MAX_NESTING} deep"));
            }
            let text = std::str::from_utf8(bytes).map_err(|_| "not a readable SVG".to_string())?;
            budget.depth += 1;
            let checked = check_svg(text, budget);
            budget.depth -= 1;
            checked
        }
    }
}

/// A `data:` URI's media type and bytes (`;base64` or percent-encoded), or `None` if it is
/// malformed.
fn decode_data_uri(uri: &str) -> Option<(String, Vec<u8>)> {
    let (header, payload) = uri.get(5..)?.split_once(',')?;
    let mut params = header.split(';');
    let mime = params
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let base64 = params.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    let raw = payload.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(b) => {
                bytes.push(b);
                i += 3;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    if base64 {
        bytes.retain(|b| !b.is_ascii_whitespace());
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        bytes = engine.decode(&bytes).ok()?;
    }
    let mime = if mime.is_empty() {
        "text/plain".to_string()
    } else {
        mime
    };
    Some((mime, bytes))
}

impl Branding {
    /// Reads a branding file; `logo` paths are relative to the file.
    pub fn load(path: &Path) -> Result<Branding, BrandingError> {
        let shown = path.display().to_string();
        let err = |message: String| BrandingError {
            path: shown.clone(),
            message,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // Warnings reach the outputs: they name the file as outputs do (`stamp::shown`).
        let mut branding = Branding::from_toml(&text, &crate::stamp::shown(&shown), &dir)?;
        branding.file = Some(crate::stamp::FileStamp {
            path: shown,
            sha256: sha,
        });
        Ok(branding)
    }

    /// Parses a branding file's text; `dir` is where logo paths start.
    pub fn from_toml(text: &str, shown: &str, dir: &Path) -> Result<Branding, BrandingError> {
        let err = |message: String| BrandingError {
            path: shown.to_string(),
            message,
        };
        let form: FileForm =
            toml::from_str(text).map_err(|e| err(crate::diag::toml_error(text, &e)))?;
        let base = resolve(&form.base, &Brand::default(), dir, "").map_err(err)?;
        let mut customers = BTreeMap::new();
        for (name, fields) in &form.customers {
            let at = format!("customers.\"{name}\".");
            customers.insert(name.clone(), resolve(fields, &base, dir, &at).map_err(err)?);
        }
        Ok(Branding {
            file: None,
            base,
            customers,
        })
    }

    /// The branding of a report for `customer` (the portfolio's for none).
    pub fn for_customer(&self, customer: Option<&str>) -> &Brand {
        customer
            .and_then(|c| self.customers.get(c))
            .unwrap_or(&self.base)
    }

    /// Customer names with overrides.
    pub fn customers(&self) -> impl Iterator<Item = &str> {
        self.customers.keys().map(String::as_str)
    }
}

/// `fields` over `base`: a key that is set replaces the base's value.
fn resolve(fields: &Fields, base: &Brand, dir: &Path, at: &str) -> Result<Brand, String> {
    let text = |key: &str, value: &Option<String>, inherited: &Option<String>| match value {
        Some(v) if v.chars().count() > 2000 => {
            Err(format!("{at}{key} is longer than 2000 characters"))
        }
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => Ok(Some(v.clone())),
        None => Ok(inherited.clone()),
    };
    let accent = match &fields.accent {
        Some(a) if parse_colour(a).is_some() => a.to_ascii_lowercase(),
        Some(a) => return Err(format!("{at}accent \"{a}\" is not a colour (use #rrggbb)")),
        None => base.accent.clone(),
    };
    let logo = match &fields.logo {
        Some(file) => {
            let path: PathBuf = dir.join(file);
            Some(read_logo(&path).map_err(|e| format!("{at}logo \"{file}\": {e}"))?)
        }
        None => base.logo.clone(),
    };
    Ok(Brand {
        company: text("company", &fields.company, &base.company)?,
        logo,
        accent,
        title: text("title", &fields.title, &base.title)?,
        footer: text("footer", &fields.footer, &base.footer)?,
        disclaimer: text("disclaimer", &fields.disclaimer, &base.disclaimer)?,
        prepared_by: text("prepared_by", &fields.prepared_by, &base.prepared_by)?,
        reviewed_by: text("reviewed_by", &fields.reviewed_by, &base.reviewed_by)?,
        contact: text("contact", &fields.contact, &base.contact)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A valid 1 x 1 PNG (checksums included) in the accent blue.
    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x90,
        0x8F, 0x5F, 0xF1, 0x1F, 0x00, 0x03, 0xED, 0x02, 0x26, 0x95, 0x9F, 0xF2, 0xEB, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    fn load(text: &str, files: &[(&str, &[u8])]) -> Result<Branding, String> {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        Branding::from_toml(text, "branding.toml", dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn customers_override_the_base_key_by_key() {
        let b = load(
            "company = \"Acme Assurance\"\naccent = \"#0B5FFF\"\nlogo = \"a.png\"\n[customers.\"Northwind\"]\naccent = \"#aa0000\"\ntitle = \"Northwind review\"\n",
            &[("a.png", PNG_1X1)],
        )
        .unwrap();
        let base = b.for_customer(None);
        assert_eq!(base.accent, "#0b5fff");
        assert_eq!(base.logo.as_ref().unwrap().size, (1.0, 1.0));
        let nw = b.for_customer(Some("Northwind"));
        assert_eq!(nw.accent, "#aa0000");
        assert_eq!(nw.company.as_deref(), Some("Acme Assurance"));
        assert_eq!(nw.title.as_deref(), Some("Northwind review"));
        assert!(nw.logo.is_some());
        assert_eq!(b.for_customer(Some("Other")), base);
        assert!(
            base.logo
                .as_ref()
                .unwrap()
                .data_uri()
                .starts_with("data:image/png;base64,iVBOR")
        );
    }

    #[test]
    fn text_on_the_accent_keeps_its_contrast() {
        let with = |accent: &str| Brand {
            accent: accent.into(),
            ..Brand::default()
        };
        assert_eq!(with(DEFAULT_ACCENT).on_accent(), "#ffffff");
        assert_eq!(with("#ffd400").on_accent(), "#212529");
        assert_eq!(with("#0b5fff").on_accent(), "#ffffff");
        assert_eq!(with("#ffd400").link(), "#1f5fa8");
        assert_eq!(with("#0b3d91").link(), "#0b3d91");
    }

    #[test]
    fn no_file_gives_the_neutral_look() {
        let b = Branding::default();
        assert_eq!(b.for_customer(None).accent, DEFAULT_ACCENT);
        assert!(b.for_customer(Some("x")).company.is_none());
    }

    #[test]
    fn bad_values_name_the_key() {
        let big = vec![b'<'; MAX_LOGO_BYTES as usize + 1];
        type Case<'a> = (String, Vec<(&'a str, &'a [u8])>, &'a str);
        let cases: Vec<Case> = vec![
            (
                "accent = \"blue\"".into(),
                vec![],
                "accent \"blue\" is not a colour (use #rrggbb)",
            ),
            ("accent = \"#12345\"".into(), vec![], "is not a colour"),
            (
                "logo = \"missing.png\"".into(),
                vec![],
                "logo \"missing.png\": cannot read it",
            ),
            (
                "logo = \"big.svg\"".into(),
                vec![("big.svg", &big)],
                "larger than the 1048576 bytes",
            ),
            (
                "logo = \"x.gif\"".into(),
                vec![("x.gif", b"GIF89a....")],
                "neither PNG nor SVG",
            ),
            (
                "logo = \"cut.png\"".into(),
                vec![("cut.png", &PNG_1X1[..40])],
                "not a readable PNG",
            ),
            (
                "logo = \"x.svg\"".into(),
                vec![("x.svg", b"<svg><g></svg")],
                "not a valid SVG",
            ),
            (
                "[customers.\"N\"]\naccent = \"red\"".into(),
                vec![],
                "customers.\"N\".accent \"red\"",
            ),
            (
                "colour = \"#ffffff\"".into(),
                vec![],
                "unknown field `colour`",
            ),
        ];
        for (text, files, expected) in cases {
            let e = load(&text, &files).unwrap_err();
            assert!(e.starts_with("branding.toml: "), "{e}");
            assert!(e.contains(expected), "{e} lacks {expected}");
        }
    }

    #[test]
    fn an_svg_logo_is_measured_and_kept_as_is() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#123456"/></svg>"##;
        let b = load("logo = \"l.svg\"", &[("l.svg", svg)]).unwrap();
        let logo = b.for_customer(None).logo.clone().unwrap();
        assert_eq!(logo.size, (120.0, 40.0));
        assert_eq!(logo.svg().as_bytes(), svg);
        assert!(logo.data_uri().starts_with("data:image/svg+xml;base64,"));
    }

    /// A PNG whose header declares `w` x `h` pixels, with a tiny (wrong-sized) image stream:
    /// enough for anything that reads the header, not for a decoder.
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut crc = flate2::Crc::new();
            crc.update(kind);
            crc.update(data);
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc.sum().to_be_bytes());
        }
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut out = PNG_MAGIC.to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(
            &mut out,
            b"IDAT",
            &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// A GIF header of `w` x `h` pixels.
    fn gif_header(w: u16, h: u16) -> Vec<u8> {
        let mut out = b"GIF89a".to_vec();
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0x3B]);
        out
    }

    /// A JPEG whose frame header declares `w` x `h` pixels.
    fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
        out
    }

    /// A WebP (extended format) header of `w` x `h` pixels.
    fn webp_header(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
        out.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        out.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        out
    }

    fn data(mime: &str, bytes: &[u8]) -> String {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    fn svg(body: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40">{body}</svg>"#
        )
    }

    fn logo_error(text: &str) -> String {
        let e = load("logo = \"l.svg\"", &[("l.svg", text.as_bytes())]).unwrap_err();
        e.strip_prefix("branding.toml: logo \"l.svg\": ")
            .unwrap_or_else(|| panic!("{e}"))
            .to_string()
    }

    #[test]
    fn an_svg_logo_referring_to_anything_outside_is_refused() {
        let outside = "; a logo must be self-contained";
        let nested = data(
            "image/svg+xml",
            svg(r#"<image href="/etc/hosts"/>"#).as_bytes(),
        );
        let cases = [
            (r#"<image href="/etc/passwd"/>"#.to_string(), "refers to an outside file (\"/etc/passwd\")"),
            (r#"<image href=" ../outside.png "/>"#.into(), "(\"../outside.png\")"),
            (r#"<image xlink:href="file:///etc/passwd"/>"#.into(), "(\"file:///etc/passwd\")"),
            (r#"<image href="https://example.com/a.png"/>"#.into(), "(\"https://example.com/a.png\")"),
            (r#"<use href="other.svg#logo"/>"#.into(), "(\"other.svg#logo\")"),
            (r#"<a href="https://acme.example"><rect width="1" height="1"/></a>"#.into(), "(\"https://acme.example\")"),
            (r#"<filter id="f"><feImage href="x.png"/></filter>"#.into(), "(\"x.png\")"),
            (r#"<rect width="1" height="1" fill="url(paints.svg#g)"/>"#.into(), "(\"paints.svg#g\")"),
            (r#"<rect width="1" height="1" style="fill: URL( 'x.png' )"/>"#.into(), "(\"x.png\")"),
            ("<style>rect { fill: url(\"/etc/passwd\") }</style>".into(), "(\"/etc/passwd\")"),
            ("<style><![CDATA[@font-face { src: url(font.ttf) }]]></style>".into(), "(\"font.ttf\")"),
            ("<style>@import url(x.css);</style>".into(), "imports a style sheet (url(x.css))"),
            (r#"<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x.png"/></foreignObject>"#.into(), "(\"x.png\")"),
            (format!(r#"<image href="{nested}"/>"#), "an embedded image: refers to an outside file (\"/etc/hosts\")"),
        ];
        for (body, expected) in cases {
            let e = logo_error(&svg(&body));
            assert!(e.contains(expected), "{body}: {e}");
            if !expected.contains("imports") {
                assert!(e.ends_with(outside), "{e}");
            }
        }
        // Outside the document element, and through entities (expanded as usvg expands them).
        let e = logo_error(&format!("<?xml-stylesheet href=\"x.css\"?>{}", svg("")));
        assert!(
            e.starts_with("links a style sheet (<?xml-stylesheet href=\"x.css\"?>)"),
            "{e}"
        );
        let e = logo_error(&format!(
            "<!DOCTYPE svg [<!ENTITY e SYSTEM \"/etc/passwd\">]>{}",
            svg("&e;")
        ));
        assert_eq!(
            e,
            format!("refers to an outside file (\"/etc/passwd\"){outside}")
        );
        let e = logo_error(&format!(
            "<!DOCTYPE svg [<!ENTITY p \"/etc/pass\">]>{}",
            svg(r#"<image href="&p;wd"/>"#)
        ));
        assert!(e.contains("(\"/etc/passwd\")"), "{e}");
        // The value is shown printable and cut.
        let e = logo_error(&svg(&format!(
            r#"<image href="/x&#10;y{}"/>"#,
            "z".repeat(200)
        )));
        assert!(e.contains("(\"/x\\nyzz"), "{e}");
        assert!(e.contains("zzz...\")"), "{e}");
    }

    #[test]
    fn embedded_images_pass_the_limits_of_a_png_logo() {
        let side = "(a logo's images may have at most 10000 pixels each way and 8000000 in all)";
        let image = |uri: String| svg(&format!(r#"<image width="10" height="10" href="{uri}"/>"#));
        let cases = [
            (
                image(data("image/png", &png_header(100_000, 100_000))),
                "an embedded image: a PNG of 100000 x 100000 pixels",
            ),
            (
                image(data("image/png", &png_header(10_001, 1))),
                "a PNG of 10001 x 1 pixels",
            ),
            (
                image(data("image/png", &png_header(4000, 2001))),
                "a PNG of 4000 x 2001 pixels",
            ),
            (
                image(data("image/jpeg", &jpeg_header(60_000, 60_000))),
                "a JPEG of 60000 x 60000 pixels",
            ),
            (
                image(data("image/gif", &gif_header(60_000, 2))),
                "a GIF of 60000 x 2 pixels",
            ),
            (
                image(data("image/webp", &webp_header(20_000, 20_000))),
                "a WebP of 20000 x 20000 pixels",
            ),
            // Declared as something else, still measured by what it is.
            (
                image(data("text/plain", &gif_header(60_000, 2))),
                "a GIF of 60000 x 2 pixels",
            ),
            // Wherever the data URI is.
            (
                svg(&format!(
                    r#"<filter id="f"><feImage href="{}"/></filter>"#,
                    data("image/png", &png_header(100_000, 100_000))
                )),
                "a PNG of 100000 x 100000",
            ),
            (
                svg(&format!(
                    r#"<rect width="1" height="1" fill="url({})"/>"#,
                    data("image/gif", &gif_header(60_000, 2))
                )),
                "a GIF of 60000 x 2",
            ),
            // Inside an embedded SVG.
            (
                image(data(
                    "image/svg+xml",
                    image(data("image/png", &png_header(100_000, 100_000))).as_bytes(),
                )),
                "an embedded image: an embedded image: a PNG of 100000 x 100000",
            ),
        ];
        for (text, expected) in cases {
            let e = logo_error(&text);
            assert!(e.contains(expected), "{e} lacks {expected}");
            assert!(e.ends_with(side), "{e}");
        }
        // All the images of a logo count together: two GIFs of 6 M pixels are too many.
        let gif = data("image/gif", &gif_header(3000, 2000));
        let e = logo_error(&svg(&format!(
            r#"<image href="{gif}"/><image href="{gif}"/>"#
        )));
        assert!(e.contains("a GIF of 3000 x 2000 pixels"), "{e}");
        // What cannot be measured or is not an image is refused too.
        let other = [
            (
                image(data("image/png", &PNG_1X1[..40])),
                "an embedded image: not a readable PNG",
            ),
            (
                image(data("image/svg+xml", &[0x1f, 0x8b, 8, 0])),
                "an embedded image: a compressed SVG (SVGZ)",
            ),
            (
                image(data("image/bmp", b"BM\0\0")),
                "an embedded image: type \"image/bmp\" is none of PNG, JPEG, GIF, WebP and SVG",
            ),
            (
                image(data("image/svg+xml", &[0xff, 0xfe, 0])),
                "an embedded image: not a readable SVG",
            ),
            (
                image("data:image/png;base64,!!!!".into()),
                "an embedded image: not a readable data URI",
            ),
            (
                image("data:image/png;base64".into()),
                "an embedded image: not a readable data URI",
            ),
        ];
        for (text, expected) in other {
            let e = logo_error(&text);
            assert!(e.starts_with(expected), "{e} lacks {expected}");
        }
        // SVGs nest at most 4 deep.
        let mut deep = svg(r#"<rect width="1" height="1"/>"#);
        for _ in 0..5 {
            deep = image(data("image/svg+xml", deep.as_bytes()));
        }
        assert!(logo_error(&deep).contains("SVG images nested more than 4 deep"));
    }

    #[test]
    fn a_self_contained_svg_logo_is_accepted() {
        // The nested document paints with its own gradient: `url(#n)` inside a data: URI.
        let nested = svg(
            r##"<defs><linearGradient id="n"/></defs><rect width="1" height="1" fill="url(#n)"/>"##,
        )
        .replace('#', "%23")
        .replace('"', "%22")
        .replace('<', "%3C");
        let mut wrapped = base64::engine::general_purpose::STANDARD.encode(PNG_1X1);
        wrapped.insert_str(8, "\n  ");
        let text = svg(&format!(
            r##"<style>.a {{ fill: url( "#g" ) }}</style><defs><linearGradient id="g"/></defs><rect class="a" width="10" height="10" fill="url(#g)"/><use href="#g" xlink:href=""/><image width="10" height="10" href="{}"/><image width="10" height="10" xlink:href="data:image/png;base64,{wrapped}"/><image width="10" height="10" href="data:image/svg+xml,{nested}"/><image width="10" height="10" href="{}"/>"##,
            data("image/png", PNG_1X1),
            data("image/gif", &gif_header(1, 1)),
        ));
        let b = load("logo = \"l.svg\"", &[("l.svg", text.as_bytes())]).unwrap();
        assert_eq!(
            b.for_customer(None).logo.as_ref().unwrap().size,
            (120.0, 40.0)
        );
    }

    #[test]
    fn data_uris_decode_as_browsers_and_usvg_read_them() {
        assert_eq!(
            decode_data_uri("data:,a%20b%zz%4"),
            Some(("text/plain".to_string(), b"a b%zz%4".to_vec()))
        );
        assert_eq!(
            decode_data_uri("DATA:Image/PNG ; charset=x;base64,aGk\n=").unwrap(),
            ("image/png".to_string(), b"hi".to_vec())
        );
        assert_eq!(
            decode_data_uri("data:image/png;base64,aGk").unwrap().1,
            b"hi"
        );
        assert_eq!(decode_data_uri("data:;base64,aG%6B=").unwrap().1, b"hi");
        assert_eq!(decode_data_uri("data:image/png"), None);
    }

    /// How many raster images usvg draws of `text` with the options of every parse of a logo.
    fn images_drawn(text: &str) -> usize {
        fn count(g: &usvg::Group) -> usize {
            g.children()
                .iter()
                .map(|n| match n {
                    usvg::Node::Image(i) => match i.kind() {
                        usvg::ImageKind::SVG(tree) => count(tree.root()),
                        _ => 1,
                    },
                    usvg::Node::Group(g) => count(g),
                    _ => 0,
                })
                .sum()
        }
        let options = usvg::Options {
            resources_dir: None,
            image_href_resolver: image_resolver(),
            ..usvg::Options::default()
        };
        count(usvg::Tree::from_str(text, &options).unwrap().root())
    }

    #[test]
    fn usvg_reads_no_file_and_no_oversized_image_when_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("outside.png");
        std::fs::write(&file, PNG_1X1).unwrap();
        let by_path = svg(&format!(
            r#"<image width="1" height="1" href="{}"/><image width="1" height="1" href="file://{0}"/>"#,
            file.display()
        ));
        // usvg on its own reads the file; with the logo's resolver it does not.
        let default = usvg::Tree::from_str(&by_path, &usvg::Options::default()).unwrap();
        assert!(default.root().has_children());
        assert_eq!(images_drawn(&by_path), 0);
        let image = |uri: String| format!(r#"<image width="1" height="1" href="{uri}"/>"#);
        let huge = [
            data("image/png", &png_header(100_000, 100_000)),
            data("image/jpeg", &jpeg_header(60_000, 60_000)),
            data("image/gif", &gif_header(60_000, 60_000)),
            data("image/webp", &webp_header(20_000, 20_000)),
            data("image/svg+xml", &[0x1f, 0x8b, 8, 0]),
            data(
                "image/svg+xml",
                svg(&image(data("image/png", &png_header(100_000, 1)))).as_bytes(),
            ),
            data(
                "image/svg+xml",
                svg(&image(file.display().to_string())).as_bytes(),
            ),
        ];
        for uri in huge {
            assert_eq!(images_drawn(&svg(&image(uri.clone()))), 0, "{uri}");
        }
        let small = [
            data("image/png", PNG_1X1),
            data("image/jpeg", &jpeg_header(10, 10)),
            data("image/gif", &gif_header(10, 10)),
            data("image/webp", &webp_header(10, 10)),
            data(
                "image/svg+xml",
                svg(&image(data("image/png", PNG_1X1))).as_bytes(),
            ),
        ];
        for uri in small {
            assert_eq!(images_drawn(&svg(&image(uri.clone()))), 1, "{uri}");
        }
    }
}
