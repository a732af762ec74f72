//! File stamps: a file a run depends on (a rules, exceptions or branding file, a baseline) as
//! it was named, with the SHA-256 of its bytes, so that a later step (`merge`, `deliver`) can
//! find it again and tell whether it changed.
//!
//! Data only; it reads no file. `manifest.json` and `shard.json` write a stamp as the
//! two-element array `["<path>", "<sha256>"]`, and it is read back from that form only.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A file as it was named, and the SHA-256 of its bytes when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// The path as given (on the command line, or as an earlier run recorded it).
    pub path: String,
    /// The lower-case hex SHA-256 of the bytes read.
    pub sha256: String,
}

impl FileStamp {
    /// The stamp as an output file shows it: see [`shown`].
    pub fn for_output(&self) -> FileStamp {
        FileStamp {
            path: shown(&self.path),
            sha256: self.sha256.clone(),
        }
    }
}

/// How an output names a file the user gave (a rules, exceptions or branding file): a
/// relative path as given, an absolute one by its file name only, so that no output holds a
/// path of the operator's machine. The SHA-256 beside it identifies the file.
pub fn shown(given: &str) -> String {
    let path = std::path::Path::new(given);
    if path.is_absolute() {
        path.file_name()
            .map(crate::diag::display_os)
            .unwrap_or_else(|| given.to_string())
    } else {
        given.to_string()
    }
}

/// `["<path>", "<sha256>"]`.
impl Serialize for FileStamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.path, &self.sha256).serialize(s)
    }
}

/// From `["<path>", "<sha256>"]`; anything else (another length, a non-string) is refused.
impl<'de> Deserialize<'de> for FileStamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FileStamp, D::Error> {
        let (path, sha256) = <(String, String)>::deserialize(d)?;
        Ok(FileStamp { path, sha256 })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_stamp_is_written_as_the_path_and_hash_pair_it_replaced() {
        let stamp = FileStamp {
            path: "rules/strict \"v2\".toml".into(),
            sha256: "9e1d06a1e0c869662da871e0ba50b92abe9f8a3cdb85da15c67b7ba5a66671d9".into(),
        };
        let pair = Some((stamp.path.clone(), stamp.sha256.clone()));
        let json = serde_json::to_string(&Some(&stamp)).unwrap();
        assert_eq!(json, serde_json::to_string(&pair).unwrap());
        assert_eq!(
            serde_json::to_string_pretty(&stamp).unwrap(),
            serde_json::to_string_pretty(&pair).unwrap()
        );
        assert_eq!(serde_json::from_str::<FileStamp>(&json).unwrap(), stamp);
        assert_eq!(serde_json::to_string(&None::<FileStamp>).unwrap(), "null");
    }

    #[test]
    fn outputs_name_an_absolute_file_by_its_name_and_keep_a_relative_one() {
        assert_eq!(shown("/home/alice/audit/rules.toml"), "rules.toml");
        assert_eq!(shown("config/rules.toml"), "config/rules.toml");
        assert_eq!(shown("../rules.toml"), "../rules.toml");
        let stamp = FileStamp {
            path: "/srv/x/branding.toml".into(),
            sha256: "ab".into(),
        };
        assert_eq!(stamp.for_output().path, "branding.toml");
        assert_eq!(stamp.for_output().sha256, "ab");
    }

    #[test]
    fn rejects_anything_but_a_pair_of_strings() {
        for bad in [
            r#"["a.toml"]"#,
            r#"["a.toml","00","x"]"#,
            r#"["a.toml",7]"#,
            r#"{"path":"a.toml","sha256":"00"}"#,
            r#""a.toml""#,
        ] {
            assert!(serde_json::from_str::<FileStamp>(bad).is_err(), "{bad}");
        }
    }
}
