//! `--pcap DIR`: every scenario's capture, opened with tshark, gives back exactly the bytes
//! the harness recorded on each connection, both ways, with no malformed packet and no bad
//! checksum; the same seed in the simulated world gives the same files, byte for byte.
//!
//! tshark (Debian's `tshark`, which `.ci/run` installs) reads the captures: these tests
//! fail, saying so, where it is missing.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::events::Event;
use harness::grading::{Mode, grade};
use harness::report::Reporters;
use harness::report::pcap_files::PcapReport;
use harness::scenario::Selection;
use harness::target::Target;
use harness::transcript::{Direction, TranscriptEntry};
use harness::wire::{Flow, FlowId, Protocol, Side, Wire, WireAct, WireBytes, WireRecord};
use harness::world::sim::SimOptions;

/// Runs tshark; a machine without it fails the test with what to install.
fn tshark(args: &[&str]) -> String {
    let output = Command::new("tshark")
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "tshark could not run ({error}): the captures are checked with it; install \
             Debian's `tshark` (DEBIAN_FRONTEND=noninteractive apt-get install tshark, as \
             .ci/run does)"
            )
        });
    assert!(
        output.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("tshark prints text")
}

/// A scenario's capture and what the harness recorded of it.
struct Captured {
    id: String,
    wire: Wire,
    /// The transcript the report shows, and how many entries it left out.
    transcript: Vec<TranscriptEntry>,
    left_out: u64,
    /// Where `--pcap` wrote it.
    path: PathBuf,
}

/// Grades `patterns` of `target` with a `--pcap` reporter writing into a temporary folder.
fn grade_with_captures(
    target: &Target,
    patterns: &[&str],
    mode: &Mode,
) -> (tempfile::TempDir, Vec<Captured>) {
    let suite = common::suite();
    let patterns: Vec<String> = patterns.iter().map(|pattern| pattern.to_string()).collect();
    let selection = Selection::new(Vec::new(), &patterns).expect("valid patterns");
    let dir = tempfile::tempdir().unwrap();
    let mut reporters = Reporters::new();
    reporters.add("--pcap", PcapReport::new(dir.path().to_owned()));
    let mut events = Vec::new();
    let mut sink = |event: Event| {
        events.push(event.clone());
        harness::events::EventSink::emit(&mut reporters, event);
    };
    grade(&suite, &selection, target, common::SEED, mode, &mut sink).expect("grading runs");
    let run = reporters.finish().expect("every capture is written");
    let mut captures = Vec::new();
    for event in events {
        // A verdict carries the scenario's record whole: its transcript and its wire.
        if let Event::Verdict {
            submission,
            outcome,
            ..
        } = event
            && !outcome.wire.is_empty()
        {
            let (transcript, left_out) = outcome.transcript.clone();
            captures.push(Captured {
                path: dir.path().join(run.pcap_path(&submission, &outcome.id)),
                id: outcome.id.clone(),
                wire: outcome.wire.clone(),
                transcript,
                left_out,
            });
        }
    }
    (dir, captures)
}

/// The bytes of a connection one way, in the order recorded (every flow of it: a relay's
/// legs carry the same; a UDP server peer's clients one after another).
fn connection_bytes(wire: &Wire, label: &str, direction: Direction) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in &wire.records {
        if record.connection == label
            && record.direction == direction
            && let WireAct::Data(payload) | WireAct::Datagram(payload) = &record.act
        {
            bytes.extend_from_slice(&payload.bytes);
        }
    }
    bytes
}

/// One stream as tshark follows it: its two nodes and what each sent.
#[derive(Debug)]
struct Followed {
    nodes: [SocketAddr; 2],
    sent: [Vec<u8>; 2],
}

/// The TCP and the UDP streams of a capture as `tshark -z follow,<protocol>,raw,N` gives
/// them, asking for `counts` of each and one more, which must not exist. One tshark run.
fn follow(path: &Path, counts: [usize; 2]) -> [Vec<Followed>; 2] {
    let mut args = vec![
        "-r".to_owned(),
        path.to_str().unwrap().to_owned(),
        "-q".to_owned(),
    ];
    for (protocol, count) in ["tcp", "udp"].iter().zip(counts) {
        for stream in 0..=count {
            args.push("-z".into());
            args.push(format!("follow,{protocol},raw,{stream}"));
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = tshark(&args);
    // Blocks: `Follow: tcp,raw`, `Filter: tcp.stream eq N`, `Node 0: a:p`, `Node 1: b:p`
    // (`:0` for a stream that does not exist), then hex lines, node 1's after a tab.
    let mut streams: [BTreeMap<usize, Followed>; 2] = Default::default();
    let mut block: Option<(usize, usize)> = None;
    let mut nodes: Vec<Option<SocketAddr>> = Vec::new();
    for line in text.lines() {
        if let Some(filter) = line.strip_prefix("Filter: ") {
            let (protocol, stream) = filter.split_once(".stream eq ").expect("a stream filter");
            let protocol = usize::from(protocol == "udp");
            block = Some((protocol, stream.parse().expect("a stream number")));
            nodes.clear();
        } else if let Some(node) = line
            .strip_prefix("Node 0: ")
            .or_else(|| line.strip_prefix("Node 1: "))
        {
            nodes.push(node.parse::<SocketAddr>().ok());
            if let ([Some(first), Some(second)], Some((protocol, stream))) = (&nodes[..], block) {
                let followed = Followed {
                    nodes: [*first, *second],
                    sent: [Vec::new(), Vec::new()],
                };
                streams[protocol].insert(stream, followed);
            }
        } else if line.starts_with("=====") || line.starts_with("Follow: ") {
            continue;
        } else if let Some((protocol, stream)) = block
            && let Some(followed) = streams[protocol].get_mut(&stream)
            && !line.trim().is_empty()
        {
            let from = usize::from(line.starts_with('\t'));
            followed.sent[from].extend(hex(line.trim()));
        }
    }
    for ((name, streams), count) in ["tcp", "udp"].iter().zip(&streams).zip(counts) {
        let numbers: Vec<usize> = streams.keys().copied().collect();
        assert_eq!(
            numbers,
            (0..count).collect::<Vec<_>>(),
            "{}: {count} {name} stream(s), no more:\n{text}",
            path.display()
        );
    }
    streams.map(|streams| streams.into_values().collect())
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
        .collect()
}

/// The way `side` of `flow` sends.
fn direction_of(flow: &Flow, side: Side) -> Direction {
    if side == flow.to_program_from {
        Direction::ToProgram
    } else {
        Direction::FromProgram
    }
}

/// Checks one capture against what the harness recorded (two tshark runs); returns its
/// number of packets.
fn check(captured: &Captured) -> usize {
    let Captured { id, wire, path, .. } = captured;
    assert!(path.is_file(), "{id}: no capture at {}", path.display());
    let file = path.to_str().unwrap();

    // Nothing malformed, no bad checksum, no TCP analysis complaint (lost segment,
    // retransmission, unseen ACK...): the one warning expected is an RST's own, one RST
    // per connection reset.
    let flagged = tshark(&[
        "-r",
        file,
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-Y",
        "_ws.malformed || _ws.expert.severity >= warning || tcp.analysis.flags \
         || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "tcp.flags.reset",
        "-e",
        "_ws.expert.message",
    ]);
    let mut resets = 0;
    for line in flagged.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(
            fields[1..] == ["1", "Connection reset (RST)"],
            "{id}: tshark complains about a packet (number, RST, complaint): {line}"
        );
        resets += 1;
    }
    let reset_flows: BTreeSet<usize> = wire
        .records
        .iter()
        .filter(|record| record.act == WireAct::Reset)
        .flat_map(|record| match record.flow {
            Some(flow) => vec![flow.0],
            None => wire
                .flows_of(&record.connection)
                .map(|(id, _)| id.0)
                .collect(),
        })
        .collect();
    assert_eq!(
        resets,
        reset_flows.len(),
        "{id}: one RST per reset connection"
    );

    // Every stream follows back to the recorded bytes of its flow, both ways. A UDP flow
    // that moved nothing is no stream.
    let flows: Vec<(FlowId, &Flow)> = (0..wire.flows.len())
        .map(|index| (FlowId(index), &wire.flows[index]))
        .filter(|(flow_id, flow)| {
            flow.protocol == Protocol::Tcp
                || [Direction::ToProgram, Direction::FromProgram]
                    .iter()
                    .any(|direction| !wire.stream(*flow_id, *direction).is_empty())
        })
        .collect();
    let count = |protocol| {
        flows
            .iter()
            .filter(|(_, flow)| flow.protocol == protocol)
            .count()
    };
    let [tcp, udp] = follow(path, [count(Protocol::Tcp), count(Protocol::Udp)]);
    for stream in tcp.iter().chain(&udp) {
        let (flow_id, flow, sides) = flows
            .iter()
            .find_map(|(flow_id, flow)| {
                let ends = [flow.client.address, flow.server.address];
                if stream.nodes == ends {
                    Some((*flow_id, *flow, [Side::Client, Side::Server]))
                } else if stream.nodes == [ends[1], ends[0]] {
                    Some((*flow_id, *flow, [Side::Server, Side::Client]))
                } else {
                    None
                }
            })
            .unwrap_or_else(|| panic!("{id}: a stream of no flow: {:?}", stream.nodes));
        for (node, side) in sides.iter().enumerate() {
            let direction = direction_of(flow, *side);
            let recorded = wire.stream(flow_id, direction);
            assert!(
                stream.sent[node] == recorded,
                "{id}: {} {direction:?}: tshark follows {} bytes, the harness recorded {}",
                flow.connection,
                stream.sent[node].len(),
                recorded.len()
            );
        }
    }

    // What the report's transcript shows agrees with the wire: each entry's bytes at its
    // place in its connection's stream, and all of them (when nothing was left out).
    let mut offsets: HashMap<(String, Direction), usize> = HashMap::new();
    for entry in captured
        .transcript
        .iter()
        .filter(|entry| entry.event.is_none())
    {
        let stream = connection_bytes(wire, &entry.connection, entry.direction);
        let offset = offsets
            .entry((entry.connection.clone(), entry.direction))
            .or_default();
        assert_eq!(
            stream.get(*offset..*offset + entry.head.len()),
            Some(&entry.head[..]),
            "{id}: {} {:?} at byte {offset}",
            entry.connection,
            entry.direction
        );
        *offset += entry.bytes as usize;
    }
    if captured.left_out == 0 && wire.bytes_left_out == 0 {
        for ((connection, direction), length) in &offsets {
            assert_eq!(
                connection_bytes(wire, connection, *direction).len(),
                *length,
                "{id}: {connection} {direction:?}: the transcript's count"
            );
        }
    }
    wire.packets().len()
}

fn by_id<'c>(captures: &'c [Captured], id: &str) -> &'c Captured {
    captures
        .iter()
        .find(|captured| captured.id == id)
        .unwrap_or_else(|| panic!("no capture for {id}"))
}

#[test]
fn sample_message_captures_follow_back_to_the_recorded_bytes() {
    let suite = common::suite();
    let dir = common::kit_root().join("fixtures/submissions/sample");
    let target = Target::from_folder(&dir, &suite.catalogue, &common::companions())
        .expect("the sample is a target");
    let (_dir, captures) = grade_with_captures(&target, &["message/0*"], &Mode::Real);
    assert_eq!(captures.len(), 9, "message/01 to 09 each have a capture");
    let replayed = tempfile::tempdir().unwrap();
    for captured in &captures {
        let packets = check(captured);
        assert!(packets > 0, "{}: an empty capture", captured.id);
        // A recording (`--record`, JSON) replays into the same capture, to the microsecond.
        let json = serde_json::to_string(&captured.wire).unwrap();
        let wire: Wire = serde_json::from_str(&json).unwrap();
        let again = replayed.path().join("again.pcap");
        wire.packets().write(&again).unwrap();
        assert!(
            std::fs::read(&again).unwrap() == std::fs::read(&captured.path).unwrap(),
            "{}: the recorded wire writes another capture",
            captured.id
        );
    }
    let text = std::fs::read(common::kit_root().join("fixtures/payloads/text-20k.txt")).unwrap();

    // The harness as client: c1 sent the file.
    let first = by_id(&captures, "message/01-text-20k");
    let (c1, flow) = first.wire.flows_of("c1").next().expect("c1's flow");
    assert_eq!(first.wire.stream(c1, Direction::ToProgram), text);
    assert_eq!(
        (flow.client.name.as_str(), flow.server.name.as_str()),
        ("c1", "server")
    );
    assert!(flow.server.program && !flow.client.program);

    // Through a relay: two TCP legs, client → relay and relay → server, the same bytes.
    let relayed = by_id(&captures, "message/02-client-sends-stdin");
    let legs: Vec<(FlowId, &Flow)> = relayed.wire.flows_of("relay#1").collect();
    assert_eq!(legs.len(), 2, "{:?}", relayed.wire.flows);
    let names: Vec<(&str, &str)> = legs
        .iter()
        .map(|(_, flow)| (flow.client.name.as_str(), flow.server.name.as_str()))
        .collect();
    assert_eq!(names, [("client", "relay"), ("relay", "server")]);
    for (leg, _) in &legs {
        assert_eq!(relayed.wire.stream(*leg, Direction::ToProgram), text);
    }
    let [streams, _] = follow(&relayed.path, [2, 0]);
    assert_eq!(streams[0].sent[0], streams[1].sent[0]);
}

#[test]
fn udp_reset_and_starttls_captures_of_the_reference_follow_back() {
    let suite = common::suite();
    let target = Target::reference(&common::reference_bin_dir(), &suite.catalogue);
    let patterns = [
        "upper-udp/0[1-3]*",
        "udp-pinger/04*",
        "message/11*",
        "smtp-client/06*",
    ];
    let (_dir, captures) = grade_with_captures(&target, &patterns, &Mode::Real);
    for captured in &captures {
        check(captured);
    }
    // One datagram to the server, its answer back, on one UDP flow.
    let upper = by_id(&captures, "upper-udp/01-only-ascii-letters-change");
    let (d1, _) = upper.wire.flows_of("d1").next().expect("d1's flow");
    assert_eq!(
        upper.wire.stream(d1, Direction::FromProgram),
        "HELLO, WORLD! STRAßE CAFé 123 &*! ñ".as_bytes()
    );
    // 400 pings and 400 answers, each its own packet.
    let pinger = by_id(&captures, "udp-pinger/04-server-answers-every-ping");
    assert_eq!(check(pinger), 800);
    // The client reset mid-message: its RST ends its connection.
    let reset = by_id(&captures, "message/11-client-reset-mid-message");
    assert!(
        reset
            .wire
            .records
            .iter()
            .any(|record| record.act == WireAct::Reset)
    );
    // After STARTTLS the capture holds the dialogue decrypted, as the peer saw it.
    let tls = by_id(&captures, "smtp-client/06-starttls-before-auth");
    let (session, flow) = tls
        .wire
        .flows_of("mta#1")
        .next()
        .expect("the session's flow");
    assert_eq!(
        (flow.client.name.as_str(), flow.server.name.as_str()),
        ("client", "mta")
    );
    let commands =
        String::from_utf8_lossy(&tls.wire.stream(session, Direction::FromProgram)).into_owned();
    let (starttls, auth) = (commands.find("STARTTLS\r\n"), commands.find("AUTH "));
    assert!(
        starttls.is_some() && auth > starttls,
        "AUTH, in plaintext after STARTTLS: {commands}"
    );
}

#[test]
fn simulated_captures_replay_byte_for_byte() {
    let suite = common::suite();
    let target = Target::simulated(&suite.catalogue);
    let patterns = [
        "message/0[25]*",
        "upper-udp/01*",
        "udp-pinger/04*",
        "smtp-client/06*",
    ];
    let mode = Mode::Simulated(SimOptions::default());
    let (_first_dir, first) = grade_with_captures(&target, &patterns, &mode);
    let (_second_dir, second) = grade_with_captures(&target, &patterns, &mode);
    assert_eq!(first.len(), 5);
    for (one, other) in first.iter().zip(&second) {
        check(one);
        assert_eq!(one.id, other.id);
        assert!(
            std::fs::read(&one.path).unwrap() == std::fs::read(&other.path).unwrap(),
            "{}: the same seed wrote different captures",
            one.id
        );
        // Simulated time from the simulation's fixed epoch, not today's clock.
        let first_time = tshark(&[
            "-r",
            one.path.to_str().unwrap(),
            "-c",
            "1",
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ]);
        let seconds: f64 = first_time.trim().parse().unwrap();
        assert!(
            (1_700_000_000.0..1_700_000_100.0).contains(&seconds),
            "{}: {seconds}",
            one.id
        );
    }
}

#[test]
fn bytes_past_the_budget_are_captured_cut_short() {
    let mut wire = Wire::default();
    let flow = Flow::opened_by_harness(
        "c1",
        Protocol::Tcp,
        harness::wire::FlowEnd::harness("c1", "127.0.0.1:40000".parse().unwrap()),
        harness::wire::FlowEnd {
            name: "server".into(),
            address: "127.0.0.1:9000".parse().unwrap(),
            program: true,
        },
    );
    wire.flows.push(flow);
    let record = |act| WireRecord {
        connection: "c1".into(),
        flow: None,
        direction: Direction::ToProgram,
        at: std::time::Duration::from_millis(1),
        act,
    };
    wire.records.push(record(WireAct::Open));
    wire.records.push(record(WireAct::Data(WireBytes {
        bytes: vec![b'a'; 2000],
        length: 5000,
    })));
    wire.records.push(record(WireAct::Fin));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    wire.packets().write(&path).unwrap();
    let file = path.to_str().unwrap();
    // Captured length and length on the wire of each data segment.
    let lengths = tshark(&[
        "-r",
        file,
        "-Y",
        "tcp.len > 0",
        "-T",
        "fields",
        "-e",
        "frame.cap_len",
        "-e",
        "frame.len",
    ]);
    let lengths: Vec<&str> = lengths.lines().collect();
    assert_eq!(lengths, ["1500\t1500", "580\t1500", "40\t1500", "40\t660"]);
    let malformed = tshark(&["-r", file, "-Y", "_ws.malformed"]);
    assert!(malformed.trim().is_empty(), "{malformed}");
    // The FIN still comes at byte 5001: the sequence numbers counted every byte.
    let fin = tshark(&[
        "-r",
        file,
        "-Y",
        "tcp.flags.fin == 1",
        "-T",
        "fields",
        "-e",
        "tcp.seq",
    ]);
    assert_eq!(fin.trim(), "5001");
}

#[test]
fn the_pcap_option_writes_one_file_per_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::cargo_bin("harness")
        .unwrap()
        .current_dir(common::kit_root())
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "1",
            "--pcap",
        ])
        .arg(dir.path())
        .arg("message/08*")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let path = dir.path().join("message/08-empty-message.pcap");
    let packets = tshark(&["-r", path.to_str().unwrap()]);
    // Two connections: an empty message (handshake, FIN each way), then a second client
    // with a message.
    assert_eq!(packets.lines().count(), 16, "{packets}");
    let [streams, _] = follow(&path, [2, 0]);
    assert!(streams[0].sent[0].is_empty() && !streams[1].sent[0].is_empty());
}
