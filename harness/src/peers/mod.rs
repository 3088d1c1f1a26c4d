//! Who is on the other end: the harness as a client of the program under test, and as a
//! relay between two programs of a submission. Both record what they move in a shared
//! [`Transcript`] and apply the scenario's slice plans.

mod client;
mod relay;
mod transcript;

pub use client::{ClientPeer, ClientPlan};
pub use relay::Relay;
pub use transcript::{Direction, Transcript, TranscriptEntry};
