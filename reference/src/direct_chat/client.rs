//! `direct-chat-client HOST PORT USER`: registers as USER, sends every line of stdin
//! (`message|user`) and prints every line it receives. The loop is the chat client's
//! ([`crate::chat::client`]): the two protocols differ only in what the lines say.

use crate::cli::Stdio;
use crate::net::Network;

/// `direct-chat-client HOST PORT USER`: exit 0 when stdin ended.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, stdio: Stdio) -> i32 {
    crate::chat::client::talk("direct-chat-client", net, args, stdio).await
}
