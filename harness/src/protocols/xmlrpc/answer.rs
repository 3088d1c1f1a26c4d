//! The judge of an XML-RPC answer, on what a `request` connection received: the HTTP
//! response is read by the shared reader (`crate::protocols::http_reader`) (whole by its `Content-Length`), its body
//! by the reference's codec, and the result compared with what the scenario expects, in
//! words a student can act on (the value that came and the one expected, the fault that
//! is missing, the `401` without its header, the call that ran although refused).

use reference::xmlrpc::message::{Fault, Response};
use reference::xmlrpc::value::Value;
use serde::Deserialize;

use super::values::{same, show, type_note};
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::protocols::http_reader::{ReadResponse, ResponseVerdict, read_response};
use crate::world::capture::Capture;

/// How a request must be refused (`refused = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Refusal {
    /// `401` with `WWW-Authenticate: Basic` (SPEC rpc/3).
    Unauthorized,
    /// `413`, or a fault (SPEC rpc/4).
    TooLarge,
}

/// What the answer must be.
#[derive(Debug, Clone)]
pub(super) enum Expected {
    /// This value (or, with `or_fault`, a fault).
    Returns { value: Value, or_fault: bool },
    /// A fault.
    Fault,
    /// An array of strings holding these.
    Includes(Vec<String>),
    /// A multicall's array, each call in its place.
    Multicall(Vec<EachCall>),
    /// An HTTP refusal.
    Refused(Refusal),
}

/// One call of a multicall: its value (wrapped in a one-element array), or a fault.
#[derive(Debug, Clone)]
pub(super) struct EachCall {
    pub(super) call: String,
    pub(super) returns: Option<Value>,
}

/// The judge of one request's answer.
#[derive(Debug)]
pub(super) struct XmlRpcAnswer {
    /// The request in words: `add(2, 3)`.
    pub(super) request: String,
    pub(super) expected: Expected,
}

/// The most body bytes read (an answer is small; a listing of methods is a few hundred).
const MAX_BODY: usize = 4 * 1024 * 1024;

impl XmlRpcAnswer {
    /// What is expected, in words.
    fn describe(&self) -> String {
        let request = &self.request;
        match &self.expected {
            Expected::Returns { value, or_fault } => format!(
                "{request} to return {}{} (HTTP 200)",
                show(value),
                if *or_fault { ", or a fault" } else { "" }
            ),
            Expected::Fault => {
                format!("{request} to answer a fault (HTTP 200, faultCode and faultString)")
            }
            Expected::Includes(names) => {
                format!(
                    "{request} to return an array of strings with {}",
                    names.join(", ")
                )
            }
            Expected::Multicall(calls) => {
                let each: Vec<String> = calls
                    .iter()
                    .map(|each| match &each.returns {
                        Some(value) => format!("[{}]", show(value)),
                        None => format!("a fault struct ({})", each.call),
                    })
                    .collect();
                format!("{request} to return [{}]", each.join(", "))
            }
            Expected::Refused(Refusal::Unauthorized) => format!(
                "{request} refused at once with HTTP 401 and `WWW-Authenticate: Basic`, the method not run"
            ),
            Expected::Refused(Refusal::TooLarge) => {
                format!("{request} refused (HTTP 413, or a fault): a body over 1 MiB is not read")
            }
        }
    }

    /// Judges a whole response: `Err` says what is wrong with it.
    fn judge(&self, response: &ReadResponse, capture: &Capture) -> Result<(), String> {
        let status_line = &response.status_line;
        if let Expected::Refused(Refusal::Unauthorized) = self.expected {
            return match (response.status, response.header("www-authenticate")) {
                (401, Some(value)) if value.to_ascii_lowercase().starts_with("basic") => Ok(()),
                (401, Some(value)) => Err(format!(
                    "{status_line} with `WWW-Authenticate: {value}`, not the Basic scheme"
                )),
                (401, None) => Err(format!(
                    "{status_line} without a `WWW-Authenticate: Basic` header: without it, clients never send their credentials"
                )),
                (200, _) => Err(format!(
                    "{status_line}: the call ran without valid credentials ({})",
                    self.body_in_words(response, capture)
                )),
                _ => Err(format!("{status_line}, not 401 Unauthorized")),
            };
        }
        if let Expected::Refused(Refusal::TooLarge) = self.expected
            && response.status == 413
        {
            return Ok(());
        }
        if response.status != 200 {
            return Err(format!(
                "{status_line}: an XML-RPC answer (a fault included) comes with HTTP status 200"
            ));
        }
        let answer = read_body(response, capture)?;
        let fault_words = |fault: &Fault| {
            format!(
                "a fault (faultCode {}, faultString {:?})",
                fault.code, fault.message
            )
        };
        match (&self.expected, answer) {
            (Expected::Returns { value, .. }, Response::Value(got)) => {
                if same(value, &got) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} returned {}{}, expected {}",
                        self.request,
                        show(&got),
                        type_note(value, &got),
                        show(value)
                    ))
                }
            }
            (Expected::Returns { or_fault: true, .. }, Response::Fault(_)) => Ok(()),
            (Expected::Returns { value, .. }, Response::Fault(fault)) => Err(format!(
                "{} answered {} instead of returning {}",
                self.request,
                fault_words(&fault),
                show(value)
            )),
            (Expected::Fault | Expected::Refused(_), Response::Fault(_)) => Ok(()),
            (Expected::Fault, Response::Value(got)) => Err(format!(
                "{} returned {}: it must answer a fault",
                self.request,
                show(&got)
            )),
            (Expected::Refused(_), Response::Value(got)) => Err(format!(
                "the server read the whole body and ran it: {} returned {}",
                self.request,
                show(&got)
            )),
            (Expected::Includes(names), Response::Value(got)) => includes(names, &got),
            (Expected::Includes(_), Response::Fault(fault)) => {
                Err(format!("{} answered {}", self.request, fault_words(&fault)))
            }
            (Expected::Multicall(calls), Response::Value(got)) => multicall(calls, &got),
            (Expected::Multicall(_), Response::Fault(fault)) => Err(format!(
                "the whole system.multicall answered {}: a failing call's fault goes in its place, and the others still run",
                fault_words(&fault)
            )),
        }
    }

    /// The body of a 200 answer in words, for a refusal that was not one.
    fn body_in_words(&self, response: &ReadResponse, capture: &Capture) -> String {
        match read_body(response, capture) {
            Ok(Response::Value(value)) => format!("{} returned {}", self.request, show(&value)),
            Ok(Response::Fault(fault)) => format!("a fault: {}", fault.message),
            Err(why) => why,
        }
    }
}

/// The XML-RPC response in a 200's body.
fn read_body(response: &ReadResponse, capture: &Capture) -> Result<Response, String> {
    let length = (response.body_len as usize).min(MAX_BODY);
    let mut body = vec![0; length];
    let read = capture
        .read_at(response.head_len as u64, &mut body)
        .map_err(|error| format!("the body could not be read back: {error}"))?;
    body.truncate(read);
    Response::parse(&body).map_err(|why| {
        format!(
            "{} with a body that is no XML-RPC response ({why}): {}",
            response.status_line,
            crate::judge::diff::excerpt(&body[..body.len().min(200)])
        )
    })
}

/// `Ok` if `got` is an array of strings holding every name.
fn includes(names: &[String], got: &Value) -> Result<(), String> {
    let Value::Array(items) = got else {
        return Err(format!("{}, not an array of strings", show(got)));
    };
    let missing: Vec<&str> = names
        .iter()
        .filter(|name| !items.contains(&Value::String((*name).clone())))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{} lacks {}", show(got), missing.join(", ")))
    }
}

/// `Ok` if a multicall's result has each call's value in a one-element array, or its
/// fault struct, in its place.
fn multicall(calls: &[EachCall], got: &Value) -> Result<(), String> {
    let Value::Array(results) = got else {
        return Err(format!(
            "system.multicall returned {}, not an array of results",
            show(got)
        ));
    };
    if results.len() != calls.len() {
        return Err(format!(
            "{} results for {} calls: {} (every call gets its place; the calls after a failing one still run)",
            results.len(),
            calls.len(),
            show(got)
        ));
    }
    for (index, (each, result)) in calls.iter().zip(results).enumerate() {
        let place = format!("call {} ({})", index + 1, each.call);
        match (&each.returns, result) {
            (Some(value), Value::Array(wrapped)) if wrapped.len() == 1 => {
                if !same(value, &wrapped[0]) {
                    return Err(format!(
                        "{place} returned {}{}, expected {}",
                        show(&wrapped[0]),
                        type_note(value, &wrapped[0]),
                        show(value)
                    ));
                }
            }
            (Some(value), other) => {
                let why = match Fault::from_value(other) {
                    Some(fault) => format!("a fault: {}", fault.message),
                    None if same(value, other) => format!(
                        "{}, not wrapped in a one-element array [{}]",
                        show(other),
                        show(value)
                    ),
                    None => show(other),
                };
                return Err(format!(
                    "{place} came back as {why}; expected [{}]",
                    show(value)
                ));
            }
            (None, other) if Fault::from_value(other).is_some() => {}
            (None, other) => {
                return Err(format!(
                    "{place} came back as {}, where its fault struct (faultCode, faultString) belongs",
                    show(other)
                ));
            }
        }
    }
    Ok(())
}

impl ProtocolExpectation for XmlRpcAnswer {
    fn evaluate(
        &self,
        _: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation> {
        let expected = format!("{where_}: {}", self.describe());
        if capture.is_empty() {
            // Pending even when nothing more can come: the engine then says why (the
            // server closed, or waits in `recv` elsewhere, or the time is up).
            let seen = match (&self.expected, is_final) {
                // Nothing can come any more (the connection closed, the server waits
                // elsewhere): it never answered, late or not.
                (Expected::Refused(Refusal::Unauthorized), true) => {
                    "no answer, and none can come any more: a call without the right credentials gets `401 Unauthorized` with `WWW-Authenticate: Basic`; a handler that fails on it (a missing or malformed Authorization header read without a check) ends the exchange instead"
                }
                // The time is up: it may answer once the method is done.
                (Expected::Refused(Refusal::Unauthorized), false) => {
                    "no answer: a refused call is answered at once, before its body is even needed; a server that runs the method first and checks the credentials after answers only once the method is done (here, after the sleep)"
                }
                _ => "no answer",
            };
            return Ok(Evaluation::Pending {
                expected,
                seen: seen.to_owned(),
            });
        }
        let response = match read_response(capture, is_final) {
            Ok(response) => response,
            Err(ResponseVerdict::Incomplete(seen)) => {
                return Ok(Evaluation::Pending { expected, seen });
            }
            Err(ResponseVerdict::Wrong(seen)) => return Err(StepFailure::fail(expected, seen)),
            Err(ResponseVerdict::Holds) => unreachable!("the reader judges no response whole"),
        };
        match self.judge(&response, capture) {
            Ok(()) => Ok(Evaluation::Holds { settle: false }),
            Err(seen) => Err(StepFailure::fail(expected, seen)),
        }
    }
}
