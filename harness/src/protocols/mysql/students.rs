//! The judges of SPEC sql/2 on the `students` table at the end (leniency: see
//! [`super::expectations`]).

use std::sync::LazyLock;

use regex::Regex;

use super::engine::SqlRows;
use super::record::{MysqlRecord, MysqlSession, SqlEnding, Values};
use crate::outcome::{StepFailure, StepResult};

/// The columns of `students`, found by name.
struct Columns {
    roll: usize,
    name: usize,
    semester: usize,
    programme: usize,
}

fn find_columns(rows: &SqlRows) -> Result<Columns, String> {
    let find = |test: &dyn Fn(&str) -> bool, what: &str| {
        rows.columns
            .iter()
            .position(|column| test(&column.to_lowercase()))
            .ok_or_else(|| {
                format!(
                    "no column for the {what} (columns: {})",
                    rows.columns.join(", ")
                )
            })
    };
    Ok(Columns {
        roll: find(&|name| name.contains("roll"), "roll number")?,
        name: find(
            &|name| name == "name" || (name.contains("name") && !name.contains("roll")),
            "name",
        )?,
        semester: find(&|name| name.starts_with("sem"), "semester")?,
        programme: find(
            &|name| {
                ["prog", "course", "branch", "degree"]
                    .iter()
                    .any(|word| name.contains(word))
            },
            "programme",
        )?,
    })
}

fn is_btech(value: &str) -> bool {
    value
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '-'))
        .collect::<String>()
        .eq_ignore_ascii_case("btech")
}

fn is_eighth(value: &str) -> bool {
    static EIGHTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(8|8th|viii|eight|eighth)(\s*(semester|sem))?\s*$").expect("valid")
    });
    EIGHTH.is_match(value)
}

/// The table `students` exists with its columns and primary key, holds five BTech
/// students of the 8th semester, and `D'Souza` exactly.
pub(super) fn judge_students(record: &MysqlRecord, sessions: &[MysqlSession]) -> StepResult<()> {
    let expected = "table `students` (roll number the primary key, name, semester, programme) with at least 5 BTech 8th-semester students, one named D'Souza stored exactly (SPEC sql/2)";
    let Some(rows) = record.table("students") else {
        let created = sessions
            .iter()
            .flat_map(|session| &session.statements)
            .any(|statement| statement.sql.to_lowercase().contains("create table"));
        return Err(StepFailure::fail(
            expected,
            format!(
                "no table `students` in database `{}`{}",
                record.database,
                if created {
                    "; a CREATE TABLE came, and was rolled back or failed"
                } else {
                    ": no CREATE TABLE came"
                }
            ),
        ));
    };
    let columns = find_columns(&rows).map_err(|seen| StepFailure::fail(expected, seen))?;
    let schema = record.columns("students").unwrap_or_default();
    let roll_name = &rows.columns[columns.roll];
    if !schema
        .iter()
        .any(|(name, _, primary)| name == roll_name && *primary)
    {
        return Err(StepFailure::fail(
            expected,
            format!(
                "column `{roll_name}` is not the primary key: nothing stops a second run inserting the same students again"
            ),
        ));
    }
    let value = |row: &Vec<Option<String>>, index: usize| row[index].clone().unwrap_or_default();
    let matching = rows
        .rows
        .iter()
        .filter(|row| {
            is_btech(&value(row, columns.programme)) && is_eighth(&value(row, columns.semester))
        })
        .count();
    if matching < 5 {
        let seen: Vec<String> = rows
            .rows
            .iter()
            .take(6)
            .map(|row| {
                format!(
                    "({}, {})",
                    value(row, columns.programme),
                    value(row, columns.semester)
                )
            })
            .collect();
        return Err(StepFailure::fail(
            expected,
            format!(
                "{} rows, {matching} of them BTech in the 8th semester (programme, semester: {}){}",
                rows.rows.len(),
                if seen.is_empty() {
                    "none".to_owned()
                } else {
                    seen.join(", ")
                },
                super::record::uncommitted_note(sessions)
                    + &formatted_insert(sessions)
                        .map(|why| format!("; {why}"))
                        .unwrap_or_default()
            ),
        ));
    }
    let names: Vec<String> = rows
        .rows
        .iter()
        .map(|row| value(row, columns.name))
        .collect();
    if names.iter().any(|name| name.contains("D'Souza")) {
        return Ok(());
    }
    let near = names
        .iter()
        .find(|name| name.contains("Souza"))
        .map(|name| {
            let how = if name.contains("\\'") || name.contains("''") {
                ": the value was escaped by hand and formatted into the SQL; bound parameters store it as it is"
            } else {
                ""
            };
            format!("the name was stored as `{name}`{how}")
        });
    Err(StepFailure::fail(
        expected,
        near.unwrap_or_else(|| {
            formatted_insert(sessions)
                .unwrap_or_else(|| format!("no name holds D'Souza (names: {})", names.join(", ")))
        }),
    ))
}

/// The statement that failed because `D'Souza` was formatted into its text, said so.
fn formatted_insert(sessions: &[MysqlSession]) -> Option<String> {
    let statement = sessions
        .iter()
        .flat_map(|session| &session.statements)
        .find(|statement| {
            statement.sql.contains("D'Souza'")
                && statement.values == Values::Text
                && statement.outcome.is_err()
        })?;
    Some(format!(
        "`{}` failed ({}): the value was formatted into the SQL, and its quote ended the string",
        statement.sql.chars().take(160).collect::<String>(),
        statement
            .outcome
            .as_ref()
            .err()
            .map(|error| format!("{} {}", error.code, error.message))
            .unwrap_or_default()
    ))
}

/// No two rows alike but for their roll number, and nothing committed into `students`
/// by a session after the first that inserted.
pub(super) fn judge_no_duplicates(
    record: &MysqlRecord,
    sessions: &[MysqlSession],
) -> StepResult<()> {
    let expected =
        "a second run to fail cleanly or change nothing, never to insert duplicates (SPEC sql/2)";
    if let Some(rows) = record.table("students")
        && let Ok(columns) = find_columns(&rows)
    {
        let mut seen = std::collections::BTreeSet::new();
        for row in &rows.rows {
            let mut key = row.clone();
            key.remove(columns.roll);
            if !seen.insert(key) {
                return Err(StepFailure::fail(
                    expected,
                    format!(
                        "{} rows: `{}` is there twice, under two roll numbers",
                        rows.rows.len(),
                        row[columns.name].clone().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let pattern =
        Regex::new(r#"(?is)^\s*insert\s+(ignore\s+)?into\s+[`"]?students\b"#).expect("valid");
    let mut inserting = sessions.iter().enumerate().filter(|(_, session)| {
        session
            .statements
            .iter()
            .any(|statement| pattern.is_match(&statement.sql))
    });
    inserting.next();
    for (index, session) in inserting {
        let committed: u64 = session
            .statements
            .iter()
            .filter(|statement| pattern.is_match(&statement.sql))
            .filter(|statement| match statement.transaction {
                None => true,
                Some(transaction) => {
                    session.transactions[transaction].ending == SqlEnding::Committed
                }
            })
            .map(|statement| *statement.outcome.as_ref().unwrap_or(&0))
            .sum();
        if committed > 0 {
            return Err(StepFailure::fail(
                expected,
                format!(
                    "connection {} inserted {committed} more rows into students and committed them",
                    index + 1
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btech_and_the_eighth_semester_are_read_leniently() {
        for yes in ["BTech", "B.Tech", "b tech", "B-TECH"] {
            assert!(is_btech(yes), "{yes}");
        }
        assert!(!is_btech("MTech"));
        for yes in ["8", "8th", "VIII", "eighth", "8th semester", "8 sem"] {
            assert!(is_eighth(yes), "{yes}");
        }
        for no in ["18", "7", "8.5"] {
            assert!(!is_eighth(no), "{no}");
        }
    }
}
