//! `udp-pinger-server PORT [--loss FRACTION] [--seed N]`: answers pings, dropping some.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::udp_pinger::server_main)
}
