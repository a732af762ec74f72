//! Ingest helpers: serde adapters for the loose typing of saved API responses.
//!
//! The same field arrives as a number, a string holding a number, or (from XML) text; a list
//! arrives as an array or as one bare object. These adapters accept every such spelling and
//! nothing else; they never guess a value that is not there.

use std::marker::PhantomData;

use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A list that a response may spell as an array, a single object, or leave out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor (not an untagged enum) so that element errors keep their path.
        struct ListVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list or a single item")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| OneOrMany(vec![one]))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                // XML turns an empty list element into empty text.
                if s.trim().is_empty() {
                    return Ok(OneOrMany(Vec::new()));
                }
                T::deserialize(s.into_deserializer()).map(|one| OneOrMany(vec![one]))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                T::deserialize(n.into_deserializer()).map(|one| OneOrMany(vec![one]))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                T::deserialize(n.into_deserializer()).map(|one| OneOrMany(vec![one]))
            }

            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                T::deserialize(b.into_deserializer()).map(|one| OneOrMany(vec![one]))
            }
        }

        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// An optional integer given as a number or as a string of digits.
pub fn opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected a whole number, found {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a whole number, found \"{s}\""))),
        Some(other) => Err(de::Error::custom(format!(
            "expected a whole number, found {}",
            kind_of(&other)
        ))),
    }
}

/// A required integer given as a number or as a string of digits.
pub fn req_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    opt_i64(deserializer)?.ok_or_else(|| de::Error::custom("expected a whole number, found null"))
}

/// An optional boolean given as `true`/`false` or as the strings `"true"`/`"false"`.
pub fn opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(de::Error::custom(format!(
                "expected true or false, found \"{s}\""
            ))),
        },
        Some(other) => Err(de::Error::custom(format!(
            "expected true or false, found {}",
            kind_of(&other)
        ))),
    }
}

/// An optional string; numbers are accepted and kept as their decimal text.
pub fn opt_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(de::Error::custom(format!(
            "expected text, found {}",
            kind_of(&other)
        ))),
    }
}

/// Names a JSON value's type for error messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default)]
        list: OneOrMany<u8>,
    }

    fn probe(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_may_be_strings() {
        assert_eq!(probe(r#"{"n":"12"}"#).unwrap().n, Some(12));
        assert_eq!(probe(r#"{"n":12}"#).unwrap().n, Some(12));
        assert_eq!(probe(r#"{}"#).unwrap().n, None);
        assert!(probe(r#"{"n":"twelve"}"#).is_err());
        assert!(probe(r#"{"n":1.5}"#).is_err());
    }

    #[test]
    fn booleans_may_be_strings() {
        assert_eq!(probe(r#"{"b":"true"}"#).unwrap().b, Some(true));
        assert_eq!(probe(r#"{"b":false}"#).unwrap().b, Some(false));
        assert!(probe(r#"{"b":"maybe"}"#).is_err());
    }

    #[test]
    fn a_list_may_be_one_object() {
        assert_eq!(probe(r#"{"list":[1,2]}"#).unwrap().list.0, vec![1, 2]);
        assert_eq!(probe(r#"{"list":3}"#).unwrap().list.0, vec![3]);
        assert_eq!(probe(r#"{"list":null}"#).unwrap().list.0, Vec::<u8>::new());
        assert_eq!(probe(r#"{}"#).unwrap().list.0, Vec::<u8>::new());
    }
}
