//! `xmlrpc-server` against a client nobody here wrote: Python's `xmlrpc.client`
//! (`ServerProxy` with HTTP Basic credentials in the URL, `MultiCall`), started by the test
//! as `/usr/bin/python3` (Debian's `python3`; the module is in its standard library).

use std::process::Command;
use std::time::Instant;

use crate::common::{Running, free_tcp_port, wait_until_listening};

const PYTHON: &str = "/usr/bin/python3";

/// Runs `script` with `port` as its argument; its stdout, or a failure with its stderr.
fn python(script: &str, port: u16) -> String {
    let output = Command::new(PYTHON)
        .args(["-c", script, &port.to_string()])
        .output()
        .unwrap_or_else(|error| panic!("{PYTHON}: {error} (install python3)"));
    assert!(
        output.status.success(),
        "the Python client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A client as a student's test of the lab would be: every method, integers and doubles,
/// faults as exceptions, a multicall with a fault in the middle.
const CLIENT: &str = r#"
import sys, xmlrpc.client
port = sys.argv[1]
proxy = xmlrpc.client.ServerProxy(f"http://student:s3cret@127.0.0.1:{port}/RPC2")
print(proxy.add(2, 3), proxy.multiply(-6, 7), proxy.pow(2, 10))
print(proxy.add(1.5, 2.25), repr(proxy.multiply(4, 0.5)), proxy.pow(2.0, 0.5))
print(proxy.sleep(0.1))
print(" ".join(proxy.system.listMethods()))
for call in (lambda: proxy.pow(2, 40), lambda: proxy.nope(), lambda: proxy.add("2", 3), lambda: proxy.sleep(6)):
    try:
        call()
        print("no fault")
    except xmlrpc.client.Fault as fault:
        print("fault", fault.faultCode)
multi = xmlrpc.client.MultiCall(proxy)
multi.add(1, 2)
multi.nope()
multi.multiply(3, 4)
print(multi().results)
root = xmlrpc.client.ServerProxy(f"http://student:s3cret@127.0.0.1:{port}/")
print(root.add(40, 2))
"#;

#[test]
fn python_xmlrpc_client_calls_every_method_and_a_multicall() {
    let port = free_tcp_port();
    let mut server = Running::start(
        "xmlrpc-server",
        &[&port.to_string(), "--auth", "student:s3cret"],
    );
    wait_until_listening(port);
    let printed = python(CLIENT, port);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines,
        [
            "5 -42 1024",
            "3.75 2.0 1.4142135623730951",
            "0.1",
            "add multiply pow sleep system.listMethods system.multicall",
            "fault -32500",
            "fault -32601",
            "fault -32602",
            "fault -32500",
            "[[3], {'faultCode': -32601, 'faultString': 'no method named `nope` (system.listMethods lists them)'}, [12]]",
            "42",
        ],
        "{printed}"
    );
    assert!(server.is_running());
}

#[test]
fn python_without_credentials_gets_a_401_at_once_and_nothing_runs() {
    let port = free_tcp_port();
    let _server = Running::start(
        "xmlrpc-server",
        &[&port.to_string(), "--auth", "student:s3cret"],
    );
    wait_until_listening(port);
    let started = Instant::now();
    let printed = python(
        r#"
import sys, xmlrpc.client
for user in ("", "student:wrong@"):
    proxy = xmlrpc.client.ServerProxy(f"http://{user}127.0.0.1:{sys.argv[1]}/RPC2")
    try:
        proxy.sleep(3)
        print("ran")
    except xmlrpc.client.ProtocolError as error:
        print(error.errcode, error.headers.get("WWW-Authenticate"))
"#,
        port,
    );
    assert_eq!(
        printed,
        "401 Basic realm=\"xmlrpc\"\n401 Basic realm=\"xmlrpc\"\n"
    );
    // Two refused sleep(3): had either run, this would take 3 s at least.
    assert!(
        started.elapsed().as_secs_f64() < 2.5,
        "{:?}",
        started.elapsed()
    );
}
