//! The judges of SPEC sql/2 on the `students` table at the end (leniency: see
//! [`super::expectations`]).

use std::sync::LazyLock;

use regex::Regex;

use super::record::{MysqlRecord, MysqlSession, SqlEnding, Values};
use super::statements::commits_implicitly;
use crate::outcome::{StepFailure, StepResult};
use mysql_engine::SqlRows;
use mysql_engine::dialect;

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

/// Whether a programme is a BTech: the degree as a word of its own, however written
/// (`BTech`, `B.Tech`, `B Tech`, `B-TECH`, `B.Technology`), alone or with its branch
/// (`BTech CSE`, `B.Tech (Computer Science)`); never `MTech`.
fn is_btech(value: &str) -> bool {
    static BTECH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\bb\s*tech(nology)?\b").expect("valid"));
    let without_marks: String = value.chars().filter(|c| !matches!(c, '.' | '-')).collect();
    BTECH.is_match(&without_marks)
}

fn is_eighth(value: &str) -> bool {
    static EIGHTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(8|8th|viii|eight|eighth)(\s*(semester|sem))?\s*$").expect("valid")
    });
    EIGHTH.is_match(value)
}

/// The table `students` exists with its columns and primary key, holds five BTech
/// students of the 8th semester, and `D'Souza` exactly; no value was escaped by hand.
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
        return hand_escaped(sessions);
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

/// SPEC sql/2's "with bound parameters, never by formatting values into the SQL", for a
/// program whose values arrive right all the same: a text statement (DDL aside) with a
/// quote written doubled inside a literal (`'Neil D''Souza'`) was escaped by hand and
/// formatted in (`name.replace("'", "''")`), since the libraries that bind parameters on
/// the client write `\'`, and a prepared statement's values travel apart. An empty
/// literal (`''`) doubles nothing.
fn hand_escaped(sessions: &[MysqlSession]) -> StepResult<()> {
    let found = sessions
        .iter()
        .flat_map(|session| &session.statements)
        .filter(|statement| statement.values == Values::Text && !commits_implicitly(&statement.sql))
        .find_map(|statement| {
            dialect::doubled_quote_literals(&statement.sql)
                .into_iter()
                .next()
                .map(|value| (statement, value))
        });
    let Some((statement, value)) = found else {
        return Ok(());
    };
    Err(StepFailure::fail(
        "the values sent apart from the SQL, as bound parameters, never formatted into it (SPEC sql/2)",
        format!(
            "`{}` came with the quote of `{value}` doubled by hand (''): the value was formatted into the SQL text, not bound (a driver binding parameters escapes a quote as \\'); pass the values apart: cursor.execute(sql, params) with %s placeholders, as cursor.execute(\"INSERT INTO students VALUES (%s, %s, %s, %s)\", row), or cursor.executemany(sql, rows)",
            statement.sql.chars().take(160).collect::<String>(),
        ),
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
    use super::super::record::Statement;
    use super::*;

    #[test]
    fn btech_and_the_eighth_semester_are_read_leniently() {
        for yes in [
            "BTech",
            "B.Tech",
            "b tech",
            "B-TECH",
            "BTech CSE",
            "B.Tech (Computer Science)",
            "B.Technology",
        ] {
            assert!(is_btech(yes), "{yes}");
        }
        for no in ["MTech", "MBTech", "Biotech", "BSc"] {
            assert!(!is_btech(no), "{no}");
        }
        for yes in ["8", "8th", "VIII", "eighth", "8th semester", "8 sem"] {
            assert!(is_eighth(yes), "{yes}");
        }
        for no in ["18", "7", "8.5"] {
            assert!(!is_eighth(no), "{no}");
        }
    }

    fn text(sql: &str) -> Statement {
        Statement {
            sql: sql.into(),
            values: Values::Text,
            outcome: Ok(1),
            transaction: None,
        }
    }

    fn session(statements: Vec<Statement>) -> Vec<MysqlSession> {
        vec![MysqlSession {
            statements,
            ..MysqlSession::default()
        }]
    }

    #[test]
    fn a_value_escaped_by_hand_is_told_and_what_to_do_instead() {
        let formatted = session(vec![
            text(
                "CREATE TABLE IF NOT EXISTS students (roll_no VARCHAR(16), name VARCHAR(100) NOT NULL DEFAULT '', note TEXT COMMENT 'the student''s own', PRIMARY KEY (roll_no))",
            ),
            text(
                "INSERT INTO students (roll_no, name, semester, programme) VALUES ('CS2101', 'Asha Rao', 8, 'BTech')",
            ),
            text(
                "INSERT INTO students (roll_no, name, semester, programme) VALUES ('CS2103', 'Neil D''Souza', 8, 'BTech')",
            ),
        ]);
        let failure = hand_escaped(&formatted).unwrap_err();
        assert!(
            failure.expected.contains("bound parameters"),
            "{}",
            failure.expected
        );
        assert!(
            failure.seen.starts_with("`INSERT INTO students (roll_no, name, semester, programme) VALUES ('CS2103', 'Neil D''Souza', 8, 'BTech')` came with the quote of `Neil D'Souza` doubled by hand"),
            "{}",
            failure.seen
        );
        assert!(
            failure
                .seen
                .contains("cursor.execute(sql, params) with %s placeholders"),
            "{}",
            failure.seen
        );
        // What PyMySQL's cursor.execute(sql, params) and executemany send, a prepared
        // statement's bound values, and DDL's literals (an empty default, a comment) pass.
        let bound = session(vec![
            text(
                "CREATE TABLE students (roll_no INT PRIMARY KEY, name VARCHAR(64) NOT NULL DEFAULT '', note TEXT COMMENT 'the student''s own')",
            ),
            text(
                r"INSERT INTO students (roll_no, name, semester, programme) VALUES (101,'Aarav Sharma',8,'BTech'),(102,'Maria D\'Souza',8,'BTech')",
            ),
            text("INSERT INTO students VALUES (103, '', 8, 'BTech')"),
            Statement {
                sql: "INSERT INTO students VALUES (?, ?, ?, ?)".into(),
                values: Values::Bound(vec![
                    Some("104".into()),
                    Some("Neil D'Souza".into()),
                    Some("8".into()),
                    Some("BTech".into()),
                ]),
                outcome: Ok(1),
                transaction: None,
            },
        ]);
        assert!(hand_escaped(&bound).is_ok());
    }
}
