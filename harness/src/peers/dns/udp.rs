//! DNS over UDP: one datagram in, one datagram out (RFC 1035 §4.2.1).
//!
//! The socket is bound to the wildcard address of port 53, and with the harness's local
//! routes every address is this machine's: a client may send its question to `127.0.0.1`,
//! `127.0.0.53` (systemd's stub) or `192.0.2.53`. Its answer must come back *from the
//! address it asked*, or the client drops it as a stranger's (`dig`: "reply from unexpected
//! source"): [`crate::peers::pktinfo`] tells each datagram's destination and sends the
//! answer from it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::record::{Carrier, Query, QueryLog};
use super::zone::Zone;
use crate::peers::pktinfo;

/// The largest DNS message over UDP read: EDNS allows up to 65535, but nothing a client
/// asks comes near 4096.
const LARGEST_QUESTION: usize = 4096;

/// Answers every question that comes to `socket` until the task is dropped.
pub async fn serve(socket: Arc<UdpSocket>, zone: Arc<Zone>, log: QueryLog) {
    let mut buffer = vec![0u8; LARGEST_QUESTION];
    let port = socket
        .local_addr()
        .map_or(super::DNS_PORT, |address| address.port());
    loop {
        let (length, client, asked) = match pktinfo::receive(&socket, &mut buffer).await {
            Ok(received) => received,
            // An ICMP error of an earlier answer concerns that datagram, not the socket.
            Err(error) if pktinfo::concerns_one_datagram(&error) => continue,
            Err(_) => return,
        };
        let Some((reply, question)) = super::answer::answer(&buffer[..length], &zone, true) else {
            continue;
        };
        if let Some(question) = question {
            log.push(Query {
                at: tokio::time::Instant::now(),
                question,
                carrier: Carrier::Udp,
                server: SocketAddr::new(asked, port),
            });
        }
        let _ = pktinfo::send_from(&socket, &reply, client, asked).await;
    }
}
