//! `smtp-client --server HOST:PORT --from A --to B --subject S < BODY`: sends one mail.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::smtp_client::client_main)
}
