//! `calc-client`: see `reference::calc::client`.

fn main() -> std::process::ExitCode {
    reference::calc::client::main()
}
