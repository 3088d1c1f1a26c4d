//! `xmlrpc-server`: see `reference::xmlrpc`.

fn main() -> std::process::ExitCode {
    reference::xmlrpc::main()
}
