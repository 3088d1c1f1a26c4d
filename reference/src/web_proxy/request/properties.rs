//! Properties of [`origin_request`]: whatever head a client sent, the proxy sends the
//! origin a well-formed one (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{HOP_BY_HOP, origin_request};
use crate::testing::{PURE_CASES, any_case};
use crate::web_proxy::target::{Target, parse_target};
use crate::web_server::head::{HeaderField, Parsed, Request, parse_head};

/// A header field name: the ones the proxy treats apart (in any case), and others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any_case("connection"),
        any_case("keep-alive"),
        any_case("proxy-connection"),
        any_case("transfer-encoding"),
        any_case("host"),
        any_case("content-length"),
        any_case("x-session"),
        "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}",
    ]
}

/// A header value as `httparse` hands it out (no whitespace at either end), sometimes a
/// `Connection` list naming other fields.
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let inner = prop_oneof![0x21u8..=0x7e, Just(b' '), Just(b'\t'), 0x80u8..=0xff];
    let edge = prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    let bytes = (edge.clone(), vec(inner, 0..16), edge)
        .prop_map(|(first, middle, last)| [vec![first], middle, vec![last]].concat());
    prop_oneof![
        bytes,
        "(keep-alive|x-session|X-[a-z]{1,3})(, ?(close|x-session|X-[a-z]{1,3})){0,3}"
            .prop_map(String::into_bytes)
    ]
}

/// A target as the proxy's parser accepts it.
fn target() -> impl Strategy<Value = Target> {
    let url = "http://[a-z0-9.-]{1,12}(:[1-9][0-9]{0,3})?(/[!-~]{0,20})?(\\?[!-~]{0,10})?";
    url.prop_filter_map("not a valid target", |url| parse_target(&url).ok())
}

/// Whether the proxy must drop `name`: hop-by-hop (RFC 9110 §7.6.1), written by the proxy
/// itself (`Host`, `Content-Length`), or named in one of the client's `Connection` fields.
fn dropped(name: &str, fields: &[HeaderField]) -> bool {
    // As the proxy reads the list: as text, each option trimmed of whitespace (Unicode's,
    // which is more than RFC 9110's spaces and tabs: an option padded with U+00A0 counts).
    let named = fields
        .iter()
        .filter(|field| field.name.eq_ignore_ascii_case("Connection"))
        .any(|field| {
            let options = String::from_utf8_lossy(&field.value);
            options
                .split(',')
                .any(|option| option.trim().eq_ignore_ascii_case(name))
        });
    named
        || HOP_BY_HOP
            .iter()
            .chain(&["Host", "Content-Length"])
            .any(|hop| hop.eq_ignore_ascii_case(name))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// RFC 9110 §7.6: what the proxy sends the origin is itself a well-formed head, which
    /// the same parser reads back: a GET of the URL's path, the client's end-to-end fields
    /// byte for byte and in their order, none of the hop-by-hop ones, then exactly one
    /// `Host` (the URL's) and `Connection: close`. A client cannot smuggle a second
    /// request, a second `Host` or a `Transfer-Encoding` through the proxy.
    #[test]
    fn the_origin_gets_a_well_formed_head_with_the_end_to_end_fields_only(
        target in target(),
        fields in vec((field_name(), field_value()), 0..10),
    ) {
        let fields: Vec<HeaderField> = fields
            .into_iter()
            .map(|(name, value)| HeaderField { name, value })
            .collect();
        let mut expected: Vec<HeaderField> = fields
            .iter()
            .filter(|field| !dropped(&field.name, &fields))
            .cloned()
            .collect();
        expected.push(HeaderField { name: "Host".into(), value: target.authority().into_bytes() });
        expected.push(HeaderField { name: "Connection".into(), value: b"close".to_vec() });
        let sent = origin_request(&target, &fields);
        let request = Request { method: "GET".into(), target: target.path.clone(), headers: expected };
        prop_assert_eq!(parse_head(&sent), Parsed::Complete(request));
        // Nothing after the blank line: one request only.
        prop_assert!(sent.ends_with(b"\r\n\r\n") && !sent[..sent.len() - 2].ends_with(b"\r\n\r\n"));
    }
}
