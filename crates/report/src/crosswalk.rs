//! The "By framework" section of the account, customer and portfolio pages (HTML and PDF):
//! per framework selected with `--framework`, its name and version, the statement that the
//! mapping is our judgement, its coverage beside its results, a chart of its requirements by
//! result, and a requirement table. An account's table lists each requirement's controls with
//! their results; a group's (customer, portfolio) counts the accounts passing and failing it.
//!
//! Without a framework selected the views are empty and the pages say nothing of frameworks.

use serde::Serialize;

use crate::charts::{self, Chart, REQUIREMENT_STATES};
use crate::theme;
use aliaudit_core::frameworks::{
    Coverage, Framework, FrameworkTally, RequirementStatus, evaluate_findings,
};
use aliaudit_core::i18n::{Catalogue, Lang};
use aliaudit_core::rules::{Finding, Status};

/// One framework's part of the section.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkView {
    /// Framework id.
    pub id: String,
    /// The HTML anchor of its heading (`fw-<id>`; ids are letters, digits, `.`, `-`, `_`).
    pub anchor: String,
    /// Name in the report language.
    pub name: String,
    /// Version or edition.
    pub version: String,
    /// "The mapping is our judgement, not the standard's", in the report language.
    pub judgement: String,
    /// The requirements per result, in words.
    pub results: String,
    /// The coverage, in words ("45.5% of requirements evaluable from this evidence (5 of 11)").
    pub coverage: String,
    /// Requirements by result.
    pub chart: Chart,
    /// Whether the rows count accounts (a customer or the portfolio) rather than list
    /// controls (an account).
    pub per_account: bool,
    /// The requirements, in framework order.
    pub requirements: Vec<RequirementRow>,
}

/// One requirement's row.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementRow {
    /// Requirement id.
    pub id: String,
    /// Its clause or group in the report language, or `-`.
    pub group: String,
    /// Title in the report language.
    pub title: String,
    /// Its result (`None`: a group of no account).
    pub status: Option<RequirementStatus>,
    /// The result's label in the report language.
    pub status_label: String,
    /// The result state whose colour the badge takes.
    pub tone: Status,
    /// An account's controls with their results (empty for a group).
    pub controls: Vec<ControlCell>,
    /// A group's accounts passing and failing it, in words (empty for an account).
    pub accounts: String,
}

/// One control of a requirement on an account.
#[derive(Debug, Clone, Serialize)]
pub struct ControlCell {
    /// Control id, marked when it belongs to the other CIS version only.
    pub label: String,
    /// Its result's label (`-`: no result, the control being disabled).
    pub status_label: String,
    /// The colour of its badge.
    pub tone: Status,
}

fn status_label(c: &Catalogue, s: Option<RequirementStatus>) -> String {
    match s {
        Some(s) => c
            .t(&format!("requirement_status.{}", s.as_str()))
            .to_string(),
        None => "-".into(),
    }
}

/// `45.5` of a coverage, or `None` of nothing.
fn percent(coverage: Coverage) -> Option<String> {
    coverage
        .percent_tenths()
        .map(|t| format!("{}.{}", t / 10, t % 10))
}

fn results_line(
    c: &Catalogue,
    statuses: impl Iterator<Item = RequirementStatus>,
) -> (String, [u64; 6]) {
    let mut counts = [0u64; 6];
    for s in statuses {
        if let Some(i) = REQUIREMENT_STATES.iter().position(|x| *x == s) {
            counts[i] += 1;
        }
    }
    let text = c.f(
        "crosswalk.results",
        &[
            ("pass", &counts[0]),
            ("fail", &counts[1]),
            ("excepted", &counts[2]),
            ("not_applicable", &counts[3]),
            ("not_evaluable", &counts[4]),
            ("not_covered", &counts[5]),
        ],
    );
    (text, counts)
}

/// The parts common to an account's and a group's view.
fn view(
    c: &Catalogue,
    lang: Lang,
    f: &Framework,
    statuses: &[Option<RequirementStatus>],
    coverage: String,
    per_account: bool,
) -> FrameworkView {
    let name = f.name(lang).to_string();
    let (results, counts) = results_line(c, statuses.iter().flatten().copied());
    FrameworkView {
        id: f.id.clone(),
        anchor: format!("fw-{}", f.id),
        chart: charts::requirement_bars(
            c,
            &c.f("crosswalk.chart_title", &[("name", &name)]),
            counts,
        ),
        name,
        version: f.version.clone(),
        judgement: f.judgement(lang).to_string(),
        results,
        coverage,
        per_account,
        requirements: f
            .requirements
            .iter()
            .zip(statuses)
            .map(|(r, &status)| RequirementRow {
                id: r.id.clone(),
                group: r.group(lang).unwrap_or("-").to_string(),
                title: r.title(lang).to_string(),
                status,
                status_label: status_label(c, status),
                tone: status.map_or(Status::NotEvaluable, theme::requirement_tone),
                controls: Vec::new(),
                accounts: String::new(),
            })
            .collect(),
    }
}

/// The section of one account: each framework evaluated on its findings.
pub fn account(
    c: &Catalogue,
    lang: Lang,
    frameworks: &[Framework],
    findings: &[Finding],
) -> Vec<FrameworkView> {
    frameworks
        .iter()
        .map(|f| {
            let result = evaluate_findings(f, findings);
            let statuses: Vec<Option<RequirementStatus>> =
                result.requirements.iter().map(|r| Some(r.status)).collect();
            let coverage = match percent(result.coverage) {
                Some(p) => c.f(
                    "crosswalk.coverage",
                    &[
                        ("percent", &p),
                        ("evaluable", &result.coverage.evaluable),
                        ("total", &result.coverage.total),
                    ],
                ),
                None => c.t("crosswalk.coverage_none").to_string(),
            };
            let mut v = view(c, lang, f, &statuses, coverage, false);
            for (row, r) in v.requirements.iter_mut().zip(&result.requirements) {
                row.controls = r
                    .controls
                    .iter()
                    .map(|ctl| ControlCell {
                        label: match ctl.informational {
                            Some(b) => c.f(
                                "crosswalk.informational",
                                &[("id", &ctl.id), ("version", &b.version())],
                            ),
                            None => ctl.id.to_string(),
                        },
                        status_label: ctl.status.map_or_else(
                            || "-".to_string(),
                            |s| c.t(&format!("status.{}", s.as_str())).to_string(),
                        ),
                        tone: ctl.status.unwrap_or(Status::NotEvaluable),
                    })
                    .collect();
            }
            v
        })
        .collect()
}

/// The section of a group of accounts (a customer, the portfolio) from its tallies, one per
/// framework in the order of `frameworks`.
pub fn group(
    c: &Catalogue,
    lang: Lang,
    frameworks: &[Framework],
    tallies: &[FrameworkTally],
) -> Vec<FrameworkView> {
    frameworks
        .iter()
        .zip(tallies)
        .map(|(f, tally)| {
            let statuses: Vec<Option<RequirementStatus>> = (0..f.requirements.len())
                .map(|i| tally.requirements.get(i).and_then(|t| t.status()))
                .collect();
            let coverage = match percent(tally.coverage) {
                Some(p) => c.f(
                    "crosswalk.coverage_group",
                    &[
                        ("percent", &p),
                        ("evaluable", &tally.coverage.evaluable),
                        ("total", &tally.coverage.total),
                        ("n", &tally.accounts),
                    ],
                ),
                None => c.t("crosswalk.coverage_none").to_string(),
            };
            let mut v = view(c, lang, f, &statuses, coverage, true);
            for (row, t) in v.requirements.iter_mut().zip(&tally.requirements) {
                row.accounts = if row.status == Some(RequirementStatus::NotCovered) {
                    "-".into()
                } else {
                    let mut text = c.f(
                        "crosswalk.accounts_cell",
                        &[("pass", &t.pass), ("fail", &t.fail), ("n", &t.accounts())],
                    );
                    let other = t.accounts() - t.pass - t.fail;
                    if other > 0 {
                        text.push_str(c.t("exec.also"));
                        text.push_str(&c.f("crosswalk.accounts_other", &[("n", &other)]));
                    }
                    text
                };
            }
            v
        })
        .collect()
}

/// The tallies of a group of accounts from their requirement results (`figures`: per account,
/// per framework), as the portfolio's are made.
pub fn tallies<'a>(
    frameworks: &[Framework],
    figures: impl IntoIterator<Item = &'a Vec<Vec<RequirementStatus>>>,
) -> Vec<FrameworkTally> {
    let mut out: Vec<FrameworkTally> = frameworks.iter().map(FrameworkTally::new).collect();
    for per_framework in figures {
        for (tally, statuses) in out.iter_mut().zip(per_framework) {
            tally.add(statuses);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aliaudit_core::frameworks::builtin_by_id;

    #[test]
    fn a_group_counts_its_accounts_and_fails_a_requirement_any_account_fails() {
        let f = builtin_by_id("mlps2-l3").unwrap().clone();
        let n = f.requirements.len();
        let covered: Vec<usize> = (0..n)
            .filter(|&i| !f.requirements[i].controls.is_empty())
            .collect();
        let first = covered[0];
        let mut a = vec![RequirementStatus::NotCovered; n];
        let mut b = vec![RequirementStatus::NotCovered; n];
        for &i in &covered {
            a[i] = RequirementStatus::Pass;
            b[i] = RequirementStatus::Pass;
        }
        b[first] = RequirementStatus::Fail;
        let figures = [vec![a], vec![b]];
        let frameworks = [f];
        let t = tallies(&frameworks, figures.iter());
        for lang in [Lang::En, Lang::Zh] {
            let c = Catalogue::get(lang);
            let v = group(c, lang, &frameworks, &t);
            let row = &v[0].requirements[first];
            assert_eq!(row.status, Some(RequirementStatus::Fail));
            assert_eq!(
                row.accounts,
                c.f(
                    "crosswalk.accounts_cell",
                    &[("pass", &1), ("fail", &1), ("n", &2)]
                )
            );
            let uncovered = (0..n).find(|i| !covered.contains(i)).unwrap();
            assert_eq!(
                v[0].requirements[uncovered].status_label,
                c.t("requirement_status.not_covered")
            );
            assert!(v[0].chart.error().is_none());
        }
        let en = &group(Catalogue::get(Lang::En), Lang::En, &frameworks, &t)[0];
        let pct = (covered.len() * 2 * 1000 + n) / (2 * n);
        assert_eq!(
            en.coverage,
            format!(
                "{}.{}% of requirement results evaluable from this evidence ({} of {} over 2 accounts).",
                pct / 10,
                pct % 10,
                covered.len() * 2,
                n * 2
            )
        );
        assert!(en.chart.alt().contains("fail: 1"), "{}", en.chart.alt());
    }
}
