//! The warden of a program's addresses on a shared loopback (`src/warden`), through the
//! built `sandbox-init`: a Python program walled to a block of ports reaches that block
//! and nothing else, by any call that names an address, and what the warden makes for it
//! behaves as the program's own calls would.

use std::process::Command;

/// What the program tries; each line it prints is `what: outcome`.
const PROBE: &str = r#"
import os, socket, sys
block_first, block_last, outside_udp, outside_tcp = map(int, sys.argv[1:5])
def attempt(what, call):
    try:
        result = call()
        print(f"{what}: ok {result if result is not None else ''}".rstrip())
    except OSError as error:
        print(f"{what}: errno {error.errno}")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside.bind(("127.0.0.1", block_first))
attempt("sendto outside", lambda: udp.sendto(b"x", ("127.0.0.1", outside_udp)))
attempt("sendmsg outside", lambda: udp.sendmsg([b"a", b"b"], [], 0, ("127.0.0.1", outside_udp)))
attempt("connect outside", lambda: udp.connect(("127.0.0.1", outside_udp)))
attempt("bind outside", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", outside_udp + 1)))
attempt("tcp connect outside", lambda: socket.create_connection(("127.0.0.1", outside_tcp), 2))
attempt("sendto inside", lambda: udp.sendto(b"hello", ("127.0.0.1", block_first)))
data, sender = inside.recvfrom(64)
print(f"received {data!r} from a port in the block: {block_first <= sender[1] <= block_last}")
attempt("reply", lambda: inside.sendto(data.upper(), sender))
print(f"answer {udp.recv(64)!r}")
bound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bound.bind(("127.0.0.1", 0))
print(f"port 0 bound in the block: {block_first <= bound.getsockname()[1] <= block_last}")
attempt("sendmsg inside", lambda: udp.sendmsg([b"one", b"two"], [], 0, ("127.0.0.1", block_first)))
print(f"gathered {inside.recv(64)!r}")
left, right = socket.socketpair()
reading, writing = os.pipe()
attempt("pass a descriptor", lambda: socket.send_fds(left, [b"x"], [writing]))
_, fds, _, _ = socket.recv_fds(right, 4, 4)
os.write(fds[0], b"through")
print(f"passed {os.read(reading, 16)!r}")
os.chdir(sys.argv[5])
os.umask(0o027)
server = socket.socket(socket.AF_UNIX)
attempt("bind relative", lambda: server.bind("relative.sock"))
server.listen()
attempt("connect relative", lambda: socket.socket(socket.AF_UNIX).connect("relative.sock"))
print(f"mode {oct(os.stat('relative.sock').st_mode & 0o777)}")
"#;

#[test]
fn a_walled_program_reaches_its_block_only_and_its_calls_behave_as_its_own() {
    // Landlock's network rules (ABI 4) are what the warden stands beside.
    let abi = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .arg("--landlock-abi")
        .output()
        .unwrap();
    let abi: u32 = String::from_utf8_lossy(&abi.stdout).trim().parse().unwrap();
    assert!(
        abi >= 4,
        "this kernel's Landlock ABI is {abi}: the walls need 4"
    );
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("probe.py"), PROBE).unwrap();
    let outside_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let outside_tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    outside_udp.set_nonblocking(true).unwrap();
    outside_tcp.set_nonblocking(true).unwrap();
    // A block of free ports: the kernel's choice for one, and the 15 above it.
    let first = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .min(65000);
    let last = first + 15;
    let output = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .args(["--landlock", "--seccomp", "--tcp-ports"])
        .arg(format!("{first}-{last}"))
        .arg("--writable")
        .arg(folder.path())
        .arg("--")
        .arg("python3")
        .arg(folder.path().join("probe.py"))
        .args([first, last].map(|port| port.to_string()))
        .arg(outside_udp.local_addr().unwrap().port().to_string())
        .arg(outside_tcp.local_addr().unwrap().port().to_string())
        .arg(folder.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = [
        "sendto outside: errno 13",
        "sendmsg outside: errno 13",
        "connect outside: errno 13",
        "bind outside: errno 13",
        "tcp connect outside: errno 13",
        "sendto inside: ok 5",
        "received b'hello' from a port in the block: True",
        "reply: ok 5",
        "answer b'HELLO'",
        "port 0 bound in the block: True",
        "sendmsg inside: ok 6",
        "gathered b'onetwo'",
        "pass a descriptor: ok 1",
        "passed b'through'",
        "bind relative: ok",
        "connect relative: ok",
        "mode 0o750",
    ];
    for line in expected {
        assert!(
            stdout.lines().any(|got| got == line),
            "{line:?} in:\n{stdout}"
        );
    }
    // Nothing reached the services outside the block.
    let mut buffer = [0u8; 16];
    let nothing = std::io::ErrorKind::WouldBlock;
    assert_eq!(outside_udp.recv(&mut buffer).unwrap_err().kind(), nothing);
    assert_eq!(
        outside_tcp.accept().map(|_| ()).unwrap_err().kind(),
        nothing
    );
}
