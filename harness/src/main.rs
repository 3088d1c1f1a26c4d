//! `harness`: see `harness --help`, and the README.

#![forbid(unsafe_code)]

fn main() {
    // First, while the process is single-threaded: an unprivileged user gets a user
    // namespace, so that every scenario can have a network namespace of its own.
    harness::world::real::isolation::enter_user_namespace();
    std::process::exit(harness::cli::main_with_args(std::env::args()));
}
