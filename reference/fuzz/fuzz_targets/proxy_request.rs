//! `web_proxy::request`: for any head the proxy accepts, the request it sends the origin
//! is a well-formed head of its own: a GET of the URL's path, no hop-by-hop field, one
//! `Host` (the URL's) and `Connection: close`, and nothing after the blank line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::web_proxy::request::{HOP_BY_HOP, origin_request};
use reference::web_proxy::target::parse_target;
use reference::web_server::Status;
use reference::web_server::head::{MAX_HEADERS, Parsed, parse_head};

fuzz_target!(|data: &[u8]| {
    let Parsed::Complete(request) = parse_head(data) else {
        return;
    };
    let Ok(target) = parse_target(&request.target) else {
        return;
    };
    let sent = origin_request(&target, &request.headers);
    let Parsed::Complete(forwarded) = parse_head(&sent) else {
        // Found by this target: a client's 64 fields (this kit's limit, MAX_HEADERS) less
        // what is dropped, plus Host and Connection, can be 65. That is the origin's
        // limit to apply (the kit's web server answers 431, which the proxy relays); any
        // other refusal is a finding.
        let fields = sent.split(|&byte| byte == b'\n').count() - 3;
        let refusal = Parsed::Invalid(Status::RequestHeaderFieldsTooLarge);
        assert!(
            fields > MAX_HEADERS && parse_head(&sent) == refusal,
            "not a head: {:?}",
            String::from_utf8_lossy(&sent)
        );
        return;
    };
    assert_eq!(
        (forwarded.method.as_str(), &forwarded.target),
        ("GET", &target.path)
    );
    let [rest @ .., host, close] = &forwarded.headers[..] else {
        panic!("no Host and Connection fields");
    };
    assert_eq!(
        (host.name.as_str(), &host.value[..]),
        ("Host", target.authority().as_bytes())
    );
    assert_eq!(
        (close.name.as_str(), &close.value[..]),
        ("Connection", &b"close"[..])
    );
    for field in rest {
        let name = &field.name;
        let mut hop = HOP_BY_HOP.iter().chain(&["Host", "Content-Length"]);
        assert!(
            !hop.any(|hop| hop.eq_ignore_ascii_case(name)),
            "{name} forwarded"
        );
    }
    assert!(!sent[..sent.len() - 2].ends_with(b"\r\n\r\n"));
});
