//! `direct-chat-client HOST PORT USER`: sends and receives private messages (see
//! [`reference::direct_chat`]).

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::direct_chat::client::client_main)
}
