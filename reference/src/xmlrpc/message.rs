//! The two XML-RPC messages, each read and written: a call (`<methodCall>`, the client's
//! request body) and a response (`<methodResponse>`: one value, or a fault). The server
//! reads calls and writes responses; the harness's XML-RPC pack writes calls and reads
//! responses with the same code, and Python's `xmlrpc.client` checks both against an
//! implementation nobody here wrote (`tests/suite/xmlrpc.rs`).
//!
//! ```text
//! <?xml version="1.0"?>                      <?xml version="1.0"?>
//! <methodCall>                               <methodResponse>
//!   <methodName>add</methodName>               <params><param>
//!   <params>                                     <value><int>5</int></value>
//!     <param><value><int>2</int></value></param>  </param></params>
//!     <param><value><int>3</int></value></param> </methodResponse>
//!   </params>
//! </methodCall>                              or <methodResponse><fault><value><struct>
//!                                              faultCode (int), faultString (string)
//!                                            </struct></value></fault></methodResponse>
//! ```

use super::value::{Value, elements, expect_name, only_child};

/// A call: the method's name and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The method's name (`add`, `system.multicall`).
    pub method: String,
    /// Its parameters, in order.
    pub params: Vec<Value>,
}

/// A fault: the spec's `faultCode` and `faultString`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// `faultCode`: one of [`codes`].
    pub code: i32,
    /// `faultString`: what went wrong, for a person.
    pub message: String,
}

/// What a response carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// The method's one return value.
    Value(Value),
    /// Why there is none.
    Fault(Fault),
}

/// Fault codes, from the "Specification for Fault Code Interoperability" (xmlrpc-epi):
/// XML-RPC itself leaves codes to each server; Python's `SimpleXMLRPCServer` says `1` for
/// everything, which clients accept as well.
pub mod codes {
    /// Not well-formed XML.
    pub const PARSE_ERROR: i32 = -32700;
    /// Well-formed, but not an XML-RPC call.
    pub const INVALID_REQUEST: i32 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Wrong number or types of parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// The method ran and failed (an integer overflow, a sleep too long).
    pub const APPLICATION_ERROR: i32 = -32500;
}

impl Fault {
    /// A fault with this code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The fault as the struct `system.multicall` puts in a failed call's place.
    pub fn to_value(&self) -> Value {
        Value::Struct(vec![
            ("faultCode".into(), Value::Int(self.code)),
            ("faultString".into(), Value::String(self.message.clone())),
        ])
    }

    /// A fault struct (`faultCode` an int, `faultString` a string), if `value` is one.
    pub fn from_value(value: &Value) -> Option<Fault> {
        match (value.member("faultCode"), value.member("faultString")) {
            (Some(Value::Int(code)), Some(Value::String(message))) => {
                Some(Fault::new(*code, message.clone()))
            }
            _ => None,
        }
    }
}

const DECLARATION: &str = "<?xml version=\"1.0\"?>\n";

impl Call {
    /// Reads a request body. `Err` is the fault to answer with: not XML (`PARSE_ERROR`),
    /// or XML that is no call (`INVALID_REQUEST`).
    pub fn parse(body: &[u8]) -> Result<Call, Fault> {
        let text = std::str::from_utf8(body).map_err(|error| {
            Fault::new(
                codes::PARSE_ERROR,
                format!("the body is not UTF-8: {error}"),
            )
        })?;
        let document = roxmltree::Document::parse(text).map_err(|error| {
            Fault::new(codes::PARSE_ERROR, format!("not well-formed XML: {error}"))
        })?;
        let invalid = |reason: String| Fault::new(codes::INVALID_REQUEST, reason);
        let call = document.root_element();
        expect_name(call, "methodCall").map_err(invalid)?;
        let mut parts = elements(call);
        let name = parts
            .next()
            .ok_or_else(|| invalid("<methodCall> without <methodName>".into()))?;
        expect_name(name, "methodName").map_err(invalid)?;
        let method: String = name.text().unwrap_or_default().trim().to_owned();
        if method.is_empty() {
            return Err(invalid("an empty <methodName>".into()));
        }
        let params = match parts.next() {
            None => Vec::new(),
            Some(params) => {
                expect_name(params, "params").map_err(invalid)?;
                elements(params)
                    .map(|param| {
                        expect_name(param, "param")?;
                        Value::read(only_child(param, "value")?)
                    })
                    .collect::<Result<_, String>>()
                    .map_err(invalid)?
            }
        };
        if let Some(extra) = parts.next() {
            return Err(invalid(format!(
                "<{}> after <params> in <methodCall>",
                extra.tag_name().name()
            )));
        }
        Ok(Call { method, params })
    }

    /// The request body of this call.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(DECLARATION);
        out.push_str("<methodCall><methodName>");
        super::value::escape_into(&self.method, &mut out);
        out.push_str("</methodName><params>");
        for param in &self.params {
            out.push_str("<param>");
            param.write(&mut out);
            out.push_str("</param>");
        }
        out.push_str("</params></methodCall>\n");
        out
    }
}

impl Response {
    /// The response body.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(DECLARATION);
        out.push_str("<methodResponse>");
        match self {
            Response::Value(value) => {
                out.push_str("<params><param>");
                value.write(&mut out);
                out.push_str("</param></params>");
            }
            Response::Fault(fault) => {
                out.push_str("<fault>");
                fault.to_value().write(&mut out);
                out.push_str("</fault>");
            }
        }
        out.push_str("</methodResponse>\n");
        out
    }

    /// Reads a response body; `Err` says why it is not one.
    pub fn parse(body: &[u8]) -> Result<Response, String> {
        let text =
            std::str::from_utf8(body).map_err(|error| format!("the body is not UTF-8: {error}"))?;
        let document = roxmltree::Document::parse(text)
            .map_err(|error| format!("not well-formed XML: {error}"))?;
        let response = document.root_element();
        expect_name(response, "methodResponse")?;
        let mut parts = elements(response);
        let (Some(part), None) = (parts.next(), parts.next()) else {
            return Err("<methodResponse> must hold exactly one <params> or <fault>".into());
        };
        match part.tag_name().name() {
            "params" => {
                let param = only_child(part, "param")?;
                Ok(Response::Value(Value::read(only_child(param, "value")?)?))
            }
            "fault" => {
                let value = Value::read(only_child(part, "value")?)?;
                Fault::from_value(&value).map(Response::Fault).ok_or_else(|| {
                    "a <fault> whose value is not a struct of faultCode (int) and faultString (string)"
                        .to_owned()
                })
            }
            other => Err(format!("<{other}> in <methodResponse>")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_reads_back_what_was_written() {
        let call = Call {
            method: "system.multicall".into(),
            params: vec![Value::Array(vec![Value::Struct(vec![
                ("methodName".into(), Value::String("add".into())),
                (
                    "params".into(),
                    Value::Array(vec![Value::Int(2), Value::Double(0.5)]),
                ),
            ])])],
        };
        assert_eq!(Call::parse(call.to_xml().as_bytes()), Ok(call));
    }

    #[test]
    fn responses_read_back_what_was_written() {
        for response in [
            Response::Value(Value::Int(5)),
            Response::Fault(Fault::new(-32601, "no method `nope`")),
        ] {
            assert_eq!(Response::parse(response.to_xml().as_bytes()), Ok(response));
        }
    }

    #[test]
    fn what_python_sends_is_read() {
        // xmlrpc.client.dumps((2, 3), "add"), as Python 3.11 writes it.
        let body = b"<?xml version='1.0'?>\n<methodCall>\n<methodName>add</methodName>\n<params>\n<param>\n<value><int>2</int></value>\n</param>\n<param>\n<value><int>3</int></value>\n</param>\n</params>\n</methodCall>\n";
        assert_eq!(
            Call::parse(body),
            Ok(Call {
                method: "add".into(),
                params: vec![Value::Int(2), Value::Int(3)]
            })
        );
    }

    #[test]
    fn broken_calls_are_faults_of_their_kind() {
        let code = |body: &[u8]| Call::parse(body).unwrap_err().code;
        assert_eq!(
            code(b"<methodCall><methodName>add</methodName><params>"),
            codes::PARSE_ERROR
        );
        assert_eq!(code(b"\xff\xfe"), codes::PARSE_ERROR);
        assert_eq!(code(b"<methodResponse/>"), codes::INVALID_REQUEST);
        assert_eq!(
            code(b"<methodCall><params/></methodCall>"),
            codes::INVALID_REQUEST
        );
        assert_eq!(
            code(b"<methodCall><methodName>add</methodName><params><param><value><int>x</int></value></param></params></methodCall>"),
            codes::INVALID_REQUEST
        );
    }
}
