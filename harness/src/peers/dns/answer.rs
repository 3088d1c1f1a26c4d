//! One DNS question in, one DNS answer out: the part of a name server that does not care
//! whether the message came over UDP or TCP.
//!
//! Reading list: RFC 1035 §4.1 (the message: a header, then the question, answer,
//! authority and additional sections), RFC 6891 (EDNS: the OPT record that tells how large
//! an answer over UDP may be), RFC 2308 (NXDOMAIN and empty answers). The bytes are parsed
//! and built by `hickory-proto`; what to answer is [`super::zone`]'s.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RData;

use super::zone::{Lookup, Zone};

/// The largest answer sent over UDP to a client that did not say (RFC 1035 §4.2.1).
const CLASSIC_UDP_LIMIT: usize = 512;
/// The largest UDP answer the harness offers with EDNS: 1232 bytes fits any path's MTU
/// without fragments (the 2020 "DNS flag day" value; Unbound's default too).
const EDNS_UDP_LIMIT: u16 = 1232;

/// A question as the record of queries keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The name asked for, as sent (`smtp.example.com.`).
    pub name: String,
    /// Its type (`A`, `AAAA`, `MX`).
    pub kind: String,
    /// What the harness answered: `127.0.0.1`, `NXDOMAIN`, `no records`.
    pub answer: String,
}

/// The answer to `request`, as bytes, and the question it answered (`None` for a message
/// that could not be read as one). `udp_limit`: answers over UDP that do not fit are sent
/// empty with the TC bit set, and the client asks again over TCP (RFC 7766 §5).
pub fn answer(request: &[u8], zone: &Zone, over_udp: bool) -> Option<(Vec<u8>, Option<Question>)> {
    let request = match Message::from_vec(request) {
        Ok(request) => request,
        // Not a DNS message: answer FORMERR if at least its id can be read, so a client
        // stops waiting (RFC 1035 §4.1.1: "format error").
        Err(_) if request.len() >= 2 => {
            let id = u16::from_be_bytes([request[0], request[1]]);
            let reply = Message::error_msg(id, OpCode::Query, ResponseCode::FormErr);
            return Some((reply.to_vec().ok()?, None));
        }
        Err(_) => return None,
    };
    // A response sent to a server is ignored: answering it could start a loop.
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    // The harness answers every name itself, as a recursive resolver would for its
    // clients: saying so keeps `dig` from warning that recursion is not available.
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    // RFC 6891 §6.1.1: a request with an OPT record gets one back.
    let udp_limit = match &request.edns {
        Some(edns) => {
            let mut ours = Edns::new();
            ours.set_max_payload(EDNS_UDP_LIMIT);
            reply.set_edns(ours);
            usize::from(edns.max_payload().clamp(512, EDNS_UDP_LIMIT))
        }
        None => CLASSIC_UDP_LIMIT,
    };
    let mut question = match (request.metadata.op_code, request.queries.as_slice()) {
        (OpCode::Query, [query]) => {
            reply.add_query(query.clone());
            let (code, records) = match zone.lookup(query.name(), query.query_type()) {
                Lookup::Records(records) => (ResponseCode::NoError, records),
                Lookup::NoSuchName => (ResponseCode::NXDomain, Vec::new()),
            };
            reply.metadata.response_code = code;
            let shown = shown_answer(code, &records);
            reply.add_answers(records);
            Some(Question {
                name: query.name().to_string(),
                kind: query.query_type().to_string(),
                answer: shown,
            })
        }
        // Only standard queries, one question each (what every resolver sends; RFC 9619
        // makes "one question" the rule).
        (OpCode::Query, _) => {
            reply.metadata.response_code = ResponseCode::FormErr;
            None
        }
        _ => {
            reply.metadata.response_code = ResponseCode::NotImp;
            None
        }
    };
    let mut bytes = reply.to_vec().ok()?;
    if over_udp && bytes.len() > udp_limit {
        let whole = bytes.len();
        bytes = reply.truncate().to_vec().ok()?;
        // The step log says what the client got: not the records, but "ask again".
        if let Some(question) = &mut question {
            question.answer = format!(
                "truncated (TC bit, no records: the {whole} bytes of the answer do not fit in {udp_limit} over UDP)"
            );
        }
    }
    Some((bytes, question))
}

/// The answer as the step log shows it: the addresses, or why there are none.
fn shown_answer(code: ResponseCode, records: &[hickory_proto::rr::Record]) -> String {
    if code == ResponseCode::NXDomain {
        return "NXDOMAIN".into();
    }
    if records.is_empty() {
        return "no records".into();
    }
    records
        .iter()
        .map(|record| match &record.data {
            RData::A(address) => address.to_string(),
            RData::AAAA(address) => address.to_string(),
            other => format!("{} {other}", record.record_type()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::{Name, RecordType};

    fn ask(name: &str, kind: RecordType, edns: bool) -> Vec<u8> {
        let mut request = Message::query();
        request.metadata.recursion_desired = true;
        request.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        if edns {
            request.set_edns(Edns::new());
        }
        request.to_vec().unwrap()
    }

    fn reply(bytes: &[u8]) -> Message {
        Message::from_vec(bytes).unwrap()
    }

    #[test]
    fn an_address_question_gets_the_loopback_with_the_same_id() {
        let request = ask("smtp.example.com.", RecordType::A, false);
        let (bytes, question) = answer(&request, &Zone::standard(), true).unwrap();
        let reply = reply(&bytes);
        assert_eq!(
            reply.metadata.id,
            Message::from_vec(&request).unwrap().metadata.id
        );
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert_eq!(reply.answers.len(), 1);
        let question = question.unwrap();
        assert_eq!(
            (
                question.name.as_str(),
                question.kind.as_str(),
                question.answer.as_str()
            ),
            ("smtp.example.com.", "A", "127.0.0.1")
        );
    }

    #[test]
    fn a_name_that_does_not_exist_is_nxdomain() {
        let request = ask("nowhere.invalid.", RecordType::AAAA, true);
        let (bytes, question) = answer(&request, &Zone::standard(), false).unwrap();
        let reply = reply(&bytes);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert!(
            reply.edns.is_some(),
            "an EDNS request gets an OPT record back"
        );
        assert_eq!(question.unwrap().answer, "NXDOMAIN");
    }

    #[test]
    fn other_types_are_empty_and_noerror() {
        let request = ask("example.com.", RecordType::MX, false);
        let (bytes, question) = answer(&request, &Zone::standard(), true).unwrap();
        let reply = reply(&bytes);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.answers.is_empty());
        assert_eq!(question.unwrap().answer, "no records");
    }

    #[test]
    fn garbage_with_an_id_gets_formerr_and_shorter_garbage_nothing() {
        let (bytes, question) = answer(&[0x12, 0x34, 0xff], &Zone::standard(), true).unwrap();
        let reply = reply(&bytes);
        assert_eq!(
            (reply.metadata.id, reply.metadata.response_code),
            (0x1234, ResponseCode::FormErr)
        );
        assert!(question.is_none());
        assert!(answer(&[0x12], &Zone::standard(), true).is_none());
    }

    #[test]
    fn an_answer_too_large_for_udp_is_truncated_and_whole_over_tcp() {
        let mut zone = Zone::standard();
        for index in 0..60u8 {
            let address = std::net::Ipv4Addr::new(192, 0, 2, index);
            zone.add(
                "many.example.com",
                RData::A(hickory_proto::rr::rdata::A(address)),
            )
            .unwrap();
        }
        let request = ask("many.example.com.", RecordType::A, false);
        let (udp, asked) = answer(&request, &zone, true).unwrap();
        let udp = reply(&udp);
        assert!(udp.metadata.truncation && udp.answers.is_empty());
        let shown = asked.unwrap().answer;
        assert!(
            shown.starts_with("truncated (TC bit, no records: "),
            "{shown}"
        );
        assert!(shown.ends_with(" do not fit in 512 over UDP)"), "{shown}");
        let (tcp, asked) = answer(&request, &zone, false).unwrap();
        assert_eq!(reply(&tcp).answers.len(), 60);
        assert!(asked.unwrap().answer.starts_with("192.0.2.0, "));
    }
}
