//! `upper-udp-server PORT`: answers each datagram with a-z made A-Z, forever.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::upper_udp::server_main)
}
