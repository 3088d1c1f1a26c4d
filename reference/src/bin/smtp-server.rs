//! `smtp-server PORT`: accepts mail from its clients and prints each message, forever.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::smtp_server::server_main)
}
