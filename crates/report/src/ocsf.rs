//! `findings.ocsf.jsonl`: one OCSF Compliance Finding (class 2003, schema 1.3.0) per control
//! result per account, for a SIEM. Written account by account from the `summary.json`
//! fragments (this run's spill or the shards' files), so that a run and a merge of shards
//! write the same bytes; every object's keys are in sorted order.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Deserialize;
use serde_json::{Value, json};

use aliaudit_core::pipeline::Run;
use aliaudit_core::rules::{Benchmark, Thresholds};

use crate::output::{Fragments, OutputError};

/// The OCSF schema version the lines follow.
pub const SCHEMA_VERSION: &str = "1.3.0";
/// The cloud provider as the lines name it.
const PROVIDER: &str = "Alibaba Cloud";

/// One account's entry of `summary.json`, as far as a finding needs it.
#[derive(Debug, Deserialize)]
struct AccountIn {
    id: String,
    name: String,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    controls: Vec<ControlIn>,
}

#[derive(Debug, Deserialize)]
struct ControlIn {
    id: String,
    title: String,
    severity: String,
    status: String,
    #[serde(default)]
    frameworks: FrameworksIn,
    #[serde(default)]
    resources: Vec<ResourceIn>,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    sources: Vec<SourceIn>,
}

#[derive(Debug, Default, Deserialize)]
struct FrameworksIn {
    #[serde(default)]
    cis_v1: Option<String>,
    #[serde(default)]
    cis_v2: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResourceIn {
    id: String,
    status: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourceIn {
    file: String,
}

/// An accepted risk as a finding reports it.
#[derive(Debug, Clone)]
struct Accepted {
    owner: String,
    approved_by: String,
    expires: String,
    reason: String,
    line: usize,
}

/// What every line of a run shares.
struct Context<'a> {
    benchmark: Benchmark,
    /// The frameworks selected (`--framework`, `--framework-file`), in that order: the
    /// accounts' entries were written with them.
    frameworks: &'a [aliaudit_core::frameworks::Framework],
    time: i64,
    thresholds: &'a Thresholds,
    accepted: BTreeMap<(String, String), Accepted>,
    exceptions_file: Option<String>,
}

/// Writes `findings.ocsf.jsonl` for the run's accounts, in output order.
pub fn findings_ocsf(
    run: &Run,
    thresholds: &Thresholds,
    fragments: &dyn Fragments,
    w: &mut dyn Write,
) -> Result<(), OutputError> {
    let register = aliaudit_core::summary::exceptions_view(run).register;
    let mut accepted = BTreeMap::new();
    for entry in &register.active {
        for m in &entry.matches {
            accepted
                .entry((m.account.to_string(), m.control.to_string()))
                .or_insert_with(|| Accepted {
                    owner: entry.entry.owner.clone(),
                    approved_by: entry.entry.approved_by.clone(),
                    expires: entry.entry.expires.clone(),
                    reason: entry.entry.reason.clone(),
                    line: entry.line,
                });
        }
    }
    let cx = Context {
        benchmark: run.benchmark,
        frameworks: &run.frameworks,
        time: run.as_of.map_or(0, |t| t.timestamp_millis()),
        thresholds,
        accepted,
        exceptions_file: register.file.clone(),
    };
    let io = |e: std::io::Error| OutputError::Write {
        path: "findings.ocsf.jsonl".into(),
        source: e,
    };
    for folder in run.accounts.iter().map(|a| a.info.folder.as_str()) {
        let bytes = fragments.json(folder)?;
        let account: AccountIn =
            serde_json::from_slice(&bytes).map_err(|e| OutputError::Render {
                what: "findings.ocsf.jsonl",
                message: format!("the summary entry of {folder} does not read: {e}"),
            })?;
        for control in &account.controls {
            let line = finding(&cx, &account, control);
            serde_json::to_writer(&mut *w, &line).map_err(|e| io(e.into()))?;
            w.write_all(b"\n").map_err(io)?;
        }
    }
    Ok(())
}

/// The finding of one control result of `account`.
fn finding(cx: &Context, account: &AccountIn, c: &ControlIn) -> Value {
    let en = aliaudit_core::i18n::Catalogue::get(aliaudit_core::i18n::Lang::En);
    // The standard a result belongs to: the benchmark scored, or the other version for a
    // control of that version only (informational), or none for account best practice and
    // Security Center checks (aliaudit's own and the vendor's checks).
    let (standard, requirement) = match (
        c.frameworks.cis_v1.as_deref(),
        c.frameworks.cis_v2.as_deref(),
    ) {
        (_, Some(v2)) if cx.benchmark == Benchmark::CisV2 || c.informational.is_some() => {
            (Some(Benchmark::CisV2), Some(v2))
        }
        (Some(v1), _) => (Some(Benchmark::CisV1), Some(v1)),
        (None, Some(v2)) => (Some(Benchmark::CisV2), Some(v2)),
        (None, None) => (None, None),
    };
    let mut standards = vec![match standard {
        Some(b) => b.title(),
        None if c.id.starts_with("sas.") => "Alibaba Cloud Security Center checks".to_string(),
        None => "aliaudit account best practice".to_string(),
    }];
    let mut requirements: Vec<String> = requirement
        .map(|r| format!("CIS {r}"))
        .into_iter()
        .collect();
    // Every selected framework is named; the requirements this control evidences follow
    // as `<framework id> <requirement id>`, as findings.csv has them.
    standards.extend(cx.frameworks.iter().map(|f| f.name.clone()));
    requirements.extend(aliaudit_core::frameworks::requirement_refs(
        cx.frameworks,
        &c.id,
    ));
    let (compliance_status_id, compliance_status) = match c.status.as_str() {
        "pass" => (1, "Pass"),
        "fail" | "excepted" => (3, "Fail"),
        "not_applicable" => (99, "Not applicable"),
        _ => (0, "Unknown"),
    };
    let (severity_id, severity) = match c.severity.as_str() {
        "high" => (4, "High"),
        "medium" => (3, "Medium"),
        "low" => (2, "Low"),
        _ => (0, "Unknown"),
    };
    let accepted = (c.status == "excepted")
        .then(|| cx.accepted.get(&(account.id.clone(), c.id.clone())))
        .flatten();
    let (status_id, status) = match c.status == "excepted" {
        true => (3, "Suppressed"),
        false => (1, "New"),
    };
    let remediation = aliaudit_core::rules::control_text(en, &c.id, "remediation", cx.thresholds)
        .unwrap_or_else(|| en.f("exec.sas_what", &[("title", &c.title)]));
    let mut files: Vec<&str> = c
        .sources
        .iter()
        .map(|s| s.file.as_str())
        .chain(c.resources.iter().filter_map(|r| r.file.as_deref()))
        .collect();
    files.sort_unstable();
    files.dedup();
    let resources: Vec<Value> = c
        .resources
        .iter()
        .map(|r| {
            let mut data = json!({ "result": r.status, "detail": r.detail });
            if let Some(file) = &r.file {
                data["file"] = json!(file);
            }
            if let Some(field) = &r.field {
                data["place"] = json!(field);
            }
            let mut resource = json!({
                "data": data,
            });
            if r.id.is_empty() {
                // The evidence names no resource (a Security Center item with a count only):
                // the record that reports it stands for it.
                let place = [r.file.as_deref(), r.field.as_deref()];
                let place: Vec<&str> = place.into_iter().flatten().collect();
                resource["name"] = json!(format!("unnamed ({})", place.join(" ")));
            } else {
                resource["uid"] = json!(r.id);
                resource["name"] = json!(r.id);
            }
            resource
        })
        .collect();
    let mut compliance = json!({
        "control": c.id,
        "standards": standards,
        "status": compliance_status,
        "status_id": compliance_status_id,
        "status_code": c.status,
        "status_detail": c.detail,
    });
    if !requirements.is_empty() {
        compliance["requirements"] = json!(requirements);
    }
    let mut cloud_account =
        json!({ "uid": account.uid.as_deref().unwrap_or(&account.id), "name": account.name });
    if let Some(customer) = &account.customer {
        cloud_account["labels"] = json!([format!("customer:{customer}")]);
    }
    let mut line = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "time": cx.time,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "metadata": {
            "version": SCHEMA_VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": "aliaudit",
                "vendor_name": "aliaudit",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "cloud": { "provider": PROVIDER, "account": cloud_account },
        "finding_info": {
            "uid": fingerprint(&account.id, &c.id),
            "title": c.title,
            "desc": c.detail,
            "data_sources": files,
        },
        "compliance": compliance,
        "remediation": { "desc": remediation },
        "resources": resources,
    });
    if let Some(a) = accepted {
        let file = cx
            .exceptions_file
            .as_deref()
            .unwrap_or("the exceptions file");
        line["comment"] = json!(format!(
            "Accepted risk until {} (owner: {}; approved by: {}; reason: {}; {} line {})",
            a.expires, a.owner, a.approved_by, a.reason, file, a.line
        ));
        line["status_detail"] = json!(format!(
            "accepted risk, owner {}, expires {}",
            a.owner, a.expires
        ));
    }
    line
}

/// A finding's stable id: the fingerprint the trends match on (account id, control id, and
/// an empty resource id for a control's result), hashed so that any id is safe in a SIEM.
fn fingerprint(account: &str, control: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [account, control, ""] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("aliaudit-{}", &hex[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_stable_and_tells_accounts_and_controls_apart() {
        let a = fingerprint("1100", "ram.console_mfa");
        assert_eq!(a, fingerprint("1100", "ram.console_mfa"));
        assert_ne!(a, fingerprint("1100", "ram.console_mf"));
        assert_ne!(fingerprint("11", "00ram"), fingerprint("1100", "ram"));
        assert!(a.starts_with("aliaudit-") && a.len() == 9 + 32);
    }
}
