//! Serving one connection with a real MariaDB (`--mysql real`): the program's bytes go to
//! the server's Unix socket and its answers back, unchanged, through the transcript, the
//! capture and the scenario's slices as for every peer; the [`Observer`] reads both ways
//! into the record.

use std::ops::ControlFlow;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::mariadb::Mariadb;
use super::observer::Observer;
use super::record::MysqlRecord;
use crate::payload::Payload;
use crate::peers::Conversation;
use crate::transcript::Direction;

/// Relays one connection between the program and the server until either side ends it.
pub(super) async fn serve(
    mut conversation: Conversation,
    server: Arc<Mariadb>,
    record: Arc<MysqlRecord>,
) {
    let index = record.open();
    let mut observer = Observer::new(Arc::clone(&record), index);
    // The server's work under way, which the program may be waiting for: its start, then
    // each answer it owes (see `Observer::awaits_server`).
    let mut server_at_work = Some(conversation.transcript.pending().hold());
    let socket = match server.ready().await {
        Ok(running) => tokio::net::UnixStream::connect(&running.socket)
            .await
            .map_err(|error| format!("cannot reach the real MariaDB's socket: {error}")),
        Err(why) => Err(why),
    };
    let socket = match socket {
        Ok(socket) => socket,
        Err(why) => {
            conversation.transcript.event(
                &conversation.label,
                Direction::ToProgram,
                format!("the harness closes the connection: {why}"),
            );
            observer.ended();
            return;
        }
    };
    let (mut from_server, mut to_server) = socket.into_split();
    let mut client_buffer = vec![0u8; 16 * 1024];
    let mut server_buffer = vec![0u8; 16 * 1024];
    let mut client_open = true;
    let ended: std::io::Result<()> = loop {
        if observer.awaits_server() != server_at_work.is_some() {
            server_at_work = observer
                .awaits_server()
                .then(|| conversation.transcript.pending().hold());
        }
        tokio::select! {
            read = conversation.reader.read(&mut client_buffer), if client_open => {
                let passed = pass_on_from_program(&mut conversation, read, &client_buffer, &mut to_server, &mut client_open);
                match passed.await {
                    ControlFlow::Continue(piece) => observer.client_bytes(piece),
                    ControlFlow::Break(ended) => break ended,
                }
            }
            read = from_server.read(&mut server_buffer) => match read {
                Ok(0) | Err(_) => break Ok(()),
                Ok(count) => {
                    let piece = &server_buffer[..count];
                    observer.server_bytes(piece);
                    if let Err(error) = conversation.write(&Payload::Bytes(piece.to_vec().into())).await {
                        conversation.write_failed(&error);
                        break Ok(());
                    }
                }
            },
        }
    };
    drop(to_server);
    drop(server_at_work);
    observer.ended();
    crate::peers::record_ending(&conversation.transcript, &conversation.label, &ended);
}

/// One read of the program's side of a relay to a server behind the pack (a real MariaDB,
/// or the embedded engine's protocol library): a FIN is passed on as a shutdown, bytes are
/// recorded (the transcript, what the program sent) and passed on. `Break` ends the relay;
/// `Continue` carries the bytes passed on (none at a FIN).
pub(super) async fn pass_on_from_program<'read>(
    conversation: &mut Conversation,
    read: std::io::Result<usize>,
    buffer: &'read [u8],
    to_server: &mut (impl AsyncWrite + Unpin),
    client_open: &mut bool,
) -> ControlFlow<std::io::Result<()>, &'read [u8]> {
    match read {
        Ok(0) => {
            conversation.transcript.fin(
                &conversation.label,
                Direction::FromProgram,
                "half-closed (FIN)",
            );
            *client_open = false;
            let _ = to_server.shutdown().await;
            ControlFlow::Continue(&[])
        }
        Ok(count) => {
            let piece = &buffer[..count];
            conversation
                .transcript
                .data(&conversation.label, Direction::FromProgram, piece);
            if conversation.received.append(piece).is_err()
                || to_server.write_all(piece).await.is_err()
            {
                return ControlFlow::Break(Ok(()));
            }
            ControlFlow::Continue(piece)
        }
        Err(error) => ControlFlow::Break(Err(error)),
    }
}
