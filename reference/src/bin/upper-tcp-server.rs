//! `upper-tcp-server PORT`: sends each client's line back with a-z made A-Z, forever.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::upper_tcp::server_main)
}
