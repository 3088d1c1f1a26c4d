//! `dual-stack-server PORT`: echoes every client's bytes back, IPv4 and IPv6 clients on the
//! same port, a thread per client.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;

use clap::Parser;

use crate::line_server::serve_each_on_a_thread;

const PROGRAM: &str = "dual-stack-server";

/// Echo server for IPv4 and IPv6 clients on one port.
#[derive(Parser)]
#[command(name = "dual-stack-server")]
struct Args {
    /// TCP port to listen on, for both families.
    port: u16,
}

/// Runs `dual-stack-server` with the process's arguments: serves until killed, and returns only if
/// it cannot listen.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match listen_both_families(args.port) {
        Ok(listener) => listener,
        Err(error) if error.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
            // A machine without IPv6: serve IPv4, and say so.
            eprintln!("{PROGRAM}: no IPv6 on this machine ({error}): IPv4 only");
            match TcpListener::bind(("0.0.0.0", args.port)) {
                Ok(listener) => listener,
                Err(error) => return cannot_bind(args.port, error),
            }
        }
        Err(error) => return cannot_bind(args.port, error),
    };
    // A thread per client: one slow client never holds the others (dual/1).
    serve_each_on_a_thread(PROGRAM, listener, echo)
}

fn cannot_bind(port: u16, error: io::Error) -> ExitCode {
    eprintln!("{PROGRAM}: cannot bind port {port}: {error}");
    ExitCode::FAILURE
}

/// One listening socket for both families: IPv6, with `IPV6_V6ONLY` off.
///
/// ```text
/// socket(AF_INET6, SOCK_STREAM)
/// setsockopt(IPV6_V6ONLY, 0)    IPv4 clients too, as ::ffff:a.b.c.d (the default of
///                               Linux, but not of every system: say it)
/// setsockopt(SO_REUSEADDR, 1)   a restarted server binds while old connections linger
/// bind([::]:PORT), listen()
/// ```
///
/// The standard library binds as soon as it creates a socket, too early to set an
/// option that must come before `bind`, so these are the system calls themselves.
fn listen_both_families(port: u16) -> io::Result<TcpListener> {
    // SAFETY: plain system calls on a descriptor this function owns; every pointer passed
    // points at a live local of the size given with it.
    unsafe {
        let raw = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // Owned from here: closed on every early return.
        let socket = OwnedFd::from_raw_fd(raw);
        let fd = socket.as_raw_fd();
        set_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0)?;
        set_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        let mut address: libc::sockaddr_in6 = std::mem::zeroed();
        address.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        address.sin6_port = port.to_be();
        // sin6_addr stays all zeros: `::`, every address of both families.
        let bound = libc::bind(
            fd,
            (&address as *const libc::sockaddr_in6).cast(),
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        );
        if bound < 0 || libc::listen(fd, 128) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TcpListener::from(socket))
    }
}

/// `setsockopt(fd, level, name, &value)` for an `int` option.
unsafe fn set_option(fd: i32, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `value` lives for the call and its size is given.
    let set = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends back every byte the client sends, until it closes.
fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    loop {
        let count = match stream.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        // `write_all` loops over `write`, which may send only part of the buffer.
        stream.write_all(&buffer[..count])?;
    }
}
