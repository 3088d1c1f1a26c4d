//! `imap-read --server HOST:PORT --user U --password P [--tls] (--list | --show N[,N...])`:
//! reads the INBOX of an IMAP server without changing it.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::imap_read::client_main)
}
