//! `web-server PORT [--root DIR]`: serves the files under DIR over HTTP, forever.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::web_server::server_main)
}
