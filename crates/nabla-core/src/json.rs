//! The little JSON nabla needs (configs, summaries, saved models' headers): a `Value`
//! with insertion-ordered objects, `parse`, compact writing through `Display`, and the
//! `json!` macro. In-house: serde_json cost the .wasm 30 KB.
//!
//! Numbers are f64, as in JavaScript: they are written in their shortest round-trip
//! form, integers without a fraction ("3", where serde_json wrote "3.0" for a float)
//! and non-finite ones as `null`. Object keys are kept as given, duplicates included;
//! lookups take the last, as `JSON.parse` and Python's `json` do.

use std::fmt::{self, Write};
use std::ops::{Index, IndexMut};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON object: its members in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(pub(crate) Vec<(String, Value)>);

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.0.iter().rposition(|(k, _)| k == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(|i| &mut self.0[i].1)
    }

    /// Sets `key`, in its place if present, else at the end.
    pub fn insert(&mut self, key: String, v: Value) {
        match self.get_mut(&key) {
            Some(old) => *old = v,
            None => self.0.push((key, v)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|i| self.0.remove(i).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// `x` if it is a whole number of magnitude below `max`.
fn int(x: f64, max: f64) -> Option<f64> {
    (x.fract() == 0.0 && x.abs() < max).then_some(x)
}

impl Value {
    /// The member `key` of an object (`None` for anything else).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    /// The number if it is an integer in i64's range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_f64()
            .and_then(|x| int(x, i64::MAX as f64))
            .map(|x| x as i64)
    }

    /// The number if it is an integer ≥ 0 in u64's range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_f64()
            .filter(|x| *x >= 0.0)
            .and_then(|x| int(x, u64::MAX as f64))
            .map(|x| x as u64)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

static NULL: Value = Value::Null;

/// `v["key"]`: the member, or null when absent or when `v` is not an object.
impl Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

/// `v[i]`: the element, or null when absent or when `v` is not an array.
impl Index<usize> for Value {
    type Output = Value;
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

/// `v["key"] = x` sets the member, adding it if absent. Panics unless `v` is an object.
impl IndexMut<&str> for Value {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        &mut self.as_object_mut().expect("an object to index with a key")[key]
    }
}

impl Index<&str> for Map {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl IndexMut<&str> for Map {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        let i = self.position(key).unwrap_or_else(|| {
            self.0.push((key.to_string(), Value::Null));
            self.0.len() - 1
        });
        &mut self.0[i].1
    }
}

/// `v[i] = x` sets element i. Panics unless `v` is an array with an element i.
impl IndexMut<usize> for Value {
    fn index_mut(&mut self, i: usize) -> &mut Value {
        match self {
            Value::Array(a) => &mut a[i],
            _ => panic!("an array to index with a number"),
        }
    }
}

// Conversions, for `json!` and `Value::from`.

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::Number(x as f64)
            }
        }
    )*};
}
from_number!(f64, f32, i32, i64, u32, u64, usize);

macro_rules! from {
    ($($t:ty: $x:ident => $v:expr),*) => {$(
        impl From<$t> for Value {
            fn from($x: $t) -> Value {
                $v
            }
        }
    )*};
}
from!(
    bool: b => Value::Bool(b),
    &str: s => Value::String(s.to_string()),
    String: s => Value::String(s),
    &String: s => Value::String(s.clone())
);

/// `v == true`, `v == 3`, `v == "relu"`, as with serde_json.
macro_rules! eq {
    ($($t:ty: $as:ident),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                self.$as() == Some((*other).into())
            }
        }
    )*};
}
eq!(bool: as_bool, i32: as_f64, &str: as_str);

/// `None` is null.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>, const N: usize> From<[T; N]> for Value {
    fn from(v: [T; N]) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Clone + Into<Value>> From<&[T]> for Value {
    fn from(v: &[T]) -> Value {
        Value::Array(v.iter().cloned().map(Into::into).collect())
    }
}

impl<T: Clone + Into<Value>> From<&Vec<T>> for Value {
    fn from(v: &Vec<T>) -> Value {
        v.as_slice().into()
    }
}

/// A `Value` written like serde_json's, with the literal syntax of JSON, every other
/// value an expression converted by `Value::from`:
/// `json!({ "units": self.units, "shape": [2, n], "bias": null })`.
macro_rules! json {
    (null) => { $crate::json::Value::Null };
    ([ $($tt:tt)* ]) => { $crate::json::Value::Array($crate::json::json!(@array [] $($tt)*)) };
    ({ $($tt:tt)* }) => { $crate::json::Value::Object($crate::json::json!(@object [] $($tt)*)) };
    ($e:expr) => { $crate::json::Value::from($e) };

    // Munchers: a value is one token tree (null, a literal, a name, a nested [..] or
    // {..}) or else an expression, up to the next comma.
    (@array [$($done:expr,)*]) => { vec![$($done),*] };
    (@array [$($done:expr,)*] $v:tt $(, $($rest:tt)*)?) => {
        $crate::json::json!(@array [$($done,)* $crate::json::json!($v),] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] $v:expr $(, $($rest:tt)*)?) => {
        $crate::json::json!(@array [$($done,)* $crate::json::json!($v),] $($($rest)*)?)
    };
    (@object [$($done:expr,)*]) => { $crate::json::Map(vec![$($done),*]) };
    (@object [$($done:expr,)*] $k:literal : $v:tt $(, $($rest:tt)*)?) => {
        $crate::json::json!(@object [$($done,)* (String::from($k), $crate::json::json!($v)),] $($($rest)*)?)
    };
    (@object [$($done:expr,)*] $k:literal : $v:expr $(, $($rest:tt)*)?) => {
        $crate::json::json!(@object [$($done,)* (String::from($k), $crate::json::json!($v)),] $($($rest)*)?)
    };
}
pub(crate) use json;

// Writing: compact, in order, as serde_json wrote it.

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(x) => number(f, *x),
            Value::String(s) => string(f, s),
            Value::Array(a) => {
                f.write_char('[')?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    v.fmt(f)?;
                }
                f.write_char(']')
            }
            Value::Object(m) => {
                f.write_char('{')?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    string(f, k)?;
                    f.write_char(':')?;
                    v.fmt(f)?;
                }
                f.write_char('}')
            }
        }
    }
}

/// The shortest digits that read back to `x`: positional from 1e-5 to 1e16, else with
/// an exponent ("1e-7", "1.5e+21"), as serde_json wrote them.
fn number(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    let a = x.abs();
    if !x.is_finite() {
        f.write_str("null")
    } else if x == 0.0 && x.is_sign_negative() {
        // Not "-0": Python reads that as the integer 0.
        f.write_str("-0.0")
    } else if a >= 1e16 {
        f.write_str(&format!("{x:e}").replacen('e', "e+", 1))
    } else if a < 1e-5 && a != 0.0 {
        write!(f, "{x:e}")
    } else {
        write!(f, "{x}")
    }
}

fn string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        f.write_str(&s[start..i])?;
        match escape {
            "" => write!(f, "\\u{b:04x}")?,
            e => f.write_str(e)?,
        }
        start = i + 1;
    }
    f.write_str(&s[start..])?;
    f.write_char('"')
}

// Reading.

/// Deeper nesting is refused, so that hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Why and where `parse` stopped, e.g. "expected `,` or `]` at line 1 column 4".
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    what: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.what, self.line, self.column
        )
    }
}

/// Reads one JSON value (RFC 8259), surrounded by whitespace only.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser { text, at: 0 };
    let v = p.value(0).and_then(|v| match p.skip_ws() {
        None => Ok(v),
        Some(_) => Err("trailing characters"),
    });
    v.map_err(|what| {
        // 1-based, in bytes, at the character that stopped the parser.
        let before = &text.as_bytes()[..p.at.min(text.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        ParseError {
            what,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: 1 + before.len() - line_start,
        }
    })
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

type Step<T> = Result<T, &'static str>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips whitespace; the next byte, if any.
    fn skip_ws(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
        self.peek()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += hit as usize;
        hit
    }

    fn value(&mut self, depth: usize) -> Step<Value> {
        if depth > MAX_DEPTH {
            return Err("nesting deeper than 128 levels");
        }
        match self.skip_ws() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                if self.skip_ws() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    match self.skip_ws() {
                        Some(b',') => self.at += 1,
                        Some(b']') => break,
                        _ => return Err("expected `,` or `]`"),
                    }
                }
                self.at += 1;
                Ok(Value::Array(items))
            }
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                if self.skip_ws() == Some(b'}') {
                    self.at += 1;
                    return Ok(Value::Object(Map(members)));
                }
                loop {
                    if self.skip_ws() != Some(b'"') {
                        return Err("expected a string key");
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if !self.eat(b':') {
                        return Err("expected `:`");
                    }
                    members.push((key, self.value(depth + 1)?));
                    match self.skip_ws() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => break,
                        _ => return Err("expected `,` or `}`"),
                    }
                }
                self.at += 1;
                Ok(Value::Object(Map(members)))
            }
            _ => {
                let words = [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ];
                let (word, v) = words
                    .into_iter()
                    .find(|(w, _)| self.text[self.at..].starts_with(w))
                    .ok_or("expected a value")?;
                self.at += word.len();
                Ok(v)
            }
        }
    }

    /// A string, the parser on its opening quote.
    fn string(&mut self) -> Step<String> {
        self.at += 1;
        let mut out = String::new();
        let mut start = self.at;
        loop {
            let Some(b) = self.peek() else {
                return Err("unterminated string");
            };
            match b {
                b'"' | b'\\' => {
                    out.push_str(&self.text[start..self.at]);
                    self.at += 1;
                    if b == b'"' {
                        return Ok(out);
                    }
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode()?,
                        _ => return Err("invalid escape"),
                    };
                    out.push(c);
                    self.at += 1;
                    start = self.at;
                }
                0..=0x1f => return Err("control character in a string (escape it)"),
                _ => self.at += 1,
            }
        }
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, the parser on the `u`; leaves it on
    /// the last hex digit.
    fn unicode(&mut self) -> Step<char> {
        let hex = |p: &mut Parser| -> Step<u32> {
            let digits = p.text.get(p.at + 1..p.at + 5).ok_or("invalid \\u escape")?;
            let code = digits
                .chars()
                .try_fold(0, |n, c| Some(n * 16 + c.to_digit(16)?));
            let code = code.ok_or("invalid \\u escape")?;
            p.at += 4;
            Ok(code)
        };
        let hi = hex(self)?;
        let code = match hi {
            0xd800..=0xdbff => {
                if !self.text[self.at + 1..].starts_with("\\u") {
                    return Err("unpaired surrogate in \\u escape");
                }
                self.at += 2;
                match hex(self)? {
                    lo @ 0xdc00..=0xdfff => 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00),
                    _ => return Err("unpaired surrogate in \\u escape"),
                }
            }
            0xdc00..=0xdfff => return Err("unpaired surrogate in \\u escape"),
            c => c,
        };
        char::from_u32(code).ok_or("invalid \\u escape")
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, read by Rust's correctly rounded
    /// `f64` parser.
    fn number(&mut self) -> Step<Value> {
        let start = self.at;
        let digits = |p: &mut Parser| {
            let from = p.at;
            while let Some(b'0'..=b'9') = p.peek() {
                p.at += 1;
            }
            p.at > from
        };
        self.eat(b'-');
        if !self.eat(b'0') && !digits(self) {
            return Err("invalid number");
        }
        if self.eat(b'.') && !digits(self) {
            return Err("invalid number");
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if !digits(self) {
                return Err("invalid number");
            }
        }
        match self.text[start..self.at].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Number(x)),
            _ => Err("number out of range"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let v = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(v.to_string(), text);
        assert_eq!(parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn round_trips_compact_json_in_order() {
        round_trip(r#"{"z":1,"a":[true,false,null],"m":{"":"","k":[[],{}]}}"#);
        round_trip(r#"[-1,0,1,0.5,-2.25,"x"]"#);
        let v = parse(" {\n\t\"b\" : 1 ,\r\n \"a\":2 } ").unwrap();
        assert_eq!(v.to_string(), r#"{"b":1,"a":2}"#);
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["b", "a"]
        );
    }

    #[test]
    fn numbers_read_back_bit_for_bit() {
        for (x, text) in [
            (0.1, "0.1"),
            (1e-15, "1e-15"),
            (1e-5, "0.00001"),
            (1.5e-7, "1.5e-7"),
            (1e21, "1e+21"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000"),
            (9007199254740992.0, "9007199254740992"),
            (-9007199254740991.0, "-9007199254740991"),
            (1.0, "1"),
            (-0.0, "-0.0"),
            (0.30000000000000004, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.99f32 as f64, "0.9900000095367432"),
        ] {
            let v = Value::from(x);
            assert_eq!(v.to_string(), text);
            let back = parse(text).unwrap().as_f64().unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{text}");
        }
        assert_eq!(parse("1E2").unwrap(), Value::Number(100.0));
        assert_eq!(parse("-1.25e-2").unwrap(), Value::Number(-0.0125));
        assert_eq!(Value::from(f64::NAN).to_string(), "null");
        assert_eq!(Value::from(f64::NEG_INFINITY).to_string(), "null");
    }

    #[test]
    fn integer_accessors_take_whole_numbers_only() {
        assert_eq!(Value::from(3usize).as_u64(), Some(3));
        assert_eq!(Value::from(-3).as_i64(), Some(-3));
        assert_eq!(Value::from(-3).as_u64(), None);
        assert_eq!(Value::from(2.5).as_i64(), None);
        assert_eq!(Value::from(u64::MAX).as_u64(), None);
        assert_eq!(Value::from(1e300).as_i64(), None);
        assert_eq!(Value::from("3").as_u64(), None);
    }

    #[test]
    fn strings_escape_and_unescape() {
        let s = "q\"b\\s/n\nt\tr\rb\u{8}f\u{c}\u{1}\u{1f}\u{7f}é😀";
        let text = Value::from(s).to_string();
        assert_eq!(
            text,
            "\"q\\\"b\\\\s/n\\nt\\tr\\rb\\bf\\f\\u0001\\u001f\u{7f}é😀\""
        );
        assert_eq!(parse(&text).unwrap().as_str(), Some(s));
        let escaped = r#""\u00e9\u20AC\ud83d\ude00\/\b""#;
        assert_eq!(parse(escaped).unwrap().as_str(), Some("é€😀/\u{8}"));
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(err("[1,]"), "expected a value at line 1 column 4");
        assert_eq!(
            err(r#"{"a":1,}"#),
            "expected a string key at line 1 column 8"
        );
        assert_eq!(err("\"abc"), "unterminated string at line 1 column 5");
        assert_eq!(err(r#""\x""#), "invalid escape at line 1 column 3");
        assert_eq!(err(r#""\u12G4""#), "invalid \\u escape at line 1 column 3");
        assert_eq!(
            err(r#""\ud800x""#),
            "unpaired surrogate in \\u escape at line 1 column 7"
        );
        assert_eq!(
            err(r#""\udc00""#),
            "unpaired surrogate in \\u escape at line 1 column 7"
        );
        assert_eq!(
            err("\"a\nb\""),
            "control character in a string (escape it) at line 1 column 3"
        );
        assert_eq!(
            err("{\"a\":1}\n x"),
            "trailing characters at line 2 column 2"
        );
        assert_eq!(err("[1 2]"), "expected `,` or `]` at line 1 column 4");
        assert_eq!(err(r#"{"a" 1}"#), "expected `:` at line 1 column 6");
        assert_eq!(err("01"), "trailing characters at line 1 column 2");
        assert_eq!(err("-"), "invalid number at line 1 column 2");
        assert_eq!(err("1."), "invalid number at line 1 column 3");
        assert_eq!(err("1e400"), "number out of range at line 1 column 6");
        assert_eq!(err("nul"), "expected a value at line 1 column 1");
        assert_eq!(err(""), "expected a value at line 1 column 1");
        assert_eq!(err("NaN"), "expected a value at line 1 column 1");
    }

    #[test]
    fn nesting_is_limited() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(100_000);
        assert_eq!(
            parse(&deep).unwrap_err().what,
            "nesting deeper than 128 levels"
        );
    }

    #[test]
    fn duplicate_keys_read_as_the_last() {
        let v = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v["a"], Value::Number(3.0));
        assert_eq!(v.to_string(), r#"{"a":1,"b":2,"a":3}"#);
    }

    #[test]
    fn the_macro_builds_nested_values() {
        let n = 2usize;
        let (name, yes) = (String::from("w"), true);
        let v = json!({
            "shape": [n, 3],
            "name": &name,
            "none": null,
            "opt": Option::<u32>::None,
            "nested": { "list": [[1], {}], "neg": -(n as i64) },
            "flag": !yes,
        });
        assert_eq!(
            v.to_string(),
            r#"{"shape":[2,3],"name":"w","none":null,"opt":null,"nested":{"list":[[1],{}],"neg":-2},"flag":false}"#
        );
        assert_eq!(v["nested"]["list"][0][0], json!(1));
        assert!(v["missing"][7].is_null());
    }
}
