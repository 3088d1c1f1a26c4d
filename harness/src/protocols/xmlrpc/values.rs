//! Scenario values as XML-RPC values (a TOML integer is an `<int>`, a float a `<double>`,
//! a table a `<struct>`), XML-RPC values in words for the report, and when a value that
//! came is the one expected.

use reference::xmlrpc::value::Value;

/// A scenario's value as an XML-RPC value.
pub(super) fn from_toml(value: &serde_json::Value) -> Result<Value, String> {
    Ok(match value {
        serde_json::Value::Bool(truth) => Value::Bool(*truth),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => Value::Int(i32::try_from(integer).map_err(|_| {
                format!("{integer} is beyond an XML-RPC <int>'s 32 bits: write it as a float")
            })?),
            None => Value::Double(number.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => Value::String(text.clone()),
        serde_json::Value::Array(items) => Value::Array(from_toml_list(items)?),
        serde_json::Value::Object(members) => Value::Struct(
            members
                .iter()
                .map(|(name, value)| Ok((name.clone(), from_toml(value)?)))
                .collect::<Result<_, String>>()?,
        ),
        serde_json::Value::Null => return Err("XML-RPC has no null".into()),
    })
}

/// Several scenario values.
pub(super) fn from_toml_list(values: &[serde_json::Value]) -> Result<Vec<Value>, String> {
    values.iter().map(from_toml).collect()
}

/// A value in words, its type visible: `5` (an int), `5.0` (a double), `"5"`, `[5]`,
/// `{faultCode: 4, faultString: "..."}`.
pub(super) fn show(value: &Value) -> String {
    match value {
        Value::Int(number) => number.to_string(),
        Value::Double(number) => format!("{number:?}"),
        Value::Bool(truth) => truth.to_string(),
        Value::String(text) => {
            let shown: String = text.chars().take(80).collect();
            let cut = if shown.len() < text.len() { "..." } else { "" };
            format!("{shown:?}{cut}")
        }
        Value::Base64(bytes) => format!("<base64> of {} bytes", bytes.len()),
        Value::DateTime(text) => format!("<dateTime.iso8601> {text}"),
        Value::Array(items) => {
            let shown: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", shown.join(", "))
        }
        Value::Struct(members) => {
            let shown: Vec<String> = members
                .iter()
                .map(|(name, value)| format!("{name}: {}", show(value)))
                .collect();
            format!("{{{}}}", shown.join(", "))
        }
    }
}

/// A call in words: `add(2, 3)`.
pub(super) fn show_call(method: &str, params: &[Value]) -> String {
    let shown: Vec<String> = params.iter().map(show).collect();
    format!("{method}({})", shown.join(", "))
}

/// Whether `got` is `expected`: the same type and value (doubles within a millionth of a
/// millionth, relatively: `2.0 ** 0.5` printed and read back may differ in the last
/// digit), struct members in any order.
pub(super) fn same(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Double(a), Value::Double(b)) => {
            a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Struct(a), Value::Struct(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(name, value)| got.member(name).is_some_and(|other| same(value, other)))
        }
        _ => expected == got,
    }
}

/// What differs between a value and the one expected, in words (`an <int> 5 where a
/// <double> 5.0 belongs`), when the difference is of type, not of value.
pub(super) fn type_note(expected: &Value, got: &Value) -> String {
    if std::mem::discriminant(expected) == std::mem::discriminant(got) {
        String::new()
    } else {
        format!(
            " (an <{}> where an <{}> belongs)",
            got.type_name(),
            expected.type_name()
        )
    }
}
