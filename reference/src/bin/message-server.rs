//! `message-server PORT`: prints every client's message on stdout, one client at a time.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::message::server_main)
}
