//! The DNS pack against a client nobody here wrote: `dig`, over UDP and TCP, asking what
//! the mx-lookup scenarios ask of `fixtures/zones/mail-lab.zone`.

use std::path::Path;
use std::sync::Arc;

use super::DnsScript;
use crate::peers::ServerPeer;
use crate::peers::dns::Zone;
use crate::protocols::testing::{run, start_peer};

async fn name_server(silent: bool) -> ServerPeer {
    let kit_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let zones = vec!["mail-lab".to_owned()];
    let zone = Zone::with_kit_files(&kit_root, &zones).expect("the kit's zone loads");
    start_peer(Arc::new(DnsScript {
        zones,
        zone: Arc::new(zone),
        silent,
    }))
    .await
}

/// `dig @127.0.0.1 -p PORT` with `args`, its output.
async fn dig(peer: &ServerPeer, args: &[&str]) -> String {
    let mut argv = vec![
        "@127.0.0.1".to_owned(),
        "-p".to_owned(),
        peer.port.to_string(),
        "+time=2".to_owned(),
        "+tries=1".to_owned(),
    ];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    let output = run("dig", argv, "bind9-dnsutils (dig)").await;
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The records of the answer section of `dig +short`-less output, one per line.
fn answers(output: &str) -> Vec<String> {
    output
        .lines()
        .skip_while(|line| !line.starts_with(";; ANSWER SECTION:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_reads_mx_records_with_ties_over_udp() {
    let peer = name_server(false).await;
    let output = dig(&peer, &["+notcp", "MX", "ties.example.com"]).await;
    assert!(output.contains("status: NOERROR"), "{output}");
    assert!(output.contains("flags: qr aa"), "{output}");
    let mut records = answers(&output);
    records.sort();
    assert_eq!(
        records,
        [
            "ties.example.com. 5 IN MX 10 mx-a.example.com.",
            "ties.example.com. 5 IN MX 10 mx-b.example.com.",
            "ties.example.com. 5 IN MX 20 backup.example.com.",
            "ties.example.com. 5 IN MX 5 primary.example.com.",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_is_truncated_over_udp_and_whole_over_tcp() {
    let peer = name_server(false).await;
    // `+ignore`: dig keeps the truncated answer instead of asking again.
    let cut = dig(&peer, &["+notcp", "+ignore", "MX", "many.example.com"]).await;
    assert!(cut.contains(" tc"), "the TC flag: {cut}");
    assert!(answers(&cut).is_empty(), "{cut}");
    let whole = dig(&peer, &["+tcp", "MX", "many.example.com"]).await;
    assert_eq!(answers(&whole).len(), 40, "{whole}");
    // Without `+ignore`, dig itself asks again over TCP on the same port.
    let retried = dig(&peer, &["+notcp", "MX", "many.example.com"]).await;
    assert!(
        retried.contains("Truncated, retrying in TCP mode"),
        "{retried}"
    );
    assert_eq!(answers(&retried).len(), 40, "{retried}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_names_empty_answers_and_the_null_mx_are_told_apart() {
    let peer = name_server(false).await;
    let gone = dig(&peer, &["MX", "gone.example.com"]).await;
    assert!(gone.contains("status: NXDOMAIN"), "{gone}");
    let bare = dig(&peer, &["MX", "bare.example.com"]).await;
    assert!(bare.contains("status: NOERROR"), "{bare}");
    assert!(answers(&bare).is_empty(), "{bare}");
    let null = dig(&peer, &["MX", "nomail.example.com"]).await;
    assert_eq!(answers(&null), ["nomail.example.com. 5 IN MX 0 ."]);
    let implicit = dig(&peer, &["AAAA", "implicit.example.com"]).await;
    assert_eq!(
        answers(&implicit),
        ["implicit.example.com. 5 IN AAAA 2001:db8::30"]
    );
    // Outside the zone's origin, the standard answer: every name the loopback.
    let elsewhere = dig(&peer, &["A", "smtp.example.org"]).await;
    assert_eq!(answers(&elsewhere), ["smtp.example.org. 5 IN A 127.0.0.1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_answers_nothing_either_way() {
    let peer = name_server(true).await;
    let udp = dig(&peer, &["+notcp", "MX", "ties.example.com"]).await;
    assert!(udp.contains("timed out"), "{udp}");
    let tcp = dig(&peer, &["+tcp", "MX", "ties.example.com"]).await;
    assert!(tcp.contains("timed out"), "{tcp}");
}
