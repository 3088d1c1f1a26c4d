//! `dual-stack-client`: see `reference::dual_stack::client`.

fn main() -> std::process::ExitCode {
    reference::dual_stack::client::main()
}
