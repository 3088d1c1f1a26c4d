//! 20 KB through the reference message client and server, against a bare socket copy.
//!
//! Both sides run in one process on loopback. Three lines:
//!
//! - `bare-copy`: the baseline, one `write_all` of the whole message and `tokio::io::copy`
//!   (8 KiB reads) on the other end: the least a 20 KB transfer costs here;
//! - `bare-copy-4k`: the same sockets moved with the handout's 4096-byte buffer on both
//!   ends (a plain loop, nothing else): what the buffer size alone costs;
//! - `reference`: the reference's own client and server loops (4096 bytes on the socket,
//!   every short read and write handled, the client's pieces corked together into full
//!   packets, what arrived gathered for stdout).
//!
//! `reference / bare-copy` is the whole cost of the reference's way; `reference /
//! bare-copy-4k` is what its code adds over the handout's buffer size, or saves: the cork
//! makes the reference faster than the plain 4096-byte loop (measured on 2 cores: 24.0 µs,
//! 31.6 µs and 28.5 µs, so 1.19x the bare copy).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reference::net::{Network, Tokio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MESSAGE_BYTES: usize = 20 * 1024;

fn transfer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let message: Vec<u8> = (0..MESSAGE_BYTES).map(|i| b'a' + (i % 26) as u8).collect();
    let mut group = c.benchmark_group("message-20k");
    group.throughput(Throughput::Bytes(MESSAGE_BYTES as u64));

    group.bench_function("bare-copy", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let listener = Tokio.bind_tcp(0).await.unwrap();
                let port = listener.local_addr().unwrap().port();
                let sender = async {
                    let mut stream = Tokio.connect_tcp("127.0.0.1", port).await.unwrap();
                    stream.write_all(&message).await.unwrap();
                    stream.shutdown().await.unwrap();
                };
                let receiver = async {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut sink = Vec::with_capacity(MESSAGE_BYTES);
                    tokio::io::copy(&mut stream, &mut sink).await.unwrap();
                    assert_eq!(sink.len(), MESSAGE_BYTES);
                };
                tokio::join!(sender, receiver);
            })
        })
    });

    group.bench_function("bare-copy-4k", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let listener = Tokio.bind_tcp(0).await.unwrap();
                let port = listener.local_addr().unwrap().port();
                let sender = async {
                    let mut stream = Tokio.connect_tcp("127.0.0.1", port).await.unwrap();
                    for piece in message.chunks(reference::BUFFER_SIZE) {
                        stream.write_all(piece).await.unwrap();
                    }
                    stream.shutdown().await.unwrap();
                };
                let receiver = async {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut sink = Vec::with_capacity(MESSAGE_BYTES);
                    let mut buffer = [0u8; reference::BUFFER_SIZE];
                    loop {
                        let read = stream.read(&mut buffer).await.unwrap();
                        if read == 0 {
                            break;
                        }
                        sink.extend_from_slice(&buffer[..read]);
                    }
                    assert_eq!(sink.len(), MESSAGE_BYTES);
                };
                tokio::join!(sender, receiver);
            })
        })
    });

    group.bench_function("reference", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let listener = Tokio.bind_tcp(0).await.unwrap();
                let port = listener.local_addr().unwrap().port();
                let sender = async {
                    let stream = Tokio.connect_tcp("127.0.0.1", port).await.unwrap();
                    reference::message::send_message(&message[..], stream)
                        .await
                        .unwrap();
                };
                let receiver = async {
                    let (stream, _) = reference::net::Listener::accept(&listener).await.unwrap();
                    let mut sink = Vec::with_capacity(MESSAGE_BYTES);
                    reference::message::serve_one(stream, &mut sink)
                        .await
                        .unwrap();
                    assert_eq!(sink.len(), MESSAGE_BYTES);
                };
                tokio::join!(sender, receiver);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, transfer);
criterion_main!(benches);
