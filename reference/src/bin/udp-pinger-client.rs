//! `udp-pinger-client HOST PORT [--count N]`: pings a udp-pinger server, prints RTTs and loss.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::udp_pinger::client_main)
}
