//! One question to one DNS server: over UDP, and again over TCP when the answer did not
//! fit in a datagram (RFC 1035 §4.2, RFC 7766). And which server the system asks
//! (`/etc/resolv.conf`).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::{DatagramSocket, Network};

/// How long one question may wait for its answer in all, resends included (SPEC `mx/2`:
/// at most 5 s).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// A UDP question with no answer yet is sent again after this long: the question or its
/// answer may have been lost, and UDP resends nothing by itself.
pub const RESEND_AFTER: Duration = Duration::from_secs(2);
/// The largest answer this client takes over UDP, said in an EDNS record (RFC 6891): larger
/// ones come back truncated, and are asked again over TCP.
const UDP_PAYLOAD: u16 = 1232;

/// Why a question got no usable answer.
#[derive(Debug)]
pub enum Failure {
    /// Nothing came back in [`ANSWER_TIMEOUT`].
    NoAnswer,
    /// The socket failed (the server refused the TCP connection, the network is down).
    Network(io::Error),
    /// What came back was not a DNS answer to the question.
    Malformed(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoAnswer => write!(f, "no answer within {} s", ANSWER_TIMEOUT.as_secs()),
            Failure::Network(error) => write!(f, "{error}"),
            Failure::Malformed(why) => write!(f, "a malformed answer: {why}"),
        }
    }
}

/// Asks `server` for the records of `kind` of `name`, and returns the whole answer: first
/// over UDP; if the server says the answer was cut (the TC bit), once more over TCP.
pub async fn ask<N: Network>(
    net: &N,
    server: SocketAddr,
    name: &Name,
    kind: RecordType,
) -> Result<Message, Failure> {
    let answer = ask_over_udp(net, server, name, kind).await?;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    // RFC 7766 §5: a truncated answer is not to be used; the same question over TCP gets
    // the whole of it.
    let answer = ask_over_tcp(net, server, name, kind).await?;
    if answer.metadata.truncation {
        return Err(Failure::Malformed("truncated even over TCP".into()));
    }
    Ok(answer)
}

/// A question, as a DNS message with the id `id` (fresh and random: an answer to an older
/// question, or a forged one, is told apart), asking the server to recurse.
fn question(id: u16, name: &Name, kind: RecordType) -> (u16, Vec<u8>) {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name.clone(), kind));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    message.set_edns(edns);
    let bytes = message
        .to_vec()
        .expect("a question with one valid name always encodes");
    (id, bytes)
}

/// Whether `answer` answers the question `id` asked: a response, the same id, the same
/// name and type (RFC 5452 §9.1: what a client must check before believing a datagram).
fn answers(answer: &Message, id: u16, name: &Name, kind: RecordType) -> bool {
    answer.metadata.message_type == MessageType::Response
        && answer.metadata.id == id
        && match answer.queries.as_slice() {
            [query] => query.name == *name && query.query_type == kind,
            // A server may leave the question out of an error answer (FORMERR).
            [] => answer.metadata.response_code != ResponseCode::NoError,
            _ => false,
        }
}

/// One datagram out, until one datagram back answers it; resent once a while without one.
async fn ask_over_udp<N: Network>(
    net: &N,
    server: SocketAddr,
    name: &Name,
    kind: RecordType,
) -> Result<Message, Failure> {
    let socket = net.bind_udp(0).await.map_err(Failure::Network)?;
    let (id, bytes) = question(net.random_u64() as u16, name, kind);
    let give_up = net.now() + ANSWER_TIMEOUT;
    // 64 KiB: the largest datagram there is, so no answer is cut by our buffer.
    let mut buffer = vec![0u8; 65_535];
    loop {
        let now = net.now();
        if now >= give_up {
            return Err(Failure::NoAnswer);
        }
        socket
            .send_to(&bytes, server)
            .await
            .map_err(Failure::Network)?;
        let resend_at = (now + RESEND_AFTER).min(give_up);
        // Read every datagram that comes until one is the answer, or it is time to resend.
        loop {
            let received = tokio::select! {
                received = socket.recv_from(&mut buffer) => received,
                () = net.sleep(resend_at.saturating_duration_since(net.now())) => break,
            };
            // An error here is most often ICMP "port unreachable" for the datagram sent
            // (`ConnectionRefused`): nobody listens there, and waiting longer is no use.
            let (length, from) = received.map_err(Failure::Network)?;
            // From someone else: not the answer, whatever it says.
            if from != server {
                continue;
            }
            let Ok(answer) = Message::from_vec(&buffer[..length]) else {
                continue;
            };
            if answers(&answer, id, name, kind) {
                return Ok(answer);
            }
        }
    }
}

/// The question over a TCP connection: each message after its length in two bytes
/// (RFC 1035 §4.2.2), read whole however the bytes arrive.
async fn ask_over_tcp<N: Network>(
    net: &N,
    server: SocketAddr,
    name: &Name,
    kind: RecordType,
) -> Result<Message, Failure> {
    let exchange = async {
        let mut stream = net
            .connect_tcp(&server.ip().to_string(), server.port())
            .await?;
        let (id, bytes) = question(net.random_u64() as u16, name, kind);
        let length = u16::try_from(bytes.len()).expect("a question is far below 64 KiB");
        let mut framed = length.to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        // One write of both: a server may read the length and the message in one go.
        stream.write_all(&framed).await?;
        // Answers in order until ours (a server may answer each question on the
        // connection; we asked only one, so the first is ours or wrong).
        let mut length = [0u8; 2];
        stream.read_exact(&mut length).await?;
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut message).await?;
        Ok::<_, io::Error>((id, message))
    };
    let (id, message) = tokio::select! {
        result = exchange => result.map_err(Failure::Network)?,
        () = net.sleep(ANSWER_TIMEOUT) => return Err(Failure::NoAnswer),
    };
    let answer =
        Message::from_vec(&message).map_err(|error| Failure::Malformed(error.to_string()))?;
    if !answers(&answer, id, name, kind) {
        return Err(Failure::Malformed(
            "it does not answer the question asked".into(),
        ));
    }
    Ok(answer)
}

/// The DNS server the system asks: the first IPv4 `nameserver` line of `resolv.conf`'s
/// text, on port 53 (resolv.conf(5)). IPv4 because this client's UDP socket is IPv4
/// (`crate::net::Network::bind_udp`).
pub fn system_server(resolv_conf: &str) -> Option<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        .filter_map(|address| address.parse::<IpAddr>().ok())
        .find(IpAddr::is_ipv4)
        .map(|address| SocketAddr::new(address, 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_server_is_the_first_ipv4_nameserver() {
        let text = "# written by the harness\nsearch example.com\nnameserver ::1\n\
                    nameserver 127.0.0.1\nnameserver 192.0.2.53\n";
        assert_eq!(system_server(text), Some("127.0.0.1:53".parse().unwrap()));
        assert_eq!(system_server("options edns0\n"), None);
    }

    #[test]
    fn only_a_response_to_the_same_question_counts() {
        let name = Name::from_ascii("example.com.").unwrap();
        let (id, bytes) = question(4711, &name, RecordType::MX);
        let mut reply = Message::from_vec(&bytes).unwrap();
        assert!(
            !answers(&reply, id, &name, RecordType::MX),
            "a question is no answer"
        );
        reply.metadata.message_type = MessageType::Response;
        assert!(answers(&reply, id, &name, RecordType::MX));
        assert!(!answers(&reply, id.wrapping_add(1), &name, RecordType::MX));
        assert!(!answers(&reply, id, &name, RecordType::A));
        let other = Name::from_ascii("example.org.").unwrap();
        assert!(!answers(&reply, id, &other, RecordType::MX));
    }
}
