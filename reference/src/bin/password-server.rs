//! `password-server`: see `reference::password::server`.

fn main() -> std::process::ExitCode {
    reference::password::server::main()
}
