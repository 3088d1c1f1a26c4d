//! Serving one connection: opensrv-mysql speaks the wire protocol over an in-memory pipe,
//! and this loop carries the bytes between that pipe and the client's connection, so
//! that everything either way goes through the transcript, the capture and the
//! scenario's slices as for every other peer.
//!
//! Two things are changed on the way, in the OK that ends a login ([`finish_login`]), where
//! opensrv-mysql differs from a real server:
//!
//! - its status, and the greeting's, say autocommit is on (`SERVER_STATUS_AUTOCOMMIT`), as a
//!   server's do:
//!   opensrv-mysql says nothing, and pymysql, which wants autocommit off, reads that as
//!   already off and never sends `SET AUTOCOMMIT = 0`; its statements would then be
//!   committed one by one here, and never on a real server;
//! - after a `caching_sha2_password` login, "fast auth success" (`01 03`, sequence N) comes
//!   before the OK (then N+1), as MySQL 8 sends it; opensrv-mysql sends the OK alone.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use opensrv_mysql::{AsyncMysqlIntermediary, IntermediaryOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::MysqlScript;
use super::forward::pass_on_from_program;
use super::record::MysqlRecord;
use super::session::Shim;
use crate::payload::Payload;
use crate::peers::Conversation;
use mysql_engine::SqlEngine;

/// Serves one connection until either side ends it.
pub(super) async fn serve(
    mut conversation: Conversation,
    script: Arc<MysqlScript>,
    record: Arc<MysqlRecord>,
    engine: Arc<Mutex<SqlEngine>>,
) {
    let index = record.open();
    let fast_auth = Arc::new(AtomicBool::new(false));
    let shim = Shim {
        script,
        record,
        engine,
        index,
        host: conversation.local.ip().to_string(),
        fast_auth: Arc::clone(&fast_auth),
        denied: Default::default(),
        database: None,
        autocommit: true,
        open: None,
        prepared: Default::default(),
        next_id: 0,
        columns: Vec::new(),
    };
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (their_read, their_write) = tokio::io::split(theirs);
    let options = IntermediaryOptions {
        process_use_statement_on_query: true,
        reject_connection_on_dbname_absence: false,
    };
    let server = async move {
        // Its error (a client that left mid-packet) ends the session like a close.
        let _ =
            AsyncMysqlIntermediary::run_with_options(shim, their_read, their_write, &options).await;
    };
    let (mut from_server, mut to_server) = tokio::io::split(ours);
    let pump = async {
        let mut client_buffer = vec![0u8; 16 * 1024];
        let mut server_buffer = vec![0u8; 16 * 1024];
        let mut pending: Vec<u8> = Vec::new();
        let mut client_open = true;
        let mut logged_in = false;
        let ended: std::io::Result<()> = loop {
            tokio::select! {
                read = conversation.reader.read(&mut client_buffer), if client_open => {
                    let passed = pass_on_from_program(&mut conversation, read, &client_buffer, &mut to_server, &mut client_open);
                    if let ControlFlow::Break(ended) = passed.await {
                        break ended;
                    }
                }
                read = from_server.read(&mut server_buffer) => match read {
                    Ok(0) | Err(_) => break Ok(()),
                    Ok(count) => {
                        pending.extend_from_slice(&server_buffer[..count]);
                        if !logged_in && !finish_login(&mut pending, &fast_auth, &mut logged_in) {
                            continue;
                        }
                        let bytes = std::mem::take(&mut pending);
                        if let Err(error) = conversation.write(&Payload::Bytes(bytes.into())).await {
                            conversation.write_failed(&error);
                            break Ok(());
                        }
                    }
                },
            }
        };
        // The server reads its end of the pipe to the end, and stops.
        let _ = to_server.shutdown().await;
        ended
    };
    let ((), ended) = tokio::join!(server, pump);
    crate::peers::record_ending(&conversation.transcript, &conversation.label, &ended);
}

/// Walks the whole packets of `pending` (what the server wrote, not yet sent) for the
/// first OK or ERR of the connection: the end of the login. The greeting and the OK get the
/// autocommit status bit, and "fast auth success" before it after a `caching_sha2_password` login.
/// `false`: a packet is still incomplete, wait for more before sending anything.
fn finish_login(pending: &mut Vec<u8>, fast_auth: &AtomicBool, logged_in: &mut bool) -> bool {
    const SERVER_STATUS_AUTOCOMMIT: u8 = 0x02;
    let mut at = 0;
    while at + 4 <= pending.len() {
        let length = usize::from(pending[at])
            | usize::from(pending[at + 1]) << 8
            | usize::from(pending[at + 2]) << 16;
        if at + 4 + length > pending.len() {
            return false;
        }
        let payload = at + 4;
        match pending.get(payload) {
            // OK: 00, affected rows and last insert id (one byte each: both 0), status.
            Some(0x00) if length >= 5 => {
                *logged_in = true;
                pending[payload + 3] |= SERVER_STATUS_AUTOCOMMIT;
                if fast_auth.swap(false, Ordering::SeqCst) {
                    let sequence = pending[at + 3];
                    pending[at + 3] = sequence.wrapping_add(1);
                    pending.splice(at..at, [2, 0, 0, sequence, 0x01, 0x03]);
                }
                return true;
            }
            Some(0xff) => {
                *logged_in = true;
                return true;
            }
            // The greeting: 0a, the version up to a NUL, connection id (4), salt (8),
            // filler (1), capabilities (2), character set (1), then the status (2).
            Some(0x0a) => {
                if let Some(nul) = pending[payload..at + 4 + length]
                    .iter()
                    .position(|byte| *byte == 0)
                {
                    let status = payload + nul + 1 + 4 + 8 + 1 + 2 + 1;
                    if status < at + 4 + length {
                        pending[status] |= SERVER_STATUS_AUTOCOMMIT;
                    }
                }
                at = payload + length;
            }
            _ => at = payload + length,
        }
    }
    at == pending.len()
}
