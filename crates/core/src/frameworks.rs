//! Frameworks as data: crosswalks from the requirements of a compliance framework (MLPS 2.0,
//! ISO/IEC 27001, SOC 2, NIST SP 800-53, CIS Controls) to the built-in controls that
//! evidence them (`data/frameworks/*.toml`, or a user's `--framework-file`), and the roll-up
//! of a requirement's result from its controls' results.
//!
//! A requirement's result, from the results of the controls it lists on one account:
//!
//! - **not covered** when it lists no control (the evidence cannot evaluate it: physical,
//!   management or host-level requirements); it is listed, never left out;
//! - **fail** when any control fails;
//! - else **not evaluable** when any control is not evaluable, or has no result (disabled by
//!   the rules file);
//! - else **excepted** when any control is excepted (its only failures are accepted risks);
//! - else **not applicable** when every control is not applicable;
//! - else **pass**.
//!
//! Coverage is the share of a framework's requirements that were evaluable (pass, fail,
//! excepted or not applicable), in tenths of a percent, from integers only.
//!
//! A control of one CIS benchmark version only (`pwd.max_age_v1`, `pwd.max_age_v2`) is
//! informational in a report that scores the other version, and counts in no CIS figure. A
//! requirement still takes its result: the crosswalk chose the control for what it checks
//! (MLPS asks for periodic password change whatever CIS version is scored), so a framework's
//! results do not depend on `--benchmark`. The requirement's control list marks such a
//! control informational.
//!
//! The mapping is our judgement; every framework file says so (`judgement`) and names its
//! sources.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::rules::{Benchmark, CATALOG, Finding, Section, Status};

/// The built-in framework files, in the order `--framework` lists them.
const BUILTIN: &[(&str, &str)] = &[
    (
        "mlps2-l2.toml",
        include_str!("../data/frameworks/mlps2-l2.toml"),
    ),
    (
        "mlps2-l3.toml",
        include_str!("../data/frameworks/mlps2-l3.toml"),
    ),
    (
        "iso27001-2022.toml",
        include_str!("../data/frameworks/iso27001-2022.toml"),
    ),
    (
        "soc2-2017.toml",
        include_str!("../data/frameworks/soc2-2017.toml"),
    ),
    (
        "nist-800-53r5.toml",
        include_str!("../data/frameworks/nist-800-53r5.toml"),
    ),
    (
        "cis-controls-v8.1.toml",
        include_str!("../data/frameworks/cis-controls-v8.1.toml"),
    ),
];

/// Longest framework or requirement id accepted.
const MAX_ID: usize = 64;
/// Most problems of one file reported.
const MAX_PROBLEMS: usize = 20;

/// One framework: its names, version, sources and requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Framework {
    /// Id, as `--framework` names it: lower-case letters, digits, `.`, `-` and `_`.
    pub id: String,
    /// Name in English.
    pub name: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// The framework's version or edition.
    pub version: String,
    /// The statement that the mapping is our judgement, in English.
    pub judgement: String,
    /// The same in Chinese.
    pub judgement_zh: String,
    /// What the requirement texts and the mapping are based on.
    pub sources: Vec<String>,
    /// Requirements, in file order.
    pub requirements: Vec<Requirement>,
}

/// One requirement of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// Id within the framework (`8.1.4.1 a)`, `A.5.17`, `IA-2(1)`).
    pub id: String,
    /// The clause or group it belongs to, in English and Chinese (`身份鉴别`), if any.
    pub group: Option<(String, String)>,
    /// Title in English.
    pub title_en: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// The built-in controls that evidence it; empty when the evidence cannot evaluate it.
    pub controls: Vec<&'static str>,
}

impl Framework {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.name,
            Lang::Zh => &self.name_zh,
        }
    }

    /// The judgement statement in `lang`.
    pub fn judgement(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.judgement,
            Lang::Zh => &self.judgement_zh,
        }
    }
}

impl Requirement {
    /// The title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.title_en,
            Lang::Zh => &self.title_zh,
        }
    }

    /// The group in `lang`, if any.
    pub fn group(&self, lang: Lang) -> Option<&str> {
        self.group.as_ref().map(|(en, zh)| match lang {
            Lang::En => en.as_str(),
            Lang::Zh => zh.as_str(),
        })
    }
}

/// Errors in a framework file: every problem found (up to 20), each naming its entry and
/// line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}", problems.join("; "))]
pub struct FrameworkError {
    /// The file.
    pub path: String,
    /// What is wrong and where.
    pub problems: Vec<String>,
}

// ---------------------------------------------------------------- the file as written

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    id: toml::Spanned<String>,
    name: toml::Spanned<String>,
    name_zh: toml::Spanned<String>,
    version: toml::Spanned<String>,
    judgement: toml::Spanned<String>,
    judgement_zh: toml::Spanned<String>,
    sources: toml::Spanned<Vec<String>>,
    #[serde(default)]
    requirement: Vec<toml::Spanned<RequirementForm>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementForm {
    id: String,
    group_en: Option<String>,
    group_zh: Option<String>,
    title_en: Option<String>,
    title_zh: Option<String>,
    controls: Vec<toml::Spanned<String>>,
}

/// Line numbers (1-based) of byte offsets in a text.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(at, _)| at + 1))
                .collect(),
        )
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

/// Parses and checks a framework file's text. Every problem names its place: the key or the
/// requirement (by number and id) and the line. Checked: unknown keys, empty names, titles in
/// both languages, unique requirement ids, and every control a built-in control (`aliaudit
/// controls`), listed once.
pub fn parse(text: &str, path: &str) -> Result<Framework, FrameworkError> {
    let err = |problems: Vec<String>| FrameworkError {
        path: path.to_string(),
        problems,
    };
    let form: FileForm =
        toml::from_str(text).map_err(|e| err(vec![crate::diag::toml_error(text, &e)]))?;
    let lines = Lines::of(text);
    let mut problems = Vec::new();
    let mut text_key = |key: &str, value: &toml::Spanned<String>| {
        if value.get_ref().trim().is_empty() {
            problems.push(format!(
                "{key} (line {}): is empty",
                lines.line(value.span().start)
            ));
        }
    };
    text_key("name", &form.name);
    text_key("name_zh", &form.name_zh);
    text_key("version", &form.version);
    text_key("judgement", &form.judgement);
    text_key("judgement_zh", &form.judgement_zh);
    if !valid_id(form.id.get_ref()) {
        problems.push(format!(
            "id (line {}): \"{}\" is not a framework id (1 to {MAX_ID} lower-case letters, digits, '.', '-' or '_')",
            lines.line(form.id.span().start),
            form.id.get_ref().escape_debug()
        ));
    }
    if form.sources.get_ref().iter().all(|s| s.trim().is_empty()) {
        problems.push(format!(
            "sources (line {}): name at least one source of the requirements and the mapping",
            lines.line(form.sources.span().start)
        ));
    }
    if form.requirement.is_empty() {
        problems.push("no [[requirement]] entries".to_string());
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut requirements = Vec::new();
    for (n, spanned) in form.requirement.into_iter().enumerate() {
        let line = lines.line(spanned.span().start);
        let r = spanned.into_inner();
        let at = format!(
            "requirement {} \"{}\" (line {line})",
            n + 1,
            r.id.escape_debug()
        );
        if r.id.trim().is_empty() || r.id.len() > MAX_ID {
            problems.push(format!("{at}: id must be 1 to {MAX_ID} bytes"));
        } else if let Some(first) = seen.insert(r.id.clone(), line) {
            problems.push(format!(
                "{at}: id already used by the requirement on line {first}"
            ));
        }
        let title = |key: &str, value: &Option<String>, problems: &mut Vec<String>| match value {
            Some(v) if !v.trim().is_empty() => v.clone(),
            _ => {
                problems.push(format!("{at}: {key} is missing or empty"));
                String::new()
            }
        };
        let title_en = title("title_en", &r.title_en, &mut problems);
        let title_zh = title("title_zh", &r.title_zh, &mut problems);
        let group = match (r.group_en, r.group_zh) {
            (None, None) => None,
            (Some(en), Some(zh)) if !en.trim().is_empty() && !zh.trim().is_empty() => {
                Some((en, zh))
            }
            _ => {
                problems.push(format!(
                    "{at}: group_en and group_zh go together, both not empty"
                ));
                None
            }
        };
        let mut controls = Vec::new();
        for c in &r.controls {
            let cline = lines.line(c.span().start);
            match CATALOG.iter().find(|d| d.id == c.get_ref()) {
                None => problems.push(format!(
                    "{at}: control \"{}\" (line {cline}) is not a built-in control (see `aliaudit controls`)",
                    c.get_ref().escape_debug()
                )),
                Some(d) if controls.contains(&d.id) => problems.push(format!(
                    "{at}: control \"{}\" (line {cline}) is listed twice",
                    d.id
                )),
                Some(d) => controls.push(d.id),
            }
        }
        requirements.push(Requirement {
            id: r.id,
            group,
            title_en,
            title_zh,
            controls,
        });
    }
    if !problems.is_empty() {
        problems.truncate(MAX_PROBLEMS);
        return Err(err(problems));
    }
    Ok(Framework {
        id: form.id.into_inner(),
        name: form.name.into_inner(),
        name_zh: form.name_zh.into_inner(),
        version: form.version.into_inner(),
        judgement: form.judgement.into_inner(),
        judgement_zh: form.judgement_zh.into_inner(),
        sources: form.sources.into_inner(),
        requirements,
    })
}

/// The built-in frameworks, in `--framework` order. They are ours and compiled in; a unit
/// test parses every one, so none is ever missing from a tested build.
pub fn builtin() -> &'static [Framework] {
    static ALL: OnceLock<Vec<Framework>> = OnceLock::new();
    ALL.get_or_init(|| {
        BUILTIN
            .iter()
            .filter_map(|(name, text)| parse(text, name).ok())
            .collect()
    })
}

/// A built-in framework by id.
pub fn builtin_by_id(id: &str) -> Option<&'static Framework> {
    builtin().iter().find(|f| f.id == id)
}

/// The frameworks of a run: the built-in ones named (in the order given, each once) and then
/// the user's files, as `(path, text)`. An unknown id, a file with errors, or two frameworks
/// with one id is an error.
pub fn select(ids: &[String], files: &[(String, String)]) -> Result<Vec<Framework>, String> {
    let mut out: Vec<Framework> = Vec::new();
    for id in ids {
        let Some(f) = builtin_by_id(id) else {
            let known: Vec<&str> = builtin().iter().map(|f| f.id.as_str()).collect();
            return Err(format!(
                "--framework {:?}: no built-in framework has this id (built in: {})",
                id,
                known.join(", ")
            ));
        };
        if !out.iter().any(|o| o.id == f.id) {
            out.push(f.clone());
        }
    }
    for (path, text) in files {
        let f = parse(text, path).map_err(|e| e.to_string())?;
        if out.iter().any(|o| o.id == f.id) {
            return Err(format!(
                "{path}: framework id \"{}\" is already selected (a built-in framework or another file has it)",
                f.id
            ));
        }
        out.push(f);
    }
    Ok(out)
}

// ---------------------------------------------------------------- roll-up

/// A requirement's result on one account, or of a group of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementStatus {
    /// Every control passed (or did not apply), at least one passed.
    Pass,
    /// A control failed.
    Fail,
    /// No control failed or was unevaluable, and at least one failed with every failure an
    /// accepted risk.
    Excepted,
    /// Every control was not applicable.
    NotApplicable,
    /// No control failed, and at least one could not be evaluated.
    NotEvaluable,
    /// The requirement lists no control: the evidence cannot evaluate it.
    NotCovered,
}

impl RequirementStatus {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Pass => "pass",
            RequirementStatus::Fail => "fail",
            RequirementStatus::Excepted => "excepted",
            RequirementStatus::NotApplicable => "not_applicable",
            RequirementStatus::NotEvaluable => "not_evaluable",
            RequirementStatus::NotCovered => "not_covered",
        }
    }

    /// Whether the evidence answered the requirement (it counts towards coverage).
    pub fn evaluable(self) -> bool {
        !matches!(
            self,
            RequirementStatus::NotEvaluable | RequirementStatus::NotCovered
        )
    }
}

/// Rolls the results of a requirement's controls into its result (`None`: the control has no
/// result, being disabled by the rules file). See the module documentation for the rules.
pub fn roll_up(controls: impl IntoIterator<Item = Option<Status>>) -> RequirementStatus {
    let (mut any, mut fail, mut unknown, mut excepted, mut all_na) =
        (false, false, false, false, true);
    for status in controls {
        any = true;
        match status {
            Some(Status::Fail) => fail = true,
            Some(Status::NotEvaluable) | None => unknown = true,
            Some(Status::Excepted) => excepted = true,
            Some(Status::Pass) => {}
            Some(Status::NotApplicable) => continue,
        }
        all_na = false;
    }
    if !any {
        RequirementStatus::NotCovered
    } else if fail {
        RequirementStatus::Fail
    } else if unknown {
        RequirementStatus::NotEvaluable
    } else if excepted {
        RequirementStatus::Excepted
    } else if all_na {
        RequirementStatus::NotApplicable
    } else {
        RequirementStatus::Pass
    }
}

/// A share of requirements that were evaluable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Requirements (or requirement-account pairs) evaluated.
    pub evaluable: u64,
    /// Requirements (or requirement-account pairs) in all.
    pub total: u64,
}

impl Coverage {
    /// The percentage in tenths, rounded half up (`1000` is 100%); `None` of nothing.
    pub fn percent_tenths(self) -> Option<u64> {
        (self.total > 0).then(|| (self.evaluable * 1000 + self.total / 2) / self.total)
    }

    fn merge(&mut self, other: Coverage) {
        self.evaluable += other.evaluable;
        self.total += other.total;
    }
}

/// One control of a requirement, with its result on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlResult {
    /// Control id.
    pub id: &'static str,
    /// Its result; `None` when it has no result (disabled).
    pub status: Option<Status>,
    /// The benchmark version it belongs to when the report scores the other one: shown as
    /// informational for CIS, still counted here.
    pub informational: Option<Benchmark>,
}

/// One requirement's result on an account, with its controls' results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    /// Requirement id.
    pub id: String,
    /// The rolled-up result.
    pub status: RequirementStatus,
    /// Its controls, in crosswalk order.
    pub controls: Vec<ControlResult>,
}

/// A framework's results on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkResult {
    /// Framework id.
    pub framework: String,
    /// Per requirement, in framework order.
    pub requirements: Vec<RequirementResult>,
    /// How many of the requirements were evaluable.
    pub coverage: Coverage,
}

impl FrameworkResult {
    /// The requirement results only, in framework order (what a roll-up keeps).
    pub fn statuses(&self) -> Vec<RequirementStatus> {
        self.requirements.iter().map(|r| r.status).collect()
    }
}

/// Evaluates a framework on one account from its controls' results, `(control id, status)`
/// (findings of other ids, such as Security Center items, are ignored), for a report scoring
/// `benchmark`.
pub fn evaluate<'a>(
    framework: &Framework,
    results: impl IntoIterator<Item = (&'a str, Status)>,
    benchmark: Benchmark,
) -> FrameworkResult {
    let by_id: BTreeMap<&str, Status> = results.into_iter().collect();
    evaluate_by(framework, |id| {
        let informational = CATALOG
            .iter()
            .find(|d| d.id == id)
            .and_then(|d| benchmark.informational(d.cis_v1, d.cis_v2));
        (by_id.get(id).copied(), informational)
    })
}

/// Evaluates a framework on one account from its findings (built-in controls only; an
/// informational finding keeps its flag).
pub fn evaluate_findings(framework: &Framework, findings: &[Finding]) -> FrameworkResult {
    let by_id: BTreeMap<&str, &Finding> = findings
        .iter()
        .filter(|f| f.section != Section::SecurityCenter)
        .map(|f| (f.control_id.as_ref(), f))
        .collect();
    evaluate_by(framework, |id| match by_id.get(id) {
        Some(f) => (Some(f.status), f.informational),
        None => (None, None),
    })
}

/// The requirements of `frameworks` that list `control`, each as `<framework id> <requirement
/// id>` (`mlps2-l3 8.1.4.1 d)`), in the order the frameworks were selected and, within one,
/// the order of its requirements: what a finding names in `findings.csv` and in
/// `findings.ocsf.jsonl`.
pub fn requirement_refs<'a>(
    frameworks: &'a [Framework],
    control: &'a str,
) -> impl Iterator<Item = String> + 'a {
    frameworks.iter().flat_map(move |f| {
        f.requirements
            .iter()
            .filter(move |r| r.controls.contains(&control))
            .map(move |r| format!("{} {}", f.id, r.id))
    })
}

fn evaluate_by(
    framework: &Framework,
    result_of: impl Fn(&str) -> (Option<Status>, Option<Benchmark>),
) -> FrameworkResult {
    let mut coverage = Coverage::default();
    let requirements = framework
        .requirements
        .iter()
        .map(|r| {
            let controls: Vec<ControlResult> = r
                .controls
                .iter()
                .map(|&id| {
                    let (status, informational) = result_of(id);
                    ControlResult {
                        id,
                        status,
                        informational,
                    }
                })
                .collect();
            let status = roll_up(controls.iter().map(|c| c.status));
            coverage.total += 1;
            coverage.evaluable += u64::from(status.evaluable());
            RequirementResult {
                id: r.id.clone(),
                status,
                controls,
            }
        })
        .collect();
    FrameworkResult {
        framework: framework.id.clone(),
        requirements,
        coverage,
    }
}

/// Accounts per result of one requirement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementTally {
    /// Accounts where it passed.
    pub pass: u64,
    /// Accounts where it failed.
    pub fail: u64,
    /// Accounts where it was excepted.
    pub excepted: u64,
    /// Accounts where it did not apply.
    pub not_applicable: u64,
    /// Accounts where it could not be evaluated.
    pub not_evaluable: u64,
    /// Accounts where the evidence cannot evaluate it (every account, or none).
    pub not_covered: u64,
}

impl RequirementTally {
    /// Counts one account's result.
    pub fn add(&mut self, status: RequirementStatus) {
        match status {
            RequirementStatus::Pass => self.pass += 1,
            RequirementStatus::Fail => self.fail += 1,
            RequirementStatus::Excepted => self.excepted += 1,
            RequirementStatus::NotApplicable => self.not_applicable += 1,
            RequirementStatus::NotEvaluable => self.not_evaluable += 1,
            RequirementStatus::NotCovered => self.not_covered += 1,
        }
    }

    fn merge(&mut self, o: &RequirementTally) {
        self.pass += o.pass;
        self.fail += o.fail;
        self.excepted += o.excepted;
        self.not_applicable += o.not_applicable;
        self.not_evaluable += o.not_evaluable;
        self.not_covered += o.not_covered;
    }

    /// Accounts counted.
    pub fn accounts(&self) -> u64 {
        self.pass
            + self.fail
            + self.excepted
            + self.not_applicable
            + self.not_evaluable
            + self.not_covered
    }

    /// The group's result, by the same rules as an account's over its controls: fail when any
    /// account fails, else not evaluable when any is, else excepted, else not applicable when
    /// all are, else pass; not covered when it lists no control. `None` of no account.
    pub fn status(&self) -> Option<RequirementStatus> {
        if self.accounts() == 0 {
            None
        } else if self.not_covered > 0 {
            Some(RequirementStatus::NotCovered)
        } else if self.fail > 0 {
            Some(RequirementStatus::Fail)
        } else if self.not_evaluable > 0 {
            Some(RequirementStatus::NotEvaluable)
        } else if self.excepted > 0 {
            Some(RequirementStatus::Excepted)
        } else if self.pass == 0 {
            Some(RequirementStatus::NotApplicable)
        } else {
            Some(RequirementStatus::Pass)
        }
    }
}

/// A framework's results over a group of accounts (a customer, the portfolio). Built with
/// integers only, so merging in any order gives the same tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkTally {
    /// Accounts counted.
    pub accounts: u64,
    /// Per requirement, in framework order.
    pub requirements: Vec<RequirementTally>,
    /// Requirement-account pairs evaluable, of all pairs.
    pub coverage: Coverage,
}

impl FrameworkTally {
    /// An empty tally of a framework.
    pub fn new(framework: &Framework) -> FrameworkTally {
        FrameworkTally {
            accounts: 0,
            requirements: vec![RequirementTally::default(); framework.requirements.len()],
            coverage: Coverage::default(),
        }
    }

    /// Counts one account's requirement results (in framework order).
    pub fn add(&mut self, statuses: &[RequirementStatus]) {
        self.accounts += 1;
        if self.requirements.len() < statuses.len() {
            self.requirements
                .resize(statuses.len(), RequirementTally::default());
        }
        for (tally, &status) in self.requirements.iter_mut().zip(statuses) {
            tally.add(status);
            self.coverage.total += 1;
            self.coverage.evaluable += u64::from(status.evaluable());
        }
    }

    /// Adds another group's tally of the same framework.
    pub fn merge(&mut self, other: &FrameworkTally) {
        self.accounts += other.accounts;
        if self.requirements.len() < other.requirements.len() {
            self.requirements
                .resize(other.requirements.len(), RequirementTally::default());
        }
        for (a, b) in self.requirements.iter_mut().zip(&other.requirements) {
            a.merge(b);
        }
        self.coverage.merge(other.coverage);
    }
}

#[cfg(test)]
mod tests {
    use super::RequirementStatus as R;
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// A fixture account: every built-in control passes but these.
    fn account(changes: &[(&'static str, Option<Status>)]) -> Vec<(&'static str, Status)> {
        CATALOG
            .iter()
            .filter_map(|d| match changes.iter().find(|(id, _)| *id == d.id) {
                Some((_, status)) => status.map(|s| (d.id, s)),
                None => Some((d.id, Status::Pass)),
            })
            .collect()
    }

    /// Account A: a console user without MFA, passwords that never expire (a CIS v1.0.0
    /// failure), lockout failing as an accepted risk, policies not in the evidence.
    fn account_a() -> Vec<(&'static str, Status)> {
        account(&[
            ("ram.console_mfa", Some(Status::Fail)),
            ("pwd.max_age_v1", Some(Status::Fail)),
            ("pwd.lockout", Some(Status::Excepted)),
            ("ram.no_admin_policies", Some(Status::NotEvaluable)),
            ("ram.policies_on_groups", Some(Status::NotEvaluable)),
            ("pref.idle_keys_disabled", Some(Status::NotEvaluable)),
            ("ram.unused_access_keys", Some(Status::NotApplicable)),
            ("spr.password_strength", Some(Status::NotApplicable)),
        ])
    }

    /// Account B: the console users' missing MFA is an accepted risk; the policy controls are
    /// disabled by the rules file (no result at all).
    fn account_b() -> Vec<(&'static str, Status)> {
        account(&[
            ("ram.console_mfa", Some(Status::Excepted)),
            ("ram.no_admin_policies", None),
            ("ram.policies_on_groups", None),
            ("ram.unused_access_keys", Some(Status::NotApplicable)),
        ])
    }

    fn results(
        id: &str,
        fixture: &[(&'static str, Status)],
        benchmark: Benchmark,
    ) -> FrameworkResult {
        let f = builtin_by_id(id).expect("built in");
        evaluate(f, fixture.iter().copied(), benchmark)
    }

    fn statuses(r: &FrameworkResult) -> Vec<(&str, R)> {
        r.requirements
            .iter()
            .map(|q| (q.id.as_str(), q.status))
            .collect()
    }

    #[test]
    fn the_shipped_files_parse_and_every_requirement_has_titles_and_known_controls() {
        assert_eq!(builtin().len(), BUILTIN.len());
        let mut ids = BTreeSet::new();
        for (name, text) in BUILTIN {
            let f = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{}.toml", f.id), *name);
            assert!(ids.insert(f.id.clone()), "{} twice", f.id);
            assert!(f.judgement.contains("judgement"), "{}", f.id);
            assert_eq!(crate::sas_items::title_lang(&f.judgement_zh), Lang::Zh);
            assert_eq!(crate::sas_items::title_lang(&f.name_zh), Lang::Zh);
            assert!(!f.sources.is_empty());
            let mut req_ids = BTreeSet::new();
            for r in &f.requirements {
                assert!(req_ids.insert(&r.id), "{} {} twice", f.id, r.id);
                assert_eq!(
                    crate::sas_items::title_lang(&r.title_en),
                    Lang::En,
                    "{}",
                    r.id
                );
                assert_eq!(
                    crate::sas_items::title_lang(&r.title_zh),
                    Lang::Zh,
                    "{}",
                    r.id
                );
                for c in &r.controls {
                    assert!(CATALOG.iter().any(|d| d.id == *c));
                }
            }
            // What the evidence cannot evaluate is listed (SOC 2's three criteria all have
            // evidence).
            assert_eq!(
                f.requirements.iter().any(|r| r.controls.is_empty()),
                f.id != "soc2-2017",
                "{}",
                f.id
            );
        }
        // The MLPS clauses are grouped under their Chinese clause names.
        let l3 = builtin_by_id("mlps2-l3").expect("built in");
        let groups: BTreeSet<_> = l3
            .requirements
            .iter()
            .filter_map(|r| r.group(Lang::Zh))
            .collect();
        assert_eq!(groups, BTreeSet::from(["身份鉴别", "访问控制"]));
        assert_eq!(l3.requirements.len(), 11);
        assert_eq!(
            builtin_by_id("mlps2-l2")
                .expect("built in")
                .requirements
                .len(),
            7,
            "level 2 has 7.1.4.1 a)-c) and 7.1.4.2 a)-d)"
        );
    }

    #[test]
    fn a_requirement_rolls_up_from_its_controls() {
        use Status::*;
        let r = |s: &[Option<Status>]| roll_up(s.iter().copied());
        assert_eq!(r(&[]), R::NotCovered);
        assert_eq!(r(&[Some(Pass), Some(Fail), Some(NotEvaluable)]), R::Fail);
        assert_eq!(r(&[Some(Excepted), Some(Fail)]), R::Fail);
        assert_eq!(
            r(&[Some(Pass), Some(Excepted), Some(NotEvaluable)]),
            R::NotEvaluable
        );
        assert_eq!(r(&[Some(Pass), None]), R::NotEvaluable);
        assert_eq!(
            r(&[Some(Pass), Some(Excepted), Some(NotApplicable)]),
            R::Excepted
        );
        assert_eq!(
            r(&[Some(NotApplicable), Some(NotApplicable)]),
            R::NotApplicable
        );
        assert_eq!(r(&[Some(NotApplicable), Some(Pass)]), R::Pass);
        assert_eq!(r(&[Some(Pass)]), R::Pass);
        assert!(R::NotApplicable.evaluable() && R::Excepted.evaluable());
        assert!(!R::NotEvaluable.evaluable() && !R::NotCovered.evaluable());
    }

    /// A framework's id, its requirements' results and its coverage in tenths of a percent.
    type Expected<'a> = (&'a str, &'a [(&'a str, R)], u64);

    #[test]
    fn the_fixture_rolls_up_to_known_results_for_every_shipped_framework() {
        use R::*;
        let a = account_a();
        let expected: &[Expected] = &[
            (
                "mlps2-l2",
                &[
                    ("7.1.4.1 a)", Fail),
                    ("7.1.4.1 b)", Excepted),
                    ("7.1.4.1 c)", NotCovered),
                    ("7.1.4.2 a)", NotCovered),
                    ("7.1.4.2 b)", Pass),
                    ("7.1.4.2 c)", NotEvaluable),
                    ("7.1.4.2 d)", NotEvaluable),
                ],
                429,
            ),
            (
                "mlps2-l3",
                &[
                    ("8.1.4.1 a)", Fail),
                    ("8.1.4.1 b)", Excepted),
                    ("8.1.4.1 c)", NotCovered),
                    ("8.1.4.1 d)", Fail),
                    ("8.1.4.2 a)", NotCovered),
                    ("8.1.4.2 b)", Pass),
                    ("8.1.4.2 c)", NotEvaluable),
                    ("8.1.4.2 d)", NotEvaluable),
                    ("8.1.4.2 e)", NotCovered),
                    ("8.1.4.2 f)", NotCovered),
                    ("8.1.4.2 g)", NotCovered),
                ],
                364,
            ),
            (
                "iso27001-2022",
                &[
                    ("A.5.15", NotEvaluable),
                    ("A.5.16", Pass),
                    ("A.5.17", Pass),
                    ("A.5.18", NotEvaluable),
                    ("A.8.2", NotEvaluable),
                    ("A.8.3", NotCovered),
                    ("A.8.5", Fail),
                ],
                429,
            ),
            (
                "soc2-2017",
                &[
                    ("CC6.1", Fail),
                    ("CC6.2", NotEvaluable),
                    ("CC6.3", NotEvaluable),
                ],
                333,
            ),
            (
                "nist-800-53r5",
                &[
                    ("AC-2", NotCovered),
                    ("AC-2(1)", NotCovered),
                    ("AC-2(3)", NotEvaluable),
                    ("AC-2(7)", NotEvaluable),
                    ("AC-2(12)", NotCovered),
                    ("IA-2", Pass),
                    ("IA-2(1)", Fail),
                    ("IA-2(2)", Fail),
                    ("IA-2(8)", NotCovered),
                    ("IA-5", Pass),
                    ("IA-5(1)", Pass),
                    ("IA-5(2)", NotCovered),
                ],
                417,
            ),
            (
                "cis-controls-v8.1",
                &[
                    ("5.1", NotCovered),
                    ("5.2", Pass),
                    ("5.3", NotEvaluable),
                    ("5.4", Pass),
                    ("5.5", NotCovered),
                    ("5.6", NotCovered),
                    ("6.1", NotCovered),
                    ("6.2", NotCovered),
                    ("6.3", Fail),
                    ("6.4", NotCovered),
                    ("6.5", Fail),
                    ("6.6", NotCovered),
                    ("6.7", NotCovered),
                    ("6.8", NotEvaluable),
                ],
                286,
            ),
        ];
        assert_eq!(expected.len(), builtin().len());
        for (id, want, coverage) in expected {
            let got = results(id, &a, Benchmark::CisV2);
            assert_eq!(statuses(&got), *want, "{id}");
            assert_eq!(got.coverage.percent_tenths(), Some(*coverage), "{id}");
            assert_eq!(got.coverage.total, want.len() as u64);
        }
    }

    #[test]
    fn excepted_and_disabled_controls_roll_up_and_the_benchmark_changes_nothing() {
        use R::*;
        let b = account_b();
        let l3 = results("mlps2-l3", &b, Benchmark::CisV2);
        let by_id: BTreeMap<&str, R> = statuses(&l3).into_iter().collect();
        // Multi-factor: the only failure is an accepted risk.
        assert_eq!(by_id["8.1.4.1 d)"], Excepted);
        // Least privilege: its one control is disabled, so nothing says it holds.
        assert_eq!(by_id["8.1.4.2 d)"], NotEvaluable);
        assert_eq!(by_id["8.1.4.1 a)"], Pass);
        let d = &l3.requirements[7];
        assert_eq!(d.controls[0].status, None);
        let iso = results("iso27001-2022", &b, Benchmark::CisV2);
        assert_eq!(iso.requirements[6].id, "A.8.5");
        assert_eq!(iso.requirements[6].status, Excepted);
        assert_eq!(
            iso.requirements[6].controls[1].status,
            Some(Status::Excepted)
        );

        // pwd.max_age_v1 is informational when CIS v2.0.0 is scored, but still decides the
        // MLPS periodic-change clause, whichever version is scored.
        let a = account_a();
        let v2 = results("mlps2-l3", &a, Benchmark::CisV2);
        let v1 = results("mlps2-l3", &a, Benchmark::CisV1);
        assert_eq!(statuses(&v1), statuses(&v2));
        let max_age = |r: &FrameworkResult| {
            r.requirements[0]
                .controls
                .iter()
                .find(|c| c.id == "pwd.max_age_v1")
                .cloned()
                .expect("listed")
        };
        assert_eq!(max_age(&v2).informational, Some(Benchmark::CisV1));
        assert_eq!(max_age(&v1).informational, None);
        assert_eq!(max_age(&v2).status, Some(Status::Fail));
    }

    #[test]
    fn a_group_tallies_its_accounts_whatever_the_order() {
        use R::*;
        let f = builtin_by_id("mlps2-l3").expect("built in");
        let a = results("mlps2-l3", &account_a(), Benchmark::CisV2).statuses();
        let b = results("mlps2-l3", &account_b(), Benchmark::CisV2).statuses();
        let mut one = FrameworkTally::new(f);
        one.add(&a);
        one.add(&b);
        let mut x = FrameworkTally::new(f);
        x.add(&b);
        let mut y = FrameworkTally::new(f);
        y.add(&a);
        x.merge(&y);
        assert_eq!(one, x);
        assert_eq!(one.accounts, 2);
        // 8.1.4.1 d): fails on A, excepted on B.
        let d = one.requirements[3];
        assert_eq!((d.fail, d.excepted, d.accounts()), (1, 1, 2));
        assert_eq!(d.status(), Some(Fail));
        // 8.1.4.1 b): excepted on A, passes on B.
        let lockout = one.requirements[1];
        assert_eq!((lockout.pass, lockout.excepted), (1, 1));
        assert_eq!(lockout.status(), Some(Excepted));
        // 8.1.4.2 b): passes on both.
        assert_eq!(one.requirements[5].status(), Some(Pass));
        assert_eq!(one.requirements[2].status(), Some(NotCovered));
        assert_eq!(one.requirements[2].not_covered, 2);
        // A: 4 of 11 evaluable; B: 8.1.4.1 a), b), d), 8.1.4.2 b), c) = 5 of 11.
        assert_eq!(
            one.coverage,
            Coverage {
                evaluable: 9,
                total: 22
            }
        );
        assert_eq!(one.coverage.percent_tenths(), Some(409));
        assert_eq!(FrameworkTally::new(f).requirements[0].status(), None);
        assert_eq!(Coverage::default().percent_tenths(), None);
    }

    const USER_FILE: &str = r#"id = "acme-policy"
name = "ACME access policy"
name_zh = "ACME 访问策略"
version = "3"
judgement = "Our judgement."
judgement_zh = "我们的判断。"
sources = ["ACME policy 3"]

[[requirement]]
id = "AP-1"
title_en = "MFA"
title_zh = "多因素认证"
controls = ["root.mfa", "ram.console_mfa"]

[[requirement]]
id = "AP-2"
title_en = "Keys"
controls = [
  "ram.access_key_rotation",
  "ram.no_such_control",
]

[[requirement]]
id = "AP-1"
title_en = "Again"
title_zh = "再次"
group_en = "Only English"
controls = ["root.mfa", "root.mfa"]
"#;

    #[test]
    fn requirement_refs_follow_the_selection_then_the_framework_order() {
        let selected = select(&["mlps2-l3".into(), "iso27001-2022".into()], &[]).expect("built in");
        let refs = |control| requirement_refs(&selected, control).collect::<Vec<_>>();
        assert_eq!(
            refs("ram.console_mfa"),
            ["mlps2-l3 8.1.4.1 d)", "iso27001-2022 A.8.5"]
        );
        assert_eq!(
            refs("root.mfa"),
            [
                "mlps2-l3 8.1.4.1 d)",
                "iso27001-2022 A.8.2",
                "iso27001-2022 A.8.5"
            ]
        );
        assert!(refs("sas.42").is_empty());
        assert!(requirement_refs(&[], "root.mfa").next().is_none());
        let reversed = select(&["iso27001-2022".into(), "mlps2-l3".into()], &[]).expect("built in");
        assert_eq!(
            requirement_refs(&reversed, "ram.console_mfa").collect::<Vec<_>>(),
            ["iso27001-2022 A.8.5", "mlps2-l3 8.1.4.1 d)"]
        );
    }

    #[test]
    fn a_user_file_with_errors_names_every_entry_and_line() {
        let e = parse(USER_FILE, "acme.toml").expect_err("has errors");
        assert_eq!(e.path, "acme.toml");
        assert_eq!(
            e.problems,
            [
                "requirement 2 \"AP-2\" (line 15): title_zh is missing or empty",
                "requirement 2 \"AP-2\" (line 15): control \"ram.no_such_control\" (line 20) is not a built-in control (see `aliaudit controls`)",
                "requirement 3 \"AP-1\" (line 23): id already used by the requirement on line 9",
                "requirement 3 \"AP-1\" (line 23): group_en and group_zh go together, both not empty",
                "requirement 3 \"AP-1\" (line 23): control \"root.mfa\" (line 28) is listed twice",
            ]
        );
        assert!(
            e.to_string()
                .starts_with("acme.toml: requirement 2 \"AP-2\" (line 15)")
        );

        // Syntax errors and unknown keys name their line from the TOML parser.
        let bad = parse("id = \"x\"\nname = \n", "bad.toml").expect_err("syntax");
        assert!(bad.problems[0].starts_with("line 2"), "{bad}");
        let unknown = USER_FILE.replace("title_en = \"MFA\"", "title = \"MFA\"");
        let e = parse(&unknown, "u.toml").expect_err("unknown key");
        assert!(e.problems[0].contains("line 11"), "{e}");
        assert!(e.problems[0].contains("title"), "{e}");

        // Top-level keys too.
        let top = USER_FILE
            .replace("id = \"acme-policy\"", "id = \"ACME, Policy\"")
            .replace("sources = [\"ACME policy 3\"]", "sources = []");
        let e = parse(&top, "t.toml").expect_err("bad id and sources");
        assert!(e.problems[0].starts_with("id (line 1): \"ACME, Policy\" is not a framework id"));
        assert!(e.problems[1].starts_with("sources (line 7): name at least one source"));

        // A fixed file parses; selecting it beside built-ins checks ids are unique.
        let good = USER_FILE
            .replace(
                "title_en = \"Keys\"",
                "title_en = \"Keys\"\ntitle_zh = \"密钥\"",
            )
            .replace("  \"ram.no_such_control\",\n", "")
            .replace(
                "id = \"AP-1\"\ntitle_en = \"Again\"",
                "id = \"AP-3\"\ntitle_en = \"Again\"",
            )
            .replace(
                "group_en = \"Only English\"",
                "group_en = \"G\"\ngroup_zh = \"组\"",
            )
            .replace("[\"root.mfa\", \"root.mfa\"]", "[\"root.mfa\"]");
        let f = parse(&good, "acme.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.requirements[2].group(Lang::Zh), Some("组"));
        let ids = vec![
            "mlps2-l3".to_string(),
            "soc2-2017".into(),
            "mlps2-l3".into(),
        ];
        let run = select(&ids, &[("acme.toml".into(), good.clone())]).expect("selects");
        let run_ids: Vec<&str> = run.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(run_ids, ["mlps2-l3", "soc2-2017", "acme-policy"]);
        let clash = good.replace("acme-policy", "soc2-2017");
        assert!(
            select(&ids, &[("c.toml".into(), clash)])
                .unwrap_err()
                .contains("already selected")
        );
        assert!(
            select(&["pci".into()], &[])
                .unwrap_err()
                .contains("built in: mlps2-l2")
        );
    }

    fn quoted(s: &str) -> String {
        toml::Value::String(s.to_string()).to_string()
    }

    proptest! {
        #[test]
        fn any_text_is_parsed_or_refused_without_a_panic(s in "\\PC{0,200}") {
            let _ = parse(&s, "x.toml");
            let with_head = format!("{}\n{s}", &USER_FILE[..USER_FILE.find("[[requirement]]").unwrap_or(0)]);
            let _ = parse(&with_head, "x.toml");
        }

        #[test]
        fn a_well_formed_file_reads_back_as_written(
            reqs in proptest::collection::vec(
                // At most 12 characters of up to 4 bytes: the id stays within MAX_ID bytes.
                ("\\PC{1,12}", "[a-z ]{1,30}", "[\u{4e00}-\u{4e80}]{1,10}",
                 proptest::collection::btree_set(0..CATALOG.len(), 0..5)),
                1..8,
            )
        ) {
            let mut text = USER_FILE[..USER_FILE.find("[[requirement]]").unwrap_or(0)].to_string();
            let mut seen = BTreeSet::new();
            let mut want = Vec::new();
            for (n, (id, en, zh, controls)) in reqs.iter().enumerate() {
                let id = format!("R{n}-{}", id.trim());
                if !seen.insert(id.clone()) || en.trim().is_empty() {
                    continue;
                }
                let ids: Vec<&'static str> = controls.iter().map(|&c| CATALOG[c].id).collect();
                let list: Vec<String> = ids.iter().map(|c| quoted(c)).collect();
                text.push_str(&format!(
                    "\n[[requirement]]\nid = {}\ntitle_en = {}\ntitle_zh = {}\ncontrols = [{}]\n",
                    quoted(&id), quoted(en), quoted(zh), list.join(", ")
                ));
                want.push((id, ids));
            }
            prop_assume!(!want.is_empty());
            let f = parse(&text, "p.toml");
            prop_assert!(f.is_ok(), "{:?}\n{}", f.err(), text);
            let f = f.unwrap_or_else(|_| unreachable!());
            let got: Vec<(String, Vec<&'static str>)> =
                f.requirements.iter().map(|r| (r.id.clone(), r.controls.clone())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
