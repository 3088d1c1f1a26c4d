//! The XML-RPC pack: the harness as an XML-RPC client of a submitted server (SPEC
//! rpc/1–rpc/4), on the generic `request` step.
//!
//! - here: the options (`xmlrpc = { ... }`), turned into the request's bytes (an HTTP
//!   `POST` with a `<methodCall>` written by the reference's own codec,
//!   `reference::xmlrpc::message`, which Python's `xmlrpc.client` is tested against);
//! - [`values`]: scenario values (TOML) as XML-RPC values, and XML-RPC values in words;
//! - [`answer`]: the judge of the response, read by the HTTP pack's response reader.
//!
//! ```toml
//! [[step]]
//! request = "server"
//! as = "c1"
//! xmlrpc = { call = "add", params = [2, 3], returns = 5 }
//!
//! # a fault expected; a value or a fault; an array of strings holding these
//! xmlrpc = { call = "nope", fault = true }
//! xmlrpc = { call = "pow", params = [2, 40], returns = 1099511627776.0, or_fault = true }
//! xmlrpc = { call = "system.listMethods", includes = ["add", "system.multicall"] }
//! # several calls in one system.multicall, each judged in its place
//! xmlrpc = { multicall = [{ call = "add", params = [1, 2], returns = 3 }, { call = "nope", fault = true }] }
//! # credentials, another path, a raw body, a call padded past 1 MiB; refusals
//! xmlrpc = { call = "sleep", params = [3], refused = "unauthorized" }
//! xmlrpc = { call = "add", params = [2, 3], auth = "student:s3cret", path = "/", returns = 5 }
//! xmlrpc = { body = { text = "<methodCall><methodName>add" }, fault = true }
//! xmlrpc = { call = "add", params = [2, 3], pad_bytes = 2097152, refused = "too-large" }
//! ```

mod answer;
mod values;

use std::sync::Arc;

use base64::Engine as _;
use reference::xmlrpc::message::Call;
use reference::xmlrpc::value::Value;
use serde::Deserialize;

use super::{ClientOptions, ClientRequest, Loaded, Login, LoginPart, OptionsInput, Pack};
use crate::payload::PayloadSpec;
use answer::{Expected, Refusal, XmlRpcAnswer};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "xmlrpc",
    server: None,
    expectations: &[],
    checks: &[],
    client: Some(ClientOptions {
        key: "xmlrpc",
        load,
        schema: |generator| generator.subschema_for::<RawXmlRpc>(),
    }),
    setting: None,
    login: Some(Login {
        protocol: "XML-RPC (HTTP Basic)",
        tasks: &["xmlrpc"],
        refusal: login_refusal,
    }),
};

/// What HTTP Basic cannot carry of a login, beyond what no pack carries
/// (`super::accounts::login_refusal`): a user with `:`, where `user:password` ends the user
/// (RFC 7617 §2), so the server would read another login.
fn login_refusal(_protocol: &str, part: LoginPart, value: &str) -> Option<String> {
    (part == LoginPart::User && value.contains(':')).then(|| {
        "holds `:`; HTTP Basic sends `user:password`, so its user names cannot hold one".to_owned()
    })
}

/// `xmlrpc = { ... }` on a `request` step: what to send, and what must come back.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawXmlRpc {
    /// The method to call.
    call: Option<String>,
    /// Its parameters: TOML integers are `<int>`, floats `<double>`, strings, booleans,
    /// arrays, tables (structs).
    params: Option<Vec<serde_json::Value>>,
    /// Several calls in one `system.multicall`, each with what it must return.
    multicall: Option<Vec<RawCall>>,
    /// A body sent as it is instead of a call (malformed XML).
    body: Option<PayloadSpec>,
    /// Spaces inside the call (before `</methodCall>`): a valid call of this size.
    pad_bytes: Option<u64>,
    /// The request's path (default `/RPC2`).
    path: Option<String>,
    /// HTTP Basic credentials `USER:PASS`.
    auth: Option<String>,
    /// The value the call must return.
    returns: Option<serde_json::Value>,
    /// With `returns`: a fault is right too.
    or_fault: Option<bool>,
    /// The call must answer a fault (HTTP 200, `faultCode` and `faultString`).
    fault: Option<bool>,
    /// The call must return an array of strings that holds these.
    includes: Option<Vec<String>>,
    /// The request must be refused: `unauthorized` (401 with `WWW-Authenticate: Basic`)
    /// or `too-large` (413, or a fault).
    refused: Option<Refusal>,
}

/// One call of a `multicall`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCall {
    call: String,
    #[serde(default)]
    params: Vec<serde_json::Value>,
    returns: Option<serde_json::Value>,
    fault: Option<bool>,
}

/// The default path: Python's `ServerProxy("http://host:port")` posts to `/RPC2`.
const DEFAULT_PATH: &str = "/RPC2";

fn load(input: OptionsInput<'_, '_, ()>) -> Loaded<ClientRequest> {
    let raw = RawXmlRpc::deserialize(input.value)?;
    let (body, shown): (Vec<u8>, String) = match (&raw.call, &raw.multicall, &raw.body) {
        (Some(method), None, None) => {
            let params = values::from_toml_list(raw.params.as_deref().unwrap_or_default())?;
            let shown = values::show_call(method, &params);
            let mut xml = Call {
                method: method.clone(),
                params,
            }
            .to_xml();
            if let Some(pad) = raw.pad_bytes {
                let end = xml.rfind("</methodCall>").expect("a call ends so");
                xml.insert_str(end, &" ".repeat(pad as usize));
            }
            (xml.into_bytes(), shown)
        }
        (None, Some(calls), None) => multicall(calls)?,
        (None, None, Some(spec)) => {
            let payload = spec.resolve(input.kit_root)?;
            let mut bytes = vec![0; payload.len() as usize];
            let read = payload
                .read_at(0, &mut bytes)
                .map_err(|error| format!("`xmlrpc.body`: {error}"))?;
            bytes.truncate(read);
            let shown = format!(
                "a body of {} bytes ({})",
                bytes.len(),
                crate::judge::diff::excerpt(&bytes[..bytes.len().min(40)])
            );
            (bytes, shown)
        }
        _ => return Err("`xmlrpc` takes one of `call`, `multicall` or `body`".into()),
    };
    if raw.pad_bytes.is_some() && raw.call.is_none() {
        return Err("`xmlrpc.pad_bytes` pads a `call`".into());
    }
    if raw.params.is_some() && raw.call.is_none() {
        return Err("`xmlrpc.params` go with `call`".into());
    }
    let expected = expected(&raw)?;
    if raw.multicall.is_some() && !matches!(expected, Expected::Multicall(_) | Expected::Refused(_))
    {
        return Err("a `multicall` says what each call returns, in the call".into());
    }
    let path = raw.path.as_deref().unwrap_or(DEFAULT_PATH);
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err("`xmlrpc.path` is a path such as `/RPC2`".into());
    }
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: socket-lab-harness (xmlrpc)\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(credentials) = &raw.auth {
        if !credentials.contains(':') {
            return Err("`xmlrpc.auth` is `USER:PASS`".into());
        }
        head += &format!("Authorization: {}\r\n", basic_authorization(credentials));
    }
    head += "\r\n";
    let midway = head.len() + body.len() / 2;
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    let mut describe = format!("{shown} on {path}");
    if let Some(credentials) = &raw.auth {
        let user = credentials.split(':').next().unwrap_or_default();
        describe += &format!(" as {user}");
    }
    Ok(ClientRequest {
        bytes: bytes.into(),
        midway,
        answer: Arc::new(XmlRpcAnswer {
            request: shown,
            expected,
        }),
        describe,
    })
}

/// The body of a `system.multicall` of `calls`, and the call in words.
fn multicall(calls: &[RawCall]) -> Loaded<(Vec<u8>, String)> {
    if calls.is_empty() {
        return Err("`xmlrpc.multicall` lists at least one call".into());
    }
    let mut entries = Vec::new();
    let mut shown = Vec::new();
    for call in calls {
        let params = values::from_toml_list(&call.params)?;
        shown.push(values::show_call(&call.call, &params));
        entries.push(Value::Struct(vec![
            ("methodName".into(), Value::String(call.call.clone())),
            ("params".into(), Value::Array(params)),
        ]));
    }
    let xml = Call {
        method: "system.multicall".into(),
        params: vec![Value::Array(entries)],
    }
    .to_xml();
    Ok((
        xml.into_bytes(),
        format!("system.multicall({})", shown.join(", ")),
    ))
}

/// What the answer must be, from the options.
fn expected(raw: &RawXmlRpc) -> Loaded<Expected> {
    let given = [
        raw.returns.is_some(),
        raw.fault == Some(true),
        raw.includes.is_some(),
        raw.refused.is_some(),
        raw.multicall.is_some(),
    ];
    if given.iter().filter(|given| **given).count() != 1 {
        return Err(
            "`xmlrpc` expects one of `returns`, `fault = true`, `includes`, `refused` or a `multicall`"
                .into(),
        );
    }
    if raw.or_fault.is_some() && raw.returns.is_none() {
        return Err("`xmlrpc.or_fault` goes with `returns`".into());
    }
    Ok(if let Some(value) = &raw.returns {
        Expected::Returns {
            value: values::from_toml(value)?,
            or_fault: raw.or_fault == Some(true),
        }
    } else if raw.fault == Some(true) {
        Expected::Fault
    } else if let Some(names) = &raw.includes {
        Expected::Includes(names.clone())
    } else if let Some(refusal) = raw.refused {
        Expected::Refused(refusal)
    } else {
        let calls = raw.multicall.as_deref().unwrap_or_default();
        Expected::Multicall(
            calls
                .iter()
                .map(|call| match (&call.returns, call.fault) {
                    (Some(value), None) => Ok(answer::EachCall {
                        call: call.call.clone(),
                        returns: Some(values::from_toml(value)?),
                    }),
                    (None, Some(true)) => Ok(answer::EachCall {
                        call: call.call.clone(),
                        returns: None,
                    }),
                    _ => Err(format!(
                        "multicall's `{}` says `returns = ...` or `fault = true`",
                        call.call
                    )),
                })
                .collect::<Result<_, String>>()?,
        )
    })
}

/// The `Authorization` header's value the harness's client sends for `credentials`
/// (`USER:PASS`): HTTP Basic, `Basic` and their base64 (RFC 7617 §2).
pub(crate) fn basic_authorization(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

#[cfg(test)]
mod tests;
