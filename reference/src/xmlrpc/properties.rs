//! Properties of the XML-RPC codec on any input (see `crate::testing`): any value written
//! reads back the same, and any body, XML-looking or not, ends in a call or a fault, never
//! a panic.

use proptest::prelude::*;

use super::message::{Call, Response, codes};
use super::methods;
use super::value::Value;
use crate::testing::{PURE_CASES, mixed};

/// Any XML-RPC value, nested up to a few levels.
fn any_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        any::<i32>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |number| number.is_finite())
            .prop_map(Value::Double),
        any::<bool>().prop_map(Value::Bool),
        // The characters XML 1.0 carries (§2.2).
        "[\t\n\r -~\u{a0}-\u{d7ff}\u{e000}-\u{fffd}\u{10000}-\u{10ffff}]{0,20}"
            .prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Base64),
    ];
    scalar.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(("[a-zA-Z_&<>]{1,8}", inner), 0..4).prop_map(Value::Struct),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// A call and a response written by this codec read back as they were.
    #[test]
    fn what_is_written_reads_back(method in "[a-zA-Z.]{1,12}", params in proptest::collection::vec(any_value(), 0..4)) {
        let call = Call { method, params };
        prop_assert_eq!(Call::parse(call.to_xml().as_bytes()), Ok(call.clone()));
        let response = Response::Value(Value::Array(call.params));
        prop_assert_eq!(Response::parse(response.to_xml().as_bytes()), Ok(response));
    }

    /// Any body, made of pieces of XML-RPC or of nothing, is a call or a fault of the
    /// parser's kinds; a call dispatched answers a value or a fault: never a panic.
    #[test]
    fn any_body_is_a_call_or_a_fault(
        body in mixed("(<methodCall>|<methodName>add</methodName>|<params>|<param>|<value>|<int>7</int>|<struct>|<member>|<name>x</name>|</[a-z]{1,10}>|&amp;|&#[0-9]{1,8};|[ -~]{0,8})"),
    ) {
        match Call::parse(&body) {
            Ok(call) => {
                if call.method != "sleep" {
                    let _ = methods::dispatch(&call.method, &call.params);
                }
            }
            Err(fault) => prop_assert!(
                fault.code == codes::PARSE_ERROR || fault.code == codes::INVALID_REQUEST,
                "{:?}", fault
            ),
        }
        let _ = Response::parse(&body);
    }
}
