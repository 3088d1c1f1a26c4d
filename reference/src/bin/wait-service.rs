//! `wait-service`: see `reference::wait_service`.

fn main() -> std::process::ExitCode {
    reference::wait_service::main()
}
