//! The experiments in the simulated network (turmoil): deterministic for a seed.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use turmoil::net::{TcpListener, TcpStream, UdpSocket};

use super::{
    CONNECT_WAIT, Observation, PingPlan, UDP_WAIT, describe_connect, describe_error, describe_ping,
    millis, reference_errors,
};
use crate::faults::{Range, ShortIo, SlicePlan};
use crate::pcap::TcpFlow;
use crate::wire::Side;

/// The port servers use in the simulation (every host has its own ports).
const PORT: u16 = 9000;

type Shared = Rc<RefCell<Observation>>;

/// Capture timestamps: a fixed epoch plus simulated time.
fn now() -> Duration {
    Duration::from_secs(1_700_000_000) + turmoil::sim_elapsed().unwrap_or_default()
}

fn address(host: &str, port: u16) -> SocketAddr {
    SocketAddr::new(turmoil::lookup(host), port)
}

/// Builds a simulation with `latency` on every link, lets `setup` add hosts and clients,
/// runs it to the end, and returns what the experiment recorded.
fn simulate(
    seed: u64,
    latency: Duration,
    setup: impl FnOnce(&mut turmoil::Sim<'_>, Shared),
) -> io::Result<Observation> {
    let observation: Shared = Rc::default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .simulation_duration(Duration::from_secs(120))
        .min_message_latency(latency)
        .max_message_latency(latency)
        .build();
    setup(&mut sim, Rc::clone(&observation));
    sim.run()
        .map_err(|error| io::Error::other(format!("the simulation failed: {error}")))?;
    drop(sim);
    Ok(Rc::try_unwrap(observation)
        .map(RefCell::into_inner)
        .unwrap_or_else(|shared| shared.borrow().clone()))
}

/// Runs experiment `number` in a simulation seeded by `seed`.
pub(super) fn run(number: u8, seed: u64) -> io::Result<Observation> {
    let loopback_like = Duration::from_millis(1);
    match number {
        1 => simulate(seed, loopback_like, tcp_client_first),
        2 => simulate(seed, loopback_like, udp_client_first),
        3 => simulate(seed, loopback_like, different_ports),
        4 => simulate(seed, loopback_like, port_in_use),
        5 => simulate(seed, loopback_like, listen_zero),
        6 => simulate(seed, loopback_like, |sim, shared| {
            boundaries(sim, shared, seed)
        }),
        7 => simulate(seed, loopback_like, restart),
        8 => {
            let plan = PingPlan::default();
            // Half the round trip each way.
            simulate(seed, plan.delay / 2, |sim, shared| {
                pinger(sim, shared, seed, plan)
            })
        }
        _ => Ok(Observation::default()),
    }
}

fn tcp_client_first(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    sim.host("server", || async {
        // The server starts 100 ms after the client.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
        loop {
            let _ = listener.accept().await?;
        }
    });
    sim.client("client", async move {
        let server = address("server", PORT);
        let started = Instant::now();
        let attempt = TcpStream::connect(("server", PORT)).await;
        let (value, detail) = describe_error(&attempt);
        {
            let mut observation = shared.borrow_mut();
            observation.fact(
                "connect-before-server",
                value,
                format!(
                    "connect to server:{PORT} before the server started: {detail}, after {}",
                    millis(started)
                ),
            );
            TcpFlow::new(address("client", 49152), server).refused(&mut observation.packets, now());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let attempt = TcpStream::connect(("server", PORT)).await;
        let (value, detail) = describe_error(&attempt);
        let mut observation = shared.borrow_mut();
        observation.fact(
            "connect-after-server",
            value,
            format!(
                "connect again once the server listens: {detail}, after {}",
                millis(started)
            ),
        );
        if let Ok(stream) = &attempt {
            TcpFlow::new(stream.local_addr()?, server).handshake(&mut observation.packets, now());
        }
        Ok(())
    });
}

/// Sends `ping` and waits [`UDP_WAIT`] for an answer.
async fn ping_once(socket: &UdpSocket, target: (&str, u16)) -> (String, String) {
    let sent = socket.send_to(b"ping", target).await;
    let mut buffer = [0u8; 2048];
    let received = tokio::time::timeout(UDP_WAIT, socket.recv_from(&mut buffer)).await;
    describe_ping(&sent, &received)
}

fn udp_client_first(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    let for_server = Rc::clone(&shared);
    sim.host("server", move || {
        let shared = Rc::clone(&for_server);
        async move {
            // The server starts 3 s after the client.
            tokio::time::sleep(Duration::from_secs(3)).await;
            let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
            let mut buffer = [0u8; 2048];
            let queued = socket.try_recv_from(&mut buffer);
            shared.borrow_mut().fact(
                "queued-for-late-server",
                if queued.is_ok() { "Queued" } else { "Nothing" },
                format!(
                    "what the server finds when it starts: {}",
                    if queued.is_ok() {
                        "a datagram was waiting"
                    } else {
                        "nothing"
                    }
                ),
            );
            Ok(())
        }
    });
    sim.client("client", async move {
        let socket = UdpSocket::bind(("0.0.0.0", 0)).await?;
        let (value, detail) = ping_once(&socket, ("server", PORT)).await;
        let client = address("client", socket.local_addr()?.port());
        {
            let mut observation = shared.borrow_mut();
            observation.fact(
                "unconnected-socket",
                value.clone(),
                format!("socket: {detail}"),
            );
            observation.fact(
                "connected-socket",
                value,
                "turmoil has no ICMP: a connected socket learns nothing more (same as above)"
                    .to_string(),
            );
            observation
                .packets
                .udp(now(), client, address("server", PORT), b"ping");
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(())
    });
}

fn different_ports(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    let for_server = Rc::clone(&shared);
    sim.host("server", move || {
        let shared = Rc::clone(&for_server);
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
            let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut buffer = [0u8; 64];
            let got = match socket.try_recv_from(&mut buffer) {
                Ok((count, _)) => format!("{count} bytes"),
                Err(_) => "nothing".into(),
            };
            shared.borrow_mut().fact(
                "udp-server-received",
                got.clone(),
                format!("the UDP server received {got}"),
            );
            drop(listener);
            Ok(())
        }
    });
    sim.client("client", async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let wrong = PORT + 1;
        let started = Instant::now();
        let attempt = TcpStream::connect(("server", wrong)).await;
        let (value, detail) = describe_error(&attempt);
        shared.borrow_mut().fact(
            "tcp-wrong-port",
            value,
            format!(
                "TCP server on {PORT}, client connects to {wrong}: {detail}, after {}",
                millis(started)
            ),
        );
        let socket = UdpSocket::bind(("0.0.0.0", 0)).await?;
        let (value, detail) = ping_once(&socket, ("server", wrong)).await;
        shared.borrow_mut().fact(
            "udp-wrong-port",
            value,
            format!("UDP server on {PORT}, client sends to {wrong}: {detail}"),
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(())
    });
}

fn port_in_use(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    sim.client("server", async move {
        let first = TcpListener::bind(("0.0.0.0", PORT)).await?;
        let second = TcpListener::bind(("0.0.0.0", PORT)).await;
        let (value, detail) = describe_error(&second);
        shared.borrow_mut().fact(
            "second-bind",
            value,
            format!("a second socket binds port {PORT} while a server listens on it: {detail}"),
        );
        let facts = reference_errors(reference::net::Turmoil, PORT, "server", PORT + 1).await;
        shared.borrow_mut().facts.extend(facts);
        drop(first);
        Ok(())
    });
}

fn listen_zero(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    sim.host("server", || async {
        // turmoil's listener has no backlog parameter: the nearest to listen(0) is a
        // listener that never accepts.
        let _listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
        std::future::pending::<()>().await;
        Ok(())
    });
    sim.client("client", async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        for (index, key) in ["client-1", "client-2", "client-3"].into_iter().enumerate() {
            let started = Instant::now();
            let attempt =
                tokio::time::timeout(CONNECT_WAIT, TcpStream::connect(("server", PORT))).await;
            let (value, detail) = describe_connect(&attempt, started, "");
            let mut observation = shared.borrow_mut();
            observation.fact(
                key,
                value,
                format!("client {}, nobody calls accept: {detail}", index + 1),
            );
            TcpFlow::new(
                address("client", 49152 + index as u16),
                address("server", PORT),
            )
            .unanswered_syn(&mut observation.packets, now());
        }
        Ok(())
    });
}

fn boundaries(sim: &mut turmoil::Sim<'_>, shared: Shared, seed: u64) {
    let for_server = Rc::clone(&shared);
    sim.host("server", move || {
        let shared = Rc::clone(&for_server);
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
            let mut buffer = [0u8; 4096];
            // First connection: turmoil's stream as it is.
            let (mut plain, _) = listener.accept().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let first = plain.read(&mut buffer).await?;
            shared.borrow_mut().fact(
                "tcp-three-sends",
                format!("{first} bytes in the first recv"),
                format!("three sends of 6, 7 and 6 bytes; the first recv(4096) returned {first} bytes (turmoil delivers one send per recv)"),
            );
            // Second connection: through the kit's short-I/O adapter, as the reference's
            // streams are in `--simulate`.
            let (stream, peer) = listener.accept().await?;
            let plan = SlicePlan { size: Range::Between([1, 4096]), gap_ms: Range::Exactly(0) };
            let mut adapted = ShortIo::new(stream, plan, seed, &format!("server<-{peer}"));
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut sizes = Vec::new();
            let mut total = 0;
            while total < 19 {
                let count = adapted.read(&mut buffer).await?;
                if count == 0 {
                    break;
                }
                sizes.push(count.to_string());
                total += count;
            }
            shared.borrow_mut().fact(
                "tcp-three-sends-short-io",
                sizes.join("+"),
                format!("the same through the kit's seeded short-I/O adapter: recvs of {} bytes", sizes.join(", ")),
            );
            // UDP.
            let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
            let mut sizes = Vec::new();
            for _ in 0..3 {
                let (count, _) = socket.recv_from(&mut buffer).await?;
                sizes.push(count.to_string());
            }
            shared.borrow_mut().fact(
                "udp-three-datagrams",
                sizes.join("+"),
                format!("three datagrams, three recvfrom(4096): {} bytes", sizes.join(", ")),
            );
            let mut small = [0u8; 10];
            let (truncated, _) = socket.recv_from(&mut small).await?;
            let (after, _) = socket.recv_from(&mut buffer).await?;
            let next = String::from_utf8_lossy(&buffer[..after]).into_owned();
            shared.borrow_mut().fact(
                "udp-small-buffer",
                format!("{truncated} then {next:?}"),
                format!("a 100-byte datagram into a 10-byte buffer: recvfrom returned {truncated} bytes; the next recvfrom returned {next:?}"),
            );
            Ok(())
        }
    });
    sim.client("client", async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let server = address("server", PORT);
        for _ in 0..2 {
            let mut stream = TcpStream::connect(("server", PORT)).await?;
            let mut flow = TcpFlow::new(stream.local_addr()?, server);
            flow.handshake(&mut shared.borrow_mut().packets, now());
            for word in [&b"first\n"[..], b"second\n", b"third\n"] {
                stream.write_all(word).await?;
                flow.data(&mut shared.borrow_mut().packets, now(), Side::Client, word);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let socket = UdpSocket::bind(("0.0.0.0", 0)).await?;
        let from = address("client", socket.local_addr()?.port());
        for word in [
            &b"first\n"[..],
            b"second\n",
            b"third\n",
            &[b'x'; 100],
            b"next",
        ] {
            socket.send_to(word, ("server", PORT)).await?;
            shared.borrow_mut().packets.udp(now(), from, server, word);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(())
    });
}

fn restart(sim: &mut turmoil::Sim<'_>, shared: Shared) {
    let for_server = Rc::clone(&shared);
    sim.host("server", move || {
        let shared = Rc::clone(&for_server);
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
            let (stream, _) = listener.accept().await?;
            // The server closes first, then "exits" (its listener goes too)...
            drop(stream);
            drop(listener);
            tokio::time::sleep(Duration::from_millis(50)).await;
            // ...and is restarted at once on the same port.
            let again = TcpListener::bind(("0.0.0.0", PORT)).await;
            let (value, detail) = describe_error(&again);
            let mut observation = shared.borrow_mut();
            observation.fact(
                "time-wait-sockets",
                "0",
                "turmoil keeps no TIME_WAIT state: a closed connection leaves nothing behind".to_string(),
            );
            observation.fact(
                "rebind-without-reuseaddr",
                value,
                format!("restart at once on the same port (turmoil has no SO_REUSEADDR option): bind {detail}"),
            );
            Ok(())
        }
    });
    sim.client("client", async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut stream = TcpStream::connect(("server", PORT)).await?;
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        drop(stream);
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(())
    });
}

fn pinger(sim: &mut turmoil::Sim<'_>, shared: Shared, seed: u64, plan: PingPlan) {
    sim.host("server", move || async move {
        let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut buffer = [0u8; 1024];
        loop {
            let (count, from) = socket.recv_from(&mut buffer).await?;
            if rng.random_bool(plan.loss) {
                continue;
            }
            socket
                .send_to(&buffer[..count].to_ascii_uppercase(), from)
                .await?;
        }
    });
    sim.client("client", async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let socket = UdpSocket::bind(("0.0.0.0", 0)).await?;
        let (client, server) = (
            address("client", socket.local_addr()?.port()),
            address("server", PORT),
        );
        let mut rtts = Vec::new();
        let started = Instant::now();
        for sequence in 1..=plan.pings {
            let message = format!("Ping {sequence}");
            let sent = Instant::now();
            socket.send_to(message.as_bytes(), ("server", PORT)).await?;
            shared
                .borrow_mut()
                .packets
                .udp(now(), client, server, message.as_bytes());
            let mut buffer = [0u8; 1024];
            if let Ok(Ok((count, _))) =
                tokio::time::timeout(plan.timeout, socket.recv_from(&mut buffer)).await
            {
                rtts.push(sent.elapsed());
                shared
                    .borrow_mut()
                    .packets
                    .udp(now(), server, client, &buffer[..count]);
            }
        }
        super::ping_facts(&mut shared.borrow_mut(), &plan, &rtts, started.elapsed());
        Ok(())
    });
}
