//! `calc-threaded`: see `reference::calc::threaded`.

fn main() -> std::process::ExitCode {
    reference::calc::threaded::main()
}
