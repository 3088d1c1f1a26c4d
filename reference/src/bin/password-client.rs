//! `password-client`: see `reference::password::client`.

fn main() -> std::process::ExitCode {
    reference::password::client::main()
}
