//! `port-forward PORT HOST PORT2`: relays every connection to PORT to HOST:PORT2.

fn main() -> std::process::ExitCode {
    reference::cli::run(reference::port_forward::forwarder_main)
}
