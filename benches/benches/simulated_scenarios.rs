//! Simulated scenarios per second: the reference's `message` task graded in the simulated
//! network (turmoil) with the default faults (reads and writes cut to 1-1500 bytes), as
//! `harness --simulate --task message` does, seed pinned.
//!
//! `cargo bench -p benches --bench simulated_scenarios`; criterion's throughput line is in
//! scenarios per second (`elem/s`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harness::grading::{Mode, grade};
use harness::scenario::{Selection, load_suite};
use harness::target::Target;
use harness::world::sim::SimOptions;

fn simulated(c: &mut Criterion) {
    let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ is inside the kit")
        .to_owned();
    let suite = load_suite(&kit.join("scenarios")).expect("the kit's scenarios load");
    let target = Target::simulated(&suite.catalogue);
    let selection = Selection::new(vec!["message".into()], &[]).expect("a task");
    let mode = Mode::Simulated(SimOptions::default());
    let count = suite
        .scenarios
        .iter()
        .filter(|scenario| selection.includes(scenario))
        .count();
    let mut group = c.benchmark_group("simulated");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(10);
    group.bench_function("message-task", |b| {
        b.iter(|| {
            let grading = grade(
                &suite,
                &selection,
                &target,
                7,
                &mode,
                &mut harness::events::Discard,
            )
            .expect("grading runs");
            assert_eq!(grading.outcomes.len(), count);
        })
    });
    group.finish();
}

criterion_group!(benches, simulated);
criterion_main!(benches);
