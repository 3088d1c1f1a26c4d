//! `mail-archive DIR --server HOST:PORT --from A --to B [--starttls] [--user U --password
//! P]`: the folder as a zip, mailed as an attachment.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::mail_archive::client_main)
}
