//! Benchmarks of the kit live in `benches/benches/`; this library is empty on purpose.
