//! The ping client: send numbered pings, time the replies, print a summary.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tokio::io::AsyncWriteExt;

use crate::DATAGRAM_BUFFER_SIZE;
use crate::cli::{self, Output, Stdio};
use crate::net::{DatagramSocket, Network};

/// UDP ping client: sends numbered pings, prints each RTT, then loss and RTT statistics.
#[derive(Parser)]
#[command(name = "udp-pinger-client")]
struct Args {
    /// Server host name or address.
    host: String,
    /// Server UDP port.
    port: u16,
    /// How many pings to send.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
}

/// How long the client waits for each reply, from the moment its ping is sent (SPEC
/// `ping/1`: after one second the ping counts as lost).
pub const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// `udp-pinger-client HOST PORT [--count N]`: pings, prints a line per ping and a summary,
/// exits 0 (also when every ping is lost: that is a result, not an error).
///
/// ```text
/// Reply from 127.0.0.1: seq=1 rtt=0.081 ms
/// Request timed out (seq=2)
/// Reply from 127.0.0.1: seq=3 rtt=0.064 ms
/// --- 127.0.0.1 ping statistics ---
/// 3 packets transmitted, 2 received, 33.3% packet loss
/// rtt min/avg/max = 0.064/0.073/0.081 ms
/// ```
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let program = "udp-pinger-client";
    let server = match net.resolve(&args.host, args.port).await {
        Ok(server) => server,
        Err(error) => {
            let context = format!("cannot resolve {}", args.host);
            return cli::fail(&mut stdio.stderr, program, context, error).await;
        }
    };
    // Port 0: the kernel picks a free port; the server learns it from our pings.
    let socket = match net.bind_udp(0).await {
        Ok(socket) => socket,
        Err(error) => return cli::fail(&mut stdio.stderr, program, "cannot bind", error).await,
    };

    let mut buffer = vec![0u8; DATAGRAM_BUFFER_SIZE];
    let mut statistics = Statistics::default();
    // One ping per sequence number. The next ping goes out as soon as this one is
    // answered or timed out *(decided: the handout's "one per second at most" read as "at
    // most one second per ping", as in Kurose & Ross's solution)*.
    for seq in 1..=args.count {
        let line = match ping(&net, &socket, server, seq, &mut buffer).await {
            Ok(Some(rtt)) => {
                statistics.record(Some(rtt));
                // SPEC ping/1: the sequence number and the RTT, a decimal number in ms.
                format!(
                    "Reply from {}: seq={seq} rtt={:.3} ms",
                    args.host,
                    millis(rtt)
                )
            }
            Ok(None) => {
                statistics.record(None);
                // SPEC ping/1: "Request timed out" after one second.
                format!("Request timed out (seq={seq})")
            }
            Err(error) => {
                let context = format!("ping {seq} to {server} failed");
                return cli::fail(&mut stdio.stderr, program, context, error).await;
            }
        };
        if let Err(error) = print(&mut stdio.stdout, &line).await {
            return cli::fail(&mut stdio.stderr, program, "cannot write stdout", error).await;
        }
    }
    // SPEC ping/2: the summary, also (without RTT figures) when every ping was lost.
    match print(&mut stdio.stdout, &statistics.summary(&args.host)).await {
        Ok(()) => 0,
        Err(error) => cli::fail(&mut stdio.stderr, program, "cannot write stdout", error).await,
    }
}

/// Writes `text` and a newline on stdout, at once: each ping's line appears when its
/// reply (or timeout) comes, not at the end.
async fn print(stdout: &mut Output, text: &str) -> io::Result<()> {
    stdout.write_all(format!("{text}\n").as_bytes()).await?;
    stdout.flush().await
}

/// Sends ping `seq` to `server` and waits for its reply. Returns the round-trip time, or
/// `None` when no reply to *this* ping came within [`PING_TIMEOUT`].
///
/// ```text
/// sent:      Ping <seq> <seconds since 1970, with 6 decimals>
/// accepted:  PING <seq> ...   from `server`, any case
/// ```
///
/// `buffer` receives the datagrams; it should hold any datagram
/// ([`DATAGRAM_BUFFER_SIZE`]).
pub async fn ping<N: Network, D: DatagramSocket>(
    net: &N,
    socket: &D,
    server: SocketAddr,
    seq: u32,
    buffer: &mut [u8],
) -> io::Result<Option<Duration>> {
    // The time in the message is only text for the server to send back. The RTT is
    // measured on the network's monotonic clock (wall-clock time may jump), which in the
    // simulated world is the simulation's.
    let message = format!("Ping {seq} {}", wall_clock(net));
    let sent_at = net.now();
    socket.send_to(message.as_bytes(), server).await?;
    // The limit counts from the send, and does not restart when a stray datagram comes.
    let give_up = net.sleep(PING_TIMEOUT);
    tokio::pin!(give_up);
    // Until this ping's reply or its timeout: other datagrams may come meanwhile, and
    // each one is looked at and set aside.
    loop {
        let (size, sender) = tokio::select! {
            // The deadline first: a stream of stray datagrams cannot keep the receive
            // branch always ready, and the simulated world replays exactly (no random
            // choice between ready branches).
            biased;
            () = &mut give_up => return Ok(None),
            received = socket.recv_from(buffer) => received?,
        };
        // Anyone can send to our port: only the server's datagrams are replies.
        if sender != server {
            continue;
        }
        // SPEC ping/4: a reply to an earlier ping, late after its own timeout, is not
        // this ping's reply. Discard it and keep waiting until this ping's deadline.
        if !is_reply_to(&buffer[..size], seq) {
            continue;
        }
        let rtt = net.now().duration_since(sent_at);
        // On a loaded machine this task may run only after its deadline, with the timer
        // and the reply both ready: a reply after PING_TIMEOUT is a timeout, whichever
        // the wait noticed first (found by the kit's soak test, two busy loops beside it).
        if rtt >= PING_TIMEOUT {
            return Ok(None);
        }
        return Ok(Some(rtt));
    }
}

/// Whether `datagram` is the reply to ping `seq`: its first two words are `PING` (any
/// case) and `seq`.
///
/// Bytes, not text: a reply that is not UTF-8 is simply not a reply.
pub fn is_reply_to(datagram: &[u8], seq: u32) -> bool {
    let mut words = datagram
        .split(u8::is_ascii_whitespace)
        .filter(|word| !word.is_empty());
    match (words.next(), words.next()) {
        (Some(first), Some(second)) => {
            first.eq_ignore_ascii_case(b"PING") && second == seq.to_string().as_bytes()
        }
        _ => false,
    }
}

/// Seconds since the Unix epoch, with microseconds: `1718000000.123456`.
fn wall_clock<N: Network>(net: &N) -> String {
    let since_epoch = net.since_epoch();
    format!(
        "{}.{:06}",
        since_epoch.as_secs(),
        since_epoch.subsec_micros()
    )
}

/// A duration in milliseconds, with its fraction.
fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What the summary needs, kept as running figures: memory does not grow with the number
/// of pings.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Statistics {
    /// Pings sent.
    pub transmitted: u32,
    /// Pings answered in time.
    pub received: u32,
    /// Shortest round-trip time, once a ping was answered.
    pub min: Option<Duration>,
    /// Longest round-trip time, once a ping was answered.
    pub max: Option<Duration>,
    /// Sum of the round-trip times, for the average.
    pub total: Duration,
}

impl Statistics {
    /// Counts one ping: answered after `rtt`, or lost (`None`).
    pub fn record(&mut self, rtt: Option<Duration>) {
        self.transmitted += 1;
        if let Some(rtt) = rtt {
            self.received += 1;
            self.total += rtt;
            self.min = Some(self.min.map_or(rtt, |min| min.min(rtt)));
            self.max = Some(self.max.map_or(rtt, |max| max.max(rtt)));
        }
    }

    /// The summary, as the system's `ping` prints it (SPEC `ping/2`), without the final
    /// newline:
    ///
    /// ```text
    /// --- HOST ping statistics ---
    /// 10 packets transmitted, 7 received, 30% packet loss
    /// rtt min/avg/max = 0.051/0.084/0.132 ms
    /// ```
    ///
    /// The RTT line is left out when no ping was answered: there is nothing to average.
    pub fn summary(&self, host: &str) -> String {
        let mut summary = format!(
            "--- {host} ping statistics ---\n{} packets transmitted, {} received, {}% packet loss",
            self.transmitted,
            self.received,
            self.loss_percent()
        );
        if let (Some(min), Some(max)) = (self.min, self.max) {
            let average = self.total / self.received;
            summary += &format!(
                "\nrtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
                millis(min),
                millis(average),
                millis(max)
            );
        }
        summary
    }

    /// The share of pings lost, in percent, with one decimal when it is not whole:
    /// `0`, `30`, `33.3`, `100`.
    fn loss_percent(&self) -> String {
        if self.transmitted == 0 {
            return "0".to_owned();
        }
        let lost = self.transmitted - self.received;
        let percent = f64::from(lost) * 100.0 / f64::from(self.transmitted);
        let text = format!("{percent:.1}");
        match text.strip_suffix(".0") {
            Some(whole) => whole.to_owned(),
            None => text,
        }
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::net::Tokio;

    #[test]
    fn replies_are_recognised_by_their_first_two_words() {
        let cases: &[(&[u8], u32, bool)] = &[
            (b"PING 3 1718000000.123456", 3, true),
            (b"ping 3 1718000000.123456", 3, true),
            (b"PING 3", 3, true),
            (b"  PING\t3  trailing words", 3, true),
            (b"PING 2 1718000000.123456", 3, false),
            (b"PING 33 1718000000.123456", 3, false),
            (b"PONG 3 1718000000.123456", 3, false),
            (b"PING", 3, false),
            (b"", 3, false),
            (b"PING 3\xff\xfe", 3, false),
            (b"PING 3 \xff\xfe", 3, true),
        ];
        for &(datagram, seq, expected) in cases {
            assert_eq!(
                is_reply_to(datagram, seq),
                expected,
                "{:?} for seq {seq}",
                String::from_utf8_lossy(datagram)
            );
        }
    }

    #[test]
    fn the_summary_shows_loss_and_rtt_like_ping() {
        let mut statistics = Statistics::default();
        for rtt in [
            Some(2),
            None,
            Some(4),
            None,
            None,
            Some(6),
            Some(1),
            Some(3),
            Some(5),
            Some(9),
        ] {
            statistics.record(rtt.map(Duration::from_millis));
        }
        assert_eq!(
            statistics.summary("server"),
            "--- server ping statistics ---\n\
             10 packets transmitted, 7 received, 30% packet loss\n\
             rtt min/avg/max = 1.000/4.286/9.000 ms"
        );
    }

    #[test]
    fn loss_has_a_decimal_only_when_it_is_not_whole() {
        let loss = |received: u32, transmitted: u32| {
            let mut statistics = Statistics::default();
            for seq in 0..transmitted {
                statistics.record((seq < received).then_some(Duration::from_millis(1)));
            }
            statistics.loss_percent()
        };
        assert_eq!(loss(3, 3), "0");
        assert_eq!(loss(2, 3), "33.3");
        assert_eq!(loss(1, 3), "66.7");
        assert_eq!(loss(7, 10), "30");
        assert_eq!(loss(0, 10), "100");
    }

    #[test]
    fn every_ping_lost_is_100_percent_and_no_rtt() {
        let mut statistics = Statistics::default();
        statistics.record(None);
        statistics.record(None);
        assert_eq!(
            statistics.summary("h"),
            "--- h ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss"
        );
    }

    /// A socket whose datagrams are written in advance; once they are handed out, it
    /// waits forever, as a socket nobody writes to.
    struct Scripted(Mutex<VecDeque<(Vec<u8>, SocketAddr)>>);

    impl Scripted {
        fn new(datagrams: &[(&[u8], SocketAddr)]) -> Self {
            let queue = datagrams
                .iter()
                .map(|(bytes, from)| (bytes.to_vec(), *from))
                .collect();
            Scripted(Mutex::new(queue))
        }
    }

    impl DatagramSocket for Scripted {
        async fn send_to(&self, datagram: &[u8], _: SocketAddr) -> io::Result<usize> {
            Ok(datagram.len())
        }

        async fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
            let next = self.0.lock().unwrap().pop_front();
            match next {
                Some((bytes, from)) => {
                    buffer[..bytes.len()].copy_from_slice(&bytes);
                    Ok((bytes.len(), from))
                }
                None => std::future::pending().await,
            }
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            Ok(([127, 0, 0, 1], 40000).into())
        }
    }

    /// `ping` on a scripted socket, over the real clock.
    async fn ping_with(socket: &Scripted, server: SocketAddr, seq: u32) -> Option<Duration> {
        let mut buffer = vec![0u8; 256];
        ping(&Tokio, socket, server, seq, &mut buffer)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_late_reply_to_an_earlier_ping_is_not_this_pings_reply() {
        let server: SocketAddr = ([127, 0, 0, 1], 9000).into();
        let stranger: SocketAddr = ([127, 0, 0, 1], 9001).into();
        let socket = Scripted::new(&[
            (b"PING 2 1718000000.000001", stranger),
            (b"PING 1 1718000000.000000", server),
            (b"PING 2 1718000000.000001", server),
        ]);
        assert!(ping_with(&socket, server, 2).await.is_some());
        // Every scripted datagram was looked at: the reply was the third.
        assert!(socket.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn only_a_late_reply_means_this_ping_timed_out() {
        let server: SocketAddr = ([127, 0, 0, 1], 9000).into();
        let socket = Scripted::new(&[(b"PING 1 1718000000.000000", server)]);
        let started = tokio::time::Instant::now();
        assert_eq!(ping_with(&socket, server, 2).await, None);
        // Not before its own deadline: the late reply did not end the wait.
        assert!(started.elapsed() >= PING_TIMEOUT);
    }
}
