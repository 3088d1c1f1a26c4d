//! `mx-lookup ADDRESS [--dns HOST:PORT]`: the mail servers of an e-mail address's domain.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::mx_lookup::client_main)
}
