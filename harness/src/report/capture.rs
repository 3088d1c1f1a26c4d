//! `--pcap DIR`: being built (see issue 5); a placeholder that refuses to write.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};

/// The `--pcap` reporter: one `.pcap` per scenario, written as its `capture` event comes.
pub struct CaptureReport {
    dir: PathBuf,
}

impl CaptureReport {
    /// Writes captures under `dir`.
    pub fn new(dir: PathBuf) -> CaptureReport {
        CaptureReport { dir }
    }
}

impl Reporter for CaptureReport {
    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        Err(io::Error::other(format!(
            "--pcap is not built yet ({})",
            self.dir.display()
        )))
    }
}
