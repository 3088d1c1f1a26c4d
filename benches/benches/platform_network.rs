//! Grading on a platform's network against grading with a namespace per scenario: the
//! hard-coded-port sample (every scenario of its tasks, its server's port 12000 hard-coded),
//! graded in this process twice per sample, with the same sandbox:
//!
//! - `namespace-per-scenario`: the baseline, each scenario in a network namespace of its own
//!   (root, or where user namespaces are allowed);
//! - `shared-loopback`: what a platform's container allows (Gradescope, PrairieLearn: no
//!   `CAP_SYS_ADMIN`), the machine's loopback shared by every scenario, ports from one
//!   allocator and what a program hard-codes moved by the interposed library.
//!
//! `shared-loopback / namespace-per-scenario` is what the platform's network costs; issue 38
//! asks for at most 2. The rest of a container's sandbox costs less, not more (no namespace
//! and no mount to make per program). Measured on 2 cores beside a one-job build, 10 samples
//! each, the test profile's build (`cargo test -p benches --bench platform_network --
//! --bench`): 5.44 s and 6.39 s, 1.17x.
//!
//! `cargo bench -p benches --bench platform_network` (root, or where user namespaces are
//! allowed: otherwise only the second line runs, said on stderr).

use criterion::{Criterion, criterion_group, criterion_main};
use harness::grading::{Mode, grade_with_replay};
use harness::outcome::Status;
use harness::repeat::Repeat;
use harness::scenario::{Selection, load_suite};
use harness::settings::RunSettings;
use harness::target::{Confinement, Target};
use harness::world::real::isolation::NetworkMode;

fn network_modes(c: &mut Criterion) {
    let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ is inside the kit")
        .to_owned();
    // The harness finds the scenarios' files and its companions from the kit's folder.
    std::env::set_current_dir(&kit).expect("the kit's folder");
    let suite = load_suite(&kit.join("scenarios")).expect("the kit's scenarios load");
    let submissions = kit.join("fixtures/submissions");
    let companions = Confinement::new(vec![submissions.join("good")]).expect("the good sample");
    let target = Target::from_folder(
        &submissions.join("hard-coded-port"),
        &suite.catalogue,
        &companions,
    )
    .expect("the hard-coded-port sample is a target");
    let selection = Selection::new(Vec::new(), &[]).expect("everything");
    let machine = RunSettings::machine_defaults();

    let mut group = c.benchmark_group("platform-network");
    group.sample_size(10);
    for (name, network) in [
        ("namespace-per-scenario", NetworkMode::NamespacePerScenario),
        ("shared-loopback", NetworkMode::SharedLoopback),
    ] {
        if network == NetworkMode::NamespacePerScenario && machine.network != network {
            eprintln!("{name}: this machine refuses network namespaces (run as root)");
            continue;
        }
        let mut settings = machine.clone();
        settings.network = network;
        group.bench_function(name, |b| {
            b.iter(|| {
                let grading = grade_with_replay(
                    &suite,
                    &selection,
                    &target,
                    1,
                    &Mode::Real,
                    &settings,
                    Repeat::ONCE,
                    8,
                    "harness",
                    &mut harness::events::Discard,
                )
                .expect("grading runs");
                // A correct program: a failure would time something else than grading.
                let failed: Vec<&str> = grading
                    .outcomes
                    .iter()
                    .filter(|outcome| outcome.status.is_failure())
                    .map(|outcome| outcome.id.as_str())
                    .collect();
                assert!(failed.is_empty(), "{name}: {failed:?}");
                grading
                    .outcomes
                    .iter()
                    .filter(|outcome| outcome.status == Status::Pass)
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, network_modes);
criterion_main!(benches);
