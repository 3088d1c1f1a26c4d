//! `chat-client HOST PORT NAME`: joins the chat room (see [`reference::chat`]).

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::chat::client::client_main)
}
