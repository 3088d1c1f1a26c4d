//! What a real MariaDB was told and answered (`--mysql real`), read off the bytes the pack
//! relays, into the same [`record`](super::record) the embedded peer keeps: the login, every
//! statement with how its values came and what it did, each transaction and how it ended.
//! The judges then read one record whichever server played.
//!
//! The MySQL client/server protocol, as far as it is read here:
//!
//! ```text
//! every packet:   length (3 bytes, little-endian) | sequence (1) | payload
//! server:  greeting 0a: version NUL, id(4), salt(8), 0, capabilities(2), charset, status(2),
//!                       capabilities(2), ..., auth plugin name NUL
//! client:  login: capabilities(4), max packet(4), charset, 23 zeros, user NUL, ...
//! server:  fe plugin NUL data (switch method) | 01 data (more) | 00 OK | ff ERR
//! client:  a command (sequence 0): 03 COM_QUERY sql | 16 COM_STMT_PREPARE sql
//!          | 17 COM_STMT_EXECUTE id(4) flags iterations(4) NULL bitmap, 01, types, values
//!          | fa COM_STMT_BULK_EXECUTE (MariaDB: one statement, many rows)
//!          | 02 COM_INIT_DB | 19 COM_STMT_CLOSE (no answer) | 01 COM_QUIT (no answer)
//! server:  00 OK: affected rows (length-encoded), last insert id, status(2), warnings(2)
//!        | ff ERR: code(2), '#', SQL state(5), message
//!        | a result set: column count, column definitions, [fe EOF], rows, fe EOF/OK
//!          with the status (more results follow while its bit 0x0008 is set)
//! ```
//!
//! The status of each OK and EOF says whether a transaction is open
//! (`SERVER_STATUS_IN_TRANS`): a transaction begins where it turns on and ends where it
//! turns off, committed unless the statement was a `ROLLBACK`; one still open when the
//! connection ends was rolled back by the server.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::record::{MysqlRecord, SqlEnding, SqlTransaction, Statement, Values};
use super::statements::{SqlSessionStatement, session_statement};
use mysql_engine::SqlError;

const SERVER_STATUS_IN_TRANS: u16 = 0x0001;
const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;
const CLIENT_SSL: u32 = 0x0000_0800;
const CLIENT_DEPRECATE_EOF: u32 = 0x0100_0000;

/// A command waiting for its answer.
#[derive(Debug)]
enum Waiting {
    /// A statement (text or executed), recorded when its answer ends.
    Statement { sql: String, values: Values },
    /// `COM_STMT_PREPARE`: its id and parameter count come in the answer.
    Prepare { sql: String },
    /// Any other command with an answer.
    Other,
}

/// Where the server's answer to the front command is.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Its first packet.
    First,
    /// Column definitions still to come, then an EOF if the client did not deprecate it.
    Columns { left: u64, rows: u64 },
    /// The EOF after the column definitions.
    ColumnsEnd { rows: u64 },
    /// Rows, until an EOF (or an OK in place of it).
    Rows { rows: u64 },
    /// The definitions after a prepare's OK: parameters, then columns, each followed by
    /// an EOF when not deprecated.
    PrepareDefinitions { left: u64, then_eof: bool },
}

/// Where the connection is.
#[derive(Debug)]
enum Phase {
    Greeting,
    /// After the greeting: the user, once the client's login came.
    Login {
        user: Option<String>,
    },
    Commands,
    /// TLS or something unreadable: nothing more is read.
    Opaque,
}

/// A prepared statement: its text and the types its parameters were last bound with.
#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    params: usize,
    types: Vec<(u8, bool)>,
}

/// Reads one connection's packets both ways into its session of the record.
pub(super) struct Observer {
    record: Arc<MysqlRecord>,
    index: usize,
    from_client: Vec<u8>,
    from_server: Vec<u8>,
    phase: Phase,
    server_capabilities: u32,
    capabilities: u32,
    waiting: VecDeque<Waiting>,
    answer: Answer,
    /// The column definitions a prepare's answer still holds after its parameters'.
    columns_after_params: u64,
    prepared: HashMap<u32, Prepared>,
    /// The open transaction's index in the session.
    open: Option<usize>,
    /// During the login: whether the server is the one to speak next.
    login_awaits_server: bool,
}

impl Observer {
    pub(super) fn new(record: Arc<MysqlRecord>, index: usize) -> Observer {
        Observer {
            record,
            index,
            from_client: Vec::new(),
            from_server: Vec::new(),
            phase: Phase::Greeting,
            server_capabilities: 0,
            capabilities: 0,
            waiting: VecDeque::new(),
            answer: Answer::First,
            columns_after_params: 0,
            prepared: HashMap::new(),
            open: None,
            login_awaits_server: false,
        }
    }

    /// Whether the server owes the program an answer: its greeting, the next step of a
    /// login, or the rest of a command's answer. While it does, the program may well be
    /// waiting for it, and is not blocked for good (see `crate::engine::stillness`): the
    /// server is at work where the harness cannot look (another process, a Unix socket).
    pub(super) fn awaits_server(&self) -> bool {
        match self.phase {
            Phase::Greeting => true,
            Phase::Login { .. } => self.login_awaits_server,
            Phase::Commands => !self.waiting.is_empty(),
            Phase::Opaque => false,
        }
    }

    /// Bytes the program sent.
    pub(super) fn client_bytes(&mut self, bytes: &[u8]) {
        self.from_client.extend_from_slice(bytes);
        while let Some(packet) = take_packet(&mut self.from_client) {
            self.client_packet(&packet);
        }
    }

    /// Bytes the server answered.
    pub(super) fn server_bytes(&mut self, bytes: &[u8]) {
        self.from_server.extend_from_slice(bytes);
        while let Some(packet) = take_packet(&mut self.from_server) {
            self.server_packet(&packet);
        }
    }

    /// The connection ended: an open transaction was rolled back by the server.
    pub(super) fn ended(&mut self) {
        if let Some(open) = self.open.take() {
            self.record.session(self.index, |session| {
                session.transactions[open].ending = SqlEnding::RolledBackAtDisconnect;
            });
        }
        self.record
            .session(self.index, |session| session.ended = true);
    }

    fn client_packet(&mut self, payload: &[u8]) {
        match &self.phase {
            Phase::Greeting | Phase::Opaque => {}
            Phase::Login { user: None } => {
                let capabilities = u32_at(payload, 0);
                if capabilities & CLIENT_SSL != 0 && payload.len() <= 32 {
                    // An SSL request: what follows is TLS, which this does not read.
                    self.phase = Phase::Opaque;
                    return;
                }
                self.capabilities = capabilities & self.server_capabilities;
                let user = payload
                    .get(32..)
                    .map(|rest| cstring(rest).0)
                    .unwrap_or_default();
                self.phase = Phase::Login { user: Some(user) };
                self.login_awaits_server = true;
            }
            // The rest of a login: scrambles, a public key request.
            Phase::Login { .. } => self.login_awaits_server = true,
            Phase::Commands => self.command(payload),
        }
    }

    fn command(&mut self, payload: &[u8]) {
        let Some((&code, body)) = payload.split_first() else {
            return;
        };
        let text = || String::from_utf8_lossy(body).into_owned();
        let waiting = match code {
            0x03 => Waiting::Statement {
                sql: text(),
                values: Values::Text,
            },
            0x16 => Waiting::Prepare { sql: text() },
            0x17 => match self.execute(body) {
                Some((sql, values)) => Waiting::Statement { sql, values },
                None => Waiting::Other,
            },
            0xfa => match self.bulk_execute(body) {
                Some((sql, values)) => Waiting::Statement { sql, values },
                None => Waiting::Other,
            },
            // COM_QUIT, COM_STMT_SEND_LONG_DATA and COM_STMT_CLOSE have no answer.
            0x01 | 0x18 => return,
            0x19 => {
                self.prepared.remove(&u32_at(body, 0));
                return;
            }
            _ => Waiting::Other,
        };
        self.waiting.push_back(waiting);
    }

    /// A `COM_STMT_EXECUTE`: the statement's text and its bound values.
    fn execute(&mut self, body: &[u8]) -> Option<(String, Values)> {
        let id = u32_at(body, 0);
        let prepared = self.prepared.get_mut(&id)?;
        let count = prepared.params;
        let mut at = 9;
        let mut values = Vec::with_capacity(count);
        if count > 0 {
            let bitmap = body.get(at..at + count.div_ceil(8))?.to_vec();
            at += count.div_ceil(8);
            let new_types = *body.get(at)? == 1;
            at += 1;
            if new_types {
                prepared.types = bound_types(body, at, count);
                at += 2 * count;
            }
            for index in 0..count {
                if bitmap[index / 8] & (1 << (index % 8)) != 0 {
                    values.push(None);
                    continue;
                }
                let (kind, unsigned) = prepared.types.get(index).copied().unwrap_or((0xfd, false));
                let (value, used) = binary_value(body.get(at..)?, kind, unsigned)?;
                values.push(Some(value));
                at += used;
            }
        }
        Some((prepared.sql.clone(), Values::Bound(values)))
    }

    /// MariaDB's `COM_STMT_BULK_EXECUTE` (what mysql_async sends for `exec_batch` when
    /// the server offers it): one statement run for many rows, recorded as one statement
    /// whose bound values are every row's, in order.
    ///
    /// ```text
    /// fa | id(4) | flags(2) | [types: (type, flags) per parameter, if flags & 0x80]
    ///    | per row, per parameter: indicator (0 a value follows, 1 NULL, 2 DEFAULT,
    ///      3 IGNORE) [value]
    /// ```
    fn bulk_execute(&mut self, body: &[u8]) -> Option<(String, Values)> {
        const SEND_TYPES_TO_SERVER: u16 = 0x80;
        let id = u32_at(body, 0);
        let flags = u16_at(body, 4);
        let prepared = self.prepared.get_mut(&id)?;
        let count = prepared.params;
        let mut at = 6;
        if flags & SEND_TYPES_TO_SERVER != 0 {
            prepared.types = bound_types(body, at, count);
            at += 2 * count;
        }
        let mut values = Vec::new();
        while count > 0 && at < body.len() {
            for index in 0..count {
                let indicator = *body.get(at)?;
                at += 1;
                if indicator != 0 {
                    values.push(None);
                    continue;
                }
                let (kind, unsigned) = prepared.types.get(index).copied().unwrap_or((0xfd, false));
                let (value, used) = binary_value(body.get(at..)?, kind, unsigned)?;
                values.push(Some(value));
                at += used;
            }
        }
        Some((prepared.sql.clone(), Values::Bound(values)))
    }

    fn server_packet(&mut self, payload: &[u8]) {
        match &self.phase {
            Phase::Greeting => {
                if payload.first() == Some(&0x0a) {
                    self.greeting(payload);
                    self.phase = Phase::Login { user: None };
                } else {
                    // An error before any login (too many connections): no session.
                    self.phase = Phase::Opaque;
                }
            }
            Phase::Login { user } => {
                let user = user.clone().unwrap_or_default();
                match payload.first() {
                    Some(0x00) => {
                        self.record.session(self.index, |session| {
                            session.login = Some((user, true));
                        });
                        self.phase = Phase::Commands;
                    }
                    Some(0xff) => {
                        self.record.session(self.index, |session| {
                            session.login = Some((user, false));
                        });
                        self.phase = Phase::Opaque;
                    }
                    // More data: `01 03` (caching_sha2's fast path) is followed by the OK;
                    // anything else (`01 04`, a public key) waits for the client.
                    Some(0x01) => self.login_awaits_server = payload.get(1) == Some(&0x03),
                    Some(0xfe) => {
                        self.login_awaits_server = false;
                        let plugin = cstring(&payload[1..]).0;
                        self.record.session(self.index, |session| {
                            session.auth_method = Some(plugin_name(&plugin));
                        });
                    }
                    _ => {}
                }
            }
            Phase::Commands => self.answer(payload),
            Phase::Opaque => {}
        }
    }

    fn greeting(&mut self, payload: &[u8]) {
        let (_, after_version) = cstring(&payload[1..]);
        // id(4), salt(8), filler(1), then the capabilities' low half.
        let at = 1 + after_version + 4 + 8 + 1;
        let low = u32::from(u16_at(payload, at));
        let high = u32::from(u16_at(payload, at + 2 + 1 + 2));
        self.server_capabilities = low | high << 16;
        // length of the salt's second part (1), reserved (10), salt part 2 (>= 13), plugin.
        let salt_length = usize::from(payload.get(at + 7).copied().unwrap_or(0));
        let plugin_at = at + 7 + 1 + 10 + salt_length.saturating_sub(8).max(13);
        if let Some(rest) = payload.get(plugin_at..) {
            let plugin = cstring(rest).0;
            if !plugin.is_empty() {
                self.record.session(self.index, |session| {
                    session.auth_method = Some(plugin_name(&plugin));
                });
            }
        }
    }

    fn deprecate_eof(&self) -> bool {
        self.capabilities & CLIENT_DEPRECATE_EOF != 0
    }

    /// One packet of the answer to the front command.
    fn answer(&mut self, payload: &[u8]) {
        let Some(&first) = payload.first() else {
            return;
        };
        // A row never starts with fe (it would announce a value of 16 MiB or more in a
        // packet that holds less): fe ends the rows, as an EOF or as an OK.
        let is_eof = first == 0xfe && payload.len() < 0xff_ffff;
        match self.answer {
            Answer::First => match first {
                0x00 if matches!(self.waiting.front(), Some(Waiting::Prepare { .. })) => {
                    let id = u32_at(payload, 1);
                    let columns = u64::from(u16_at(payload, 5));
                    let params = u64::from(u16_at(payload, 7));
                    self.remember_prepared(id, params);
                    self.after_prepare_part(params, columns);
                }
                0x00 => {
                    let (affected, used) = lenenc(&payload[1..]);
                    let (_, used_id) = lenenc(&payload[1 + used..]);
                    let status = u16_at(payload, 1 + used + used_id);
                    self.finish(Ok(affected), status);
                }
                0xff => self.finish(Err(error_of(payload)), None),
                _ => {
                    let (columns, _) = lenenc(payload);
                    self.answer = Answer::Columns {
                        left: columns,
                        rows: 0,
                    };
                }
            },
            Answer::Columns { left, rows } => {
                self.answer = match (left.saturating_sub(1), self.deprecate_eof()) {
                    (0, true) => Answer::Rows { rows },
                    (0, false) => Answer::ColumnsEnd { rows },
                    (left, _) => Answer::Columns { left, rows },
                };
            }
            Answer::ColumnsEnd { rows } => self.answer = Answer::Rows { rows },
            Answer::Rows { rows } => {
                if first == 0xff {
                    self.finish(Err(error_of(payload)), None);
                } else if is_eof {
                    let status = if self.deprecate_eof() {
                        let (_, used) = lenenc(&payload[1..]);
                        let (_, used_id) = lenenc(&payload[1 + used..]);
                        u16_at(payload, 1 + used + used_id)
                    } else {
                        u16_at(payload, 3)
                    };
                    if status & SERVER_MORE_RESULTS_EXISTS != 0 {
                        self.answer = Answer::First;
                    } else {
                        self.finish(Ok(rows), status);
                    }
                } else {
                    self.answer = Answer::Rows { rows: rows + 1 };
                }
            }
            Answer::PrepareDefinitions { left, then_eof } => {
                if left > 1 {
                    self.answer = Answer::PrepareDefinitions {
                        left: left - 1,
                        then_eof,
                    };
                } else if left == 1 && then_eof {
                    self.answer = Answer::PrepareDefinitions { left: 0, then_eof };
                } else {
                    self.prepare_part_done();
                }
            }
        }
    }

    fn remember_prepared(&mut self, id: u32, params: u64) {
        if let Some(Waiting::Prepare { sql }) = self.waiting.front() {
            self.prepared.insert(
                id,
                Prepared {
                    sql: sql.clone(),
                    params: params as usize,
                    types: Vec::new(),
                },
            );
        }
    }

    /// After a prepare's OK, or after its parameters' definitions: the next part, or the
    /// end of the answer.
    fn after_prepare_part(&mut self, params: u64, columns: u64) {
        let then_eof = !self.deprecate_eof();
        if params > 0 {
            self.columns_after_params = columns;
            self.answer = Answer::PrepareDefinitions {
                left: params,
                then_eof,
            };
        } else if columns > 0 {
            self.columns_after_params = 0;
            self.answer = Answer::PrepareDefinitions {
                left: columns,
                then_eof,
            };
        } else {
            self.waiting.pop_front();
            self.answer = Answer::First;
        }
    }

    fn prepare_part_done(&mut self) {
        let columns = std::mem::take(&mut self.columns_after_params);
        self.after_prepare_part(0, columns);
    }

    /// The answer to the front command ended: records a statement, and what the status
    /// says of the transaction.
    fn finish(&mut self, outcome: Result<u64, SqlError>, status: impl Into<Option<u16>>) {
        self.answer = Answer::First;
        let Some(waiting) = self.waiting.pop_front() else {
            return;
        };
        let status = status.into();
        let (sql, values) = match waiting {
            Waiting::Statement { sql, values } => (sql, values),
            Waiting::Prepare { .. } | Waiting::Other => {
                if let Some(status) = status {
                    self.transaction_status(status, "");
                }
                return;
            }
        };
        let transaction = match status {
            Some(status) => self.transaction_status(status, &sql),
            None => self.open,
        };
        self.record.session(self.index, |session| {
            session.statements.push(Statement {
                sql,
                values,
                outcome,
                transaction,
            });
        });
    }

    /// Follows `SERVER_STATUS_IN_TRANS` after `sql`: the transaction the statement ran in.
    fn transaction_status(&mut self, status: u16, sql: &str) -> Option<usize> {
        let in_transaction = status & SERVER_STATUS_IN_TRANS != 0;
        let kind = session_statement(sql);
        let begins = matches!(kind, Some(SqlSessionStatement::Begin));
        if begins && self.open.is_some() {
            // BEGIN inside a transaction commits it first (implicitly).
            self.end(SqlEnding::Committed);
        }
        match (self.open, in_transaction) {
            (None, true) => {
                let mut index = 0;
                self.record.session(self.index, |session| {
                    session.transactions.push(SqlTransaction {
                        explicit: begins,
                        ending: SqlEnding::Open,
                    });
                    index = session.transactions.len() - 1;
                });
                self.open = Some(index);
                Some(index)
            }
            (Some(open), true) => Some(open),
            (Some(_), false) => {
                let ending = if matches!(kind, Some(SqlSessionStatement::Rollback)) {
                    SqlEnding::RolledBack
                } else {
                    SqlEnding::Committed
                };
                self.end(ending);
                None
            }
            (None, false) => None,
        }
    }

    fn end(&mut self, ending: SqlEnding) {
        if let Some(open) = self.open.take() {
            self.record.session(self.index, |session| {
                session.transactions[open].ending = ending;
            });
        }
    }
}

/// The auth plugins the record names.
fn plugin_name(plugin: &str) -> &'static str {
    match plugin {
        "mysql_native_password" => "mysql_native_password",
        "caching_sha2_password" => "caching_sha2_password",
        "client_ed25519" => "client_ed25519",
        "mysql_clear_password" => "mysql_clear_password",
        _ => "another method",
    }
}

/// Takes one whole packet's payload off the front of `buffer`.
fn take_packet(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    if buffer.len() < 4 {
        return None;
    }
    let length =
        usize::from(buffer[0]) | usize::from(buffer[1]) << 8 | usize::from(buffer[2]) << 16;
    if buffer.len() < 4 + length {
        return None;
    }
    let payload = buffer[4..4 + length].to_vec();
    buffer.drain(..4 + length);
    Some(payload)
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(two) => u16::from_le_bytes([two[0], two[1]]),
        None => 0,
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(four) => u32::from_le_bytes([four[0], four[1], four[2], four[3]]),
        None => 0,
    }
}

/// A NUL-terminated string, and the bytes it took with its NUL.
fn cstring(bytes: &[u8]) -> (String, usize) {
    let end = bytes
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(bytes.len());
    (
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        (end + 1).min(bytes.len()),
    )
}

/// A length-encoded integer, and the bytes it took.
fn lenenc(bytes: &[u8]) -> (u64, usize) {
    let little = |count: usize| {
        bytes
            .get(1..1 + count)
            .map(|part| {
                part.iter()
                    .rev()
                    .fold(0u64, |value, byte| value << 8 | u64::from(*byte))
            })
            .unwrap_or(0)
    };
    match bytes.first() {
        Some(&small @ 0..=0xfa) => (u64::from(small), 1),
        Some(0xfc) => (little(2), 3),
        Some(0xfd) => (little(3), 4),
        Some(0xfe) => (little(8), 9),
        _ => (0, 1),
    }
}

/// An ERR packet's code and message (`ff`, code(2), `#`, state(5), message).
fn error_of(payload: &[u8]) -> SqlError {
    let code = u16_at(payload, 1);
    let message = match payload.get(3) {
        Some(b'#') => payload.get(9..).unwrap_or_default(),
        _ => payload.get(3..).unwrap_or_default(),
    };
    SqlError::new(code, String::from_utf8_lossy(message).into_owned())
}

/// The types a client sent for `count` parameters from `at`: each a type byte and a flags
/// byte whose bit 0x80 says unsigned (a missing one taken as a string).
fn bound_types(body: &[u8], at: usize, count: usize) -> Vec<(u8, bool)> {
    (0..count)
        .map(|index| {
            let at = at + 2 * index;
            (
                body.get(at).copied().unwrap_or(0xfd),
                body.get(at + 1).is_some_and(|flags| flags & 0x80 != 0),
            )
        })
        .collect()
}

/// An integer of `bits` bits, as text: as it is when unsigned, else sign-extended.
fn integer(raw: u64, bits: u32, unsigned: bool) -> String {
    if unsigned {
        return raw.to_string();
    }
    let unused = 64 - bits;
    (((raw << unused) as i64) >> unused).to_string()
}

/// One bound value of the binary protocol, as text, and the bytes it took.
fn binary_value(bytes: &[u8], kind: u8, unsigned: bool) -> Option<(String, usize)> {
    let fixed = |count: usize| bytes.get(..count);
    Some(match kind {
        // TINY, SHORT/YEAR, LONG/INT24, LONGLONG
        0x01 => (integer(u64::from(*fixed(1)?.first()?), 8, unsigned), 1),
        0x02 | 0x0d => (integer(u64::from(u16_at(bytes, 0)), 16, unsigned), 2),
        0x03 | 0x09 => (integer(u64::from(u32_at(bytes, 0)), 32, unsigned), 4),
        0x08 => {
            let value = u64::from_le_bytes(fixed(8)?.try_into().ok()?);
            (integer(value, 64, unsigned), 8)
        }
        0x04 => {
            let value = f32::from_le_bytes(fixed(4)?.try_into().ok()?);
            (value.to_string(), 4)
        }
        0x05 => {
            let value = f64::from_le_bytes(fixed(8)?.try_into().ok()?);
            (value.to_string(), 8)
        }
        // DATE, DATETIME, TIMESTAMP, TIME: a length byte, then that many bytes.
        0x07 | 0x0a | 0x0b | 0x0c => {
            let length = usize::from(*bytes.first()?);
            (format!("<{length}-byte date or time>"), 1 + length)
        }
        // Strings, decimals, blobs, JSON, ...: length-encoded bytes.
        _ => {
            let (length, used) = lenenc(bytes);
            let length = usize::try_from(length).ok()?;
            let text = bytes.get(used..used + length)?;
            (String::from_utf8_lossy(text).into_owned(), used + length)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::record::SqlTables;
    use super::*;
    use mysql_engine::SqlEngine;
    use std::sync::Mutex;

    fn packet(sequence: u8, payload: &[u8]) -> Vec<u8> {
        let length = payload.len();
        let mut bytes = vec![
            length as u8,
            (length >> 8) as u8,
            (length >> 16) as u8,
            sequence,
        ];
        bytes.extend_from_slice(payload);
        bytes
    }

    fn ok(affected: u8, status: u16) -> Vec<u8> {
        let mut payload = vec![0x00, affected, 0];
        payload.extend_from_slice(&status.to_le_bytes());
        payload.extend_from_slice(&[0, 0]);
        payload
    }

    fn greeting() -> Vec<u8> {
        let mut payload = vec![0x0a];
        payload.extend_from_slice(b"10.11.19-MariaDB\0");
        payload.extend_from_slice(&[1, 0, 0, 0]);
        payload.extend_from_slice(b"saltsalt");
        payload.push(0);
        payload.extend_from_slice(&0xf7feu16.to_le_bytes());
        payload.push(45);
        payload.extend_from_slice(&2u16.to_le_bytes());
        payload.extend_from_slice(&0x81bfu16.to_le_bytes());
        payload.push(21);
        payload.extend_from_slice(&[0; 10]);
        payload.extend_from_slice(b"moresaltmore\0");
        payload.extend_from_slice(b"mysql_native_password\0");
        payload
    }

    fn login(user: &str) -> Vec<u8> {
        let mut payload = 0x000a_a20fu32.to_le_bytes().to_vec();
        payload.extend_from_slice(&[0, 0, 0, 1, 45]);
        payload.extend_from_slice(&[0; 23]);
        payload.extend_from_slice(user.as_bytes());
        payload.push(0);
        payload.push(20);
        payload.extend_from_slice(&[7; 20]);
        payload
    }

    fn observed() -> (Observer, Arc<MysqlRecord>) {
        let record = Arc::new(MysqlRecord {
            sessions: Mutex::new(Vec::new()),
            database: "school".into(),
            tables: SqlTables::Embedded(Arc::new(Mutex::new(SqlEngine::default()))),
        });
        let index = record.open();
        let mut observer = Observer::new(Arc::clone(&record), index);
        observer.server_bytes(&packet(0, &greeting()));
        observer.client_bytes(&packet(1, &login("alice")));
        (observer, record)
    }

    #[test]
    fn a_login_and_a_transaction_of_text_statements_are_recorded() {
        let (mut observer, record) = observed();
        observer.server_bytes(&packet(2, &ok(0, 0x0002)));
        observer.client_bytes(&packet(0, b"\x03SET AUTOCOMMIT = 0"));
        observer.server_bytes(&packet(1, &ok(0, 0x0000)));
        // pymysql sends the INSERT in two pieces: the packets are found whole.
        let insert = packet(0, b"\x03INSERT INTO students VALUES (1, 'D''Souza')");
        observer.client_bytes(&insert[..7]);
        observer.client_bytes(&insert[7..]);
        observer.server_bytes(&packet(1, &ok(1, 0x0001)));
        observer.client_bytes(&packet(0, b"\x03COMMIT"));
        observer.server_bytes(&packet(1, &ok(0, 0x0000)));
        observer.client_bytes(&packet(0, b"\x01"));
        observer.ended();
        let session = &record.sessions()[0];
        assert_eq!(session.login, Some(("alice".into(), true)));
        assert_eq!(session.auth_method, Some("mysql_native_password"));
        assert_eq!(session.statements.len(), 3);
        assert_eq!(session.statements[1].outcome, Ok(1));
        assert_eq!(session.statements[1].transaction, Some(0));
        assert_eq!(session.transactions.len(), 1);
        assert!(!session.transactions[0].explicit);
        assert_eq!(session.transactions[0].ending, SqlEnding::Committed);
        assert!(session.ended);
    }

    #[test]
    fn the_server_owes_an_answer_exactly_until_it_has_given_it_whole() {
        let record = Arc::new(MysqlRecord {
            sessions: Mutex::new(Vec::new()),
            database: "school".into(),
            tables: SqlTables::Embedded(Arc::new(Mutex::new(SqlEngine::default()))),
        });
        let mut observer = Observer::new(Arc::clone(&record), record.open());
        assert!(observer.awaits_server(), "the greeting");
        observer.server_bytes(&packet(0, &greeting()));
        assert!(!observer.awaits_server());
        observer.client_bytes(&packet(1, &login("alice")));
        assert!(observer.awaits_server(), "the login's answer");
        observer.server_bytes(&packet(
            2,
            b"\xfemysql_native_password\0saltsaltsaltsaltsalt\0",
        ));
        assert!(
            !observer.awaits_server(),
            "a switch of method waits for the client"
        );
        observer.client_bytes(&packet(3, &[7; 20]));
        assert!(observer.awaits_server());
        observer.server_bytes(&packet(4, &ok(0, 0x0002)));
        assert!(!observer.awaits_server());
        observer.client_bytes(&packet(0, b"\x03SELECT 1"));
        assert!(observer.awaits_server(), "a query's answer");
        observer.server_bytes(&packet(1, &[1]));
        observer.server_bytes(&packet(
            2,
            b"\x03def\0\0\0\x011\0\x0c?\0\x01\0\0\0\x08\x81\0\0\0\0",
        ));
        observer.server_bytes(&packet(3, &[0xfe, 0, 0, 0x02, 0]));
        observer.server_bytes(&packet(4, b"\x011"));
        assert!(observer.awaits_server(), "the rows' end is still to come");
        observer.server_bytes(&packet(5, &[0xfe, 0, 0, 0x02, 0]));
        assert!(!observer.awaits_server());
        observer.client_bytes(&packet(0, &[0x19, 1, 0, 0, 0]));
        assert!(!observer.awaits_server(), "COM_STMT_CLOSE has no answer");
    }

    #[test]
    fn bound_integers_keep_their_sign_unless_unsigned() {
        assert_eq!(binary_value(&[0xff], 0x01, false), Some(("-1".into(), 1)));
        assert_eq!(binary_value(&[0xff], 0x01, true), Some(("255".into(), 1)));
        assert_eq!(
            binary_value(&[0x00, 0x80], 0x02, false),
            Some(("-32768".into(), 2))
        );
        assert_eq!(
            binary_value(&[0xfe, 0xff, 0xff, 0xff], 0x03, false),
            Some(("-2".into(), 4))
        );
        let big = u64::MAX.to_le_bytes();
        assert_eq!(binary_value(&big, 0x08, false), Some(("-1".into(), 8)));
        assert_eq!(
            binary_value(&big, 0x08, true),
            Some((u64::MAX.to_string(), 8))
        );
    }

    #[test]
    fn a_refused_login_records_the_user_and_no_statement() {
        let (mut observer, record) = observed();
        let mut refusal = vec![0xff, 0x15, 0x04, b'#'];
        refusal.extend_from_slice(b"28000Access denied for user 'alice'@'localhost'");
        observer.server_bytes(&packet(2, &refusal));
        observer.ended();
        let session = &record.sessions()[0];
        assert_eq!(session.login, Some(("alice".into(), false)));
        assert!(session.statements.is_empty());
    }

    #[test]
    fn a_result_set_counts_its_rows_and_an_error_keeps_its_code() {
        let (mut observer, record) = observed();
        observer.server_bytes(&packet(2, &ok(0, 0x0002)));
        observer.client_bytes(&packet(0, b"\x03SELECT id FROM people"));
        let mut answer = packet(1, &[1]);
        answer.extend(packet(
            2,
            b"\x03def\x06school\x06people\x06people\x02id\x02id\x0c?\0\x0b\0\0\0\x03\0\0\0\0\0",
        ));
        answer.extend(packet(3, &[0xfe, 0, 0, 0x02, 0]));
        answer.extend(packet(4, b"\x011"));
        answer.extend(packet(5, b"\x012"));
        answer.extend(packet(6, &[0xfe, 0, 0, 0x02, 0]));
        observer.server_bytes(&answer);
        observer.client_bytes(&packet(0, b"\x03SELECT * FROM nothing"));
        let mut error = vec![0xff, 0x7a, 0x04, b'#'];
        error.extend_from_slice(b"42S02Table 'school.nothing' doesn't exist");
        observer.server_bytes(&packet(1, &error));
        let session = &record.sessions()[0];
        assert_eq!(session.statements[0].outcome, Ok(2));
        let failed = session.statements[1].outcome.clone().unwrap_err();
        assert_eq!(failed.code, 1146);
        assert_eq!(failed.message, "Table 'school.nothing' doesn't exist");
    }

    #[test]
    fn a_bulk_execute_is_one_statement_with_every_rows_values() {
        let (mut observer, record) = observed();
        observer.server_bytes(&packet(2, &ok(0, 0x0002)));
        observer.client_bytes(&packet(0, b"\x16INSERT INTO t VALUES (?, ?)"));
        let mut answer = packet(1, &[0x00, 3, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
        answer.extend(packet(
            2,
            b"\x03def\0\0\0\x01?\0\x0c?\0\0\0\0\0\xfd\x80\0\0\0\0",
        ));
        answer.extend(packet(
            3,
            b"\x03def\0\0\0\x01?\0\x0c?\0\0\0\0\0\xfd\x80\0\0\0\0",
        ));
        answer.extend(packet(4, &[0xfe, 0, 0, 0x02, 0]));
        observer.server_bytes(&answer);
        // Bulk execute 3, types sent: TINY and VAR_STRING; rows (1, 'a') and (2, NULL).
        let mut bulk = vec![0xfa, 3, 0, 0, 0, 0x80, 0, 0x01, 0, 0xfd, 0];
        bulk.extend_from_slice(&[0, 1, 0, 1, b'a', 0, 2, 1]);
        observer.client_bytes(&packet(0, &bulk));
        observer.server_bytes(&packet(1, &ok(2, 0x0003)));
        let session = &record.sessions()[0];
        assert_eq!(session.statements.len(), 1);
        assert_eq!(session.statements[0].outcome, Ok(2));
        assert_eq!(
            session.statements[0].values,
            Values::Bound(vec![
                Some("1".into()),
                Some("a".into()),
                Some("2".into()),
                None
            ])
        );
    }

    #[test]
    fn an_executed_prepared_statement_records_its_bound_values() {
        let (mut observer, record) = observed();
        observer.server_bytes(&packet(2, &ok(0, 0x0002)));
        observer.client_bytes(&packet(0, b"\x16INSERT INTO t VALUES (?, ?)"));
        // Prepare OK: id 7, no columns, two parameters; their definitions, then an EOF.
        let mut prepare_ok = vec![0x00, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        prepare_ok.truncate(12);
        let mut answer = packet(1, &prepare_ok);
        answer.extend(packet(
            2,
            b"\x03def\0\0\0\x01?\0\x0c?\0\0\0\0\0\xfd\x80\0\0\0\0",
        ));
        answer.extend(packet(
            3,
            b"\x03def\0\0\0\x01?\0\x0c?\0\0\0\0\0\xfd\x80\0\0\0\0",
        ));
        answer.extend(packet(4, &[0xfe, 0, 0, 0x02, 0]));
        observer.server_bytes(&answer);
        // Execute 7: no cursor, one iteration, no NULLs, new types LONGLONG and VAR_STRING.
        let mut execute = vec![0x17, 7, 0, 0, 0, 0, 1, 0, 0, 0, 0b00, 1, 0x08, 0, 0xfd, 0];
        execute.extend_from_slice(&42i64.to_le_bytes());
        execute.push(7);
        execute.extend_from_slice(b"D'Souza");
        observer.client_bytes(&packet(0, &execute));
        observer.server_bytes(&packet(1, &ok(1, 0x0003)));
        let session = &record.sessions()[0];
        assert_eq!(session.statements.len(), 1);
        assert_eq!(session.statements[0].sql, "INSERT INTO t VALUES (?, ?)");
        assert_eq!(
            session.statements[0].values,
            Values::Bound(vec![Some("42".into()), Some("D'Souza".into())])
        );
        assert_eq!(session.statements[0].transaction, Some(0));
        observer.ended();
        assert_eq!(
            record.sessions()[0].transactions[0].ending,
            SqlEnding::RolledBackAtDisconnect
        );
    }
}
