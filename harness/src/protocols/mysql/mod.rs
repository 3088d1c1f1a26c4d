//! The MySQL pack: the harness as the MySQL server a submitted `mysql-remote` runs its
//! statements on (SPEC sql/1–3), over an embedded SQL engine, so grading needs no
//! database server; and the judges of what it was sent and what it stored.
//!
//! - [`server`]: one connection; opensrv-mysql speaks the wire protocol (the handshake,
//!   `COM_QUERY`, `COM_INIT_DB`, `COM_STMT_PREPARE`/`EXECUTE`/`CLOSE`, `COM_PING`,
//!   `COM_QUIT`) over a pipe whose bytes go through the transcript like every peer's;
//! - [`session`]: the login (`mysql_native_password` and `caching_sha2_password`, the
//!   password checked for real; a wrong one is refused with MySQL's 1045 `Access denied
//!   for user ...`), session statements, autocommit and transactions;
//! - the `mysql-engine` crate ([`mysql_engine`]): gluesql's memory storage, and MySQL's
//!   spelling of SQL rewritten into what it parses (a `CREATE TABLE`'s keys gluesql cannot
//!   hold, the engine checks itself);
//! - [`record`]: every statement in order, how its values came, each transaction and how
//!   it ended; the engine's tables at the end;
//! - [`expectations`]: `mysql_session` on `expect_received` (the `students` table, one
//!   committed transaction, no duplicates) and `sql_table` on `expect_stdout` (a result
//!   set printed as a table, or the rows affected);
//! - with `--mysql real`, a real MariaDB in place of the engine ([`mariadb`]): the pack
//!   relays the bytes to it ([`forward`]) and reads the record off them ([`observer`]), so
//!   the same judges give the verdicts a real server would.
//!
//! ```toml
//! [[step]]
//! listen = "db"
//! mysql = { user = "alice", password = "s3cret", database = "school", auth = "caching_sha2_password", setup = ["CREATE TABLE t (a INT PRIMARY KEY)"] }
//! ```
//!
//! Options: `user`, `password` (the only login accepted), `database` (exists, empty
//! but for what `setup` makes), `auth` (the method the greeting offers:
//! `mysql_native_password`, the default, or `caching_sha2_password`; a client answering
//! with the other is checked by it all the same), `setup` (statements run in `database`
//! before any client comes; a scenario's file is refused if one fails).
//!
//! What it does not do: concurrent transactions see each other's uncommitted rows (one
//! client at a time here); `AUTO_INCREMENT` is dropped (a value must be given); a `CHECK`
//! constraint is refused (gluesql's "unsupported constraint", 1105); a login without a
//! database in the handshake is refused only at its first statement.

mod auth;
mod expectations;
mod forward;
mod mariadb;
mod observer;
mod printed;
mod record;
mod server;
mod session;
mod statements;
mod students;

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::{
    ListenShape, Loaded, Login, LoginPart, OptionsInput, Pack, PackSetting, ServerOptions,
};
use crate::peers::{Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served};
use crate::settings::RunSettings;
/// For the account model's property test (`protocols::accounts`).
#[cfg(test)]
pub(super) use auth::{native_scramble, scramble_login, sha2_scramble};
use mariadb::Mariadb;
use mysql_engine::SqlEngine;
use record::{MysqlRecord, SqlTables};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "mysql",
    server: Some(ServerOptions {
        key: "mysql",
        load,
        schema: |generator| generator.subschema_for::<MysqlScript>(),
        keeps_clear_text: false,
    }),
    checks: &[],
    client: None,
    expectations: &[expectations::MYSQL_SESSION, expectations::SQL_TABLE],
    setting: Some(PackSetting {
        flag: "mysql",
        help: "Who plays the MySQL server of `mysql-remote`: `auto` (the default: a throw-away \
MariaDB per scenario where Debian's mariadb-server is installed, else the harness's own \
engine; the header says which), `embedded` (the harness's own engine, no database server \
needed) or `real` (MariaDB, required)",
        value_name: "SERVER",
        values: &["auto", "embedded", "real"],
        tasks: &["mysql-remote"],
        choose: mariadb::choose,
    }),
    login: Some(Login {
        protocol: "MySQL",
        tasks: &["mysql-remote"],
        refusal: login_refusal,
    }),
};

/// The longest user name MySQL's account takes, in characters: MariaDB's (10.11, the
/// `--mysql auto` engine; `CREATE USER` of a longer one is error 1470, tried), which the
/// shim, with no limit of its own, keeps too so that both peers are one account model.
pub(in crate::protocols) const MYSQL_USER_MAX_CHARS: usize = 128;

/// What MySQL cannot carry of a login, beyond what no pack carries
/// (`super::accounts::login_refusal`): a user of more than [`MYSQL_USER_MAX_CHARS`]
/// characters or with one outside Unicode's Basic Multilingual Plane (MariaDB keeps user
/// names in `utf8mb3`, three bytes a character: `CREATE USER 'u😀'` is error 1470, tried),
/// and an empty password (the handshake answers the salt with a scramble of the password;
/// an empty answer is a login without one, refused).
fn login_refusal(_protocol: &str, part: LoginPart, value: &str) -> Option<String> {
    let length = value.chars().count();
    if part == LoginPart::User && length > MYSQL_USER_MAX_CHARS {
        return Some(format!(
            "{length} characters; MySQL user names hold at most {MYSQL_USER_MAX_CHARS}"
        ));
    }
    if part == LoginPart::User
        && let Some(beyond) = value.chars().find(|c| u32::from(*c) > 0xFFFF)
    {
        return Some(format!(
            "holds `{beyond}` (U+{:X}), outside Unicode's Basic Multilingual Plane; MySQL user names hold only characters of three UTF-8 bytes at most (MariaDB refuses the account, error 1470)",
            u32::from(beyond)
        ));
    }
    if part == LoginPart::Password && value.is_empty() {
        return Some(
            "is empty; a MySQL client sends no scramble for an empty password, which the account refuses".to_owned(),
        );
    }
    None
}

/// The password method the greeting offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum AuthPlugin {
    /// SHA-1 based, MySQL 5 and MariaDB's default.
    #[default]
    MysqlNativePassword,
    /// SHA-256 based, MySQL 8's default.
    CachingSha2Password,
}

impl AuthPlugin {
    pub(super) fn name(self) -> &'static str {
        match self {
            AuthPlugin::MysqlNativePassword => "mysql_native_password",
            AuthPlugin::CachingSha2Password => "caching_sha2_password",
        }
    }
}

/// The MySQL server peer's account, database and first tables.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MysqlScript {
    /// The user name it accepts.
    pub user: String,
    /// Its password (any other: 1045).
    pub password: String,
    /// The database that exists.
    pub database: String,
    /// The password method the greeting offers.
    #[serde(default)]
    pub auth: AuthPlugin,
    /// Statements run in `database` before any client comes (MySQL's dialect).
    #[serde(default)]
    pub setup: Vec<String>,
}

impl MysqlScript {
    /// A fresh engine: the database, and what `setup` made in it.
    fn engine(&self) -> Result<SqlEngine, String> {
        let mut engine = SqlEngine::with_databases([self.database.as_str()]);
        for statement in &self.setup {
            engine
                .execute(Some(&self.database), statement)
                .map_err(|error| {
                    format!(
                        "`mysql.setup`: `{statement}` fails: {} {}",
                        error.code, error.message
                    )
                })?;
        }
        Ok(engine)
    }
}

/// Checks that a MySQL server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = MysqlScript::deserialize(input.value)?;
    input.step.tcp_dialogue_only("mysql", "a MySQL server")?;
    if script.user.is_empty() || script.password.is_empty() || script.database.is_empty() {
        return Err("`mysql.user`, `mysql.password` and `mysql.database` cannot be empty".into());
    }
    script.engine()?;
    Ok(Arc::new(script))
}

impl MysqlScript {
    /// The step log's line, `played_by` after the server (` with a real MariaDB`).
    fn line(&self, played_by: &str) -> String {
        format!(
            "playing a MySQL server{played_by} (user {}, database {}, {}{})",
            self.user,
            self.database,
            self.auth.name(),
            if self.setup.is_empty() {
                String::new()
            } else {
                format!(", {} setup statements", self.setup.len())
            }
        )
    }
}

impl ProtocolScript for MysqlScript {
    /// Who plays it is the run's choice (`--mysql`): see [`Self::describe_in_run`].
    fn describe(&self) -> String {
        self.line("")
    }

    fn describe_in_run(&self, settings: &RunSettings) -> String {
        self.line(if mariadb::plays(self.auth, settings) {
            " with a real MariaDB"
        } else {
            " with the pack's engine"
        })
    }

    fn unplayable(&self, settings: &RunSettings) -> Option<String> {
        mariadb::refuses(self.auth, settings).then(|| {
            "its MySQL server offers caching_sha2_password, which MariaDB (--mysql real) does not have".to_owned()
        })
    }

    fn start(&self, settings: &RunSettings) -> Arc<dyn ProtocolServer> {
        let script = Arc::new(self.clone());
        if mariadb::plays(self.auth, settings) {
            let server = Arc::new(Mariadb::start(self, settings));
            return Arc::new(MysqlPeer {
                record: Arc::new(MysqlRecord {
                    sessions: Mutex::new(Vec::new()),
                    database: self.database.clone(),
                    tables: SqlTables::Real(Arc::clone(&server)),
                }),
                script,
                served_by: ServedBy::Real(server),
            });
        }
        let engine = Arc::new(Mutex::new(
            self.engine().expect("checked when the scenario was loaded"),
        ));
        Arc::new(MysqlPeer {
            record: Arc::new(MysqlRecord {
                sessions: Mutex::new(Vec::new()),
                database: self.database.clone(),
                tables: SqlTables::Embedded(Arc::clone(&engine)),
            }),
            script,
            served_by: ServedBy::Embedded(engine),
        })
    }
}

/// Who answers the statements.
#[derive(Debug)]
enum ServedBy {
    /// The pack's engine, through its opensrv-mysql shim.
    Embedded(Arc<Mutex<SqlEngine>>),
    /// A real MariaDB, the bytes relayed to it.
    Real(Arc<Mariadb>),
}

/// One running MySQL server peer and its record.
#[derive(Debug)]
struct MysqlPeer {
    script: Arc<MysqlScript>,
    record: Arc<MysqlRecord>,
    served_by: ServedBy,
}

impl ProtocolServer for MysqlPeer {
    fn record(&self) -> &dyn ProtocolRecord {
        &*self.record
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        match &self.served_by {
            ServedBy::Embedded(engine) => Box::pin(server::serve(
                conversation,
                Arc::clone(&self.script),
                Arc::clone(&self.record),
                Arc::clone(engine),
            )),
            ServedBy::Real(mariadb) => Box::pin(forward::serve(
                conversation,
                Arc::clone(mariadb),
                Arc::clone(&self.record),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
// Issue 39 §3: the embedded engine against a real MariaDB, statement by statement.
#[cfg(test)]
mod corpus_tests;
