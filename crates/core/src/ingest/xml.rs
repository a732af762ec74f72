//! Ingest stage: turns a saved XML response into the same JSON tree the JSON responses give,
//! so one set of wire types and one detector serve both formats.
//!
//! Elements with child elements become objects, repeated child names become arrays, leaf
//! elements become text. Attributes carry no data in these APIs and are dropped.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Where and why an XML document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in bytes) of the problem.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Elements nest no deeper than this; deeper input is rejected rather than risking the stack.
const MAX_DEPTH: usize = 128;

struct Frame {
    name: String,
    children: Map<String, Value>,
    text: String,
}

/// Parses `text` and returns the root element's name and its content as a JSON value.
pub fn to_value(text: &str) -> Result<(String, Value), XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let at = |offset: u64, message: String| {
        let (line, column) = crate::diag::line_col(text, offset as usize);
        XmlError {
            line,
            column,
            message,
        }
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| at(reader.error_position(), e.to_string()))?;
        let position = reader.buffer_position();
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(at(position, "content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(at(
                        position,
                        format!("nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Frame {
                    name,
                    children: Map::new(),
                    text: String::new(),
                });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                match stack.last_mut() {
                    Some(parent) => {
                        insert(&mut parent.children, name, Value::String(String::new()))
                    }
                    None if root.is_none() => root = Some((name, Value::String(String::new()))),
                    None => return Err(at(position, "content after the root element".into())),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| at(position, e.to_string()))?;
                push_text(&mut stack, &s, root.is_some()).map_err(|m| at(position, m))?;
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| at(position, e.to_string()))?;
                push_text(&mut stack, &s, root.is_some()).map_err(|m| at(position, m))?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| at(position, e.to_string()))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| at(position, format!("unknown entity &{name};")))?
                            .to_string()
                    }
                    Err(e) => return Err(at(position, e.to_string())),
                };
                push_text(&mut stack, &resolved, root.is_some()).map_err(|m| at(position, m))?;
            }
            Event::End(_) => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| at(position, "closing tag without an opening tag".into()))?;
                let value = if frame.children.is_empty() {
                    Value::String(frame.text.trim().to_string())
                } else {
                    Value::Object(frame.children)
                };
                match stack.last_mut() {
                    Some(parent) => insert(&mut parent.children, frame.name, value),
                    None => root = Some((frame.name, value)),
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(at(
            text.len() as u64,
            format!("document ends inside <{}> (truncated?)", open.name),
        ));
    }
    root.ok_or_else(|| at(0, "no root element".into()))
}

fn push_text(stack: &mut [Frame], s: &str, after_root: bool) -> Result<(), String> {
    match stack.last_mut() {
        Some(frame) => {
            frame.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None if after_root => Err("text after the root element".into()),
        None => Err("text before the root element".into()),
    }
}

fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_elements_become_arrays_and_single_ones_objects() {
        let (root, value) = to_value(
            "<?xml version=\"1.0\"?><R><A>1</A><List><X>a</X></List><List><X>b &amp; c</X></List></R>",
        )
        .unwrap();
        assert_eq!(root, "R");
        assert_eq!(value["A"], "1");
        assert_eq!(value["List"][1]["X"], "b & c");
    }

    #[test]
    fn truncated_document_names_the_open_element() {
        let err = to_value("<R>\n<List><X>a</X>").unwrap_err();
        assert!(err.message.contains("<List>"), "{err}");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn mismatched_tags_are_an_error_with_position() {
        let err = to_value("<R>\n  <A>1</B>\n</R>").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }
}
