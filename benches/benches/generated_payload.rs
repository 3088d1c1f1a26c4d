//! What the harness's generated payloads cost (the 100 MB message of message/16 is made
//! twice: to send and to compare): 1 MiB of generated text, of one-line text and of binary,
//! against copying 1 MiB already in memory, the floor. The ratio of each line to the copy
//! is the generator's cost.
//!
//! `cargo bench -p benches --bench generated_payload`; `cargo test -p benches --benches`
//! runs each case once.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harness::payload::{GeneratedKind, Payload};

const BYTES: u64 = 1 << 20;

fn generated(c: &mut Criterion) {
    let mut group = c.benchmark_group("generated_payload_1mib");
    group.throughput(Throughput::Bytes(BYTES));
    let mut buffer = vec![0u8; BYTES as usize];
    let in_memory = Payload::Bytes(vec![7u8; BYTES as usize].into());
    group.bench_function("copy from memory (baseline)", |b| {
        b.iter(|| in_memory.read_at(0, black_box(&mut buffer)).unwrap())
    });
    for (name, kind) in [
        ("text", GeneratedKind::Text),
        ("one line", GeneratedKind::Line),
        ("binary", GeneratedKind::Binary),
    ] {
        let payload = Payload::Generated {
            kind,
            seed: 11,
            len: BYTES,
        };
        group.bench_function(name, |b| {
            b.iter(|| payload.read_at(0, black_box(&mut buffer)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, generated);
criterion_main!(benches);
