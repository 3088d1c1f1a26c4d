//! What the reference port forwarder costs: 4 MB from a client to a remote that reads it
//! all and closes, straight and through `port-forward` (two 4 KiB pumps, a half-close
//! passed on), all in one process on loopback. The ratio between the two lines is the
//! relay's cost.
//!
//! `cargo bench -p benches --bench relay`; `cargo test -p benches --benches` runs each
//! case once.

use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reference::cli::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MESSAGE_BYTES: usize = 4 << 20;

/// A remote that reads each connection to its end, then closes it.
async fn remote(listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut stream, &mut tokio::io::sink()).await;
        });
    }
}

/// Sends `message` to `address`, half-closes, and waits for the other side to close.
async fn send_through(address: SocketAddr, message: &[u8]) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(message).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn relay(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let message: Vec<u8> = (0..MESSAGE_BYTES).map(|i| (i % 251) as u8).collect();
    let (remote_address, forwarder_address) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let remote_address = listener.local_addr().unwrap();
        tokio::spawn(remote(listener));
        let port = free_port();
        let args = ["port-forward", &port.to_string(), "127.0.0.1"]
            .into_iter()
            .map(String::from)
            .chain([remote_address.port().to_string()])
            .collect();
        let stdio = Stdio {
            stdin: Box::new(tokio::io::empty()),
            stdout: Box::new(tokio::io::sink()),
            stderr: Box::new(tokio::io::sink()),
        };
        tokio::spawn(reference::port_forward::forwarder_main(
            reference::net::Tokio,
            args,
            stdio,
        ));
        let forwarder_address: SocketAddr = ([127, 0, 0, 1], port).into();
        // Until it listens (bounded: 2 s).
        for _ in 0..200 {
            if TcpStream::connect(forwarder_address).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        (remote_address, forwarder_address)
    });
    let mut group = c.benchmark_group("relay-4mb");
    group.throughput(Throughput::Bytes(MESSAGE_BYTES as u64));
    group.sample_size(10);
    group.bench_function("direct", |b| {
        b.iter(|| runtime.block_on(send_through(remote_address, &message)))
    });
    group.bench_function("port-forward", |b| {
        b.iter(|| runtime.block_on(send_through(forwarder_address, &message)))
    });
    group.finish();
}

criterion_group!(benches, relay);
criterion_main!(benches);
