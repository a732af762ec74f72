//! Ingest helpers: serde adapters for the loose typing of saved API responses.
//!
//! The same field arrives as a number, a string holding a number, or (from XML) text; a list
//! arrives as an array or as one bare object. These adapters accept every such spelling and
//! nothing else; they never guess a value that is not there.

use std::marker::PhantomData;

use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

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

/// Scalars as the APIs spell them: number, numeric string, boolean, text, or nothing.
/// Read without building an intermediate `Value`, because these fields are everywhere.
#[derive(Debug)]
enum Scalar {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Null,
    Other(&'static str),
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number, text or a boolean")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Other("an object"))
    }
}

fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
    deserializer.deserialize_any(ScalarVisitor)
}

/// An optional integer given as a number or as a string of digits.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match scalar(deserializer)? {
        Scalar::Null => Ok(None),
        Scalar::Int(n) => Ok(Some(n)),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(Some(f as i64)),
        Scalar::Float(f) => Err(de::Error::custom(format!(
            "expected a whole number, found {f}"
        ))),
        Scalar::Text(s) if s.trim().is_empty() => Ok(None),
        Scalar::Text(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a whole number, found \"{s}\""))),
        Scalar::Bool(_) => Err(de::Error::custom(
            "expected a whole number, found a boolean",
        )),
        Scalar::Other(what) => Err(de::Error::custom(format!(
            "expected a whole number, found {what}"
        ))),
    }
}

/// A required integer given as a number or as a string of digits.
pub(crate) fn req_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    opt_i64(deserializer)?.ok_or_else(|| de::Error::custom("expected a whole number, found null"))
}

/// An optional boolean given as `true`/`false` or as the strings `"true"`/`"false"`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    match scalar(deserializer)? {
        Scalar::Null => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(de::Error::custom(format!(
                "expected true or false, found \"{s}\""
            ))),
        },
        Scalar::Int(_) | Scalar::Float(_) => {
            Err(de::Error::custom("expected true or false, found a number"))
        }
        Scalar::Other(what) => Err(de::Error::custom(format!(
            "expected true or false, found {what}"
        ))),
    }
}

/// An optional string; numbers are accepted and kept as their decimal text.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match scalar(deserializer)? {
        Scalar::Null => Ok(None),
        Scalar::Text(s) => Ok(Some(s)),
        Scalar::Int(n) => Ok(Some(n.to_string())),
        Scalar::Float(f) => Ok(Some(f.to_string())),
        Scalar::Bool(_) => Err(de::Error::custom("expected text, found a boolean")),
        Scalar::Other(what) => Err(de::Error::custom(format!("expected text, found {what}"))),
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
