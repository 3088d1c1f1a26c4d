//! `web_proxy::target`: what is accepted is a plain host (or an IPv6 address), a port
//! that is not 0 and a path without fragment, and written back as a URL parses the same;
//! refusals are 400 or 501.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use reference::web_proxy::target::parse_target;
use reference::web_server::Status;

fuzz_target!(|data: &[u8]| {
    let target = String::from_utf8_lossy(data);
    match parse_target(&target) {
        Ok(parsed) => {
            let host = &parsed.host;
            let plain = !host.is_empty()
                && host
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"-._".contains(&byte));
            assert!(plain || host.parse::<Ipv6Addr>().is_ok(), "host {host:?}");
            assert_ne!(parsed.port, 0);
            assert!(parsed.path.starts_with('/') && !parsed.path.contains('#'));
            let written = format!("http://{}{}", parsed.authority(), parsed.path);
            assert_eq!(parse_target(&written), Ok(parsed));
        }
        Err(status) => assert!(matches!(
            status,
            Status::BadRequest | Status::NotImplemented
        )),
    }
});
