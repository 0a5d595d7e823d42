//! Reading a loss's options from its JSON config, with the checks and error wording
//! every loss shares: unknown keys, wrong types and out-of-range values are named.

use crate::error::{Error, Result};
use crate::json::{Map, Value};

pub struct Config {
    pub op: &'static str,
    map: Map,
    /// A key every user of this config accepts on top of its own (losses: "reduction").
    shared: Option<&'static str>,
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

impl Config {
    /// Parses `json` (an object, or empty for all defaults) for loss `op`.
    pub fn parse(op: &'static str, json: &str) -> Result<Config> {
        if json.trim().is_empty() {
            return Ok(Config {
                op,
                map: Map::new(),
                shared: None,
            });
        }
        match crate::json::parse(json) {
            Ok(Value::Object(map)) => Ok(Config {
                op,
                map,
                shared: None,
            }),
            Ok(other) => Err(Error::invalid(
                op,
                "config",
                "an object of options",
                show(&other),
            )),
            Err(e) => Err(Error::invalid(
                op,
                "config",
                "an object of options (JSON)",
                format!("unparsable JSON ({e})"),
            )),
        }
    }

    /// A nested object (e.g. a schedule) as its own config.
    pub fn from_value(op: &'static str, v: &Value) -> Result<Config> {
        match v {
            Value::Object(map) => Ok(Config {
                op,
                map: map.clone(),
                shared: None,
            }),
            other => Err(Error::invalid(
                op,
                "config",
                "an object of options",
                show(other),
            )),
        }
    }

    /// Whether `key` is given as an explicit `null` (distinct from leaving it out).
    pub fn is_null(&self, key: &str) -> bool {
        matches!(self.map.get(key), Some(Value::Null))
    }

    /// The raw value of `key`, if present and not null.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }

    /// Also accepts `key` in `check_keys` (the loss catalogue adds "reduction", which
    /// every loss takes and the shared reduction reads).
    pub fn sharing(mut self, key: &'static str) -> Config {
        self.shared = Some(key);
        self
    }

    /// Fails on any key outside `known` (and the shared one, if any).
    pub fn check_keys(&self, known: &[&str]) -> Result<()> {
        for key in self.map.keys() {
            if Some(key.as_str()) != self.shared && !known.contains(&key.as_str()) {
                let mut allowed: Vec<&str> = known.to_vec();
                allowed.extend(self.shared);
                return Err(Error::invalid(
                    self.op,
                    "config",
                    format!("options among {}", allowed.join(", ")),
                    format!("unknown option `{key}`"),
                ));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn f64(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(x)) => Ok(*x),
            Some(v) => Err(Error::invalid(self.op, key, "a number", show(v))),
        }
    }

    /// A number satisfying `ok`, described as `expected` in the error.
    pub fn f64_where(
        &self,
        key: &str,
        default: f64,
        expected: &str,
        ok: impl Fn(f64) -> bool,
    ) -> Result<f64> {
        let v = self.f64(key, default)?;
        if !ok(v) {
            return Err(Error::invalid(self.op, key, expected, format!("{v}")));
        }
        Ok(v)
    }

    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(Error::invalid(self.op, key, "true or false", show(v))),
        }
    }

    pub fn int(&self, key: &str, default: i64) -> Result<i64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| Error::invalid(self.op, key, "an integer", show(v))),
        }
    }

    /// One of `allowed` (strings).
    pub fn choice(
        &self,
        key: &str,
        default: &'static str,
        allowed: &[&'static str],
    ) -> Result<&'static str> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::String(s)) => allowed.iter().find(|a| **a == s).copied().ok_or_else(|| {
                let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                Error::invalid(
                    self.op,
                    key,
                    format!("one of {}", list.join(", ")),
                    format!("\"{s}\""),
                )
            }),
            Some(v) => Err(Error::invalid(self.op, key, "a string", show(v))),
        }
    }

    /// A number or a list of numbers (per-class weights), if given.
    pub fn f32_list(&self, key: &str) -> Result<Option<Vec<f32>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(x)) => Ok(Some(vec![*x as f32])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_f64().map(|x| x as f32).ok_or_else(|| {
                        Error::invalid(self.op, key, "a number or a list of numbers", show(v))
                    })
                })
                .collect::<Result<Vec<f32>>>()
                .map(Some),
            Some(v) => Err(Error::invalid(
                self.op,
                key,
                "a number or a list of numbers",
                show(v),
            )),
        }
    }
}
