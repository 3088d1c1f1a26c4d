//! The SSH pack against clients nobody here wrote: paramiko (password and key, `exec` of
//! `cat /proc/cpuinfo`, `nproc`, `free -m`, `lscpu`, `os.cpu_count()`, RejectPolicy refusing
//! an unknown key, a wrong password refused as a failure, `invoke_shell` typing lines
//! into a shell) and OpenSSH's `ssh` (`-i key`, `BatchMode`, running `nproc`); and the
//! remote machine's sandbox (never root, no network).

use std::sync::Arc;

use super::record::{SshConnection, SshRecord};
use super::{KnownHosts, Remote, SshScript, keys};
use crate::peers::ServerPeer;
use crate::protocols::mailstore::testing::python;
use crate::protocols::testing::{run, start_peer};

const PASSWORD: &str = "s3cret ssh";

fn remote() -> Remote {
    Remote::example()
}

/// A client key made by ssh-keygen: (folder, private key path, public line).
fn client_key() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("id_ed25519");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f"])
        .arg(&path)
        .status()
        .unwrap_or_else(|error| panic!("cannot run ssh-keygen ({error}): install openssh-client"));
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("the public key");
    (folder, path, public.trim().to_owned())
}

async fn peer(authorized_keys: Vec<String>) -> ServerPeer {
    start_peer(Arc::new(SshScript {
        user: "alice".into(),
        password: Some(PASSWORD.into()),
        authorized_keys,
        host_key: "tests".into(),
        known_hosts: KnownHosts::Right,
        remote: remote(),
    }))
    .await
}

/// A known_hosts file for the peer: the right key, or none for it.
fn known_hosts(peer: &ServerPeer, mode: KnownHosts) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(
        file.path(),
        keys::known_hosts("tests", mode, "127.0.0.1", peer.port),
    )
    .expect("written");
    file
}

fn record(peer: &ServerPeer) -> &SshRecord {
    peer.record()
        .expect("a protocol peer keeps a record")
        .as_any()
        .downcast_ref::<SshRecord>()
        .expect("the SSH record")
}

/// Waits until `count` connections have ended.
async fn ended(peer: &ServerPeer, count: usize) -> Vec<SshConnection> {
    for _ in 0..500 {
        let connections = record(peer).connections();
        if connections.len() == count && connections.iter().all(|connection| connection.ended) {
            return connections;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("connections did not end: {:?}", record(peer).connections());
}

/// paramiko with RejectPolicy and the given known_hosts: each command's output and exit
/// status, one per line pair.
const PARAMIKO: &str = r#"
import sys, paramiko
port, known, user, secret, kind = sys.argv[1:6]
commands = sys.argv[6:]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
try:
    if kind == "password":
        c.connect("127.0.0.1", port=int(port), username=user, password=secret, look_for_keys=False, allow_agent=False, timeout=10)
    else:
        c.connect("127.0.0.1", port=int(port), username=user, key_filename=secret, look_for_keys=False, allow_agent=False, timeout=10)
except paramiko.SSHException as e:
    print("refused:", type(e).__name__, e)
    sys.exit(0)
for command in commands:
    i, o, e = c.exec_command(command, timeout=10)
    out = o.read().decode()
    status = o.channel.recv_exit_status()
    print(f"== {command} -> {status}")
    print(out, end="")
c.close()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn paramiko_sees_the_remote_machine_whatever_it_runs() {
    let peer = peer(Vec::new()).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let commands = [
        "grep -c processor /proc/cpuinfo",
        "grep -m1 'model name' /proc/cpuinfo",
        "nproc",
        "nproc --all",
        "free -m",
        "awk '/MemTotal/ {print $2}' /proc/meminfo",
        "lscpu",
        "/usr/bin/python3 -c 'import os; print(os.cpu_count())'",
        "id -u",
    ];
    let mut args = vec![
        peer.port.to_string(),
        known.path().display().to_string(),
        "alice".into(),
        PASSWORD.into(),
        "password".into(),
    ];
    args.extend(commands.iter().map(|command| (*command).to_owned()));
    let out = python(PARAMIKO, &args).await;
    for expected in [
        "== grep -c processor /proc/cpuinfo -> 0\n12\n",
        "model name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\n",
        "== nproc -> 0\n12\n",
        "== nproc --all -> 0\n12\n",
        "== awk '/MemTotal/ {print $2}' /proc/meminfo -> 0\n65830400\n",
        "CPU(s):                  12\n",
        "Model name:            Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz",
        "os.cpu_count())' -> 0\n12\n",
    ] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
    // Never root: a user of its own under a root harness (the sandbox's), else the
    // harness's own user.
    let uid: u32 = out
        .split("== id -u -> 0\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `id -u` in:\n{out}"));
    assert_ne!(uid, 0, "{out}");
    // free -m: total 64287 (65830400 kB / 1024, rounded down), available 42197.
    let free = out
        .lines()
        .find(|line| line.starts_with("Mem:"))
        .unwrap_or_else(|| panic!("no Mem: line in:\n{out}"));
    let numbers: Vec<&str> = free.split_whitespace().collect();
    assert_eq!(numbers[1], "64287", "{free}");
    assert_eq!(numbers.last(), Some(&"42197"), "{free}");
    let connections = ended(&peer, 1).await;
    let connection = &connections[0];
    assert!(connection.logged_in(), "{connection:?}");
    assert_eq!(connection.commands.len(), commands.len());
    assert!(
        connection
            .commands
            .iter()
            .all(|command| command.exit_status == Some(0)),
        "{:?}",
        connection.commands
    );
    assert!(
        connection
            .client_version
            .as_deref()
            .is_some_and(|version| version.starts_with("SSH-2.0-paramiko")),
        "{connection:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn paramiko_logs_in_with_a_key_and_reject_policy_refuses_an_unknown_host() {
    let (_folder, key, public) = client_key();
    let peer = peer(vec![public]).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let args = |known: &tempfile::NamedTempFile| {
        vec![
            peer.port.to_string(),
            known.path().display().to_string(),
            "alice".into(),
            key.display().to_string(),
            "key".into(),
            "nproc".into(),
        ]
    };
    let out = python(PARAMIKO, &args(&known)).await;
    assert!(out.contains("== nproc -> 0\n12\n"), "{out}");
    let connections = ended(&peer, 1).await;
    assert!(
        connections[0]
            .attempts
            .iter()
            .any(|attempt| attempt.method == "publickey signed" && attempt.accepted),
        "{:?}",
        connections[0].attempts
    );
    // No entry for the server: refused after the key exchange, before any request.
    let unknown = known_hosts(&peer, KnownHosts::None);
    let out = python(PARAMIKO, &args(&unknown)).await;
    assert!(out.starts_with("refused: SSHException"), "{out}");
    let connections = ended(&peer, 2).await;
    assert!(connections[1].attempts.is_empty(), "{:?}", connections[1]);
    assert!(connections[1].commands.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_an_authentication_failure_not_a_bad_method() {
    // A real sshd lists what it accepts after a failure (`publickey,password`): paramiko
    // then says "Authentication failed.". A server that drops `password` from the list
    // makes it say `BadAuthenticationType ... allowed types: ['publickey']` instead, and a
    // student's program reports the wrong cause.
    let peer = peer(Vec::new()).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let args = vec![
        peer.port.to_string(),
        known.path().display().to_string(),
        "alice".into(),
        "wrong password".into(),
        "password".into(),
    ];
    let out = python(PARAMIKO, &args).await;
    assert_eq!(
        out,
        "refused: AuthenticationException Authentication failed.\n"
    );
    let connections = ended(&peer, 1).await;
    let attempts = &connections[0].attempts;
    assert!(
        attempts
            .iter()
            .any(|attempt| attempt.method == "password" && !attempt.accepted),
        "{attempts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_runs_nproc_with_a_key_in_batch_mode() {
    let (folder, key, public) = client_key();
    let peer = peer(vec![public]).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let ssh = |command: &str| {
        vec![
            "-F".to_owned(),
            "/dev/null".into(),
            "-i".into(),
            key.display().to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", known.path().display()),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-p".into(),
            peer.port.to_string(),
            "alice@127.0.0.1".into(),
            command.into(),
        ]
    };
    let output = run(
        "ssh",
        ssh("nproc"),
        "openssh-client (apt-get install openssh-client)",
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "12\n");
    // The command's exit status comes back as ssh's own.
    let output = run("ssh", ssh("exit 3"), "openssh-client").await;
    assert_eq!(output.status.code(), Some(3));
    let connections = ended(&peer, 2).await;
    assert_eq!(connections[1].commands[0].exit_status, Some(3));
    drop(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_reaches_no_network_and_is_stopped_at_its_output_cap() {
    let peer = peer(Vec::new()).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let reach = format!(
        "/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {}), 2)'",
        peer.port
    );
    let args = vec![
        peer.port.to_string(),
        known.path().display().to_string(),
        "alice".into(),
        PASSWORD.into(),
        "password".into(),
        reach.clone(),
        "cat /etc/shadow | wc -c".into(),
        "yes".into(),
    ];
    let out = python(PARAMIKO, &args).await;
    assert!(out.contains(&format!("== {reach} -> 1\n")), "{out}");
    assert!(
        out.contains("== cat /etc/shadow | wc -c -> 0\n0\n"),
        "{out}"
    );
    let connections = ended(&peer, 1).await;
    let flood = &connections[0].commands[2];
    assert_eq!(flood.exit_status, None, "{flood:?}");
    assert!(
        flood
            .trouble
            .as_deref()
            .is_some_and(|trouble| trouble.contains("printed more than")),
        "{flood:?}"
    );
}

/// paramiko's `invoke_shell` (a pty, then `shell`): the lines given are typed one by one,
/// the second cut in two sends; everything printed until the channel closes, then the
/// shell's exit status.
const PARAMIKO_SHELL: &str = r#"
import sys, time, paramiko
port, known, user, secret = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect("127.0.0.1", port=int(port), username=user, password=secret, look_for_keys=False, allow_agent=False, timeout=10)
shell = c.invoke_shell()
shell.settimeout(10)
shell.send("nproc\n")
shell.send("grep -m1 'model")
time.sleep(0.1)
shell.send(" name' /proc/cpuinfo\n")
shell.send("exit\n")
out = b""
while True:
    piece = shell.recv(4096)
    if not piece:
        break
    out += piece
print(out.decode(), end="")
print(f"== exit {shell.recv_exit_status()}")
c.close()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_shell_runs_each_line_typed_and_each_is_recorded() {
    let peer = peer(Vec::new()).await;
    let known = known_hosts(&peer, KnownHosts::Right);
    let args = vec![
        peer.port.to_string(),
        known.path().display().to_string(),
        "alice".into(),
        PASSWORD.into(),
    ];
    let out = python(PARAMIKO_SHELL, &args).await;
    // The pack's figures, not this machine's: no terminal echo, no prompt (`sh -s`).
    assert_eq!(
        out,
        "12\nmodel name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\n== exit 0\n"
    );
    let connections = ended(&peer, 1).await;
    let connection = &connections[0];
    assert!(connection.logged_in(), "{connection:?}");
    let typed: Vec<(&str, Option<u32>)> = connection
        .commands
        .iter()
        .map(|command| (command.command.as_str(), command.exit_status))
        .collect();
    // One entry per line, the one cut in two sends whole; the shell's status on the last.
    assert_eq!(
        typed,
        [
            ("nproc", None),
            ("grep -m1 'model name' /proc/cpuinfo", None),
            ("exit", Some(0)),
        ]
    );
}
