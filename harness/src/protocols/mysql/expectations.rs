//! What the MySQL pack adds to the `expect_*` steps.
//!
//! - `sql_table` on `expect_stdout` (SPEC sql/1): `{ columns = [...], rows = [[...]] }`, a
//!   result set printed as a table: a header line of the column names, then a line per
//!   row in order, the columns separated by tabs or by `|` (padding around a value and
//!   `+---+` rule lines allowed), `NULL` for null; or `{ affected = N }`: a line with the
//!   number of rows affected, N, as a word of its own;
//! - `mysql_session` on `expect_received` of the peer, judged once every session ended:
//!   `query = { sql, rows }` (a `SELECT` on the tables at the end returns that many
//!   rows: what was committed), `students = true` (SPEC sql/2: the table, its primary key, at least five
//!   BTech students of the 8th semester, `D'Souza` stored exactly, and no value escaped
//!   by hand: a text statement whose literal doubles a quote, `'D''Souza'`), `one_transaction =
//!   true` (every row inserted into `students` came in one transaction, committed),
//!   `no_duplicates = true` (no two rows of `students` alike but for their roll number,
//!   and no session after the first committed a row into it).
//!
//! Leniency of `students` (SPEC sql/2): the columns are found by name: the roll number's
//! holds `roll` (`roll_no`, `rollno`, `roll_number`), the name's is `name` or holds
//! `name` (`student_name`), the semester's starts with `sem`, the programme's holds
//! `prog`, `course`, `branch`, `degree` or `program`. "BTech" is any value that holds the
//! degree as a word of its own, dots and hyphens aside and case ignored (`B.Tech`,
//! `B Tech`, `BTech CSE`, `B.Tech (Computer Science)`; never `MTech`); the 8th semester is `8`, `8th`, `VIII`, `eight`, `eighth`, with or without
//! `semester`/`sem` after it. A name holds `D'Souza` when it contains it exactly
//! (`Anil D'Souza` does).

use std::sync::Arc;

use serde::Deserialize;

use super::printed::TableExpectation;
use super::record::{MysqlRecord, MysqlSession, SqlEnding, uncommitted_note};
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::Capture;

/// `mysql_session = { ... }`.
pub(super) const MYSQL_SESSION: ExpectationKind = ExpectationKind {
    key: "mysql_session",
    load: load_session,
    schema: |generator| generator.subschema_for::<SessionExpectation>(),
    judges_whole_stdout: true,
};

/// `sql_table = { ... }`.
pub(super) const SQL_TABLE: ExpectationKind = ExpectationKind {
    key: "sql_table",
    load: load_table,
    schema: |generator| generator.subschema_for::<TableExpectation>(),
    judges_whole_stdout: true,
};

/// `query = { sql = "SELECT id FROM people WHERE city = 'Delhi'", rows = 3 }`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryRows {
    /// A `SELECT`, run on the tables as they are at the end (in the scenario's database).
    pub sql: String,
    /// The rows it must return.
    pub rows: u64,
}

/// `mysql_session = { table, students, one_transaction, no_duplicates }`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionExpectation {
    /// A query on the tables at the end returns that many rows: what was committed.
    #[serde(default)]
    pub query: Option<QueryRows>,
    /// The `students` table of SPEC sql/2.
    #[serde(default)]
    pub students: bool,
    /// Its rows came in one transaction, committed.
    #[serde(default)]
    pub one_transaction: bool,
    /// No duplicates, and nothing committed into it after the first session.
    #[serde(default)]
    pub no_duplicates: bool,
}

#[derive(Debug)]
struct SessionJudged {
    server: String,
    expectation: SessionExpectation,
}

fn load_session(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = SessionExpectation::deserialize(input.value)?;
    let server = input
        .step
        .server_speaking(super::PACK.key, "mysql_session")?;
    if expectation.query.is_none()
        && !(expectation.students || expectation.one_transaction || expectation.no_duplicates)
    {
        return Err(
            "`mysql_session` judges nothing unless `query` is given or a field is true".into(),
        );
    }
    Ok(Arc::new(SessionJudged {
        server,
        expectation,
    }))
}

fn load_table(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = TableExpectation::deserialize(input.value)?;
    if input.step.stream != Some(crate::world::capture::OutputStream::Stdout) {
        return Err("`sql_table` judges a program's stdout".into());
    }
    match (&expectation.columns, expectation.affected) {
        (Some(_), None) | (None, Some(_)) => {}
        _ => {
            return Err(
                "`sql_table` takes `columns` (and `rows`) or `affected`, one of them".into(),
            );
        }
    }
    Ok(Arc::new(expectation))
}

impl ProtocolExpectation for SessionJudged {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        _: &Capture,
        _: bool,
    ) -> StepResult<Evaluation> {
        let Some(record) = crate::protocols::record_of::<MysqlRecord>(facts, &self.server) else {
            return Err(StepFailure::fail(
                format!("{where_}: a MySQL peer's record"),
                "none",
            ));
        };
        // The harness's own trouble, never the program's (see `ProtocolRecord::trouble`).
        if let Some(trouble) = record.tables_trouble() {
            return Err(StepFailure {
                status: crate::outcome::Status::Error,
                expected: "the harness to set up its MySQL server".into(),
                seen: trouble,
                diff: None,
            });
        }
        let sessions = record.sessions();
        if sessions.is_empty() {
            return Ok(Evaluation::Pending {
                expected: format!("{where_}: a client to connect"),
                seen: "no client connected".into(),
            });
        }
        if sessions.iter().any(|session| !session.ended) {
            return Ok(Evaluation::Pending {
                expected: format!("{where_}: every client to end its MySQL session"),
                seen: "a session still open".into(),
            });
        }
        judge_session(record, &sessions, &self.expectation).map_err(|mut failure| {
            failure.expected = format!("{where_}: {}", failure.expected);
            failure
        })?;
        Ok(Evaluation::Holds { settle: false })
    }
}

/// The statements that inserted rows into `table`, with their session.
fn inserts<'a>(
    sessions: &'a [MysqlSession],
    table: &str,
) -> Vec<(usize, &'a super::record::Statement)> {
    let pattern = regex::Regex::new(&format!(
        r#"(?is)^\s*insert\s+(ignore\s+)?into\s+[`"]?{table}[`"]?[\s(]"#
    ))
    .expect("valid");
    sessions
        .iter()
        .enumerate()
        .flat_map(|(index, session)| {
            session
                .statements
                .iter()
                .map(move |statement| (index, statement))
        })
        .filter(|(_, statement)| pattern.is_match(&statement.sql))
        .collect()
}

fn judge_session(
    record: &MysqlRecord,
    sessions: &[MysqlSession],
    expected: &SessionExpectation,
) -> StepResult<()> {
    if let Some(query) = &expected.query {
        let count = match record.select(&query.sql) {
            Ok(mysql_engine::SqlOutcome::Rows(rows)) => Ok(rows.rows.len() as u64),
            Ok(_) => Err("not a query".to_owned()),
            Err(error) => Err(format!("{} {}", error.code, error.message)),
        };
        match count {
            Ok(count) if count == query.rows => {}
            Ok(count) => {
                return Err(StepFailure::fail(
                    format!(
                        "`{}` to return {} rows at the end: the statement run and committed (SPEC sql/1)",
                        query.sql, query.rows
                    ),
                    format!("{count} rows{}", uncommitted_note(sessions)),
                ));
            }
            Err(why) => {
                return Err(StepFailure::fail(
                    format!(
                        "`{}` to return {} rows at the end (SPEC sql/1)",
                        query.sql, query.rows
                    ),
                    format!("it fails: {why}"),
                ));
            }
        }
    }
    if expected.students {
        super::students::judge_students(record, sessions)?;
    }
    if expected.one_transaction {
        judge_one_transaction(sessions)?;
    }
    if expected.no_duplicates {
        super::students::judge_no_duplicates(record, sessions)?;
    }
    Ok(())
}

fn judge_one_transaction(sessions: &[MysqlSession]) -> StepResult<()> {
    let expected = "every row of `students` inserted in one transaction, committed (SPEC sql/2)";
    let done: Vec<_> = inserts(sessions, "students")
        .into_iter()
        .filter(|(_, statement)| matches!(statement.outcome, Ok(rows) if rows > 0))
        .collect();
    let Some((first_session, _)) = done.first() else {
        return Err(StepFailure::fail(
            expected,
            "no INSERT into students succeeded",
        ));
    };
    let mine: Vec<_> = done
        .iter()
        .filter(|(session, _)| session == first_session)
        .collect();
    let rows: u64 = mine
        .iter()
        .map(|(_, statement)| *statement.outcome.as_ref().unwrap_or(&0))
        .sum();
    let transactions: std::collections::BTreeSet<Option<usize>> = mine
        .iter()
        .map(|(_, statement)| statement.transaction)
        .collect();
    let session = &sessions[*first_session];
    match transactions.iter().collect::<Vec<_>>().as_slice() {
        [None] => Err(StepFailure::fail(
            expected,
            format!(
                "{rows} rows inserted in {} statements, each committed on its own (autocommit): a failure half-way would leave some",
                mine.len()
            ),
        )),
        [Some(index)] => match session.transactions[*index].ending {
            SqlEnding::Committed => Ok(()),
            ending => Err(StepFailure::fail(
                expected,
                format!(
                    "{rows} rows inserted in one transaction ({}), then {}",
                    if session.transactions[*index].explicit {
                        "begun by BEGIN or START TRANSACTION"
                    } else {
                        "begun by the first statement with autocommit off"
                    },
                    match ending {
                        SqlEnding::RolledBack => "rolled back (ROLLBACK)",
                        _ =>
                            "never committed: the connection ended and the server rolled them back (pymysql does not autocommit: call connection.commit())",
                    }
                ),
            )),
        },
        many => Err(StepFailure::fail(
            expected,
            format!(
                "{rows} rows inserted in {} transactions (or partly with autocommit)",
                many.len()
            ),
        )),
    }
}

impl ProtocolExpectation for TableExpectation {
    fn evaluate(
        &self,
        _: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation> {
        if !is_final {
            return Ok(Evaluation::Pending {
                expected: format!("{where_}: the program to end"),
                seen: format!("{} bytes so far", capture.len()),
            });
        }
        let output = String::from_utf8_lossy(&capture.head(1 << 20)).into_owned();
        super::printed::judge_printed(self, &output)
            .map_err(|(expected, seen)| StepFailure::fail(format!("{where_}: {expected}"), seen))?;
        Ok(Evaluation::Holds { settle: false })
    }
}
