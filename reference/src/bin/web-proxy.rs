//! `web-proxy PORT`: fetches `http://` URLs from their origin servers for its clients, forever.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::web_proxy::proxy_main)
}
