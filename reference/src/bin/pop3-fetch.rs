//! `pop3-fetch --server HOST:PORT --user U --password P [--tls] (--list | --show N[,N...])`:
//! reads the mailbox of a POP3 server without deleting anything.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::pop3_fetch::client_main)
}
