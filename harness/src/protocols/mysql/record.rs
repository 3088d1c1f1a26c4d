//! What the MySQL server peer saw: one session per connection, with its login, every
//! statement in order (its text, how its values came: in the text or as bound parameters
//! of a prepared statement, and what it did), each transaction begun, committed or
//! rolled back; and where the tables are (the embedded engine, or a real MariaDB with
//! `--mysql real`), which the judges read at the end.

use std::any::Any;
use std::sync::{Arc, Mutex};

use super::mariadb::Mariadb;
use crate::peers::{Progress, ProtocolRecord};
use mysql_engine::{SqlEngine, SqlError, SqlOutcome, SqlRows};

/// How a statement's values came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Values {
    /// In the statement's text (`COM_QUERY`): literals, however the client made them.
    Text,
    /// As the bound parameters of a prepared statement (`COM_STMT_EXECUTE`), each as
    /// sent (`None`: NULL).
    Bound(Vec<Option<String>>),
}

/// One statement and what it did.
#[derive(Debug, Clone)]
pub(super) struct Statement {
    pub sql: String,
    pub values: Values,
    /// The rows it changed or returned, or its error.
    pub outcome: Result<u64, SqlError>,
    /// The transaction it ran in (an index into [`MysqlSession::transactions`]); none:
    /// autocommit, it was committed on its own.
    pub transaction: Option<usize>,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SqlEnding {
    /// Still open.
    Open,
    /// `COMMIT` (or a statement that commits implicitly: DDL, `SET autocommit=1`).
    Committed,
    /// `ROLLBACK`.
    RolledBack,
    /// The connection ended with it open: rolled back, as a server does.
    RolledBackAtDisconnect,
}

/// One transaction of a session.
#[derive(Debug, Clone)]
pub(super) struct SqlTransaction {
    /// Begun by `BEGIN`/`START TRANSACTION` (else: the first statement with autocommit
    /// off).
    pub explicit: bool,
    pub ending: SqlEnding,
}

/// One connection.
#[derive(Debug, Clone, Default)]
pub(super) struct MysqlSession {
    /// The user it logged in as, and whether the password was right.
    pub login: Option<(String, bool)>,
    /// The authentication method its password came by.
    pub auth_method: Option<&'static str>,
    pub statements: Vec<Statement>,
    pub transactions: Vec<SqlTransaction>,
    /// The connection ended.
    pub ended: bool,
}

/// Where the peer's tables are.
#[derive(Debug)]
pub(super) enum SqlTables {
    /// The pack's own engine, which its sessions share.
    Embedded(Arc<Mutex<SqlEngine>>),
    /// A real MariaDB (`--mysql real`).
    Real(Arc<Mariadb>),
}

/// The peer's record: its sessions, and its tables.
#[derive(Debug)]
pub(super) struct MysqlRecord {
    pub sessions: Mutex<Vec<MysqlSession>>,
    /// The database the scenario names, where the judges look for tables.
    pub database: String,
    pub tables: SqlTables,
}

impl ProtocolRecord for MysqlRecord {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn trouble(&self) -> Option<String> {
        self.tables_trouble()
    }

    /// A login is the handshake's answer; a command is a statement's first word.
    fn progress(&self) -> Option<Progress> {
        let sessions = self.sessions();
        Some(Progress {
            connections: sessions.len(),
            logins: sessions
                .iter()
                .filter_map(|session| session.login.as_ref())
                .map(|(_, accepted)| *accepted)
                .collect(),
            commands: sessions
                .iter()
                .flat_map(|session| &session.statements)
                .map(|statement| {
                    statement
                        .sql
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase()
                })
                .collect(),
            tls_handshakes: 0,
        })
    }
}

impl MysqlRecord {
    /// A copy of the sessions so far.
    pub(super) fn sessions(&self) -> Vec<MysqlSession> {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Changes session `index`.
    pub(super) fn session(&self, index: usize, change: impl FnOnce(&mut MysqlSession)) {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut all[index]);
    }

    /// Opens a session; its index.
    pub(super) fn open(&self) -> usize {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.push(MysqlSession::default());
        all.len() - 1
    }

    /// Every row of a table of the scenario's database, as it is now.
    pub(super) fn table(&self, name: &str) -> Option<SqlRows> {
        match &self.tables {
            SqlTables::Embedded(engine) => lock(engine).table(&self.database, name),
            SqlTables::Real(server) => server.table(&self.database, name),
        }
    }

    /// A table's columns: name, type, and whether it is the primary key.
    pub(super) fn columns(&self, name: &str) -> Option<Vec<(String, String, bool)>> {
        match &self.tables {
            SqlTables::Embedded(engine) => lock(engine).columns(&self.database, name),
            SqlTables::Real(server) => server.columns(&self.database, name),
        }
    }

    /// Runs a statement on the tables as they are now, changing nothing that stays.
    pub(super) fn select(&self, sql: &str) -> Result<SqlOutcome, SqlError> {
        match &self.tables {
            SqlTables::Embedded(engine) => lock(engine).clone().execute(Some(&self.database), sql),
            SqlTables::Real(server) => server.select(&self.database, sql),
        }
    }

    /// Why the tables cannot be read, if they cannot (a real server that never started,
    /// or refused the scenario's account or tables).
    pub(super) fn tables_trouble(&self) -> Option<String> {
        match &self.tables {
            SqlTables::Embedded(_) => None,
            SqlTables::Real(server) => server.trouble(),
        }
    }
}

/// The engine, even if a session panicked while holding it.
pub(super) fn lock(engine: &Mutex<SqlEngine>) -> std::sync::MutexGuard<'_, SqlEngine> {
    engine
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// "; a transaction was still open ..." when a session ended with one open (rolled back
/// then), for the judges' reports; empty otherwise.
pub(super) fn uncommitted_note(sessions: &[MysqlSession]) -> String {
    let lost: usize = sessions
        .iter()
        .flat_map(|session| &session.transactions)
        .filter(|transaction| transaction.ending == SqlEnding::RolledBackAtDisconnect)
        .count();
    if lost > 0 {
        "; a transaction was still open when the connection ended, and was rolled back: the program never committed (pymysql does not autocommit: call connection.commit())".into()
    } else {
        String::new()
    }
}
