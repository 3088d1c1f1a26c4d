//! `chat-server PORT`: the chat room (see [`reference::chat`]).

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::chat::server::server_main)
}
