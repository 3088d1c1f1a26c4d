//! Network namespaces: a private loopback for every scenario, so nothing is shared.
//!
//! `unshare(CLONE_NEWNET)` moves the *calling thread* into a new network namespace with
//! only a loopback interface, which starts down. Everything that thread does afterwards
//! happens there: the harness's sockets, the ports it checks in `/proc/thread-self/net`,
//! and every program it starts (a child inherits the namespace of the thread that forked
//! it). So each scenario runs on a thread of its own that enters a fresh namespace first:
//! a program that hard-codes port 12000 and never sets `SO_REUSEADDR` finds the port free
//! in every scenario (the last scenario's connections are in TIME_WAIT in *another*
//! namespace), and two submissions graded at once can both use it.
//!
//! A client that hard-codes the port of its server needs one more: a namespace of its own
//! where the harness listens on that port for it ([`Namespace`], entered by the child
//! with `setns` before it runs; see `crate::peers::stand_in`).
//!
//! It needs `CAP_SYS_ADMIN`. Root has it; an ordinary user gets it inside a user namespace
//! of its own, which the harness enters first thing ([`enter_user_namespace`], while it is
//! still single-threaded, as the kernel requires). Where both are refused, or with
//! `HARNESS_NO_NAMESPACES=1`, every scenario shares this machine's loopback and ports come
//! from one allocator ([`super::ports`]); a fixed port is then waited for while it is in
//! TIME_WAIT ([`super::ports::wait_bindable`]).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::OnceLock;

/// How a run keeps scenarios apart on the network (`crate::settings::RunSettings::network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Every scenario in its own network namespace with only a loopback.
    NamespacePerScenario,
    /// One shared loopback; ports from one allocator, fixed ports waited for.
    SharedLoopback,
}

/// The mode this machine allows, decided once per process: namespaces where the system
/// allows them and `HARNESS_NO_NAMESPACES` is not set. It is the default of a run's
/// settings (`crate::settings::RunSettings::machine_defaults`), which may ask for the
/// shared loopback anyway; kept because trying a namespace takes a thread and a
/// namespace, and the machine's answer does not change while the harness runs.
pub fn machine_network_mode() -> NetworkMode {
    static MODE: OnceLock<NetworkMode> = OnceLock::new();
    *MODE.get_or_init(|| {
        if std::env::var_os("HARNESS_NO_NAMESPACES").is_none() && private_networks_allowed() {
            NetworkMode::NamespacePerScenario
        } else {
            NetworkMode::SharedLoopback
        }
    })
}

/// For a harness not run as root: moves the whole process into a new user namespace where
/// it holds the capabilities to make network namespaces, its user id mapped to itself (the
/// programs it starts run as that user, without those capabilities: they are dropped when
/// a non-root user executes a program). The kernel allows this only to a single-threaded
/// process, so `main` calls it before anything else; where it is refused nothing changes.
pub fn enter_user_namespace() {
    let (uid, gid) = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    if uid == 0 || std::env::var_os("HARNESS_NO_NAMESPACES").is_some() {
        return;
    }
    if harness_machine::namespaces::unshare_user().is_err() {
        return;
    }
    // The ids inside are the ids outside; `setgroups` must be denied before a gid map is
    // written by an unprivileged process.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    let _ = std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"));
    let _ = std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"));
}

/// Moves the calling thread into a fresh network namespace, brings its loopback up and
/// makes every address local to it (`super::internet::routes`: a client that hard-codes
/// `192.0.2.10` reaches the harness there).
///
/// The namespace is made from [`nursery`], so its TCP and UDP tables are small.
pub fn enter_private_network() -> io::Result<()> {
    if let Some(nursery) = nursery() {
        rustix::thread::move_into_link_name_space(
            nursery.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )?;
    }
    harness_machine::namespaces::unshare_network()?;
    bring_loopback_up()?;
    allow_unprivileged_servers();
    super::internet::add_local_routes()
}

/// In the calling thread's network namespace: every port may be bound by any user (a
/// lab's web server binds port 80, and programs run as a user of their own), and any
/// group may open ICMP echo sockets (an unprivileged `ping`). Both are settings of this
/// namespace alone (`/proc/sys/net` is the calling thread's namespace's); where they
/// cannot be set (an older kernel) programs keep the defaults.
fn allow_unprivileged_servers() {
    let _ = std::fs::write("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
    let _ = std::fs::write("/proc/sys/net/ipv4/ping_group_range", "0 2147483647");
}

/// The network namespace every scenario's namespace is made from: empty, held open by a
/// descriptor, and set so that the namespaces made from it get TCP and UDP socket tables
/// of their own, small ones (`tcp_child_ehash_entries`, Linux 6.1; `udp_child_hash_entries`,
/// 6.2). Without it they share the machine's table, which may have 262144 buckets: the
/// harness reads `/proc/thread-self/net/tcp` to see what a program listens on and waits
/// for, and every read walks every bucket (a quarter of the whole run's CPU time went
/// there). `None` where it cannot be made or set (an older kernel): namespaces are then
/// made from the harness's own, as before.
fn nursery() -> Option<&'static OwnedFd> {
    static NURSERY: OnceLock<Option<OwnedFd>> = OnceLock::new();
    NURSERY
        .get_or_init(|| {
            std::thread::spawn(|| {
                harness_machine::namespaces::unshare_network().ok()?;
                // /proc/sys/net is the calling thread's namespace's: these set the nursery's.
                std::fs::write("/proc/sys/net/ipv4/tcp_child_ehash_entries", "1024").ok()?;
                let _ = std::fs::write("/proc/sys/net/ipv4/udp_child_hash_entries", "1024");
                File::open("/proc/thread-self/ns/net")
                    .ok()
                    .map(OwnedFd::from)
            })
            .join()
            .ok()
            .flatten()
        })
        .as_ref()
}

/// `ip link set lo up` in the calling thread's network namespace.
pub(crate) fn bring_loopback_up() -> io::Result<()> {
    harness_machine::namespaces::bring_loopback_up()
}

/// Whether this process may give threads a network namespace of their own: tried once on
/// a throwaway thread, so the caller's own namespace is untouched.
pub fn private_networks_allowed() -> bool {
    std::thread::spawn(|| {
        enter_private_network().is_ok() && std::net::TcpListener::bind(("127.0.0.1", 0)).is_ok()
    })
    .join()
    .unwrap_or(false)
}

/// A network namespace held open by a file descriptor: it lives as long as this handle
/// (or a socket or process in it) does.
#[derive(Debug)]
pub struct Namespace {
    fd: OwnedFd,
}

impl Namespace {
    /// A new namespace with its loopback up, made on a throwaway thread.
    pub fn create() -> io::Result<Namespace> {
        std::thread::spawn(|| -> io::Result<Namespace> {
            enter_private_network()?;
            let file = File::open("/proc/thread-self/ns/net")?;
            Ok(Namespace { fd: file.into() })
        })
        .join()
        .map_err(|_| io::Error::other("the thread making a network namespace panicked"))?
    }

    /// Runs `work` on a throwaway thread inside this namespace: the sockets it creates
    /// belong to the namespace for their whole life, wherever they are used afterwards.
    pub fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let fd = self.fd.try_clone()?;
        std::thread::spawn(move || {
            rustix::thread::move_into_link_name_space(
                fd.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )?;
            work()
        })
        .join()
        .map_err(|_| io::Error::other("a thread inside a network namespace panicked"))?
    }

    /// The descriptor a child process enters with `setns` before it runs its program.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_namespace_has_a_small_tcp_table_of_its_own() {
        if !private_networks_allowed() {
            panic!("network namespaces are needed here (run as root)");
        }
        // The size of the TCP table of the namespace the reading thread is in (negative:
        // the machine's, shared).
        let size = std::thread::spawn(|| {
            enter_private_network().unwrap();
            std::fs::read_to_string("/proc/sys/net/ipv4/tcp_ehash_entries").unwrap()
        })
        .join()
        .unwrap();
        if std::path::Path::new("/proc/sys/net/ipv4/tcp_child_ehash_entries").exists() {
            assert!(nursery().is_some());
            assert_eq!(size.trim(), "1024");
        } else {
            // A kernel before 6.1: no nursery, the machine's table, as before.
            assert!(nursery().is_none());
        }
    }

    #[test]
    fn a_private_network_has_its_own_ports() {
        if !private_networks_allowed() {
            eprintln!("network namespaces are not allowed here: nothing to test");
            return;
        }
        // The same port, bound in two namespaces at once.
        let outside = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = outside.local_addr().unwrap().port();
        let inside = std::thread::spawn(move || {
            enter_private_network().unwrap();
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        })
        .join()
        .unwrap();
        assert!(inside, "port {port} is taken outside but free inside");
    }

    #[test]
    fn sockets_made_in_a_namespace_stay_there() {
        if !private_networks_allowed() {
            eprintln!("network namespaces are not allowed here: nothing to test");
            return;
        }
        let namespace = Namespace::create().unwrap();
        let listener = namespace
            .run(|| std::net::TcpListener::bind(("127.0.0.1", 0)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        // From here (another namespace) the port is not reachable...
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        // ...but from inside the namespace it is.
        namespace
            .run(move || std::net::TcpStream::connect(("127.0.0.1", port)))
            .unwrap();
    }
}
