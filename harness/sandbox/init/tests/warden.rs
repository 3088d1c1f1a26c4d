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
        return True
    except OSError as error:
        print(f"{what}: errno {error.errno}")
        return False
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside.bind(("127.0.0.1", block_first))
attempt("sendto outside", lambda: udp.sendto(b"x", ("127.0.0.1", outside_udp)))
attempt("sendmsg outside", lambda: udp.sendmsg([b"a", b"b"], [], 0, ("127.0.0.1", outside_udp)))
attempt("connect outside", lambda: udp.connect(("127.0.0.1", outside_udp)))
attempt("bind outside", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", outside_udp + 1)))
attempt("tcp connect outside", lambda: socket.create_connection(("127.0.0.1", outside_tcp), 2))
away = ("192.0.2.10", block_first)
attempt("sendto away", lambda: udp.sendto(b"x", away))
attempt("sendmsg away", lambda: udp.sendmsg([b"x"], [], 0, away))
attempt("connect away", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(away))
attempt("tcp connect away", lambda: socket.create_connection(away, 2))
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
if attempt("pass a descriptor", lambda: socket.send_fds(left, [b"x"], [writing])):
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

/// A block of free ports for a program's walls: the kernel's choice for one, and the 15
/// above it.
fn block_of_ports() -> (u16, u16) {
    let first = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .min(65000);
    (first, first + 15)
}

/// What a run that must have succeeded printed; its output and errors if it failed.
fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn a_walled_program_reaches_its_block_only_and_its_calls_behave_as_its_own() {
    walled_program_reaches_its_block_only(false);
}

/// The same where the warden owns the program's datagram sockets (as where the machine
/// refuses it a copy of the program's descriptors: Docker's default profile): the same
/// answers, but that no descriptor is passed on a socket pair (`sendmsg` is the warden's
/// on its own numbers only).
#[test]
fn where_the_warden_owns_the_datagram_sockets_a_walled_program_reaches_its_block_only() {
    walled_program_reaches_its_block_only(true);
}

fn walled_program_reaches_its_block_only(owner: bool) {
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
    let (first, last) = block_of_ports();
    let output = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .args(["--landlock", "--seccomp", "--tcp-ports"])
        .arg(format!("{first}-{last}"))
        .args(owner.then_some("--warden-owns"))
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
    let stdout = succeeded(&output);
    let expected = [
        "sendto outside: errno 13",
        "sendmsg outside: errno 13",
        "connect outside: errno 13",
        "bind outside: errno 13",
        "tcp connect outside: errno 13",
        // A port of the block, on a host that is not this machine.
        "sendto away: errno 13",
        "sendmsg away: errno 13",
        "connect away: errno 13",
        "sendto inside: ok 5",
        "received b'hello' from a port in the block: True",
        "reply: ok 5",
        "answer b'HELLO'",
        "port 0 bound in the block: True",
        "sendmsg inside: ok 6",
        "gathered b'onetwo'",
        "bind relative: ok",
        "connect relative: ok",
        "mode 0o750",
    ];
    // A TCP connect is the warden's where it copies sockets; where it owns only the
    // datagram ones, the kernel's, walled by Landlock to the block's ports on any host.
    let passing: &[&str] = if owner {
        &["pass a descriptor: errno 13"]
    } else {
        &[
            "pass a descriptor: ok 1",
            "passed b'through'",
            "tcp connect away: errno 13",
        ]
    };
    for line in expected.iter().chain(passing) {
        assert!(
            stdout.lines().any(|got| got == *line),
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

/// What a program racing the warden tries: a second thread flips the descriptor it sends
/// on between a unix socket and a UDP socket (a call the warden looked at as one and the
/// kernel would make on the other), with descriptors to pass that only the warden's own
/// table could make sense of; then a unix socket of another user's.
const RACE: &str = r#"
import os, socket, struct, sys, threading, ctypes
libc = ctypes.CDLL(None, use_errno=True)
outside_udp, foreign = int(sys.argv[1]), sys.argv[2]
unix_send, unix_receive = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
unix_receive.setblocking(False)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
N = 100
os.dup2(unix_send.fileno(), N)
stop = False
def flip():
    while not stop:
        os.dup2(udp.fileno(), N)
        os.dup2(unix_send.fileno(), N)
threading.Thread(target=flip, daemon=True).start()
address = struct.pack("=H", socket.AF_INET) + struct.pack("!H", outside_udp) + socket.inet_aton("127.0.0.1") + bytes(8)
for _ in range(3000):
    libc.sendto(N, b"RACE", 4, 0, address, 16)
    libc.connect(N, address, 16)
stolen = []
def steal():
    try:
        socket.send_fds(socket.socket(fileno=os.dup(N)), [b"x"], [3, 4, 5, 6])
    except OSError:
        pass
for _ in range(300):
    steal()
    try:
        _, fds, _, _ = socket.recv_fds(unix_receive, 8, 8)
    except OSError:
        continue
    for fd in fds:
        stolen.append(os.readlink(f"/proc/self/fd/{fd}"))
stop = True
print("passed:", "some" if stolen else "none")
print("stolen:", sorted(set(link for link in stolen if "seccomp" in link or "pidfd" in link)))
probe = socket.socket(socket.AF_UNIX)
try:
    probe.connect(foreign)
    print("foreign: reached")
except OSError as error:
    print(f"foreign: errno {error.errno}")
"#;

#[test]
fn a_program_racing_the_warden_reaches_nothing_and_takes_none_of_its_descriptors() {
    let folder = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    for path in [folder.path(), shared.path()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(folder.path().join("race.py"), RACE).unwrap();
    // A unix socket any user may write, of another user (the test's): a grader's service.
    let foreign = shared.path().join("service.sock");
    let _service = std::os::unix::net::UnixListener::bind(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o777)).unwrap();
    let outside_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    outside_udp.set_nonblocking(true).unwrap();
    // SAFETY: geteuid only reads our id.
    let user: &[&str] = if unsafe { libc::geteuid() } == 0 {
        &["--user", "65534:65534"]
    } else {
        &[]
    };
    let output = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .args(["--landlock", "--seccomp", "--tcp-ports", "20000-20063"])
        .args(user)
        .arg("--writable")
        .arg(folder.path())
        .arg("--visible")
        .arg(shared.path())
        .arg("--")
        .arg("python3")
        .arg(folder.path().join("race.py"))
        .arg(outside_udp.local_addr().unwrap().port().to_string())
        .arg(&foreign)
        .output()
        .unwrap();
    let stdout = succeeded(&output);
    // Descriptors did pass (the program's own), and none of the warden's.
    assert!(stdout.contains("passed: some"), "{stdout}");
    assert!(stdout.contains("stolen: []"), "{stdout}");
    if user.is_empty() {
        // An ordinary user's own socket: its programs run as that user.
        assert!(stdout.contains("foreign: reached"), "{stdout}");
    } else {
        assert!(stdout.contains("foreign: errno 13"), "{stdout}");
    }
    let mut buffer = [0u8; 16];
    assert_eq!(
        outside_udp.recv(&mut buffer).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a datagram reached the port outside its block"
    );
}

#[test]
fn a_program_does_not_outlive_the_process_that_supervises_it() {
    use std::io::BufRead;
    // The program says its pid, then waits; its supervisor is killed (as a program that
    // set its limits once could): the program must end too, not run on unwatched.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .args(["--seccomp", "--", "python3", "-c"])
        .arg("import os, time; print(os.getpid(), flush=True); time.sleep(60)")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let program: libc::pid_t = line.trim().parse().unwrap();
    // SAFETY: pidfd_open of the program; poll waits on it; the descriptor is ours.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, program, 0) } as libc::c_int;
    assert!(pidfd >= 0, "{}", std::io::Error::last_os_error());
    child.kill().unwrap();
    child.wait().unwrap();
    let mut ended = libc::pollfd {
        fd: pidfd,
        events: libc::POLLIN,
        revents: 0,
    };
    // A generous deadline: the kernel signals it as the supervisor exits.
    let ready = unsafe { libc::poll(&mut ended, 1, 20_000) };
    unsafe { libc::close(pidfd) };
    assert_eq!(
        ready, 1,
        "the program still runs after its supervisor was killed"
    );
}

/// What a program tries where the warden owns its datagram sockets: to copy one off the
/// warden's numbers (so that the kernel, not the warden, would make its calls), to put
/// another file onto them, to pass one on, to raise its limit to the handover's number;
/// then it makes and closes many sockets (the warden forgets the closed ones), and a
/// forked child sends on its parent's.
const OWNED: &str = r#"
import fcntl, os, resource, select, socket, sys
outside, first, last = map(int, sys.argv[1:4])
def attempt(what, call):
    try:
        result = call()
        print(f"{what}: ok")
        return result
    except OSError as error:
        print(f"{what}: errno {error.errno}")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
number = udp.fileno()
print("a number of the warden's, below select's limit:", 900 < number < 1024)
copies = [
    attempt("dup", lambda: os.dup(number)),
    attempt("dup2 off", lambda: os.dup2(number, 50)),
    attempt("fcntl dupfd", lambda: fcntl.fcntl(number, fcntl.F_DUPFD, 0)),
    attempt("fcntl dupfd cloexec", lambda: fcntl.fcntl(number, fcntl.F_DUPFD_CLOEXEC, 10)),
]
attempt("dup2 onto", lambda: os.dup2(0, number + 1))
attempt("fcntl dupfd onto", lambda: fcntl.fcntl(0, fcntl.F_DUPFD, number + 1))
left, right = socket.socketpair()
attempt("pass it", lambda: socket.send_fds(left, [b"x"], [number]))
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
# The handover's number was the top of the limit, which was lowered to it for good.
print("limit below the handover's number:", hard <= 8191)
attempt("dup2 onto the handover's number", lambda: os.dup2(0, 8191))
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard + 1, hard + 1))
    print("raise the limit: ok")
except (OSError, ValueError):
    print("raise the limit: refused")
# A listener of its own, whose SECCOMP_IOCTL_NOTIF_ADDFD could put a copy anywhere:
# refused by the filter (EPERM) before the kernel looks at the missing program (EFAULT).
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
made = libc.syscall(317, 1, 8, None)  # seccomp(SET_MODE_FILTER, NEW_LISTENER, NULL)
print(f"own listener: errno {ctypes.get_errno() if made < 0 else 0}")
address = ("127.0.0.1", outside)
for copy in copies:
    if copy is not None:
        attempt("send on a copy", lambda: socket.socket(fileno=copy).sendto(b"copy", address))
attempt("sendto outside", lambda: udp.sendto(b"out", address))
inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside.bind(("127.0.0.1", first))
for _ in range(300):
    made = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    made.sendto(b"n", ("127.0.0.1", first))
    made.close()
    inside.recv(8)
print("made and closed 300")
# select takes the warden's numbers.
inside.setblocking(False)
readable, _, _ = select.select([inside], [], [], 0)
print("select: ok")
# A port bound, the socket closed, the port bound again.
first_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first_socket.bind(("127.0.0.1", last))
first_socket.close()
again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
attempt("bind again after a close", lambda: again.bind(("127.0.0.1", last)))
inside.setblocking(True)
child = os.fork()
if child == 0:
    udp.sendto(b"child", ("127.0.0.1", first))
    os._exit(0)
os.waitpid(child, 0)
print(f"from the child {inside.recv(8)!r}")
"#;

#[test]
fn where_the_warden_owns_a_socket_the_program_cannot_copy_it_out_of_its_reach() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("owned.py"), OWNED).unwrap();
    let outside_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    outside_udp.set_nonblocking(true).unwrap();
    let (first, last) = block_of_ports();
    let output = Command::new(env!("CARGO_BIN_EXE_sandbox-init"))
        .args(["--landlock", "--seccomp", "--warden-owns", "--tcp-ports"])
        .arg(format!("{first}-{last}"))
        .arg("--writable")
        .arg(folder.path())
        .arg("--")
        .arg("python3")
        .arg(folder.path().join("owned.py"))
        .arg(outside_udp.local_addr().unwrap().port().to_string())
        .args([first, last].map(|port| port.to_string()))
        .output()
        .unwrap();
    let stdout = succeeded(&output);
    let expected = [
        "a number of the warden's, below select's limit: True",
        "dup: errno 1",
        "dup2 off: errno 1",
        "fcntl dupfd: errno 1",
        "fcntl dupfd cloexec: errno 1",
        "dup2 onto: errno 1",
        "fcntl dupfd onto: errno 1",
        "pass it: errno 13",
        "limit below the handover's number: True",
        "dup2 onto the handover's number: errno 9",
        "raise the limit: refused",
        "own listener: errno 1",
        "sendto outside: errno 13",
        "made and closed 300",
        "select: ok",
        "bind again after a close: ok",
        "from the child b'child'",
    ];
    for line in expected {
        assert!(
            stdout.lines().any(|got| got == line),
            "{line:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("send on a copy"), "{stdout}");
    let mut buffer = [0u8; 16];
    assert_eq!(
        outside_udp.recv(&mut buffer).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a datagram reached the port outside its block"
    );
}
