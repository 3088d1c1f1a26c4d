//! Properties of [`parse_target`] on any target (see `crate::testing`).

use std::net::Ipv6Addr;

use proptest::prelude::*;

use super::{DEFAULT_PORT, Target, parse_target};
use crate::testing::{PURE_CASES, any_case};
use crate::web_server::Status;

/// Targets in the shape of absolute URLs, right and wrong: schemes in any case (and
/// others), hosts with credentials, brackets, odd bytes; ports too large, signed, empty.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![any_case("http"), any_case("https"), "[a-z]{0,5}"];
    let separator = prop_oneof![4 => Just("://"), 1 => Just(":/"), 1 => Just("//")];
    let host = prop_oneof![
        "[a-z0-9._-]{0,12}",
        "\\[[0-9a-f:.]{0,16}\\]?",
        "[a-z]{1,5}(:[a-z]{1,5})?@[a-z]{1,5}",
        "[ -~]{0,8}",
    ];
    let port = prop_oneof![Just(String::new()), ":[0-9]{0,7}", ":[+-]?[0-9a-z]{0,4}"];
    let path = prop_oneof![Just(String::new()), "[/?#][ -~]{0,20}"];
    (scheme, separator, host, port, path).prop_map(|(scheme, separator, host, port, path)| {
        format!("{scheme}{separator}{host}{port}{path}")
    })
}

/// A valid target and what it must parse to: a name, an IPv4 or a bracketed IPv6 host,
/// a port or none, a path, query or fragment or none.
fn valid_url() -> impl Strategy<Value = (String, Target)> {
    let host = prop_oneof![
        "[A-Za-z0-9_-]{1,10}(\\.[A-Za-z0-9_-]{1,10}){0,3}".prop_map(|name| (name.clone(), name)),
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| {
            let address = format!("{a}.{b}.{c}.{d}");
            (address.clone(), address)
        }),
        any::<[u16; 8]>().prop_map(|segments| {
            let address = Ipv6Addr::from(segments).to_string();
            (format!("[{address}]"), address)
        }),
    ];
    let port = prop_oneof![Just(None), (1u16..).prop_map(Some)];
    let path = prop_oneof![Just(String::new()), "/[!-~]{0,20}", "\\?[!-~]{0,10}"];
    let fragment = prop_oneof![Just(String::new()), "#[ -~]{0,10}"];
    (any_case("http"), host, port, path, fragment).prop_map(
        |(scheme, (written, host), port, path, fragment)| {
            // The fragment starts at the first "#", in the path or after it.
            let path = path.split('#').next().unwrap_or_default().to_owned();
            let port_text = port.map(|port| format!(":{port}")).unwrap_or_default();
            let url = format!("{scheme}://{written}{port_text}{path}{fragment}");
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            let port = port.unwrap_or(DEFAULT_PORT);
            (url, Target { host, port, path })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// SPEC proxy/1: a valid URL parses to its host, port (80 when absent) and path, in
    /// every case of the scheme, with or without a fragment (dropped).
    #[test]
    fn a_valid_url_is_taken_apart_exactly((url, expected) in valid_url()) {
        prop_assert_eq!(parse_target(&url), Ok(expected));
    }

    /// Whatever the target: no panic; a refusal is 400, or 501 for `https`; and what is
    /// accepted is safe to connect to and to send on. The host is a plain name or an IPv6
    /// address (no `@`, no `/`, nothing for a resolver to misread), the port is not 0, the
    /// path starts with `/` and has no fragment, and writing the target back as a URL
    /// (its authority and path) parses to the same target.
    #[test]
    fn what_is_accepted_is_a_plain_host_a_real_port_and_a_path(
        target in prop_oneof![url_like(), any::<String>()],
    ) {
        match parse_target(&target) {
            Ok(parsed) => {
                let host = &parsed.host;
                let plain = !host.is_empty()
                    && host.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._".contains(&byte));
                prop_assert!(plain || host.parse::<Ipv6Addr>().is_ok(), "host {:?}", host);
                prop_assert_ne!(parsed.port, 0);
                prop_assert!(parsed.path.starts_with('/') && !parsed.path.contains('#'));
                let written = format!("http://{}{}", parsed.authority(), parsed.path);
                prop_assert_eq!(parse_target(&written), Ok(parsed));
            }
            Err(status) => prop_assert!(matches!(status, Status::BadRequest | Status::NotImplemented)),
        }
    }
}
