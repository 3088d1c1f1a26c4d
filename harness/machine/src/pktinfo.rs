//! Datagrams that know the address they were sent to, and when they arrived.
//!
//! With the harness's local routes every address is this machine's, so a socket bound to
//! the wildcard address receives datagrams a client sent to `127.0.0.1`, `127.0.0.53` or
//! `192.0.2.10` alike. The reply must come back *from the address the client asked*, or a
//! client whose socket is connected (or that checks, as `dig` does) drops it as a
//! stranger's. A wildcard socket does not know which address a datagram was sent to, and
//! by default replies from whichever address the kernel picks. So the socket asks the
//! kernel to say, with every datagram, the address it was sent to (`IP_PKTINFO`,
//! `IPV6_RECVPKTINFO`: ip(7), ipv6(7)), and each reply is sent with `sendmsg` from that
//! address. (The other way, one socket per address, cannot know made-up addresses in
//! advance.)
//!
//! A peer that holds its answer for a while (the ping server answers some pings late)
//! counts that while from the datagram's arrival, not from the moment it read it: on a
//! loaded machine the harness may read a datagram hundreds of milliseconds after the
//! kernel queued it. The kernel stamps each datagram as it queues it (`SO_TIMESTAMPING`
//! with software receive stamps: the kernel's `Documentation/networking/timestamping.rst`),
//! and [`receive_stamped`] says how long ago that was.
//!
//! Two traps of the kernel's, both met in CI. The stamps are switched on for the whole
//! machine the first time any socket asks, by a work item the kernel runs a little later
//! (milliseconds; longer on a loaded machine), and off again when the last such socket
//! closes: a datagram queued in between carries no stamp. And the older `SO_TIMESTAMPNS`
//! gives such a datagram the time it is *read* instead, which cannot be told from a real
//! stamp; `SO_TIMESTAMPING` gives it none. So [`want_arrival_times`] waits until stamps
//! are seen, and a datagram without one is said to have arrived when it was read.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Asks the kernel to tell each datagram's destination address.
pub fn want_destinations(socket: &std::net::UdpSocket, ipv6: bool) -> io::Result<()> {
    if ipv6 {
        switch_on(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
    } else {
        switch_on(socket, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)
    }
}

/// The longest a datagram is taken to have waited to be read (see [`receive_stamped`]).
const MOST_PLAUSIBLE_WAIT: Duration = Duration::from_secs(5);

/// How long [`want_arrival_times`] waits for the kernel to begin stamping datagrams.
const STAMPS_AWAITED: Duration = Duration::from_secs(2);

/// Set once the kernel did not begin stamping within [`STAMPS_AWAITED`]: later sockets
/// are not made to wait for it again.
static STAMPS_NEVER_BEGAN: AtomicBool = AtomicBool::new(false);

/// Asks the kernel to stamp each datagram `socket` receives with the time it arrived, and
/// returns once the kernel does (see the module's comment): an error if it has not begun
/// within a couple of seconds, or cannot (once it has not, at once for every later socket).
pub async fn want_arrival_times(socket: impl AsFd) -> io::Result<()> {
    switch_on(
        socket,
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPING,
        STAMP_ARRIVALS,
    )?;
    if STAMPS_NEVER_BEGAN.load(Ordering::Relaxed) {
        return Err(not_begun());
    }
    // While `socket` asks, the stamps stay on for every socket; a probe of its own, sent
    // to itself over the loopback, shows when they have begun.
    let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    switch_on(
        &probe,
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPING,
        STAMP_ARRIVALS,
    )?;
    let address = probe.local_addr()?;
    let mut buffer = [0u8; 1];
    let deadline = tokio::time::Instant::now() + STAMPS_AWAITED;
    let never_began = || {
        STAMPS_NEVER_BEGAN.store(true, Ordering::Relaxed);
        not_begun()
    };
    loop {
        probe.send_to(b"?", address).await?;
        let received = tokio::time::timeout_at(
            deadline,
            probe.async_io(Interest::READABLE, || receive_now(&probe, &mut buffer)),
        )
        .await
        .map_err(|_| never_began())??;
        if received.arrived.is_some() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(never_began());
        }
        // The kernel's work item that switches them on cannot be waited for otherwise.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Why [`want_arrival_times`] gave up.
fn not_begun() -> io::Error {
    io::Error::other(format!(
        "the kernel did not begin stamping datagrams within {STAMPS_AWAITED:?}"
    ))
}

/// `SO_TIMESTAMPING`'s flags for software stamps of received datagrams, reported.
const STAMP_ARRIVALS: libc::c_int =
    (libc::SOF_TIMESTAMPING_RX_SOFTWARE | libc::SOF_TIMESTAMPING_SOFTWARE) as libc::c_int;

/// Sets the socket option `option` of `level` to `value`.
fn switch_on(
    socket: impl AsFd,
    level: libc::c_int,
    option: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a c_int that lives across the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            level,
            option,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receives a datagram: its length, who sent it, and the address it was sent to.
pub async fn receive(
    socket: &UdpSocket,
    buffer: &mut [u8],
) -> io::Result<(usize, SocketAddr, IpAddr)> {
    let received = socket
        .async_io(Interest::READABLE, || receive_now(socket, buffer))
        .await?;
    let asked = received.destination.unwrap_or(match received.sender {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    });
    Ok((received.length, received.sender, asked))
}

/// Receives a datagram on a socket that [wants arrival times](want_arrival_times): its
/// length, who sent it, and how long ago the kernel queued it (zero where it did not say,
/// or where the wall clock, which the stamp is of, stepped back or far forward since).
pub async fn receive_stamped(
    socket: &UdpSocket,
    buffer: &mut [u8],
) -> io::Result<(usize, SocketAddr, Duration)> {
    let received = socket
        .async_io(Interest::READABLE, || receive_now(socket, buffer))
        .await?;
    // A wait past a few seconds is no wait but the wall clock stepped forward since the
    // stamp (it is the wall clock's): taken as none, the answer is not sent early.
    let waited = received
        .arrived
        .and_then(|arrived| SystemTime::now().duration_since(arrived).ok())
        .filter(|waited| *waited < MOST_PLAUSIBLE_WAIT)
        .unwrap_or_default();
    Ok((received.length, received.sender, waited))
}

/// Sends `bytes` to `client` from the local address `from`.
pub async fn send_from(
    socket: &UdpSocket,
    bytes: &[u8],
    client: SocketAddr,
    from: IpAddr,
) -> io::Result<usize> {
    socket
        .async_io(Interest::WRITABLE, || {
            send_from_now(socket, bytes, client, from)
        })
        .await
}

/// Whether an error of [`receive`] is an ICMP error an earlier datagram caused (the
/// client had gone: "port unreachable"), which the kernel reports on the next call: the
/// socket is still good.
pub fn concerns_one_datagram(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    ) || error.raw_os_error() == Some(libc::EHOSTUNREACH)
}

/// What `recvmsg` said of one datagram.
struct Received {
    length: usize,
    sender: SocketAddr,
    /// The address it was sent to, where the socket asked (`IP_PKTINFO`).
    destination: Option<IpAddr>,
    /// When the kernel queued it, where the socket asked and the kernel stamped it
    /// (`SO_TIMESTAMPING`).
    arrived: Option<SystemTime>,
}

/// `recvmsg`: the datagram, who sent it, and what its control messages say.
fn receive_now(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Received> {
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut sender: libc::sockaddr_storage = unsafe { zeroed() };
    // The control buffer for the destination's and the arrival's messages (104 bytes at
    // most, with their headers), aligned as `cmsghdr` wants.
    let mut control = [0u64; 16];
    let mut part = libc::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: buffer.len(),
    };
    let mut message: libc::msghdr = unsafe { zeroed() };
    message.msg_name = (&raw mut sender).cast();
    message.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    message.msg_iov = &raw mut part;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: every pointer in `message` points at a live buffer of the length given.
    let length = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut message, 0) };
    if length < 0 {
        return Err(io::Error::last_os_error());
    }
    // The buffer holds every control message the options set here can bring; one cut
    // short would lose the destination or the stamp without a word.
    debug_assert_eq!(
        message.msg_flags & libc::MSG_CTRUNC,
        0,
        "control messages cut"
    );
    let sender = socket_address(&sender)
        .ok_or_else(|| io::Error::other("a datagram from an unknown address family"))?;
    let mut received = Received {
        length: length as usize,
        sender,
        destination: None,
        arrived: None,
    };
    read_control_messages(&message, &mut received);
    Ok(received)
}

/// The destination address and the arrival time the kernel put in `message`'s control
/// messages, into `received`.
fn read_control_messages(message: &libc::msghdr, received: &mut Received) {
    // SAFETY: the CMSG macros walk the control buffer `recvmsg` filled, within its length;
    // each data is read unaligned as the structure its level and type name.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(message);
        while !header.is_null() {
            let data = libc::CMSG_DATA(header);
            match ((*header).cmsg_level, (*header).cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info = data.cast::<libc::in_pktinfo>().read_unaligned();
                    // `ipi_addr`: the destination in the IP header.
                    let bytes = info.ipi_addr.s_addr.to_ne_bytes();
                    received.destination = Some(IpAddr::V4(Ipv4Addr::from(bytes)));
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info = data.cast::<libc::in6_pktinfo>().read_unaligned();
                    received.destination = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                }
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPING) => {
                    // `struct scm_timestamping`: three timespecs, the software stamp first
                    // (the other two are the hardware's); all zero where none was taken.
                    let stamp = data.cast::<libc::timespec>().read_unaligned();
                    let since_epoch = Duration::new(
                        u64::try_from(stamp.tv_sec).unwrap_or(0),
                        u32::try_from(stamp.tv_nsec).unwrap_or(0),
                    );
                    if !since_epoch.is_zero() {
                        received.arrived = SystemTime::UNIX_EPOCH.checked_add(since_epoch);
                    }
                }
                _ => {}
            }
            header = libc::CMSG_NXTHDR(message, header);
        }
    }
}

/// `sendmsg` of `bytes` to `client`, from the local address `from`.
fn send_from_now(
    socket: &UdpSocket,
    bytes: &[u8],
    client: SocketAddr,
    from: IpAddr,
) -> io::Result<usize> {
    let (mut name, name_length) = sockaddr(client);
    let mut part = libc::iovec {
        iov_base: bytes.as_ptr().cast_mut().cast(),
        iov_len: bytes.len(),
    };
    let mut control = [0u64; 8];
    // SAFETY: all-zero is a valid msghdr; the pointers set below point at live buffers.
    let mut message: libc::msghdr = unsafe { zeroed() };
    message.msg_name = (&raw mut name).cast();
    message.msg_namelen = name_length;
    message.msg_iov = &raw mut part;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    // SAFETY: one control message, of the size CMSG_SPACE gives for its data, fits in
    // `control` (64 bytes; in6_pktinfo needs 32 with its header); it is written unaligned.
    unsafe {
        let (level, kind, data_length) = match from {
            IpAddr::V4(_) => (
                libc::IPPROTO_IP,
                libc::IP_PKTINFO,
                size_of::<libc::in_pktinfo>(),
            ),
            IpAddr::V6(_) => (
                libc::IPPROTO_IPV6,
                libc::IPV6_PKTINFO,
                size_of::<libc::in6_pktinfo>(),
            ),
        };
        message.msg_controllen = libc::CMSG_SPACE(data_length as u32) as _;
        let header = libc::CMSG_FIRSTHDR(&message);
        (*header).cmsg_level = level;
        (*header).cmsg_type = kind;
        (*header).cmsg_len = libc::CMSG_LEN(data_length as u32) as _;
        let data = libc::CMSG_DATA(header);
        match from {
            IpAddr::V4(address) => {
                let mut info: libc::in_pktinfo = zeroed();
                // `ipi_spec_dst`: the source address to send from.
                info.ipi_spec_dst.s_addr = u32::from_ne_bytes(address.octets());
                data.cast::<libc::in_pktinfo>().write_unaligned(info);
            }
            IpAddr::V6(address) => {
                let mut info: libc::in6_pktinfo = zeroed();
                info.ipi6_addr.s6_addr = address.octets();
                data.cast::<libc::in6_pktinfo>().write_unaligned(info);
            }
        }
    }
    // SAFETY: every pointer in `message` points at a live buffer of the length given.
    let sent = unsafe { libc::sendmsg(socket.as_raw_fd(), &raw const message, 0) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sent as usize)
}

/// A `sockaddr_storage` as a Rust address.
fn socket_address(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    // SAFETY: the family says which structure the storage holds; both fit in it.
    unsafe {
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                let address =
                    &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(address.sin_addr.s_addr.to_ne_bytes()),
                    u16::from_be(address.sin_port),
                )))
            }
            libc::AF_INET6 => {
                let address =
                    &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(address.sin6_addr.s6_addr),
                    u16::from_be(address.sin6_port),
                    address.sin6_flowinfo,
                    address.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// A Rust address as a `sockaddr_storage` and its length.
fn sockaddr(address: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let address = socket2::SockAddr::from(address);
    // SAFETY: SockAddr holds a sockaddr_storage of which `len` bytes are meaningful.
    let storage = unsafe { *address.as_ptr().cast::<libc::sockaddr_storage>() };
    (storage, address.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_datagram_read_late_says_how_long_it_waited() {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        want_arrival_times(&socket).await.unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buffer = [0u8; 16];
        client
            .send_to(b"now", socket.local_addr().unwrap())
            .unwrap();
        let (length, sender, waited) = receive_stamped(&socket, &mut buffer).await.unwrap();
        assert_eq!(
            (&buffer[..length], sender),
            (&b"now"[..], client.local_addr().unwrap())
        );
        assert!(waited < Duration::from_millis(200), "{waited:?}");
        client
            .send_to(b"later", socket.local_addr().unwrap())
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let (_, _, waited) = receive_stamped(&socket, &mut buffer).await.unwrap();
        assert!(
            (Duration::from_millis(300)..Duration::from_secs(5)).contains(&waited),
            "{waited:?}"
        );
    }
}
