//! `mysql-remote --url mysql://U:P@HOST:PORT/DB (--execute SQL | --setup-students)`: runs
//! one statement on a MySQL server, or creates and fills the `students` table.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::mysql_remote::client_main)
}
