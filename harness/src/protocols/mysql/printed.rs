//! The judge of SPEC sql/1 on what the program printed: a result set as a table, or the
//! rows affected ([`super::expectations`] says what passes).

use serde::Deserialize;

/// `sql_table = { columns, rows }` or `{ affected }`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TableExpectation {
    /// The header's column names.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// Each row's values, in order (`NULL` for null).
    #[serde(default)]
    pub rows: Vec<Vec<String>>,
    /// Or: the rows affected.
    #[serde(default)]
    pub affected: Option<u64>,
}

/// A line's cells: split on tabs, else on `|` (the outer ones dropped), each trimmed of
/// the spaces that pad it.
fn cells(line: &str) -> Vec<String> {
    let line = line.trim_end_matches('\r');
    let parts: Vec<&str> = if line.contains('\t') {
        line.split('\t').collect()
    } else if line.contains('|') {
        let inner = line.trim();
        let inner = inner.strip_prefix('|').unwrap_or(inner);
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        inner.split('|').collect()
    } else {
        vec![line]
    };
    parts
        .into_iter()
        .map(|cell| cell.trim_matches(' ').to_owned())
        .collect()
}

/// A rule line of a drawn table (`+----+----+`, `-----`), or an empty one.
fn is_rule(line: &str) -> bool {
    line.trim()
        .chars()
        .all(|c| matches!(c, '+' | '-' | '=' | '|' | ' ' | '\t' | '\r'))
}

/// The first lines of the output, for a report.
fn shown(lines: &[&str]) -> String {
    if lines.is_empty() {
        return "nothing: the output is empty".into();
    }
    let mut text: Vec<String> = lines
        .iter()
        .take(6)
        .map(|line| format!("{line:?}"))
        .collect();
    if lines.len() > 6 {
        text.push(format!("... ({} lines)", lines.len()));
    }
    format!("printed to stdout: {}", text.join(", "))
}

/// What is wrong with the way a line looks, if it is a Python tuple or list.
fn python_note(line: &str) -> &'static str {
    let line = line.trim();
    if (line.starts_with('(') && line.ends_with(')'))
        || (line.starts_with('[') && line.ends_with(']'))
    {
        " (a Python tuple or list printed as it is: print the values joined by tabs, with a header line first)"
    } else {
        ""
    }
}

pub(super) fn judge_printed(
    expected: &TableExpectation,
    output: &str,
) -> Result<(), (String, String)> {
    let lines: Vec<&str> = output.lines().filter(|line| !is_rule(line)).collect();
    if let Some(affected) = expected.affected {
        let word = regex::Regex::new(&format!(r"(^|[^0-9]){affected}([^0-9]|$)")).expect("valid");
        if lines.iter().any(|line| word.is_match(line)) {
            return Ok(());
        }
        return Err((
            format!(
                "the number of rows affected as the server reported it, {affected}, on a line (SPEC sql/1)"
            ),
            shown(&lines),
        ));
    }
    let columns = expected.columns.clone().unwrap_or_default();
    let want = format!(
        "a header line naming the columns ({}), then {} row lines, tab- or |-separated, NULL for null (SPEC sql/1)",
        columns.join(", "),
        expected.rows.len()
    );
    let Some(header) = lines.first() else {
        return Err((want, shown(&lines)));
    };
    if cells(header) != columns {
        return Err((
            want,
            format!(
                "{}; expected a header line naming the columns first{}",
                shown(&lines),
                python_note(header)
            ),
        ));
    }
    let rows = &lines[1..];
    for (index, wanted) in expected.rows.iter().enumerate() {
        let Some(line) = rows.get(index) else {
            return Err((
                want,
                format!("{}; row {} is missing", shown(&lines), index + 1),
            ));
        };
        let got = cells(line);
        if &got != wanted {
            let null_note = if got.iter().any(|cell| cell == "None") {
                " (None printed for NULL)"
            } else {
                ""
            };
            return Err((
                want,
                format!(
                    "{}; row {} reads {:?}, expected {:?}{}{}",
                    shown(&lines),
                    index + 1,
                    got,
                    wanted,
                    null_note,
                    python_note(line)
                ),
            ));
        }
    }
    if rows.len() > expected.rows.len() {
        return Err((
            want,
            format!(
                "{}; {} more lines after the rows",
                shown(&lines),
                rows.len() - expected.rows.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[&str], rows: &[&[&str]]) -> TableExpectation {
        TableExpectation {
            columns: Some(columns.iter().map(|c| (*c).to_owned()).collect()),
            rows: rows
                .iter()
                .map(|row| row.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
            affected: None,
        }
    }

    #[test]
    fn tabs_bars_and_padding_pass() {
        let wanted = table(&["id", "name"], &[&["1", "O'Brien, Pat"], &["2", "NULL"]]);
        for output in [
            "id\tname\n1\tO'Brien, Pat\n2\tNULL\n",
            "+----+--------------+\n| id | name         |\n+----+--------------+\n|  1 | O'Brien, Pat |\n|  2 | NULL         |\n+----+--------------+\n",
            "id | name\n1 | O'Brien, Pat\n2 | NULL\n",
        ] {
            assert_eq!(judge_printed(&wanted, output), Ok(()), "{output}");
        }
    }

    #[test]
    fn tuples_and_none_are_told() {
        let wanted = table(&["id", "name"], &[&["2", "NULL"]]);
        let (_, seen) = judge_printed(&wanted, "(2, None)\n").unwrap_err();
        assert!(seen.contains("Python tuple"), "{seen}");
        let (_, seen) = judge_printed(&wanted, "id\tname\n2\tNone\n").unwrap_err();
        assert!(seen.contains("None printed for NULL"), "{seen}");
        let affected = TableExpectation {
            affected: Some(3),
            ..Default::default()
        };
        assert!(judge_printed(&affected, "3 row(s) affected\n").is_ok());
        assert!(judge_printed(&affected, "13 rows\n").is_err());
    }
}
