//! The XML-RPC pack's options and judge, on answers as servers write them.

use super::*;
use crate::judge::bytes::Evaluation;
use crate::judge::output::Facts;
use crate::outcome::StepResult;
use crate::payload::{Concatenation, Payload};
use crate::peers::ProtocolRecord;
use crate::world::capture::Capture;

struct NoFacts;

impl Facts for NoFacts {
    fn sent_by(&self, _: &[String]) -> StepResult<(Concatenation, bool)> {
        unreachable!("the XML-RPC judge reads only its answer")
    }
    fn sent_payload(&self, _: &str) -> Payload {
        unreachable!()
    }
    fn record(&self, _: &str) -> Option<&dyn ProtocolRecord> {
        None
    }
    fn connections_accepted(&self, _: &str) -> u64 {
        0
    }
}

fn request(options: &str) -> ClientRequest {
    load(OptionsInput {
        value: toml::de::ValueDeserializer::parse(options).expect("a value"),
        kit_root: std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        step: (),
    })
    .unwrap_or_else(|error| panic!("{options}: {error:?}"))
}

/// The verdict on an HTTP response whose body is `body`.
fn verdict(options: &str, status: &str, headers: &str, body: &str) -> Result<(), String> {
    let request = request(options);
    let capture = Capture::memory(1 << 20);
    let response = format!(
        "HTTP/1.0 {status}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    capture.append(response.as_bytes()).unwrap();
    match request.answer.evaluate(&NoFacts, "c1", &capture, false) {
        Ok(Evaluation::Holds { .. }) => Ok(()),
        Ok(Evaluation::Pending { seen, .. }) => Err(format!("pending: {seen}")),
        Ok(_) => Err("neither holding nor pending".into()),
        Err(failure) => Err(failure.seen),
    }
}

fn value(xml: &str) -> String {
    format!(
        "<?xml version='1.0'?><methodResponse><params><param><value>{xml}</value></param></params></methodResponse>"
    )
}

fn fault() -> String {
    "<?xml version='1.0'?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>&lt;class 'TypeError'&gt;:no</string></value></member></struct></value></fault></methodResponse>".into()
}

#[test]
fn the_request_is_a_post_with_its_length_and_credentials() {
    let request =
        request(r#"{ call = "add", params = [2, 3.5], auth = "student:s3cret", returns = 5.5 }"#);
    let text = String::from_utf8(request.bytes.to_vec()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /RPC2 HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{head}"
    );
    assert!(
        head.contains("Authorization: Basic c3R1ZGVudDpzM2NyZXQ="),
        "{head}"
    );
    assert!(
        body.contains("<int>2</int>") && body.contains("<double>3.5</double>"),
        "{body}"
    );
    assert_eq!(request.midway, head.len() + 4 + body.len() / 2);
    assert_eq!(request.describe, "add(2, 3.5) on /RPC2 as student");
}

#[test]
fn values_are_judged_with_their_types() {
    let add = r#"{ call = "add", params = [2, 3], returns = 5 }"#;
    assert_eq!(verdict(add, "200 OK", "", &value("<int>5</int>")), Ok(()));
    assert_eq!(verdict(add, "200 OK", "", &value("<i4>5</i4>")), Ok(()));
    let wrong = verdict(add, "200 OK", "", &value("<int>6</int>")).unwrap_err();
    assert!(wrong.contains("returned 6, expected 5"), "{wrong}");
    let typed = verdict(add, "200 OK", "", &value("<double>5.0</double>")).unwrap_err();
    assert!(
        typed.contains("an <double> where an <int> belongs"),
        "{typed}"
    );
    let faulted = verdict(add, "200 OK", "", &fault()).unwrap_err();
    assert!(faulted.contains("answered a fault"), "{faulted}");
    let big = r#"{ call = "pow", params = [2, 40], returns = 1099511627776.0, or_fault = true }"#;
    assert_eq!(verdict(big, "200 OK", "", &fault()), Ok(()));
    assert_eq!(
        verdict(
            big,
            "200 OK",
            "",
            &value("<double>1099511627776.0</double>")
        ),
        Ok(())
    );
    assert!(verdict(big, "200 OK", "", &value("<int>1099511627776</int>")).is_err());
}

#[test]
fn a_fault_must_be_an_http_200() {
    let nope = r#"{ call = "nope", fault = true }"#;
    assert_eq!(verdict(nope, "200 OK", "", &fault()), Ok(()));
    let status = verdict(nope, "500 Internal Server Error", "", "").unwrap_err();
    assert!(status.contains("HTTP status 200"), "{status}");
    let ran = verdict(nope, "200 OK", "", &value("<int>1</int>")).unwrap_err();
    assert!(ran.contains("must answer a fault"), "{ran}");
}

#[test]
fn a_multicall_is_judged_call_by_call() {
    let calls = r#"{ multicall = [{ call = "add", params = [1, 2], returns = 3 }, { call = "nope", fault = true }, { call = "pow", params = [2, 3], returns = 8 }] }"#;
    let fault_struct = "<struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>x</string></value></member></struct>";
    let wrap =
        |xml: &str| format!("<value><array><data><value>{xml}</value></data></array></value>");
    let good = format!(
        "<array><data>{}<value>{fault_struct}</value>{}</data></array>",
        wrap("<int>3</int>"),
        wrap("<int>8</int>")
    );
    assert_eq!(verdict(calls, "200 OK", "", &value(&good)), Ok(()));
    let unwrapped = format!(
        "<array><data><value><int>3</int></value><value>{fault_struct}</value>{}</data></array>",
        wrap("<int>8</int>")
    );
    let seen = verdict(calls, "200 OK", "", &value(&unwrapped)).unwrap_err();
    assert!(
        seen.contains("not wrapped in a one-element array"),
        "{seen}"
    );
    let stopped = format!(
        "<array><data>{}<value>{fault_struct}</value></data></array>",
        wrap("<int>3</int>")
    );
    let seen = verdict(calls, "200 OK", "", &value(&stopped)).unwrap_err();
    assert!(seen.contains("2 results for 3 calls"), "{seen}");
    let whole = verdict(calls, "200 OK", "", &fault()).unwrap_err();
    assert!(whole.contains("the whole system.multicall"), "{whole}");
}

#[test]
fn a_refusal_needs_its_header_and_no_answer() {
    let refused = r#"{ call = "sleep", params = [3], refused = "unauthorized" }"#;
    assert_eq!(
        verdict(
            refused,
            "401 Unauthorized",
            "WWW-Authenticate: Basic realm=\"x\"\r\n",
            ""
        ),
        Ok(())
    );
    let bare = verdict(refused, "401 Unauthorized", "", "").unwrap_err();
    assert!(
        bare.contains("without a `WWW-Authenticate: Basic` header"),
        "{bare}"
    );
    let ran = verdict(refused, "200 OK", "", &value("<int>3</int>")).unwrap_err();
    assert!(ran.contains("ran without valid credentials"), "{ran}");
    let large = r#"{ call = "add", params = [2, 3], pad_bytes = 100, refused = "too-large" }"#;
    assert_eq!(verdict(large, "413 Content Too Large", "", ""), Ok(()));
    assert_eq!(verdict(large, "200 OK", "", &fault()), Ok(()));
    let read = verdict(large, "200 OK", "", &value("<int>5</int>")).unwrap_err();
    assert!(read.contains("read the whole body and ran it"), "{read}");
}

#[test]
fn a_listing_names_what_it_lacks() {
    let list = r#"{ call = "system.listMethods", includes = ["add", "system.multicall"] }"#;
    let names = "<array><data><value><string>add</string></value><value>system.listMethods</value></data></array>";
    let seen = verdict(list, "200 OK", "", &value(names)).unwrap_err();
    assert!(seen.ends_with("lacks system.multicall"), "{seen}");
}

#[test]
fn options_that_do_not_fit_are_refused() {
    for options in [
        r#"{ call = "add", params = [2, 3] }"#,
        r#"{ call = "add", returns = 1, fault = true }"#,
        r#"{ call = "add", params = [4294967296], returns = 1 }"#,
        r#"{ multicall = [{ call = "add" }] }"#,
        r#"{ body = { text = "x" }, call = "add", fault = true }"#,
        r#"{ call = "add", auth = "nocolon", fault = true }"#,
    ] {
        let loaded = load(OptionsInput {
            value: toml::de::ValueDeserializer::parse(options).unwrap(),
            kit_root: std::path::Path::new("."),
            step: (),
        });
        assert!(loaded.is_err(), "{options}");
    }
}
