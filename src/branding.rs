//! White-label branding (`--branding FILE`, SPEC 4.4): the company the reports are issued
//! under, its logo and accent colour, title, footer, disclaimer, who prepared them and whom
//! to contact, with per-customer overrides so one run brands each customer differently.
//!
//! Every value is checked when the file is read: a missing or oversized logo, a logo that is
//! neither PNG nor SVG, or a colour that is not `#rrggbb` is an error naming the key. Values
//! are data: templates escape them, and the logo reaches HTML only as a data URI in `<img>`
//! (where an SVG cannot run scripts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;

/// Largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: u64 = 1024 * 1024;

/// The default accent colour (the neutral look).
pub const DEFAULT_ACCENT: &str = "#16324f";

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
    /// Who prepared the report.
    pub prepared_by: Option<String>,
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
    pub file: Option<(String, String)>,
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
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        // Decoded whole once, so a damaged PNG is an error here, not a blank in a PDF.
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.as_slice()));
        let mut reader = decoder
            .read_info()
            .map_err(|e| format!("not a readable PNG: {e}"))?;
        let (w, h) = (reader.info().width, reader.info().height);
        if w > 10_000 || h > 10_000 {
            return Err(format!(
                "a PNG of {w} x {h} pixels (at most 10000 each way)"
            ));
        }
        let mut pixels = vec![
            0;
            reader
                .output_buffer_size()
                .ok_or("a PNG too large to decode")?
        ];
        reader
            .next_frame(&mut pixels)
            .map_err(|e| format!("not a readable PNG: {e}"))?;
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
    let tree = usvg::Tree::from_str(text, &usvg::Options::default())
        .map_err(|e| format!("not a valid SVG: {e}"))?;
    Ok(Logo {
        mime: "image/svg+xml",
        bytes: Arc::new(bytes),
        size: (tree.size().width(), tree.size().height()),
    })
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
        let mut branding = Branding::from_toml(&text, &shown, &dir)?;
        branding.file = Some((shown, sha));
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
}
