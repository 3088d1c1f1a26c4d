//! The reference programs that can run on a simulated host, by program name.
//!
//! Each is the very function the reference binary runs (`reference::cli::run`), given the
//! simulated network instead of the real one. A task whose reference is not listed here
//! cannot be simulated, and its scenarios say so.

use std::future::Future;
use std::pin::Pin;

use reference::cli::Stdio;

use super::network::SimNetwork;
use crate::faults::fnv1a;

/// A started program: its exit status when it ends.
pub type ProgramFuture = Pin<Box<dyn Future<Output = i32>>>;

/// Program names that have a simulated version.
pub const SIMULATED_PROGRAMS: &[&str] = &[
    "message-server",
    "message-client",
    "upper-tcp-server",
    "upper-tcp-client",
    "upper-udp-server",
    "upper-udp-client",
    "udp-pinger-server",
    "udp-pinger-client",
    "web-server",
    "web-proxy",
    "smtp-client",
    "smtp-server",
    "mail-archive",
    "imap-read",
    "pop3-fetch",
    "ftp-upload",
    "mx-lookup",
    "chat-server",
    "chat-client",
    "port-forward",
];

/// Starts `program` (its name, as `message-server`) with `args` (program name first).
pub fn launch(
    program: &str,
    network: SimNetwork,
    args: Vec<String>,
    stdio: Stdio,
    seed: u64,
) -> Option<ProgramFuture> {
    let started: ProgramFuture = match program {
        "message-server" => Box::pin(reference::message::server_main(network, args, stdio)),
        "message-client" => Box::pin(reference::message::client_main(network, args, stdio)),
        "upper-tcp-server" => Box::pin(reference::upper_tcp::server_main(network, args, stdio)),
        "upper-tcp-client" => Box::pin(reference::upper_tcp::client_main(network, args, stdio)),
        "upper-udp-server" => Box::pin(reference::upper_udp::server_main(network, args, stdio)),
        "upper-udp-client" => Box::pin(reference::upper_udp::client_main(network, args, stdio)),
        "udp-pinger-server" => {
            let args = with_seed(args, seed);
            Box::pin(reference::udp_pinger::server_main(network, args, stdio))
        }
        "udp-pinger-client" => Box::pin(reference::udp_pinger::client_main(network, args, stdio)),
        "web-server" => Box::pin(reference::web_server::server_main(network, args, stdio)),
        "web-proxy" => Box::pin(reference::web_proxy::proxy_main(network, args, stdio)),
        "smtp-client" => Box::pin(reference::smtp_client::client_main(network, args, stdio)),
        "smtp-server" => Box::pin(reference::smtp_server::server_main(network, args, stdio)),
        "mail-archive" => Box::pin(reference::mail_archive::client_main(network, args, stdio)),
        "imap-read" => Box::pin(reference::imap_read::client_main(network, args, stdio)),
        "pop3-fetch" => Box::pin(reference::pop3_fetch::client_main(network, args, stdio)),
        "ftp-upload" => Box::pin(reference::ftp_upload::client_main(network, args, stdio)),
        "mx-lookup" => Box::pin(reference::mx_lookup::client_main(network, args, stdio)),
        "chat-server" => Box::pin(reference::chat::server::server_main(network, args, stdio)),
        "chat-client" => Box::pin(reference::chat::client::client_main(network, args, stdio)),
        "port-forward" => Box::pin(reference::port_forward::forwarder_main(
            network, args, stdio,
        )),
        _ => return None,
    };
    Some(started)
}

/// `args` with `--seed N` appended when they have none, so the pinger server's random
/// drops replay exactly (left to itself it seeds from the wall clock).
///
/// N mixes the run's seed with the arguments: the same run replays the same drops, and
/// another `--seed` of the harness draws others. Scenarios that want fixed drops pass
/// `--seed` themselves.
fn with_seed(mut args: Vec<String>, run_seed: u64) -> Vec<String> {
    let has_seed = args
        .iter()
        .any(|arg| arg == "--seed" || arg.starts_with("--seed="));
    if !has_seed {
        let seed = run_seed ^ fnv1a(args.join(" ").as_bytes());
        args.extend(["--seed".to_owned(), seed.to_string()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinger_server_gets_a_seed_from_the_run_and_its_arguments() {
        let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
        let seeded = with_seed(args(&["udp-pinger-server", "9000", "--loss", "0.3"]), 1);
        assert_eq!(
            seeded[..4],
            args(&["udp-pinger-server", "9000", "--loss", "0.3"])
        );
        assert_eq!(seeded[4], "--seed");
        assert_ne!(
            seeded,
            with_seed(args(&["udp-pinger-server", "9000", "--loss", "0.3"]), 2),
            "another run seed draws other drops"
        );
        assert_eq!(
            seeded,
            with_seed(args(&["udp-pinger-server", "9000", "--loss", "0.3"]), 1)
        );
        let given = args(&["udp-pinger-server", "9000", "--seed", "7"]);
        assert_eq!(with_seed(given.clone(), 1), given);
        let given = args(&["udp-pinger-server", "9000", "--seed=7"]);
        assert_eq!(with_seed(given.clone(), 1), given);
    }
}
