//! `harness`: see `harness --help`, and the README.

fn main() {
    std::process::exit(harness::cli::main_with_args(std::env::args()));
}
