//! 20 KB through the reference message client and server, against a bare socket copy.
//!
//! Both sides run in one process on loopback. The baseline is the same transfer with
//! `tokio::io::copy` on both ends, so the ratio between the two lines is the cost of the
//! reference's explicit 4096-byte loops.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reference::net::{Network, Tokio};
use tokio::io::AsyncWriteExt;

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
