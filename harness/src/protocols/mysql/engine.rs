//! The embedded SQL engine behind the MySQL pack: databases of gluesql's memory storage,
//! one per name, with MySQL's own statements answered here (`CREATE DATABASE`,
//! `SHOW DATABASES`, `SHOW TABLES`, `DESCRIBE`) and the rest rewritten
//! ([`super::dialect`]) and run by gluesql, its errors given MySQL's codes and texts
//! (1062 `Duplicate entry`, 1146 `Table ... doesn't exist`, 1064 a syntax error).
//!
//! Transactions are the session's business ([`super::session`]): it takes a copy of
//! every database at `BEGIN` ([`SqlEngine::snapshot`]) and puts it back on `ROLLBACK`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use gluesql::core::data::Value;
use gluesql::core::error::{Error, ValidateError};
use gluesql::core::executor::Payload;
use gluesql::core::store::Store;
use gluesql::gluesql_memory_storage::MemoryStorage;
use gluesql::prelude::Glue;
use regex::Regex;

use super::dialect;

/// A result set: column names, and rows of values (`None`: NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Which columns hold integers (sent as such in the binary protocol).
    pub integer: Vec<bool>,
}

/// An error as MySQL reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub code: u16,
    pub message: String,
}

impl SqlError {
    pub fn new(code: u16, message: impl Into<String>) -> SqlError {
        SqlError {
            code,
            message: message.into(),
        }
    }

    /// 1064, MySQL's words for a statement it cannot parse.
    pub fn syntax(sql: &str) -> SqlError {
        let near: String = sql.trim().chars().take(80).collect();
        SqlError::new(
            1064,
            format!(
                "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line 1"
            ),
        )
    }
}

/// What a statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlOutcome {
    /// A result set.
    Rows(SqlRows),
    /// No result set: the rows it changed.
    Done { affected: u64 },
}

/// Every database, by name.
#[derive(Debug, Clone, Default)]
pub struct SqlEngine {
    databases: BTreeMap<String, MemoryStorage>,
}

/// A copy of every database, to put back on `ROLLBACK`.
#[derive(Debug, Clone)]
pub struct SqlSnapshot(BTreeMap<String, MemoryStorage>);

impl SqlEngine {
    /// An engine with these (empty) databases.
    pub fn with_databases<'a>(names: impl IntoIterator<Item = &'a str>) -> SqlEngine {
        SqlEngine {
            databases: names
                .into_iter()
                .map(|name| (name.to_owned(), MemoryStorage::default()))
                .collect(),
        }
    }

    pub fn has_database(&self, name: &str) -> bool {
        self.databases.contains_key(name)
    }

    pub fn snapshot(&self) -> SqlSnapshot {
        SqlSnapshot(self.databases.clone())
    }

    pub fn restore(&mut self, snapshot: SqlSnapshot) {
        self.databases = snapshot.0;
    }

    /// The names of a database's tables.
    pub fn tables(&self, database: &str) -> Vec<String> {
        self.databases
            .get(database)
            .and_then(|storage| storage.fetch_all_schemas().ok())
            .map(|schemas| {
                schemas
                    .into_iter()
                    .map(|schema| schema.table_name)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A table's columns: name, type, and whether it is the primary key.
    pub fn columns(&self, database: &str, table: &str) -> Option<Vec<(String, String, bool)>> {
        let schema = self
            .databases
            .get(database)?
            .fetch_schema(&find_table(self, database, table)?)
            .ok()??;
        Some(
            schema
                .column_defs
                .unwrap_or_default()
                .into_iter()
                .map(|column| {
                    let primary = column.unique.is_some_and(|unique| unique.is_primary);
                    (column.name, column.data_type.to_string(), primary)
                })
                .collect(),
        )
    }

    /// Every row of a table (`SELECT *`), for the judges.
    pub fn table(&self, database: &str, table: &str) -> Option<SqlRows> {
        let name = find_table(self, database, table)?;
        let mut glue = Glue::new(self.databases.get(database)?.clone());
        let payloads = glue.execute(format!("SELECT * FROM \"{name}\"")).ok()?;
        match payloads.into_iter().next()? {
            Payload::Select { labels, rows } => Some(rows_of(labels, rows)),
            _ => None,
        }
    }

    /// Runs one statement (MySQL's dialect) in `database`.
    pub fn execute(&mut self, database: Option<&str>, sql: &str) -> Result<SqlOutcome, SqlError> {
        let sql = sql.trim().trim_end_matches(';').trim();
        if let Some(outcome) = self.own_statement(database, sql) {
            return outcome;
        }
        let Some(database) = database else {
            return Err(SqlError::new(1046, "No database selected"));
        };
        let Some(translated) = dialect::to_engine(sql) else {
            return Err(SqlError::syntax(sql));
        };
        let Some(storage) = self.databases.get_mut(database) else {
            return Err(unknown_database(database));
        };
        let mut glue = Glue::new(std::mem::take(storage));
        let result = glue.execute(&translated);
        *storage = glue.storage;
        match result {
            Ok(payloads) => match payloads.into_iter().last() {
                Some(payload) => Ok(outcome_of(payload)),
                None => Err(SqlError::new(1065, "Query was empty")),
            },
            Err(error) => Err(mysql_error(database, sql, &error)),
        }
    }

    /// MySQL's own statements about databases and tables.
    fn own_statement(
        &mut self,
        database: Option<&str>,
        sql: &str,
    ) -> Option<Result<SqlOutcome, SqlError>> {
        static CREATE_DB: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"(?is)^create\s+(database|schema)\s+(if\s+not\s+exists\s+)?`?(\w+)`?(\s+.*)?$",
            )
            .expect("valid")
        });
        static DROP_DB: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?is)^drop\s+(database|schema)\s+(if\s+exists\s+)?`?(\w+)`?$")
                .expect("valid")
        });
        static SHOW_DBS: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?is)^show\s+(databases|schemas)$").expect("valid"));
        static SHOW_TABLES: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?is)^show\s+(full\s+)?tables(\s+(from|in)\s+`?(\w+)`?)?$").expect("valid")
        });
        static DESCRIBE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"(?is)^(describe|desc|show\s+(full\s+)?(columns|fields)\s+(from|in))\s+`?(\w+)`?$",
            )
            .expect("valid")
        });
        if let Some(found) = CREATE_DB.captures(sql) {
            let name = found[3].to_owned();
            if self.databases.contains_key(&name) {
                if found.get(2).is_some() {
                    return Some(Ok(SqlOutcome::Done { affected: 0 }));
                }
                return Some(Err(SqlError::new(
                    1007,
                    format!("Can't create database '{name}'; database exists"),
                )));
            }
            self.databases.insert(name, MemoryStorage::default());
            return Some(Ok(SqlOutcome::Done { affected: 1 }));
        }
        if let Some(found) = DROP_DB.captures(sql) {
            let name = &found[3];
            if self.databases.remove(name).is_none() && found.get(2).is_none() {
                return Some(Err(SqlError::new(
                    1008,
                    format!("Can't drop database '{name}'; database doesn't exist"),
                )));
            }
            return Some(Ok(SqlOutcome::Done { affected: 0 }));
        }
        if SHOW_DBS.is_match(sql) {
            let mut names: Vec<String> = vec!["information_schema".into()];
            names.extend(self.databases.keys().cloned());
            return Some(Ok(SqlOutcome::Rows(one_column("Database", names))));
        }
        if let Some(found) = SHOW_TABLES.captures(sql) {
            let name = found
                .get(4)
                .map(|name| name.as_str().to_owned())
                .or(database.map(str::to_owned));
            let Some(name) = name else {
                return Some(Err(SqlError::new(1046, "No database selected")));
            };
            if !self.databases.contains_key(&name) {
                return Some(Err(unknown_database(&name)));
            }
            let mut tables = self.tables(&name);
            tables.sort();
            return Some(Ok(SqlOutcome::Rows(one_column(
                &format!("Tables_in_{name}"),
                tables,
            ))));
        }
        if let Some(found) = DESCRIBE.captures(sql) {
            let table = &found[5];
            let Some(database) = database else {
                return Some(Err(SqlError::new(1046, "No database selected")));
            };
            let Some(columns) = self.columns(database, table) else {
                return Some(Err(no_such_table(database, table)));
            };
            let rows = columns
                .into_iter()
                .map(|(name, kind, primary)| {
                    vec![
                        Some(name),
                        Some(kind.to_lowercase()),
                        Some(if primary { "NO" } else { "YES" }.to_owned()),
                        Some(if primary { "PRI" } else { "" }.to_owned()),
                        None,
                        Some(String::new()),
                    ]
                })
                .collect();
            return Some(Ok(SqlOutcome::Rows(SqlRows {
                columns: ["Field", "Type", "Null", "Key", "Default", "Extra"]
                    .map(str::to_owned)
                    .to_vec(),
                integer: vec![false; 6],
                rows,
            })));
        }
        None
    }
}

/// The table's name as stored (MySQL on Linux compares table names exactly; so does
/// this), if it exists.
fn find_table(engine: &SqlEngine, database: &str, table: &str) -> Option<String> {
    engine
        .tables(database)
        .into_iter()
        .find(|name| name == table)
}

/// A result set of one text column.
pub fn one_column(name: &str, values: Vec<String>) -> SqlRows {
    SqlRows {
        columns: vec![name.to_owned()],
        integer: vec![false],
        rows: values.into_iter().map(|value| vec![Some(value)]).collect(),
    }
}

fn rows_of(labels: Vec<String>, rows: Vec<Vec<Value>>) -> SqlRows {
    let mut integer = vec![false; labels.len()];
    let mut seen = vec![false; labels.len()];
    let rows = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .enumerate()
                .map(|(index, value)| {
                    if value == Value::Null {
                        return None;
                    }
                    if index < integer.len() && !seen[index] {
                        seen[index] = true;
                        integer[index] = matches!(
                            value,
                            Value::I8(_)
                                | Value::I16(_)
                                | Value::I32(_)
                                | Value::I64(_)
                                | Value::U8(_)
                                | Value::U16(_)
                                | Value::U32(_)
                                | Value::U64(_)
                        );
                    }
                    Some(String::from(&value))
                })
                .collect()
        })
        .collect();
    SqlRows {
        columns: labels,
        rows,
        integer,
    }
}

fn outcome_of(payload: Payload) -> SqlOutcome {
    match payload {
        Payload::Select { labels, rows } => SqlOutcome::Rows(rows_of(labels, rows)),
        Payload::Insert(count) | Payload::Delete(count) | Payload::Update(count) => {
            SqlOutcome::Done {
                affected: count as u64,
            }
        }
        Payload::ShowColumns(columns) => SqlOutcome::Rows(SqlRows {
            columns: vec!["Field".into(), "Type".into()],
            integer: vec![false, false],
            rows: columns
                .into_iter()
                .map(|(name, kind)| vec![Some(name), Some(kind.to_string())])
                .collect(),
        }),
        _ => SqlOutcome::Done { affected: 0 },
    }
}

fn unknown_database(name: &str) -> SqlError {
    SqlError::new(1049, format!("Unknown database '{name}'"))
}

fn no_such_table(database: &str, table: &str) -> SqlError {
    SqlError::new(1146, format!("Table '{database}.{table}' doesn't exist"))
}

/// gluesql's error as MySQL's code and text.
fn mysql_error(database: &str, sql: &str, error: &Error) -> SqlError {
    let text = error.to_string();
    if let Error::Validate(ValidateError::DuplicateEntryOnPrimaryKeyField(key)) = error {
        let value = match key {
            gluesql::core::data::Key::Str(value) => value.clone(),
            other => format!("{other:?}")
                .split(['(', ')'])
                .nth(1)
                .unwrap_or_default()
                .to_owned(),
        };
        return SqlError::new(1062, format!("Duplicate entry '{value}' for key 'PRIMARY'"));
    }
    if let Some(table) = text
        .strip_prefix("fetch: table not found: ")
        .or_else(|| text.split("table not found: ").nth(1))
    {
        return no_such_table(database, table.trim());
    }
    if matches!(error, Error::Parser(_)) {
        return SqlError::syntax(sql);
    }
    if text.contains("table already exists") {
        let table = text.rsplit(": ").next().unwrap_or_default();
        return SqlError::new(1050, format!("Table '{table}' already exists"));
    }
    SqlError::new(1105, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(affected: u64) -> Result<SqlOutcome, SqlError> {
        Ok(SqlOutcome::Done { affected })
    }

    #[test]
    fn what_the_labs_send_runs_with_mysql_answers() {
        let mut engine = SqlEngine::with_databases(["school"]);
        let db = Some("school");
        assert_eq!(
            engine.execute(db, "CREATE TABLE IF NOT EXISTS `students` (roll_no INT PRIMARY KEY, name VARCHAR(50) NOT NULL, semester INT, programme VARCHAR(20)) ENGINE=InnoDB;"),
            done(0)
        );
        assert_eq!(
            engine.execute(db, r"INSERT INTO students (roll_no, name, semester, programme) VALUES (1, 'D\'Souza', 8, 'BTech'), (2, 'O''Neil', 8, 'BTech')"),
            done(2)
        );
        let Ok(SqlOutcome::Rows(rows)) =
            engine.execute(db, "SELECT name FROM students ORDER BY roll_no")
        else {
            panic!("a result set")
        };
        assert_eq!(
            rows.rows,
            vec![vec![Some("D'Souza".into())], vec![Some("O'Neil".into())]]
        );
        let duplicate = engine
            .execute(db, "INSERT INTO students VALUES (1, 'x', 8, 'BTech')")
            .unwrap_err();
        assert_eq!(duplicate.code, 1062, "{duplicate:?}");
        assert_eq!(duplicate.message, "Duplicate entry '1' for key 'PRIMARY'");
        let missing = engine.execute(db, "SELECT * FROM nowhere").unwrap_err();
        assert_eq!(
            missing,
            SqlError::new(1146, "Table 'school.nowhere' doesn't exist")
        );
        assert_eq!(
            engine
                .execute(db, "SELEC * FROM students")
                .unwrap_err()
                .code,
            1064
        );
        assert_eq!(
            engine.execute(db, "UPDATE students SET semester = 7 WHERE roll_no = 2"),
            done(1)
        );
        assert_eq!(engine.execute(db, "DELETE FROM students"), done(2));
        let Ok(SqlOutcome::Rows(tables)) = engine.execute(db, "SHOW TABLES") else {
            panic!("a result set")
        };
        assert_eq!(tables.columns, vec!["Tables_in_school".to_owned()]);
        assert_eq!(tables.rows, vec![vec![Some("students".into())]]);
        let Ok(SqlOutcome::Rows(described)) = engine.execute(db, "DESCRIBE students") else {
            panic!("a result set")
        };
        assert_eq!(described.rows[0][3], Some("PRI".into()));
        assert_eq!(engine.execute(None, "CREATE DATABASE lab"), done(1));
        assert_eq!(
            engine
                .execute(None, "CREATE DATABASE lab")
                .unwrap_err()
                .code,
            1007
        );
        assert_eq!(engine.execute(None, "SELECT 1").unwrap_err().code, 1046);
    }

    #[test]
    fn a_snapshot_puts_every_database_back() {
        let mut engine = SqlEngine::with_databases(["school"]);
        engine
            .execute(Some("school"), "CREATE TABLE t (a INT PRIMARY KEY)")
            .unwrap();
        let before = engine.snapshot();
        engine
            .execute(Some("school"), "INSERT INTO t VALUES (1)")
            .unwrap();
        engine.restore(before);
        assert_eq!(engine.table("school", "t").unwrap().rows.len(), 0);
    }
}
