//! `controls`: the built-in controls with their logic, thresholds and CIS mappings.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use super::Outcome;
use aliaudit_core::rules::CATALOG;

/// A `controls` run.
#[derive(Debug, Clone)]
pub(crate) struct ControlsSpec {
    /// `--rules`: thresholds, severities and disabled controls to apply.
    pub(crate) rules: Option<PathBuf>,
    /// JSON instead of text.
    pub(crate) json: bool,
}

/// Runs `controls`: prints the catalogue (as text or JSON) with the rules file applied.
pub(crate) fn run(spec: &ControlsSpec) -> Result<Outcome> {
    let (pack, _) = super::load_rules(spec.rules.as_ref())?;
    let t = &pack.thresholds;
    if spec.json {
        let list: Vec<serde_json::Value> = CATALOG
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "title": t.fill(c.title),
                    "severity": pack.severity(c.id, c.severity).as_str(),
                    "enabled": pack.enabled(c.id),
                    "section": c.section,
                    "frameworks": { "cis_v1": c.cis_v1, "cis_v2": c.cis_v2 },
                    "scored": pack.benchmark.informational(c.cis_v1, c.cis_v2).is_none(),
                    "logic": t.fill(c.logic),
                    "evidence": c.evidence,
                    "rationale": c.rationale,
                    "remediation": t.fill(c.remediation),
                })
            })
            .collect();
        let thresholds: serde_json::Map<String, serde_json::Value> = t
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        let doc = serde_json::json!({
            "controls": list,
            "benchmark": pack.benchmark,
            "thresholds": thresholds,
            "security_center": "every Security Center check becomes one control sas.<ItemId> (DescribeRiskCheckResult) or sas.cspm.<CheckId> (ListCheckResult); a check both APIs report (same title and asset type) is one control citing both; items that duplicate a built-in control are cited by that control, not scored again",
            "score": aliaudit_core::rules::SCORE_FORMULA,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Benchmark scored: {} ({}; set it with --benchmark or `benchmark` in a rules file)",
            pack.benchmark.title(),
            pack.benchmark.as_str()
        )?;
        let mut section = None;
        for c in CATALOG {
            if section != Some(c.section) {
                section = Some(c.section);
                writeln!(out, "\n== {}\n", c.section.title())?;
            }
            let cis = match (c.cis_v1, c.cis_v2) {
                (Some(a), Some(b)) if a == b => format!("CIS v1.0.0 {a}, v2.0.0 {b}"),
                (Some(a), Some(b)) => format!("CIS v1.0.0 {a}, v2.0.0 {b}"),
                (Some(a), None) => format!("CIS v1.0.0 {a} (not in v2.0.0 in this form)"),
                (None, Some(b)) => format!("CIS v2.0.0 {b} (v1.0.0 asks otherwise)"),
                (None, None) => "not a CIS recommendation".to_string(),
            };
            let enabled = if !pack.enabled(c.id) {
                "  (disabled)".to_string()
            } else if let Some(other) = pack.benchmark.informational(c.cis_v1, c.cis_v2) {
                format!(
                    "  (informational: CIS {}, not scored with {})",
                    other.version(),
                    pack.benchmark.as_str()
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "{}  [{}]  {cis}{enabled}\n  {}\n  logic:       {}\n  evidence:    {}\n  remediation: {}\n",
                c.id,
                pack.severity(c.id, c.severity).as_str(),
                t.fill(c.title),
                t.fill(c.logic),
                c.evidence,
                t.fill(c.remediation)
            )?;
        }
        writeln!(
            out,
            "== Security Center checks\n\n  Every check item becomes a control sas.<ItemId> (DescribeRiskCheckResult) or\n  sas.cspm.<CheckId> (ListCheckResult) with the vendor's title and risk level: pass -> pass,\n  failed -> fail, ignored/falsePositive -> excepted (vendor), running/waiting -> not evaluable,\n  StartStatus disabled -> not evaluable (not covered by the edition). A check that both APIs\n  report (the same title, in either language, and asset type) is one control citing both\n  files. Items that duplicate a built-in control (3, 15, 49, 25, matched on id and title)\n  are cited as that control's source and not scored again.\n\n== Thresholds (override in a rules file under [thresholds])\n"
        )?;
        for (k, v) in t.entries() {
            writeln!(out, "  {k:<28} {v}")?;
        }
        writeln!(
            out,
            "\n== Score\n\n  {}",
            aliaudit_core::rules::SCORE_FORMULA
        )?;
    }
    Ok(Outcome::Complete)
}
