//! Walks a parsed YAML/JSON document while tracking the field path, so that
//! every error names where it is. Unknown fields are errors; reading goes on
//! after an error so that one pass reports everything.

use super::errors::ConfigErrors;
use serde_json::{Map, Value};

/// A value at a known path.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    pub path: &'a str,
    pub value: &'a Value,
}

/// Child paths are built as owned strings; `Field` keeps one alive.
pub struct Field {
    pub path: String,
    pub value: Value,
}

pub fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

pub fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// Describes a JSON value for error messages, without echoing long content.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("{n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        Value::String(_) => "a long text".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// A mapping whose keys were checked against the allowed set.
pub struct Obj<'a> {
    pub path: &'a str,
    pub map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    /// Reads `node` as a mapping, reporting unknown keys (with the allowed ones).
    pub fn new(node: Node<'a>, allowed: &[&str], errs: &mut ConfigErrors) -> Option<Self> {
        let Value::Object(map) = node.value else {
            errs.push(
                node.path,
                format!("expected a mapping, found {}", describe(node.value)),
            );
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                errs.push(
                    child_path(node.path, key),
                    format!("unknown field (expected one of: {})", allowed.join(", ")),
                );
            }
        }
        Some(Self {
            path: node.path,
            map,
        })
    }

    pub fn get(&self, key: &str) -> Option<Field> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Field {
                path: child_path(self.path, key),
                value: v.clone(),
            }),
        }
    }

    /// A required field; reports it as missing when absent.
    pub fn req(&self, key: &str, errs: &mut ConfigErrors) -> Option<Field> {
        let f = self.get(key);
        if f.is_none() {
            errs.push(child_path(self.path, key), "is required");
        }
        f
    }
}

impl Field {
    pub fn node(&self) -> Node<'_> {
        Node {
            path: &self.path,
            value: &self.value,
        }
    }

    pub fn str(&self, errs: &mut ConfigErrors) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            other => {
                errs.push(
                    &self.path,
                    format!("expected text, found {}", describe(other)),
                );
                None
            }
        }
    }

    /// A text that must not be blank, trimmed.
    pub fn non_empty_str(&self, errs: &mut ConfigErrors) -> Option<String> {
        let s = self.str(errs)?;
        let t = s.trim();
        if t.is_empty() {
            errs.push(&self.path, "must not be empty");
            return None;
        }
        Some(t.to_string())
    }

    pub fn int(&self, errs: &mut ConfigErrors) -> Option<i64> {
        match &self.value {
            Value::Number(n) if n.is_i64() => n.as_i64(),
            other => {
                errs.push(
                    &self.path,
                    format!("expected a whole number, found {}", describe(other)),
                );
                None
            }
        }
    }

    pub fn float(&self, errs: &mut ConfigErrors) -> Option<f64> {
        match &self.value {
            Value::Number(n) => n.as_f64(),
            other => {
                errs.push(
                    &self.path,
                    format!("expected a number, found {}", describe(other)),
                );
                None
            }
        }
    }

    pub fn bool(&self, errs: &mut ConfigErrors) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            other => {
                errs.push(
                    &self.path,
                    format!("expected true or false, found {}", describe(other)),
                );
                None
            }
        }
    }

    /// The items of a list, each with its own path.
    pub fn list(&self, errs: &mut ConfigErrors) -> Option<Vec<Field>> {
        match &self.value {
            Value::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Field {
                        path: index_path(&self.path, i),
                        value: v.clone(),
                    })
                    .collect(),
            ),
            other => {
                errs.push(
                    &self.path,
                    format!("expected a list, found {}", describe(other)),
                );
                None
            }
        }
    }

    pub fn obj<'s>(&'s self, allowed: &[&str], errs: &mut ConfigErrors) -> Option<Obj<'s>> {
        Obj::new(self.node(), allowed, errs)
    }
}
