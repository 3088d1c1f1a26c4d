//! DNS over TCP: each message preceded by its length in two bytes, several questions on one
//! connection (RFC 1035 §4.2.2, RFC 7766). Clients come here when an answer over UDP was
//! truncated, and `dig +tcp` always does.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::record::{Carrier, Query, QueryLog};
use super::zone::Zone;

/// How long a connection may stay idle between questions before the server closes it
/// (RFC 7766 §6.2.3 suggests seconds, not minutes).
const IDLE: Duration = Duration::from_secs(10);
/// The most connections served at once: a program that opens them in a loop must not make
/// the harness hold sockets without end.
const MAX_CONNECTIONS: usize = 256;

/// Accepts connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, zone: Arc<Zone>, log: QueryLog) {
    let room = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&room).acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (zone, log) = (Arc::clone(&zone), log.clone());
        tokio::spawn(async move {
            let _ = converse(stream, &zone, &log).await;
            drop(permit);
        });
    }
}

/// Answers the questions of one connection, in order, until the client closes it or stays
/// idle for [`IDLE`].
async fn converse(mut stream: TcpStream, zone: &Zone, log: &QueryLog) -> std::io::Result<()> {
    // The address the client connected to: with local routes, whatever it asked for.
    let server = stream.local_addr()?;
    loop {
        // ```text
        // +--------+--------+------------------...
        // | length (u16, big-endian) | message of that many bytes
        // ```
        let mut length = [0u8; 2];
        match tokio::time::timeout(IDLE, stream.read_exact(&mut length)).await {
            Ok(Ok(_)) => {}
            // End of stream, a reset or idle: the conversation is over.
            _ => return Ok(()),
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(length))];
        // Reads until the whole message is there: a client may send it in pieces.
        tokio::time::timeout(IDLE, stream.read_exact(&mut request))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let Some((reply, question)) = super::answer::answer(&request, zone, false) else {
            continue;
        };
        if let Some(question) = question {
            log.push(Query {
                at: tokio::time::Instant::now(),
                question,
                carrier: Carrier::Tcp,
                server,
            });
        }
        // Length and message in one write, so they leave in one segment.
        let mut framed = Vec::with_capacity(2 + reply.len());
        framed.extend_from_slice(&(reply.len() as u16).to_be_bytes());
        framed.extend_from_slice(&reply);
        stream.write_all(&framed).await?;
    }
}
