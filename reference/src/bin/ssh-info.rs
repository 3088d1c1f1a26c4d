//! `ssh-info --host HOST --port PORT --user U (--password P | --key FILE)`: prints a
//! remote machine's CPU model, cores and memory, read over one SSH connection whose host
//! key `~/.ssh/known_hosts` vouches for.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::ssh_info::client_main)
}
