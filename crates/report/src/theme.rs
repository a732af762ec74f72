//! The report palette: every colour the HTML stylesheet, the charts and the PDF use, in one
//! place, so that a state has the same colour wherever it is shown.
//!
//! The values are the stylesheet's, chosen for contrast with white badge text. The
//! stylesheet does not repeat them: `static/report.css` holds marker lines that [`css`]
//! replaces with the `:root` variables and the badge rules generated here. States are typed
//! (the domain enums), never matched by name.

use aliaudit_core::aggregate::AccountStatus;
use aliaudit_core::diag::Level;
use aliaudit_core::evidence::FileStatus;
use aliaudit_core::frameworks::RequirementStatus;
use aliaudit_core::model::Severity;
use aliaudit_core::rules::Status;
use aliaudit_core::rules::policy::Rating;

/// An opaque sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    /// Red, 0 to 255.
    pub r: u8,
    /// Green, 0 to 255.
    pub g: u8,
    /// Blue, 0 to 255.
    pub b: u8,
}

impl Colour {
    /// The colour written `0xRRGGBB`.
    pub const fn hex(rgb: u32) -> Colour {
        Colour {
            r: (rgb >> 16) as u8,
            g: (rgb >> 8) as u8,
            b: rgb as u8,
        }
    }

    /// `#rrggbb`, lower case, as the stylesheet writes it.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// Body text.
pub(crate) const INK: Colour = Colour::hex(0x212529);
/// Secondary text (captions, notes, page headers and footers).
pub(crate) const MUTED: Colour = Colour::hex(0x5C636A);
/// Rules and table lines.
pub(crate) const LINE: Colour = Colour::hex(0xDEE2E6);
/// Light fills behind figures and table headers.
pub(crate) const BACKGROUND: Colour = Colour::hex(0xF8F9FA);
/// The neutral accent (masthead, headings, figure-box rules, chart series); a brand's
/// accent replaces it on branded pages.
pub(crate) const ACCENT: Colour = Colour::hex(0x16324F);
/// The empty part of a gauge or bar, and chart grid lines.
pub(crate) const TRACK: Colour = Colour::hex(0xE9ECEF);
/// The paper, and text on a state or severity fill.
pub(crate) const WHITE: Colour = Colour::hex(0xFFFFFF);

/// The colour of a result state; evidence, file and diagnostic states borrow these. No
/// result shares a colour with a severity or with another result (a test checks it):
/// green, red, purple, slate blue and a neutral grey for "not evaluable".
pub const fn status(status: Status) -> Colour {
    match status {
        Status::Pass => Colour::hex(0x2E7D32),
        Status::Fail => Colour::hex(0xC62828),
        Status::Excepted => Colour::hex(0x6A1B9A),
        Status::NotApplicable => Colour::hex(0x3B5B7A),
        Status::NotEvaluable => Colour::hex(0x6C757D),
    }
}

/// The result state whose colour a framework requirement's result takes: its own state, and
/// "not covered by this evidence" the grey of "not evaluable" (its label tells them apart).
pub const fn requirement_tone(status: RequirementStatus) -> Status {
    match status {
        RequirementStatus::Pass => Status::Pass,
        RequirementStatus::Fail => Status::Fail,
        RequirementStatus::Excepted => Status::Excepted,
        RequirementStatus::NotApplicable => Status::NotApplicable,
        RequirementStatus::NotEvaluable | RequirementStatus::NotCovered => Status::NotEvaluable,
    }
}

/// The colour of a severity: a brown-orange-olive scale, apart from every result colour.
pub const fn severity(severity: Severity) -> Colour {
    match severity {
        Severity::High => Colour::hex(0x7C2D12),
        Severity::Medium => Colour::hex(0xC2410C),
        Severity::Low => Colour::hex(0x8A6D00),
    }
}

/// The colour of a score from 60 to 80 (amber), between the pass and fail colours.
pub(crate) const SCORE_FAIR: Colour = Colour::hex(0xA15C00);

/// The colour of a rating (the executive page's rating card): green to red, grey when not
/// rated. A rating is a judgement of the whole, so it never takes the brand's accent.
pub const fn rating(rating: Rating) -> Colour {
    match rating {
        Rating::Good => Colour::hex(0x2B8A3E),
        Rating::Fair => Colour::hex(0xE8A317),
        Rating::Poor => Colour::hex(0xD9480F),
        Rating::Critical => Colour::hex(0xC92A2A),
        Rating::NotRated => status(Status::NotEvaluable),
    }
}

/// The result state whose colour an account's evidence completeness takes.
pub const fn evidence_tone(state: AccountStatus) -> Status {
    match state {
        AccountStatus::Complete => Status::Pass,
        AccountStatus::Partial => Status::NotEvaluable,
        AccountStatus::Failed => Status::Fail,
    }
}

/// The result state whose colour an input file's state takes.
pub const fn file_tone(state: FileStatus) -> Status {
    match state {
        FileStatus::Used => Status::Pass,
        FileStatus::Ignored => Status::NotApplicable,
        FileStatus::Rejected => Status::Fail,
    }
}

/// The result state whose colour a diagnostic's level takes.
pub const fn level_tone(level: Level) -> Status {
    match level {
        Level::Error => Status::Fail,
        Level::Warning => Status::NotEvaluable,
        Level::Info => Status::NotApplicable,
    }
}

/// The colour of a 0-100 score: a pass from 80, amber (`SCORE_FAIR`) from 60, a fail
/// below.
pub fn score(score: f64) -> Colour {
    if score >= 80.0 {
        status(Status::Pass)
    } else if score >= 60.0 {
        SCORE_FAIR
    } else {
        status(Status::Fail)
    }
}

/// Every result state, in the order the stylesheet lists them.
pub(crate) const STATUSES: [Status; 5] = [
    Status::Pass,
    Status::Fail,
    Status::Excepted,
    Status::NotApplicable,
    Status::NotEvaluable,
];

/// The stylesheet line replaced by the `:root` colour variables.
pub(crate) const CSS_VARIABLES_MARK: &str = "/* aliaudit: palette variables (src/theme.rs) */";
/// The stylesheet line replaced by the badge colour rules.
pub(crate) const CSS_BADGES_MARK: &str = "/* aliaudit: badge colours (src/theme.rs) */";

/// The name of a state's stylesheet variable (`--pass`...).
fn variable(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Excepted => "excepted",
        Status::NotApplicable => "na",
        Status::NotEvaluable => "ne",
    }
}

/// The `:root` block: the neutral colours and one variable per result state.
fn css_variables() -> String {
    let neutral = [
        ("ink", INK),
        ("muted", MUTED),
        ("line", LINE),
        ("bg", BACKGROUND),
        ("accent", ACCENT),
    ];
    let line = |items: Vec<String>| format!("  {}\n", items.join(" "));
    let mut out = String::from(":root {\n");
    out += &line(
        neutral
            .iter()
            .map(|(name, c)| format!("--{name}: {};", c.css()))
            .collect(),
    );
    out += &line(
        STATUSES
            .iter()
            .map(|s| format!("--{}: {};", variable(*s), status(*s).css()))
            .collect(),
    );
    out.push('}');
    out
}

/// The badge rules: a class per result state, severity, evidence state, diagnostic level and
/// file state. States take their variable; severities their literal colour.
fn css_badges() -> String {
    let tone =
        |class: String, s: Status| format!(".{class} {{ background: var(--{}); }}", variable(s));
    let rule = |rules: Vec<String>| rules.join(" ");
    let st: Vec<String> = STATUSES
        .iter()
        .map(|s| tone(format!("st-{}", s.as_str()), *s))
        .collect();
    let sev = [Severity::High, Severity::Medium, Severity::Low]
        .iter()
        .map(|s| {
            format!(
                ".sev-{} {{ background: {}; }}",
                s.as_str(),
                severity(*s).css()
            )
        })
        .collect();
    let ev = [
        AccountStatus::Complete,
        AccountStatus::Partial,
        AccountStatus::Failed,
    ]
    .iter()
    .map(|s| tone(format!("ev-{}", s.as_str()), evidence_tone(*s)))
    .collect();
    let lvl = [Level::Error, Level::Warning, Level::Info]
        .iter()
        .map(|l| tone(format!("lvl-{}", l.as_str()), level_tone(*l)))
        .collect();
    let file = [FileStatus::Used, FileStatus::Ignored, FileStatus::Rejected]
        .iter()
        .map(|f| tone(format!("file-{}", f.as_str()), file_tone(*f)))
        .collect();
    let ratings = [
        Rating::Good,
        Rating::Fair,
        Rating::Poor,
        Rating::Critical,
        Rating::NotRated,
    ]
    .iter()
    .map(|r| {
        format!(
            ".figure-box.rating-{} {{ border-left-color: {}; }}",
            r.as_str(),
            rating(*r).css()
        )
    })
    .collect();
    [
        rule(st[..3].to_vec()),
        rule(st[3..].to_vec()),
        rule(sev),
        rule(ev),
        rule(lvl),
        rule(file),
        rule(ratings),
    ]
    .join("\n")
}

/// `stylesheet` with its marker lines replaced by the generated palette. A stylesheet
/// without markers (one a user wrote) is returned as it is.
pub fn css(stylesheet: &str) -> String {
    let mut out = String::with_capacity(stylesheet.len() + 1024);
    for (i, line) in stylesheet.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match line {
            CSS_VARIABLES_MARK => out += &css_variables(),
            CSS_BADGES_MARK => out += &css_badges(),
            _ => out += line,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_gets_every_colour_from_the_palette() {
        let raw = include_str!("../../../static/report.css");
        assert!(raw.contains(CSS_VARIABLES_MARK) && raw.contains(CSS_BADGES_MARK));
        let css = css(raw);
        assert!(!css.contains("aliaudit: "), "a marker is left");
        for s in STATUSES {
            let var = format!("--{}: {};", variable(s), status(s).css());
            assert!(css.contains(&var), "{var}");
            assert!(css.contains(&format!(".st-{} {{", s.as_str())));
        }
        for s in [Severity::High, Severity::Medium, Severity::Low] {
            let rule = format!(
                ".sev-{} {{ background: {}; }}",
                s.as_str(),
                severity(s).css()
            );
            assert!(css.contains(&rule), "{rule}");
        }
        assert!(css.contains(".ev-partial { background: var(--ne); }"));
        assert!(css.contains(".file-ignored { background: var(--na); }"));
        assert!(css.contains(".lvl-error { background: var(--fail); }"));
        assert!(css.contains(".figure-box.rating-poor { border-left-color: #d9480f; }"));
        assert!(
            !raw.contains("rating-poor"),
            "rating colours come from the palette"
        );
        // The hand-written part repeats no colour of a state or severity.
        let severities = [Severity::High, Severity::Medium, Severity::Low].map(severity);
        for colour in STATUSES.map(status).iter().chain(&severities) {
            assert!(!raw.contains(&colour.css()), "{}", colour.css());
        }
    }

    #[test]
    fn a_stylesheet_without_markers_is_kept() {
        let own = "body { color: rebeccapurple; }\n:root { --ink: #000; }\n";
        assert_eq!(css(own), own);
    }

    #[test]
    fn colours_are_written_as_the_stylesheet_writes_them() {
        assert_eq!(ACCENT.css(), "#16324f");
        assert_eq!(
            Colour::hex(0x0A0B0C),
            Colour {
                r: 10,
                g: 11,
                b: 12
            }
        );
        assert_eq!(score(80.0), status(Status::Pass));
        assert_eq!(score(79.9), SCORE_FAIR);
        assert_eq!(score(59.9), status(Status::Fail));
    }

    #[test]
    fn results_and_severities_never_share_a_colour_and_not_evaluable_is_grey() {
        let severities = [Severity::High, Severity::Medium, Severity::Low].map(severity);
        let all: Vec<Colour> = STATUSES.map(status).into_iter().chain(severities).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b, "{} is used twice", a.css());
            }
        }
        // Grey: the three channels within a few steps of each other.
        let ne = status(Status::NotEvaluable);
        let (lo, hi) = (ne.r.min(ne.g).min(ne.b), ne.r.max(ne.g).max(ne.b));
        assert!(hi - lo <= 24, "{}", ne.css());
    }
}
