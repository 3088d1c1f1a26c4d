//! `upper-udp-client HOST PORT < LINE`: sends one line as a datagram, prints the reply.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::upper_udp::client_main)
}
