//! A result set printed as a table (SPEC sql/1): a header line of the column names, then
//! a line per row, the values separated by tabs, `NULL` for a null value. This is what the
//! `mariadb` client prints in batch mode (`mariadb -B -e ...`), and for the same reason it
//! escapes inside a value the characters that would break the layout: a tab as `\t`, a
//! line end as `\n`, a backslash as `\\`.
//!
//! | value                | printed            |
//! |----------------------|--------------------|
//! | NULL                 | `NULL`             |
//! | `O'Brien, Pat`       | `O'Brien, Pat`     |
//! | `a<TAB>b`            | `a\tb`             |
//! | 42 (binary protocol) | `42`               |

use mysql_async::{Column, Row, Value};

/// One value as text, escaped for a tab-separated line.
pub fn cell(value: &Value) -> String {
    match value {
        Value::NULL => "NULL".to_owned(),
        Value::Bytes(bytes) => escape(&String::from_utf8_lossy(bytes)),
        Value::Int(number) => number.to_string(),
        Value::UInt(number) => number.to_string(),
        Value::Float(number) => number.to_string(),
        Value::Double(number) => number.to_string(),
        Value::Date(year, month, day, hour, minute, second, micros) => {
            let mut text = format!("{year:04}-{month:02}-{day:02}");
            if (hour, minute, second, micros) != (&0, &0, &0, &0) {
                text += &format!(" {hour:02}:{minute:02}:{second:02}");
            }
            text
        }
        Value::Time(negative, days, hours, minutes, seconds, _) => format!(
            "{}{:02}:{minutes:02}:{seconds:02}",
            if *negative { "-" } else { "" },
            days * 24 + u32::from(*hours)
        ),
    }
}

/// `\t`, `\n`, `\r` and `\\` for the characters that would break a line of the table.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out += "\\t",
            '\n' => out += "\\n",
            '\r' => out += "\\r",
            '\\' => out += "\\\\",
            other => out.push(other),
        }
    }
    out
}

/// The header line and a line per row, each ending in `\n`.
pub fn table(columns: &[Column], rows: Vec<Row>) -> String {
    let mut text = columns
        .iter()
        .map(|column| escape(&column.name_str()))
        .collect::<Vec<_>>()
        .join("\t");
    text.push('\n');
    for row in rows {
        let line: Vec<String> = row.unwrap().iter().map(cell).collect();
        text += &line.join("\t");
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_printed_on_one_line_each() {
        assert_eq!(cell(&Value::NULL), "NULL");
        assert_eq!(
            cell(&Value::Bytes(b"O'Brien, Pat".to_vec())),
            "O'Brien, Pat"
        );
        assert_eq!(cell(&Value::Bytes(b"a\tb\nc\\".to_vec())), "a\\tb\\nc\\\\");
        assert_eq!(cell(&Value::Int(-3)), "-3");
        assert_eq!(cell(&Value::Date(2026, 11, 25, 0, 0, 0, 0)), "2026-11-25");
    }
}
