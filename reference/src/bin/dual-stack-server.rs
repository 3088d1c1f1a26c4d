//! `dual-stack-server`: see `reference::dual_stack::server`.

fn main() -> std::process::ExitCode {
    reference::dual_stack::server::main()
}
