//! `echo-plus-server`: see `reference::echo_plus::server`.

fn main() -> std::process::ExitCode {
    reference::echo_plus::server::main()
}
