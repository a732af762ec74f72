//! Render stage, HTML: tera templates (compiled in, overridable by name) over the page views.
//!
//! Templates are named `*.html`, so tera escapes every value unless a template marks it
//! `safe` (only the chart SVGs, which plotters escapes, and the compiled-in CSS and script).

use std::path::Path;

use serde::Serialize;

/// The built-in templates and static files, by name.
pub(crate) const BUILT_INS: [(&str, &str); 17] = [
    ("base.html", include_str!("../../../../templates/base.html")),
    (
        "index.html",
        include_str!("../../../../templates/index.html"),
    ),
    (
        "customer.html",
        include_str!("../../../../templates/customer.html"),
    ),
    (
        "account.html",
        include_str!("../../../../templates/account.html"),
    ),
    (
        "executive.html",
        include_str!("../../../../templates/executive.html"),
    ),
    (
        "accounts_table.html",
        include_str!("../../../../templates/accounts_table.html"),
    ),
    (
        "trend_group.html",
        include_str!("../../../../templates/trend_group.html"),
    ),
    (
        "quality.html",
        include_str!("../../../../templates/quality.html"),
    ),
    (
        "register.html",
        include_str!("../../../../templates/register.html"),
    ),
    (
        "register_table.html",
        include_str!("../../../../templates/register_table.html"),
    ),
    (
        "email.html",
        include_str!("../../../../templates/email.html"),
    ),
    ("email.txt", include_str!("../../../../templates/email.txt")),
    (
        "email_subject.txt",
        include_str!("../../../../templates/email_subject.txt"),
    ),
    (
        "frameworks.html",
        include_str!("../../../../templates/frameworks.html"),
    ),
    (
        "vendor_standards.html",
        include_str!("../../../../templates/vendor_standards.html"),
    ),
    ("report.css", include_str!("../../../../static/report.css")),
    ("report.js", include_str!("../../../../static/report.js")),
];

/// Errors preparing or rendering templates.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// A user template could not be read.
    #[error("cannot read template {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A template does not parse.
    #[error("template {name}: {message}")]
    Template {
        /// Template name.
        name: String,
        /// Tera's message.
        message: String,
    },
    /// Rendering failed (a template refers to something the view does not have).
    #[error("rendering {name}: {message}")]
    Render {
        /// Template name.
        name: String,
        /// Tera's message.
        message: String,
    },
}

/// The template set: built once per run and shared by every thread.
pub struct Templates {
    tera: tera::Tera,
    /// What every page is given besides itself: the stylesheet (`css`), the script (`js`)
    /// and the messages of the report language (`t`). Converted for tera once per run; a
    /// page's context is a cheap copy of it (tera shares maps and lists), where converting
    /// the messages for each page was 6% of the HTML stage.
    base: tera::Context,
}

impl Templates {
    /// Loads the built-ins, replacing any that `overrides` (a folder) has a file of the same
    /// name for: the user's file wins, the built-ins fill in the rest.
    pub fn load(
        overrides: Option<&Path>,
        lang: aliaudit_core::i18n::Lang,
    ) -> Result<Templates, HtmlError> {
        let mut sources: Vec<(String, String)> = Vec::new();
        for (name, built_in) in BUILT_INS {
            let user = overrides.map(|dir| dir.join(name)).filter(|p| p.is_file());
            let text = match user {
                Some(path) => std::fs::read_to_string(&path).map_err(|source| HtmlError::Read {
                    path: path.display().to_string(),
                    source,
                })?,
                None => built_in.to_string(),
            };
            sources.push((name.to_string(), text));
        }
        let mut tera = tera::Tera::new();
        tera.set_escape_fn(escape_html);
        // `{{ t.ui.median | fill(median=x) }}`: each `{name}` of a message gets its value
        // (escaped like any other output).
        tera.register_filter(
            "fill",
            |text: &str, kwargs: tera::Kwargs, _: &tera::State| -> String {
                let names: Vec<String> = kwargs.iter().map(|(k, _)| k.to_string()).collect();
                let args: Vec<(&str, &dyn std::fmt::Display)> = names
                    .iter()
                    .zip(kwargs.iter())
                    .map(|(n, (_, v))| (n.as_str(), v as &dyn std::fmt::Display))
                    .collect();
                aliaudit_core::i18n::fill(text, &args)
            },
        );
        let mut css = String::new();
        let mut js = String::new();
        let templates: Vec<(String, String)> = sources
            .into_iter()
            .filter_map(|(name, text)| match name.as_str() {
                "report.css" => {
                    css = crate::theme::css(&text);
                    None
                }
                "report.js" => {
                    js = text;
                    None
                }
                _ => Some((name, text)),
            })
            .collect();
        tera.add_raw_templates(templates.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| HtmlError::Template {
                name: "templates".into(),
                message: aliaudit_core::diag::chain(&e),
            })?;
        let mut base = tera::Context::new();
        base.insert("css", &css);
        base.insert("js", &js);
        base.insert("t", aliaudit_core::i18n::Catalogue::get(lang).nested());
        Ok(Templates { tera, base })
    }

    /// Renders `template` with `page` as `page`, plus the stylesheet and script, into `out`.
    pub fn render<T: Serialize>(
        &self,
        template: &str,
        page: &T,
        out: &mut dyn std::io::Write,
    ) -> Result<(), HtmlError> {
        let err = |e: &dyn std::error::Error| HtmlError::Render {
            name: template.to_string(),
            message: aliaudit_core::diag::chain(e),
        };
        let mut context = self.base.clone();
        context.insert("page", page);
        self.tera
            .render_to(template, &context, out)
            .map_err(|e| err(&e))
    }
}

/// Writes the built-in templates and static files into `dir` for editing.
pub fn export(dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in BUILT_INS {
        // The stylesheet as pages embed it: the palette written out, ready to edit.
        let text = match name {
            "report.css" => crate::theme::css(text),
            _ => text.to_string(),
        };
        std::fs::write(dir.join(name), text)?;
        written.push(name.to_string());
    }
    Ok(written)
}

/// The escaping of every value a template prints: tera's own (`&`, `<`, `>`, `"` and `'` as
/// entities, nothing else changed), writing the text between two escaped bytes in one piece.
/// tera writes each byte on its own through `dyn Write`: 15% of the HTML stage.
fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut start = 0;
    for (i, byte) in bytes.iter().enumerate() {
        let entity: &[u8] = match byte {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        out.write_all(entity)?;
        start = i + 1;
    }
    out.write_all(&bytes[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Our escaping writes what tera's would, for any text (the HTML pages stay the same
        /// bytes).
        #[test]
        fn escaping_writes_what_tera_writes(text in "(?s).{0,64}|[&<>\"'a ]{0,64}") {
            let mut ours = Vec::new();
            escape_html(&text, &mut ours).unwrap();
            let mut teras = Vec::new();
            tera::escape_html(&text, &mut teras).unwrap();
            proptest::prop_assert_eq!(ours, teras);
        }
    }
}
