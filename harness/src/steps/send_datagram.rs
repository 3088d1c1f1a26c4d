//! `send_datagram = "server"`: the harness sends one UDP datagram to a program, and keeps
//! every reply it gets.
//!
//! ```toml
//! [[step]]
//! send_datagram = "server"
//! as = "d1"
//! send = { text = "hello" }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::payload::{Payload, PayloadSpec};

pub(crate) const KIND: StepKind = StepKind {
    key: "send_datagram",
    load,
    schema: super::schema_of::<RawSendDatagram>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSendDatagram {
    send_datagram: String,
    #[serde(rename = "as")]
    name: Option<String>,
    send: Option<PayloadSpec>,
}

#[derive(Debug)]
struct SendDatagram {
    endpoint: String,
    name: String,
    send: Payload,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawSendDatagram::deserialize(input.table)?;
    let endpoint = input.names.program(&raw.send_datagram)?;
    let name = raw
        .name
        .ok_or("`send_datagram` needs `as = NAME` to name the datagram's sender")?;
    input.names.fresh(&name)?;
    input.names.datagrams.insert(name.clone());
    let send = raw
        .send
        .ok_or("`send_datagram` needs `send`, the datagram")?
        .resolve(input.kit_root)?;
    if send.len() > crate::peers::MAX_DATAGRAM as u64 {
        return Err(format!(
            "a datagram holds at most {} bytes; this one has {}",
            crate::peers::MAX_DATAGRAM,
            send.len()
        )
        .into());
    }
    Ok(Arc::new(SendDatagram {
        endpoint,
        name,
        send,
    }))
}

impl StepAction for SendDatagram {
    fn describe(&self) -> String {
        format!(
            "send one datagram to {} as {}: {}",
            self.endpoint,
            self.name,
            self.send.describe()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.send_datagram(&self.name, &self.endpoint, &self.send)
    }
}
