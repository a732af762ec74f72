//! The known Security Center check items in English and Chinese (`data/sas-items.toml`), and
//! the matching rules built on them: normalised titles, the two Sas APIs' asset-type
//! vocabularies, and a check's title in the report language.
//!
//! A check is identified by its title, never by its id alone: ids differ between
//! `DescribeRiskCheckResult` and `ListCheckResult`, and `DescribeRiskCheckResult` ids changed
//! meaning over the years.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::i18n::{Catalogue, Lang};

/// The table, embedded.
const TABLE: &str = include_str!("../data/sas-items.toml");

/// One known check item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownItem {
    /// `ItemId` in the 2024 table (reference only: ids changed meaning).
    pub id: Option<i64>,
    /// The table's asset type.
    pub asset: String,
    /// English title.
    pub en: String,
    /// Where the English title comes from, when it is not the vendor's table.
    pub en_source: Option<String>,
    /// Chinese title.
    pub zh: String,
    /// `reference` (the vendor's words) or `ours` (our translation).
    pub zh_source: String,
    /// Other titles of the same check.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl KnownItem {
    /// The title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    item: Vec<KnownItem>,
}

struct Index {
    items: Vec<KnownItem>,
    /// Normalised title (English, Chinese or alias) to the item's index.
    by_title: BTreeMap<String, usize>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The table is ours and compiled in; a unit test parses it, so this cannot fail in a
        // tested build. Should it, no title is known and every title is shown as collected.
        let items = toml::from_str::<Table>(TABLE)
            .map(|t| t.item)
            .unwrap_or_default();
        let mut by_title = BTreeMap::new();
        for (n, item) in items.iter().enumerate() {
            for title in [&item.en, &item.zh].into_iter().chain(&item.aliases) {
                by_title.entry(normalise_title(title)).or_insert(n);
            }
        }
        Index { items, by_title }
    })
}

/// Every known item, in table order.
pub fn known_items() -> &'static [KnownItem] {
    &index().items
}

/// A title reduced to what identifies it: lower case, letters and digits only (so spaces,
/// hyphens, brackets and their full-width forms do not matter).
pub fn normalise_title(title: &str) -> String {
    title
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The known item a collected title names, in either language.
pub fn known(title: &str) -> Option<&'static KnownItem> {
    let index = index();
    index
        .by_title
        .get(&normalise_title(title))
        .map(|&n| &index.items[n])
}

/// An asset type in one vocabulary for both APIs: `DescribeRiskCheckResult` writes the
/// product (`RAM`, `SLB`, `Redis`), `ListCheckResult` its `InstanceType`, sometimes with an
/// `ACS_` prefix or another name for the same product (`CLB`, `KVSTORE`, `DDS`).
pub fn normalise_asset(asset: &str) -> String {
    let plain: String = asset
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let plain = plain.strip_prefix("acs").unwrap_or(&plain);
    let same = match plain {
        "clb" | "loadbalancer" | "alb" => "slb",
        "kvstore" | "tair" => "redis",
        "dds" => "mongodb",
        "acr" | "containerregistry" => "cr",
        "cms" => "cloudmonitor",
        "trail" => "actiontrail",
        "antiddos" | "ddoscoo" | "ddosbgp" => "ddos",
        "account" => "ram",
        "gpdb" | "adbpg" => "postgresql",
        "cas" | "certificate" => "ssl",
        other => other,
    };
    same.to_string()
}

/// Whether two collected titles name the same check: equal once normalised, or both titles
/// of the same known item (say its English and its Chinese title).
pub fn same_title(a: &str, b: &str) -> bool {
    normalise_title(a) == normalise_title(b)
        || matches!((known(a), known(b)), (Some(x), Some(y)) if std::ptr::eq(x, y))
}

/// Whether two asset types agree; a missing one agrees with anything.
pub fn same_asset(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => normalise_asset(a) == normalise_asset(b),
        _ => true,
    }
}

/// The language a title is written in: Chinese when it holds a CJK ideograph.
pub fn title_lang(title: &str) -> Lang {
    if title
        .chars()
        .any(|c| matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}'))
    {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// A collected check title in `c`'s language: a known item's title in that language; an
/// unknown title as collected, marked with its language when that is not `c`'s
/// (`sas.original_zh` / `sas.original_en`).
pub fn title_in(c: &Catalogue, collected: &str) -> String {
    if let Some(item) = known(collected) {
        return item.title(c.lang()).to_string();
    }
    match title_lang(collected) {
        lang if lang == c.lang() => collected.to_string(),
        Lang::Zh => c.f("sas.original_zh", &[("title", &collected)]),
        Lang::En => c.f("sas.original_en", &[("title", &collected)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_table_parses_and_every_title_names_one_item() {
        let items: Table = toml::from_str(TABLE).expect("data/sas-items.toml parses");
        assert_eq!(items.item.len(), known_items().len());
        assert!(known_items().len() >= 46);
        let mut seen = BTreeMap::new();
        for (n, item) in known_items().iter().enumerate() {
            assert!(matches!(item.zh_source.as_str(), "reference" | "ours"));
            assert_eq!(title_lang(&item.zh), Lang::Zh, "{}", item.zh);
            assert_eq!(title_lang(&item.en), Lang::En, "{}", item.en);
            for title in [&item.en, &item.zh].into_iter().chain(&item.aliases) {
                let previous = seen.insert(normalise_title(title), n);
                assert!(previous.is_none() || previous == Some(n), "{title} twice");
            }
        }
        // The reference's Chinese titles are marked as such.
        let reference: Vec<Option<i64>> = known_items()
            .iter()
            .filter(|i| i.zh_source == "reference" && i.id.is_some())
            .map(|i| i.id)
            .collect();
        assert_eq!(reference, [Some(1), Some(3), Some(13), Some(15), Some(49)]);
    }

    #[test]
    fn titles_are_found_in_either_language_and_shown_in_the_report_language() {
        let en = Catalogue::get(Lang::En);
        let zh = Catalogue::get(Lang::Zh);
        assert_eq!(title_in(en, "RAM-子账号双因素认证"), "RAM - RAM user MFA");
        assert_eq!(title_in(zh, "ram - ram user mfa"), "RAM-子账号双因素认证");
        assert_eq!(
            title_in(zh, "主账号安全－双因素认证"),
            "主账号安全-双因素认证"
        );
        assert_eq!(
            title_in(en, "云平台-主账号双因素认证配置检查"),
            "Alibaba Cloud account security - MFA"
        );
        assert_eq!(
            title_in(en, "某产品-未知检查"),
            "某产品-未知检查 (original Chinese title)"
        );
        assert_eq!(
            title_in(zh, "Some product - unknown check"),
            "Some product - unknown check（英文原标题）"
        );
        assert_eq!(
            title_in(en, "Some product - unknown check"),
            "Some product - unknown check"
        );
        assert_eq!(title_in(zh, "某产品-未知检查"), "某产品-未知检查");
    }

    #[test]
    fn asset_types_of_both_apis_meet() {
        assert!(same_asset(Some("SLB"), Some("ACS_CLB")));
        assert!(same_asset(Some("Redis"), Some("KVSTORE")));
        assert!(same_asset(Some("RAM"), Some("ram")));
        assert!(same_asset(None, Some("ECS")));
        assert!(!same_asset(Some("ECS"), Some("RDS")));
        assert!(same_title("OSS - bucket permissions", "OSS-Bucket权限"));
        assert!(same_title("Unknown  check", "unknown-check"));
        assert!(!same_title(
            "OSS - bucket permissions",
            "OSS - bucket hotlink protection"
        ));
    }

    proptest! {
        #[test]
        fn title_functions_never_panic_and_normalising_is_idempotent(s in "\\PC{0,40}") {
            let n = normalise_title(&s);
            prop_assert_eq!(normalise_title(&n), n.clone());
            let _ = normalise_asset(&s);
            let _ = title_in(Catalogue::get(Lang::Zh), &s);
            prop_assert!(same_title(&s, &s));
        }
    }
}
