//! One client connection to the MySQL peer, as opensrv-mysql's shim: the login (both
//! password methods checked for real), the statements clients send to set up a session
//! (`SET NAMES`, `SELECT @@version_comment`, `SET autocommit=0`, ...), transactions
//! (`BEGIN`/`START TRANSACTION`, `COMMIT`, `ROLLBACK`, autocommit off; an open one is
//! rolled back when the connection ends), text queries and prepared statements; each
//! statement goes to the [`SqlEngine`] and into the [`record`](super::record).

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use opensrv_mysql::{
    AsyncMysqlShim, Column, ColumnFlags, ColumnType, ErrorKind, InitWriter, OkResponse,
    ParamParser, QueryResultWriter, StatementMetaWriter, StatusFlags, ValueInner,
};
use regex::Regex;
use tokio::io::AsyncWrite;

use super::auth::scramble_login;
use super::record::{MysqlRecord, SqlEnding, SqlTransaction, Statement, Values, lock};
use super::statements::{SqlSessionStatement, commits_implicitly, session_statement};
use super::{AuthPlugin, MysqlScript};
use mysql_engine::dialect;
use mysql_engine::{SqlEngine, SqlError, SqlOutcome, SqlRows, SqlSnapshot};

/// The version the greeting and `SELECT VERSION()` give.
pub(super) const VERSION: &str = "10.11.0-harness-MySQL-pack";

/// One connection's state.
pub(super) struct Shim {
    pub script: Arc<MysqlScript>,
    pub record: Arc<MysqlRecord>,
    /// The tables, which every session of the peer shares.
    pub engine: Arc<Mutex<SqlEngine>>,
    /// This session's index in the record.
    pub index: usize,
    /// The address the client reached the peer at, for `Access denied for user 'u'@'...'`.
    pub host: String,
    /// A caching_sha2_password login succeeded: the connection must say "fast auth
    /// success" (`01 03`) before its OK ([`super::server`] writes it).
    pub fast_auth: Arc<AtomicBool>,
    /// The refusal of a wrong login, sent in place of the OK that follows it.
    pub denied: Mutex<Option<String>>,
    pub database: Option<String>,
    pub autocommit: bool,
    /// The open transaction: its index in the record, and every database as it was.
    pub open: Option<(usize, SqlSnapshot)>,
    /// Prepared statements by id.
    pub prepared: HashMap<u32, String>,
    pub next_id: u32,
    /// What the last statement gives back, kept here for the writer's lifetime.
    pub columns: Vec<Column>,
}

fn text_column(name: &str, integer: bool) -> Column {
    Column {
        table: String::new(),
        column: name.to_owned(),
        coltype: if integer {
            ColumnType::MYSQL_TYPE_LONGLONG
        } else {
            ColumnType::MYSQL_TYPE_VAR_STRING
        },
        colflags: ColumnFlags::empty(),
    }
}

/// What a statement gives back to the client.
enum Answer {
    Rows(SqlRows),
    /// Rows affected, and the `AUTO_INCREMENT` value the statement made (0: none).
    Done(u64, u64),
    Error(SqlError),
}

impl Shim {
    fn engine(&self) -> std::sync::MutexGuard<'_, SqlEngine> {
        lock(&self.engine)
    }

    fn status(&self) -> StatusFlags {
        let mut flags = StatusFlags::empty();
        if self.autocommit {
            flags |= StatusFlags::SERVER_STATUS_AUTOCOMMIT;
        }
        if self.open.is_some() {
            flags |= StatusFlags::SERVER_STATUS_IN_TRANS;
        }
        flags
    }

    fn begin(&mut self, explicit: bool) {
        let snapshot = self.engine().snapshot();
        let mut index = 0;
        self.record.session(self.index, |session| {
            session.transactions.push(SqlTransaction {
                explicit,
                ending: SqlEnding::Open,
            });
            index = session.transactions.len() - 1;
        });
        self.open = Some((index, snapshot));
    }

    /// Ends the open transaction, if any: committed, or its changes undone.
    fn end(&mut self, ending: SqlEnding) {
        let Some((index, snapshot)) = self.open.take() else {
            return;
        };
        if ending != SqlEnding::Committed {
            self.engine().restore(snapshot);
        }
        self.record.session(self.index, |session| {
            session.transactions[index].ending = ending;
        });
    }

    /// Runs one statement and records it.
    fn run(&mut self, sql: &str, values: Values, bound_sql: Option<&str>) -> Answer {
        let text = bound_sql.unwrap_or(sql);
        let (answer, transaction) = match session_statement(text) {
            Some(statement) => (self.session(statement), None),
            None => {
                if commits_implicitly(text) {
                    self.end(SqlEnding::Committed);
                } else if !self.autocommit && self.open.is_none() {
                    self.begin(false);
                }
                let database = self.database.clone();
                let (outcome, insert_id) = {
                    let mut engine = self.engine();
                    let outcome = engine.execute(database.as_deref(), text);
                    (outcome, engine.statement_insert_id())
                };
                let answer = match outcome {
                    Ok(SqlOutcome::Rows(rows)) => Answer::Rows(rows),
                    Ok(SqlOutcome::Done { affected }) => Answer::Done(affected, insert_id),
                    Err(error) => Answer::Error(error),
                };
                (answer, self.open.as_ref().map(|(index, _)| *index))
            }
        };
        let recorded = match &answer {
            Answer::Rows(rows) => Ok(rows.rows.len() as u64),
            Answer::Done(affected, _) => Ok(*affected),
            Answer::Error(error) => Err(error.clone()),
        };
        self.record.session(self.index, |session| {
            session.statements.push(Statement {
                sql: sql.to_owned(),
                values,
                outcome: recorded,
                transaction,
            });
        });
        answer
    }

    fn session(&mut self, statement: SqlSessionStatement) -> Answer {
        match statement {
            SqlSessionStatement::Autocommit(on) => {
                if on {
                    self.end(SqlEnding::Committed);
                }
                self.autocommit = on;
                Answer::Done(0, 0)
            }
            SqlSessionStatement::Set => Answer::Done(0, 0),
            SqlSessionStatement::Begin => {
                self.end(SqlEnding::Committed);
                self.begin(true);
                Answer::Done(0, 0)
            }
            SqlSessionStatement::Commit => {
                self.end(SqlEnding::Committed);
                Answer::Done(0, 0)
            }
            SqlSessionStatement::Rollback => {
                self.end(SqlEnding::RolledBack);
                Answer::Done(0, 0)
            }
            SqlSessionStatement::Use(name) => {
                if self.engine().has_database(&name) {
                    self.database = Some(name);
                    Answer::Done(0, 0)
                } else {
                    Answer::Error(SqlError::new(1049, format!("Unknown database '{name}'")))
                }
            }
            SqlSessionStatement::Variables(items) => {
                static ALIAS: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new(r"(?i)\s+as\s+(\w+)$").expect("valid"));
                let mut rows = SqlRows::default();
                let mut row = Vec::new();
                for item in items {
                    let name = item.to_ascii_lowercase();
                    let bare = name.split_whitespace().next().unwrap_or_default();
                    let bare = bare
                        .trim_start_matches("@@")
                        .trim_start_matches("session.")
                        .trim_start_matches("global.");
                    let (value, integer) = match bare {
                        "version_comment" => (Some("harness MySQL pack".to_owned()), false),
                        "version()" | "version" => (Some(VERSION.to_owned()), false),
                        "max_allowed_packet" => (Some("67108864".to_owned()), true),
                        "wait_timeout" | "interactive_timeout" => (Some("28800".into()), true),
                        "autocommit" => (Some(u8::from(self.autocommit).to_string()), true),
                        "database()" => (self.database.clone(), false),
                        "user()" | "current_user()" => {
                            (Some(format!("{}@{}", self.script.user, self.host)), false)
                        }
                        "connection_id()" => (Some((self.index + 1).to_string()), true),
                        "character_set_client"
                        | "character_set_connection"
                        | "character_set_results" => (Some("utf8mb4".into()), false),
                        _ => (None, false),
                    };
                    let label = ALIAS
                        .captures(&item)
                        .map_or(item.clone(), |found| found[1].to_owned());
                    rows.columns.push(label);
                    rows.integer.push(integer);
                    row.push(value);
                }
                rows.rows.push(row);
                Answer::Rows(rows)
            }
            SqlSessionStatement::Empty(columns) => Answer::Rows(SqlRows {
                columns: columns.iter().map(|name| (*name).to_owned()).collect(),
                integer: vec![false; columns.len()],
                rows: Vec::new(),
            }),
        }
    }

    /// Writes an answer.
    async fn write<'a, W: AsyncWrite + Unpin + Send>(
        &'a mut self,
        answer: Answer,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        match answer {
            Answer::Done(affected, last_insert_id) => {
                let status_flags = self.status();
                results
                    .completed(OkResponse {
                        affected_rows: affected,
                        last_insert_id,
                        status_flags,
                        ..Default::default()
                    })
                    .await
            }
            Answer::Error(error) => {
                results
                    .error(ErrorKind::from(error.code), error.message.as_bytes())
                    .await
            }
            Answer::Rows(rows) => {
                self.columns = rows
                    .columns
                    .iter()
                    .zip(&rows.integer)
                    .map(|(name, integer)| text_column(name, *integer))
                    .collect();
                let this: &'a Shim = self;
                let mut writer = results.start(&this.columns).await?;
                for row in rows.rows {
                    for (value, integer) in row.into_iter().zip(&rows.integer) {
                        match (value, integer) {
                            (None, _) => writer.write_col(None::<i64>)?,
                            (Some(value), true) => match value.parse::<i64>() {
                                Ok(number) => writer.write_col(number)?,
                                Err(_) => writer.write_col(value)?,
                            },
                            (Some(value), false) => writer.write_col(value)?,
                        }
                    }
                    writer.end_row().await?;
                }
                writer.finish().await
            }
        }
    }

    /// The refusal, if the login was wrong.
    fn refusal(&self) -> Option<String> {
        self.denied
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Drop for Shim {
    /// The connection ended: an open transaction is rolled back.
    fn drop(&mut self) {
        self.end(SqlEnding::RolledBackAtDisconnect);
        self.record
            .session(self.index, |session| session.ended = true);
    }
}

#[async_trait::async_trait]
impl<W: AsyncWrite + Send + Unpin> AsyncMysqlShim<W> for Shim {
    type Error = io::Error;

    fn version(&self) -> String {
        VERSION.to_owned()
    }

    fn connect_id(&self) -> u32 {
        self.index as u32 + 1
    }

    fn default_auth_plugin(&self) -> &str {
        self.script.auth.name()
    }

    async fn auth_plugin_for_username(&self, _user: &[u8]) -> &str {
        self.script.auth.name()
    }

    fn salt(&self) -> [u8; 20] {
        // Printable, without NUL or `$` (clients read the scramble up to a NUL); fixed
        // per session number so that a run replays.
        let mut salt = [0u8; 20];
        for (index, byte) in salt.iter_mut().enumerate() {
            *byte = b'A' + ((index * 7 + self.index * 3) % 26) as u8;
        }
        salt
    }

    async fn authenticate(
        &self,
        _plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> bool {
        let user = String::from_utf8_lossy(username).into_owned();
        let (method, accepted) = scramble_login(
            &user,
            salt,
            auth_data,
            &self.script.user,
            &self.script.password,
        );
        self.record.session(self.index, |session| {
            session.login = Some((user.clone(), accepted));
            session.auth_method = Some(method.name());
        });
        if accepted {
            if method == AuthPlugin::CachingSha2Password {
                self.fast_auth.store(true, Ordering::SeqCst);
            }
        } else {
            let using = if auth_data.is_empty() { "NO" } else { "YES" };
            *self
                .denied
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(format!(
                "Access denied for user '{user}'@'{}' (using password: {using})",
                self.host
            ));
        }
        // The refusal is sent in place of the OK that follows ([`Shim::refusal`]):
        // opensrv-mysql's own has another code (1698) and text.
        true
    }

    async fn on_init<'a>(
        &'a mut self,
        database: &'a str,
        writer: InitWriter<'a, W>,
    ) -> io::Result<()> {
        if let Some(refusal) = self.refusal() {
            return writer
                .error(ErrorKind::ER_ACCESS_DENIED_ERROR, refusal.as_bytes())
                .await;
        }
        // An empty name is no database: a client that connects without one may still send
        // the handshake's database field (MySQL and MariaDB take it so).
        if database.is_empty() {
            writer.ok().await
        } else if self.engine().has_database(database) {
            self.database = Some(database.to_owned());
            writer.ok().await
        } else {
            writer
                .error(
                    ErrorKind::ER_BAD_DB_ERROR,
                    format!("Unknown database '{database}'").as_bytes(),
                )
                .await
        }
    }

    async fn on_prepare<'a>(
        &'a mut self,
        sql: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> io::Result<()> {
        if let Some(refusal) = self.refusal() {
            return info
                .error(ErrorKind::ER_ACCESS_DENIED_ERROR, refusal.as_bytes())
                .await;
        }
        if dialect::pieces(sql).is_none() {
            let error = SqlError::syntax(sql);
            return info
                .error(ErrorKind::from(error.code), error.message.as_bytes())
                .await;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.prepared.insert(id, sql.to_owned());
        self.columns = (0..dialect::placeholders(sql))
            .map(|_| text_column("?", false))
            .collect();
        let this: &'a Shim = self;
        info.reply(id, &this.columns, &[]).await
    }

    async fn on_execute<'a>(
        &'a mut self,
        id: u32,
        params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        if let Some(refusal) = self.refusal() {
            return results
                .error(ErrorKind::ER_ACCESS_DENIED_ERROR, refusal.as_bytes())
                .await;
        }
        let Some(sql) = self.prepared.get(&id).cloned() else {
            return results
                .error(
                    ErrorKind::ER_UNKNOWN_STMT_HANDLER,
                    format!(
                        "Unknown prepared statement handler ({id}) given to mysqld_stmt_execute"
                    )
                    .as_bytes(),
                )
                .await;
        };
        let mut shown = Vec::new();
        let mut literals = Vec::new();
        for param in params {
            let (value, literal) = match param.value.into_inner() {
                ValueInner::NULL => (None, "NULL".to_owned()),
                ValueInner::Bytes(bytes) => {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    let literal = dialect::mysql_literal(&text);
                    (Some(text), literal)
                }
                ValueInner::Int(number) => (Some(number.to_string()), number.to_string()),
                ValueInner::UInt(number) => (Some(number.to_string()), number.to_string()),
                ValueInner::Double(number) => (Some(number.to_string()), number.to_string()),
                other => {
                    let text = format!("{other:?}");
                    (Some(text.clone()), dialect::mysql_literal(&text))
                }
            };
            shown.push(value);
            literals.push(literal);
        }
        let answer = match dialect::bind(&sql, &literals) {
            Some(bound) => self.run(&sql, Values::Bound(shown), Some(&bound)),
            None => Answer::Error(SqlError::new(
                1210,
                "Incorrect arguments to mysqld_stmt_execute",
            )),
        };
        self.write(answer, results).await
    }

    async fn on_close<'a>(&'a mut self, id: u32)
    where
        W: 'async_trait,
    {
        self.prepared.remove(&id);
    }

    async fn on_query<'a>(
        &'a mut self,
        sql: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        if let Some(refusal) = self.refusal() {
            return results
                .error(ErrorKind::ER_ACCESS_DENIED_ERROR, refusal.as_bytes())
                .await;
        }
        let answer = self.run(sql, Values::Text, None);
        self.write(answer, results).await
    }
}
