//! Connecting from the URL, and the two things the program does: `--execute` one
//! statement in a transaction, committed; `--setup-students` the table and its rows, in
//! one transaction, with bound parameters.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row, TxOpts};
use tokio::io::AsyncWriteExt;

use super::output;
use crate::cli::Output;

/// The table `--setup-students` makes: the roll number is the primary key, so the same
/// student cannot be inserted twice (a second run fails with 1062 and changes nothing).
pub const CREATE_STUDENTS: &str = "CREATE TABLE IF NOT EXISTS students (\
     roll_no INT PRIMARY KEY, \
     name VARCHAR(64) NOT NULL, \
     semester INT NOT NULL, \
     programme VARCHAR(16) NOT NULL)";

/// One statement for every row: the values travel apart from it, as bound parameters.
pub const INSERT_STUDENT: &str =
    "INSERT INTO students (roll_no, name, semester, programme) VALUES (?, ?, ?, ?)";

/// The example rows: BTech students in their 8th semester, one with a quote in the name.
pub const STUDENTS: [(u32, &str, u32, &str); 5] = [
    (101, "Aarav Sharma", 8, "BTech"),
    (102, "Maria D'Souza", 8, "BTech"),
    (103, "Ishita Verma", 8, "BTech"),
    (104, "Rohan Nair", 8, "BTech"),
    (105, "Zoya Khan", 8, "BTech"),
];

/// Opens a connection as the URL says: `mysql://USER:PASSWORD@HOST:PORT/DATABASE`
/// (the port defaults to 3306). Over TCP to that address, always: the driver would
/// otherwise ask a server on `localhost` for its Unix socket and move there.
pub async fn connect(url: &str) -> Result<Conn, String> {
    if !url.starts_with("mysql://") {
        return Err(format!("{url}: the URL starts with mysql://"));
    }
    let opts = Opts::from_url(url).map_err(|error| format!("{url}: {error}"))?;
    if opts.db_name().is_none() {
        return Err(format!(
            "{url}: no database after the address (mysql://U:P@HOST:PORT/DB)"
        ));
    }
    let opts = OptsBuilder::from_opts(opts).prefer_socket(false);
    Conn::new(opts).await.map_err(|error| error.to_string())
}

/// Runs `sql` in a transaction and commits it; prints its result set as a table, or the
/// rows it affected, once committed.
pub async fn execute(connection: &mut Conn, sql: &str, stdout: &mut Output) -> Result<(), String> {
    let text = async {
        let mut transaction = connection.start_transaction(TxOpts::default()).await?;
        let mut result = transaction.query_iter(sql).await?;
        let text = match result.columns() {
            Some(columns) if !columns.is_empty() => {
                let rows: Vec<Row> = result.collect().await?;
                output::table(&columns, rows)
            }
            _ => {
                let affected = result.affected_rows();
                result.drop_result().await?;
                format!("{affected} row(s) affected\n")
            }
        };
        transaction.commit().await?;
        Ok::<String, mysql_async::Error>(text)
    }
    .await
    .map_err(|error| error.to_string())?;
    write(stdout, &text).await
}

/// Creates `students` unless it exists, then inserts [`STUDENTS`] in one transaction: all
/// of them, or (on any error, such as 1062 on a second run) none.
pub async fn setup_students(connection: &mut Conn, stdout: &mut Output) -> Result<(), String> {
    let done = async {
        // DDL commits by itself in MySQL: it cannot be part of the transaction.
        connection.query_drop(CREATE_STUDENTS).await?;
        let mut transaction = connection.start_transaction(TxOpts::default()).await?;
        let inserted = transaction
            .exec_batch(INSERT_STUDENT, STUDENTS.iter().copied())
            .await;
        match inserted {
            Ok(()) => transaction.commit().await,
            Err(error) => {
                let _ = transaction.rollback().await;
                Err(error)
            }
        }
    }
    .await;
    done.map_err(|error| format!("{error} (nothing was inserted)"))?;
    write(
        stdout,
        &format!("{} row(s) inserted into students\n", STUDENTS.len()),
    )
    .await
}

async fn write(stdout: &mut Output, text: &str) -> Result<(), String> {
    stdout
        .write_all(text.as_bytes())
        .await
        .map_err(|error| format!("stdout: {error}"))?;
    stdout
        .flush()
        .await
        .map_err(|error| format!("stdout: {error}"))
}
