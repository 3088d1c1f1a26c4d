//! `message-client HOST PORT < FILE`: sends stdin to a message server, then exits.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::message::client_main)
}
