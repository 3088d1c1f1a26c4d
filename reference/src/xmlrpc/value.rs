//! XML-RPC values: the six scalar types and the two compound ones of the specification
//! (<http://xmlrpc.com/spec.md>, "Scalar values", "`<struct>`s", "`<array>`s"), read from a
//! parsed XML tree and written as text.
//!
//! ```text
//! <value><int>42</int></value>                 also <i4>42</i4>: a signed 32-bit integer
//! <value><double>-0.5</double></value>         a double-precision float, no NaN, no infinity
//! <value><boolean>1</boolean></value>          0 or 1
//! <value><string>a &amp; b</string></value>    also <value>a &amp; b</value>: no type is a string
//! <value><base64>aGk=</base64></value>         <dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>
//! <value><array><data><value>..</value>..</data></array></value>
//! <value><struct><member><name>x</name><value>..</value></member>..</struct></value>
//! ```
//!
//! What readers get wrong: an integer beyond 32 bits is not an XML-RPC `<int>` (Python's
//! `xmlrpc.client` refuses to send one: "int exceeds XML-RPC limits"); a `<value>` without
//! a type element is a string, its whitespace included; `&lt;` and `&amp;` in strings must
//! be escaped on the way out, or the other side reads broken XML.

use std::fmt::Write as _;

use base64::Engine as _;

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>` or `<i4>`: 32 bits, signed.
    Int(i32),
    /// `<double>`: finite.
    Double(f64),
    /// `<boolean>`: `0` or `1`.
    Bool(bool),
    /// `<string>`, or a `<value>` with no type element.
    String(String),
    /// `<base64>`: bytes.
    Base64(Vec<u8>),
    /// `<dateTime.iso8601>`: kept as written (`19980717T14:08:55`).
    DateTime(String),
    /// `<array>`: values of any types.
    Array(Vec<Value>),
    /// `<struct>`: named members, in the order they came.
    Struct(Vec<(String, Value)>),
}

impl Value {
    /// The type's name as a fault message says it (`int`, `string`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Double(_) => "double",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Base64(_) => "base64",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Array(_) => "array",
            Value::Struct(_) => "struct",
        }
    }

    /// The member `name` of a struct.
    pub fn member(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members
                .iter()
                .find(|(member, _)| member == name)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Appends `<value>...</value>` to `out`.
    pub fn write(&self, out: &mut String) {
        out.push_str("<value>");
        match self {
            Value::Int(number) => {
                let _ = write!(out, "<int>{number}</int>");
            }
            // `{:?}` writes the shortest text that reads back to the same double, and
            // always with a `.` or an exponent (`5.0`, `1e-7`), never `inf` for a finite one.
            Value::Double(number) => {
                let _ = write!(out, "<double>{number:?}</double>");
            }
            Value::Bool(truth) => {
                let _ = write!(out, "<boolean>{}</boolean>", u8::from(*truth));
            }
            Value::String(text) => {
                out.push_str("<string>");
                escape_into(text, out);
                out.push_str("</string>");
            }
            Value::Base64(bytes) => {
                out.push_str("<base64>");
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
                out.push_str("</base64>");
            }
            Value::DateTime(text) => {
                out.push_str("<dateTime.iso8601>");
                escape_into(text, out);
                out.push_str("</dateTime.iso8601>");
            }
            Value::Array(items) => {
                out.push_str("<array><data>");
                for item in items {
                    item.write(out);
                }
                out.push_str("</data></array>");
            }
            Value::Struct(members) => {
                out.push_str("<struct>");
                for (name, value) in members {
                    out.push_str("<member><name>");
                    escape_into(name, out);
                    out.push_str("</name>");
                    value.write(out);
                    out.push_str("</member>");
                }
                out.push_str("</struct>");
            }
        }
        out.push_str("</value>");
    }

    /// Reads a `<value>` element.
    pub fn read(node: roxmltree::Node<'_, '_>) -> Result<Value, String> {
        expect_name(node, "value")?;
        let mut typed = elements(node);
        let Some(inner) = typed.next() else {
            // No type element: a string, exactly as written (spec: "If no type is
            // indicated, the type is string").
            return Ok(Value::String(text_of(node)));
        };
        if typed.next().is_some() {
            return Err("a <value> holds one typed element".into());
        }
        let text = text_of(inner);
        match inner.tag_name().name() {
            "int" | "i4" => text.trim().parse::<i32>().map(Value::Int).map_err(|_| {
                format!(
                    "<{}>{}</{0}> is not a 32-bit integer",
                    inner.tag_name().name(),
                    text.trim()
                )
            }),
            "double" => match text.trim().parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(Value::Double(number)),
                _ => Err(format!(
                    "<double>{}</double> is not a finite number",
                    text.trim()
                )),
            },
            "boolean" => match text.trim() {
                "0" => Ok(Value::Bool(false)),
                "1" => Ok(Value::Bool(true)),
                other => Err(format!("<boolean>{other}</boolean> is neither 0 nor 1")),
            },
            "string" => Ok(Value::String(text)),
            "base64" => {
                let compact: String = text.split_ascii_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(Value::Base64)
                    .map_err(|error| format!("<base64> that is not base64: {error}"))
            }
            "dateTime.iso8601" => Ok(Value::DateTime(text.trim().to_owned())),
            "array" => {
                let data = only_child(inner, "data")?;
                elements(data)
                    .map(Value::read)
                    .collect::<Result<_, _>>()
                    .map(Value::Array)
            }
            "struct" => elements(inner)
                .map(|member| {
                    expect_name(member, "member")?;
                    let mut parts = elements(member);
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some(name), Some(value), None) => {
                            expect_name(name, "name")?;
                            Ok((text_of(name), Value::read(value)?))
                        }
                        _ => Err("a <member> holds a <name> and a <value>".to_owned()),
                    }
                })
                .collect::<Result<_, String>>()
                .map(Value::Struct),
            other => Err(format!("<{other}> is not an XML-RPC type")),
        }
    }
}

/// `text` with `&`, `<` and `>` escaped, appended to `out` (XML 1.0 §2.4), and CR as a
/// character reference: a parser reads a raw CR as LF (§2.11), `&#13;` as CR.
pub fn escape_into(text: &str, out: &mut String) {
    for character in text.chars() {
        match character {
            '\r' => out.push_str("&#13;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
}

/// The child elements of `node` (text between them, whitespace, comments are skipped).
pub fn elements<'a, 'input: 'a>(
    node: roxmltree::Node<'a, 'input>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    node.children().filter(roxmltree::Node::is_element)
}

/// The one child element of `node`, which must be named `name`.
pub fn only_child<'a, 'input: 'a>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Result<roxmltree::Node<'a, 'input>, String> {
    let mut children = elements(node);
    match (children.next(), children.next()) {
        (Some(child), None) => {
            expect_name(child, name)?;
            Ok(child)
        }
        _ => Err(format!(
            "<{}> must hold exactly one <{name}>",
            node.tag_name().name()
        )),
    }
}

/// An error unless `node` is the element `name`.
pub fn expect_name(node: roxmltree::Node<'_, '_>, name: &str) -> Result<(), String> {
    if node.tag_name().name() == name {
        Ok(())
    } else {
        Err(format!(
            "<{}> where <{name}> belongs",
            node.tag_name().name()
        ))
    }
}

/// All the text inside `node`, entities resolved (`a &amp; b` is `a & b`).
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|text| text.text())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<Value, String> {
        let document = roxmltree::Document::parse(xml).map_err(|error| error.to_string())?;
        Value::read(document.root_element())
    }

    fn round_trip(value: Value) {
        let mut text = String::new();
        value.write(&mut text);
        assert_eq!(read(&text), Ok(value), "{text}");
    }

    #[test]
    fn every_type_reads_back_what_was_written() {
        round_trip(Value::Int(-2_147_483_648));
        round_trip(Value::Double(0.1));
        round_trip(Value::Double(1e300));
        round_trip(Value::Bool(true));
        round_trip(Value::String("a & <b> \u{e9}\r\n".into()));
        round_trip(Value::Base64(vec![0, 255, 10]));
        round_trip(Value::DateTime("19980717T14:08:55".into()));
        round_trip(Value::Array(vec![Value::Int(1), Value::Array(vec![])]));
        round_trip(Value::Struct(vec![
            ("faultCode".into(), Value::Int(4)),
            ("faultString".into(), Value::String("x".into())),
        ]));
    }

    #[test]
    fn a_value_without_a_type_is_a_string_as_written() {
        assert_eq!(
            read("<value> hi </value>"),
            Ok(Value::String(" hi ".into()))
        );
        assert_eq!(read("<value><i4> 7 </i4></value>"), Ok(Value::Int(7)));
    }

    #[test]
    fn out_of_range_and_unknown_types_are_refused() {
        assert!(read("<value><int>4294967296</int></value>").is_err());
        assert!(read("<value><i8>1</i8></value>").is_err());
        assert!(read("<value><boolean>true</boolean></value>").is_err());
        assert!(read("<value><double>nan</double></value>").is_err());
        assert!(read("<value><int>1</int><int>2</int></value>").is_err());
    }
}
