//! Serving one connection: opensrv-mysql speaks the wire protocol over an in-memory pipe,
//! and this loop carries the bytes between that pipe and the client's connection, so
//! that everything either way goes through the transcript, the capture and the
//! scenario's slices as for every other peer.
//!
//! One thing is added on the way: after a `caching_sha2_password` login that succeeded,
//! a real server sends "fast auth success" (`01 03`, sequence N) before its OK (then N+1);
//! opensrv-mysql sends the OK alone, which pymysql accepts but not every client. The
//! loop puts it in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use opensrv_mysql::{AsyncMysqlIntermediary, IntermediaryOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::MysqlScript;
use super::record::MysqlRecord;
use super::session::Shim;
use crate::payload::Payload;
use crate::peers::Conversation;
use crate::transcript::Direction;

/// Serves one connection until either side ends it.
pub(super) async fn serve(
    mut conversation: Conversation,
    script: Arc<MysqlScript>,
    record: Arc<MysqlRecord>,
) {
    let index = record.open();
    let fast_auth = Arc::new(AtomicBool::new(false));
    let shim = Shim {
        script,
        record,
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
        let _ = AsyncMysqlIntermediary::run_with_options(shim, their_read, their_write, &options)
            .await;
    };
    let (mut from_server, mut to_server) = tokio::io::split(ours);
    let pump = async {
        let mut client_buffer = vec![0u8; 16 * 1024];
        let mut server_buffer = vec![0u8; 16 * 1024];
        let mut pending: Vec<u8> = Vec::new();
        let mut client_open = true;
        let ended: std::io::Result<()> = loop {
            tokio::select! {
                read = conversation.reader.read(&mut client_buffer), if client_open => match read {
                    Ok(0) => {
                        conversation.transcript.fin(&conversation.label, Direction::FromProgram, "half-closed (FIN)");
                        client_open = false;
                        let _ = to_server.shutdown().await;
                    }
                    Ok(count) => {
                        let piece = &client_buffer[..count];
                        conversation.transcript.data(&conversation.label, Direction::FromProgram, piece);
                        if conversation.received.append(piece).is_err() {
                            break Ok(());
                        }
                        if to_server.write_all(piece).await.is_err() {
                            break Ok(());
                        }
                    }
                    Err(error) => break Err(error),
                },
                read = from_server.read(&mut server_buffer) => match read {
                    Ok(0) | Err(_) => break Ok(()),
                    Ok(count) => {
                        pending.extend_from_slice(&server_buffer[..count]);
                        if fast_auth.load(Ordering::SeqCst) {
                            if pending.len() < 4 {
                                continue;
                            }
                            fast_auth.store(false, Ordering::SeqCst);
                            let sequence = pending[3];
                            pending[3] = sequence.wrapping_add(1);
                            pending.splice(0..0, [2, 0, 0, sequence, 0x01, 0x03]);
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
