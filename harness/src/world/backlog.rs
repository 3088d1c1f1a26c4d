//! Whether anything waits in the kernel's queue of a harness socket: a connection not yet
//! accepted, a datagram not yet read.
//!
//! What a server peer received can no longer change once every program of the scenario has
//! ended, no connection to it is open, and nothing waits in this queue: a step waiting for
//! more bytes then stops at once instead of at its deadline (a client that crashed before
//! it connected costs 0.1 s, not 5). Only the kernel knows the queue, so the simulated
//! world cannot tell, and its steps wait as before (its time costs nothing).

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, OnceLock};

use super::sockets::{PeerDatagram, PeerListener};

/// A harness socket's queue, watched through a duplicate of its descriptor (so it is never
/// a descriptor closed and reused meanwhile). Unset until the socket is given.
#[derive(Debug, Default, Clone)]
pub struct Backlog {
    watched: Arc<OnceLock<Option<OwnedFd>>>,
}

impl Backlog {
    /// Watches a listening socket's queue of connections not yet accepted.
    pub fn watch_listener(&self, listener: &PeerListener) {
        let duplicate = match listener {
            PeerListener::Real(listener) => listener.as_fd().try_clone_to_owned().ok(),
            PeerListener::Simulated(..) => None,
        };
        let _ = self.watched.set(duplicate);
    }

    /// Watches a UDP socket's queue of datagrams not yet read.
    pub fn watch_datagrams(&self, socket: &PeerDatagram) {
        let duplicate = match socket {
            PeerDatagram::Real(socket) => socket.as_fd().try_clone_to_owned().ok(),
            PeerDatagram::Simulated(_) => None,
        };
        let _ = self.watched.set(duplicate);
    }

    /// `Some(true)`: nothing waits (or the socket is not listening yet, so nothing can);
    /// `Some(false)`: something does; `None`: this world cannot tell.
    pub fn empty(&self) -> Option<bool> {
        let Some(watched) = self.watched.get() else {
            // Not listening yet (`listen_after`): a connection is refused, not queued.
            return Some(true);
        };
        let descriptor = watched.as_ref()?;
        use rustix::event::{PollFd, PollFlags};
        let mut poll = [PollFd::new(descriptor, PollFlags::IN)];
        let now = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        match rustix::event::poll(&mut poll, Some(&now)) {
            Ok(0) => Some(true),
            Ok(_) => Some(false),
            Err(_) => None,
        }
    }
}

/// The connections a harness listener accepted and still serves: each counted from its
/// accept until its task ends or is aborted.
pub type OpenConnections = crate::tally::Tally;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::sockets::{Family, PeerNet};

    /// Waits (at most 5 s) until `descriptor` has something to read: the kernel's part of
    /// a handshake or a delivery may finish after the call that started it returned.
    fn wait_readable(descriptor: std::os::fd::BorrowedFd<'_>) {
        use rustix::event::{PollFd, PollFlags};
        let mut poll = [PollFd::from_borrowed_fd(descriptor, PollFlags::IN)];
        let five_seconds = rustix::time::Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        assert_eq!(rustix::event::poll(&mut poll, Some(&five_seconds)), Ok(1));
    }

    #[tokio::test]
    async fn a_connection_not_yet_accepted_is_seen_waiting_then_gone_once_accepted() {
        let listener = PeerNet::Real(Default::default())
            .listen(Family::Ipv4)
            .await
            .expect("listens");
        let backlog = Backlog::default();
        backlog.watch_listener(&listener);
        assert_eq!(backlog.empty(), Some(true));
        let port = listener.port().expect("a port");
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let PeerListener::Real(real) = &listener else {
            unreachable!("a real listener")
        };
        wait_readable(real.as_fd());
        assert_eq!(backlog.empty(), Some(false));
        let accepted = listener.accept().await.expect("accepted");
        assert_eq!(backlog.empty(), Some(true));
        drop((client, accepted));
    }

    #[tokio::test]
    async fn a_datagram_not_yet_read_is_seen_waiting_then_gone_once_read() {
        let socket = PeerNet::Real(Default::default())
            .bind_udp()
            .await
            .expect("binds");
        let backlog = Backlog::default();
        backlog.watch_datagrams(&socket);
        assert_eq!(backlog.empty(), Some(true));
        let port = socket.port().expect("a port");
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("binds");
        sender.send_to(b"ping", ("127.0.0.1", port)).expect("sent");
        let PeerDatagram::Real(real) = &socket else {
            unreachable!("a real socket")
        };
        wait_readable(real.as_fd());
        assert_eq!(backlog.empty(), Some(false));
        let mut buffer = [0u8; 16];
        socket.recv_from(&mut buffer).await.expect("received");
        assert_eq!(backlog.empty(), Some(true));
    }

    #[test]
    fn a_socket_not_given_yet_has_nothing_waiting() {
        assert_eq!(Backlog::default().empty(), Some(true));
    }
}
