//! `direct-chat-server PORT`: routes private messages (see [`reference::direct_chat`]).

fn main() -> std::process::ExitCode {
    reference::direct_chat::server::main()
}
