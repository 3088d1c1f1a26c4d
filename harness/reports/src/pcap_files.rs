//! `--pcap DIR`: one packet capture per scenario, `DIR/<task>/<name>.pcap` (in a folder per
//! submission when a run grades several; [`RunRecord::pcap_path`]).
//!
//! Each capture is written as its `capture` event comes, from the scenario's
//! [`run_record::transcript::Wire`]: every connection of the harness's peers and relays, synthesized
//! into packets by [`run_record::pcap`] (handshake, data segments with real sequence and
//! acknowledgement numbers and the recorded times, FIN or RST, UDP datagrams). Wireshark
//! opens it and follows each TCP stream (`tshark -r FILE -z follow,tcp,ascii,0`). A
//! scenario where nothing moved on a harness socket (a program talking to another
//! directly, a scenario skipped) has no capture. A replayed recording (`harness replay
//! --pcap DIR`) writes the same files: the wire is in the recording.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};
use run_record::events::Event;

/// The `--pcap` reporter: one `.pcap` per scenario, written as its `capture` event comes.
pub struct PcapReport {
    dir: PathBuf,
    /// The first capture that could not be written; the others are still written.
    error: Option<io::Error>,
}

impl PcapReport {
    /// Writes captures under `dir`.
    pub fn new(dir: PathBuf) -> PcapReport {
        PcapReport { dir, error: None }
    }
}

impl Reporter for PcapReport {
    fn event(&mut self, event: &Event, run: &RunRecord) -> io::Result<()> {
        let Event::Verdict {
            submission,
            outcome,
            ..
        } = event
        else {
            return Ok(());
        };
        let wire = &outcome.wire;
        if wire.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(run.pcap_path(submission, &outcome.id));
        let written = path
            .parent()
            .map_or(Ok(()), super::new_file::folder)
            .and_then(|()| super::new_file::create(&path))
            .and_then(|file| wire.packets().write_to(file));
        if let Err(error) = written
            && self.error.is_none()
        {
            self.error = Some(io::Error::new(
                error.kind(),
                format!("{}: {error}", path.display()),
            ));
        }
        Ok(())
    }

    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}
