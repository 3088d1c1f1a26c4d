//! `ftp-upload --server HOST:PORT --user U --password P FILE [--dir REMOTE]`: stores a
//! local file on an FTP server under its base name, byte for byte.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::ftp_upload::client_main)
}
