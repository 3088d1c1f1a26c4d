//! `upper-tcp-client HOST PORT < LINE`: sends one line to an upper-tcp server, prints the reply.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::upper_tcp::client_main)
}
