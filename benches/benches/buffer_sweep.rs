//! What the size of the copy loop's buffer costs: 4 MB over loopback in one process,
//! read into a buffer of 64 B to 64 KiB and written on with a short-write loop, the
//! reference's shape (`reference/src/message/`), against one `tokio::io::copy` (its own
//! 8 KiB buffer) as the baseline of the same run.
//!
//! The handout fixes 4096 bytes; the sweep shows what smaller and larger would change: each
//! read and write is a system call, so below about 1 KiB the calls dominate, and above
//! the socket's buffers nothing is gained.
//!
//! `cargo bench -p benches --bench buffer_sweep`; `cargo test -p benches --benches` runs
//! each case once (CI does, so the benches keep compiling and working).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MESSAGE_BYTES: usize = 4 << 20;
const BUFFER_SIZES: [usize; 6] = [64, 256, 1024, 4096, 16_384, 65_536];

/// The reference's loop with a buffer of `size` bytes.
async fn copy_with_buffer<R, W>(mut from: R, mut to: W, size: usize) -> u64
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; size];
    let mut total = 0u64;
    loop {
        let read = from.read(&mut buffer).await.unwrap();
        if read == 0 {
            break;
        }
        let mut written = 0;
        while written < read {
            written += to.write(&buffer[written..read]).await.unwrap();
        }
        total += read as u64;
    }
    to.shutdown().await.unwrap();
    total
}

/// `message` from a sending task through `sender` (with `size`, or `tokio::io::copy` when
/// `None`) to a receiver that counts the bytes.
async fn transfer(message: &[u8], size: Option<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sending = async {
        let stream = TcpStream::connect(address).await.unwrap();
        match size {
            Some(size) => copy_with_buffer(message, stream, size).await,
            None => {
                let mut stream = stream;
                let copied = tokio::io::copy(&mut &message[..], &mut stream)
                    .await
                    .unwrap();
                stream.shutdown().await.unwrap();
                copied
            }
        }
    };
    let receiving = async {
        let (mut stream, _) = listener.accept().await.unwrap();
        tokio::io::copy(&mut stream, &mut tokio::io::sink())
            .await
            .unwrap()
    };
    let (sent, received) = tokio::join!(sending, receiving);
    assert_eq!(
        (sent, received),
        (message.len() as u64, message.len() as u64)
    );
}

fn sweep(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let message: Vec<u8> = (0..MESSAGE_BYTES).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("buffer-sweep-4mb");
    group.throughput(Throughput::Bytes(MESSAGE_BYTES as u64));
    group.sample_size(10);
    group.bench_function("tokio-copy", |b| {
        b.iter(|| runtime.block_on(transfer(&message, None)))
    });
    for size in BUFFER_SIZES {
        group.bench_with_input(BenchmarkId::new("loop", size), &size, |b, &size| {
            b.iter(|| runtime.block_on(transfer(&message, Some(size))))
        });
    }
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
