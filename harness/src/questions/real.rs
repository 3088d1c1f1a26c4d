//! The experiments on this machine's loopback: the kernel's own answers.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;

use super::{
    CONNECT_WAIT, Observation, PingPlan, UDP_WAIT, describe_connect, describe_error, describe_ping,
    millis, reference_errors,
};
use crate::pcap::TcpFlow;
use crate::wire::Side;
use crate::world::real::ports::fresh_port;
use crate::world::real::readiness::{TCP_TIME_WAIT, socket_rows};

/// Timestamps for the capture: real time.
struct Clock {
    started: Instant,
    epoch: Duration,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            started: Instant::now(),
            epoch: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    fn now(&self) -> Duration {
        self.epoch + self.started.elapsed()
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Runs experiment `number` and returns what it observed.
pub(super) async fn run(number: u8, seed: u64) -> io::Result<Observation> {
    let mut observation = Observation::default();
    let clock = Clock::new();
    match number {
        1 => tcp_client_first(&mut observation, &clock).await?,
        2 => udp_client_first(&mut observation, &clock).await?,
        3 => different_ports(&mut observation, &clock).await?,
        4 => port_in_use(&mut observation, &clock).await?,
        5 => listen_zero(&mut observation, &clock).await?,
        6 => boundaries(&mut observation, &clock).await?,
        7 => restart(&mut observation).await?,
        8 => pinger(&mut observation, &clock, seed).await?,
        _ => {}
    }
    Ok(observation)
}

async fn tcp_client_first(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    let port = fresh_port()?;
    let server = loopback(port);
    let started = Instant::now();
    let attempt = TcpStream::connect(server).await;
    let (value, detail) = describe_error(&attempt);
    observation.fact(
        "connect-before-server",
        value,
        format!(
            "connect to {server}, nothing listening: {detail}, after {}",
            millis(started)
        ),
    );
    let client = attempt
        .map(|stream| stream.local_addr())
        .ok()
        .and_then(Result::ok);
    TcpFlow::new(client.unwrap_or(loopback(40000)), server)
        .refused(&mut observation.packets, clock.now());

    let listener = TcpListener::bind(server).await?;
    let started = Instant::now();
    let attempt = TcpStream::connect(server).await;
    let (value, detail) = describe_error(&attempt);
    observation.fact(
        "connect-after-server",
        value,
        format!(
            "connect again once a server listens: {detail}, after {}",
            millis(started)
        ),
    );
    if let Ok(stream) = &attempt {
        TcpFlow::new(stream.local_addr()?, server).handshake(&mut observation.packets, clock.now());
    }
    drop(listener);
    Ok(())
}

/// Sends `ping` from `socket` to `target` and waits [`UDP_WAIT`] for an answer.
async fn ping_once(socket: &UdpSocket, target: SocketAddr, connected: bool) -> (String, String) {
    let sent = if connected {
        socket.send(b"ping").await
    } else {
        socket.send_to(b"ping", target).await
    };
    let mut buffer = [0u8; 2048];
    let received = if connected {
        tokio::time::timeout(UDP_WAIT, socket.recv(&mut buffer)).await
    } else {
        tokio::time::timeout(UDP_WAIT, async {
            socket.recv_from(&mut buffer).await.map(|(count, _)| count)
        })
        .await
    };
    describe_ping(&sent, &received)
}

async fn udp_client_first(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    let port = fresh_port()?;
    let server = loopback(port);
    let unconnected = UdpSocket::bind("127.0.0.1:0").await?;
    let client = unconnected.local_addr()?;
    let (value, detail) = ping_once(&unconnected, server, false).await;
    observation.fact(
        "unconnected-socket",
        value,
        format!("unconnected socket: {detail}"),
    );
    observation
        .packets
        .udp(clock.now(), client, server, b"ping");
    observation
        .packets
        .port_unreachable(clock.now(), client, server, b"ping");

    let connected = UdpSocket::bind("127.0.0.1:0").await?;
    connected.connect(server).await?;
    let (value, detail) = ping_once(&connected, server, true).await;
    observation.fact(
        "connected-socket",
        value,
        format!("connected socket: {detail}"),
    );
    observation
        .packets
        .udp(clock.now(), connected.local_addr()?, server, b"ping");
    observation
        .packets
        .port_unreachable(clock.now(), connected.local_addr()?, server, b"ping");

    // Now the server starts: are the earlier datagrams waiting for it?
    let late_server = UdpSocket::bind(server).await?;
    let mut buffer = [0u8; 2048];
    let queued = late_server.try_recv_from(&mut buffer);
    let waiting = match &queued {
        Ok((count, _)) => format!("a {count}-byte datagram was waiting"),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => "nothing".into(),
        Err(error) => error.to_string(),
    };
    observation.fact(
        "queued-for-late-server",
        if queued.is_ok() { "Queued" } else { "Nothing" },
        format!("what the server finds when it starts: {waiting}"),
    );
    Ok(())
}

async fn different_ports(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    let (server_port, wrong_port) = (fresh_port()?, fresh_port()?);
    let listener = TcpListener::bind(loopback(server_port)).await?;
    let started = Instant::now();
    let attempt = TcpStream::connect(loopback(wrong_port)).await;
    let (value, detail) = describe_error(&attempt);
    observation.fact(
        "tcp-wrong-port",
        value,
        format!(
            "TCP server on {server_port}, client connects to {wrong_port}: {detail}, after {}",
            millis(started)
        ),
    );
    TcpFlow::new(loopback(40001), loopback(wrong_port))
        .refused(&mut observation.packets, clock.now());
    drop(listener);

    let udp_server = UdpSocket::bind(loopback(server_port)).await?;
    let client = UdpSocket::bind("127.0.0.1:0").await?;
    client.connect(loopback(wrong_port)).await?;
    let (value, detail) = ping_once(&client, loopback(wrong_port), true).await;
    observation.fact(
        "udp-wrong-port",
        value,
        format!(
            "UDP server on {server_port}, client (connected socket) sends to {wrong_port}: {detail}"
        ),
    );
    observation.packets.udp(
        clock.now(),
        client.local_addr()?,
        loopback(wrong_port),
        b"ping",
    );
    observation.packets.port_unreachable(
        clock.now(),
        client.local_addr()?,
        loopback(wrong_port),
        b"ping",
    );
    let mut buffer = [0u8; 64];
    let server_got = match udp_server.try_recv_from(&mut buffer) {
        Ok((count, _)) => format!("{count} bytes"),
        Err(_) => "nothing".into(),
    };
    observation.fact(
        "udp-server-received",
        server_got.clone(),
        format!("the UDP server received {server_got}"),
    );
    Ok(())
}

async fn port_in_use(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    let port = fresh_port()?;
    let first = TcpListener::bind(("0.0.0.0", port)).await?;
    let second = TcpListener::bind(("0.0.0.0", port)).await;
    let (value, detail) = describe_error(&second);
    observation.fact(
        "second-bind",
        value,
        format!("a second socket binds port {port} while a server listens on it: {detail}"),
    );
    let free = fresh_port()?;
    let facts = reference_errors(reference::net::Tokio, port, "127.0.0.1", free).await;
    observation.facts.extend(facts);
    drop(first);
    TcpFlow::new(loopback(40002), loopback(free)).refused(&mut observation.packets, clock.now());
    Ok(())
}

async fn listen_zero(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(loopback(0))?;
    // listen(0): the backlog the seed-004 handout says refuses every waiting client.
    let listener = socket.listen(0)?;
    let server = listener.local_addr()?;
    let mut kept = Vec::new();
    for client in 1..=3 {
        let started = Instant::now();
        let attempt = tokio::time::timeout(CONNECT_WAIT, TcpStream::connect(server)).await;
        let (value, detail) = describe_connect(&attempt, started, " (the SYN got no answer)");
        let key = ["client-1", "client-2", "client-3"][client - 1];
        observation.fact(
            key,
            value.clone(),
            format!("client {client}, nobody calls accept: {detail}"),
        );
        let mut flow = TcpFlow::new(loopback(40010 + client as u16), server);
        if value == "Ok" {
            flow.handshake(&mut observation.packets, clock.now());
        } else {
            flow.unanswered_syn(&mut observation.packets, clock.now());
        }
        kept.push(attempt);
    }
    let (stream, _) = tokio::time::timeout(CONNECT_WAIT, listener.accept()).await??;
    observation.fact(
        "accept",
        "Ok",
        "then the server calls accept: it gets the client that was queued".to_string(),
    );
    drop(stream);
    Ok(())
}

async fn boundaries(observation: &mut Observation, clock: &Clock) -> io::Result<()> {
    // TCP: three sends, one recv after they all arrived.
    let listener = TcpListener::bind(loopback(0)).await?;
    let server = listener.local_addr()?;
    let mut client = TcpStream::connect(server).await?;
    let (mut accepted, _) = listener.accept().await?;
    let mut flow = TcpFlow::new(client.local_addr()?, server);
    flow.handshake(&mut observation.packets, clock.now());
    for word in [&b"first\n"[..], b"second\n", b"third\n"] {
        client.write_all(word).await?;
        flow.data(&mut observation.packets, clock.now(), Side::Client, word);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut buffer = [0u8; 4096];
    let first_read = accepted.read(&mut buffer).await?;
    observation.fact(
        "tcp-three-sends",
        format!("{first_read} bytes in the first recv"),
        format!(
            "three sends of 6, 7 and 6 bytes; the server's first recv(4096) returned {first_read} bytes: {:?}",
            String::from_utf8_lossy(&buffer[..first_read])
        ),
    );

    // UDP: three datagrams, three recvs; then a datagram bigger than the buffer.
    let receiver = UdpSocket::bind(loopback(0)).await?;
    let sender = UdpSocket::bind(loopback(0)).await?;
    let (to, from) = (receiver.local_addr()?, sender.local_addr()?);
    for word in [&b"first\n"[..], b"second\n", b"third\n"] {
        sender.send_to(word, to).await?;
        observation.packets.udp(clock.now(), from, to, word);
    }
    let mut sizes = Vec::new();
    for _ in 0..3 {
        let (count, _) = receiver.recv_from(&mut buffer).await?;
        sizes.push(count.to_string());
    }
    observation.fact(
        "udp-three-datagrams",
        sizes.join("+"),
        format!(
            "three datagrams, three recvfrom(4096): {} bytes",
            sizes.join(", ")
        ),
    );
    let big = [b'x'; 100];
    sender.send_to(&big, to).await?;
    sender.send_to(b"next", to).await?;
    observation.packets.udp(clock.now(), from, to, &big);
    observation.packets.udp(clock.now(), from, to, b"next");
    let mut small = [0u8; 10];
    let (truncated, _) = receiver.recv_from(&mut small).await?;
    let (after, _) = receiver.recv_from(&mut buffer).await?;
    observation.fact(
        "udp-small-buffer",
        format!("{truncated} then {:?}", String::from_utf8_lossy(&buffer[..after])),
        format!(
            "a 100-byte datagram into a 10-byte buffer: recvfrom returned {truncated} bytes; the next recvfrom returned {:?}: the other 90 bytes are gone",
            String::from_utf8_lossy(&buffer[..after])
        ),
    );
    Ok(())
}

/// Counts sockets in TIME_WAIT on `port` in the kernel's table of this thread's network
/// namespace, where the question runs.
fn time_wait_on(port: u16) -> usize {
    socket_rows(&["tcp"]).map_or(0, |rows| {
        rows.iter()
            .filter(|row| row.port == port && row.state == TCP_TIME_WAIT)
            .count()
    })
}

/// Waits (at most 5 s) until the server's side of the closed connection on `port` has
/// reached TIME_WAIT, and counts the sockets there. The client's FIN that takes it from
/// FIN_WAIT2 to TIME_WAIT is processed by the kernel in its own time (on a busy machine,
/// by `ksoftirqd`, tens of milliseconds later): a fixed pause would count too early.
async fn time_wait_after_close(port: u16) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let waiting = time_wait_on(port);
        if waiting > 0 || Instant::now() >= deadline {
            return waiting;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A server on `port` that closes a connection first and exits, leaving TIME_WAIT behind;
/// `reuse` says whether it set SO_REUSEADDR.
async fn serve_once_and_exit(port: u16, reuse: bool) -> io::Result<()> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(reuse)?;
    socket.bind(loopback(port))?;
    let listener = socket.listen(16)?;
    let mut client = TcpStream::connect(loopback(port)).await?;
    let (accepted, _) = listener.accept().await?;
    // The server closes first (the active close): its side goes to TIME_WAIT.
    drop(accepted);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await?;
    drop(client);
    drop(listener);
    Ok(())
}

/// Binds `port` again, with or without SO_REUSEADDR.
fn rebind(port: u16, reuse: bool) -> io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(reuse)?;
    socket.bind(loopback(port))?;
    Ok(socket)
}

async fn restart(observation: &mut Observation) -> io::Result<()> {
    // A server written without SO_REUSEADDR, as `socket(); bind(); listen()` in C or Python.
    let port = fresh_port()?;
    serve_once_and_exit(port, false).await?;
    let waiting = time_wait_after_close(port).await;
    observation.fact(
        "time-wait-sockets",
        waiting.to_string(),
        format!("a server without SO_REUSEADDR closed a connection first and exited: {waiting} socket(s) in TIME_WAIT on port {port} (/proc/thread-self/net/tcp)"),
    );
    let (value, detail) = describe_error(&rebind(port, false));
    observation.fact(
        "rebind-without-reuseaddr",
        value,
        format!("restarted at once, still without SO_REUSEADDR: bind {detail}"),
    );
    let (value, detail) = describe_error(&rebind(port, true));
    observation.fact(
        "rebind-reuseaddr-only-on-restart",
        value,
        format!("restarted at once, setting SO_REUSEADDR only now: bind {detail} (the old connection did not allow reuse)"),
    );
    // The same server with SO_REUSEADDR set every time it starts.
    let port = fresh_port()?;
    serve_once_and_exit(port, true).await?;
    let waiting = time_wait_after_close(port).await;
    let (value, detail) = describe_error(&rebind(port, true));
    observation.fact(
        "rebind-with-reuseaddr",
        value,
        format!("a server that always sets SO_REUSEADDR, restarted at once ({waiting} socket(s) in TIME_WAIT): bind {detail}"),
    );
    Ok(())
}

async fn pinger(observation: &mut Observation, clock: &Clock, seed: u64) -> io::Result<()> {
    let plan = PingPlan::default();
    let server = UdpSocket::bind(loopback(0)).await?;
    let server_address = server.local_addr()?;
    // The handout's server: drops a datagram with the given probability, otherwise
    // answers in upper case, after the given delay.
    let echo = tokio::spawn(async move {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut buffer = [0u8; 1024];
        while let Ok((count, from)) = server.recv_from(&mut buffer).await {
            if rng.random_bool(plan.loss) {
                continue;
            }
            tokio::time::sleep(plan.delay).await;
            let _ = server
                .send_to(&buffer[..count].to_ascii_uppercase(), from)
                .await;
        }
    });
    let client = UdpSocket::bind(loopback(0)).await?;
    let client_address = client.local_addr()?;
    let mut rtts = Vec::new();
    let started = Instant::now();
    for sequence in 1..=plan.pings {
        let message = format!("Ping {sequence}");
        let sent = Instant::now();
        client.send_to(message.as_bytes(), server_address).await?;
        observation.packets.udp(
            clock.now(),
            client_address,
            server_address,
            message.as_bytes(),
        );
        let mut buffer = [0u8; 1024];
        if let Ok(Ok((count, _))) =
            tokio::time::timeout(plan.timeout, client.recv_from(&mut buffer)).await
        {
            rtts.push(sent.elapsed());
            observation.packets.udp(
                clock.now(),
                server_address,
                client_address,
                &buffer[..count],
            );
        }
    }
    echo.abort();
    super::ping_facts(observation, &plan, &rtts, started.elapsed());
    Ok(())
}
