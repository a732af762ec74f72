//! Rules stage: evaluates the controls on one [`Account`] and returns its findings.
//!
//! Pure functions of the account, the as-of instant and the rule pack: no I/O, no clock, and
//! no language (every explanation is a [`Message`], written in a language by the outputs).
//! Missing evidence always gives `not_evaluable`, never a pass or a fail.

pub mod controls;
pub mod policy;
mod types;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Account, SasApi, SasItem, SasStatus, Severity};
pub use controls::{CATALOG, Compensated, ControlDef};
pub use types::{
    Benchmark, Citation, Ctx, Finding, Message, Noun, Outcome, Remediation, ResourceResult,
    Section, Status, Thresholds, roll_up,
};

/// Per-control overrides in a rules file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlOverride {
    /// Replaces the built-in severity.
    pub severity: Option<Severity>,
    /// `false` leaves the control out of every report.
    pub enabled: Option<bool>,
}

/// The rule pack: thresholds and per-control overrides, from `--rules FILE` or the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// The benchmark version scored (`benchmark = "cis-v1"`; `--benchmark` overrides it).
    #[serde(default)]
    pub benchmark: Benchmark,
    /// The thresholds; a file's table replaces only the values it names.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Overrides by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, ControlOverride>,
    /// The executive page's rating thresholds.
    #[serde(default)]
    pub rating: policy::RatingPolicy,
    /// The executive page's days to fix a failure, by severity.
    #[serde(default)]
    pub due_days: policy::DueDays,
    /// Built-in titles with thresholds filled in, made on first use.
    #[serde(skip)]
    titles: std::sync::OnceLock<BTreeMap<&'static str, Arc<str>>>,
}

/// Errors in a rules file.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML, or an unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What and where.
        message: String,
    },
    /// A control id that does not exist.
    #[error(
        "{path}: [controls.\"{id}\"]: no built-in control has this id (see `aliaudit controls`)"
    )]
    UnknownControl {
        /// The file.
        path: String,
        /// The id.
        id: String,
    },
}

impl RulePack {
    /// Parses a rules file's text; unknown keys and unknown control ids are errors.
    pub fn from_toml(text: &str, path: &str) -> Result<RulePack, RulesError> {
        let pack: RulePack = toml::from_str(text).map_err(|e| RulesError::Parse {
            path: path.to_string(),
            message: crate::diag::toml_error(text, &e),
        })?;
        if let Err(message) = pack.rating.check().and_then(|()| pack.due_days.check()) {
            return Err(RulesError::Parse {
                path: path.to_string(),
                message,
            });
        }
        for id in pack.controls.keys() {
            if !CATALOG.iter().any(|c| c.id == id) && !id.starts_with("sas.") {
                return Err(RulesError::UnknownControl {
                    path: path.to_string(),
                    id: id.clone(),
                });
            }
        }
        Ok(pack)
    }

    /// A built-in control's title with its thresholds filled in.
    pub fn title(&self, id: &str) -> Arc<str> {
        let titles = self.titles.get_or_init(|| {
            CATALOG
                .iter()
                .map(|c| (c.id, Arc::from(self.thresholds.fill(c.title))))
                .collect()
        });
        titles.get(id).cloned().unwrap_or_else(|| Arc::from(id))
    }

    /// The severity of a control after overrides.
    pub fn severity(&self, id: &str, default: Severity) -> Severity {
        self.controls
            .get(id)
            .and_then(|o| o.severity)
            .unwrap_or(default)
    }

    /// Whether a control is enabled.
    pub fn enabled(&self, id: &str) -> bool {
        self.controls
            .get(id)
            .and_then(|o| o.enabled)
            .unwrap_or(true)
    }
}

/// What evaluating an account gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Findings, built-in controls first in catalog order, then Sas items by id.
    pub findings: Vec<Finding>,
    /// Data-quality notes: disagreements between sources and stale evidence.
    pub data_quality: Vec<Message>,
}

/// Evaluates every enabled control on one account.
pub fn evaluate(account: &Account, as_of: Option<DateTime<Utc>>, pack: &RulePack) -> Evaluation {
    evaluate_with(account, as_of, pack, true)
}

/// Evaluates every enabled control; with `explain` false, per-resource results keep only
/// their status (enough for counts, scores and roll-ups).
pub(crate) fn evaluate_with(
    account: &Account,
    as_of: Option<DateTime<Utc>>,
    pack: &RulePack,
    explain: bool,
) -> Evaluation {
    let ctx = Ctx {
        account,
        as_of,
        t: &pack.thresholds,
        explain,
    };
    let mut findings = Vec::new();
    for def in CATALOG.iter().filter(|d| pack.enabled(d.id)) {
        let outcome = (def.eval)(&ctx);
        let informational = pack.benchmark.informational(def.cis_v1, def.cis_v2);
        let status = outcome
            .status
            .unwrap_or_else(|| roll_up(&outcome.resources));
        findings.push(Finding {
            control_id: Cow::Borrowed(def.id),
            title: pack.title(def.id),
            severity: pack.severity(def.id, def.severity),
            section: def.section,
            cis_v1: def.cis_v1,
            cis_v2: def.cis_v2,
            status,
            detail: outcome.detail,
            compensating: outcome.compensating,
            remediation: match &def.compensated {
                Some(c) if (c.applies)(&ctx) => Remediation::Compensated,
                _ => Remediation::Standard,
            },
            scored: informational.is_none(),
            informational,
            duplicates: None,
            noun: def.noun,
            affected: None,
            resources: outcome.resources,
            sources: Vec::new(),
        });
    }
    if let Some(sas) = account.sas.get() {
        for item in sas.items.iter().filter(|i| pack.enabled(&i.control_id)) {
            // An item that duplicates an enabled built-in control is that control's result,
            // not a row of its own: the control cites it (and data quality cross-checks it).
            let builtin = controls::sas_duplicate_of(item).and_then(|id| {
                findings
                    .iter_mut()
                    .find(|f| f.section != Section::SecurityCenter && f.control_id == id)
            });
            match builtin {
                Some(f) => f.sources.extend(citations(item)),
                None => findings.push(sas_finding(item, pack, explain)),
            }
        }
    }
    let data_quality = controls::data_quality(&ctx, &findings);
    Evaluation {
        findings,
        data_quality,
    }
}

/// Where each API's record of a Security Center check is, and what it says.
fn citations(item: &SasItem) -> Vec<Citation> {
    std::iter::once(item)
        .chain(item.also.as_deref())
        .map(|i| Citation {
            file: i.file.clone(),
            field: i.path.clone(),
            what: Message::key(match i.api {
                SasApi::DescribeRiskCheckResult => "sas.source_describe",
                SasApi::ListCheckResult => "sas.source_list",
            })
            .arg("id", i.vendor_id)
            .arg("status", &i.status_text),
        })
        .collect()
}

fn sas_finding(item: &SasItem, pack: &RulePack, explain: bool) -> Finding {
    // A check both APIs report is decided by the newer one; its resources and affected count
    // come from whichever names them.
    let decider = item.decider();
    let affected = item
        .affected
        .or(item.also.as_ref().and_then(|a| a.affected));
    let named = if item.resources.is_empty() {
        item.also
            .as_ref()
            .map(|a| &a.resources[..])
            .unwrap_or_default()
    } else {
        &item.resources[..]
    };
    let named_at = if item.resources.is_empty() {
        item.also.as_deref().unwrap_or(item)
    } else {
        item
    };
    let (status, detail) = match &decider.status {
        SasStatus::Pass => (Status::Pass, Message::key("engine.sas_pass")),
        SasStatus::Failed => (Status::Fail, failed_detail(affected, named.len())),
        SasStatus::Ignored => (Status::Excepted, Message::key("engine.sas_ignored")),
        SasStatus::FalsePositive => (Status::Excepted, Message::key("engine.sas_false_positive")),
        SasStatus::Pending => (Status::NotEvaluable, Message::key("engine.sas_pending")),
        SasStatus::NotChecked => (Status::NotEvaluable, Message::key("engine.sas_not_checked")),
        SasStatus::NotCovered => (Status::NotEvaluable, Message::key("engine.sas_not_covered")),
        SasStatus::Other(v) => (
            Status::NotEvaluable,
            Message::key("engine.sas_unknown").arg("value", v),
        ),
    };
    let duplicates = controls::sas_duplicate_of(item);
    let default_severity = decider
        .severity
        .or(item.severity)
        .unwrap_or(Severity::Medium);
    let builtin = duplicates.and_then(|d| CATALOG.iter().find(|c| c.id == d));
    // The resources the evidence names, each with its place; a check that names none has one
    // row without a resource, at the item's place, saying what the evidence holds.
    let resources = if !explain {
        vec![ResourceResult {
            id: String::new(),
            status,
            detail: Message::default(),
            file: None,
            field: None,
        }]
    } else if named.is_empty() || status != Status::Fail {
        vec![ResourceResult {
            id: String::new(),
            status,
            detail: if status == Status::Fail {
                detail.clone()
            } else {
                Message::from(item.category.clone().unwrap_or_default())
            },
            file: Some(item.file.clone()),
            field: Some(item.path.clone()),
        }]
    } else {
        named
            .iter()
            .map(|r| ResourceResult {
                id: r.name.clone(),
                status,
                detail: Message::from(r.detail.clone()),
                file: Some(named_at.file.clone()),
                field: Some(r.path.clone()),
            })
            .collect()
    };
    Finding {
        control_id: Cow::Owned(item.control_id.clone()),
        title: Arc::from(item.title.as_str()),
        severity: pack.severity(&item.control_id, default_severity),
        section: Section::SecurityCenter,
        cis_v1: builtin.and_then(|c| c.cis_v1),
        cis_v2: builtin.and_then(|c| c.cis_v2),
        status,
        detail,
        compensating: None,
        remediation: Remediation::Standard,
        scored: true,
        informational: None,
        duplicates: None,
        noun: Noun::SasResources,
        affected: match status {
            Status::Fail => affected.and_then(|n| u64::try_from(n).ok()),
            _ => None,
        },
        resources,
        // A check one API reports is cited by its resource rows; one both report cites both.
        sources: if explain && item.also.is_some() {
            citations(item)
        } else {
            Vec::new()
        },
    }
}

/// Why a failed Security Center check failed: how many it affects and how many the evidence
/// names.
fn failed_detail(affected: Option<i64>, named: usize) -> Message {
    let named_n = named as i64;
    match affected {
        Some(n) if n > 0 && named == 0 => Message::key("sas.failed_unnamed").arg("n", n),
        Some(n) if n > named_n => Message::key("sas.failed_some_named")
            .arg("n", n)
            .arg("named", named),
        _ if named > 0 => Message::key("sas.failed_named").arg("n", named),
        _ => Message::key("engine.sas_failed"),
    }
}

/// Report order of a control id: built-in controls in catalog order, then Security Center
/// items by API and number, then anything else by name.
pub fn order_key(id: &str) -> (u8, i64, String) {
    if let Some(i) = CATALOG.iter().position(|c| c.id == id) {
        return (0, i as i64, String::new());
    }
    if let Some(n) = id.strip_prefix("sas.cspm.").and_then(|n| n.parse().ok()) {
        return (2, n, String::new());
    }
    if let Some(n) = id.strip_prefix("sas.").and_then(|n| n.parse().ok()) {
        return (1, n, String::new());
    }
    (3, 0, id.to_string())
}

/// The severity weight used by the score.
pub(crate) fn weight(severity: Severity) -> u64 {
    match severity {
        Severity::High => 3,
        Severity::Medium => 2,
        Severity::Low => 1,
    }
}

/// The score formula, printed in every report.
pub const SCORE_FORMULA: &str = "score = 100 x (sum of weights of passed controls) / (sum of weights of passed and failed controls), weights high = 3, medium = 2, low = 1; excepted controls (accepted risks from --exceptions or Security Center, listed in the register) count neither for nor against it; not applicable and not evaluable controls, Security Center items that duplicate a built-in control, and informational controls (those of the benchmark version not scored) are left out; rounded to one decimal; no score when nothing was evaluated";

/// The score formula in `c`'s language: English from [`SCORE_FORMULA`], others from their
/// catalogue.
pub fn score_formula(c: &crate::i18n::Catalogue) -> &str {
    match c.lang() {
        crate::i18n::Lang::En => SCORE_FORMULA,
        _ => c.t("method.score_formula"),
    }
}

/// A built-in control's text (`title`, `logic`, `evidence`, `remediation`,
/// `remediation_compensated`) in `c`'s language
/// with thresholds filled in; `None` for an id that is not built in (Security Center items keep
/// their collected titles). English comes from [`CATALOG`], other languages from their
/// catalogue (`control.<id>.<part>`).
pub fn control_text(
    c: &crate::i18n::Catalogue,
    id: &str,
    part: &str,
    thresholds: &Thresholds,
) -> Option<String> {
    let english = (c.lang() == crate::i18n::Lang::En)
        .then(|| CATALOG.iter().find(|d| d.id == id))
        .flatten()
        .and_then(|d| match part {
            "title" => Some(d.title),
            "logic" => Some(d.logic),
            "evidence" => Some(d.evidence),
            "remediation" => Some(d.remediation),
            "remediation_compensated" => d.compensated.as_ref().map(|c| c.remediation),
            _ => None,
        });
    english
        .or_else(|| {
            c.entries()
                .get(&format!("control.{id}.{part}"))
                .map(String::as_str)
        })
        .map(|text| thresholds.fill(text))
}

/// The compliance score (rounded half up to a tenth of a point), or `None` when nothing was
/// evaluated. Integer arithmetic keeps it identical whatever order accounts are processed in.
pub fn score(findings: &[Finding]) -> Option<crate::score::Score> {
    let (mut passed, mut total) = (0u64, 0u64);
    for f in findings.iter().filter(|f| f.scored) {
        let w = weight(f.severity);
        match f.status {
            Status::Pass => {
                passed += w;
                total += w;
            }
            Status::Fail => total += w,
            _ => {}
        }
    }
    // passed <= total, so the tenths are at most 1000.
    (total > 0)
        .then(|| ((passed * 1000 * 2 + total) / (total * 2)) as u32)
        .and_then(crate::score::Score::from_tenths)
}

#[cfg(test)]
mod tests;
