//! `web_server::target`: no target resolves outside the root; refusals are 400 or 403;
//! percent-decoding undoes percent-encoding.
#![no_main]

use std::path::Component;

use libfuzzer_sys::fuzz_target;
use reference::web_server::Status;
use reference::web_server::target::{percent_decode, resolve_target};

fuzz_target!(|data: &[u8]| {
    let target = String::from_utf8_lossy(data);
    match resolve_target(&target) {
        Ok(path) => {
            for component in path.components() {
                let Component::Normal(name) = component else {
                    panic!("{component:?} in {path:?} from {target:?}");
                };
                let name = name.to_str().expect("names are UTF-8");
                assert!(!name.contains(['\\', '\0']), "{name:?} from {target:?}");
            }
        }
        Err(status) => assert!(matches!(status, Status::BadRequest | Status::Forbidden)),
    }
    if let Err(status) = percent_decode(&target) {
        assert_eq!(status, Status::BadRequest);
    }
    let encoded: String = target.bytes().map(|byte| format!("%{byte:02x}")).collect();
    match target.contains('\0') {
        true => assert_eq!(percent_decode(&encoded), Err(Status::BadRequest)),
        false => assert_eq!(percent_decode(&encoded).as_deref(), Ok(&*target)),
    }
});
