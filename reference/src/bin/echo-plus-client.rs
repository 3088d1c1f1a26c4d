//! `echo-plus-client`: see `reference::echo_plus::client`.

fn main() -> std::process::ExitCode {
    reference::echo_plus::client::main()
}
