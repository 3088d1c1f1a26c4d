//! `harness questions`: the simulated answers are deterministic (snapshotted); the real
//! ones are checked for what holds on any Linux (error kinds, not timings).

use harness::questions::{Answer, Observation, Worlds, answer, render, write_captures};

fn observed(answers: &[Answer], number: u8, real: bool) -> &Observation {
    let answer = answers
        .iter()
        .find(|answer| answer.question.number == number)
        .expect("every question is answered");
    let observation = if real {
        &answer.real
    } else {
        &answer.simulated
    };
    match observation {
        Some(Ok(observation)) => observation,
        other => panic!("Q{number} did not run: {other:?}"),
    }
}

fn value<'a>(answers: &'a [Answer], number: u8, real: bool, key: &str) -> &'a str {
    observed(answers, number, real)
        .value(key)
        .unwrap_or_else(|| panic!("Q{number} observed no `{key}`"))
}

#[test]
fn simulated_answers_are_deterministic() {
    let first = answer(&[], Worlds::Simulated, 1).unwrap();
    let second = answer(&[], Worlds::Simulated, 1).unwrap();
    assert_eq!(first.len(), 8);
    let text = render(&first, 1);
    assert_eq!(text, render(&second, 1));
    insta::assert_snapshot!("simulated_answers", text);
}

#[test]
fn the_kernel_answers_as_linux_does() {
    let answers = answer(&[], Worlds::Both, 5).unwrap();
    let real = |number, key| value(&answers, number, true, key);
    // Q1: refused at once, then fine once a server listens.
    assert_eq!(real(1, "connect-before-server"), "ConnectionRefused");
    assert_eq!(real(1, "connect-after-server"), "Ok");
    // Q2: sendto succeeds; only a connected socket hears the ICMP port unreachable.
    assert_eq!(real(2, "unconnected-socket"), "Ok/Timeout");
    assert_eq!(real(2, "connected-socket"), "Ok/ConnectionRefused");
    assert_eq!(real(2, "queued-for-late-server"), "Nothing");
    // Q3: wrong port: TCP refused, UDP's ICMP, and the real server gets nothing.
    assert_eq!(real(3, "tcp-wrong-port"), "ConnectionRefused");
    assert_eq!(real(3, "udp-wrong-port"), "Ok/ConnectionRefused");
    assert_eq!(real(3, "udp-server-received"), "nothing");
    // Q4: EADDRINUSE, and the reference reports both errors with exit status 1.
    assert_eq!(real(4, "second-bind"), "AddrInUse");
    assert_eq!(real(4, "reference-server-on-busy-port"), "exit 1");
    assert_eq!(real(4, "reference-client-without-server"), "exit 1");
    // Q5: listen(0) queues one client and leaves the next in connect(): no refusal.
    assert_eq!(real(5, "client-1"), "Ok");
    assert_eq!(real(5, "client-2"), "StillConnecting");
    // Q6: a stream merges sends; datagrams stay whole; a short buffer truncates.
    assert_eq!(real(6, "tcp-three-sends"), "19 bytes in the first recv");
    assert_eq!(real(6, "udp-three-datagrams"), "6+7+6");
    assert_eq!(real(6, "udp-small-buffer"), "10 then \"next\"");
    // Q7: TIME_WAIT blocks a restart unless SO_REUSEADDR is set every time.
    assert_ne!(real(7, "time-wait-sockets"), "0");
    assert_eq!(real(7, "rebind-without-reuseaddr"), "AddrInUse");
    assert_eq!(real(7, "rebind-with-reuseaddr"), "Ok");
    // Q8: the same seeded losses in both worlds.
    assert_eq!(real(8, "lost"), value(&answers, 8, false, "lost"));

    // Where the worlds differ, the answer says so.
    let text = render(&answers, 5);
    assert!(text.contains("turmoil has no ICMP"), "{text}");
    assert!(text.contains("worlds     differ"), "{text}");
}

#[test]
fn captures_are_valid_pcap_files() {
    let answers = answer(&[1, 6], Worlds::Simulated, 1).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let written = write_captures(&answers, folder.path()).unwrap();
    assert_eq!(written.len(), 2);
    for path in written {
        let file = std::fs::File::open(&path).unwrap();
        let mut reader = pcap_file::pcap::PcapReader::new(file).unwrap();
        assert_eq!(reader.header().datalink, pcap_file::DataLink::RAW);
        let mut packets = 0;
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap();
            let sliced = etherparse::SlicedPacket::from_ip(&packet.data).unwrap();
            assert!(sliced.transport.is_some(), "{}", path.display());
            packets += 1;
        }
        assert!(packets > 0, "{} is empty", path.display());
    }
}
