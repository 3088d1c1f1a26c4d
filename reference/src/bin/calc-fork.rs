//! `calc-fork`: see `reference::calc::fork`.

fn main() -> std::process::ExitCode {
    reference::calc::fork::main()
}
