//! # `mysql-remote`: running statements on a MySQL server
//!
//! Reading list: the handout (000, item \[28\], "remote database access", written there
//! with Python's `pymysql` or `mysql.connector`) and its contract,
//! `scenarios/SPEC.md#mysql-remote`, clauses `sql/1`–`sql/3`. For the protocol: the
//! MariaDB knowledge base, "Clients & Communication Protocols" (connection phase, `COM_QUERY`,
//! result sets, OK and ERR packets, `COM_STMT_PREPARE` and `COM_STMT_EXECUTE`) and MySQL's
//! "Client/Server Protocol" pages on `mysql_native_password` and `caching_sha2_password`.
//!
//! Every message on the wire is a packet: a 3-byte length (little-endian), a 1-byte
//! sequence number that counts up within one exchange, then the payload.
//!
//! ```text
//! client                                              server (port 3306)
//!   |  <-- greeting: protocol 10, version, 20-byte salt, ---|  connection phase
//!   |      capabilities, auth method (mysql_native_password |
//!   |      or caching_sha2_password)                        |
//!   | ---- handshake response: user, scrambled password, -> |  the password never crosses:
//!   |      database, the method it used                     |  SHA1/SHA256 of it mixed with the salt
//!   |  <-- [auth switch: "use that method, new salt"] ------|  if the methods differ
//!   |  <-- [01 03: caching_sha2 fast auth succeeded] -------|
//!   |  <-- OK (00 ...) or ERR (ff, 1045, "Access denied ...")
//!   | ---- COM_QUERY "SELECT id, name FROM people" -------> |  command phase
//!   |  <-- column count, a definition per column, ----------|  a result set
//!   |      one row per packet (each value a length-prefixed  |
//!   |      string, fb for NULL), EOF/OK                      |
//!   | ---- COM_STMT_PREPARE "INSERT ... VALUES (?, ?)" ---> |  bound parameters:
//!   |  <-- statement id, parameter count -------------------|  the SQL and the values
//!   | ---- COM_STMT_EXECUTE id, types, values ------------> |  travel apart
//!   |  <-- OK: affected rows, last insert id, status ------- |
//!   | ---- COM_QUERY "COMMIT" -----------------------------> |
//!   | ---- COM_QUIT --------------------------------------> |
//! ```
//!
//! The protocol is long (packets, length-encoded integers, two password scrambles, two row
//! encodings), and the handout has students use a driver: this reference does the same with
//! `mysql_async`, a driver written in Rust, and keeps to what the task is about. Why that
//! driver: it builds with the pure-Rust feature set (no C library), speaks both password
//! methods, and runs in the same tokio runtime as every other program here.
//!
//! ## Bound parameters
//!
//! A value formatted into the SQL text (`f"... VALUES ('{name}')"`) becomes SQL: the name
//! `D'Souza` ends the string at its quote and the statement is a syntax error, and a
//! name such as `x'); DROP TABLE students; --` runs as a statement of its own. Bound
//! parameters send the statement with `?` in place of each value, and the values apart
//! ([`setup_students`] with `exec_batch`); pymysql's `cursor.execute(sql, params)` escapes
//! them into the text on the client, correctly, which is as good. Never build SQL text
//! out of values yourself.
//!
//! ## Transactions and autocommit
//!
//! A transaction is a group of statements that all happen or none do: `START TRANSACTION`
//! (or `BEGIN`), the statements, `COMMIT` (keep them) or `ROLLBACK` (undo them). If the
//! connection ends before `COMMIT`, the server rolls the transaction back. With
//! autocommit on (the server's default), each statement is a transaction of its own;
//! pymysql turns it *off* for every connection, so nothing a pymysql program changes is
//! kept until it calls `connection.commit()`. Here `--execute` runs its statement in a
//! transaction and commits it, and `--setup-students` inserts all the rows in one, so a
//! failure half-way leaves none of them.
//!
//! ## What a first client usually gets wrong
//!
//! - **f-strings into SQL**: see above; the `D'Souza` row is the test.
//! - **Forgetting `commit()`**: pymysql does not autocommit; the program "works", prints
//!   `1 row affected`, and the row is gone when the connection closes.
//! - **Printing tuples**: `print(cursor.fetchall())` prints `((1, 'Ann', None),)`; a table
//!   has a header line of column names (`cursor.description`), a line per row, and `NULL`
//!   for `None` ([`output`]).
//! - **Catching the error and exiting 0**: `except Exception as e: print(e)` on stdout, and
//!   the shell sees success. The server's message goes to stderr, and the exit status is 1
//!   (SPEC sql/3).
//! - **One commit per insert**: five rows, five transactions; a failure at the fourth leaves
//!   three. One transaction for the batch.
//! - **Inserting again on a second run**: without a primary key on the roll number, a second
//!   run duplicates every student. With it, the second run's first insert fails with 1062
//!   `Duplicate entry` and the transaction is rolled back: nothing changes.
//!
//! ## Layout
//!
//! - [`output`]: a result set printed as a table, and escaping inside values.
//! - [`session`]: connecting from the URL, `--execute`, `--setup-students`.

pub mod output;
pub mod session;

use clap::Parser;

use crate::cli::{Stdio, fail, parse_args};
use crate::net::Tokio;

/// The program's name, in its messages.
const PROGRAM: &str = "mysql-remote";

/// `mysql-remote --url mysql://U:P@HOST:PORT/DB (--execute SQL | --setup-students)`
#[derive(Debug, Parser)]
#[command(name = PROGRAM, about = "Run a statement on a MySQL server, or set up the students table.")]
#[command(group(clap::ArgGroup::new("what").required(true).args(["execute", "setup_students"])))]
struct Args {
    /// The server, account and database: mysql://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long)]
    url: String,
    /// One statement to run and commit; a result set is printed as a table.
    #[arg(long)]
    execute: Option<String>,
    /// Creates the table `students` unless it exists, and inserts five students in one
    /// transaction.
    #[arg(long)]
    setup_students: bool,
}

/// `mysql-remote --url URL (--execute SQL | --setup-students)`. The network argument is
/// the real one: the driver opens its own socket (no simulated version).
pub async fn client_main(_net: Tokio, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let mut connection = match session::connect(&args.url).await {
        Ok(connection) => connection,
        Err(error) => return fail(&mut stdio.stderr, PROGRAM, "cannot connect", error).await,
    };
    let done = match &args.execute {
        Some(sql) => session::execute(&mut connection, sql, &mut stdio.stdout).await,
        None => session::setup_students(&mut connection, &mut stdio.stdout).await,
    };
    // COM_QUIT, whatever happened: the server ends the session (and rolls back anything
    // left open) at once rather than when it notices the close.
    let _ = connection.disconnect().await;
    match done {
        Ok(()) => 0,
        Err(error) => fail(&mut stdio.stderr, PROGRAM, "error", error).await,
    }
}
